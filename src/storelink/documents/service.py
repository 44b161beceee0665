"""Trusted documents and automatic persisted queries (APQ).

A request names its operation in one of three ways:
- `query`: the document itself (refused with TRUSTED_DOCUMENTS_ONLY unless its text is trusted);
- `documentId` (also relay's `doc_id`, or `id`): a document loaded by `storelink trust-documents`;
- `extensions.persistedQuery.sha256Hash` (Apollo's APQ, version 1): a trusted document with that
  hash, or - unless TRUSTED_DOCUMENTS_ONLY - one this process saw sent with its text before. An
  unknown hash is PERSISTED_QUERY_NOT_FOUND, and the client sends the text along (the protocol).

Trusted documents live in PostgreSQL so every worker knows them; they never change once loaded,
so each process keeps those it has used. Documents registered through APQ stay in the memory of
the process that saw them (at most APQ_CACHE_SIZE), so no client can fill the database.
"""
from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass

from graphql import GraphQLError, parse, validate
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storelink.documents.models import TrustedDocument

APQ_CACHE_SIZE = 1000
MAX_ID = 200
ID_KEYS = ("documentId", "doc_id", "id")  # GraphQL over HTTP's trusted documents, relay, older clients


class DocumentRefused(Exception):
    """The request named no document we may run; `template` (storelink.i18n) and `code` say why,
    as a top-level error."""

    def __init__(self, template: str, code: str = "INVALID_INPUT"):
        super().__init__(template)
        self.template = template
        self.code = code


class NotPersisted(DocumentRefused):
    """APQ's signal to send the text along: clients match this exact message and code."""

    def __init__(self):
        super().__init__("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Requested:
    query: str | None
    document_id: str | None
    apq_hash: str | None


def requested(query: object, extensions: object, document_id: object) -> Requested:
    """What the request body names, checked for shape."""
    apq_hash = None
    if isinstance(extensions, dict) and "persistedQuery" in extensions:
        persisted = extensions["persistedQuery"]
        if not (isinstance(persisted, dict) and persisted.get("version") == 1
                and isinstance(persisted.get("sha256Hash"), str) and len(persisted["sha256Hash"]) == 64):
            raise DocumentRefused("persistedQuery must be version 1 with a sha256Hash of 64 hex digits")
        apq_hash = persisted["sha256Hash"].lower()
    if document_id is not None and not (isinstance(document_id, str) and 0 < len(document_id) <= MAX_ID):
        raise DocumentRefused("documentId must be a string of 1 to 200 characters")
    return Requested(query if isinstance(query, str) else None, document_id, apq_hash)


class Documents:
    """Finds the text of the document a request names (one per app process)."""

    def __init__(self, reader: async_sessionmaker[AsyncSession], *, trusted_only: bool):
        self.reader = reader
        self.trusted_only = trusted_only
        self._trusted_by_id: dict[str, str] = {}
        self._trusted_by_hash: dict[str, str] = {}
        self._apq: OrderedDict[str, str] = OrderedDict()

    async def text_for(self, asked: Requested) -> str | None:
        """The document to run (None: strawberry reports the missing query), or DocumentRefused."""
        if asked.document_id is not None:
            text = await self._trusted(document_id=asked.document_id)
            if text is None:
                raise NotPersisted
            return text
        if asked.apq_hash is not None:
            if asked.query is None:
                text = await self._trusted(sha=asked.apq_hash)
                if text is None and not self.trusted_only:
                    text = self._remembered(asked.apq_hash)
                if text is None:
                    raise NotPersisted
                return text
            if sha256(asked.query) != asked.apq_hash:
                raise DocumentRefused("The sha256Hash does not match the query")
        if asked.query is None:
            return None
        if self.trusted_only:
            if await self._trusted(sha=sha256(asked.query)) is None:
                raise DocumentRefused("Only the app's registered operations are accepted; send a documentId",
                                      "TRUSTED_DOCUMENT_REQUIRED")
        elif asked.apq_hash is not None:
            self._remember(asked.apq_hash, asked.query)
        return asked.query

    async def _trusted(self, *, document_id: str | None = None, sha: str | None = None) -> str | None:
        known = self._trusted_by_id.get(document_id) if document_id else self._trusted_by_hash.get(sha or "")
        if known is not None:
            return known
        column = TrustedDocument.id if document_id else TrustedDocument.sha256
        async with self.reader() as session:
            row = (await session.execute(
                select(TrustedDocument.id, TrustedDocument.sha256, TrustedDocument.document)
                .where(column == (document_id or sha)))).first()
        if row is None:
            return None
        self._trusted_by_id[row.id] = self._trusted_by_hash[row.sha256] = row.document
        return row.document

    def _remembered(self, sha: str) -> str | None:
        text = self._apq.get(sha)
        if text is not None:
            self._apq.move_to_end(sha)
        return text

    def _remember(self, sha: str, text: str) -> None:
        self._apq[sha] = text
        self._apq.move_to_end(sha)
        while len(self._apq) > APQ_CACHE_SIZE:
            self._apq.popitem(last=False)


# ---------------------------------------------------------------- loading a manifest

class BadManifest(Exception):
    pass


def read_manifest(raw: str) -> dict[str, str]:
    """{id: document} from a manifest: relay-compiler's and graphql-codegen's `{id: text}` object,
    or Apollo's `{"format": "apollo-persisted-query-manifest", "operations": [{id, body}]}`."""
    try:
        found = json.loads(raw)
    except ValueError as exc:
        raise BadManifest(f"not JSON: {exc}") from None
    if isinstance(found, dict) and found.get("format") == "apollo-persisted-query-manifest":
        operations = found.get("operations")
        if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
            raise BadManifest("`operations` must be a list of {id, body}")
        found = {o.get("id"): o.get("body") for o in operations}
    if not isinstance(found, dict) or not found:
        raise BadManifest("expected a JSON object of {documentId: document}")
    for key, text in found.items():
        if not (isinstance(key, str) and 0 < len(key) <= MAX_ID) or not isinstance(text, str) or not text.strip():
            raise BadManifest(f"entry {str(key)[:40]!r}: ids are 1-{MAX_ID} characters, documents non-empty text")
    return found


def check_against(schema, documents: dict[str, str]) -> None:
    """Every document parses and validates against this server's schema (BadManifest if not)."""
    for key, text in documents.items():
        try:
            errors = validate(schema, parse(text))
        except GraphQLError as exc:
            errors = [exc]
        if errors:
            raise BadManifest(f"document {key!r} does not fit the schema: {errors[0].message}")


async def trust(session: AsyncSession, documents: dict[str, str]) -> tuple[int, int]:
    """Store the documents; (new, already trusted). An id already trusted with other text is refused:
    apps in the field still send it and expect the old operation."""
    rows = [{"id": key, "sha256": sha256(text), "document": text} for key, text in documents.items()]
    existing = {row.id: row.document for row in (await session.execute(
        select(TrustedDocument.id, TrustedDocument.document).where(TrustedDocument.id.in_(list(documents)))))}
    changed = sorted(key for key, text in existing.items() if documents[key] != text)
    if changed:
        raise BadManifest(f"document id {changed[0]!r} is already trusted with other text; give it a new id")
    new = [row for row in rows if row["id"] not in existing]
    if new:
        await session.execute(insert(TrustedDocument).values(new).on_conflict_do_nothing())
    return len(new), len(rows) - len(new)
