"""The one GraphQL schema: every domain's query and mutation mixins, plus the request limits.

Importing a domain's queries module also registers its node resolvers (graphql/relay.py)."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from zoneinfo import ZoneInfo

import strawberry
from strawberry.schema.config import StrawberryConfig
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension

from storelink.api.metrics import OperationMetrics
from storelink.api.context import Info
from storelink.accounts.mutations import AccountMutations
from storelink.accounts.queries import AccountQueries
from storelink.accounts.types import Customer, Staff
from storelink.appointments.mutations import AppointmentMutations
from storelink.appointments.queries import AppointmentQueries
from storelink.appointments.types import Appointment, ServiceType
from storelink.catalog.mutations import CatalogMutations
from storelink.catalog.queries import CatalogQueries
from storelink.catalog.types import Product, Sku
from storelink.api.scanning import ScanMutations
from storelink.graphql.pipeline import RequestPipeline
from storelink.graphql.relay import Node, resolve_node
from storelink.graphql.scalars import scalar_map
from storelink.fulfilment.mutations import FulfilmentMutations
from storelink.fulfilment.queries import FulfilmentQueries
from storelink.fulfilment.types import Shipment
from storelink.kpi.queries import KpiQueries
from storelink.marketing.mutations import MarketingMutations
from storelink.marketing.queries import MarketingQueries
from storelink.loyalty.mutations import LoyaltyMutations
from storelink.loyalty.queries import LoyaltyQueries
from storelink.live.subscriptions import LiveSubscriptions
from storelink.loyalty.types import Coupon, CouponCampaign
from storelink.members.mutations import MemberMutations
from storelink.members.queries import MemberQueries
from storelink.members.types import MemberProfile
from storelink.orders import queries as order_queries  # noqa: F401  (registers the Order node)
from storelink.orders.mutations import OrderMutations
from storelink.returns import queries as return_queries  # noqa: F401  (registers the ReturnRequest node)
from storelink.returns.mutations import ReturnMutations
from storelink.returns.types import ReturnRequest
from storelink.recommend.mutations import RecommendMutations
from storelink.recommend.queries import RecommendQueries
from storelink.orders.types import Order
from storelink.stores.mutations import StoreMutations
from storelink.stores.queries import StoreQueries
from storelink.stores.types import Store
from storelink.webhooks.mutations import WebhookMutations
from storelink.webhooks.queries import WebhookQueries
from storelink.webhooks.types import WebhookEndpoint

@strawberry.type
class Subscription(LiveSubscriptions):
    pass


MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000


@strawberry.type
class Query(AccountQueries, StoreQueries, MemberQueries, AppointmentQueries, CatalogQueries, LoyaltyQueries,
            KpiQueries, RecommendQueries, WebhookQueries, FulfilmentQueries, MarketingQueries):
    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)


@strawberry.type
class Mutation(AccountMutations, StoreMutations, AppointmentMutations, MemberMutations, ScanMutations,
               CatalogMutations, OrderMutations, LoyaltyMutations, RecommendMutations, WebhookMutations,
               FulfilmentMutations, ReturnMutations, MarketingMutations):
    pass


class StorelinkSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # ErrorPolicy logs the unexpected ones with the request id; expected ones are not noise.
        return None


def build_schema(*, debug: bool = False, timezone: str = "Asia/Shanghai") -> strawberry.Schema:
    """`timezone`: the brand's, in which DateTimes that belong to no store are said."""
    # The limit rules are built once, because the validation cache is keyed by the rule
    # classes and each limiter instance makes new ones. strawberry's limiters serve only as
    # makers of those rules; one extension per request applies them (graphql/pipeline.py).
    rules = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    if not debug:
        rules.append(NoSchemaIntrospectionCustomRule)
    # OperationMetrics first: it wraps the others, so it counts the errors as the policy left them.
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        OperationMetrics,
        lambda: RequestPipeline(rules=tuple(rules), max_tokens=MAX_TOKENS),
    ]
    if not debug:
        # "Did you mean ...?" hints describe the schema to whoever probes it.
        # (The package re-exports a function of the same name, hence the explicit module import.)
        setattr(importlib.import_module("graphql.pyutils.did_you_mean"), "MAX_LENGTH", 0)
    return StorelinkSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Customer, Staff, Store, ServiceType, MemberProfile, Appointment, Product, Sku, Order, Coupon,
               CouponCampaign, WebhookEndpoint, Shipment, ReturnRequest],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=scalar_map(ZoneInfo(timezone))),
    )


def schema_sdl() -> str:
    return build_schema(debug=True).as_str() + "\n"
