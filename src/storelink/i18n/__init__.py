"""What customers and associates read, in Simplified Chinese first and English on request.

Code says a message once, in English, as a template with named values ("At most {n} items");
`zh.MESSAGES` holds its Chinese. `say` picks the language; tests/test_i18n.py fails when a
message written in the code has no Chinese. Values that are status codes ("CHECKED_IN") are
said as words of the language (`zh.WORDS`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storelink.i18n import zh

LANGUAGES = ("zh", "en")
DEFAULT = "zh"


def negotiate(accept_language: str | None) -> str:
    """"zh" or "en" from an Accept-Language header: the one with the higher weight, Chinese when
    the header names neither, ties or nothing."""
    best: dict[str, float] = {}
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().partition("-")[0]
        if lang not in LANGUAGES:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        best[lang] = max(best.get(lang, 0.0), weight if 0.0 <= weight <= 1.0 else 0.0)
    if best.get("en", 0.0) > best.get("zh", 0.0):
        return "en"
    return DEFAULT


def word(value: Any, lang: str) -> str:
    """A value inside a message: a status code becomes a word ("CHECKED_IN" -> 已签到 / checked in)."""
    if isinstance(value, str) and value in zh.WORDS:
        return zh.WORDS[value] if lang == "zh" else value.lower().replace("_", " ")
    return str(value)


def say(template: str, values: Mapping[str, Any] | None = None, lang: str = DEFAULT) -> str:
    """The message in `lang`; English when no Chinese was written (tests keep that from happening)."""
    if lang == "zh":
        template = zh.MESSAGES.get(template, template)
    if not values:
        return template
    return template.format(**{name: word(value, lang) for name, value in values.items()})
