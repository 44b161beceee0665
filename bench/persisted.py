"""Benchmark: what a persisted operation saves per request (issue: front-end developers' needs).

    python bench/persisted.py      # DATABASE_URL, or an embedded PostgreSQL in a temp dir

For three of the mini-program's operations, prints the request body's bytes sent as text, as a
documentId and as an APQ hash; the CPU graphql-core spends parsing and validating each text (what
the server pays for a document it has not cached: the first request per process, or any with
text that varies); and, through the real app in-process (GraphQL over ASGI), the server's CPU per
request for the same query sent as text and by documentId.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import time

import httpx

import common  # noqa: E402  (puts src/ on the path)

OPERATIONS = {
    "checkout": """mutation Checkout($input: CheckoutInput!, $key: String!) {
  checkout(input: $input, idempotencyKey: $key) {
    order { id orderNo status channel fulfilment subtotalFen discountFen totalFen pointsRedeemed pointsEarned
            pickupCode expiresAt store { id name address } guide { name }
            lines { quantity unitPriceFen lineTotalFen sku { id code title product { name imageUrl } } } }
    payment { provider params }
    userErrors { code field message } } }""",
    "myPage": """query MyPage {
  me { id nickname avatarUrl phoneMasked
    membership { memberNo tier points joinedAt joinStore { id name } guide { name } }
    cart { itemCount subtotalFen lines { id quantity lineTotalFen sku { id code title priceFen product { name } } } }
    coupons(status: AVAILABLE) { id code status campaign { title discountFen minSpendFen validUntil } }
    orders(first: 10) { edges { cursor node { id orderNo status totalFen createdAt pickupCode } }
                        pageInfo { hasNextPage endCursor } } } }""",
    "privacy": "query Privacy { privacyPolicy { version url } }",
}
VARIABLES = {"checkout": {"input": {"fulfilment": "DELIVERY", "address": "上海市静安区南京西路1号"}, "key": "k-1"}}
REQUESTS = 2000


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def body_bytes(name: str, text: str) -> tuple[int, int, int]:
    variables = VARIABLES.get(name, {})
    raw = json.dumps({"query": text, "variables": variables}, ensure_ascii=False)
    by_id = json.dumps({"documentId": sha(text), "variables": variables}, ensure_ascii=False)
    by_hash = json.dumps({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}},
                          "variables": variables}, ensure_ascii=False)
    return len(raw.encode()), len(by_id.encode()), len(by_hash.encode())


def parse_validate_us(text: str, schema, rules) -> float:
    from graphql import parse
    from strawberry.schema.schema import validate_document

    start, rounds = time.process_time(), 300
    for _ in range(rounds):
        errors = validate_document(schema, parse(text), rules)
        assert not errors, errors
    return (time.process_time() - start) / rounds * 1e6


async def server_cpu_per_request(url: str) -> tuple[float, float]:
    from storelink.app import create_app
    from storelink.documents import service
    from storelink.settings import Settings

    settings = Settings(database_url=url, jwt_secret="bench-" + "x" * 40, debug=False,
                        phone_encryption_key="bench-phone-key-" + "y" * 32)
    app = create_app(settings)
    text = OPERATIONS["privacy"]
    async with app.router.lifespan_context(app):
        await common_trust(app, {sha(text): text}, service)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            bodies = ({"query": text}, {"documentId": sha(text)})
            spent = [0.0, 0.0]
            for body in bodies:
                for _ in range(50):  # warm: caches, connections
                    await client.post("/graphql", json=body)
            for _ in range(REQUESTS // 100):  # alternating blocks, so drift on a shared machine hits both
                for i, body in enumerate(bodies):
                    start = time.process_time()
                    for _ in range(100):
                        resp = await client.post("/graphql", json=body)
                    spent[i] += time.process_time() - start
                    assert resp.json() == {"data": {"privacyPolicy": {"version": "2026-01", "url": None}}}, resp.text
            results = [total / REQUESTS * 1e6 for total in spent]
    return results[0], results[1]


async def common_trust(app, documents: dict, service) -> None:
    async with app.state.sessionmaker() as session:
        await service.trust(session, documents)
        await session.commit()


def main() -> None:
    from graphql import specified_rules

    from storelink.api.schema import build_schema

    schema = build_schema()
    rules = tuple(specified_rules)
    print(f"{'operation':<10} {'text B':>7} {'id B':>6} {'APQ B':>6} {'saved':>6}  {'parse+validate (cold)':>22}")
    for name, text in OPERATIONS.items():
        raw, by_id, by_hash = body_bytes(name, text)
        print(f"{name:<10} {raw:>7} {by_id:>6} {by_hash:>6} {raw - by_id:>6}  "
              f"{parse_validate_us(text, schema._schema, rules):>19.0f} µs")
    url = asyncio.run(common.database())
    as_text, as_id = asyncio.run(server_cpu_per_request(url))
    print(f"in-process, privacyPolicy x{REQUESTS}: CPU per request {as_text:.0f} µs as text, "
          f"{as_id:.0f} µs by documentId (client and server in one process; the server caches parsed and "
          f"validated texts, so once warm both pay the same)")


if __name__ == "__main__":
    main()
