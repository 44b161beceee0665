"""Logging: a request id on every line, and redaction of phone numbers, tokens and codes."""
from __future__ import annotations

import json
import logging
import os
import re
import uuid
from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# Mainland mobile numbers, JWTs, bearer tokens, query parameters that carry secrets or codes,
# password hashes, and the values a database error quotes back (SQL parameters, the key of a
# unique violation).
_REDACTIONS = [
    (re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "[jwt]"),
    (re.compile(r"(?i)(bearer\s+)\S+"), r"\1[token]"),
    (re.compile(r"(?i)((?:access_token|js_code|code|secret|token|refreshToken)=)[^&\s\"']+"), r"\1[redacted]"),
    (re.compile(r"\$argon2\w*\$[\w$=,+/.-]+"), "[password-hash]"),
    (re.compile(r"\[parameters: .*?\](?=\n|$)", re.S), "[parameters: redacted]"),
    (re.compile(r"(Key \([^)]*\)=\().*?(\) (?:already exists|is not present))"), r"\1[redacted]\2"),
    (re.compile(r"(?i)(DETAIL:\s+Failing row contains \().*?(\))"), r"\1[redacted]\2"),
]


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            # A traceback quotes whatever the failing call held: redact it like the message.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json), for log collectors; redacted like the text form."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                "request_id": getattr(record, "request_id", "-"), "message": record.getMessage()}
        if record.exc_info or record.exc_text:
            line["exception"] = record.exc_text or self.formatException(record.exc_info or (None, None, None))
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str = "INFO", log_format: str | None = None) -> None:
    """Text lines by default; LOG_FORMAT=json for one JSON object per line."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    if (log_format or os.environ.get("LOG_FORMAT", "text")).lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("alembic", "pgserver"):  # chatty at INFO about their own plumbing
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class RequestIdMiddleware:
    """Gives each HTTP request an id (or keeps a sane incoming X-Request-ID) for logs and errors."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if re.fullmatch(r"[\w-]{8,64}", incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
