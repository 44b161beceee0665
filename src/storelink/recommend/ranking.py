"""The recommender's model and ranking rule, in memory and free of I/O, so that training,
serving, the offline evaluation and the tests all use the same code.

Training reads baskets (the products of each paid order) and member histories:
- complements ("搭配"): item-to-item co-purchase, cosine of co-occurrence counts, within a basket
  and, at half weight, across one member's orders;
- substitutes: content similarity of products (same category, shared tags, shared name bigrams);
- popularity: recency-weighted units per store and online, the fallback for new members and
  products nobody has bought with anything yet.
Ranking scores candidates from seeds (the cart, what the member bought, the product looked at),
never the seeds themselves, at most two per category in the top ten.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from storelink import i18n

NEIGHBOURS = 30  # kept per product and kind
MAX_BASKET = 25  # a bigger basket is a bulk buy: its pairs say little and cost a lot
MAX_BUCKET = 60  # products compared per shared word, the most popular first (keeps training linear)
PER_CATEGORY_IN_TOP = 2
TOP = 10

# How much each kind of evidence counts when ranking.
W_COMPLEMENT, W_SUBSTITUTE, W_POPULAR, W_TASTE = 1.0, 0.35, 0.15, 0.25


@dataclass(frozen=True)
class ProductInfo:
    id: int
    name: str
    category: str
    tags: tuple[str, ...]
    grams: frozenset[str] = frozenset()


@dataclass
class Model:
    complements: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    substitutes: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    # store id -> [(product, score)] best first; key 0 is online (and the brand as a whole)
    popular: dict[int, list[tuple[int, float]]] = field(default_factory=dict)


def _top(scores: dict[int, float], n: int = NEIGHBOURS) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def complements(baskets: Iterable[Sequence[int]], histories: Iterable[Sequence[int]]) -> dict[int, list[tuple[int, float]]]:
    pair: Counter = Counter()
    single: Counter = Counter()
    for weight, groups in ((1.0, baskets), (0.5, histories)):
        for group in groups:
            items = sorted(set(group))[:MAX_BASKET]
            for p in items:
                single[p] += weight
            for i, a in enumerate(items):
                for b in items[i + 1:]:
                    pair[(a, b)] += weight
    found: dict[int, dict[int, float]] = defaultdict(dict)
    for (a, b), count in pair.items():
        if count < 1:  # seen together only across histories once: too weak
            continue
        score = count / math.sqrt(single[a] * single[b])
        found[a][b] = score
        found[b][a] = score
    return {p: _top(s) for p, s in found.items()}


def substitutes(products: Sequence[ProductInfo], popularity: dict[int, float]) -> dict[int, list[tuple[int, float]]]:
    """Products of one category compared through shared tags and name bigrams (Jaccard)."""
    buckets: dict[tuple[str, str], list[ProductInfo]] = defaultdict(list)
    for p in products:
        for word in (*p.tags, *p.grams):
            buckets[(p.category, word)].append(p)
        buckets[(p.category, "")].append(p)
    pairs: set[tuple[int, int]] = set()
    for members in buckets.values():
        members = sorted(members, key=lambda p: (-popularity.get(p.id, 0.0), p.id))[:MAX_BUCKET]
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                pairs.add((a.id, b.id) if a.id < b.id else (b.id, a.id))
    by_id = {p.id: p for p in products}
    found: dict[int, dict[int, float]] = defaultdict(dict)
    for a, b in pairs:
        pa, pb = by_id[a], by_id[b]
        words_a, words_b = set(pa.tags) | pa.grams, set(pb.tags) | pb.grams
        union = len(words_a | words_b)
        score = 0.2 + 0.8 * (len(words_a & words_b) / union if union else 0.0)  # same category: 0.2 at least
        found[a][b] = score
        found[b][a] = score
    return {p: _top(s) for p, s in found.items()}


def popular(sales: Iterable[tuple[int, int, float]]) -> dict[int, list[tuple[int, float]]]:
    """sales: (store id or 0 for online, product, weighted units); the brand-wide list is under
    0 as well, since online is where a member with no store shops."""
    found: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for store, product, units in sales:
        found[store][product] += units
        if store != 0:
            found[0][product] += units * 0.5
    return {s: _top(scores, 200) for s, scores in found.items()}


@dataclass(frozen=True)
class Seed:
    product_id: int
    weight: float
    why: str  # "cart", "bought" or "viewed"


@dataclass
class Candidate:
    product_id: int
    score: float = 0.0
    reasons: list[tuple[float, str, int | None]] = field(default_factory=list)  # (weight, kind, seed)


def score(*, model_complements: dict[int, list[tuple[int, float]]], model_substitutes: dict[int, list[tuple[int, float]]],
          popular_here: Sequence[tuple[int, float]], seeds: Sequence[Seed], exclude: set[int]) -> dict[int, Candidate]:
    """Every candidate's evidence, before catalog facts (stock, category, tastes) are looked up."""
    found: dict[int, Candidate] = {}

    def add(product: int, value: float, kind: str, seed: int | None) -> None:
        if product in exclude:
            return
        c = found.setdefault(product, Candidate(product))
        c.score += value
        c.reasons.append((value, kind, seed))

    for seed in seeds:
        for other, s in model_complements.get(seed.product_id, []):
            add(other, W_COMPLEMENT * seed.weight * s, "with_" + seed.why, seed.product_id)
        # Substitutes matter most for what is being looked at; for the cart and history they
        # are alternatives, weaker.
        factor = 1.0 if seed.why == "viewed" else 0.4
        for other, s in model_substitutes.get(seed.product_id, []):
            add(other, W_SUBSTITUTE * factor * seed.weight * s, "like", seed.product_id)
    top_pop = popular_here[0][1] if popular_here else 1.0
    for product, s in popular_here:
        add(product, W_POPULAR * s / top_pop, "popular", None)
    return found


def shortlist(found: dict[int, Candidate], n: int) -> list[int]:
    """The n best candidates by evidence alone: the only ones whose catalog facts are needed."""
    return [c.product_id for c in sorted(found.values(), key=lambda c: (-c.score, c.product_id))[:n]]


def choose(found: dict[int, Candidate], *, tastes: dict[str, float], info: dict[int, ProductInfo],
           available: set[int] | None, first: int = TOP) -> list[Candidate]:
    """Keep what is on offer (`available`; None: no limit), boost the member's tastes, and pick
    the best with at most two of one category in the top ten."""
    kept = [c for c in found.values() if c.product_id in info and (available is None or c.product_id in available)]
    if tastes:
        for c in kept:
            p = info[c.product_id]
            taste = max([tastes.get(p.category, 0.0), *(tastes.get(t, 0.0) for t in p.tags)])
            if taste:
                c.score += W_TASTE * taste * min(c.score, 1.0)
    ordered = sorted(kept, key=lambda c: (-c.score, c.product_id))
    picked, per_category = [], Counter()
    for c in ordered:  # the top ten: at most two of one category
        if len(picked) == min(TOP, first):
            break
        category = info[c.product_id].category
        if per_category[category] < PER_CATEGORY_IN_TOP:
            per_category[category] += 1
            picked.append(c)
    chosen = {c.product_id for c in picked}
    # After the top ten (or when too few categories fill it), the rest by score.
    picked += [c for c in ordered if c.product_id not in chosen][: first - len(picked)]
    return picked


def rank(*, model_complements: dict[int, list[tuple[int, float]]], model_substitutes: dict[int, list[tuple[int, float]]],
         popular_here: Sequence[tuple[int, float]], seeds: Sequence[Seed], exclude: set[int],
         tastes: dict[str, float], info: dict[int, ProductInfo], available: set[int] | None,
         first: int = TOP) -> list[Candidate]:
    """Score and choose in one go (the offline evaluation, with every product's facts at hand)."""
    found = score(model_complements=model_complements, model_substitutes=model_substitutes,
                  popular_here=popular_here, seeds=seeds, exclude=exclude)
    return choose(found, tastes=tastes, info=info, available=available, first=first)


def reasons_for(candidate: Candidate, info: dict[int, ProductInfo], store_name: str | None,
                lang: str = i18n.DEFAULT) -> list[str]:
    """Short true reasons, strongest first, naming the product that caused each, in `lang`."""
    texts, seen = [], set()
    for _, kind, seed in sorted(candidate.reasons, key=lambda r: -r[0]):
        name = info[seed].name if seed is not None and seed in info else None
        if kind == "with_cart":
            text = i18n.say("often bought with {name} in your cart", {"name": name}, lang)
        elif kind == "with_bought":
            text = i18n.say("often bought with {name}, which you bought", {"name": name}, lang)
        elif kind == "with_viewed":
            text = i18n.say("often bought with {name}", {"name": name}, lang)
        elif kind == "like":
            text = i18n.say("similar to {name}", {"name": name}, lang)
        elif store_name:
            text = i18n.say("popular at {store}", {"store": store_name}, lang)
        else:
            text = i18n.say("popular online", lang=lang)
        if text not in seen:
            seen.add(text)
            texts.append(text)
        if len(texts) == 2:
            break
    return texts
