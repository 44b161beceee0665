"""mypy: a table model types as SQLAlchemy types it at run time.

SQLModel declares `id: int | None`, so mypy takes `Order.id` for an `int | None` and rejects
`Order.id.in_(...)`, `select(Order.id)` and `.where(Order.id == 1)` (a bool, not a SQL
expression). SQLAlchemy's own models say `Mapped[int]` and need no help; SQLModel ships no mypy
plugin, and wrapping every column in `sqlmodel.col()` would put noise in every query. For a
`table=True` class this plugin says what SQLAlchemy's typing would:
- `Model.field` (on the class) is `InstrumentedAttribute[<declared type>]`; `row.field` keeps the
  declared type;
- a primary key declared `id: int | None = Field(default=None, primary_key=True)` is an `int`,
  on the class and on a row: None only until the row is first flushed, which is how SQLAlchemy
  types such a key (`Mapped[int]`) too;
- `Model.__table__` is the `Table`.

Used only by mypy (pyproject `[tool.mypy] plugins`); nothing imports it at run time.
"""
from collections.abc import Callable
from functools import partial

from mypy.nodes import AssignmentStmt, CallExpr, ClassDef, MypyFile, NameExpr, TypeInfo, Var
from mypy.plugin import AttributeContext, ClassDefContext, Plugin
from mypy.plugins.common import add_attribute_to_class
from mypy.types import Instance, Type
from mypy.types_utils import remove_optional

_COLUMN = "sqlalchemy.orm.attributes.InstrumentedAttribute"
_TABLE = "sqlalchemy.sql.schema.Table"
_SQLMODEL = "sqlmodel.main.SQLModel"
_NOTE = "storelink.table"


def _is_true(expression: object) -> bool:
    return isinstance(expression, NameExpr) and expression.fullname == "builtins.True"


def _table(info: TypeInfo) -> dict[str, list[str]] | None:
    """What `_add_table` noted of a `table=True` class (or of the table it extends); kept in the
    class's metadata because mypy's cache keeps no class bodies."""
    for base in info.mro:
        if _NOTE in base.metadata:
            return base.metadata[_NOTE]
    return None


def _primary_key(defn: ClassDef) -> list[str]:
    names = []
    for statement in defn.defs.body:
        if isinstance(statement, AssignmentStmt) and isinstance(statement.rvalue, CallExpr):
            call = statement.rvalue
            if any(key == "primary_key" and _is_true(value) for key, value in zip(call.arg_names, call.args)):
                names += [target.name for target in statement.lvalues if isinstance(target, NameExpr)]
    return names


class SQLModelTables(Plugin):
    def get_additional_deps(self, file: MypyFile) -> list[tuple[int, str, int]]:
        # Any module may read a column or a table: their types must be loaded wherever it does.
        return [(10, _COLUMN.rpartition(".")[0], -1), (10, _TABLE.rpartition(".")[0], -1)]

    def _field(self, fullname: str) -> tuple[dict[str, list[str]], str] | None:
        """The table's note and the field's name, when `fullname` names a field of a table."""
        owner, _, name = fullname.rpartition(".")
        if name.startswith("_") or name == "model_config":
            return None
        found = self.lookup_fully_qualified(owner)
        if found is None or not isinstance(found.node, TypeInfo):
            return None
        table, attribute = _table(found.node), found.node.names.get(name)
        if table is None or attribute is None or not isinstance(attribute.node, Var) or attribute.node.is_classvar:
            return None
        return table, name

    def get_class_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        field = self._field(fullname)
        column = self.lookup_fully_qualified(_COLUMN)
        if field is None or column is None or not isinstance(column.node, TypeInfo):
            return None
        return partial(_as_column, column.node, field[1] in field[0]["primary_key"])

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        field = self._field(fullname)
        if field is None or field[1] not in field[0]["primary_key"]:
            return None
        return _stored_key

    def get_base_class_hook(self, fullname: str) -> Callable[[ClassDefContext], None] | None:
        return _add_table if fullname == _SQLMODEL else None


def _as_column(column: TypeInfo, key: bool, ctx: AttributeContext) -> Type:
    if ctx.is_lvalue:
        return ctx.default_attr_type
    return Instance(column, [remove_optional(ctx.default_attr_type) if key else ctx.default_attr_type])


def _stored_key(ctx: AttributeContext) -> Type:
    return ctx.default_attr_type if ctx.is_lvalue else remove_optional(ctx.default_attr_type)


def _add_table(ctx: ClassDefContext) -> None:
    if not _is_true(ctx.cls.keywords.get("table")):
        return
    table = ctx.api.named_type_or_none(_TABLE)
    if table is None:
        ctx.api.defer()
        return
    add_attribute_to_class(ctx.api, ctx.cls, "__table__", table, is_classvar=True)
    ctx.cls.info.metadata[_NOTE] = {"primary_key": _primary_key(ctx.cls)}


def plugin(version: str) -> type[Plugin]:
    return SQLModelTables
