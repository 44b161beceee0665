"""Chinese first: every message the code writes has Chinese, and the caller's language is chosen
from Accept-Language (Chinese unless English is preferred)."""
import ast
import pathlib
import re
import string

import pytest

import storelink.app  # noqa: F401  (loads every domain, so every DomainError subclass is known)
from storelink import i18n
from storelink.appointments.models import AppointmentStatus
from storelink.errors import Code, DomainError
from storelink.i18n import zh
from storelink.orders.models import OrderStatus

SRC = pathlib.Path(__file__).resolve().parents[1] / "src" / "storelink"
# Latin words a Chinese message may keep: formats and names a person types as they are.
LATIN_ALLOWED = {"SKU", "HH", "MM", "YYYY", "DD", "https", "http", "IANA", "Asia", "Shanghai"}
CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def _error_classes() -> set[str]:
    found, todo = set(), [DomainError]
    while todo:
        cls = todo.pop()
        found.add(cls.__name__)
        todo.extend(cls.__subclasses__())
    return found


def _called(node: ast.Call) -> str | None:
    return node.func.id if isinstance(node.func, ast.Name) else (
        node.func.attr if isinstance(node.func, ast.Attribute) else None)


def _literals(node: ast.expr) -> list[str] | None:
    """The literal templates an argument can be: a string, or either side of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        sides = (_literals(node.body), _literals(node.orelse))
        return None if None in sides else sides[0] + sides[1]
    return None


def templates_in_code() -> tuple[dict[str, str], list[str]]:
    """({template: where}, [places that pass something other than a literal])."""
    classes, found, unsaid = _error_classes() | {"DocumentRefused"}, {}, []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            where = f"{path.relative_to(SRC)}:{node.lineno}"
            name = _called(node)
            args = []
            if name in classes and node.args:
                args.append(node.args[0])
            if name == "say" and node.args:
                args.append(node.args[0])
            args += [kw.value for kw in node.keywords if name == "count_attempt" and kw.arg == "message"]
            for arg in args:
                texts = _literals(arg)
                # Passed on, checked where written: count_attempt's literal `message` (to RateLimited),
                # and a DomainError's template (to say).
                passed_on = (isinstance(arg, ast.Name) and arg.id == "message" and path.name == "throttle.py") or (
                    isinstance(arg, ast.Attribute) and arg.attr == "template")
                if texts is None and not passed_on:
                    unsaid.append(where)
                for text in texts or []:
                    found.setdefault(text, where)
    return found, unsaid


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_in_the_code_is_a_literal_template_with_chinese():
    # when
    found, unsaid = templates_in_code()
    # then
    assert unsaid == [], "messages must be literal templates with {named} values, not f-strings"
    missing = {text: where for text, where in found.items() if text not in zh.MESSAGES}
    assert missing == {}, "add these to storelink/i18n/zh.py"
    assert sorted(set(zh.MESSAGES) - set(found)) == [], "no longer said anywhere: remove from zh.py"
    assert len(found) > 150  # the scan sees the whole code base


def test_both_languages_name_the_same_values():
    # given
    differ = {en: cn for en, cn in zh.MESSAGES.items() if _names(en) != _names(cn)}
    # when / then
    assert differ == {}


def test_chinese_messages_have_no_english_and_english_no_chinese():
    # given
    english_words = {cn: words for cn in zh.MESSAGES.values()
                     if (words := set(re.findall(r"[A-Za-z]+", re.sub(r"\{\w+\}", "", cn))) - LATIN_ALLOWED)}
    # when / then
    assert english_words == {}
    assert [en for en in zh.MESSAGES if CJK.search(en)] == []
    assert all(CJK.search(cn) for cn in [*zh.MESSAGES.values(), *zh.CODES.values(), *zh.WORDS.values()])


def test_every_error_code_and_status_has_chinese():
    # when / then
    assert set(zh.CODES) == {c.value for c in Code} | {"INTERNAL"}
    assert {s.value for s in OrderStatus} | {s.value for s in AppointmentStatus} <= set(zh.WORDS)


def test_values_are_said_in_the_language_too():
    # when / then
    assert i18n.say("This order is {status}, not ready for pickup", {"status": "CANCELLED"}, "zh") == "该订单已取消，尚不能提货"
    assert i18n.say("This order is {status}, not ready for pickup", {"status": "CANCELLED"}, "en") == \
        "This order is cancelled, not ready for pickup"
    assert i18n.say("At most {n} lines", {"n": 50}, "zh") == "最多 50 行商品"
    # a value is never read as a template
    assert i18n.say("{title} is no longer sold; remove it from your cart", {"title": "{n} 大衣"}, "zh") == \
        "{n} 大衣 已下架，请从购物车中删除"


@pytest.mark.parametrize("header, lang", [
    (None, "zh"), ("", "zh"), ("zh-CN", "zh"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en", "en"),
    ("en-US,en;q=0.9", "en"), ("en-US,zh-CN;q=0.5", "en"), ("zh;q=0.4,en;q=0.6", "en"), ("fr-FR", "zh"),
    ("fr-FR,en;q=0.5", "en"), ("en;q=0", "zh"), ("en;q=abc", "zh"), ("en;q=7", "zh"), ("*", "zh"), (",;;=,", "zh"),
    ("zh-TW", "zh"), ("EN-gb", "en"),
])
def test_the_language_comes_from_accept_language(header, lang):
    # when / then
    assert i18n.negotiate(header) == lang
