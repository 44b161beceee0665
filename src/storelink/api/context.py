"""The per-request context: settings, database, WeChat client, DataLoaders, and the caller."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from storelink import i18n
from storelink.accounts import service as accounts
from storelink.accounts.tokens import InvalidToken
from storelink.settings import Settings
from storelink.wechat.client import WeChatClient

_UNSET: Any = object()


def preferred_language(request: Request | None) -> str:
    return i18n.negotiate(request.headers.get("accept-language") if request is not None else None)


@dataclass
class Context:
    request: Request | None
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]  # writes: through db.transaction / in_transaction
    reader: async_sessionmaker[AsyncSession]  # autocommit sessions for every plain read (db.create_reader)
    wechat: WeChatClient
    payments: Any = None
    lang: str = i18n.DEFAULT
    response: Any = None
    # The request's DataLoaders by class (graphql/dataloaders.RequestLoader.of).
    loaders: dict = field(default_factory=dict)
    hub: Any = None  # live events (live/bus.Hub)
    # A WebSocket's connection_init payload: where its token comes from.
    connection_params: dict | None = None
    _principal: Any = field(default=_UNSET, repr=False)

    def bearer_token(self) -> str | None:
        if self.connection_params is not None:  # a subscription: the token came in connection_init
            given = next((v for k, v in self.connection_params.items() if str(k).lower() == "authorization"), "")
            header = given if isinstance(given, str) else ""
        elif self.request is not None:
            header = self.request.headers.get("authorization", "")
        else:
            return None
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None

    async def principal(self) -> accounts.Principal | None:
        """The signed-in caller, or None (no token, or one that must be refused).

        Sibling fields resolve concurrently and all ask at once: they share one lookup."""
        if self._principal is _UNSET:
            self._principal = asyncio.ensure_future(self._authenticate())
        return await self._principal

    async def _authenticate(self) -> accounts.Principal | None:
        token = self.bearer_token()
        if not token:
            return None
        async with self.reader() as session:
            try:
                return await accounts.authenticate(session, token, settings=self.settings)
            except InvalidToken:
                return None


# What every resolver takes: `info.context` is typed.
Info = strawberry.Info[Context, None]
