"""Product search that works for Chinese without a PostgreSQL extension.

Chinese has no spaces to split words on, so the text is indexed by its character bigrams (and
single characters, for one-character queries): a query's grams must all be in a product's grams
(a GIN index on the array answers that), and the exact substring match then confirms it.
"""
from __future__ import annotations

import unicodedata


def normalise(text: str) -> str:
    # NFKC folds full-width letters and digits (ＡＢＣ１) into their ordinary forms.
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def search_text(name: str, description: str | None, tags: list[str]) -> str:
    return normalise(" ".join([name, description or "", *tags]))


def grams(text: str) -> list[str]:
    """Every character and every pair of neighbouring characters (spaces excluded)."""
    found: set[str] = set()
    for word in text.split(" "):
        found.update(word)
        found.update(word[i:i + 2] for i in range(len(word) - 1))
    return sorted(found)


def query_grams(query: str) -> list[str]:
    """The fewest grams that still pin the query down: its bigrams, or the single character."""
    found: set[str] = set()
    for word in query.split(" "):
        if len(word) == 1:
            found.add(word)
        found.update(word[i:i + 2] for i in range(len(word) - 1))
    return sorted(found)
