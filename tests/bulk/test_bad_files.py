"""Bad files: each problem is reported as FILE:LINE: column: reason, and nothing at all is loaded."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.bulk.conftest import MEMBERS, PRODUCTS, STAFF, STORES

TABLES = ("store", "staff", "product", "sku", "store_stock", "customer", "membership", "points_entry",
          "consent_record", "sales_order", "order_line")


async def _row_counts(sessionmaker) -> dict[str, int]:
    async with sessionmaker() as session:
        return {t: (await session.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}


@pytest.fixture
async def catalogued(load):
    for kind, body in (("stores", STORES), ("staff", STAFF), ("products", PRODUCTS)):
        assert (await load(kind, body)).problems == []
    return load


@pytest.mark.parametrize("kind, body, expected", [
    ("stores", "code,name,city\nX,店,上海\n",
     ["stores.csv:1: address: required column missing from the header",
      "stores.csv:1: lat: required column missing from the header",
      "stores.csv:1: lng: required column missing from the header"]),
    ("stock", "sku_code,store_code,quantity,colour\nA,,1\n",
     ["stock.csv:1: colour: unknown column; stock has sku_code, store_code, quantity and optionally nothing else"]),
    ("stock", "sku_code,store_code,quantity,quantity\nA,,1,1\n", ["stock.csv:1: quantity: column appears twice"]),
    ("members", "", ["members.csv:1: (header): the file is empty"]),
    ("stock", "\nA,,1\n", ["stock.csv:1: sku_code: required column missing from the header",
                            "stock.csv:1: store_code: required column missing from the header",
                            "stock.csv:1: quantity: required column missing from the header"]),
])
async def test_a_wrong_header_is_refused(load, sessionmaker, kind, body, expected):
    # given nothing loaded; when a file with a wrong header is imported
    before = await _row_counts(sessionmaker)
    report = await load(kind, body)
    # then the header's problems are reported on line 1 and nothing loads
    assert report.problems == expected and report.counts is None
    assert await _row_counts(sessionmaker) == before


async def test_every_bad_row_is_reported_and_nothing_loads(catalogued, sessionmaker):
    # given the stores, staff and catalog; and a members file with good and bad rows
    body = ("phone,joined_at,store_code,guide_username,points,marketing_consent,member_no\n"
            "13800138001,2024-03-01,SH01,sh01-guide,10,true,A1\n"          # good
            "12345,2024-03-01,SH01,,,,\n"                                   # 3: phone
            "+1 415 555 0100,2024-03-01,SH01,,,,\n"                         # 4: foreign phone
            "13800138005,2099-01-01,SH01,,,,\n"                             # 5: future
            "13800138006,yesterday,SH01,,-5,maybe,\n"                       # 6: date, points, consent
            "13800138001,2024-03-02,SH01,,,,\n"                             # 7: phone twice
            "13800138008,2024-03-02,XX99,,,,\n"                             # 8: unknown store
            "13800138009,2024-03-02,SH01,bj01-guide,,,\n"                   # 9: guide of another store
            "13800138010,2024-03-02,SH01,nobody,,,A1\n"                     # 10: unknown guide, member_no twice
            "13800138011,2024-03-02,SH01,,99999999999,,\n"                  # 11: huge points
            "13800138012,2024-03-02,SH01,,,,\"bad\x00no\"\n")              # 12: NUL
    before = await _row_counts(sessionmaker)
    report = await catalogued("members", body)
    # then each problem names its line and column, and nothing was written
    assert report.problems == [
        "members.csv:3: phone: not a mainland mobile number (11 digits starting with 13-19)",
        "members.csv:4: phone: not a mainland mobile number (11 digits starting with 13-19)",
        "members.csv:5: joined_at: in the future",
        "members.csv:6: joined_at: not a date (YYYY-MM-DD) or date and time (YYYY-MM-DD HH:MM[:SS][+08:00])",
        "members.csv:6: points: may not be negative",
        "members.csv:6: marketing_consent: true or false",
        "members.csv:11: points: larger than 100000000",
        "members.csv:12: member_no: contains a NUL or an invalid character",
    ]
    assert report.counts is None and await _row_counts(sessionmaker) == before
    # and once the single-row problems are fixed, the problems that need the whole file show
    fixed = "\n".join(line for i, line in enumerate(body.splitlines(), 1) if i not in (3, 4, 5, 6, 11, 12))
    report = await catalogued("members", fixed + "\n")
    assert report.problems == [
        "members.csv:3: phone: appears again (first on line 2)",
        "members.csv:4: store_code: unknown store code",
        "members.csv:5: guide_username: works at store BJ01, not SH01",
        "members.csv:6: guide_username: no guide with this username",
        "members.csv:6: member_no: appears again (first on line 2)",
    ]
    assert await _row_counts(sessionmaker) == before


async def test_orders_with_bad_lines_are_refused(catalogued, sessionmaker):
    # given members; and an orders file with bad lines
    assert (await catalogued("members", MEMBERS)).problems == []
    body = ("order_no,channel,phone,store_code,guide_username,paid_at,sku_code,quantity,unit_price_fen,receipt_no\n"
            "A1,STORE,13800138001,SH01,,2024-04-01 10:00,COAT1-M,-1,100,R1\n"          # 2: negative quantity
            "A2,STORE,13800138001,SH01,,2024-04-01 10:00,COAT1-M,1,-100,R2\n"          # 3: negative price
            "A3,STORE,,,,2024-04-01 10:00,COAT1-M,1,100,\n"                            # 4: store sale, no store
            "A4,POS,,SH01,,2024-04-01 10:00,COAT1-M,1,100,\n"                          # 5: channel
            "A5,ONLINE,,,,2024-04-01 10:00,COAT1-M,100000,100000,\n")                  # 6: line too large
    before = await _row_counts(sessionmaker)
    # when it is loaded
    report = await catalogued("orders", body)
    # then each bad line is named
    assert report.problems == [
        "orders.csv:2: quantity: must be at least 1",
        "orders.csv:3: unit_price_fen: may not be negative",
        "orders.csv:4: store_code: a store sale needs its store",
        "orders.csv:5: channel: ONLINE or STORE",
        "orders.csv:6: quantity: the line comes to more than an order can hold",
    ]
    body = ("order_no,channel,phone,store_code,guide_username,paid_at,sku_code,quantity,unit_price_fen,receipt_no\n"
            "B1,STORE,13800138001,SH01,,2024-04-01 10:00,COAT1-M,1,100,R1\n"
            "B1,STORE,13800138001,SH01,,2024-04-01 10:00,COAT1-M,1,100,R1\n"        # 3: same SKU twice
            "B1,STORE,13800138002,SH01,,2024-04-02 10:00,SCARF-1,1,100,R1\n"        # 4: disagrees
            "B2,STORE,13700000000,SH01,,2024-04-01 10:00,NOPE,1,100,R1\n"           # 5: no member, SKU, receipt
            "B3,ONLINE,,,ghost,2024-04-01 10:00,SCARF-1,1,100,\n")                  # 6: unknown staff
    report = await catalogued("orders", body)
    assert report.problems == [
        "orders.csv:3: sku_code: appears again (first on line 2)",
        "orders.csv:4: order_no: differs from line 2 of the same order in phone, paid_at",
        "orders.csv:5: phone: no member has this phone (import members first)",
        "orders.csv:5: sku_code: unknown SKU code",
        "orders.csv:5: receipt_no: also the receipt of another order on line 2",
        "orders.csv:6: guide_username: no staff member with this username",
    ]
    assert await _row_counts(sessionmaker) == before


async def test_a_gbk_file_is_refused_with_a_hint_and_loads_with_encoding_gbk(load, sessionmaker):
    # given a stores file saved as GBK, as Chinese POS systems export
    # when it is imported as UTF-8, then it is refused with the hint; with --encoding gbk it loads
    refused = await load("stores", STORES, file_encoding="gbk")
    assert refused.problems == [
        "stores.csv: the file is not UTF-8; it looks like GBK (common in exports from Chinese POS systems): "
        "convert it to UTF-8 or pass --encoding gbk"]
    assert (await _row_counts(sessionmaker))["store"] == 0
    loaded = await load("stores", STORES, file_encoding="gbk", encoding="gbk")
    assert loaded.problems == [] and loaded.counts.inserted == 2
    async with sessionmaker() as session:
        names = (await session.execute(text("SELECT name FROM store ORDER BY code"))).scalars().all()
    assert names == ["三里屯店", "南京西路店"]


async def test_a_bom_is_accepted_and_a_dry_run_loads_nothing(load, sessionmaker):
    # given a stores file with a BOM (as Excel saves UTF-8); when it is checked with a dry run
    checked = await load("stores", STORES, file_encoding="utf-8-sig", dry_run=True)
    # then it passes and nothing is loaded; a real run then loads it
    assert checked.problems == [] and checked.counts is None and checked.rows == 2
    assert (await _row_counts(sessionmaker))["store"] == 0
    assert (await load("stores", STORES, file_encoding="utf-8-sig")).counts.inserted == 2


async def test_a_dry_run_of_a_bad_file_reports_the_problems(load):
    # when
    report = await load("stock", "sku_code,store_code,quantity\nNOPE,,1\n", dry_run=True)
    # then
    assert report.problems == ["stock.csv:2: sku_code: unknown SKU code"]


async def test_products_of_one_code_must_agree_and_skus_cannot_change_product(catalogued, sessionmaker):
    # given
    body = ("product_code,name,category,sku_code,sku_title,price_fen\n"
            "HAT,帽子,配饰,HAT-1,均码,100\n"
            "HAT,草帽,配饰,HAT-2,均码,0\n"          # 3: name differs, price zero
            "HAT,帽子,配饰,SCARF-1,均码,100\n")     # 4: SKU of another product
    # when
    report = await catalogued("products", body)
    # then
    assert report.problems == ["products.csv:3: price_fen: must be at least 1"]
    # when
    report = await catalogued("products", body.replace(",0\n", ",100\n"))
    # then
    assert report.problems == [
        "products.csv:3: product_code: differs from line 2 of the same product in name",
        "products.csv:4: sku_code: belongs to another product (SCARF)",
    ]


async def test_staff_rows_need_a_store_except_hq(load):
    # when / then
    assert (await load("stores", STORES)).problems == []
    # when
    report = await load("staff", "username,name,role,store_code,password\n"
                                 "a-guide,甲,GUIDE,,password-1\n"
                                 "an-admin,乙,HQ_ADMIN,SH01,password-2\n"
                                 "x,丙,GUIDE,SH01,short\n"
                                 "c-guide,丁,CASHIER,ZZ01,\n")
    # then
    assert report.problems == [
        "staff.csv:2: store_code: guides and store managers need a store",
        "staff.csv:3: store_code: HQ admins belong to no store",
        "staff.csv:4: username: 3-32 lowercase letters, digits, '.', '_' or '-'",
        "staff.csv:4: password: 8-128 characters",
        "staff.csv:5: role: GUIDE or STORE_MANAGER or HQ_ADMIN",
    ]
