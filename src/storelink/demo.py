"""A demo brand: a dozen stores in Shanghai, Hangzhou and Beijing with staff, services, a catalog
with stock in every store, a coupon campaign, and a year of structured order history (the
recommender trains on it when the worker first runs)."""
from __future__ import annotations

import datetime as dt
import logging
import random

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession


from storelink.progress import Advance, quiet
from storelink.flows import staffing
from storelink.accounts.models import Staff
from storelink.appointments import service as appointments
from storelink.catalog import service as catalog
from storelink.catalog.models import Product
from storelink.clock import utcnow
from storelink.loyalty import service as loyalty
from storelink.marketing import audience, campaigns
from storelink.marketing.models import CampaignTrigger
from storelink.recommend import synthetic
from storelink.members.join_codes import create_join_code
from storelink.stores import service as stores

log = logging.getLogger(__name__)

HQ_USERNAME = "hq-admin"
DEMO_PASSWORD = "demo-pass-2026"  # printed by seed-demo; every demo account uses it


def _week(opens: str, closes: str, weekend_closes: str | None = None) -> list[dict]:
    return [
        {"weekday": d, "opens": opens, "closes": weekend_closes if weekend_closes and d >= 5 else closes}
        for d in range(1, 8)
    ]


# GCJ-02 coordinates, as Chinese map apps show these shopping streets.
DEMO_STORES = [
    ("SH-NJW", "南京西路旗舰店", "上海", "静安区南京西路1266号恒隆广场B1", 31.22952, 121.45321, _week("10:00", "22:00")),
    ("SH-HHM", "淮海中路店", "上海", "黄浦区淮海中路300号K11购物中心2F", 31.22166, 121.47373, _week("10:00", "22:00")),
    ("SH-LJZ", "陆家嘴店", "上海", "浦东新区世纪大道8号国金中心L1", 31.23688, 121.50268, _week("10:00", "22:00")),
    ("SH-XJH", "徐家汇店", "上海", "徐汇区虹桥路1号港汇恒隆广场3F", 31.19532, 121.43787, _week("10:00", "22:00")),
    ("SH-WJC", "五角场店", "上海", "杨浦区淞沪路8号百联又一城2F", 31.30146, 121.51392, _week("10:00", "21:30")),
    ("HZ-HBN", "湖滨银泰店", "杭州", "上城区延安路258号湖滨银泰in77 C区", 30.25907, 120.16577, _week("10:00", "22:00")),
    ("HZ-WLG", "武林广场店", "杭州", "拱墅区延安路530号杭州大厦B座", 30.27404, 120.16446, _week("10:00", "21:30")),
    ("HZ-XXI", "西溪印象城店", "杭州", "余杭区五常大道1号西溪印象城L2", 30.27898, 120.06372, _week("10:00", "22:00")),
    ("HZ-BJG", "滨江龙湖天街店", "杭州", "滨江区江汉路1515号龙湖天街L1", 30.20855, 120.21134, _week("10:00", "22:00")),
    ("BJ-SLT", "三里屯店", "北京", "朝阳区三里屯路19号太古里南区S8", 39.93371, 116.45487, _week("10:00", "22:00", "02:00")),
    ("BJ-GMO", "国贸商城店", "北京", "朝阳区建国门外大街1号国贸商城B1", 39.90963, 116.46032, _week("10:00", "22:00")),
    ("BJ-XDN", "西单大悦城店", "北京", "西城区西单北大街131号大悦城4F", 39.91108, 116.37327, _week("10:00", "22:00")),
    ("BJ-ZGC", "中关村店", "北京", "海淀区中关村大街15号中关村广场购物中心B1", 39.98345, 116.31649, _week("10:00", "21:00")),
]

DEMO_SERVICES = [
    ("FITTING", "专属试衣", "Guided fitting with a stylist", 30),
    ("SKIN-TEST", "肌肤检测", "Skin analysis and product advice", 45),
    ("REPAIR", "修改与护理", "Alterations and care of garments", 60),
]


# code, name, category, tags, description, [(sku code, title, price in fen)]
DEMO_PRODUCTS = [
    ("COAT-WOOL", "羊毛双面呢大衣", "外套", ["羊毛", "冬季", "通勤"], "意大利进口羊毛，双面呢工艺",
     [("COAT-WOOL-CAMEL-M", "驼色 M", 259900), ("COAT-WOOL-CAMEL-L", "驼色 L", 259900),
      ("COAT-WOOL-BLACK-M", "黑色 M", 259900)]),
    ("DOWN-LIGHT", "轻薄羽绒服", "外套", ["羽绒", "冬季", "轻便"], "90%白鹅绒，可收纳",
     [("DOWN-LIGHT-NAVY-M", "藏青 M", 89900), ("DOWN-LIGHT-NAVY-L", "藏青 L", 89900)]),
    ("KNIT-CASH", "羊绒圆领毛衣", "针织", ["羊绒", "冬季"], "100%山羊绒，亲肤不扎",
     [("KNIT-CASH-OAT-M", "燕麦 M", 129900), ("KNIT-CASH-GREY-M", "灰色 M", 129900)]),
    ("SCARF-CASH", "羊绒围巾", "配饰", ["羊绒", "冬季", "礼物"], "双面可戴，礼盒包装",
     [("SCARF-CASH-GREY", "灰色", 59900), ("SCARF-CASH-RED", "酒红", 59900)]),
    ("GLOVE-LEATHER", "小羊皮手套", "配饰", ["皮革", "冬季", "礼物"], "触屏指尖，羊绒内衬",
     [("GLOVE-LEATHER-BLK-S", "黑色 S", 39900), ("GLOVE-LEATHER-BLK-M", "黑色 M", 39900)]),
    ("SHIRT-OXFORD", "牛津纺衬衫", "上衣", ["纯棉", "通勤", "四季"], "免烫处理，修身版型",
     [("SHIRT-OXFORD-WHT-M", "白色 M", 39900), ("SHIRT-OXFORD-BLU-M", "浅蓝 M", 39900)]),
    ("TEE-COTTON", "Supima 纯棉T恤", "上衣", ["纯棉", "夏季", "cotton"], "Supima cotton, 220g",
     [("TEE-COTTON-WHT-M", "白色 M", 14900), ("TEE-COTTON-BLK-M", "黑色 M", 14900)]),
    ("PANTS-WOOL", "羊毛西装裤", "裤装", ["羊毛", "通勤"], "九分直筒，可机洗",
     [("PANTS-WOOL-GREY-30", "灰色 30", 79900), ("PANTS-WOOL-GREY-32", "灰色 32", 79900)]),
    ("CREAM-REPAIR", "修护面霜", "护肤", ["保湿", "修护", "冬季"], "神经酰胺修护屏障，50ml",
     [("CREAM-REPAIR-50", "50ml", 68000)]),
    ("SERUM-VC", "维C精华", "护肤", ["提亮", "精华"], "15%原型维C，30ml",
     [("SERUM-VC-30", "30ml", 52000)]),
    ("CARE-KIT", "羊绒护理套装", "护理", ["羊绒", "护理", "礼物"], "羊绒梳、洗护液与防虫香包",
     [("CARE-KIT-STD", "标准装", 19900)]),
]


# What goes with what in the demo catalog (搭配): the demo's order history is drawn from these.
DEMO_OUTFITS = [
    ["COAT-WOOL", "SCARF-CASH", "GLOVE-LEATHER", "PANTS-WOOL"],
    ["DOWN-LIGHT", "SCARF-CASH", "GLOVE-LEATHER"],
    ["KNIT-CASH", "PANTS-WOOL", "CARE-KIT"],
    ["SHIRT-OXFORD", "PANTS-WOOL", "KNIT-CASH"],
    ["TEE-COTTON", "SHIRT-OXFORD"],
    ["CREAM-REPAIR", "SERUM-VC"],
]
DEMO_HISTORY_MEMBERS = 400
DEMO_HISTORY_ORDERS = 3000


async def _seed_history(session: AsyncSession, stores: list) -> None:
    """A year of orders by members with tastes, drawn from the outfits (for KPIs and the AI guide)."""
    outfits = synthetic.Catalog()
    ids = {}
    for code, *_ in DEMO_PRODUCTS:
        product = (await session.execute(select(Product).where(Product.code == code))).scalar_one()
        sku = (await catalog.skus_by_product(session, [product.id]))[product.id][0]
        ids[code] = product.id
        outfits.products.append(product.id)
        outfits.sku_of[product.id], outfits.price_of[product.id] = sku.id, sku.price_fen
    outfits.outfits = [[ids[c] for c in outfit] for outfit in DEMO_OUTFITS]
    guides: dict[int, list[int]] = {}
    for guide_id, store_id in await session.execute(
        select(Staff.id, Staff.store_id).where(Staff.role == "GUIDE").order_by(Staff.id)
    ):
        if store_id is not None:
            guides.setdefault(store_id, []).append(guide_id)
    await synthetic.make_history(session, catalog=outfits, stores=[s.id for s in stores],
                                 members=DEMO_HISTORY_MEMBERS, orders=DEMO_HISTORY_ORDERS, rng=random.Random(2026),
                                 guides=guides)


async def _seed_catalog(session: AsyncSession, hq, stores: list) -> None:
    for p, (code, name, category, tags, desc, skus) in enumerate(DEMO_PRODUCTS):
        product = await catalog.upsert_product(
            session, actor=hq, code=code, name=name, description=desc, category=category, tags=tags,
            image_url=None, skus=[catalog.SkuSpec(c, t, price) for c, t, price in skus],
        )
        rows = await catalog.skus_by_product(session, [product.id])
        for k, sku in enumerate(rows[product.id]):
            await catalog.set_stock(session, actor=hq, sku_id=sku.id, store_id=None, quantity=200)
            for i, store in enumerate(stores):
                # Every store stocks every SKU, a few of each; some run low, like real shelves.
                await catalog.set_stock(session, actor=hq, sku_id=sku.id, store_id=store.id,
                                        quantity=(i * 3 + p * 5 + k * 7) % 9 + 1)


SEED_STEPS = 6

# One running campaign of each trigger, so a mini-program developer sees each work: (name,
# trigger, template, radius, delay). The templates are the demo app's subscribe-message ids.
DEMO_MARKETING = [
    ("冬季上新，会员先看", "BROADCAST", "demo-new-arrivals", None, None),
    ("路过门店，进店有礼", "STORE_NEARBY", "demo-store-nearby", 3000, None),
    ("看中的好物还在等你", "BROWSE_ABANDONED", "demo-browse-reminder", None, 60),
    ("购物车里的宝贝快没货了", "CART_ABANDONED", "demo-cart-reminder", None, 120),
    ("门店买过，线上复购有礼", "AFTER_STORE_PURCHASE", "demo-store-to-online", None, 1440),
    ("服务体验后的专属礼遇", "AFTER_APPOINTMENT", "demo-after-service", None, 180),
]


async def seed_demo(session: AsyncSession, advance: Advance = quiet) -> bool:
    """Create the demo brand; False when it already exists (seeding is run once). `advance` hears
    of each of its SEED_STEPS steps."""
    if (await session.execute(select(Staff.id).where(Staff.username == HQ_USERNAME))).first():
        return False
    hq = await staffing.hire(
        session, actor=None, username=HQ_USERNAME, password=DEMO_PASSWORD, name="总部管理员",
        role="HQ_ADMIN", store_id=None,
    )
    services = [
        await appointments.upsert_service_type(
            session, actor=hq, code=code, name=name, description=desc, duration_minutes=minutes
        )
        for code, name, desc, minutes in DEMO_SERVICES
    ]
    advance("services")
    created_stores = []
    for i, (code, name, city, address, lat, lng, week) in enumerate(DEMO_STORES):
        store = await stores.upsert_store(
            session, actor=hq, code=code, name=name, city=city, address=address,
            phone=f"021-6{i:03d}8800" if city == "上海" else None, lat=lat, lng=lng,
            coord_system="GCJ02", timezone="Asia/Shanghai", opening_hours=week,
            # Shanghai's stores ship online orders and deliver within 5 km (same-city).
            ships_online_orders=city == "上海", same_city_radius_m=5000 if city == "上海" else 0,
        )
        created_stores.append(store)
        slug = code.lower()
        await staffing.hire(
            session, actor=hq, username=f"{slug}-manager", password=DEMO_PASSWORD,
            name=f"{name}店长", role="STORE_MANAGER", store_id=store.id,
        )
        for n in (1, 2):
            await staffing.hire(
                session, actor=hq, username=f"{slug}-guide{n}", password=DEMO_PASSWORD,
                name=f"{name}导购{n}", role="GUIDE", store_id=store.id,
            )
        await create_join_code(
            session, actor=hq, store_id=store.id, guide_id=None, campaign=None, expires_at=None,
            max_uses=None,
        )
        for j, service in enumerate(services):
            if (i + j) % 3 == 2:
                continue  # not every store offers every service
            await appointments.configure_store_service(
                session, actor=hq, store_id=store.id, service_id=service.id, capacity=2 + j,
                slot_interval_minutes=30, min_notice_minutes=120, booking_window_days=30,
                cancel_cutoff_minutes=120, active=True,
            )
    advance("stores and staff")
    await _seed_catalog(session, hq, created_stores)
    advance("catalog and stock")
    await _seed_history(session, created_stores)
    advance("a year of orders")
    now = utcnow()
    winter = await loyalty.create_campaign(
        session, actor=hq, title="冬季满1000减100", discount_fen=10000, min_spend_fen=100000,
        valid_from=now, valid_until=now + dt.timedelta(days=90), total_quantity=1000, per_customer_limit=1,
    )
    advance("coupon campaign")
    await _seed_marketing(session, hq, winter.id, now)
    advance("marketing campaigns")
    log.info("demo brand seeded: %d stores, %d products", len(DEMO_STORES), len(DEMO_PRODUCTS))
    return True


async def _seed_marketing(session: AsyncSession, hq, offer_id: int, now: dt.datetime) -> None:
    for name, trigger, template, radius, delay in DEMO_MARKETING:
        await campaigns.create(
            session, actor=hq, name=name, trigger=CampaignTrigger(trigger), rule=audience.Rule(),
            offer_campaign_id=offer_id if trigger == "STORE_NEARBY" else None, template_id=template,
            starts_at=now, ends_at=now + dt.timedelta(days=60), control_share=0.1, radius_m=radius,
            delay_minutes=delay, now=now)


async def printable_codes(session: AsyncSession) -> list[tuple[str, str]]:
    """(store code, join code) of each demo store's store-wide QR, for printing."""
    from storelink.members.models import JoinCode
    from storelink.stores.models import Store

    rows = await session.execute(
        select(Store.code, JoinCode.code).join(JoinCode, JoinCode.store_id == Store.id)
        .where(JoinCode.kind == "STORE", JoinCode.active).order_by(Store.code)
    )
    return [(store, code) for store, code in rows]
