"""Bulk import tests: CSV files in a temporary directory, run against the test database."""
from __future__ import annotations

import pytest

from storelink.bulk import runner
from storelink.bulk.kinds import KINDS


@pytest.fixture
def load(tmp_path, sessionmaker, settings):
    """load(kind, csv_text) -> Report; writes the text (UTF-8 unless encoding=) and imports it."""
    async def run(kind: str, body: str, *, name: str | None = None, file_encoding: str = "utf-8", **options):
        path = tmp_path / (name or f"{kind}.csv")
        path.write_bytes(body.encode(file_encoding))
        return await runner.run_import(sessionmaker, KINDS[kind], path, settings=settings, **options)
    return run


STORES = """code,name,city,address,lat,lng,coord_system,timezone,phone,hours,ships_online_orders
SH01,南京西路店,上海,南京西路1号,31.2304,121.4737,GCJ02,Asia/Shanghai,021-12345678,1-5 10:00-22:00; 6-7 10:00-23:00,true
BJ01,三里屯店,北京,三里屯路19号,39.9042,116.4074,WGS84,,,,false
"""
STAFF = """username,name,role,store_code,password
sh01-guide,小王,GUIDE,SH01,guide-password-1
sh01-manager,李店长,STORE_MANAGER,SH01,manager-pass-1
bj01-guide,小赵,GUIDE,BJ01,
hq-ops,总部运营,HQ_ADMIN,,hq-password-123
"""
PRODUCTS = """product_code,name,category,sku_code,sku_title,price_fen,description,tags,image_url
COAT1,羊绒大衣,外套,COAT1-M,M 驼色,199900,双面羊绒,通勤|羊绒,https://img.example.cn/coat1.jpg
COAT1,羊绒大衣,外套,COAT1-L,L 驼色,199900,双面羊绒,通勤|羊绒,https://img.example.cn/coat1.jpg
SCARF,羊毛围巾,配饰,SCARF-1,均码,39900,,,
"""
STOCK = """sku_code,store_code,quantity
COAT1-M,,50
COAT1-M,SH01,3
SCARF-1,BJ01,10
"""
MEMBERS = """phone,joined_at,store_code,guide_username,points,marketing_consent,member_no
13800138001,2024-03-01 10:00,SH01,sh01-guide,1200,true,OLD-0001
13800138002,2024-05-20,BJ01,,0,false,OLD-0002
+86 139 0013 8003,2025-01-02T09:30:00+08:00,,bj01-guide,,,
"""
ORDERS = """order_no,channel,phone,store_code,guide_username,paid_at,sku_code,quantity,unit_price_fen,receipt_no
P-1001,STORE,13800138001,SH01,sh01-guide,2024-04-01 15:00,COAT1-M,1,199900,R-1
P-1001,STORE,13800138001,SH01,sh01-guide,2024-04-01 15:00,SCARF-1,2,39900,R-1
W-2001,ONLINE,13800138001,,sh01-guide,2024-06-01 20:00,SCARF-1,1,39900,
P-1002,STORE,,BJ01,,2024-06-02 11:00,SCARF-1,1,35900,R-2
"""


@pytest.fixture
async def brand(load):
    """The example brand of the README, loaded kind by kind."""
    for kind, body in (("stores", STORES), ("staff", STAFF), ("products", PRODUCTS), ("stock", STOCK),
                       ("members", MEMBERS), ("orders", ORDERS)):
        report = await load(kind, body)
        assert report.problems == [], (kind, report.problems)
    return load
