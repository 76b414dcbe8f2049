"""Stocktake services on SQLite and PostgreSQL: full, spot, cycle and sample counts end to end; blind
counting; recount by another user; approval posting the right ledger moves; picks between count and
approval (no phantom variance); bad input recorded for review; approval refused and audited without
the supervisor role; held approvals; the Wilson interval.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.helpers import make_actor, seed_basic
from wsms_tui import ledger, stock, stocktake
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, LedgerEntry, Location
from wsms_tui.db.models_stocktake import CountIssue
from wsms_tui.errors import BadInput, PermissionDenied
from wsms_tui.security import Actor
from wsms_tui.stocktake import Policy, SameCounter

LOOSE = Policy(tol_qty=Decimal(100))  # no recounts: variances go straight to review


def seed(db: Database) -> Actor:
    """seed_basic plus stock: P1 10 @A-01 and 4 @A-02, LOT1 L-7 6 @A-01, SER1 SN-1 @A-02."""
    seed_basic(db)
    admin = db.system_actor("test")
    ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="s1")
    ledger.receive(db, admin, product="P1", qty=4, location="A-02", op_id="s2")
    ledger.receive(db, admin, product="LOT1", qty=6, location="A-01", lot="L-7", op_id="s3")
    ledger.receive(db, admin, product="SER1", qty=1, location="A-02", lot="SN-1", op_id="s4")
    return admin


class Ops:
    """Fresh op ids for scans."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"op-{self.n}"


def on_hand(db: Database, admin: Actor, sku: str, location: str) -> Decimal:
    rows = stock.stock_page(db, admin, stock.StockFilter(sku=sku, location=location))
    return sum((r.on_hand for r in rows), Decimal(0))


def count_entries(db: Database, ref: str) -> list[tuple[str, Decimal, str, str, str]]:
    def work(s):  # type: ignore[no-untyped-def]
        codes = dict(s.execute(select(Location.id, Location.code)).all())
        rows = s.execute(select(LedgerEntry).where(LedgerEntry.doc_ref == ref).order_by(LedgerEntry.id)).scalars()
        return [(e.kind, e.qty, codes[e.from_location_id], codes[e.to_location_id], e.reason) for e in rows]

    return db.read(work)


def test_full_count_recount_by_another_user_and_approval(db: Database) -> None:
    admin = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    clerk2 = make_actor(db, "clerk", "clerk2")
    boss = make_actor(db, "supervisor", "boss")
    op = Ops()
    plan = stocktake.plan_full(db, boss, warehouse="W1")
    ref = plan.ref
    assert (plan.kind, plan.locations, plan.pending, plan.blind) == ("full", 3, 3, True)

    # P1 scanned 8 times (2 missing), LOT1 typed as 6 → beyond the zero tolerance: recount
    assert stocktake.start_location(db, clerk, ref, "A-01").lines == []
    for _ in range(8):
        r = stocktake.count_item(db, clerk, ref, location="A-01", product="P1", op_id=op())
    assert r.counted == 8 and not hasattr(r, "expected")
    stocktake.count_item(db, clerk, ref, location="A-01", product="LOT1", lot="L-7", qty=6, mode="set", op_id=op())
    done = stocktake.finish_location(db, clerk, ref, "A-01")
    assert (done.status, done.needs_recount) == ("recount", True)

    with pytest.raises(SameCounter, match="someone other than clerk1"):
        stocktake.start_location(db, clerk, ref, "A-01")
    with pytest.raises(SameCounter):
        stocktake.count_item(db, clerk, ref, location="A-01", product="P1", op_id=op())
    state = stocktake.start_location(db, clerk2, ref, "A-01")
    assert state.round == 2 and state.lines == []  # the recount is blind to the first count too
    stocktake.count_item(db, clerk2, ref, location="A-01", product="P1", qty=8, mode="set", op_id=op())
    stocktake.count_item(db, clerk2, ref, location="A-01", product="LOT1", lot="L-7", qty=6, mode="set", op_id=op())
    assert stocktake.finish_location(db, clerk2, ref, "A-01").status == "counted"

    # everything as expected; A-03: empty
    stocktake.count_item(db, clerk, ref, location="A-02", product="P1", qty=4, mode="set", op_id=op())
    stocktake.count_item(db, clerk, ref, location="A-02", product="SER1", lot="SN-1", op_id=op())
    assert stocktake.finish_location(db, clerk, ref, "A-02").status == "counted"
    assert stocktake.finish_location(db, clerk, ref, "A-03", empty=True).status == "counted"

    lines = stocktake.review(db, boss, ref)
    assert [(ln.location, ln.sku, ln.expected, ln.counted, ln.recount, ln.variance, ln.value) for ln in lines] == [
        ("A-01", "P1", Decimal(10), Decimal(8), Decimal(8), Decimal(-2), Decimal("-2.5"))]
    assert (lines[0].counted_by, lines[0].recount_by) == ("clerk1", "clerk2")

    decision = stocktake.approve(db, boss, ref)
    assert (decision.locations, decision.entries, decision.held, decision.closed) == (3, 1, [], True)
    assert count_entries(db, ref) == [("adjust", Decimal(2), "A-01", ledger.LOSS, "count")]
    assert on_hand(db, admin, "P1", "A-01") == 8
    assert stock.verify_ledger(db, admin).ok
    acc = stocktake.accuracy(db, boss, ref)
    assert (acc.status, acc.locations_counted, acc.locations_accurate) == ("closed", 3, 2)
    assert (acc.value_expected, acc.value_abs_variance, acc.value_net_variance) == (
        Decimal("17.5"), Decimal("2.5"), Decimal("-2.5"))  # P1 at 1.25: 14 expected; LOT1 and SER1 cost 0
    with pytest.raises(BadInput, match="closed"):
        stocktake.approve(db, boss, ref)


def test_picks_between_count_and_approval_make_no_phantom_variance(db: Database) -> None:
    admin = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")
    ref = stocktake.plan_spot(db, boss, locations=["A-01", "A-02"], policy=LOOSE).ref
    # A-01 counted right (10), A-02 counted one short (3 of 4)
    stocktake.count_item(db, clerk, ref, location="A-01", product="P1", qty=10, mode="set", op_id="c1")
    stocktake.count_item(db, clerk, ref, location="A-01", product="LOT1", lot="L-7", qty=6, mode="set", op_id="c2")
    stocktake.finish_location(db, clerk, ref, "A-01")
    stocktake.count_item(db, clerk, ref, location="A-02", product="P1", qty=3, mode="set", op_id="c3")
    stocktake.count_item(db, clerk, ref, location="A-02", product="SER1", lot="SN-1", op_id="c4")
    stocktake.finish_location(db, clerk, ref, "A-02")
    # the warehouse works on: picks and a receipt after the count, before approval
    ledger.post_move(db, admin, product="P1", qty=3, from_location="A-01", to_location=ledger.CUSTOMER,
                     op_id="pick1", kind="ship")
    ledger.post_move(db, admin, product="P1", qty=1, from_location="A-02", to_location=ledger.CUSTOMER,
                     op_id="pick2", kind="ship")
    ledger.receive(db, admin, product="LOT1", qty=5, location="A-01", lot="L-7", op_id="late-rcv")
    decision = stocktake.approve(db, boss, ref)
    assert (decision.locations, decision.entries) == (2, 1)
    assert count_entries(db, ref) == [("adjust", Decimal(1), "A-02", ledger.LOSS, "count")]
    assert on_hand(db, admin, "P1", "A-01") == 7  # 10 − 3 picked: nothing phantom
    assert on_hand(db, admin, "P1", "A-02") == 2  # 4 − 1 missing − 1 picked
    assert on_hand(db, admin, "LOT1", "A-01") == 11
    assert stock.verify_ledger(db, admin).ok


def test_pick_between_scans_of_one_line_is_no_variance(db: Database) -> None:
    """Each scan re-snapshots its line: a pick between two scans of the same product is no variance."""
    admin = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")
    ref = stocktake.plan_spot(db, boss, locations=["A-02"]).ref
    stocktake.count_item(db, clerk, ref, location="A-02", product="P1", op_id="x1")
    stocktake.count_item(db, clerk, ref, location="A-02", product="P1", op_id="x2")
    ledger.post_move(db, admin, product="P1", qty=1, from_location="A-02", to_location=ledger.CUSTOMER,
                     op_id="pick", kind="ship")
    stocktake.count_item(db, clerk, ref, location="A-02", product="P1", op_id="x3")
    stocktake.count_item(db, clerk, ref, location="A-02", product="SER1", lot="SN-1", op_id="x4")
    assert stocktake.finish_location(db, clerk, ref, "A-02").status == "counted"  # 3 counted, 3 there
    assert stocktake.approve(db, boss, ref).entries == 0
    assert stock.verify_ledger(db, admin).ok


def test_blind_counts_hide_expected_from_the_counter(db: Database) -> None:
    seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")
    ref = stocktake.plan_spot(db, boss, locations=["A-01"], policy=LOOSE).ref
    stocktake.count_item(db, clerk, ref, location="A-01", product="P1", qty=7, mode="set", op_id="b1")
    stocktake.finish_location(db, clerk, ref, "A-01")
    with pytest.raises(PermissionDenied):
        stocktake.review(db, clerk, ref)
    with pytest.raises(PermissionDenied):
        stocktake.accuracy(db, clerk, ref)
    assert [v.has_variance for v in stocktake.count_locations(db, clerk, ref)] == [False]  # not even a hint
    assert [v.has_variance for v in stocktake.count_locations(db, boss, ref)] == [True]
    state = stocktake.location_state(db, clerk, ref, "A-01")
    assert [(ln.sku, ln.counted) for ln in state.lines] == [("P1", Decimal(7))]
    assert set(state.lines[0].__dict__) == {"sku", "name", "lot", "counted", "unexpected"}  # no expected field


def test_bad_input_is_refused_or_flagged_and_recorded(db: Database) -> None:
    seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")
    ref = stocktake.plan_spot(db, boss, locations=["A-01"]).ref
    with pytest.raises(BadInput, match="A-02 is not in count"):
        stocktake.start_location(db, clerk, ref, "A-02", raw="%LOC:A-02:X")
    with pytest.raises(BadInput, match="not in count"):
        stocktake.count_item(db, clerk, ref, location="A-03", product="P1", op_id="o1")
    # LOT1's lot L-7 scanned as the lot of SER1
    with pytest.raises(BadInput, match="lot L-7 belongs to LOT1, not to SER1"):
        stocktake.count_item(db, clerk, ref, location="A-01", product="SER1", lot="L-7", op_id="o2")
    # SER1 was never in A-01: counted, but flagged
    r = stocktake.count_item(db, clerk, ref, location="A-01", product="SER1", lot="SN-9", op_id="o3")
    assert r.unexpected and r.counted == 1
    with pytest.raises(BadInput, match="already counted here"):
        stocktake.count_item(db, clerk, ref, location="A-01", product="SER1", lot="SN-9", op_id="o4")
    with pytest.raises(BadInput, match="is tracked"):
        stocktake.count_item(db, clerk, ref, location="A-01", product="LOT1", op_id="o5")
    kinds = [(i.kind, i.location) for i in stocktake.issues(db, boss, ref)]
    assert kinds == [("location_not_in_count", None), ("location_not_in_count", None),
                     ("lot_of_other_product", "A-01"), ("unexpected_product", "A-01")]
    assert all(i.actor == "clerk1" for i in stocktake.issues(db, boss, ref))
    rejected = db.read(lambda s: s.execute(select(func.count()).select_from(AuditEvent)
                                           .where(AuditEvent.action == "scan.rejected")).scalar_one())
    assert rejected == 3
    # replaying a scan's op id posts once
    again = stocktake.count_item(db, clerk, ref, location="A-01", product="SER1", lot="SN-9", op_id="o3")
    assert again.replayed and again.counted == 1
    stocktake.finish_location(db, clerk, ref, "A-01")
    lines = {ln.sku: ln for ln in stocktake.review(db, boss, ref)}
    assert lines["SER1"].unexpected and lines["SER1"].variance == 1
    assert db.read(lambda s: s.execute(select(func.count()).select_from(CountIssue)).scalar_one()) == 4


def test_approval_without_supervisor_role_is_refused_and_audited(db: Database) -> None:
    admin = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")
    ref = stocktake.plan_spot(db, boss, locations=["A-01"], policy=LOOSE).ref
    stocktake.count_item(db, clerk, ref, location="A-01", product="P1", qty=1, mode="set", op_id="p1")
    stocktake.finish_location(db, clerk, ref, "A-01")
    before = len(count_entries(db, ref))
    for who in (clerk, make_actor(db, "finance", "fin")):
        with pytest.raises(PermissionDenied, match="may not count.approve"):
            stocktake.approve(db, who, ref)
    with pytest.raises(PermissionDenied):
        stocktake.plan_full(db, clerk, warehouse="W1")
    denied = db.read(lambda s: [json.loads(p) for p in s.execute(
        select(AuditEvent.payload).where(AuditEvent.action == "permission.denied")).scalars()])
    assert [d["wanted"] for d in denied] == ["count.approve", "count.approve", "count.plan"]
    assert len(count_entries(db, ref)) == before == 0
    assert stocktake.approve(db, admin, ref).entries == 2  # P1 −9, LOT1 −6


def test_approval_holds_what_the_ledger_would_refuse(db: Database) -> None:
    admin = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")
    ref = stocktake.plan_spot(db, boss, locations=["A-01", "A-02"], policy=LOOSE).ref
    stocktake.finish_location(db, clerk, ref, "A-01", empty=True)  # everything at A-01 missing
    stocktake.finish_location(db, clerk, ref, "A-02", empty=True)
    ledger.reserve(db, admin, product="P1", location="A-02", qty=1, op_id="res")  # an order holds one at A-02
    d = stocktake.approve(db, boss, ref)
    assert d.locations == 1 and d.held == ["A-02: P1: 1 reserved, only 0 would be left"]
    assert not d.closed
    assert on_hand(db, admin, "P1", "A-01") == 0 and on_hand(db, admin, "P1", "A-02") == 4
    ledger.unreserve(db, admin, product="P1", location="A-02", qty=1, op_id="unres")
    d = stocktake.approve(db, boss, ref, locations=["A-02"])
    assert (d.locations, d.entries, d.closed) == (1, 2, True)
    assert stock.verify_ledger(db, admin).ok


def test_reject_and_close(db: Database) -> None:
    admin = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")
    ref = stocktake.plan_full(db, boss, warehouse="W1", policy=LOOSE).ref
    stocktake.finish_location(db, clerk, ref, "A-01", empty=True)
    with pytest.raises(BadInput, match="say why"):
        stocktake.reject(db, boss, ref, locations=["A-01"], reason=" ")
    with pytest.raises(BadInput, match="wait for approval"):
        stocktake.close_count(db, boss, ref)
    d = stocktake.reject(db, boss, ref, locations=["A-01"], reason="counter skipped the top shelf")
    assert (d.decision, d.locations, d.closed) == ("reject", 1, False)
    d = stocktake.close_count(db, boss, ref)
    assert d.closed and d.locations == 2
    assert count_entries(db, ref) == [] and on_hand(db, admin, "P1", "A-01") == 10
    assert stocktake.count_summary(db, boss, ref).status == "closed"


def test_cycle_count_abc_daily_list_and_next_date(db: Database) -> None:
    admin = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")
    ledger.adjust(db, admin, product="LOT1", location="A-03", delta=5, reason="found", lot="L-8", op_id="a1")
    # sales: P1 (1.25 each) sells a lot, LOT1 (cost 0) nothing: P1 is A, LOT1 and SER1 C
    for i in range(4):
        ledger.post_move(db, admin, product="P1", qty=1, from_location="A-01", to_location=ledger.CUSTOMER,
                         op_id=f"sale{i}", kind="ship")
    today = datetime.now(UTC).date()
    policy = Policy(cycle_days=(("A", 30), ("B", 91), ("C", 365)))
    assert stocktake.abc_classes(db, boss, warehouse="W1", day=today, policy=policy) == {"A": 2, "B": 0, "C": 1}
    due = stocktake.cycle_list(db, clerk, warehouse="W1", day=today, limit=10, policy=policy)
    assert [(d.location, d.abc, d.frequency_days, d.last_counted) for d in due] == [
        ("A-01", "A", 30, None), ("A-02", "A", 30, None), ("A-03", "C", 365, None)]
    # the steady-state daily rate (2/30 + 1/365 < 1) caps the list at one location
    assert [d.location for d in stocktake.cycle_list(db, clerk, warehouse="W1", day=today, policy=policy)] == ["A-01"]
    plan = stocktake.plan_cycle(db, boss, warehouse="W1", day=today, limit=2, policy=policy)
    assert (plan.kind, plan.locations) == ("cycle", 2)
    # planned locations leave the list until their count is decided
    assert [d.location for d in stocktake.cycle_list(db, clerk, warehouse="W1", day=today, limit=10,
                                                     policy=policy)] == ["A-03"]
    stocktake.count_sheet(db, clerk, plan.ref, [("A-01", "P1", None, 6), ("A-01", "LOT1", "L-7", 6),
                                                ("A-02", "P1", None, 4), ("A-02", "SER1", "SN-1", 1)])
    assert stocktake.approve(db, boss, plan.ref).closed
    later = stocktake.cycle_list(db, clerk, warehouse="W1", day=today + timedelta(days=29), limit=10, policy=policy)
    assert [d.location for d in later] == ["A-03"]
    due_again = stocktake.cycle_list(db, clerk, warehouse="W1", day=today + timedelta(days=30), limit=10,
                                     policy=policy)
    assert [(d.location, d.last_counted, d.days_since) for d in due_again][:2] == [
        ("A-03", None, None), ("A-01", today, 30)]


def test_sample_count_estimates_accuracy_with_a_wilson_interval(db: Database) -> None:
    admin = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")
    plan = stocktake.plan_sample(db, boss, warehouse="W1", size=2, seed=7, policy=LOOSE)
    again = stocktake.plan_sample  # the same seed picks the same locations (checked through the scope)
    assert plan.kind == "sample" and plan.locations == 2 and "seed 7" in plan.scope and again
    codes = [v.location for v in stocktake.count_locations(db, clerk, plan.ref)]
    expected_rows = {"A-01": [("P1", None, 10), ("LOT1", "L-7", 6)], "A-02": [("P1", None, 3), ("SER1", "SN-1", 1)],
                     "A-03": []}
    rows = [(c, sku, lot, q) for c in codes for sku, lot, q in expected_rows[c]]
    report = stocktake.count_sheet(db, clerk, plan.ref, rows + [(c, "", None, 0) for c in codes])
    assert report.locations == 2
    acc = stocktake.accuracy(db, boss, plan.ref)
    accurate = sum(1 for c in codes if c != "A-02")
    assert (acc.locations_counted, acc.locations_accurate, acc.population) == (2, accurate, 3)
    lo, hi = stocktake.wilson_interval(accurate, 2)
    assert (acc.ci_low, acc.ci_high) == (pytest.approx(lo), pytest.approx(hi))
    stocktake.approve(db, boss, plan.ref)
    assert stocktake.accuracy(db, boss, plan.ref).status == "closed"
    assert stock.verify_ledger(db, admin).ok


def test_wilson_interval_known_values() -> None:
    lo, hi = stocktake.wilson_interval(90, 100)
    assert (round(lo, 4), round(hi, 4)) == (0.8256, 0.9448)
    assert stocktake.wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = stocktake.wilson_interval(10, 10)
    assert hi == pytest.approx(1.0) and round(lo, 4) == 0.7225


def test_a_location_is_in_one_open_count_at_a_time(db: Database) -> None:
    seed(db)
    boss = make_actor(db, "supervisor", "boss")
    first = stocktake.plan_spot(db, boss, locations=["A-01"])
    second = stocktake.plan_full(db, boss, warehouse="W1")
    assert (second.locations, second.skipped) == (2, 1)
    with pytest.raises(BadInput, match="nothing to count"):
        stocktake.plan_spot(db, boss, locations=["A-01"])
    assert {c.ref for c in stocktake.list_counts(db, boss)} == {first.ref, second.ref}


@pytest.mark.parametrize("role", ["clerk", "finance", "supervisor", "admin"])
def test_every_role_against_the_count_services(db: Database, role: str) -> None:
    """Each count.* action, allowed or refused (refusals audited as permission.denied, nothing written)."""
    seed(db)
    boss = make_actor(db, "supervisor", "boss")
    actor = make_actor(db, role, f"the-{role}")
    ref = stocktake.plan_spot(db, boss, locations=["A-01"], policy=LOOSE).ref
    calls = {
        "count.view": lambda: stocktake.list_counts(db, actor),
        "count.count": lambda: stocktake.count_item(db, actor, ref, location="A-01", product="P1", qty=10,
                                                    mode="set", op_id=f"{role}-1"),
        "count.review": lambda: stocktake.review(db, actor, ref),
        "count.plan": lambda: stocktake.plan_spot(db, actor, locations=["A-02"]),
        "count.approve": lambda: stocktake.close_count(db, actor, ref),
    }
    for action, call in calls.items():
        if actor.can(action):
            call()
            continue
        before = db.read(lambda s: s.execute(select(func.max(AuditEvent.seq))).scalar())
        with pytest.raises(PermissionDenied, match=action):
            call()
        events = db.read(lambda s, b=before: [(e.action, json.loads(e.payload)["wanted"]) for e in s.execute(
            select(AuditEvent).where(AuditEvent.seq > b)).scalars()])
        assert events == [("permission.denied", action)]


def test_tolerances_by_quantity_percent_and_value(db: Database) -> None:
    """Within tolerance the variance goes straight to review; beyond it (quantity, % or value) a recount."""
    seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")

    def first_count(policy: Policy, counted: int) -> str:
        ref = stocktake.plan_spot(db, boss, locations=["A-01"], policy=policy).ref
        stocktake.count_item(db, clerk, ref, location="A-01", product="P1", qty=counted, mode="set", op_id=f"{ref}-1")
        stocktake.count_item(db, clerk, ref, location="A-01", product="LOT1", lot="L-7", qty=6, mode="set",
                             op_id=f"{ref}-2")
        status = stocktake.finish_location(db, clerk, ref, "A-01").status
        stocktake.reject(db, boss, ref, locations=["A-01"], reason="test") if status != "recount" else \
            stocktake.close_count(db, boss, ref)
        return status

    assert first_count(Policy(tol_qty=Decimal(2)), 8) == "counted"  # off by 2: within 2 units
    assert first_count(Policy(tol_qty=Decimal(2)), 7) == "recount"
    assert first_count(Policy(tol_pct=Decimal(20)), 8) == "counted"  # 20 % of 10
    assert first_count(Policy(tol_pct=Decimal(20)), 12) == "counted"
    assert first_count(Policy(tol_pct=Decimal(20)), 13) == "recount"
    # value: 3 × 1.25 = 3.75 beyond 3.00 even though 3 units are within the quantity tolerance
    assert first_count(Policy(tol_qty=Decimal(5), tol_value=Decimal(3)), 7) == "recount"
    assert first_count(Policy(tol_qty=Decimal(5), tol_value=Decimal(4)), 7) == "counted"


def test_policy_from_settings() -> None:
    from wsms_tui.config import StocktakeSettings

    p = Policy.from_settings(StocktakeSettings(tol_qty="1.5", tol_value="20", cycle_days_a=7), blind=False)
    assert (p.tol_qty, p.tol_value, p.blind, p.days("A"), p.days("C")) == (Decimal("1.5"), Decimal(20), False, 7, 365)
    with pytest.raises(BadInput):
        Policy.from_settings(StocktakeSettings(tol_qty="-1"))
    with pytest.raises(BadInput):
        Policy.from_settings(StocktakeSettings(cycle_days_b=0))


def test_bench_runs_in_its_tiny_mode(tmp_path: Path) -> None:
    """bench/stocktake.py end to end on the tiny demo (SQLite), so it never rots; figures are not checked."""
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "bench.stocktake", "--tiny", "--cache-dir", str(tmp_path), "--json",
                           str(out)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "cycle list" in proc.stdout and "approve full count" in proc.stdout and "ledger verify OK" in proc.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))["figures"]
    assert [f["name"] for f in figures] == ["cycle list", "approve full count"]
    assert all(f["seconds"] > 0 and f["baseline"] > 0 for f in figures)


def test_approval_and_picks_at_the_same_time_keep_the_books(db: Database) -> None:
    """An approval racing picks and counting scans on the same quants: no deadlock, nothing lost, ledger clean."""
    import threading

    admin = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss")
    ref = stocktake.plan_spot(db, boss, locations=["A-01", "A-02"], policy=LOOSE).ref
    stocktake.count_sheet(db, clerk, ref, [("A-01", "P1", None, 9), ("A-01", "LOT1", "L-7", 5),
                                           ("A-02", "P1", None, 4), ("A-02", "SER1", "SN-1", 1)])
    errors: list[BaseException] = []

    def picks() -> None:
        try:
            for i in range(8):
                ledger.post_move(db, admin, product="P1", qty=1, from_location="A-01" if i % 2 else "A-02",
                                 to_location=ledger.CUSTOMER, op_id=f"race-{i}", kind="ship")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=picks)
    t.start()
    decision = stocktake.approve(db, boss, ref)
    t.join(30)
    assert not t.is_alive() and errors == []
    assert (decision.locations, decision.entries) == (2, 2)
    assert on_hand(db, admin, "P1", "A-01") == 5 and on_hand(db, admin, "P1", "A-02") == 0  # 10−1−4, 4−4
    assert on_hand(db, admin, "LOT1", "A-01") == 5
    assert stock.verify_ledger(db, admin).ok
