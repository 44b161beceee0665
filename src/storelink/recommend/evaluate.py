"""Offline evaluation of the served path against strong simple baselines.

Orders are split by time: the newest `test_share` of the window's orders are the future. The
model is trained as production trains it (train.train_in, the same window before the split) and
each sampled member's recommendations come from serve.recommend, the function behind the GraphQL
field, as of the split; everything it wrote is rolled back. The target is the member's whole
first basket after the split, what they buy again included. Baselines, from the same orders:
popularity (baskets, recent ones weigh more), the member's own most-bought products (then the
popular ones), item-kNN (cosine over members' histories) and EASE.
"""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from tqdm import tqdm

from storelink.orders.models import PAID_STATUSES, Order
from storelink.recommend import learn, serve, train
from storelink.recommend import ranking as reco

K = reco.TOP
MEMBERS = 3000  # sampled test members (each is served as in production)
KNN_NEIGHBOURS = 100


@dataclass(frozen=True)
class Line:
    name: str
    hit_rate: float
    ndcg: float


@dataclass(frozen=True)
class Report:
    train_orders: int
    test_members: int
    window_days: int
    lines: tuple[Line, ...]  # the AI guide first, then the baselines

    @property
    def model(self) -> Line:
        return self.lines[0]

    @property
    def best_hit_rate(self) -> float:
        return max((line.hit_rate for line in self.lines[1:]), default=0.0)

    @property
    def best_ndcg(self) -> float:
        return max((line.ndcg for line in self.lines[1:]), default=0.0)

    @property
    def hit_rate_ratio(self) -> float:
        return self.model.hit_rate / self.best_hit_rate if self.best_hit_rate else float("inf")

    @property
    def ndcg_ratio(self) -> float:
        return self.model.ndcg / self.best_ndcg if self.best_ndcg else float("inf")


Ranker = Callable[[int], list[int]]


def baselines(past: list[learn.Purchase], cutoff: dt.datetime) -> dict[str, Ranker]:
    """Each baseline as member -> top K products, fitted on `past`."""
    orders = learn.Orders(past)
    popular = [p for p, _ in learn.popular(orders, cutoff).get(0, [])]
    history = learn.histories(past, cutoff)

    def by_popularity(member: int) -> list[int]:
        return popular[:K]

    def own(member: int) -> list[int]:
        mine = [b.product_id for b in sorted(history.get(member, []), key=lambda b: (-b.times, b.days_ago, b.product_id))]
        return (mine + [p for p in popular if p not in set(mine)])[:K]

    binary = (orders.histories > 0).astype(np.float64)
    similar = learn.top_per_row(learn.cosine(binary.T @ binary), orders.ids, k=KNN_NEIGHBOURS)

    def item_knn(member: int) -> list[int]:
        scores: dict[int, float] = {}
        for b in history.get(member, []):
            for other, s in similar.get(b.product_id, ()):
                scores[other] = scores.get(other, 0.0) + s
        ranked = sorted(scores, key=lambda p: (-scores[p], p))[:K]
        return ranked + [p for p in popular if p not in set(ranked)][: K - len(ranked)]

    ease_ids, b = learn.ease(orders)
    column = {int(p): i for i, p in enumerate(ease_ids.tolist())}

    def ease(member: int) -> list[int]:
        have = [column[x.product_id] for x in history.get(member, []) if x.product_id in column]
        if not have or not len(b):
            return popular[:K]
        scores = b[have].sum(axis=0)
        top = np.lexsort((ease_ids, -scores))[:K]
        return [int(ease_ids[i]) for i in top]

    return {"popularity (baskets, recent)": by_popularity, "member's own most-bought": own,
            "item-kNN": item_knn, "EASE": ease}


async def evaluate(session: AsyncSession, *, test_share: float = 0.2, window_days: int = train.WINDOW_DAYS,
                   members: int = MEMBERS, progress: bool = False) -> Report:
    """Score the served AI guide and the baselines; writes nothing (rolled back)."""
    if not 0 < test_share < 1:
        raise ValueError("test_share must be between 0 and 1")
    last = (await session.execute(select(func.max(Order.paid_at)).where(Order.status.in_(PAID_STATUSES)))).scalar()
    if last is None:
        return Report(0, 0, window_days, ())
    recent = await train.load_purchases(session, since=last - dt.timedelta(days=window_days))
    cutoff = learn.split(recent, test_share)
    if cutoff is None:
        return Report(0, 0, window_days, ())
    purchases = await train.load_purchases(session, since=cutoff - dt.timedelta(days=window_days))
    past = [x for x in purchases if x.paid_at < cutoff]
    history = learn.histories(past, cutoff)
    targets = learn.next_baskets(purchases, set(history), cutoff)
    sample = sorted(targets)
    random.Random(2026).shuffle(sample)
    sample = sample[:members]
    others = baselines(past, cutoff)
    try:
        # Trained and served exactly as in production, inside this transaction.
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended("recommender", 0))))
        row = await train.train_in(session, now=cutoff, window_days=window_days, min_orders=1)
        served: dict[int, list[int]] = {}
        for member in tqdm(sample, desc="members served", disable=not progress, leave=False):
            shown = await serve.recommend(session, context="HOME", customer_id=member, staff_id=None, store=None,
                                          product_id=None, first=K, now=cutoff, use_cart=False)
            served[member] = [s.product.id for s in shown]
        train_orders = row.orders
    finally:
        await session.rollback()
    lines = [_score("AI guide (served)", served.__getitem__, sample, targets)]
    lines += [_score(name, ranker, sample, targets) for name, ranker in others.items()]
    return Report(train_orders, len(sample), window_days, tuple(lines))


def _score(name: str, ranker: Ranker, members: list[int], targets: dict[int, set[int]]) -> Line:
    hits = ndcg = 0.0
    for member in members:
        ranked = ranker(member)
        hits += bool(targets[member] & set(ranked[:K]))
        ndcg += learn.ndcg(ranked, targets[member])
    n = max(len(members), 1)
    return Line(name, hits / n, ndcg / n)


def describe(report: Report) -> str:
    if not report.lines:
        return "no paid orders to evaluate"
    rows = [f"trained on {report.train_orders} orders (window {report.window_days} days); "
            f"next baskets of {report.test_members} members, what they buy again included",
            f"  {'':30} hit rate@{K}  NDCG@{K}"]
    rows += [f"  {line.name:30} {line.hit_rate:10.3f} {line.ndcg:9.3f}" for line in report.lines]
    rows.append(f"  AI guide / best baseline: hit rate {report.hit_rate_ratio:.2f}x, NDCG {report.ndcg_ratio:.2f}x")
    return "\n".join(rows)
