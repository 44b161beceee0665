"""Fitting the AI guide from paid orders, in memory (numpy and scipy), free of I/O.

`build` fits the parts of recommend.ranking.Model and chooses their weights on a validation
period: it fits on the older 80% of the orders, ranks each member's next basket after that
with the very rule serving uses, keeps the weights that rank best, then refits on everything.
"""
from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse

from storelink.recommend import ranking as reco

NEIGHBOURS = 30  # kept per product and kind
MAX_BASKET = 25  # a bigger basket's pairs weigh less: each product's pairs add up to MAX_BASKET - 1
HISTORY_PAIRS = 50  # a member's most recent products whose pairs count (across their orders)
MAX_BUCKET = 60  # products compared per shared word, the most popular first (keeps training linear)
MIN_SIMILAR = 0.25  # Jaccard of tags and name words for "similar to"
EASE_ITEMS = 4000  # EASE over the most bought products: a dense inverse, memory n^2 and time n^3
EASE_L2 = 0.5  # EASE's ridge: this times the mean buyers per product
POPULAR_HALF_LIFE_DAYS = 30.0
POPULAR_KEPT = 200
REPEAT_PRIOR = 5.0  # a product's repeat rate starts as its category's, worth this many buyers
DEFAULT_INTERVAL_DAYS = 30.0
VALIDATION_SHARE = 0.2
VALIDATION_MEMBERS = 3000
MIN_VALIDATION_MEMBERS = 30
# The weights tried, one part at a time, three rounds (coordinate ascent); rebuy stays 1, the scale.
_SCALE = (0.0, 0.015, 0.03, 0.06, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0)
GRID = {
    "collaborative": _SCALE,
    "complement": _SCALE,
    "popular": _SCALE,
    "seen": (0.0, 0.25, 0.5, 1.0),
    "timing": (0.0, 0.25, 0.5, 0.75, 1.0),
}
CAPS = (3, 2)  # a category cap is kept only when it costs nothing on validation


@dataclass
class Purchase:
    order_id: int
    customer_id: int | None
    store_key: int  # the store whose shelf it came from, 0 for the online warehouse
    paid_at: dt.datetime
    products: dict[int, int]  # product -> units


def name_words(name: str, tags: Sequence[str]) -> frozenset[str]:
    """Words of a name for similarity: Latin words whole (PAPER, PARASOL: never shared letter
    pairs), Chinese as character pairs, digits (article numbers) left out."""
    words = {w for w in re.findall(r"[a-z][a-z'-]+", name.lower())}
    for run in re.findall(r"[\u4e00-\u9fff]+", name):
        words |= {run[i:i + 2] for i in range(len(run) - 1)} if len(run) > 1 else {run}
    return frozenset(words | set(tags))


def _days(a: dt.datetime, b: dt.datetime) -> float:
    return max((a - b).total_seconds() / 86400, 0.0)


class Orders:
    """Purchases as arrays, one entry per order line (order, member, product column, day), and
    as sparse matrices over a product index."""

    def __init__(self, purchases: Sequence[Purchase]):
        self.ids = np.array(sorted({p for x in purchases for p in x.products}), dtype=np.int64)
        members = sorted({x.customer_id for x in purchases if x.customer_id is not None})
        self.members = np.array(members, dtype=np.int64)
        member_row: dict[int | None, int] = {m: i for i, m in enumerate(members)}
        # per order
        self.day = np.array([x.paid_at.timestamp() / 86400 for x in purchases])
        self.member = np.array([member_row.get(x.customer_id, -1) for x in purchases], dtype=np.int64)
        self.store = np.array([x.store_key for x in purchases], dtype=np.int64)
        # per line
        sizes = np.array([len(x.products) for x in purchases], dtype=np.int64)
        self.line_order = np.repeat(np.arange(len(purchases)), sizes)
        products = np.fromiter((p for x in purchases for p in x.products), dtype=np.int64, count=int(sizes.sum()))
        self.line_col = np.searchsorted(self.ids, products)
        n = len(self.ids)
        ones = np.ones(len(self.line_col))
        self.baskets = sparse.csr_matrix((ones, (self.line_order, self.line_col)), shape=(len(purchases), n))
        owned = self.member >= 0
        belongs = sparse.csr_matrix((np.ones(int(owned.sum())), (self.member[owned], np.flatnonzero(owned))),
                                    shape=(len(members), len(purchases)))
        self.histories = (belongs @ self.baskets).tocsr()  # member x product: orders with it

    def member_lines(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(member row, product column, day) of every line of an order with a member, sorted by
        member, product and day."""
        m = self.member[self.line_order]
        keep = m >= 0
        m, c, d = m[keep], self.line_col[keep], self.day[self.line_order[keep]]
        o = np.lexsort((d, c, m))
        return m[o], c[o], d[o]


def _rows_scaled(m: sparse.csr_matrix, weights: np.ndarray) -> sparse.csr_matrix:
    return (sparse.diags(weights) @ m).tocsr()


def _size_weights(m: sparse.csr_matrix) -> np.ndarray:
    n = np.diff(m.indptr)
    return np.sqrt(np.minimum(1.0, (MAX_BASKET - 1) / np.maximum(n - 1, 1)))


def cosine(counts: sparse.spmatrix, min_count: float = 0.0) -> sparse.csr_matrix:
    """Co-occurrence counts (the diagonal: each product's own) to cosine similarity, the diagonal
    and the pairs seen together fewer than `min_count` times dropped."""
    counts = counts.tocsr()
    single = counts.diagonal()
    counts.setdiag(0)
    counts.data[counts.data < min_count] = 0
    counts.eliminate_zeros()
    scale = sparse.diags(1 / np.sqrt(np.maximum(single, 1e-9)))
    return (scale @ counts @ scale).tocsr()


def top_per_row(m: sparse.csr_matrix, ids: np.ndarray, k: int = NEIGHBOURS) -> reco.Neighbours:
    """Each row's k largest positive values, rows and columns as product ids (through `ids`)."""
    found: reco.Neighbours = {}
    for r in range(m.shape[0]):
        start, end = m.indptr[r], m.indptr[r + 1]
        values, cols = m.data[start:end], m.indices[start:end]
        keep = values > 0
        values, cols = values[keep], cols[keep]
        if not len(values):
            continue
        if len(values) > k:
            part = np.argpartition(-values, k)[:k]
            values, cols = values[part], cols[part]
        pairs = sorted(zip(values.tolist(), ids[cols].tolist()), key=lambda vc: (-vc[0], vc[1]))
        found[int(ids[r])] = [(c, round(v, 6)) for v, c in pairs]
    return found


def complements(orders: Orders) -> reco.Neighbours:
    """Co-purchase cosine: within a basket, and at half weight across one member's orders (their
    HISTORY_PAIRS most recent products). Every product of a big basket counts; its pairs weigh
    less (a bulk buy says little about what goes together)."""
    baskets = (orders.baskets > 0).astype(np.float64)
    recent = _recent_histories(orders)
    weighted = [_rows_scaled(baskets, _size_weights(baskets)),
                _rows_scaled(recent, _size_weights(recent) * math.sqrt(0.5))]
    counts = sum((w.T @ w for w in weighted), sparse.csr_matrix((len(orders.ids), len(orders.ids))))
    # seen together once across histories, or in one bulk buy: too weak
    return top_per_row(cosine(counts, min_count=1), orders.ids)


def _recent_histories(orders: Orders) -> sparse.csr_matrix:
    """member x product, 1 for each member's HISTORY_PAIRS most recently bought products."""
    m, c, d = orders.member_lines()
    if not len(m):
        return sparse.csr_matrix(orders.histories.shape)
    last = np.concatenate([(m[1:] != m[:-1]) | (c[1:] != c[:-1]), [True]])  # each pair's latest line
    m, c, d = m[last], c[last], d[last]
    o = np.lexsort((-d, m))  # per member, the newest first
    m, c = m[o], c[o]
    start = np.concatenate([[True], m[1:] != m[:-1]])
    first_of_member = np.maximum.accumulate(np.where(start, np.arange(len(m)), 0))
    keep = np.arange(len(m)) - first_of_member < HISTORY_PAIRS
    return sparse.csr_matrix((np.ones(int(keep.sum())), (m[keep], c[keep])), shape=orders.histories.shape)


def ease(orders: Orders) -> tuple[np.ndarray, np.ndarray]:
    """EASE (Steck, 2019) over the EASE_ITEMS most bought products: B = I - P / diag(P) with
    P = (X'X + lambda I)^-1 over members' 0/1 histories. Returns (product ids, B); B[j, i] is how
    much having j says about i."""
    buyers = np.asarray((orders.histories > 0).sum(axis=0)).ravel()
    top = np.argsort(-buyers, kind="stable")[:EASE_ITEMS]
    top = np.sort(top[buyers[top] > 0])
    if len(top) < 2:
        return orders.ids[top], np.zeros((len(top), len(top)))
    x = (orders.histories[:, top] > 0).astype(np.float64)
    gram = (x.T @ x).toarray()
    gram[np.diag_indices_from(gram)] += max(1.0, EASE_L2 * float(gram.diagonal().mean()))
    p = np.linalg.inv(gram)
    b = p / -np.diag(p)
    np.fill_diagonal(b, 0.0)
    return orders.ids[top], b


def collaborative(orders: Orders) -> reco.Neighbours:
    ids, b = ease(orders)
    return top_per_row(sparse.csr_matrix(b), ids)


def substitutes(products: Sequence[reco.ProductInfo], popularity: dict[int, float]) -> reco.Neighbours:
    """Products of one category sharing tags or name words (Jaccard at least MIN_SIMILAR)."""
    buckets: dict[tuple[str, str], list[reco.ProductInfo]] = defaultdict(list)
    for p in products:
        for word in p.words:
            buckets[(p.category, word)].append(p)
    pairs: set[tuple[int, int]] = set()
    for members in buckets.values():
        members = sorted(members, key=lambda p: (-popularity.get(p.id, 0.0), p.id))[:MAX_BUCKET]
        for i, first in enumerate(members):
            for second in members[i + 1:]:
                pairs.add((first.id, second.id) if first.id < second.id else (second.id, first.id))
    by_id = {p.id: p for p in products}
    found: dict[int, dict[int, float]] = defaultdict(dict)
    for a, b in pairs:
        wa, wb = by_id[a].words, by_id[b].words
        score = len(wa & wb) / len(wa | wb)
        if score >= MIN_SIMILAR:
            found[a][b] = found[b][a] = round(score, 6)
    return {p: sorted(s.items(), key=lambda kv: (-kv[1], kv[0]))[:NEIGHBOURS] for p, s in found.items()}


def popular(orders: Orders, now: dt.datetime) -> dict[int, list[tuple[int, float]]]:
    """Baskets with each product (never units: one bulk order is one basket), halving every
    POPULAR_HALF_LIFE_DAYS, per store and brand-wide (key 0: every channel)."""
    age = np.maximum(now.timestamp() / 86400 - orders.day, 0.0)
    decay = np.exp(-age * math.log(2) / POPULAR_HALF_LIFE_DAYS)
    baskets = (orders.baskets > 0).astype(np.float64).tocsc()
    found = {}
    for key in [0, *sorted(set(orders.store.tolist()) - {0})]:
        weights = decay if key == 0 else decay * (orders.store == key)
        scores = baskets.T @ weights
        best = np.argsort(-scores, kind="stable")[:POPULAR_KEPT]
        found[key] = [(int(orders.ids[i]), round(float(scores[i]), 6)) for i in best if scores[i] > 0]
    return found


def repeats(orders: Orders, info: dict[int, reco.ProductInfo]) -> dict[int, reco.Repeat]:
    """Per product: the share of its buyers who bought it again (drawn towards its category's
    share when it has few buyers) and the median days between one member's purchases."""
    m, p, d = orders.member_lines()
    if not len(m):
        return {}
    same = (m[1:] == m[:-1]) & (p[1:] == p[:-1])
    first = np.concatenate([[True], ~same])
    times = np.bincount(np.cumsum(first) - 1)  # lines per (member, product)
    pair_product = p[first]
    n = len(orders.ids)
    buyers = np.bincount(pair_product, minlength=n)
    again = np.bincount(pair_product[times > 1], minlength=n)
    gap_product, gaps = p[1:][same], (d[1:] - d[:-1])[same]
    o = np.argsort(gap_product, kind="stable")
    gap_product, gaps = gap_product[o], gaps[o]
    bounds = np.searchsorted(gap_product, np.arange(n + 1))
    category = [info[int(pid)].category if int(pid) in info else "" for pid in orders.ids]
    cat_buyers: dict[str, int] = defaultdict(int)
    cat_again: dict[str, int] = defaultdict(int)
    cat_gaps: dict[str, list[np.ndarray]] = defaultdict(list)
    for col in np.flatnonzero(buyers).tolist():
        cat_buyers[category[col]] += int(buyers[col])
        cat_again[category[col]] += int(again[col])
        cat_gaps[category[col]].append(gaps[bounds[col]:bounds[col + 1]])
    cat_interval = {c: float(np.median(np.concatenate(g))) for c, g in cat_gaps.items() if sum(map(len, g))}
    overall = float(np.median(gaps)) if len(gaps) else DEFAULT_INTERVAL_DAYS
    found = {}
    for col in np.flatnonzero(buyers).tolist():
        c = category[col]
        rate = (again[col] + REPEAT_PRIOR * cat_again[c] / cat_buyers[c]) / (buyers[col] + REPEAT_PRIOR)
        own = gaps[bounds[col]:bounds[col + 1]]
        interval = float(np.median(own)) if len(own) >= 3 else cat_interval.get(c, overall)
        if rate > 0:
            found[int(orders.ids[col])] = reco.Repeat(round(float(rate), 6), round(max(interval, 1.0), 3))
    return found


def fit(purchases: Sequence[Purchase], info: dict[int, reco.ProductInfo], now: dt.datetime,
        weights: reco.Weights | None = None, substitutes_too: bool = True) -> reco.Model:
    """Every part of the model (substitutes only with `substitutes_too`: they serve the product
    page, which validation does not rank)."""
    if not purchases:
        return reco.Model(weights=weights or reco.Weights())
    orders = Orders(purchases)
    popularity = popular(orders, now)
    return reco.Model(
        complements=complements(orders),
        collaborative=collaborative(orders),
        substitutes=substitutes(list(info.values()), dict(popularity.get(0, []))) if substitutes_too else {},
        popular=popularity,
        repeat=repeats(orders, info),
        weights=weights or reco.Weights(),
    )


def histories(purchases: Sequence[Purchase], now: dt.datetime) -> dict[int, list[reco.Bought]]:
    """Each member's products as of `now`: in how many orders, and days since the last."""
    seen: dict[int, dict[int, list]] = defaultdict(dict)
    orders: dict[int, int] = defaultdict(int)
    for x in purchases:
        if x.customer_id is None or x.paid_at >= now:
            continue
        orders[x.customer_id] += 1
        mine = seen[x.customer_id]
        for p in x.products:
            entry = mine.setdefault(p, [0, x.paid_at, x.paid_at])
            entry[0] += 1
            entry[1] = max(entry[1], x.paid_at)
            entry[2] = min(entry[2], x.paid_at)
    return {m: [reco.Bought(p, n, _days(now, last), _days(now, first), orders[m]) for p, (n, last, first) in found.items()]
            for m, found in seen.items()}


def next_baskets(purchases: Sequence[Purchase], members: set[int], after: dt.datetime) -> dict[int, set[int]]:
    """Each member's first basket at or after `after`, whole (what they buy again included)."""
    found: dict[int, set[int]] = {}
    for x in sorted(purchases, key=lambda x: (x.paid_at, x.order_id)):
        if x.paid_at >= after and x.customer_id in members and x.customer_id not in found:
            found[x.customer_id] = set(x.products)
    return found


def split(purchases: Sequence[Purchase], share: float) -> dt.datetime | None:
    """The time after which the newest `share` of the orders were paid."""
    ordered = sorted(purchases, key=lambda x: (x.paid_at, x.order_id))
    cut = int(len(ordered) * (1 - share))
    return ordered[cut].paid_at if 0 < cut < len(ordered) else None


def ndcg(ranked: Sequence[int], targets: set[int], k: int = reco.TOP) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, p in enumerate(ranked[:k]) if p in targets)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(targets), k)))
    return dcg / ideal if ideal else 0.0


@dataclass
class _Batch:
    """Validation members with about as many candidates, as padded arrays (members x candidates),
    so that trying a weighting is a few array operations."""
    ids: np.ndarray
    scaled: np.ndarray  # members x candidates x PARTS: rebuy as if timing were 0, the others scaled
    due: np.ndarray  # the rebuy part as if timing were 1
    seen: np.ndarray
    hit: np.ndarray  # candidate is in the next basket
    valid: np.ndarray  # not padding
    ideal: np.ndarray  # each member's NDCG denominator
    categories: list[list[str]]


def _batches(model: reco.Model, purchases: Sequence[Purchase], info: dict[int, reco.ProductInfo],
             cutoff: dt.datetime) -> list[_Batch]:
    """The validation members' candidates and evidence, as serving would find them at `cutoff`."""
    past = [x for x in purchases if x.paid_at < cutoff]
    history = histories(past, cutoff)
    targets = next_baskets(purchases, set(history), cutoff)
    members = sorted(targets)
    random.Random(7).shuffle(members)
    popular_here = model.popular.get(0, [])
    untimed = replace(model, weights=replace(model.weights, timing=0.0))
    cases = []
    for member in members[:VALIDATION_MEMBERS]:
        bought = reco.recent(history[member])
        found = [c for p, c in reco.evidence(untimed, popular_here=popular_here, bought=bought).items() if p in info]
        if found:
            cases.append((member, {b.product_id: b for b in bought}, found))
    by_width: dict[int, list] = defaultdict(list)
    for case in cases:  # widths rounded up to a power of two: little padding, few batches
        by_width[1 << (len(case[2]) - 1).bit_length()].append(case)
    batches = []
    for width, group in sorted(by_width.items()):
        n = len(group)
        batch = _Batch(np.full((n, width), -1, dtype=np.int64), np.zeros((n, width, len(reco.PARTS))),
                       np.zeros((n, width)), np.zeros((n, width), dtype=bool), np.zeros((n, width), dtype=bool),
                       np.zeros((n, width), dtype=bool), np.zeros(n), [])
        for row, (member, mine, found) in enumerate(group):
            k = len(found)
            batch.scaled[row, :k] = reco.scale(np.array([c.parts for c in found]))
            batch.due[row, :k] = [
                c.parts[reco.REBUY] * reco.due(mine[c.product_id].days_ago,
                                               mine[c.product_id].interval(model.repeat[c.product_id].interval_days))
                if c.parts[reco.REBUY] else 0.0 for c in found]
            batch.ids[row, :k] = [c.product_id for c in found]
            batch.seen[row, :k] = [c.product_id in mine for c in found]
            batch.hit[row, :k] = [c.product_id in targets[member] for c in found]
            batch.valid[row, :k] = True
            batch.ideal[row] = _DISCOUNT[:min(len(targets[member]), reco.TOP)].sum()
            batch.categories.append([info[c.product_id].category for c in found])
        batches.append(batch)
    return batches


_DISCOUNT = 1 / np.log2(np.arange(reco.TOP) + 2)


def _scores(batch: _Batch, weights: reco.Weights) -> np.ndarray:
    """ranking.weigh for every member of the batch at once, with the rebuy part as timed."""
    scaled = batch.scaled.copy()
    scaled[:, :, reco.REBUY] = (1 - weights.timing) * scaled[:, :, reco.REBUY] + weights.timing * batch.due
    return np.where(batch.valid, reco.weigh(scaled, batch.seen, weights), -np.inf)


def _objective(batches: Sequence[_Batch], weights: reco.Weights) -> float:
    """Mean hit rate@10 plus mean NDCG@10 over the validation members."""
    total, members = 0.0, 0
    for batch in batches:
        s = _scores(batch, weights)
        if weights.per_category:
            top = np.array([_capped(row_ids, row_s, categories, weights.per_category)
                            for row_ids, row_s, categories in zip(batch.ids, s, batch.categories)])
        else:
            k = min(reco.TOP, s.shape[1])
            top = np.argpartition(-s, k - 1, axis=1)[:, :k] if s.shape[1] > k else np.tile(np.arange(k), (len(s), 1))
            rows = np.arange(len(s))[:, None]
            # within the ten, the order of ranking.order: score, then product id
            top = np.take_along_axis(top, np.lexsort((batch.ids[rows, top], -s[rows, top]), axis=-1), axis=1)
        rows = np.arange(len(s))[:, None]
        shown = top >= 0
        top = np.where(shown, top, 0)
        hits = batch.hit[rows, top] & batch.valid[rows, top] & shown
        total += float(hits.any(axis=1).sum()) + float(((hits @ _DISCOUNT[:top.shape[1]]) / batch.ideal).sum())
        members += len(s)
    return total / max(members, 1)


def _capped(ids: np.ndarray, s: np.ndarray, categories: list[str], cap: int) -> np.ndarray:
    """The top ten as ranking.choose picks them with a category cap (then the rest by score)."""
    ordered = [i for i in np.lexsort((ids, -s)).tolist() if i < len(categories)]
    picked: list[int] = []
    count: defaultdict[str, int] = defaultdict(int)
    for i in ordered:
        if len(picked) == reco.TOP:
            break
        if count[categories[i]] < cap:
            count[categories[i]] += 1
            picked.append(i)
    chosen = set(picked)
    picked += [i for i in ordered if i not in chosen][: reco.TOP - len(picked)]
    return np.array(picked + [-1] * (min(reco.TOP, len(ids)) - len(picked)), dtype=np.int64)


@dataclass(frozen=True)
class Tuning:
    weights: reco.Weights
    members: int  # validation members
    score: float  # their mean hit rate + NDCG with these weights
    default_score: float  # ... with the default weights


def tune(purchases: Sequence[Purchase], info: dict[int, reco.ProductInfo]) -> Tuning:
    """Weights chosen on the newest VALIDATION_SHARE of the orders, fitted on the rest."""
    default = reco.Weights()
    cutoff = split(purchases, VALIDATION_SHARE)
    if cutoff is None:
        return Tuning(default, 0, 0.0, 0.0)
    past = [x for x in purchases if x.paid_at < cutoff]
    cases = _batches(fit(past, info, cutoff, substitutes_too=False), purchases, info, cutoff)
    members = sum(len(batch.ids) for batch in cases)
    if members < MIN_VALIDATION_MEMBERS:
        return Tuning(default, members, 0.0, 0.0)
    best, best_score = default, _objective(cases, default)
    start_score = best_score
    for _ in range(3):
        improved = False
        for name, values in GRID.items():
            for value in values:
                trial = replace(best, **{name: value})  # type: ignore[arg-type]  # GRID names float weights only
                if trial == best:
                    continue
                score = _objective(cases, trial)
                if score > best_score + 1e-9:
                    best, best_score, improved = trial, score, True
        if not improved:
            break
    for name in ("collaborative", "complement", "popular"):  # finer steps around the best
        for factor in (0.7, 1.4):
            trial = replace(best, **{name: round(getattr(best, name) * factor, 4)})
            score = _objective(cases, trial)
            if score > best_score + 1e-9:
                best, best_score = trial, score
    uncapped = best_score
    for cap in CAPS:  # diversity when it costs nothing
        capped = replace(best, per_category=cap)
        score = _objective(cases, capped)
        if score >= uncapped:
            best, best_score = capped, score
    return Tuning(best, members, best_score, start_score)


def build(purchases: Sequence[Purchase], info: dict[int, reco.ProductInfo], now: dt.datetime) -> tuple[reco.Model, Tuning]:
    tuning = tune(purchases, info)
    return fit(purchases, info, now, tuning.weights), tuning
