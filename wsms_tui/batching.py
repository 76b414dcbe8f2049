"""Order batching: group orders into pick tours bounded by cart capacity, measured by real routes.

Pure Python over plain data (no database): the caller — wave planning — hands in ``Order`` records
(id, lines with location, volume and weight, carrier, cutoff, priority, arrival sequence), a
``Router`` that knows every line's location, and a ``Capacity``. ``plan_batches`` returns a
``BatchPlan``: the tours (orders, lines, route stops and length) and, next to the plan's total
travel, the travel of first-come-first-served batches of the same orders.

Methods:

``savings`` (default)
    Clarke–Wright savings for batching: the saving of picking two orders together is
    ``d(a) + d(b) − d(a ∪ b)``, each ``d`` an optimal route length from the router. Savings are
    computed for each order against its nearest orders (by position, a candidate list — all pairs
    would be quadratic), sorted, and orders/batches are merged in that order while the merged batch
    fits the cart.
``seed``
    A seed rule: open a tour with the most urgent order (earliest cutoff, highest priority; among
    equals the one with the longest route), then repeatedly add the candidate order (near the tour's
    orders) that adds the least route length and still fits.
``fcfs``
    The baseline: orders in arrival order, a new tour whenever the next order does not fit.

A plan never travels more than FCFS: in a group where the greedy method does worse (small or odd
groups), the FCFS batches are kept. An order is never split across tours unless it alone exceeds
the capacity; then its lines are cut into chunks that fit (``BatchPlan.split_orders`` names them).
Every order line is in exactly one tour.
``group_by`` keeps groups apart (e.g. ``lambda o: (o.carrier, o.cutoff)``); tours are listed most
urgent first. Everything is deterministic: ties break on order ids.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from wsms_tui.errors import BadInput
from wsms_tui.i18n import _
from wsms_tui.routing import Point, Router

METHODS = ("savings", "seed", "fcfs")
NEIGHBOURS = 8  # candidate partners per order for savings / seed


@dataclass(frozen=True)
class Line:
    location: str
    qty: float = 1.0
    volume: float = 0.0  # of the whole line (litres)
    weight: float = 0.0  # of the whole line (kg)
    ref: str = ""  # the caller's id of the order line


@dataclass(frozen=True)
class Order:
    id: str
    lines: tuple[Line, ...]
    carrier: str = ""
    cutoff: datetime | None = None
    priority: int = 0  # higher is more urgent
    seq: int = 0  # arrival order (first come, first served)


@dataclass(frozen=True)
class Capacity:
    """What one cart takes; None = unlimited."""

    lines: int | None = None
    volume: float | None = None
    weight: float | None = None
    orders: int | None = None  # totes on the cart

    def fits(self, lines: int, volume: float, weight: float, orders: int) -> bool:
        return ((self.lines is None or lines <= self.lines) and (self.volume is None or volume <= self.volume + 1e-9)
                and (self.weight is None or weight <= self.weight + 1e-9)
                and (self.orders is None or orders <= self.orders))


@dataclass(frozen=True)
class Tour:
    number: int
    orders: tuple[str, ...]
    lines: tuple[tuple[str, int], ...]  # (order id, index of the line in Order.lines)
    stops: tuple[str, ...]  # locations in visiting order
    length: float
    exact: bool
    method: str  # of the route
    n_lines: int
    volume: float
    weight: float
    cutoff: datetime | None
    priority: int


@dataclass(frozen=True)
class BatchPlan:
    method: str
    tours: tuple[Tour, ...]
    travel: float
    fcfs_travel: float
    fcfs_tours: int
    split_orders: tuple[str, ...] = ()
    over_capacity: tuple[str, ...] = ()  # single lines that alone exceed the cart (a tour of their own)
    #: how much less the plan travels than FCFS batches, in percent
    saving_pct: float = field(default=0.0)


# ------------------------------------------------------------------------------------------ units


@dataclass
class _Unit:
    """An order (or a chunk of an order too big for one cart): what batching moves around."""

    key: int
    order: Order
    lines: list[int]
    n_lines: int
    volume: float
    weight: float
    points: frozenset[Point]
    length: float = 0.0
    cx: float = 0.0
    cy: float = 0.0


def _urgency(o: Order) -> tuple[float, int, int, str]:
    return (o.cutoff.timestamp() if o.cutoff is not None else math.inf, -o.priority, o.seq, o.id)


def _units(orders: Sequence[Order], router: Router, cap: Capacity) -> tuple[list[_Unit], list[str], list[str]]:
    units: list[_Unit] = []
    split: list[str] = []
    over: list[str] = []
    seen: set[str] = set()
    for o in sorted(orders, key=lambda o: (o.seq, o.id)):  # canonical: the plan does not depend on input order
        if o.id in seen:
            raise BadInput(_("order {o} is listed twice").format(o=o.id))
        seen.add(o.id)
        if not o.lines:
            continue
        for ln in o.lines:
            router.point(ln.location)  # raises for a location without a position
        vol = sum(ln.volume for ln in o.lines)
        wt = sum(ln.weight for ln in o.lines)
        if cap.fits(len(o.lines), vol, wt, 1):
            chunks = [list(range(len(o.lines)))]
        else:
            split.append(o.id)
            chunks, cur = [], []
            cv = cw = 0.0
            for i, ln in enumerate(o.lines):
                if cur and not cap.fits(len(cur) + 1, cv + ln.volume, cw + ln.weight, 1):
                    chunks.append(cur)
                    cur, cv, cw = [], 0.0, 0.0
                cur.append(i)
                cv += ln.volume
                cw += ln.weight
                if not cap.fits(1, ln.volume, ln.weight, 1):
                    over.append(f"{o.id}#{i + 1}")
            chunks.append(cur)
        for ch in chunks:
            pts = frozenset(router.point(o.lines[i].location) for i in ch)
            units.append(_Unit(len(units), o, ch, len(ch), sum(o.lines[i].volume for i in ch),
                               sum(o.lines[i].weight for i in ch), pts))
    return units, split, over


class _Lengths:
    """Route lengths of point sets, cached (batching asks for the same sets again and again)."""

    def __init__(self, router: Router, exact_limit: int) -> None:
        self.router = router
        self.exact_limit = exact_limit
        self.cache: dict[frozenset[Point], float] = {}

    def __call__(self, pts: frozenset[Point]) -> float:
        v = self.cache.get(pts)
        if v is None:
            v = self.cache[pts] = self.router.points_length(pts, exact_limit=self.exact_limit)
        return v


# ------------------------------------------------------------------------------------------ methods


def _fcfs(units: list[_Unit], cap: Capacity) -> list[list[_Unit]]:
    batches: list[list[_Unit]] = []
    cur: list[_Unit] = []
    n = v = w = 0.0
    for u in sorted(units, key=lambda u: (u.order.seq, u.order.id, u.key)):
        if cur and not cap.fits(int(n + u.n_lines), v + u.volume, w + u.weight, _n_orders(cur, u)):
            batches.append(cur)
            cur, n, v, w = [], 0, 0.0, 0.0
        cur.append(u)
        n += u.n_lines
        v += u.volume
        w += u.weight
    if cur:
        batches.append(cur)
    return batches


def _n_orders(batch: list[_Unit], extra: _Unit | None = None) -> int:
    ids = {u.order.id for u in batch}
    if extra is not None:
        ids.add(extra.order.id)
    return len(ids)


class _Batch:
    """Units picked on one cart: sizes, orders, the points to visit and their route length."""

    __slots__ = ("units", "n", "v", "w", "orders", "points", "length", "cx", "cy")

    def __init__(self, units: list[_Unit], length: float, xy: Callable[[Point], tuple[float, float]]) -> None:
        self.units = units
        self.n = sum(u.n_lines for u in units)
        self.v = sum(u.volume for u in units)
        self.w = sum(u.weight for u in units)
        self.orders = {u.order.id for u in units}
        self.points = frozenset().union(*(u.points for u in units))
        self.length = length
        sx = sy = 0.0
        for p in self.points:
            x, y = xy(p)
            sx += x
            sy += y
        self.cx, self.cy = sx / len(self.points), sy / len(self.points)

    def fits_with(self, other: _Batch, cap: Capacity) -> bool:
        return cap.fits(self.n + other.n, self.v + other.v, self.w + other.w, len(self.orders | other.orders))

    def absorb(self, other: _Batch, length: float) -> None:
        k = len(self.points)
        k2 = len(other.points)
        self.units += other.units
        self.n += other.n
        self.v += other.v
        self.w += other.w
        self.orders |= other.orders
        self.points = self.points | other.points
        self.length = length
        self.cx = (self.cx * k + other.cx * k2) / (k + k2)  # close enough for finding neighbours
        self.cy = (self.cy * k + other.cy * k2) / (k + k2)

    def key(self) -> tuple[str, ...]:
        return tuple(sorted(self.orders))


def _neighbours(items: Sequence[_Batch], k: int) -> list[list[int]]:
    """For each item, the ``k`` nearest others by centroid and route length (similar sizes pair well).

    A grid of cells holding about ``k`` items each, searched ring by ring until the ring is farther
    than the k-th candidate found.
    """
    n = len(items)
    if n <= 1:
        return [[] for _u in items]
    xs = [u.cx for u in items]
    ys = [u.cy for u in items]
    x0, y0 = min(xs), min(ys)
    w = max(max(xs) - x0, 1e-6)
    h = max(max(ys) - y0, 1e-6)
    size = max(math.sqrt(w * h / max(1, n // max(k, 1))), 1e-3)
    # a degenerate spread (every centroid on one line: a layout of one or two aisles) would make cells
    # tiny and the ring search quadratic in the number of rings: never more than ~64 rings across
    size = max(size, max(w, h) / 64)
    grid: dict[tuple[int, int], list[int]] = {}
    cell = []
    for i, u in enumerate(items):
        c = (int((u.cx - x0) / size), int((u.cy - y0) / size))
        cell.append(c)
        grid.setdefault(c, []).append(i)
    max_ring = int(max(w, h) / size) + 2
    out: list[list[int]] = []
    for i, u in enumerate(items):
        cx, cy = cell[i]
        found: list[tuple[float, int]] = []
        for ring in range(max_ring + 1):
            for gx in range(cx - ring, cx + ring + 1):
                for gy in (range(cy - ring, cy + ring + 1) if gx in (cx - ring, cx + ring) else (cy - ring, cy + ring)):
                    for j in grid.get((gx, gy), ()):
                        if j != i:
                            v = items[j]
                            found.append((abs(u.cx - v.cx) + abs(u.cy - v.cy) + 0.25 * abs(u.length - v.length), j))
            if len(found) >= k:
                found.sort()
                if found[k - 1][0] <= ring * size:
                    break
        found.sort()
        out.append([j for _d, j in found[:k]])
    return out


def _savings_round(items: list[_Batch], cap: Capacity, dist: _Lengths, k: int) -> list[_Batch]:
    """One Clarke–Wright pass: savings of candidate pairs, merged best first while the cart allows."""
    nbrs = _neighbours(items, k)
    pairs: set[tuple[int, int]] = set()
    for i, ns in enumerate(nbrs):
        for j in ns:
            pairs.add((i, j) if i < j else (j, i))
    scored = []
    for i, j in pairs:
        a, b = items[i], items[j]
        if not a.fits_with(b, cap):
            continue
        s = a.length + b.length - dist(a.points | b.points)
        scored.append((-s, a.key(), b.key(), i, j))
    scored.sort()
    owner = list(range(len(items)))

    def find(i: int) -> int:
        while owner[i] != i:
            owner[i] = owner[owner[i]]
            i = owner[i]
        return i

    for _s, _ka, _kb, i, j in scored:
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        bi, bj = items[ri], items[rj]
        if not bi.fits_with(bj, cap):
            continue
        # d(A ∪ B) ≤ d(A) + d(B) always (two tours from the depot are one tour of the union), so a merge
        # never adds travel; it saves the route's overlap and one cart trip
        bi.absorb(bj, dist(bi.points | bj.points))
        owner[rj] = ri
    return [items[r] for r in sorted({find(i) for i in range(len(items))})]


def _savings(items: list[_Batch], cap: Capacity, dist: _Lengths, k: int) -> list[_Batch]:
    """Clarke–Wright rounds (order pairs, then batch pairs) until no merge happens."""
    for _round in range(8):
        merged = _savings_round(items, cap, dist, k)
        if len(merged) == len(items):
            break
        items = merged
    return items


def _seed(items: list[_Batch], cap: Capacity, dist: _Lengths, k: int) -> list[_Batch]:
    """Seed rule: the most urgent order opens a tour; the order adding least route length joins, until full."""
    nbrs = _neighbours(items, k)
    free = set(range(len(items)))
    by_urgency = sorted(range(len(items)), key=lambda i: (_urgency(items[i].units[0].order)[:2], -items[i].length,
                                                          items[i].key()))
    out: list[_Batch] = []
    pos = 0
    while free:
        while by_urgency[pos] not in free:
            pos += 1
        seed = by_urgency[pos]
        free.discard(seed)
        b = items[seed]
        cand: set[int] = {j for j in nbrs[seed] if j in free}
        while True:
            if not cand and free:  # nothing near left: the nearest free orders to the tour's centre
                near = sorted(free, key=lambda j: (abs(items[j].cx - b.cx) + abs(items[j].cy - b.cy), j))
                cand = set(near[:k])
            best: tuple[float, int] | None = None
            for j in cand:
                u = items[j]
                if not b.fits_with(u, cap):
                    continue
                add = dist(b.points | u.points) - b.length
                key = (add - u.length * 1e-6, j)  # prefer the bigger order on ties
                if best is None or key < best:
                    best = key
            if best is None:
                break
            j = best[1]
            free.discard(j)
            cand.discard(j)
            b.absorb(items[j], dist(b.points | items[j].points))
            cand |= {m for m in nbrs[j] if m in free}
        out.append(b)
    return out


# ------------------------------------------------------------------------------------------ the plan


def _tours(batches: list[_Batch], router: Router, exact_limit: int) -> list[Tour]:
    tours = []
    for b in batches:
        units = b.units
        codes = sorted({u.order.lines[i].location for u in units for i in u.lines})
        r = router.route(codes, exact_limit=exact_limit)
        orders = tuple(dict.fromkeys(u.order.id for u in units))
        lines = tuple((u.order.id, i) for u in units for i in u.lines)
        cut = [u.order.cutoff for u in units if u.order.cutoff is not None]
        tours.append(Tour(0, orders, lines, r.stops, r.length, r.exact, r.method, b.n, b.v, b.w,
                          min(cut) if cut else None, max(u.order.priority for u in units)))
    tours.sort(key=lambda t: (t.cutoff.timestamp() if t.cutoff else math.inf, -t.priority, t.orders))
    return [dataclasses.replace(t, number=n + 1) for n, t in enumerate(tours)]


def plan_batches(orders: Sequence[Order], router: Router, capacity: Capacity, *, method: str = "savings",
                 group_by: Callable[[Order], Hashable] | None = None, neighbours: int = NEIGHBOURS,
                 exact_limit: int = 8) -> BatchPlan:
    """Batch ``orders`` into cart tours with ``method`` (savings, seed or fcfs); see the module docstring.

    ``exact_limit`` bounds the exact (Held–Karp) routing on multi-block layouts while batching; one-block
    layouts are always routed exactly.
    """
    if method not in METHODS:
        raise BadInput(_("unknown batching method {m} (use {ms})").format(m=method, ms=", ".join(METHODS)))
    if (capacity.lines is not None and capacity.lines < 1) or (capacity.orders is not None and capacity.orders < 1):
        raise BadInput(_("a cart must take at least one line and one order"))
    units, split, over = _units(orders, router, capacity)
    dist = _Lengths(router, exact_limit)
    xy = _xy(router)
    groups: dict[Hashable, list[_Unit]] = {}
    for u in units:
        groups.setdefault(group_by(u.order) if group_by else None, []).append(u)
    fcfs_travel = 0.0
    fcfs_count = 0
    batches: list[_Batch] = []
    for key in sorted(groups, key=repr):
        g = groups[key]
        fb = [_Batch(us, 0.0, xy) for us in _fcfs(g, capacity)]
        for b in fb:
            b.length = dist(b.points)
        fcfs_travel += sum(b.length for b in fb)
        fcfs_count += len(fb)
        if method == "fcfs":
            batches += fb
            continue
        items = []
        for u in g:
            one = _Batch([u], dist(u.points), xy)
            items.append(one)
        planned = (_savings if method == "savings" else _seed)(items, capacity, dist, neighbours)
        # greedy rules can lose to FCFS on small or odd groups: never hand out more travel than the baseline
        batches += planned if sum(b.length for b in planned) <= sum(b.length for b in fb) + 1e-9 else fb
    tours = _tours(batches, router, exact_limit)
    travel = sum(t.length for t in tours)
    pct = 100.0 * (fcfs_travel - travel) / fcfs_travel if fcfs_travel > 0 else 0.0
    return BatchPlan(method, tuple(tours), travel, fcfs_travel, fcfs_count, tuple(split), tuple(over), round(pct, 2))


def _xy(router: Router) -> Callable[[Point], tuple[float, float]]:
    g = router.geometry
    ys = [g.cross_y(k) for k in range(len(g.blocks) + 1)]

    def xy(p: Point) -> tuple[float, float]:
        return g.blocks[p.block].aisles[p.aisle].x, ys[p.block] + p.offset

    return xy


def name_sorted_travel(orders: Sequence[Order], router: Router, capacity: Capacity) -> float:
    """Travel of FCFS batches walked in location-name order — what most systems do today."""
    units, _split, _over = _units(orders, router, capacity)
    total = 0.0
    for b in _fcfs(units, capacity):
        codes = sorted({u.order.lines[i].location for u in b for i in u.lines})
        total += router.route(codes, "name").length
    return total


__all__ = ["BatchPlan", "Capacity", "Line", "Order", "Tour", "name_sorted_travel", "plan_batches"]
