"""Helpers of the hardening tests: GraphQL over the live server, and the shape of a refusal."""
from __future__ import annotations

import httpx


async def gql(http: httpx.AsyncClient, query: str, variables: dict | None = None, token: str | None = None,
              **kw) -> tuple[int, dict]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    resp = await http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers, **kw)
    return resp.status_code, resp.json()


def top_codes(body: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
