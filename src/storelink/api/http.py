"""GraphQL over HTTP: strawberry's ASGI view with the request checks a public endpoint needs.

A body over MAX_BODY_BYTES is refused (413) before it is read whole; a body that is not a JSON
object (a string, a number, null, a list, nesting past Python's recursion limit) is refused (400);
every such refusal is a JSON GraphQL error, never a plain-text 500. Persisted operations (a
`documentId`, or APQ's `extensions.persistedQuery`) are looked up before strawberry parses the
request (storelink/documents/service.py).
"""
from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from storelink import i18n, metrics
from storelink.api import ide
from storelink.api.context import Context, preferred_language
from storelink.documents.service import ID_KEYS, DocumentRefused, Documents, NotPersisted, requested
from storelink.limits import MAX_BODY_BYTES


class BodyTooLarge(Exception):
    pass


def error_response(status: int, message: str, code: str = "INVALID_INPUT") -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


def limited(receive: Receive, limit: int) -> Receive:
    """`receive` that stops a request body at `limit` bytes, however it is sent (chunked too)."""
    seen = 0

    async def receive_within_limit():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge
        return message

    return receive_within_limit


class StorelinkGraphQL(GraphQL[Context, None]):
    # Set when the app starts (it needs the database); see create_app.
    documents: Documents | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        response: Response
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            response = error_response(413, f"The request body may not exceed {MAX_BODY_BYTES} bytes.")
        else:
            try:
                response = await self.run(Request(scope, receive=limited(receive, MAX_BODY_BYTES)))
            except BodyTooLarge:
                response = error_response(413, f"The request body may not exceed {MAX_BODY_BYTES} bytes.")
            except HTTPException as exc:
                response = error_response(exc.status_code, exc.reason)
            except DocumentRefused as exc:
                # A GraphQL error in a 200, as APQ clients expect; the protocol's own signal as it is.
                lang = i18n.negotiate(Headers(scope=scope).get("accept-language"))
                message = exc.template if isinstance(exc, NotPersisted) else i18n.say(exc.template, lang=lang)
                response = error_response(200, message, exc.code)
        if response.status_code in (400, 413):
            metrics.REFUSED_REQUESTS.labels(str(response.status_code)).inc()
        await response(scope, receive, send)

    @property
    def graphql_ide_html(self) -> str:
        return ide.page()  # strawberry's GraphiQL page, loading its files from us (api/ide.py)

    def decode_json(self, data: str | bytes) -> object:
        try:
            found = json.loads(data)
        except RecursionError:
            raise HTTPException(400, "The request body nests too deeply.") from None
        except (ValueError, UnicodeDecodeError):
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        return found

    def parse_json(self, data: str | bytes) -> Any:
        found = self.decode_json(data)
        if not isinstance(found, dict):
            raise HTTPException(400, "The request body must be a JSON object with a `query`.")
        # strawberry reads only query, variables, operationName and extensions: a document id
        # travels on to parse_http_body inside the extensions.
        document_id = next((found[key] for key in ID_KEYS if key in found), None)
        if document_id is not None and isinstance(found.get("extensions", {}) or {}, dict):
            found["extensions"] = {**(found.get("extensions") or {}), "_documentId": document_id}
        return found

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        if self.documents is None or isinstance(data, list):
            return data
        extensions = data.extensions or {}
        asked = requested(data.query, extensions, extensions.pop("_documentId", None))
        data.query = await self.documents.text_for(asked)
        data.extensions = extensions or None
        return data

    async def on_ws_connect(self, context: Context) -> Any:
        """connection_init: a valid token, or the socket closes (4403) before any subscription."""
        if await context.principal() is None:
            raise ConnectionRejectionError()
        return await super().on_ws_connect(context)

    async def get_context(self, request: Request, response: Any = None) -> Context:  # type: ignore[override]
        state = request.app.state
        return Context(
            request=request,
            settings=state.settings,
            sessionmaker=state.sessionmaker,
            reader=state.reader,
            wechat=state.wechat,
            payments=state.payments,
            lang=preferred_language(request),
            response=response,
            hub=getattr(state, "hub", None),
        )
