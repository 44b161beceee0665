"""Access tokens (short-lived JWT) and opaque refresh tokens."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from storelink.clock import utcnow

ALGORITHM = "HS256"  # pinned: decode never trusts the token's own "alg" header
ISSUER = "storelink"
AUDIENCE = "storelink-api"
ACCESS_TYPE = "access"


class InvalidToken(Exception):
    pass


@dataclass(frozen=True)
class AccessClaims:
    subject_kind: str  # "customer" | "staff"
    subject_id: int
    session_id: str


def issue_access_token(
    *, secret: str, subject_kind: str, subject_id: int, session_id: str, ttl_seconds: int,
    now: datetime | None = None,
) -> str:
    now = now or utcnow()
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "typ": ACCESS_TYPE,
        "sub": f"{subject_kind}:{subject_id}",
        "sid": session_id,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, *, secret: str) -> AccessClaims:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "sid", "typ"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from None
    if claims.get("typ") != ACCESS_TYPE:
        raise InvalidToken("wrong token type")
    kind, _, raw_id = str(claims["sub"]).partition(":")
    if kind not in ("customer", "staff") or not raw_id.isdigit():
        raise InvalidToken("bad subject")
    return AccessClaims(subject_kind=kind, subject_id=int(raw_id), session_id=str(claims["sid"]))


def new_refresh_token() -> tuple[str, str]:
    """(token for the client, hash to store)."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_id() -> str:
    return uuid.uuid4().hex
