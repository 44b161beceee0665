"""Coupon campaigns, claiming under load, points and tiers."""
import asyncio
import datetime as dt

from sqlalchemy import func, select

from storelink.loyalty.models import Coupon, CouponCampaign
from tests.builders import CREATE_CAMPAIGN, codes_of

CAMPAIGNS = "query { couponCampaigns { title remaining } }"
NOW = dt.datetime.now(dt.timezone.utc)


def campaign_input(**over) -> dict:
    base = {"title": "新客礼", "discountFen": 1000, "validFrom": (NOW - dt.timedelta(hours=1)).isoformat(),
            "validUntil": (NOW + dt.timedelta(days=1)).isoformat()}
    return {**base, **over}


async def test_campaign_input_is_checked(api, mall):
    # given
    _, guide = mall.guides["guide-a"]
    cases = [
        (campaign_input(title=" "), "INVALID_INPUT", ["input", "title"]),
        (campaign_input(discountFen=0), "INVALID_INPUT", ["input", "discountFen"]),
        (campaign_input(minSpendFen=-1), "INVALID_INPUT", ["input", "minSpendFen"]),
        (campaign_input(validUntil=(NOW - dt.timedelta(hours=2)).isoformat()), "INVALID_INPUT", ["input", "validUntil"]),
        (campaign_input(totalQuantity=0), "INVALID_INPUT", ["input", "totalQuantity"]),
        (campaign_input(perCustomerLimit=0), "INVALID_INPUT", ["input", "perCustomerLimit"]),
    ]
    # when / then
    for given, code, field in cases:
        payload = (await api.data(CREATE_CAMPAIGN, {"input": given}, mall.hq))["createCouponCampaign"]
        assert (codes_of(payload), payload["userErrors"][0]["field"]) == ([code], field), given
    # when
    by_guide = (await api.data(CREATE_CAMPAIGN, {"input": campaign_input()}, guide))["createCouponCampaign"]
    # then
    assert codes_of(by_guide) == ["FORBIDDEN"]
    assert (await api.data(CAMPAIGNS))["couponCampaigns"] == []


async def test_claim_rules(api, mall):
    # given
    alice = await mall.member("alice")
    stranger, _ = await mall.world.customer("wx-not-a-member")
    twice = await mall.campaign(perCustomerLimit=2, totalQuantity=10)
    later = await mall.campaign(validFrom=(NOW + dt.timedelta(days=1)).isoformat(),
                                validUntil=(NOW + dt.timedelta(days=2)).isoformat())
    outcomes = [codes_of(await mall.claim(alice, twice)) for _ in range(3)]
    not_started = await mall.claim(alice, later)
    not_member = await mall.claim(stranger, twice)
    # when
    unknown = await mall.claim(alice, "Q291cG9uQ2FtcGFpZ246OTk5OTk=")
    # then
    assert outcomes == [[], [], ["CONFLICT"]]
    assert codes_of(not_started) == ["INVALID_STATE"]
    assert codes_of(not_member) == ["INVALID_STATE"]
    assert codes_of(unknown) == ["NOT_FOUND"]
    # when
    listed = (await api.data(CAMPAIGNS))["couponCampaigns"]
    # then
    assert {"title": "满100减20", "remaining": 8} in listed


async def test_three_hundred_customers_claim_a_hundred_coupons(mall, sessionmaker):
    # given
    campaign = await mall.campaign(totalQuantity=100)
    tokens = [await mall.member(f"m{i}") for i in range(300)]
    # when
    results = await asyncio.gather(*(mall.claim(t, campaign) for t in tokens))
    # then
    codes = [tuple(codes_of(r)) for r in results]
    assert codes.count(()) == 100 and codes.count(("OUT_OF_STOCK",)) == 200
    async with sessionmaker() as session:
        assert (await session.execute(select(func.count()).select_from(Coupon))).scalar_one() == 100
    listed = (await mall.api.data(CAMPAIGNS))["couponCampaigns"]
    assert listed == [{"title": "满100减20", "remaining": 0}]


async def test_an_unlimited_campaign_tallies_every_claim_made_at_once(mall, sessionmaker):
    # given: nothing scarce, so each claim's tally is added just before its commit
    campaign = await mall.campaign()
    tokens = [await mall.member(f"u{i}") for i in range(60)]
    # when
    results = await asyncio.gather(*(mall.claim(t, campaign) for t in tokens),
                                   *(mall.claim(t, campaign) for t in tokens[:10]))  # over the limit of 1
    # then
    codes = [tuple(codes_of(r)) for r in results]
    assert codes.count(()) == 60 and codes.count(("CONFLICT",)) == 10
    async with sessionmaker() as session:
        issued = (await session.execute(select(func.count()).select_from(Coupon))).scalar_one()
        claimed = (await session.execute(select(CouponCampaign.claimed))).scalar_one()
    assert issued == claimed == 60


async def test_points_pay_part_of_an_order_and_tiers_follow_spend(mall, settings):
    # given
    alice = await mall.member("alice")
    _, guide = mall.guides["guide-a"]
    await mall.record(guide, receipt="big", memberCode=await mall.member_code(alice),
                      lines=[{"skuId": mall.skus["COAT-M"], "quantity": 8, "unitPriceFen": 129900}])
    # when
    me = await mall.me(alice)
    # then
    assert me["membership"] == {"points": 10392, "tier": "GOLD"}  # 10,392 yuan >= 8,000
    # when
    # points worth more than the order are refused; exactly the order's cost makes it free
    await mall.add(alice, "TEE-S", 1)
    too_many = await mall.checkout(alice, key="a", pointsToRedeem=9901)
    free = await mall.checkout(alice, key="b", pointsToRedeem=9900)
    # then
    assert codes_of(too_many) == ["INVALID_INPUT"]
    assert (free["order"]["status"], free["order"]["totalFen"], free["payment"]) == ("PAID", 0, None)
    assert (await mall.me(alice))["membership"] == {"points": 10392 - 9900, "tier": "GOLD"}


async def test_insufficient_points_under_concurrent_checkouts(mall):
    # given
    alice = await mall.member("alice")
    _, guide = mall.guides["guide-a"]
    await mall.record(guide, receipt="earn", memberCode=await mall.member_code(alice))  # 399 points
    await mall.add(alice, "TEE-S", 1)
    await mall.add(alice, "SCARF-1", 1)
    # when
    first, second = await asyncio.gather(mall.checkout(alice, key="x", pointsToRedeem=300),
                                         mall.checkout(alice, key="y", pointsToRedeem=300))
    outcomes = sorted([tuple(codes_of(first)), tuple(codes_of(second))])
    # then
    # one spends the points; the other finds the cart empty (or too few points): never both
    assert outcomes[0] == () and outcomes[1] in {("INSUFFICIENT_POINTS",), ("INVALID_STATE",)}
    assert (await mall.me(alice))["membership"]["points"] == 99
