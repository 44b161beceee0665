"""GraphQL over HTTP: strawberry's ASGI view with the request checks a public endpoint needs.

A body over MAX_BODY_BYTES is refused (413) before it is read whole; a body that is not a JSON
object (a string, a number, null, a list, nesting past Python's recursion limit) is refused (400);
every such refusal is a JSON GraphQL error, never a plain-text 500.
"""
from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from storelink import metrics
from storelink.api.context import Context, preferred_language
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


class StorelinkGraphQL(GraphQL):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            response = error_response(413, f"The request body may not exceed {MAX_BODY_BYTES} bytes.")
        else:
            try:
                response = await self.run(Request(scope, receive=limited(receive, MAX_BODY_BYTES)))
            except BodyTooLarge:
                response = error_response(413, f"The request body may not exceed {MAX_BODY_BYTES} bytes.")
            except HTTPException as exc:
                response = error_response(exc.status_code, exc.reason)
        if response.status_code in (400, 413):
            metrics.REFUSED_REQUESTS.labels(str(response.status_code)).inc()
        await response(scope, receive, send)

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
        return found

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
        )
