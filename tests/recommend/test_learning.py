"""What the AI guide learns from orders (recommend.learn) and how it ranks (recommend.ranking):
repeat purchases, popularity by baskets, big baskets by their content, similar products by
words, a category cap only when validation keeps it, and a training refused loudly when its
window holds too little."""
import datetime as dt
import logging
import os
import random
import subprocess
import sys

import pytest

from storelink.recommend import learn, synthetic, train
from storelink.recommend import ranking as reco
from tests.test_documents import PHONE_KEY, TEST_SECRET

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)


def purchase(order_id: int, member: int | None, days_ago: float, *products: int, units: int = 1,
             store: int = 0) -> learn.Purchase:
    return learn.Purchase(order_id, member, store, NOW - dt.timedelta(days=days_ago), {p: units for p in products})


def catalog(*ids: int, category: str = "A") -> dict[int, reco.ProductInfo]:
    return {i: reco.ProductInfo(i, f"p{i}", category, ()) for i in ids}


def test_a_consumable_comes_back_when_due_and_a_durable_just_bought_does_not():
    # given: members buy milk (1) every 10 days; everyone bought a sofa (2) once; bread (3) sells most
    orders, n = [], 0
    for member in range(40):
        for k in range(6):
            orders.append(purchase(n := n + 1, member, 70 - 10 * k, 1))
        orders.append(purchase(n := n + 1, member, 15, 2))
        orders += [purchase(n := n + 1, None, day, 3) for day in (1, 2, 3)]
    # (buying again and popularity alone: the sofa and the milk share histories, so their
    # co-purchase would blur what this test looks at)
    weights = reco.Weights(collaborative=0.0, complement=0.0, popular=0.1, seen=0.0, timing=1.0)
    model = learn.fit(orders, catalog(1, 2, 3), NOW, weights)
    assert model.repeat[1].rate > 0.9 and 8 <= model.repeat[1].interval_days <= 12
    assert 2 not in model.repeat or model.repeat[2].rate < 0.2
    popular = model.popular[0]
    # when: a member whose milk ran out 11 days ago, and who bought the sofa yesterday
    due = [reco.Bought(1, 6, 11.0), reco.Bought(2, 1, 1.0)]
    ranked = [c.product_id for c in reco.rank(model, popular_here=popular, bought=due, info=catalog(1, 2, 3))]
    # then: the milk leads, the sofa comes last
    assert ranked[0] == 1 and ranked[-1] == 2
    # and one who bought milk yesterday is not offered it first
    fresh = [reco.Bought(1, 6, 1.0)]
    assert [c.product_id for c in reco.rank(model, popular_here=popular, bought=fresh, info=catalog(1, 2, 3))][0] == 3


def test_popularity_counts_baskets_not_units():
    # given: one bulk order of 80,995 units of product 1; five ordinary baskets with product 2
    orders = [purchase(1, 1, 1, 1, units=80_995)] + [purchase(2 + i, 2 + i, 1, 2) for i in range(5)]
    # when
    popular = learn.popular(learn.Orders(orders), NOW)
    # then: brand-wide and at no store in particular, product 2 is the more popular
    assert [p for p, _ in popular[0]] == [2, 1]


def test_a_big_basket_counts_by_its_content_not_by_product_id():
    # given: a basket of 40 products, and the same basket with the ids in the reverse order
    big = list(range(1, 41))
    flip = {p: 41 - p for p in big}
    orders = [purchase(1, 1, 1, *big), purchase(2, 2, 1, 39, 40), purchase(3, 3, 1, 39, 40)]
    flipped = [purchase(1, 1, 1, *big), purchase(2, 2, 1, 2, 1), purchase(3, 3, 1, 2, 1)]
    # when
    found = learn.complements(learn.Orders(orders))
    mirrored = learn.complements(learn.Orders(flipped))
    # then: the newest products of the big basket are paired (before, only the 25 lowest ids were)
    assert found[40][0][0] == 39
    # and relabelling the ids relabels the result, nothing else
    assert {flip[p]: [(flip[o], s) for o, s in found[p]] for p in found} == mirrored


def test_similar_means_shared_words_not_shared_letters():
    # given
    products = [
        reco.ProductInfo(1, "PURPLE PAPER PARASOL", "gifts", (), learn.name_words("PURPLE PAPER PARASOL", ())),
        reco.ProductInfo(2, "PAPER CRAFT LITTLE BIRDIE", "gifts", (), learn.name_words("PAPER CRAFT LITTLE BIRDIE", ())),
        reco.ProductInfo(3, "RED PAPER PARASOL", "gifts", (), learn.name_words("RED PAPER PARASOL", ())),
        reco.ProductInfo(4, "羊毛大衣 1001", "外套", ("通勤",), learn.name_words("羊毛大衣 1001", ("通勤",))),
        reco.ProductInfo(5, "羊毛大衣 1002", "外套", ("通勤",), learn.name_words("羊毛大衣 1002", ("通勤",))),
    ]
    # when
    similar = learn.substitutes(products, {})
    # then
    assert [p for p, _ in similar[1]] == [3]  # the other parasol, never the bird
    assert 2 not in similar
    assert [p for p, _ in similar[4]] == [5]  # Chinese names compare by character pairs; article numbers do not count


def test_a_category_cap_only_when_the_weights_ask_for_it():
    # given
    info = {i: reco.ProductInfo(i, f"p{i}", "A" if i < 20 else f"C{i}", ()) for i in range(40)}
    popular = [(i, 100.0 - i) for i in range(40)]  # category A is the most popular by far
    free = reco.rank(reco.Model(), popular_here=popular, bought=[], info=info)
    # when
    capped = reco.rank(reco.Model(weights=reco.Weights(per_category=2)), popular_here=popular, bought=[], info=info,
                       first=12)
    # then
    assert [info[c.product_id].category for c in free] == ["A"] * 10
    assert [info[c.product_id].category for c in capped[:10]].count("A") == 2
    assert [info[c.product_id].category for c in capped[10:]] == ["A", "A"]  # they come after the top ten


def test_weights_are_chosen_on_a_validation_period():
    # given: members who buy again what they bought, and nothing else predicts their baskets
    rng = random.Random(3)
    orders, n = [], 0
    for member in range(300):
        mine = rng.sample(range(1, 200), 3)
        for k in range(8):
            orders.append(purchase(n := n + 1, member, rng.uniform(0, 300), rng.choice(mine), rng.randrange(1, 200)))
    # when
    tuning = learn.tune(orders, catalog(*range(1, 200)))
    # then: buying again weighs more than popularity, and the chosen weights beat the defaults
    assert tuning.members >= learn.MIN_VALIDATION_MEMBERS
    assert tuning.weights.popular < tuning.weights.rebuy
    assert tuning.score > tuning.default_score


async def test_a_training_with_too_few_orders_is_refused_loudly(app, sessionmaker, settings, caplog):
    # given: a brand whose only orders are older than the training window
    rng = random.Random(5)
    async with sessionmaker() as session:
        shop = await synthetic.make_catalog(session, products=30, rng=rng)
        await synthetic.make_history(session, catalog=shop, stores=[], members=20, orders=200, rng=rng,
                                     now=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=800))
        await session.commit()
    # when / then: train refuses, and the worker says so in its log
    with pytest.raises(train.TrainingTooSmall) as refused:
        await train.train(sessionmaker)
    assert refused.value.orders == 0
    train._refused_at = None
    with caplog.at_level(logging.WARNING, logger="storelink.recommend.train"):
        assert await train.retrain_if_due(sessionmaker, every=dt.timedelta(hours=1)) is False
    assert "not trained: 0 paid orders in the last 365 days" in caplog.text
    train._refused_at = None
    # and the command exits non-zero, naming the setting to change
    env = {**os.environ, "DATABASE_URL": settings.database_url, "JWT_SECRET": TEST_SECRET,
           "PHONE_ENCRYPTION_KEY": PHONE_KEY}
    env.pop("DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "storelink", "train-recommender"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "RECOMMENDER_WINDOW_DAYS" in done.stderr
    # with a window that reaches them, it trains
    row = await train.train(sessionmaker, window_days=1200)
    assert row.orders >= 150 and row.window_days == 1200
