"""Phone numbers at rest: sealed with AES-GCM, found through a keyed hash (a blind index).

`PHONE_ENCRYPTION_KEY` is the current key. `PHONE_ENCRYPTION_OLD_KEYS` (comma-separated) lists the
keys it replaced; they stay readable until `storelink rotate-phone-key` has re-sealed every row
under the current key. Each sealed value is stored with the id of its key, and the blind index is
keyed per key too, so a lookup asks for the index under each known key (after a rotation, one).

Besides the sealed value a row keeps the masked form (`138****5678`): it is what staff see, and
its last four digits are what the client book searches. The full number is opened only for the
customer themselves (privacy export) and for `storelink export`.

The keyring is process-wide, like logging: the app and the CLI configure it from their settings;
anything else (migrations, scripts) gets it from the environment.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from storelink.settings import Settings

# Used only with DEBUG and no key, so a developer's data survives restarts. Never in production:
# settings refuse to start without PHONE_ENCRYPTION_KEY unless DEBUG.
DEBUG_KEY = "storelink-debug-phone-key: for development only, never in production"
MIN_KEY_BYTES = 32
_NONCE_BYTES = 12


def mask(phone: str) -> str:
    """138****5678: the first three and last four digits (what staff and logs may show)."""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "****" + phone[-4:]


class UnknownPhoneKey(RuntimeError):
    """A row sealed under a key this process was not given (configuration error, not a client's)."""


@dataclass(frozen=True)
class Sealed:
    cipher: bytes
    key_id: str
    index: bytes
    masked: str


class _Key:
    def __init__(self, secret: str) -> None:
        raw = secret.encode()

        def derive(label: bytes) -> bytes:  # one secret, independent subkeys per purpose
            return hmac.new(raw, label, hashlib.sha256).digest()

        self.id = derive(b"storelink phone key id").hex()[:8]
        self.aead = AESGCM(derive(b"storelink phone encryption"))
        self._index_key = derive(b"storelink phone index")

    def index(self, phone: str) -> bytes:
        return hmac.digest(self._index_key, phone.encode(), "sha256")[:16]


class Keyring:
    def __init__(self, current: str, old: Iterable[str] = ()) -> None:
        self.current = _Key(current)
        self._keys = {self.current.id: self.current}
        for secret in old:
            key = _Key(secret)
            self._keys.setdefault(key.id, key)

    def seal(self, phone: str) -> Sealed:
        key = self.current
        nonce = os.urandom(_NONCE_BYTES)
        # The key id is authenticated data: a value cannot be passed off as sealed under another key.
        cipher = nonce + key.aead.encrypt(nonce, phone.encode(), key.id.encode())
        return Sealed(cipher=cipher, key_id=key.id, index=key.index(phone), masked=mask(phone))

    def open(self, cipher: bytes, key_id: str) -> str:
        key = self._keys.get(key_id)
        if key is None:
            raise UnknownPhoneKey(f"phone sealed under key {key_id}, which is not configured "
                                  "(add it to PHONE_ENCRYPTION_OLD_KEYS)")
        nonce, body = cipher[:_NONCE_BYTES], cipher[_NONCE_BYTES:]
        return key.aead.decrypt(nonce, body, key_id.encode()).decode()

    def indexes(self, phone: str) -> list[bytes]:
        """The phone's blind index under every known key (the current one first)."""
        return [key.index(phone) for key in self._keys.values()]


_keyring: Keyring | None = None


def configure(settings: "Settings") -> Keyring:
    global _keyring
    _keyring = Keyring(settings.phone_encryption_key or DEBUG_KEY, settings.old_phone_keys)
    return _keyring


def keyring() -> Keyring:
    if _keyring is None:
        from storelink.settings import get_settings

        return configure(get_settings())
    return _keyring
