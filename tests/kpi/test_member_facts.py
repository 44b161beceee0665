"""The PurchaseFacts the database keeps for each customer (migration 0025): segments, client books
and audiences read them, so they must match the orders whatever wrote them, and whenever."""
import asyncio
import random

import asyncpg
from alembic import command
from sqlalchemy import text

from storelink import migrate
from storelink.orders.models import PAID_STATUSES
from storelink.recommend import synthetic
from tests.databases import empty_database

ALL_STATUSES = ("PENDING_PAYMENT", "PAID", "READY_FOR_PICKUP", "SHIPPED", "COMPLETED", "CANCELLED",
                "PARTIALLY_REFUNDED", "REFUNDED")
# Customers whose facts differ from their orders summed afresh, with the rule of orders/models.
STALE = """
SELECT c.id FROM customer c LEFT JOIN purchase_facts f ON f.customer_id = c.id LEFT JOIN (
    SELECT customer_id, count(*) AS n, sum(total_fen) AS fen, max(paid_at) AS last,
           max(paid_at) FILTER (WHERE channel = 'ONLINE') AS last_online,
           max(paid_at) FILTER (WHERE channel = 'STORE') AS last_store
    FROM sales_order WHERE status = ANY(:paid) GROUP BY customer_id) a ON a.customer_id = c.id
WHERE (coalesce(f.paid_orders, 0), coalesce(f.paid_fen, 0), f.last_paid_at, f.last_online_paid_at,
       f.last_store_paid_at)
      IS DISTINCT FROM (coalesce(a.n, 0), coalesce(a.fen, 0), a.last, a.last_online, a.last_store)
"""


async def stale(sessionmaker) -> list[int]:
    async with sessionmaker() as session:
        return list((await session.execute(text(STALE), {"paid": list(PAID_STATUSES)})).scalars())


async def facts(sessionmaker, customer: int) -> tuple:
    async with sessionmaker() as session:
        found = (await session.execute(text(
            "SELECT paid_orders, paid_fen FROM purchase_facts WHERE customer_id = :c"), {"c": customer})).one_or_none()
        return tuple(found) if found else (0, 0)


async def sql(sessionmaker, statement: str, **params) -> None:
    async with sessionmaker() as session:
        await session.execute(text(statement), params)
        await session.commit()


async def test_the_facts_follow_every_change_of_an_order(mall, sessionmaker):
    # given alice with two store purchases and an online order not yet paid, and bob with none
    _, guide = mall.guides["guide-a"]
    alice, bob = await mall.member("alice"), await mall.member("bob", phone="13912345678")
    alice_pk, bob_pk = await mall.customer_pk(alice), await mall.customer_pk(bob)
    for receipt in ("r1", "r2"):
        await mall.record(guide, receipt=receipt, memberCode=await mall.member_code(alice))
    await mall.add(alice, "TEE-S", 1)
    order = (await mall.checkout(alice))["order"]
    assert await facts(sessionmaker, alice_pk) == (2, 2 * 39900)
    # when it is paid
    await mall.pay(order)
    # then
    assert await facts(sessionmaker, alice_pk) == (3, 2 * 39900 + order["totalFen"])
    assert await stale(sessionmaker) == []
    # when: one of her orders goes through every status, then to another channel and time, then to bob
    async with sessionmaker() as session:
        one = (await session.execute(text("SELECT min(id) FROM sales_order WHERE customer_id = :c"),
                                     {"c": alice_pk})).scalar_one()
    for status in ALL_STATUSES:
        await sql(sessionmaker, "UPDATE sales_order SET status = :s WHERE id = :o", s=status, o=one)
        # then
        assert (await facts(sessionmaker, alice_pk))[0] == 2 + (status in PAID_STATUSES), status
        assert await stale(sessionmaker) == [], status
    await sql(sessionmaker, "UPDATE sales_order SET status = 'COMPLETED', channel = 'ONLINE', paid_at = paid_at - interval '200 days', "
                            "total_fen = 100, subtotal_fen = 100 + discount_fen - delivery_fee_fen WHERE id = :o", o=one)
    assert await stale(sessionmaker) == []
    await sql(sessionmaker, "UPDATE sales_order SET customer_id = :b WHERE id = :o", b=bob_pk, o=one)
    assert await facts(sessionmaker, bob_pk) == (1, 100)
    assert await facts(sessionmaker, alice_pk) == (2, 39900 + order["totalFen"])
    assert await stale(sessionmaker) == []


async def test_orders_of_one_member_paid_at_once_all_count(mall, sessionmaker, database_url):
    # given a member with a store purchase, and two transactions each adding a paid order of theirs
    _, guide = mall.guides["guide-a"]
    alice = await mall.member("alice")
    alice_pk = await mall.customer_pk(alice)
    await mall.record(guide, receipt="r0", memberCode=await mall.member_code(alice))
    copy = ("INSERT INTO sales_order (order_no, customer_id, member_channel, channel, status, store_id, "
            "subtotal_fen, discount_fen, total_fen, points_redeemed, points_earned, created_at, paid_at, receipt_no) "
            "SELECT $1, customer_id, member_channel, channel, status, store_id, subtotal_fen, discount_fen, "
            "total_fen, 0, 0, now(), now(), $1 FROM sales_order WHERE customer_id = $2 LIMIT 1")
    first, second = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    try:
        # when the first holds its transaction open while the second writes, then both commit
        await first.execute("BEGIN")
        await first.execute(copy, "TWIN-1", alice_pk)
        await second.execute("BEGIN")
        waiting = asyncio.create_task(second.execute(copy, "TWIN-2", alice_pk))
        await asyncio.sleep(0.3)  # the second now waits for the member the first has counted
        assert not waiting.done()
        await first.execute("COMMIT")
        await waiting
        await second.execute("COMMIT")
    finally:
        await first.close()
        await second.close()
    # then
    assert (await facts(sessionmaker, alice_pk))[0] == 3
    assert await stale(sessionmaker) == []


async def test_store_purchases_recorded_at_once_all_count(mall, sessionmaker):
    # given a member at the till of eight guides' tablets at once
    _, guide = mall.guides["guide-a"]
    alice = await mall.member("alice")
    code = await mall.member_code(alice)
    # when
    results = await asyncio.gather(*(mall.record(guide, receipt=f"c{i}", memberCode=code) for i in range(8)))
    # then
    assert all(r["userErrors"] == [] for r in results), results
    assert await facts(sessionmaker, await mall.customer_pk(alice)) == (8, 8 * 39900)
    assert await stale(sessionmaker) == []


async def test_the_migration_counts_the_orders_already_there(database_url):
    # given a database at revision 0024 with a customer and their orders, and a customer with none
    async with empty_database(database_url, "facts") as url:
        await asyncio.to_thread(command.upgrade, migrate.alembic_config(url), "0024")
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "INSERT INTO store (code, name, city, address, lat, lng, timezone, opening_hours, created_at, "
                "updated_at) VALUES ('S1', '店', '上海', '路', 31.2, 121.4, 'Asia/Shanghai', '[]', now(), now());"
                "INSERT INTO customer (openid, created_at) VALUES ('wx-a', now()), ('wx-b', now());"
                "INSERT INTO membership (customer_id, member_no, join_channel, joined_at) "
                "VALUES (1, '80001', 'ONLINE', now()), (2, '80002', 'ONLINE', now());"
                "INSERT INTO sales_order (order_no, customer_id, member_channel, channel, status, store_id, "
                "subtotal_fen, discount_fen, total_fen, points_redeemed, points_earned, created_at, paid_at) VALUES "
                "('O1', 1, 'ONLINE', 'ONLINE', 'COMPLETED', 1, 500, 0, 500, 0, 0, now(), now() - interval '9 days'),"
                "('O2', 1, 'ONLINE', 'STORE', 'PAID', 1, 700, 0, 700, 0, 0, now(), now() - interval '2 days'),"
                "('O3', 1, 'ONLINE', 'STORE', 'REFUNDED', 1, 900, 0, 900, 0, 0, now(), now())")
            # when
            await asyncio.to_thread(command.upgrade, migrate.alembic_config(url), "head")
            rows = await conn.fetch("SELECT customer_id, paid_orders, paid_fen, last_online_paid_at < last_store_paid_at "
                                    "AS store_later FROM purchase_facts ORDER BY customer_id")
        finally:
            await conn.close()
    # then
    assert [tuple(r) for r in rows] == [(1, 2, 1200, True)]


async def test_generated_history_leaves_every_member_counted(app, sessionmaker):
    # given a shop
    rng = random.Random(7)
    async with sessionmaker() as session:
        shop = await synthetic.make_catalog(session, products=20, rng=rng)
        await session.commit()
    # when a year of history is generated in bulk (the triggers paused, one refresh at the end),
    # and the same transaction then writes one more paid order the usual way
    async with sessionmaker() as session:
        await synthetic.make_history(session, catalog=shop, stores=[], members=30, orders=150, rng=rng)
        await session.execute(text(
            "INSERT INTO sales_order (order_no, customer_id, member_channel, channel, status, subtotal_fen, "
            "discount_fen, total_fen, points_redeemed, points_earned, created_at, paid_at) "
            "SELECT 'AFTER-1', customer_id, member_channel, 'ONLINE', 'PAID', 100, 0, 100, 0, 0, now(), now() "
            "FROM sales_order LIMIT 1"))
        await session.commit()
    # then
    async with sessionmaker() as session:
        counted = (await session.execute(text("SELECT sum(paid_orders) FROM purchase_facts"))).scalar_one()
        made = (await session.execute(text("SELECT count(*) FROM sales_order"))).scalar_one()
    assert counted == made > 100
    assert await stale(sessionmaker) == []
