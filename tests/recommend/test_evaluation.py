"""The offline evaluation of the served AI guide against strong simple baselines, on a
grocery-like and a durable-goods-like shop from the history generator (smaller than
bench/recommend_shops.py's, whose figures the README reports)."""
import random

import pytest

from storelink.recommend import evaluate, synthetic
from storelink.recommend.models import RecoModel, RecoShown
from sqlalchemy import func, select


@pytest.mark.parametrize("shop, products, members, orders, hit_rate_ratio, ndcg_ratio", [
    # On this small grocery set the hit rate ties the member's own most-bought products (1.00x);
    # the ranking is better (NDCG). The full-size figures are in the README.
    ("grocery", 200, 3000, 12000, 0.98, 1.03),
    ("fashion", 1500, 3000, 14000, 1.05, 1.05),
])
async def test_the_served_ai_guide_beats_every_baseline(app, sessionmaker, shop, products, members, orders,
                                                        hit_rate_ratio, ndcg_ratio):
    # given: a year of a shop's orders
    rng = random.Random(11)
    async with sessionmaker() as session:
        catalog = await synthetic.make_catalog(session, products=products, rng=rng, shop=shop)
        await synthetic.make_history(session, catalog=catalog, stores=[], members=members, orders=orders, rng=rng)
        await session.commit()
    # when
    async with sessionmaker() as session:
        report = await evaluate.evaluate(session, test_share=0.2, members=1500)
    # then: against the best baseline on each measure, the baselines all reported
    print(evaluate.describe(report))
    assert [line.name for line in report.lines] == [
        "AI guide (served)", "popularity (baskets, recent)", "member's own most-bought", "item-kNN", "EASE"]
    assert report.test_members > 1000
    assert report.hit_rate_ratio >= hit_rate_ratio and report.ndcg_ratio >= ndcg_ratio
    # and the evaluation left nothing behind: no model, nothing recorded as shown
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(RecoModel))).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(RecoShown))).scalar_one() == 0
