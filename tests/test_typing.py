"""mypy with the project's settings (pyproject [tool.mypy]): the table models type as SQLAlchemy
types them at run time (storelink/mypy_plugin.py), and mypy still catches mistakes through them.
CI runs mypy over the whole of src; these tests pin what the plugin decides."""
from __future__ import annotations

import re
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[1]


def _mypy(tmp_path: Path, source: str) -> list[str]:
    """mypy's messages about `source`, checked with the project's configuration."""
    path = tmp_path / "sample.py"
    path.write_text(source)
    out, _, _ = api.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(ROOT / ".mypy_cache"),
                         "--no-error-summary", str(path)])
    return [re.sub(r"^.*sample\.py:(\d+): ", r"\1: ", line) for line in out.splitlines() if "sample.py" in line]


def test_columns_on_the_class_are_sql_and_fields_on_a_row_are_values(tmp_path):
    # given code that reads a table's columns on the class and a row's fields
    source = (
        "from sqlalchemy import select\n"
        "from storelink.stores.models import Store\n"
        "from storelink.orders.models import Order\n"
        "def f(store: Store, order: Order) -> None:\n"
        "    reveal_type(Store.id)\n"
        "    reveal_type(Order.customer_id)\n"
        "    reveal_type(store.id)\n"
        "    reveal_type(order.customer_id)\n"
        "    reveal_type(Store.__table__)\n"
        "    select(Store.id).where(Store.id.in_([1, 2]), Store.name == 'x').order_by(Store.id.desc())\n"
    )
    # when mypy checks it
    messages = _mypy(tmp_path, source)
    # then a column is an InstrumentedAttribute of its type (a primary key is never None), a row's
    # fields keep their declared types, the table is a Table, and the query type-checks
    assert messages == [
        '5: note: Revealed type is "sqlalchemy.orm.attributes.InstrumentedAttribute[int]"',
        '6: note: Revealed type is "sqlalchemy.orm.attributes.InstrumentedAttribute[int | None]"',
        '7: note: Revealed type is "int"',
        '8: note: Revealed type is "int | None"',
        '9: note: Revealed type is "sqlalchemy.sql.schema.Table[Any]"',
    ]


def test_mistakes_through_the_models_are_still_errors(tmp_path):
    # given code with a misspelt column, arithmetic on text, and a nullable field used as a value
    source = (
        "from storelink.stores.models import Store\n"
        "from storelink.orders.models import Order\n"
        "def f(store: Store, order: Order) -> int:\n"
        "    Store.no_such_column\n"
        "    store.name + 1\n"
        "    return order.customer_id\n"
    )
    # when mypy checks it
    messages = _mypy(tmp_path, source)
    # then each is an error on its line
    assert [m.split(":")[0] for m in messages if ": error:" in m] == ["4", "5", "6"], messages
