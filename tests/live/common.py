"""A graphql-transport-ws client over a real WebSocket, as the tablets and the mini-program use it."""
from __future__ import annotations

import asyncio
import itertools
import json

import websockets

PROTOCOL = "graphql-transport-ws"
STORE_EVENTS = """subscription($s: ID!) { storeEvents(storeId: $s) {
  kind at member { memberNo } appointment { id status } order { orderNo status } } }"""
MY_EVENTS = "subscription { myEvents { kind at order { orderNo status } appointment { id } coupon { code } } }"


class Subscriber:
    _ids = itertools.count(1)

    def __init__(self, ws):
        self.ws = ws

    @classmethod
    async def connect(cls, base_url: str, token: str | None, *, params: dict | None = None) -> "Subscriber":
        ws = await websockets.connect(base_url.replace("http://", "ws://") + "/graphql", subprotocols=[PROTOCOL])
        payload = params if params is not None else ({"Authorization": f"Bearer {token}"} if token else {})
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        return cls(ws)

    async def acknowledged(self) -> bool:
        message = await self.receive()
        return message is not None and message["type"] == "connection_ack"

    async def subscribe(self, query: str, variables: dict | None = None) -> str:
        op = str(next(self._ids))
        await self.ws.send(json.dumps({"id": op, "type": "subscribe",
                                       "payload": {"query": query, "variables": variables or {}}}))
        return op

    async def receive(self, timeout: float = 5.0) -> dict | None:
        """The next message, or None when the server closed the connection."""
        try:
            return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        except websockets.ConnectionClosed:
            return None

    async def next_event(self, timeout: float = 5.0) -> dict:
        message = await self.receive(timeout)
        assert message is not None and message["type"] == "next", message
        return message["payload"]

    async def nothing_within(self, seconds: float) -> bool:
        try:
            message = await asyncio.wait_for(self.ws.recv(), seconds)
        except asyncio.TimeoutError:
            return True
        raise AssertionError(f"unexpected message: {message}")

    async def close(self) -> None:
        await self.ws.close()
