"""`storelink rotate-phone-key`: re-seal every phone still under an older key (phone_cipher).

Runs beside a live server: rows are taken a batch at a time, locked, re-sealed and committed, so
a customer binding a phone meanwhile waits at most one batch. Once it reports nothing left, the old
key can leave PHONE_ENCRYPTION_OLD_KEYS.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storelink import db, phone_cipher
from storelink.accounts.models import Customer

BATCH = 1000


async def _rotate_batch(session: AsyncSession) -> int:
    keyring = phone_cipher.keyring()
    rows = (await session.execute(
        select(Customer.id, Customer.phone_sealed, Customer.phone_key_id)
        .where(Customer.phone_sealed.is_not(None), Customer.phone_key_id != keyring.current.id)
        .order_by(Customer.id).limit(BATCH).with_for_update()
    )).all()
    for id_, cipher, key_id in rows:
        assert cipher is not None and key_id is not None  # sealed phones only, each with its key
        sealed = keyring.seal(keyring.open(cipher, key_id))
        await session.execute(
            update(Customer).where(Customer.id == id_)
            .values(phone_sealed=sealed.cipher, phone_key_id=sealed.key_id, phone_index=sealed.index)
            .execution_options(synchronize_session=False)
        )
    return len(rows)


async def rotate(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Re-seals every phone under the current key; returns how many were re-sealed."""
    total = 0
    while done := await db.transaction(sessionmaker, _rotate_batch):
        total += done
    return total
