"""KPI queries for store managers, guides and HQ."""
from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from storelink.api.context import Info
from storelink.accounts.types import Staff
from storelink.graphql import caller
from storelink.graphql.relay import decode_id, decode_optional_id
from storelink.kpi import access, service
from storelink.kpi.types import GuideRanking, KpiMetric, KpiReport


# `from` is a Python keyword: the argument is from_ in Python, "from" on the wire.
FromDate = Annotated[dt.date, strawberry.argument(name="from")]


@strawberry.type
class KpiQueries:
    @strawberry.field(description="HQ, or the store's manager.")
    async def store_kpis(self, info: Info, store_id: strawberry.ID, from_: FromDate, to: dt.date) -> KpiReport:
        viewer = await caller.staff(info)
        async with info.context.reader() as session:
            store = await access.store_for(session, viewer, decode_id(store_id, "Store", ["storeId"]))
            found = await service.figures(session, scope="store", keys=[store.id],
                                          period=service.period(from_, to, store.timezone))
        return KpiReport.from_figures(found[store.id], from_, to)

    @strawberry.field(description="The guide themself, their store's manager, or HQ.")
    async def guide_kpis(self, info: Info, guide_id: strawberry.ID, from_: FromDate, to: dt.date) -> KpiReport:
        viewer = await caller.staff(info)
        async with info.context.reader() as session:
            guide, store = await access.guide_for(session, viewer, decode_id(guide_id, "Staff", ["guideId"]))
            found = await service.figures(session, scope="guide", keys=[guide.id],
                                          period=service.period(from_, to, store.timezone))
        return KpiReport.from_figures(found[guide.id], from_, to)

    @strawberry.field(description="A store's guides (HQ or its manager), or every guide (HQ), best first.")
    async def guide_leaderboard(self, info: Info, from_: FromDate, to: dt.date, metric: KpiMetric,
                                store_id: strawberry.ID | None = None, first: int = 20) -> list[GuideRanking]:
        viewer = await caller.staff(info)
        async with info.context.reader() as session:
            store = await access.leaderboard_scope(session, viewer, decode_optional_id(store_id, "Store", ["storeId"]))
            ranked = await service.leaderboard(session, store=store, first_day=from_, last_day=to,
                                               metric=metric.value, first=first)
        return [GuideRanking(rank=position, guide=Staff.from_model(guide), report=KpiReport.from_figures(f, from_, to))
                for position, guide, f in ranked]
