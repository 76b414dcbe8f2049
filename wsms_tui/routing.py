"""Picker routing over a warehouse layout: blocks of parallel aisles between cross aisles.

Pure Python (no database, no Textual). The model is the one of the order-picking literature
(Ratliff & Rosenthal 1983; Roodbergen & de Koster 2001):

* a layout is a stack of **blocks** from front to back; block ``k`` lies between cross aisle ``k``
  (its front) and cross aisle ``k + 1`` (its back), so a one-block layout has a front and a back
  cross aisle and a two-block layout adds a middle one;
* each block holds parallel **aisles** (left to right, at an x coordinate); a picker walks along
  the centre line of an aisle and reaches both rack faces from it; an aisle can be closed at its
  front or back end (a dead end against a wall);
* cross aisles are open corridors: the picker walks along them between any two aisle ends;
* the **depot** (where tours start and end) lies on one cross aisle at ``depot_x``;
* a pick point is ``Point(block, aisle, offset)``, ``offset`` measured along the aisle from its
  front end (the centre line of the block's front cross aisle) — between 0 and the block's length.

Routers (``Router.route(codes, method)``):

``optimal``
    one block: the Ratliff–Rosenthal dynamic programme over aisles (7 connectivity/degree classes),
    exact; several blocks: Held–Karp over the pick points with shortest-path distances on the aisle
    graph, exact up to ``exact_limit`` distinct points; beyond that a local search (2-opt and Or-opt
    on the exact distance matrix, started from nearest-neighbour, S-shape and largest-gap orders),
    which is a heuristic and says so (``Route.exact`` is False, ``method`` = ``local-search``).
``sshape`` / ``largest-gap``
    the classic rules, kept for comparison. On one block with open aisles, ``length`` is the length
    of the rule's own walk (every aisle with picks traversed entirely, resp. entered up to the
    largest gap); elsewhere the rule gives the order and ``length`` is the shortest-path length of
    that order.
``name``
    stops sorted by location code — what most systems do; shortest-path length of that order.

``Router.route_length(codes)`` recomputes the length of any visiting order independently of the
routers: depot → stops in order → depot, each leg a shortest path on the aisle graph (Dijkstra over
the aisle ends). ``Route.legs`` are those legs; for ``optimal`` their sum is ``length``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from wsms_tui.errors import BadInput, NotFound
from wsms_tui.i18n import _

EPS = 1e-9
#: distinct pick points up to which multi-block routing is exact (Held–Karp, 2^n·n² steps)
EXACT_LIMIT = 11
METHODS = ("optimal", "sshape", "largest-gap", "name")


# ------------------------------------------------------------------------------------------ geometry


@dataclass(frozen=True, slots=True)
class Aisle:
    name: str
    x: float
    open_front: bool = True
    open_back: bool = True


@dataclass(frozen=True, slots=True)
class Block:
    name: str
    aisles: tuple[Aisle, ...]  # left to right (non-decreasing x)
    length: float  # between the centre lines of its front and back cross aisles


@dataclass(frozen=True, slots=True)
class Geometry:
    blocks: tuple[Block, ...]  # front to back
    depot_x: float = 0.0
    depot_cross: int = 0  # the cross aisle the depot is on: 0 = front, len(blocks) = back

    def cross_y(self, k: int) -> float:
        """y of the centre line of cross aisle ``k`` (the front one is at 0)."""
        return sum(b.length for b in self.blocks[:k])


@dataclass(frozen=True, slots=True, order=True)
class Point:
    block: int
    aisle: int  # index in Block.aisles
    offset: float  # from the aisle's front end


DEPOT = Point(-1, 0, 0.0)


@dataclass(frozen=True)
class Route:
    """Stops (location codes) in visiting order, from and back to the depot."""

    stops: tuple[str, ...]
    length: float
    method: str
    exact: bool
    #: shortest distance of each leg: depot → stop 1, …, last stop → depot (len(stops) + 1 values)
    legs: tuple[float, ...] = field(default=())


class UnknownLocation(NotFound):
    pass


# ------------------------------------------------------------------------------------------ router


class Router:
    """Routes over one layout; ``points`` maps location codes to their pick points.

    Building the router is cheap; shortest paths between aisle ends are computed on first use
    (one Dijkstra per aisle end touched) and cached.
    """

    def __init__(self, geometry: Geometry, points: Mapping[str, Point] | None = None,
                 *, exact_limit: int = EXACT_LIMIT) -> None:
        self.geometry = geometry
        self.points: dict[str, Point] = dict(points or {})
        self.exact_limit = exact_limit
        self._check_geometry()
        self._base: list[int] = []  # global aisle index of each block's first aisle
        n = 0
        for b in geometry.blocks:
            self._base.append(n)
            n += len(b.aisles)
        self._n_aisles = n
        self._build_graph()
        self._rows: dict[int, list[float]] = {}

    # ---------------------------------------------------------------- the aisle graph

    def _check_geometry(self) -> None:
        g = self.geometry
        if not g.blocks:
            raise BadInput(_("a layout needs at least one block"))
        if not 0 <= g.depot_cross <= len(g.blocks):
            raise BadInput(_("the depot is on cross aisle {k}, the layout has 0..{n}").format(
                k=g.depot_cross, n=len(g.blocks)))
        for b in g.blocks:
            if b.length <= 0:
                raise BadInput(_("block {b} has no length").format(b=b.name))
            xs = [a.x for a in b.aisles]
            if xs != sorted(xs):
                raise BadInput(_("the aisles of block {b} must be listed left to right").format(b=b.name))

    def _build_graph(self) -> None:
        g = self.geometry
        self._depot_node = 2 * self._n_aisles
        n_nodes = self._depot_node + 1
        adj: list[list[tuple[int, float]]] = [[] for _i in range(n_nodes)]
        lines: list[list[tuple[float, int]]] = [[] for _k in range(len(g.blocks) + 1)]
        for k, b in enumerate(g.blocks):
            for i, a in enumerate(b.aisles):
                gi = self._base[k] + i
                f, bk = 2 * gi, 2 * gi + 1
                lines[k].append((a.x, f))
                lines[k + 1].append((a.x, bk))
                if a.open_front and a.open_back:
                    adj[f].append((bk, b.length))
                    adj[bk].append((f, b.length))
        lines[g.depot_cross].append((g.depot_x, self._depot_node))
        for line in lines:
            line.sort()
            for (x1, n1), (x2, n2) in zip(line, line[1:], strict=False):
                adj[n1].append((n2, x2 - x1))
                adj[n2].append((n1, x2 - x1))
        self._adj = adj

    def _row(self, src: int) -> list[float]:
        row = self._rows.get(src)
        if row is None:
            row = [math.inf] * len(self._adj)
            row[src] = 0.0
            heap = [(0.0, src)]
            adj = self._adj
            while heap:
                d, u = heapq.heappop(heap)
                if d > row[u]:
                    continue
                for v, w in adj[u]:
                    nd = d + w
                    if nd < row[v] - 1e-12:
                        row[v] = nd
                        heapq.heappush(heap, (nd, v))
            self._rows[src] = row
        return row

    def _ends(self, p: Point) -> list[tuple[int, float]]:
        """The aisle-graph nodes a point reaches directly, with the distance to each."""
        if p.block < 0:
            return [(self._depot_node, 0.0)]
        b = self.geometry.blocks[p.block]
        a = b.aisles[p.aisle]
        gi = self._base[p.block] + p.aisle
        out = []
        if a.open_front:
            out.append((2 * gi, p.offset))
        if a.open_back:
            out.append((2 * gi + 1, b.length - p.offset))
        return out

    def distance(self, p: Point, q: Point) -> float:
        """Shortest walking distance between two points (``DEPOT`` for the depot)."""
        if p.block == q.block and p.aisle == q.aisle and p.block >= 0:
            return abs(p.offset - q.offset)
        best = math.inf
        eq = self._ends(q)
        for n1, d1 in self._ends(p):
            row = self._row(n1)
            for n2, d2 in eq:
                v = d1 + row[n2] + d2
                if v < best:
                    best = v
        return best

    def reachable(self, p: Point) -> bool:
        return self.distance(DEPOT, p) < math.inf

    def check_point(self, p: Point) -> None:
        g = self.geometry
        if not 0 <= p.block < len(g.blocks) or not 0 <= p.aisle < len(g.blocks[p.block].aisles):
            raise BadInput(_("point {p} is outside the layout").format(p=p))
        if not -EPS <= p.offset <= g.blocks[p.block].length + EPS:
            raise BadInput(_("point {p} is outside its aisle").format(p=p))

    # ---------------------------------------------------------------- public API

    def point(self, code: str) -> Point:
        try:
            return self.points[code]
        except KeyError:
            raise UnknownLocation(_("location {c} has no position in the layout").format(c=code)) from None

    def route_length(self, codes: Sequence[str]) -> float:
        """Length of visiting ``codes`` in this order: depot → each → depot, shortest paths."""
        return sum(self.legs([self.point(c) for c in codes]))

    def legs(self, pts: Sequence[Point]) -> list[float]:
        out = []
        prev = DEPOT
        for p in pts:
            out.append(self.distance(prev, p))
            prev = p
        out.append(self.distance(prev, DEPOT))
        return out

    def route(self, codes: Iterable[str], method: str = "optimal", *, exact_limit: int | None = None) -> Route:
        """A tour from the depot through every location in ``codes`` (duplicates visited once)."""
        if method not in METHODS:
            raise BadInput(_("unknown routing method {m} (use {ms})").format(m=method, ms=", ".join(METHODS)))
        uniq = sorted(set(codes))
        by_point: dict[Point, list[str]] = {}
        for c in uniq:
            by_point.setdefault(self.point(c), []).append(c)
        pts = sorted(by_point)
        for p in pts:
            if not self.reachable(p):
                raise BadInput(_("location {c} cannot be reached from the depot").format(c=by_point[p][0]))
        if method == "name":
            order = []
            seen: set[Point] = set()
            for c in uniq:
                p = self.points[c]
                if p not in seen:
                    seen.add(p)
                    order.append(p)
            return self._finish(order, by_point, None, "name", False)
        if method in ("sshape", "largest-gap"):
            order, walk = self._rule(pts, method)
            return self._finish(order, by_point, walk, method, False)
        order, length, name, exact = self.optimal_points(pts, exact_limit=exact_limit)
        return self._finish(order, by_point, length, name, exact)

    def optimal_points(self, pts: Sequence[Point], *, exact_limit: int | None = None, with_order: bool = True
                       ) -> tuple[list[Point], float, str, bool]:
        """(order, length, method, exact) of the best tour through distinct points (order [] if not
        ``with_order`` and the method can skip it)."""
        limit = self.exact_limit if exact_limit is None else exact_limit
        if not pts:
            return [], 0.0, "ratliff-rosenthal" if len(self.geometry.blocks) == 1 else "held-karp", True
        if len(self.geometry.blocks) == 1:  # dead-end aisles and a depot on either cross aisle included
            order, length = _rr_route(self.geometry, list(pts), with_order=with_order)
            return order, length, "ratliff-rosenthal", True
        if len(pts) <= limit:
            order, length = self._held_karp(list(pts))
            return order, length, "held-karp", True
        order, length = self._local_search(list(pts))
        return order, length, "local-search", False

    def tour_length(self, codes: Iterable[str], *, exact_limit: int | None = None) -> float:
        """Length of the optimal (or best heuristic) tour through ``codes`` — for batching."""
        return self.points_length({self.point(c) for c in codes}, exact_limit=exact_limit)

    def points_length(self, pts: Iterable[Point], *, exact_limit: int | None = None) -> float:
        return self.optimal_points(sorted(pts), exact_limit=exact_limit, with_order=False)[1]

    def _finish(self, order: list[Point], by_point: dict[Point, list[str]], length: float | None, method: str,
                exact: bool) -> Route:
        legs = self.legs(order)
        stops = tuple(c for p in order for c in by_point[p])
        total = sum(legs)
        return Route(stops, total if length is None else length, method, exact, tuple(legs))

    # ---------------------------------------------------------------- exact for small lists

    def matrix(self, pts: Sequence[Point]) -> list[list[float]]:
        """Distances between the depot (index 0) and ``pts`` (1..n)."""
        allp = [DEPOT, *pts]
        n = len(allp)
        m = [[0.0] * n for _i in range(n)]
        for i in range(n):
            for j in range(i + 1, n):
                m[i][j] = m[j][i] = self.distance(allp[i], allp[j])
        return m

    def _held_karp(self, pts: list[Point]) -> tuple[list[Point], float]:
        d = self.matrix(pts)
        order, length = held_karp(d)
        return [pts[i - 1] for i in order], length

    def _local_search(self, pts: list[Point]) -> tuple[list[Point], float]:
        d = self.matrix(pts)
        index = {p: i + 1 for i, p in enumerate(pts)}
        starts = [_nearest_neighbour(d)]
        for rule in ("sshape", "largest-gap"):
            starts.append([index[p] for p in self._rule(pts, rule)[0]])
        best: list[int] | None = None
        best_len = math.inf
        for s in starts:
            tour = _improve(d, s)
            length = _tour_len(d, tour)
            if length < best_len - EPS:
                best, best_len = tour, length
        assert best is not None
        return [pts[i - 1] for i in best], best_len

    # ---------------------------------------------------------------- S-shape and largest gap

    def _rule(self, pts: Sequence[Point], rule: str) -> tuple[list[Point], float | None]:
        """(order, walk length or None) of the S-shape or largest-gap rule."""
        g = self.geometry
        if len(g.blocks) == 1:
            blk = g.blocks[0]
            back = g.depot_cross == 1
            aisles = _by_aisle(pts, blk.length, back)
            walkable = all(blk.aisles[i].open_front and blk.aisles[i].open_back for i in aisles)
            fn = _sshape if rule == "sshape" else _largest_gap
            order, walk = fn(aisles, blk, g.depot_x, blk.length)
            return order, (walk if walkable else None)
        # several blocks: blocks from the farthest to the nearest from the depot's cross aisle, each swept
        # by the rule with its "front" on the side towards the depot, sweep direction alternating
        order: list[Point] = []
        ks = sorted(range(len(g.blocks)), key=lambda k: (-abs(k + 0.5 - g.depot_cross), k))
        for n, k in enumerate(ks):
            blk = g.blocks[k]
            back = k + 0.5 < g.depot_cross  # the depot is behind this block
            inblock = [p for p in pts if p.block == k]
            if not inblock:
                continue
            aisles = _by_aisle(inblock, blk.length, back)
            fn = _sshape if rule == "sshape" else _largest_gap
            if n % 2:
                mirrored = dict(sorted((len(blk.aisles) - 1 - i, v) for i, v in aisles.items()))
                blk_m = Block(blk.name, tuple(Aisle(a.name, -a.x) for a in reversed(blk.aisles)), blk.length)
                local, _w = fn(mirrored, blk_m, -g.depot_x, blk.length)
            else:
                local, _w = fn(aisles, blk, g.depot_x, blk.length)
            order += local
        return order, None


Offsets = list[tuple[float, Point]]  # (offset seen from the depot's side, the point), ascending


def _by_aisle(pts: Iterable[Point], length: float, flip: bool) -> dict[int, Offsets]:
    out: dict[int, Offsets] = {}
    for p in pts:
        out.setdefault(p.aisle, []).append((length - p.offset if flip else p.offset, p))
    for v in out.values():
        v.sort()
    return dict(sorted(out.items()))


def _walk_len(wp: list[tuple[float, float]]) -> float:
    return sum(abs(x2 - x1) + abs(y2 - y1) for (x1, y1), (x2, y2) in zip(wp, wp[1:], strict=False))


def _sshape(aisles: dict[int, Offsets], blk: Block, depot_x: float, length: float) -> tuple[list[Point], float]:
    order: list[Point] = []
    wp = [(depot_x, 0.0)]
    keys = list(aisles)
    m = len(keys)
    at_front = True
    for n, i in enumerate(keys):
        x = blk.aisles[i].x
        offs = aisles[i]
        if at_front and n == m - 1 and m % 2 == 1:
            wp += [(x, 0.0), (x, offs[-1][0]), (x, 0.0)]
            order += [p for _o, p in offs]
        elif at_front:
            wp += [(x, 0.0), (x, length)]
            order += [p for _o, p in offs]
            at_front = False
        else:
            wp += [(x, length), (x, 0.0)]
            order += [p for _o, p in reversed(offs)]
            at_front = True
    wp.append((depot_x, 0.0))
    return order, _walk_len(wp)


def _largest_gap(aisles: dict[int, Offsets], blk: Block, depot_x: float, length: float
                 ) -> tuple[list[Point], float]:
    keys = list(aisles)
    if len(keys) <= 1:
        return _sshape(aisles, blk, depot_x, length)
    order: list[Point] = []
    first, last, middle = keys[0], keys[-1], keys[1:-1]
    x1 = blk.aisles[first].x
    wp = [(depot_x, 0.0), (x1, 0.0), (x1, length)]
    order += [p for _o, p in aisles[first]]
    split: dict[int, int] = {}
    for i in middle:
        offs = aisles[i]
        o = [v for v, _p in offs]
        gaps = [o[0]] + [b - a for a, b in zip(o, o[1:], strict=False)] + [length - o[-1]]
        s = max(range(len(gaps)), key=lambda j: (gaps[j], -j))  # offs[:s] from the front, offs[s:] from the back
        split[i] = s
        x = blk.aisles[i].x
        if s < len(offs):
            wp += [(x, length), (x, o[s]), (x, length)]
            order += [p for _o, p in reversed(offs[s:])]
    xl = blk.aisles[last].x
    wp += [(xl, length), (xl, 0.0)]
    order += [p for _o, p in reversed(aisles[last])]
    for i in reversed(middle):
        offs = aisles[i]
        s = split[i]
        x = blk.aisles[i].x
        if s > 0:
            wp += [(x, 0.0), (x, offs[s - 1][0]), (x, 0.0)]
            order += [p for _o, p in offs[:s]]
    wp.append((depot_x, 0.0))
    return order, _walk_len(wp)


# ------------------------------------------------------------------------------------------ Held–Karp


def held_karp(d: Sequence[Sequence[float]]) -> tuple[list[int], float]:
    """Exact shortest closed tour from node 0 through all nodes 1..n-1 of the matrix ``d``."""
    n = len(d) - 1
    if n == 0:
        return [], 0.0
    if n == 1:
        return [1], d[0][1] + d[1][0]
    full = (1 << n) - 1
    inf = math.inf
    # cost[mask][j]: shortest path from the depot visiting ``mask`` and ending at j (0-based over 1..n)
    cost = [[inf] * n for _m in range(1 << n)]
    parent = [[-1] * n for _m in range(1 << n)]
    for j in range(n):
        cost[1 << j][j] = d[0][j + 1]
    for mask in range(1, full + 1):
        row = cost[mask]
        for j in range(n):
            cj = row[j]
            if cj == inf or not (mask >> j) & 1:
                continue
            dj = d[j + 1]
            rest = full & ~mask
            while rest:
                low = rest & -rest
                k = low.bit_length() - 1
                nm = mask | low
                v = cj + dj[k + 1]
                if v < cost[nm][k]:
                    cost[nm][k] = v
                    parent[nm][k] = j
                rest ^= low
    best, last = inf, -1
    for j in range(n):
        v = cost[full][j] + d[j + 1][0]
        if v < best:
            best, last = v, j
    order = []
    mask = full
    while last >= 0:
        order.append(last + 1)
        prev = parent[mask][last]
        mask ^= 1 << last
        last = prev
    order.reverse()
    return order, best


# ------------------------------------------------------------------------------------------ local search


def _tour_len(d: Sequence[Sequence[float]], tour: Sequence[int]) -> float:
    prev, total = 0, 0.0
    for i in tour:
        total += d[prev][i]
        prev = i
    return total + d[prev][0]


def _nearest_neighbour(d: Sequence[Sequence[float]]) -> list[int]:
    left = set(range(1, len(d)))
    tour, cur = [], 0
    while left:
        nxt = min(left, key=lambda j: (d[cur][j], j))
        tour.append(nxt)
        left.remove(nxt)
        cur = nxt
    return tour


def _improve(d: Sequence[Sequence[float]], tour: list[int]) -> list[int]:
    """2-opt and Or-opt (segments of 1–3, both orientations) until no move improves the tour."""
    t = [0, *tour, 0]
    n = len(t)
    improved = True
    while improved:
        improved = False
        # 2-opt: reverse t[i..j]
        for i in range(1, n - 2):
            a, b = t[i - 1], t[i]
            dab = d[a][b]
            for j in range(i + 1, n - 1):
                c, e = t[j], t[j + 1]
                delta = d[a][c] + d[b][e] - dab - d[c][e]
                if delta < -1e-9:
                    t[i:j + 1] = reversed(t[i:j + 1])
                    improved = True
                    a, b = t[i - 1], t[i]
                    dab = d[a][b]
        # Or-opt: move segment t[i..i+L-1] between t[j] and t[j+1]
        for seg in (1, 2, 3):
            i = 1
            while i + seg <= n - 1:
                s0, s1 = t[i], t[i + seg - 1]
                p, q = t[i - 1], t[i + seg]
                remove_gain = d[p][s0] + d[s1][q] - d[p][q]
                moved = False
                for j in range(0, n - 1):
                    if i - 1 <= j <= i + seg - 1:
                        continue
                    u, v = t[j], t[j + 1]
                    add_fwd = d[u][s0] + d[s1][v] - d[u][v]
                    add_rev = d[u][s1] + d[s0][v] - d[u][v]
                    if add_fwd < remove_gain - 1e-9 or add_rev < remove_gain - 1e-9:
                        segment = t[i:i + seg]
                        if add_rev < add_fwd:
                            segment.reverse()
                        rest = t[:i] + t[i + seg:]
                        pos = j + 1 if j < i else j + 1 - seg
                        t = rest[:pos] + segment + rest[pos:]
                        improved = moved = True
                        break
                if not moved:
                    i += 1
    return t[1:-1]


# ------------------------------------------------------------------------------------------ Ratliff–Rosenthal

# A partial tour subgraph seen at the frontier of aisle j is summarised by
# (parity of a_j, parity of b_j, a and b in one component, a finished tour exists):
# parity -1 = the node is not in the subgraph. These are Ratliff & Rosenthal's seven classes
# (plus the empty start); the transition tables below are derived mechanically from the rules.
_State = tuple[int, int, bool, bool]
_EMPTY: _State = (-1, -1, False, False)
# vertical options for one aisle: (add to deg a, add to deg b, connects a and b)
_NONE, _FULL1, _FULL2, _SPLIT, _BOTTOM, _TOP = range(6)
_VOPT = ((0, 0, False), (1, 1, True), (2, 2, True), (2, 2, False), (2, 0, False), (0, 2, False))


def _h_step(s: _State, f: int, t: int) -> _State | None:
    """Add f copies of a_j–a_{j+1} (front) and t copies of b_j–b_{j+1} (back)."""
    da, db, conn, closed = s
    if closed:
        return s if f == 0 and t == 0 else None
    if (da < 0 and f) or (db < 0 and t):
        return None  # a spur from an unused node never helps
    if da >= 0 and (da + f) % 2:
        return None
    if db >= 0 and (db + t) % 2:
        return None
    na = f % 2 if f else -1
    nb = t % 2 if t else -1
    if da < 0 and db < 0:
        return _EMPTY
    if conn:
        if f == 0 and t == 0:
            return (-1, -1, False, True)
        return (na, nb, f > 0 and t > 0, False)
    comps = (da >= 0) + (db >= 0)
    closing = (da >= 0 and f == 0) + (db >= 0 and t == 0)
    if closing:
        if comps > 1:
            return None
        return (-1, -1, False, True)
    return (na, nb, False, False)


def _v_step(s: _State, opt: int) -> _State | None:
    da, db, conn, closed = s
    add_a, add_b, connects = _VOPT[opt]
    if closed:
        return s if opt == _NONE else None
    na = da if add_a == 0 else (max(da, 0) + add_a) % 2
    nb = db if add_b == 0 else (max(db, 0) + add_b) % 2
    nconn = True if connects else (conn and da >= 0 and db >= 0)
    return (na, nb, nconn, False)


def _final_ok(s: _State) -> bool:
    da, db, conn, closed = s
    if closed:
        return True
    if da < 0 and db < 0:
        return False
    if da > 0 or db > 0:
        return False
    return conn or da < 0 or db < 0


def _tables() -> tuple[list[_State], list[list[tuple[int, int, int]]], list[list[int]], list[bool]]:
    states = [_EMPTY]
    index = {_EMPTY: 0}
    i = 0
    while i < len(states):
        s = states[i]
        nxt = [_v_step(s, o) for o in range(6)] + [_h_step(s, f, t) for f in range(3) for t in range(3)]
        for n in nxt:
            if n is not None and n not in index:
                index[n] = len(states)
                states.append(n)
        i += 1
    h = [[(f, t, index[n]) for f in range(3) for t in range(3) if (n := _h_step(s, f, t)) is not None]
         for s in states]
    v = [[index[n] if (n := _v_step(s, o)) is not None else -1 for o in range(6)] for s in states]
    return states, h, v, [_final_ok(s) for s in states]


_STATES, _H, _V, _FINAL = _tables()
#: lean forms for the length-only DP: per state, (copies f + t, next state) and (option, next state)
_HL = [sorted({(f + t, s2) for f, t, s2 in h}) for h in _H]
_VL = [[(o, s3) for o, s3 in enumerate(v) if s3 >= 0] for v in _V]
_Col = tuple[float, int, "Offsets", bool, bool]


def _rr_columns(g: Geometry, pts: list[Point]) -> tuple[list[_Col], float]:
    """The DP's columns: the depot, each aisle with picks and the empty aisles worth walking through."""
    blk = g.blocks[0]
    length = blk.length
    back = g.depot_cross == 1  # a depot on the back cross aisle: mirror front and back
    per = _by_aisle(pts, length, back)
    # the depot becomes a dead-end aisle of its own with one "pick" at its front end
    col: list[_Col] = []  # (x, aisle or -1, offsets, open front, open back)
    col.append((g.depot_x, -1, [(0.0, DEPOT)], True, False))
    for i, offs in per.items():
        a = blk.aisles[i]
        of, ob = (a.open_back, a.open_front) if back else (a.open_front, a.open_back)
        col.append((a.x, i, offs, of, ob))
    lo = min(c[0] for c in col)
    hi = max(c[0] for c in col)
    # Empty aisles may be walked through: those between the extreme columns, and — when an extreme column is
    # a dead end or the depot — up to the nearest open aisle beyond it (any aisle farther out is dominated).
    through = [a.x for a in blk.aisles if a.open_front and a.open_back]
    if not any(c[0] == lo and c[1] >= 0 and blk.aisles[c[1]].open_front and blk.aisles[c[1]].open_back
               for c in col):
        lo = max((x for x in through if x <= lo), default=lo)
    if not any(c[0] == hi and c[1] >= 0 and blk.aisles[c[1]].open_front and blk.aisles[c[1]].open_back
               for c in col):
        hi = min((x for x in through if x >= hi), default=hi)
    for i, a in enumerate(blk.aisles):
        if i not in per and lo - EPS <= a.x <= hi + EPS and a.open_front and a.open_back:
            col.append((a.x, i, [], True, True))
    col.sort(key=lambda c: (c[0], c[1]))
    return col, length


def _rr_length(col: list[_Col], length: float) -> float:
    """The Ratliff–Rosenthal optimum's length only (no back pointers): the batching inner loop."""
    inf = math.inf
    n_st = len(_STATES)
    cost = [inf] * n_st
    cost[0] = 0.0
    prev_x = col[0][0]
    hl, vl = _HL, _VL
    for x, _ai, pairs, of, ob in col:
        dx = x - prev_x
        prev_x = x
        mid = [inf] * n_st
        for s in range(n_st):
            c = cost[s]
            if c == inf:
                continue
            for ft, s2 in hl[s]:
                v = c + ft * dx
                if v < mid[s2]:
                    mid[s2] = v
        oc = [inf] * 6
        k = len(pairs)
        if k == 0:
            oc[_NONE] = 0.0
        else:
            if of:
                oc[_BOTTOM] = 2 * pairs[-1][0]
            if ob:
                oc[_TOP] = 2 * (length - pairs[0][0])
        if of and ob:
            oc[_FULL1] = length
            oc[_FULL2] = 2 * length
            if k >= 2:
                gap = max(pairs[j][0] - pairs[j - 1][0] for j in range(1, k))
                oc[_SPLIT] = 2 * (length - gap)
        new = [inf] * n_st
        for s in range(n_st):
            c = mid[s]
            if c == inf:
                continue
            for o, s3 in vl[s]:
                v = c + oc[o]
                if v < new[s3]:
                    new[s3] = v
        cost = new
    best = min((cost[s] for s in range(n_st) if _FINAL[s]), default=inf)
    if best == inf:
        raise BadInput(_("no tour reaches every location from the depot (dead-end aisles?)"))
    return best


def _rr_route(g: Geometry, pts: list[Point], *, with_order: bool = True) -> tuple[list[Point], float]:
    """Ratliff–Rosenthal on a one-block layout: exact tour through ``pts`` (distinct points)."""
    col, length = _rr_columns(g, pts)
    if not with_order:
        return [], _rr_length(col, length)
    inf = math.inf
    n_st = len(_STATES)
    cost = [inf] * n_st
    # back pointers: per column, for each state after the vertical step: (state before, option);
    # for each state after the horizontal step into the column: (state before, f, t)
    bp_v: list[list[tuple[int, int]]] = []
    bp_h: list[list[tuple[int, int, int]]] = []
    splits: list[int] = []
    prev_x = None
    for ci, (x, _ai, pairs, of, ob) in enumerate(col):
        offs = [o for o, _p in pairs]
        if ci == 0:
            mid = [inf] * n_st
            mid[0] = 0.0
            bph = [(-1, 0, 0)] * n_st
        else:
            dx = x - prev_x  # type: ignore[operator]
            mid = [inf] * n_st
            bph = [(-1, 0, 0)] * n_st
            for s in range(n_st):
                c = cost[s]
                if c == inf:
                    continue
                for f, t, s2 in _H[s]:
                    v = c + (f + t) * dx
                    if v < mid[s2]:
                        mid[s2] = v
                        bph[s2] = (s, f, t)
        bp_h.append(bph)
        # vertical options of this aisle
        k = len(offs)
        opts: list[tuple[int, float]] = []
        split_at = -1
        if k == 0:
            opts.append((_NONE, 0.0))
        if of and ob:
            opts.append((_FULL1, length))
            opts.append((_FULL2, 2 * length))
            if k >= 2:
                best_gap, split_at = -1.0, -1
                for j in range(1, k):
                    gap = offs[j] - offs[j - 1]
                    if gap > best_gap:
                        best_gap, split_at = gap, j
                opts.append((_SPLIT, 2 * (length - best_gap)))
        if k and of:
            opts.append((_BOTTOM, 2 * offs[-1]))
        if k and ob:
            opts.append((_TOP, 2 * (length - offs[0])))
        splits.append(split_at)
        new = [inf] * n_st
        bpv = [(-1, 0)] * n_st
        for s in range(n_st):
            c = mid[s]
            if c == inf:
                continue
            vs = _V[s]
            for o, oc in opts:
                s3 = vs[o]
                if s3 < 0:
                    continue
                v = c + oc
                if v < new[s3]:
                    new[s3] = v
                    bpv[s3] = (s, o)
        bp_v.append(bpv)
        cost = new
        prev_x = x
    best, bs = inf, -1
    for s in range(n_st):
        if _FINAL[s] and cost[s] < best:
            best, bs = cost[s], s
    if bs < 0:
        raise BadInput(_("no tour reaches every location from the depot (dead-end aisles?)"))
    # walk the back pointers
    vopt = [0] * len(col)
    hcopies = [(0, 0)] * len(col)
    s = bs
    for ci in range(len(col) - 1, -1, -1):
        s_mid, o = bp_v[ci][s]
        vopt[ci] = o
        if ci > 0:
            s_prev, f, t = bp_h[ci][s_mid]
            hcopies[ci] = (f, t)
            s = s_prev
    return _euler_order(col, vopt, hcopies, splits), best


def _euler_order(col: list[_Col], vopt: list[int], hcopies: list[tuple[int, int]], splits: list[int]
                 ) -> list[Point]:
    """First-visit order of the pick points on an Euler tour of the chosen multigraph."""
    node_of: dict[tuple[int, int], int] = {}  # (column, -1 = a, -2 = b, j = j-th pick) -> node id
    info: list[tuple[int, int]] = []

    def node(key: tuple[int, int]) -> int:
        nid = node_of.get(key)
        if nid is None:
            nid = node_of[key] = len(info)
            info.append(key)
        return nid

    edges: list[tuple[int, int]] = []

    def add(u: int, v: int, copies: int) -> None:
        for _c in range(copies):
            edges.append((u, v))

    for ci, (_x, _ai, offs, _of, _ob) in enumerate(col):
        a, b = node((ci, -1)), node((ci, -2))
        chain_up = [a] + [node((ci, j)) for j in range(len(offs))] + [b]
        o = vopt[ci]
        k = len(offs)
        if o in (_FULL1, _FULL2):
            for u, v in zip(chain_up, chain_up[1:], strict=False):
                add(u, v, 1 if o == _FULL1 else 2)
        elif o == _SPLIT:
            s = splits[ci]
            for u, v in zip(chain_up[:s + 1], chain_up[1:s + 1], strict=False):
                add(u, v, 2)
            for u, v in zip(chain_up[s + 1:], chain_up[s + 2:], strict=False):
                add(u, v, 2)
        elif o == _BOTTOM:
            for u, v in zip(chain_up[:k + 1], chain_up[1:k + 1], strict=False):
                add(u, v, 2)
        elif o == _TOP:
            for u, v in zip(chain_up[1:], chain_up[2:], strict=False):
                add(u, v, 2)
        if ci > 0:
            f, t = hcopies[ci]
            add(node((ci - 1, -1)), a, f)
            add(node((ci - 1, -2)), b, t)
    adj: list[list[int]] = [[] for _n in info]
    for e, (u, v) in enumerate(edges):
        adj[u].append(e)
        adj[v].append(e)
    used = [False] * len(edges)
    ptr = [0] * len(info)
    depot_col = next(ci for ci, c in enumerate(col) if c[1] < 0)
    start = node_of[(depot_col, 0)]  # the depot's own "pick"
    stack, circuit = [start], []
    while stack:
        u = stack[-1]
        lst = adj[u]
        while ptr[u] < len(lst) and used[lst[ptr[u]]]:
            ptr[u] += 1
        if ptr[u] == len(lst):
            circuit.append(stack.pop())
            continue
        e = lst[ptr[u]]
        used[e] = True
        x, y = edges[e]
        stack.append(y if x == u else x)
    seen: set[int] = set()
    order: list[Point] = []
    for nid in circuit:
        ci, j = info[nid]
        if j >= 0 and ci != depot_col and nid not in seen:
            seen.add(nid)
            order.append(col[ci][2][j][1])
    if len(order) != sum(len(c[2]) for c in col if c[1] >= 0):
        raise AssertionError("Euler walk missed pick points")
    return order
