"""Offline evaluation: split order history by time, train on the past, and predict each member's
next basket after the split; hit rate@10 and NDCG@10 against a popularity baseline.

Members need a purchase before the split (the recommender personalises from history); what they
bought in the 30 days before the split is excluded from both rankings, as when serving, and so
from the targets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from tqdm import tqdm

from storelink.recommend import ranking as reco
from storelink.recommend.serve import HISTORY_HALF_LIFE_DAYS, JUST_BOUGHT
from storelink.recommend.train import Purchase, build, load_products, load_purchases

K = 10


@dataclass(frozen=True)
class Report:
    train_orders: int
    test_members: int
    hit_rate: float
    ndcg: float
    baseline_hit_rate: float
    baseline_ndcg: float

    @property
    def lift(self) -> float:
        return self.hit_rate / self.baseline_hit_rate if self.baseline_hit_rate else float("inf")


def _ndcg(ranked: list[int], targets: set[int]) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, p in enumerate(ranked[:K]) if p in targets)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(targets), K)))
    return dcg / ideal if ideal else 0.0


def score(purchases: list[Purchase], products: dict[int, reco.ProductInfo], *, test_share: float,
          progress: bool = False) -> Report:
    """Train on the earlier share, rank for each member's next basket; `progress` shows a bar of
    the members scored (on stderr)."""
    if not 0 < test_share < 1:
        raise ValueError("test_share must be between 0 and 1")
    ordered = sorted(purchases, key=lambda p: (p.paid_at, p.order_id))
    split = int(len(ordered) * (1 - test_share))
    if split == 0 or split == len(ordered):
        return Report(split, 0, 0.0, 0.0, 0.0, 0.0)
    past, future = ordered[:split], ordered[split:]
    cutoff = future[0].paid_at
    model = build(past, products, cutoff)
    history: dict[int, dict[int, object]] = {}
    for p in past:
        if p.customer_id is not None:
            for product in p.products:
                history.setdefault(p.customer_id, {})[product] = p.paid_at
    next_basket: dict[int, set[int]] = {}
    for p in future:
        if p.customer_id in history and p.customer_id not in next_basket:
            next_basket[p.customer_id] = set(p.products)
    popular = model.popular.get(0, [])
    hits = ndcg = base_hits = base_ndcg = 0.0
    members = 0
    for customer, targets in tqdm(next_basket.items(), total=len(next_basket), desc="members scored",
                                  disable=not progress, leave=False):
        bought = history[customer]
        exclude = {p for p, at in bought.items() if cutoff - at < JUST_BOUGHT}
        targets = targets - exclude
        if not targets:
            continue
        members += 1
        seeds = [reco.Seed(p, 0.6 * math.exp(-max((cutoff - at).total_seconds() / 86400, 0) * math.log(2)
                                                / HISTORY_HALF_LIFE_DAYS), "bought") for p, at in bought.items()]
        tastes: dict[str, float] = {}
        for p in bought:
            if p in products:
                for word in (products[p].category, *products[p].tags):
                    tastes[word] = tastes.get(word, 0) + 1
        top = max(tastes.values(), default=1)
        ranked = [c.product_id for c in reco.rank(
            model_complements=model.complements, model_substitutes=model.substitutes, popular_here=popular,
            seeds=seeds, exclude=exclude, tastes={k: v / top for k, v in tastes.items()}, info=products,
            available=None, first=K)]
        baseline = [p for p, _ in popular if p not in exclude][:K]
        hits += bool(targets & set(ranked))
        base_hits += bool(targets & set(baseline))
        ndcg += _ndcg(ranked, targets)
        base_ndcg += _ndcg(baseline, targets)
    n = members or 1
    return Report(len(past), members, hits / n, ndcg / n, base_hits / n, base_ndcg / n)


async def evaluate(session: AsyncSession, *, test_share: float = 0.2, progress: bool = False) -> Report:
    import datetime as dt

    purchases = await load_purchases(session, since=dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc))
    products = await load_products(session)
    return score(purchases, products, test_share=test_share, progress=progress)


def describe(report: Report) -> str:
    return (f"trained on {report.train_orders} orders; next baskets of {report.test_members} members\n"
            f"  recommender: hit rate@{K} {report.hit_rate:.3f}, NDCG@{K} {report.ndcg:.3f}\n"
            f"  popularity:  hit rate@{K} {report.baseline_hit_rate:.3f}, NDCG@{K} {report.baseline_ndcg:.3f}\n"
            f"  lift (hit rate): {report.lift:.2f}x")
