"""WeChat subscribe-message credits: one accepted wx.requestSubscribeMessage for a template gives
one credit; a send spends one (API-NOTES "Marketing")."""
from datetime import datetime

from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from storelink.modelbase import created_at_field


class MessageCredit(SQLModel, table=True):
    __tablename__ = "message_credit"
    __table_args__ = (CheckConstraint("credits >= 0", name="credits_not_negative"),)

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    template_id: str = Field(max_length=64, primary_key=True)
    credits: int = 0
    updated_at: datetime = created_at_field()
