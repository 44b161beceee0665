"""The binding rule's order condition: a member with a paid order credited to their guide in the
protection period stays bound, even after the period since binding has passed."""
import datetime as dt

from sqlalchemy import update

from storelink.members.models import Membership
from tests.builders import JOIN, personal_code

GUIDE = "query { me { membership { guide { name } } } }"


async def age_binding(mall, days: int) -> None:
    async with mall.sessionmaker() as session:
        await session.execute(update(Membership).values(
            bound_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)))
        await session.commit()


async def test_recent_paid_order_with_the_guide_keeps_the_binding(api, mall):
    # given: alice bound to guide-a 40 days ago, and bought from guide-a last week
    alice = await mall.member("alice", guide="guide-a")
    _, guide_a = mall.guides["guide-a"]
    await mall.record(guide_a, receipt="r1", memberCode=await mall.member_code(alice))
    await age_binding(mall, 40)
    # when: she scans guide-b's code
    await api.data(JOIN, {"code": await personal_code(mall.sessionmaker, mall.guides["guide-b"][0])}, alice)
    # then
    assert (await api.data(GUIDE, token=alice))["me"]["membership"]["guide"] == {"name": "guide-a"}


async def test_orders_credited_to_another_guide_do_not_keep_the_binding(api, mall):
    # given
    alice = await mall.member("alice", guide="guide-a")
    _, guide_b = mall.guides["guide-b"]
    await mall.record(guide_b, receipt="r1", memberCode=await mall.member_code(alice))  # credited to guide-b
    await age_binding(mall, 40)
    await api.data(JOIN, {"code": await personal_code(mall.sessionmaker, mall.guides["guide-b"][0])}, alice)
    # when / then
    assert (await api.data(GUIDE, token=alice))["me"]["membership"]["guide"] == {"name": "guide-b"}
