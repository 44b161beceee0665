"""Phones at rest: sealed with the current key, found through the blind index, re-sealed by
`rotate-phone-key`, and sealed by the migration that introduced encryption."""
from __future__ import annotations

import asyncio

import asyncpg
import pytest
from alembic import command
from cryptography.exceptions import InvalidTag
from sqlalchemy import select, text

from storelink import migrate, phone_cipher
from storelink.accounts import phone_rotation
from storelink.accounts.models import Customer
from storelink.accounts.service import phone_of
from storelink.members import phones
from tests.databases import empty_database
from tests.builders import PHONE_KEY, member_customer

NEW_KEY = "the-next-phone-key-" + "n" * 40


@pytest.fixture
def restore_keyring(settings):
    yield
    phone_cipher.configure(settings)


async def test_a_bound_phone_is_stored_sealed_and_found_by_its_blind_index(api, world, sessionmaker):
    # given a customer who bound 13812345678
    await member_customer(api, world, "alice", "13812345678")
    async with sessionmaker() as session:
        # when the customer table is read as text, every column
        dump = (await session.execute(text("SELECT customer::text FROM customer"))).scalar_one()
        customer = (await session.execute(select(Customer))).scalar_one()
        found = await phones.holders(session, "13812345678")
    # then the number appears nowhere, only its masked form; the index finds it; the key opens it
    assert "13812345678" not in dump and "12345678" not in dump
    assert customer.phone_masked == "138****5678"
    assert customer.phone_key_id == phone_cipher.keyring().current.id
    assert [c.id for c, _ in found] == [customer.id]
    assert phone_of(customer) == "13812345678"


def test_sealing_twice_gives_different_ciphertexts_and_a_tampered_value_does_not_open():
    # given
    keyring = phone_cipher.Keyring(PHONE_KEY)
    first, second = keyring.seal("13812345678"), keyring.seal("13812345678")
    # when / then
    assert first.cipher != second.cipher and first.index == second.index
    # and
    tampered = first.cipher[:-1] + bytes([first.cipher[-1] ^ 1])
    # when / then
    with pytest.raises(InvalidTag):
        keyring.open(tampered, first.key_id)
    # when / then
    with pytest.raises(phone_cipher.UnknownPhoneKey):
        phone_cipher.Keyring(NEW_KEY).open(first.cipher, first.key_id)


async def test_rotation_keeps_phones_findable_and_re_seals_them_under_the_new_key(
        api, world, sessionmaker, settings, restore_keyring):
    # given two customers whose phones were sealed under the old key
    await member_customer(api, world, "alice", "13812345678")
    await member_customer(api, world, "bob", "13912345678")
    old_id = phone_cipher.keyring().current.id
    # when the new key becomes current with the old one kept for reading
    phone_cipher.configure(settings.model_copy(update={
        "phone_encryption_key": NEW_KEY, "phone_encryption_old_keys": PHONE_KEY}))
    async with sessionmaker() as session:
        before = await phones.holders(session, "13812345678")
    rotated = await phone_rotation.rotate(sessionmaker)
    again = await phone_rotation.rotate(sessionmaker)
    # then lookups worked meanwhile, both rows moved once, and the old key is no longer needed
    phone_cipher.configure(settings.model_copy(update={"phone_encryption_key": NEW_KEY}))
    async with sessionmaker() as session:
        key_ids = set((await session.execute(select(Customer.phone_key_id))).scalars())
        after = await phones.holders(session, "13812345678")
        customers = {phone_of(c) for c in (await session.execute(select(Customer))).scalars()}
    assert len(before) == 1 and (rotated, again) == (2, 0)
    assert key_ids == {phone_cipher.keyring().current.id} != {old_id}
    assert [c.id for c, _ in after] == [before[0][0].id]
    assert customers == {"13812345678", "13912345678"}


async def test_the_migration_seals_existing_plaintext_phones(database_url, settings, restore_keyring):
    # given a database at revision 0010 with a plaintext phone, and the deployment's key
    phone_cipher.configure(settings)
    async with empty_database(database_url, "mig") as url:
        async def run(sql: str):
            conn = await asyncpg.connect(url)
            try:
                return await conn.fetch(sql)
            finally:
                await conn.close()

        await asyncio.to_thread(command.upgrade, migrate.alembic_config(url), "0010")
        await run("INSERT INTO customer (openid, phone, phone_country_code, created_at) "
                  "VALUES ('wx-old', '13812345678', '86', now()), ('wx-none', NULL, NULL, now())")
        # when it migrates to the latest revision
        await asyncio.to_thread(migrate.upgrade, url)
        rows = await run("SELECT openid, phone_sealed, phone_key_id, phone_index, phone_masked, customer::text AS dump "
                         "FROM customer ORDER BY id")
        columns = {r["column_name"] for r in await run(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'customer'")}
    # then the number is sealed, indexed and masked, and the plaintext column is gone
    sealed, empty = rows
    keyring = phone_cipher.keyring()
    assert "phone" not in columns and "13812345678" not in sealed["dump"]
    assert keyring.open(sealed["phone_sealed"], sealed["phone_key_id"]) == "13812345678"
    assert sealed["phone_index"] in keyring.indexes("13812345678") and sealed["phone_masked"] == "138****5678"
    assert (empty["phone_sealed"], empty["phone_index"], empty["phone_masked"]) == (None, None, None)
