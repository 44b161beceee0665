"""The per-request context: settings, database, WeChat client, DataLoaders, and the caller."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request

from storelink.accounts import service as accounts
from storelink.accounts.tokens import InvalidToken
from storelink.catalog import loaders as catalog_loaders
from storelink.kpi import loaders as kpi_loaders
from storelink.loyalty import loaders as loyalty_loaders
from storelink.members import loaders as member_loaders
from storelink.orders import loaders as order_loaders
from storelink.settings import Settings
from storelink.stores import loaders as store_loaders
from storelink.wechat.client import WeChatClient

_UNSET: Any = object()


class Loaders:
    """Per-request DataLoaders, made when first used; each batch runs in its own short session
    (STYLE.md)."""

    _FACTORIES = {
        "store": store_loaders.store_loader,
        "store_services": store_loaders.store_services_loader,
        "special_day": store_loaders.special_day_loader,
        "service_type": store_loaders.service_type_loader,
        "staff": member_loaders.staff_loader,
        "customer": member_loaders.customer_loader,
        "membership_by_customer": member_loaders.membership_by_customer_loader,
        "personal_code": member_loaders.personal_code_loader,
        "product": catalog_loaders.product_loader,
        "sku": catalog_loaders.sku_loader,
        "skus_by_product": catalog_loaders.skus_by_product_loader,
        "store_stock": catalog_loaders.store_stock_loader,
        "cart": order_loaders.cart_loader,
        "order_lines": order_loaders.order_lines_loader,
        "recent_orders": order_loaders.recent_orders_loader,
        "campaign": loyalty_loaders.campaign_loader,
    }
    # Loaders whose answers depend on settings (tier and segment thresholds).
    _WITH_SETTINGS = {
        "standing": loyalty_loaders.standing_loader,
        "insights": kpi_loaders.insights_loader,
    }

    def __init__(self, sessionmaker: async_sessionmaker, settings: Settings):
        self._sessionmaker = sessionmaker
        self._settings = settings

    def __getattr__(self, name: str):
        if name in self._WITH_SETTINGS:
            loader = self._WITH_SETTINGS[name](self._sessionmaker, self._settings)
            setattr(self, name, loader)
            return loader
        factory = self._FACTORIES.get(name)
        if factory is None:
            raise AttributeError(name)
        loader = factory(self._sessionmaker)
        setattr(self, name, loader)  # later lookups find the attribute and skip __getattr__
        return loader


def preferred_language(request: Request | None) -> str:
    header = request.headers.get("accept-language", "") if request is not None else ""
    return "zh" if header.strip().lower().startswith("zh") else "en"


@dataclass
class Context:
    request: Request | None
    settings: Settings
    sessionmaker: async_sessionmaker
    reader: async_sessionmaker  # autocommit sessions for lookups (db.create_reader)
    wechat: WeChatClient
    loaders: Loaders
    payments: Any = None
    lang: str = "en"
    response: Any = None
    _principal: Any = field(default=_UNSET, repr=False)

    def bearer_token(self) -> str | None:
        if self.request is None:
            return None
        scheme, _, token = self.request.headers.get("authorization", "").partition(" ")
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
