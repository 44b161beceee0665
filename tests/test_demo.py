"""The demo brand: stores, staff, a catalog with stock in every store, a campaign; seeded once."""
from sqlalchemy import func, select

from storelink import demo
from storelink.catalog.models import Sku, StoreStock
from storelink.loyalty.models import CouponCampaign
from storelink.stores.models import Store


async def test_demo_brand_has_stock_everywhere_and_seeds_once(app, sessionmaker, api):
    # when (a terminal would show these steps as a progress bar)
    steps: list[str] = []
    async with sessionmaker() as session:
        created = await demo.seed_demo(session, steps.append)
        await session.commit()
    async with sessionmaker() as session:
        again = await demo.seed_demo(session)
        stores = (await session.execute(select(func.count()).select_from(Store))).scalar_one()
        skus = (await session.execute(select(func.count()).select_from(Sku))).scalar_one()
        stocked = (await session.execute(
            select(func.count()).select_from(StoreStock).where(StoreStock.quantity > 0))).scalar_one()
        campaigns = (await session.execute(select(func.count()).select_from(CouponCampaign))).scalar_one()
    # then
    assert (created, again) == (True, False)
    assert len(steps) == demo.SEED_STEPS and steps[0] == "services" and steps[-1] == "marketing campaigns"
    assert stores == len(demo.DEMO_STORES) and skus > 0
    assert stocked == stores * skus  # every SKU on every demo store's shelves
    assert campaigns == 1
    async with sessionmaker() as session:
        from storelink.marketing.models import MarketingCampaign

        triggers = set((await session.execute(select(MarketingCampaign.trigger))).scalars())
    assert triggers == {t for _, t, *_ in demo.DEMO_MARKETING} and len(triggers) == 6  # one of each, running
    async with sessionmaker() as session:
        from storelink.orders.models import Order

        orders = (await session.execute(select(func.count()).select_from(Order))).scalar_one()
        served = (await session.execute(select(func.count()).select_from(Order).where(
            Order.channel == "STORE", Order.guide_id.is_not(None)))).scalar_one()
        online_credited = (await session.execute(select(func.count()).select_from(Order).where(
            Order.channel == "ONLINE", Order.store_id.is_not(None)))).scalar_one()
    assert orders == demo.DEMO_HISTORY_ORDERS  # a year of history for the KPIs and the AI guide
    assert served > 0 and online_credited > 0  # credited as the attribution rules say
    found = await api.data('query { products(query: "羊绒", first: 10) { edges { node { name } } } }')
    assert {e["node"]["name"] for e in found["products"]["edges"]} == {
        "羊绒圆领毛衣", "羊绒围巾", "羊绒护理套装", "小羊皮手套"}  # the gloves: 羊绒 in the description
