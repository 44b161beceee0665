"""Member segments and tags on the tablet."""
import datetime as dt

from sqlalchemy import update

from storelink.members.models import Membership
from storelink.orders.models import Order

PROFILE = "query($id: ID!) { member(id: $id) { segment tags } }"


async def profile(mall, token: str) -> dict:
    member = await mall.member_id(token)
    return (await mall.api.data(PROFILE, {"id": member}, mall.hq))["member"]


async def age(mall, token: str, *, joined_days: int, orders_days: int | None = None) -> None:
    customer = await mall.customer_pk(token)
    now = dt.datetime.now(dt.timezone.utc)
    async with mall.sessionmaker() as session:
        await session.execute(update(Membership).where(Membership.customer_id == customer)
                              .values(joined_at=now - dt.timedelta(days=joined_days)))
        if orders_days is not None:
            await session.execute(update(Order).where(Order.customer_id == customer)
                                  .values(paid_at=now - dt.timedelta(days=orders_days)))
        await session.commit()


async def test_segments_follow_behaviour_in_both_channels(mall):
    # given
    _, guide = mall.guides["guide-a"]
    new = await mall.member("new")
    dormant = await mall.member("dormant")
    store_only = await mall.member("store")
    online_from_store = await mall.member("online")
    online_joined = await mall.member("web", guide=None)
    both = await mall.member("both")
    for i, token in enumerate((store_only, both, dormant)):
        await mall.record(guide, receipt=f"r{i}", memberCode=await mall.member_code(token))
    for token in (online_from_store, online_joined, both):
        await mall.add(token, "TEE-S", 1)
        await mall.pay((await mall.checkout(token))["order"])
    for token in (dormant, store_only, online_from_store, online_joined, both):
        await age(mall, token, joined_days=200)
    await age(mall, dormant, joined_days=200, orders_days=120)
    # when / then
    assert (await profile(mall, new))["segment"] == "NEW"
    assert (await profile(mall, dormant))["segment"] == "DORMANT"
    assert (await profile(mall, store_only))["segment"] == "STORE_EXPERIENCE"
    assert (await profile(mall, online_from_store))["segment"] == "ONLINE_REPURCHASE"
    assert (await profile(mall, online_joined))["segment"] == "ONLINE_ACTIVE"
    assert (await profile(mall, both))["segment"] == "OMNICHANNEL_ACTIVE"


async def test_tags_are_what_the_member_buys_most(mall):
    # given
    _, guide = mall.guides["guide-a"]
    alice = await mall.member("alice")
    await mall.record(guide, receipt="r1", memberCode=await mall.member_code(alice), lines=[
        {"skuId": mall.skus["SCARF-1"], "quantity": 2, "unitPriceFen": 39900},
        {"skuId": mall.skus["COAT-M"], "quantity": 1, "unitPriceFen": 129900}])
    # when / then
    # 冬季: 3 units (scarf and coat), 羊绒 and 配饰: 2, 外套 and 羊毛: 1
    assert (await profile(mall, alice))["tags"] == ["冬季", "羊绒", "配饰", "外套", "羊毛"]  # ties by character order


async def test_segment_and_tags_cost_the_same_whatever_the_history(mall, api, count_statements):
    # given
    _, guide = mall.guides["guide-a"]
    light, heavy = await mall.member("light"), await mall.member("heavy")
    await mall.record(guide, receipt="l0", memberCode=await mall.member_code(light))
    for i in range(6):
        await mall.record(guide, receipt=f"h{i}", memberCode=await mall.member_code(heavy), lines=[
            {"skuId": mall.skus[sku], "quantity": 1, "unitPriceFen": 100} for sku in ("TEE-S", "COAT-M", "SCARF-1")])
    query = "query($a: ID!) { member(id: $a) { segment tags } }"
    with count_statements() as few:
        await api.data(query, {"a": await mall.member_id(light)}, guide)
    # when
    with count_statements() as many:
        data = await api.data(query, {"a": await mall.member_id(heavy)}, guide)
    # then
    assert data["member"]["segment"] == "STORE_EXPERIENCE" and len(data["member"]["tags"]) == 6
    assert many.count == few.count
