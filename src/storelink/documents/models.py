from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field


class TrustedDocument(SQLModel, table=True):
    """An operation the brand's own apps ship, loaded from their build's manifest."""

    __tablename__ = "trusted_document"

    # The id the manifest gives it (relay-compiler: an md5; graphql-codegen: the sha256).
    id: str = Field(primary_key=True, max_length=200)
    # sha256 of the text, hex: how an APQ request names it.
    sha256: str = Field(max_length=64, index=True)
    document: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = created_at_field()
