"""Batching: capacity respected, every order line in exactly one tour, deterministic, beats FCFS."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wsms_tui.batching import Capacity, Line, Order, name_sorted_travel, plan_batches
from wsms_tui.errors import BadInput
from wsms_tui.layout import demo_layout
from wsms_tui.routing import Router


def demo_router(code: str = "SH1", aisles: int = 22, bays: int = 25, levels: int = 5) -> tuple[Router, list[str]]:
    spec = demo_layout(code, aisles, bays)
    loc = spec.locator()
    codes = [f"{code}-A{a:02d}-{b:02d}-{lv}" for a in range(1, aisles + 1) for b in range(1, bays + 1)
             for lv in range(1, levels + 1)]
    points = {}
    for c in codes:
        p = loc.position(c.split("-")[1], c.split("-")[2])
        assert p is not None
        points[c] = p.point
    return Router(spec.geometry(), points), codes


def demo_orders(codes: list[str], n: int, seed: int = 7) -> list[Order]:
    """Demo-like orders: 1–8 lines (mostly 1–2), skewed popularity over randomly slotted locations."""
    rng = random.Random(seed)
    pop = codes[:]
    rng.shuffle(pop)
    weights = [1 / (i + 1) ** 0.8 for i in range(len(pop))]
    base = datetime(2026, 11, 1, 8, tzinfo=UTC)
    out = []
    for i in range(n):
        k = min(1 + int(rng.expovariate(1 / 1.5)), 8)
        lines = tuple(Line(loc, 1, round(rng.uniform(0.2, 3.0), 2), round(rng.uniform(0.1, 2.0), 2), f"{i}.{j}")
                      for j, loc in enumerate(rng.choices(pop, weights, k=k)))
        out.append(Order(f"SO{i:05d}", lines, carrier=rng.choice(["SF", "UPS"]),
                         cutoff=base + timedelta(hours=rng.choice([4, 8])), priority=rng.choice([0, 0, 0, 1]),
                         seq=i))
    return out


def check_plan(orders: list[Order], plan, cap: Capacity) -> None:  # type: ignore[no-untyped-def]
    want = Counter((o.id, i) for o in orders for i in range(len(o.lines)))
    got = Counter(line for t in plan.tours for line in t.lines)
    assert got == want, "every order line in exactly one tour"
    by_id = {o.id: o for o in orders}
    split = set(plan.split_orders)
    for t in plan.tours:
        locs = {by_id[o].lines[i].location for o, i in t.lines}
        assert set(t.stops) == locs
        if not any(o in split for o in t.orders):
            assert cap.fits(t.n_lines, t.volume, t.weight, len(t.orders)), t
    for o in orders:  # an order is split only when it cannot fit one cart
        tours_of = {t.number for t in plan.tours if o.id in t.orders}
        if o.id not in split:
            assert len(tours_of) == 1


CAP = Capacity(lines=30, volume=120.0, weight=80.0, orders=8)


@pytest.mark.parametrize("method", ["savings", "seed", "fcfs"])
def test_capacity_and_coverage_on_demo_like_orders(method: str) -> None:
    router, codes = demo_router()
    orders = demo_orders(codes, 400)
    plan = plan_batches(orders, router, CAP, method=method)
    check_plan(orders, plan, CAP)
    assert abs(plan.travel - sum(t.length for t in plan.tours)) < 1e-6
    for t in plan.tours:
        assert abs(router.route_length(t.stops) - t.length) < 1e-6 and t.exact
    if method == "fcfs":
        assert plan.travel == plan.fcfs_travel and plan.saving_pct == 0
    else:
        assert plan.travel <= 0.85 * plan.fcfs_travel, (plan.travel, plan.fcfs_travel)
        assert plan.travel < name_sorted_travel(orders, router, CAP)


def test_beats_fcfs_on_the_two_block_demo_warehouse() -> None:
    router, codes = demo_router("LA1", 8, 10, 3)
    orders = demo_orders(codes, 200, seed=3)
    plan = plan_batches(orders, router, CAP)
    check_plan(orders, plan, CAP)
    assert plan.travel < plan.fcfs_travel


def test_deterministic() -> None:
    router, codes = demo_router()
    orders = demo_orders(codes, 300, seed=11)
    a = plan_batches(orders, router, CAP)
    b = plan_batches(list(reversed(orders)), router, CAP)
    assert a == plan_batches(orders, router, CAP)
    assert [t.orders for t in a.tours] == [t.orders for t in b.tours]


def test_groups_stay_apart_and_urgent_tours_come_first() -> None:
    router, codes = demo_router()
    orders = demo_orders(codes, 200)
    plan = plan_batches(orders, router, CAP, group_by=lambda o: (o.carrier, o.cutoff))
    by_id = {o.id: o for o in orders}
    for t in plan.tours:
        assert len({(by_id[o].carrier, by_id[o].cutoff) for o in t.orders}) == 1
    cutoffs = [t.cutoff for t in plan.tours]
    assert cutoffs == sorted(cutoffs)  # type: ignore[type-var]


def test_an_order_too_big_for_a_cart_is_split_and_named() -> None:
    router, codes = demo_router()
    big = Order("BIG", tuple(Line(codes[i * 7], 1, 1.0, 1.0) for i in range(70)), seq=0)
    heavy = Order("HEAVY", (Line(codes[3], 1, 1.0, 500.0),), seq=1)
    small = Order("S", (Line(codes[5], 1, 1.0, 1.0),), seq=2)
    plan = plan_batches([big, heavy, small], router, CAP)
    check_plan([big, heavy, small], plan, CAP)
    assert set(plan.split_orders) == {"BIG", "HEAVY"} and plan.over_capacity == ("HEAVY#1",)
    assert sum(1 for t in plan.tours if "BIG" in t.orders) == 3


def test_bad_input() -> None:
    router, codes = demo_router()
    with pytest.raises(BadInput, match="twice"):
        plan_batches([Order("A", (Line(codes[0]),)), Order("A", (Line(codes[1]),))], router, CAP)
    with pytest.raises(BadInput, match="method"):
        plan_batches([], router, CAP, method="magic")
    with pytest.raises(BadInput):
        plan_batches([], router, Capacity(lines=0))
    empty = plan_batches([], router, CAP)
    assert empty.tours == () and empty.travel == 0


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_capacity_and_coverage_hypothesis(data: st.DataObject) -> None:
    router, codes = demo_router("SH1", 6, 8, 2)
    n = data.draw(st.integers(0, 40))
    orders = []
    for i in range(n):
        k = data.draw(st.integers(1, 6))
        lines = tuple(Line(data.draw(st.sampled_from(codes)), 1, data.draw(st.sampled_from([0.0, 0.5, 4.0])),
                           data.draw(st.sampled_from([0.0, 1.0, 9.0]))) for _j in range(k))
        orders.append(Order(f"O{i}", lines, seq=data.draw(st.integers(0, 5)), priority=data.draw(st.integers(0, 2))))
    cap = Capacity(lines=data.draw(st.sampled_from([None, 1, 3, 10])),
                   volume=data.draw(st.sampled_from([None, 5.0, 20.0])),
                   weight=data.draw(st.sampled_from([None, 10.0, 30.0])),
                   orders=data.draw(st.sampled_from([None, 1, 4])))
    for method in ("savings", "seed", "fcfs"):
        plan = plan_batches(orders, router, cap, method=method)
        check_plan(orders, plan, cap)
        assert plan.travel <= plan.fcfs_travel + 1e-6
