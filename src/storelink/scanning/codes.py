"""Code formats.

Join codes are short, random and lowercase (they sit in URLs and WeChat `scene`s).
Codes a store tablet scans share one format: a kind letter, a random token and an HMAC tag, all
uppercase base32 (the QR alphanumeric mode keeps the symbol small). The letter says which kind
it is (M member, C coupon, P pickup, A appointment check-in); the tag makes forgeries fail
before any lookup.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from storelink.errors import Code, DomainError

JOIN_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read aloud and typed by hand
JOIN_CODE_LENGTH = 10

TOKEN_BYTES = 10  # 80 random bits -> 16 base32 characters
TAG_BYTES = 5  # 40-bit tag -> 8 base32 characters
SCAN_CODE_LENGTH = 1 + 16 + 8


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def normal_join_code(code: str) -> str:
    return code.strip().lower()


def could_be_join_code(code: str) -> bool:
    """Worth a look-up: short and plain (URLs and WeChat scenes carry these; anything else is noise)."""
    return 0 < len(code) <= 32 and code.isascii() and code.isalnum()


# A member's invite code: "i" (not in JOIN_ALPHABET, so never a join code), the membership id in
# JOIN_ALPHABET digits, and a 6-character HMAC tag. Derived, not stored: nothing to create per
# member, and a guessed code fails on its tag before any lookup.
REFERRAL_PREFIX = "i"
REFERRAL_TAG_LENGTH = 6


def _referral_tag(membership_id: int, secret: str) -> str:
    key = hashlib.sha256(("referral:" + secret).encode()).digest()
    digest = hmac.new(key, str(membership_id).encode(), hashlib.sha256).digest()
    return "".join(JOIN_ALPHABET[b % len(JOIN_ALPHABET)] for b in digest[:REFERRAL_TAG_LENGTH])


def referral_code(membership_id: int, secret: str) -> str:
    digits, n = "", membership_id
    while True:
        n, d = divmod(n, len(JOIN_ALPHABET))
        digits = JOIN_ALPHABET[d] + digits
        if n == 0:
            break
    return REFERRAL_PREFIX + digits + _referral_tag(membership_id, secret)


def referral_member(code: str, secret: str) -> int | None:
    """The inviting membership's id of a (normalised) invite code, or None for anything else."""
    digits, tag = code[len(REFERRAL_PREFIX):-REFERRAL_TAG_LENGTH], code[-REFERRAL_TAG_LENGTH:]
    if not code.startswith(REFERRAL_PREFIX) or not digits or len(code) > 24 \
            or any(c not in JOIN_ALPHABET for c in digits):
        return None
    membership_id = 0
    for c in digits:
        membership_id = membership_id * len(JOIN_ALPHABET) + JOIN_ALPHABET.index(c)
    if not hmac.compare_digest(tag, _referral_tag(membership_id, secret)):
        return None
    return membership_id


def _b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def _tag(secret: str, kind: str, token: str) -> str:
    key = hashlib.sha256(("scan-code:" + secret).encode()).digest()
    return _b32(hmac.new(key, f"{kind}:{token}".encode(), hashlib.sha256).digest()[:TAG_BYTES])


def new_scan_code(kind: str, secret: str) -> tuple[str, str]:
    """(code to show, token to store) for a scan code of the given kind letter."""
    token = new_scan_token()
    return scan_code_for(kind, token, secret), token


def new_scan_token() -> str:
    return _b32(secrets.token_bytes(TOKEN_BYTES))


def scan_code_for(kind: str, token: str, secret: str) -> str:
    """The code shown for a stored token (long-lived codes, e.g. check-in, are derived, not kept)."""
    return kind + token + _tag(secret, kind, token)


# The kind letters.
MEMBER, COUPON, PICKUP, CHECK_IN = "M", "C", "P", "A"


def coupon_code(token: str, secret: str) -> str:
    return scan_code_for(COUPON, token, secret)


def pickup_code(token: str, secret: str) -> str:
    return scan_code_for(PICKUP, token, secret)


def check_in_code(token: str, secret: str) -> str:
    return scan_code_for(CHECK_IN, token, secret)


def parse_scan_code(code: str, secret: str) -> tuple[str, str]:
    """(kind letter, token) of a well-formed, correctly signed scan code; CODE_INVALID otherwise."""
    code = code.strip().upper()
    if len(code) != SCAN_CODE_LENGTH or not code.isalnum():
        raise DomainError("This is not a code we issued", code=Code.CODE_INVALID, field=["code"])
    kind, token, tag = code[0], code[1:17], code[17:]
    if not hmac.compare_digest(tag, _tag(secret, kind, token)):
        raise DomainError("This is not a code we issued", code=Code.CODE_INVALID, field=["code"])
    return kind, token


def new_member_no() -> str:
    """Ten digits starting with 8, the last a Luhn check digit (catches typos at a till)."""
    body = "8" + "".join(secrets.choice("0123456789") for _ in range(8))
    return body + luhn_digit(body)


def new_member_nos(count: int) -> list[str]:
    """Many member numbers at once (bulk import); the same form as new_member_no. A million take a
    second: one read of randomness, and each Luhn digit from a table of four-digit groups."""
    noise = secrets.token_bytes(5 * count)
    numbers = []
    for i in range(0, 5 * count, 5):
        body = int.from_bytes(noise[i:i + 5]) % 10**8  # 2**40 values: the modulo's bias is 1e-4
        # The eight random digits are two groups of four with the same doubling pattern.
        total = _LUHN_GROUP[body % 10_000] + _LUHN_GROUP[body // 10_000] + _LEADING_EIGHT
        numbers.append(f"8{body:08d}{(10 - total % 10) % 10}")
    return numbers


def luhn_digit(body: str) -> str:
    return str((10 - _luhn_sum(body) % 10) % 10)


def _luhn_sum(digits: str) -> int:
    """Luhn's sum of digits that end a body: from the right, every other one doubled, the first
    included (the check digit will follow them), a doubled one over 9 less 9."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total


# new_member_nos' table: the sum of each four-digit group, and of the leading 8 (at position 8).
_LUHN_GROUP = [_luhn_sum(f"{n:04d}") for n in range(10_000)]
_LEADING_EIGHT = _luhn_sum("800000000")
