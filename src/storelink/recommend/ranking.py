"""The recommender's ranking rule, in memory and free of I/O: serving, the weight tuning in
training, the offline evaluation and the tests all rank through these functions.

A candidate's evidence has five parts, each 0..1 (the last four scaled among one member's
candidates):
- rebuy: a product the member bought before: the share of their orders that had it, drawn
  towards the product's learned repeat rate, and (as much as the learned `timing` says) most
  when their interval for it has passed (so a durable just bought is not offered again, a
  consumable comes back when it runs out);
- collaborative: EASE (a linear item-to-item model learned in closed form) over what the member
  bought, has in the cart and is looking at;
- complement ("搭配"): co-purchase cosine in a basket, from the cart, the product looked at and
  what the member bought (recent purchases weigh more);
- like: substitutes (same category and shared tags or name words) of what is looked at;
- popular: baskets with the product, recent ones weighing more, here (a store) or brand-wide.
The weights of the parts, how much others' evidence counts for a product the member already
bought ("seen"), and whether to cap products of one category in the top ten, are chosen on a
validation period by training (`recommend.learn.tune`), not by hand.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from storelink import i18n

TOP = 10
HISTORY_ITEMS = 100  # a member's most recently bought products used as evidence
HISTORY_HALF_LIFE_DAYS = 60.0
PRIOR_GAPS = 2.0
PRIOR_ORDERS = 2.0

PARTS = ("rebuy", "collaborative", "complement", "like", "popular")
REBUY, COLLABORATIVE, COMPLEMENT, LIKE, POPULAR = range(len(PARTS))


@dataclass(frozen=True)
class ProductInfo:
    id: int
    name: str
    category: str
    tags: tuple[str, ...]
    words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Repeat:
    """How a product is bought again: the share of its buyers who did, and the typical days
    between two purchases by one member."""
    rate: float
    interval_days: float


@dataclass(frozen=True)
class Weights:
    rebuy: float = 1.0
    collaborative: float = 1.0
    complement: float = 1.0
    like: float = 0.1
    popular: float = 0.25
    seen: float = 0.5  # others' evidence for a product the member bought already, times this
    timing: float = 0.5  # how much a rebuy waits for its interval (0: not at all, 1: wholly)
    per_category: int | None = None  # at most this many of one category in the top ten

    def vector(self) -> np.ndarray:
        return np.array([getattr(self, name) for name in PARTS])

    def as_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, found: dict | None) -> Weights:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (found or {}).items() if k in known})


Neighbours = dict[int, list[tuple[int, float]]]


@dataclass
class Model:
    complements: Neighbours = field(default_factory=dict)
    collaborative: Neighbours = field(default_factory=dict)
    substitutes: Neighbours = field(default_factory=dict)
    # store id -> [(product, score)] best first; key 0 is the brand as a whole (every channel)
    popular: dict[int, list[tuple[int, float]]] = field(default_factory=dict)
    repeat: dict[int, Repeat] = field(default_factory=dict)
    weights: Weights = field(default_factory=Weights)


@dataclass(frozen=True)
class Bought:
    """A product in a member's history: in how many of their orders, how long ago last and first."""
    product_id: int
    times: int
    days_ago: float
    first_days_ago: float | None = None
    orders: int | None = None  # the member's orders in all (None: unknown, taken as `times` + 1)

    def share(self, rate: float) -> float:
        """How likely the member's next order has it: the share of their orders that had it,
        drawn towards the product's repeat rate (worth PRIOR_ORDERS orders)."""
        orders = self.orders if self.orders is not None else self.times + 1
        return (self.times + PRIOR_ORDERS * rate) / (orders + PRIOR_ORDERS)

    def interval(self, usual: float) -> float:
        """The member's own days between purchases, drawn towards the product's `usual` (worth
        two gaps of their own)."""
        if self.times < 2 or self.first_days_ago is None:
            return usual
        gaps = self.times - 1
        own = (self.first_days_ago - self.days_ago) / gaps
        return (own * gaps + usual * PRIOR_GAPS) / (gaps + PRIOR_GAPS)


@dataclass
class Candidate:
    product_id: int
    parts: list[float] = field(default_factory=lambda: [0.0] * len(PARTS))
    reasons: list[tuple[int, float, str, int | None]] = field(default_factory=list)  # (part, value, kind, seed)
    score: float = 0.0


def recent(bought: Sequence[Bought]) -> list[Bought]:
    """The history a ranking uses: the most recently bought products (as serving selects them)."""
    return sorted(bought, key=lambda b: (b.days_ago, b.product_id))[:HISTORY_ITEMS]


def due(days_ago: float, interval_days: float) -> float:
    """How due a repeat purchase is: rising to 1 when the interval has passed, then fading
    slowly (a member who lapsed may still come back for it)."""
    x = days_ago / max(interval_days, 1.0)
    return min(x, 1.0) / (1.0 + 0.25 * max(0.0, x - 1.0))


def evidence(model: Model, *, popular_here: Sequence[tuple[int, float]], bought: Sequence[Bought],
             cart: Sequence[int] = (), viewed: int | None = None) -> dict[int, Candidate]:
    """Every candidate's raw evidence. `model` needs neighbours and repeats only for the seeds
    (serving loads just those); the cart and the viewed product are never candidates."""
    found: dict[int, Candidate] = {}
    exclude = set(cart) | ({viewed} if viewed is not None else set())

    def add(product: int, part: int, value: float, kind: str, seed: int | None) -> None:
        if product in exclude or value <= 0:
            return
        c = found.get(product)
        if c is None:
            c = found[product] = Candidate(product)
        c.parts[part] += value
        c.reasons.append((part, value, kind, seed))

    seeds = [(p, 1.0, "cart") for p in cart]
    if viewed is not None:
        seeds.append((viewed, 1.5, "viewed"))
    for b in bought:
        seeds.append((b.product_id, math.exp(-b.days_ago * math.log(2) / HISTORY_HALF_LIFE_DAYS), "bought"))
        repeat = model.repeat.get(b.product_id)
        if repeat is not None:
            timing = 1.0 - model.weights.timing + model.weights.timing * due(b.days_ago, b.interval(repeat.interval_days))
            add(b.product_id, REBUY, b.share(repeat.rate) * timing, "again", b.product_id)
    had: set[int] = set()
    for seed, weight, why in seeds:
        for other, s in model.complements.get(seed, ()):
            add(other, COMPLEMENT, weight * s, "with_" + why, seed)
        if seed not in had:  # EASE scores what the member has, each once (its input is 0/1)
            had.add(seed)
            for other, s in model.collaborative.get(seed, ()):
                add(other, COLLABORATIVE, s, "also", seed)
        if why == "viewed":  # substitutes are alternatives to what is being looked at
            for other, s in model.substitutes.get(seed, ()):
                add(other, LIKE, s, "like", seed)
    top = popular_here[0][1] if popular_here else 1.0
    for product, s in popular_here:
        add(product, POPULAR, s / top, "popular", None)
    return found


def combine(found: dict[int, Candidate], weights: Weights, bought: set[int]) -> None:
    """Set each candidate's score: its parts scaled among these candidates, weighted."""
    if not found:
        return
    candidates = list(found.values())
    parts = np.array([c.parts for c in candidates])
    seen = np.array([c.product_id in bought for c in candidates])
    for c, s in zip(candidates, scores(parts, seen, weights)):
        c.score = float(s)


def scores(parts: np.ndarray, seen: np.ndarray, weights: Weights) -> np.ndarray:
    """The rule itself, on a matrix of candidates x PARTS."""
    return weigh(scale(parts), seen, weights)


def scale(parts: np.ndarray) -> np.ndarray:
    """Rebuy is a likelihood already (0..1) and stays as it is, so a product not yet due stays
    low even when it is the only one the member bought; the other parts are scaled to 0..1 among
    one member's candidates."""
    top = parts.max(axis=0)
    top[REBUY] = 1.0
    return parts / np.where(top > 0, top, 1.0)


def weigh(scaled: np.ndarray, seen: np.ndarray, weights: Weights) -> np.ndarray:
    """Scaled parts (... x PARTS: one member's candidates, or training's validation members at
    once) to scores: the weighted parts, others' evidence times `seen` for what was bought."""
    w = weights.vector()
    others = scaled[..., 1:] @ w[1:]
    return w[REBUY] * scaled[..., REBUY] + others * np.where(seen, weights.seen, 1.0)


def order(found: dict[int, Candidate]) -> list[Candidate]:
    return sorted(found.values(), key=lambda c: (-c.score, c.product_id))


def shortlist(found: dict[int, Candidate], n: int) -> list[int]:
    """The n best candidates by evidence alone: the only ones whose catalog facts are needed."""
    return [c.product_id for c in order(found)[:n]]


def choose(found: dict[int, Candidate], *, info: dict[int, ProductInfo], available: set[int] | None,
           per_category: int | None = None, first: int = TOP) -> list[Candidate]:
    """The best `first` of what is known and on offer (`available`; None: no limit), with at
    most `per_category` of one category in the top ten when the weights ask for it."""
    ordered = [c for c in order(found) if c.product_id in info and (available is None or c.product_id in available)]
    if not per_category:
        return ordered[:first]
    picked: list[Candidate] = []
    count: Counter[str] = Counter()
    for c in ordered:
        if len(picked) == min(TOP, first):
            break
        category = info[c.product_id].category
        if count[category] < per_category:
            count[category] += 1
            picked.append(c)
    chosen = {c.product_id for c in picked}
    # After the top ten (or when too few categories fill it), the rest by score.
    return picked + [c for c in ordered if c.product_id not in chosen][: first - len(picked)]


def rank(model: Model, *, popular_here: Sequence[tuple[int, float]], bought: Sequence[Bought],
         info: dict[int, ProductInfo], available: set[int] | None = None, cart: Sequence[int] = (),
         viewed: int | None = None, first: int = TOP) -> list[Candidate]:
    """Evidence, score and choice in one go (tests and tools with every product's facts at hand)."""
    bought = recent(bought)
    found = evidence(model, popular_here=popular_here, bought=bought, cart=cart, viewed=viewed)
    combine(found, model.weights, {b.product_id for b in bought})
    return choose(found, info=info, available=available, per_category=model.weights.per_category, first=first)


def reasons_for(candidate: Candidate, weights: Weights, info: dict[int, ProductInfo], store_name: str | None,
                bought: dict[int, Bought] | None = None, lang: str = i18n.DEFAULT) -> list[str]:
    """Short true reasons, strongest first (as weighted in its score), naming their cause."""
    w = weights.vector()
    texts: list[str] = []
    for part, value, kind, seed in sorted(candidate.reasons, key=lambda r: -r[1] * w[r[0]]):
        if value * w[part] <= 0:
            continue
        name = info[seed].name if seed is not None and seed in info else None
        if kind == "again":
            days = bought[seed].days_ago if bought and seed in bought else None
            text = (i18n.say("buy again: you last bought it {days} days ago", {"days": max(int(days), 1)}, lang)
                    if days is not None else i18n.say("you bought this before", lang=lang))
        elif kind == "with_cart":
            text = i18n.say("often bought with {name} in your cart", {"name": name}, lang)
        elif kind == "with_bought":
            text = i18n.say("often bought with {name}, which you bought", {"name": name}, lang)
        elif kind == "with_viewed":
            text = i18n.say("often bought with {name}", {"name": name}, lang)
        elif kind == "also":
            text = i18n.say("members who bought {name} also bought this", {"name": name}, lang)
        elif kind == "like":
            text = i18n.say("similar to {name}", {"name": name}, lang)
        elif store_name:
            text = i18n.say("popular at {store}", {"store": store_name}, lang)
        else:  # brand-wide: a store-only brand has no "online" to speak of
            text = i18n.say("popular now", lang=lang)
        if name is None and kind not in ("popular", "again"):
            continue
        if text not in texts:
            texts.append(text)
        if len(texts) == 2:
            break
    return texts
