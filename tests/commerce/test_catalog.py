"""The catalog, search, stock and nearby-stores-with-stock."""
from tests.builders import SET_STOCK, UPSERT_PRODUCT, codes_of

PRODUCTS = """
query($q: String, $c: String, $first: Int!, $after: String) {
  products(query: $q, category: $c, first: $first, after: $after) {
    edges { cursor node { name category skus { code } } } pageInfo { hasNextPage endCursor hasPreviousPage startCursor } } }
"""
STOCK_AT = """query($id: ID!, $s1: ID!, $s2: ID!) { node(id: $id) { ... on Sku {
  onlineStock a: stockAt(storeId: $s1) b: stockAt(storeId: $s2) product { name } } } }"""
NEARBY = """query($sku: ID) { nearbyStores(lat: 31.23, lng: 121.48, radiusMeters: 20000, inStockSkuId: $sku) {
  store { code } } }"""


def names(data) -> list[str]:
    return [e["node"]["name"] for e in data["products"]["edges"]]


async def test_search_finds_chinese_english_and_tags(api, mall):
    # when
    wool = await api.data(PRODUCTS, {"q": "羊毛", "first": 10})
    single_char = await api.data(PRODUCTS, {"q": "绒", "first": 10})
    english = await api.data(PRODUCTS, {"q": "COTTON", "first": 10})
    by_tag = await api.data(PRODUCTS, {"q": "冬季", "first": 10})
    no_hit = await api.data(PRODUCTS, {"q": "羊毛T恤", "first": 10})
    category = await api.data(PRODUCTS, {"c": "配饰", "first": 10})
    # then
    assert names(wool) == ["羊毛大衣"]
    assert names(single_char) == ["羊绒围巾"]
    assert names(english) == ["Cotton T-shirt 纯棉T恤"]
    assert names(by_tag) == ["羊毛大衣", "羊绒围巾"]
    assert names(no_hit) == []
    assert names(category) == ["羊绒围巾"]


async def test_search_treats_like_wildcards_literally(api, mall):
    # when
    data = await api.data(PRODUCTS, {"q": "%", "first": 10})
    # then
    assert names(data) == []


async def test_products_page_by_cursor(api, mall):
    # when
    first = await api.data(PRODUCTS, {"first": 2})
    rest = await api.data(PRODUCTS, {"first": 2, "after": first["products"]["pageInfo"]["endCursor"]})
    # then
    assert names(first) == ["羊毛大衣", "羊绒围巾"] and first["products"]["pageInfo"]["hasNextPage"] is True
    assert names(rest) == ["Cotton T-shirt 纯棉T恤"] and rest["products"]["pageInfo"]["hasNextPage"] is False
    first_info, rest_info = first["products"]["pageInfo"], rest["products"]["pageInfo"]
    assert first_info["hasPreviousPage"] is False and rest_info["hasPreviousPage"] is True
    assert first_info["startCursor"] == first["products"]["edges"][0]["cursor"]
    assert rest_info["startCursor"] == rest_info["endCursor"] == rest["products"]["edges"][0]["cursor"]


async def test_bad_page_arguments_are_input_errors(api, mall):
    # given
    too_many = await api.post(PRODUCTS, {"first": 101})
    # when
    bad_cursor = await api.post(PRODUCTS, {"first": 5, "after": "garbage!"})
    # then
    assert too_many["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert bad_cursor["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


async def test_products_list_runs_constant_statements(api, mall, count_statements):
    # given
    query = """query($first: Int!) { products(first: $first) { edges { node { name skus { code priceFen
      product { name } } } } } }"""
    with count_statements() as one:
        await api.data(query, {"first": 1})
    # when
    with count_statements() as three:
        data = await api.data(query, {"first": 3})
    # then
    assert len(data["products"]["edges"]) == 3
    assert three.count == one.count


async def test_upsert_updates_by_code_and_retires_missing_skus(api, mall):
    # when: the coat is re-sent with L dropped, M repriced and XL added
    payload = (await api.data(UPSERT_PRODUCT, {"input": {
        "code": "COAT", "name": "羊毛大衣 2026", "category": "外套",
        "skus": [{"code": "COAT-M", "title": "驼色 M", "priceFen": 119900},
                 {"code": "COAT-XL", "title": "驼色 XL", "priceFen": 129900}]}}, mall.hq))["upsertProduct"]
    # then
    product = payload["product"]
    assert product["id"] == mall.products["COAT"] and product["name"] == "羊毛大衣 2026"
    assert [(s["code"], s["priceFen"]) for s in product["skus"]] == [("COAT-M", 119900), ("COAT-XL", 129900)]
    assert product["skus"][0]["onlineStock"] == 50  # stock survives an update


async def test_upsert_product_refuses_bad_input(api, mall, world):
    # given
    _, guide = mall.guides["guide-a"]
    base = {"code": "NEW", "name": "新品", "category": "外套", "skus": [{"code": "NEW-1", "title": "M", "priceFen": 100}]}
    cases = [
        ({**base, "skus": []}, "INVALID_INPUT", ["input", "skus"]),
        ({**base, "code": "bad code!"}, "INVALID_INPUT", ["input", "code"]),
        ({**base, "name": " "}, "INVALID_INPUT", ["input", "name"]),
        ({**base, "skus": [{"code": "NEW-1", "title": "M", "priceFen": 0}]}, "INVALID_INPUT",
         ["input", "skus", "0", "priceFen"]),
        ({**base, "skus": [{"code": "A", "title": "M", "priceFen": 1}, {"code": "A", "title": "L", "priceFen": 1}]},
         "INVALID_INPUT", ["input", "skus", "1", "code"]),
        ({**base, "skus": [{"code": "SCARF-1", "title": "M", "priceFen": 1}]}, "CONFLICT",
         ["input", "skus", "0", "code"]),
        ({**base, "imageUrl": "javascript:alert(1)"}, "INVALID_INPUT", ["input", "imageUrl"]),
    ]
    # when / then
    for given, code, field in cases:
        payload = (await api.data(UPSERT_PRODUCT, {"input": given}, mall.hq))["upsertProduct"]
        assert (codes_of(payload), payload["userErrors"][0]["field"]) == ([code], field), given
    # when
    forbidden = (await api.data(UPSERT_PRODUCT, {"input": base}, guide))["upsertProduct"]
    # then
    assert codes_of(forbidden) == ["FORBIDDEN"]
    # when
    # nothing was written by any of them
    data = await api.data(PRODUCTS, {"q": "新品", "first": 5})
    # then
    assert names(data) == []


async def test_stock_per_store_and_online(api, mall):
    # given
    sku = mall.skus["SCARF-1"]
    await mall.stock(sku, mall.stores["S2"], 0)
    # when
    data = await api.data(STOCK_AT, {"id": sku, "s1": mall.stores["S1"], "s2": mall.stores["S2"]})
    # then
    assert data["node"] == {"onlineStock": 50, "a": 10, "b": 0, "product": {"name": "羊绒围巾"}}


async def test_set_stock_scope(api, mall):
    # given
    sku = mall.skus["SCARF-1"]
    _, guide = mall.guides["guide-a"]
    own = await api.data(SET_STOCK, {"input": {"skuId": sku, "storeId": mall.stores["S1"], "quantity": 3}},
                         mall.managers["S1"])
    other = await api.data(SET_STOCK, {"input": {"skuId": sku, "storeId": mall.stores["S2"], "quantity": 3}},
                           mall.managers["S1"])
    online = await api.data(SET_STOCK, {"input": {"skuId": sku, "storeId": None, "quantity": 3}}, mall.managers["S1"])
    by_guide = await api.data(SET_STOCK, {"input": {"skuId": sku, "storeId": mall.stores["S1"], "quantity": 3}}, guide)
    # when
    negative = await api.data(SET_STOCK, {"input": {"skuId": sku, "storeId": mall.stores["S1"], "quantity": -1}},
                              mall.hq)
    # then
    assert codes_of(own["setStock"]) == []
    assert codes_of(other["setStock"]) == ["FORBIDDEN"]
    assert codes_of(online["setStock"]) == ["FORBIDDEN"]
    assert codes_of(by_guide["setStock"]) == ["FORBIDDEN"]
    assert codes_of(negative["setStock"]) == ["INVALID_INPUT"]


async def test_nearby_stores_with_the_sku_in_stock(api, mall):
    # given: S1 sells out of the scarf
    await mall.stock(mall.skus["SCARF-1"], mall.stores["S1"], 0)
    # when
    scarf = await api.data(NEARBY, {"sku": mall.skus["SCARF-1"]})
    coat = await api.data(NEARBY, {"sku": mall.skus["COAT-M"]})
    unknown = await api.data(NEARBY, {"sku": "U2t1Ojk5OTk5"})  # Sku:99999
    # then
    assert [n["store"]["code"] for n in scarf["nearbyStores"]] == ["S2"]
    assert sorted(n["store"]["code"] for n in coat["nearbyStores"]) == ["S1", "S2"]
    assert unknown["nearbyStores"] == []
