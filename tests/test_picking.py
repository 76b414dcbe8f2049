"""The picking flow as a state machine, replenishment, and the wave/pick permissions (both backends):
right and wrong location (check character), right and wrong item, lots, counted and typed quantities,
short pick → ticket + re-allocation, skip and come back, cluster totes, orders → picked, the ledger and
the reservation books exact afterwards."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import make_actor
from tests.waves_seed import GTIN_P2, orders, seed_all
from wsms_tui import order_exceptions, picking, replenishment, stock, waves
from wsms_tui import orders as order_svc
from wsms_tui.barcodes import location_barcode
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, Location
from wsms_tui.db.models_orders import Allocation
from wsms_tui.errors import BadInput, PermissionDenied
from wsms_tui.picking_flow import PickingFlow
from wsms_tui.security import Actor


def released(db: Database, admin: Actor, tmp_path: Path, *rows: tuple[str, str, int]) -> int:
    seed_all(db, admin, tmp_path)
    orders(db, admin, tmp_path, *rows)
    res = waves.plan(db, admin, warehouse="W1")
    assert res.wave_id is not None and len(res.tours) == 1
    waves.release(db, admin, res.wave_id)
    return res.wave_id


def loc(code: str) -> str:
    return location_barcode(code)


def books_ok(db: Database, admin: Actor) -> None:
    assert stock.verify_ledger(db, admin).ok
    r, a = order_svc.reservation_totals(db)
    assert r == a


def pick_current(flow: PickingFlow) -> None:
    """Do the current task whole, the way a picker would (lot scan for tracked products)."""
    t = flow.view.task
    assert t is not None
    flow.feed(loc(t.location))
    assert flow.step == "item", flow.view.message
    code = t.lot if t.tracking != "none" else t.sku
    for _i in range(int(t.left)):
        flow.feed(code or "")


def test_pick_a_tour_with_refusals_lots_and_quantities(db: Database, admin: Actor, tmp_path: Path) -> None:
    wave = released(db, admin, tmp_path, ("O1", "P1", 1), ("O2", "P2", 2), ("O3", "LOT1", 2))
    clerk = make_actor(db, "clerk")
    flow = PickingFlow(db, clerk)
    assert flow.step == "tour" and [t.ref for t in flow.view.tours] == [f"W{wave}-1"]
    flow.feed(f"W{wave}-1")
    v = flow.view
    assert v.step == "location" and v.lines_left == 3 and v.meters_left > 0
    tasks = {t.sku: t for t in v.tasks}
    assert tasks["LOT1"].location == "E-02" and tasks["LOT1"].lot == "L-A"  # FEFO: the 2030 lot
    before = len(stock.ledger_page(db, admin))

    first = v.task
    assert first is not None
    other = next(t for t in v.tasks if t.location != first.location)
    # the wrong location, a bad check character, a bare code: bell, nothing posted
    for bad in (loc(other.location), f"%LOC:{first.location}:#", first.location):
        v = flow.feed(bad)
        assert v.bell and v.level == "error" and flow.step == "location"
    assert "wrong location" in flow.feed(loc(other.location)).message
    assert "check character" in flow.feed(loc(first.location)[:-1] + ("0" if loc(first.location)[-1] != "0" else "1")
                                          ).message
    flow.feed(loc(first.location))
    assert flow.step == "item"
    v = flow.feed("P9-NOT-THIS")
    assert v.bell and "wrong item" in v.message
    assert len(stock.ledger_page(db, admin)) == before
    rejected = db.read(lambda s: s.execute(select(AuditEvent.payload).where(AuditEvent.action == "scan.rejected"))
                       .scalars().all())
    assert len(rejected) == 6

    # walk the tour in route order
    while flow.step != "tour":
        t = flow.view.task
        assert t is not None
        flow.feed(loc(t.location))
        if t.sku == "P1":  # one unit: location + item = two scans
            v = flow.feed("P1")
            assert "✓ 1 × P1" in v.message and "SO-1 picked" in v.message
        elif t.sku == "P2":
            v = flow.feed(GTIN_P2)
            assert flow.step == "qty" and v.counted == 1
            v = flow.feed("3")  # more than is left: refused
            assert v.bell and flow.step == "qty"
            v = flow.feed("0" + GTIN_P2)  # a GTIN-14 of the same product counts too
            assert "✓ 2 × P2" in v.message
        else:
            v = flow.feed("09506000134352")  # the GTIN of a lot-tracked product asks for the lot
            assert flow.step == "lot"
            assert flow.feed("L-B").bell  # the wrong lot
            v = flow.feed("L-A")
            assert flow.step == "qty", (v.message, t)
            v = flow.feed("2")  # a typed number says how many in all
            assert "✓ 2 × LOT1" in v.message
    assert "done: 3 picked, 0 short" in flow.view.message
    assert {r.external_ref: r.status for r in order_svc.order_page(db, admin)} == {"O1": "picked", "O2": "picked",
                                                                                     "O3": "picked"}
    staged = db.read(lambda s: set(s.execute(
        select(Location.code).join(Allocation, Allocation.location_id == Location.id)
        .where(Allocation.status == "active")).scalars()))
    assert staged == {"W1-PACK"}
    assert waves.show(db, admin, wave).wave.status == "done"
    books_ok(db, admin)


def test_short_pick_reallocates_skip_comes_back_and_cluster_totes(db: Database, admin: Actor, tmp_path: Path) -> None:
    wave = released(db, admin, tmp_path, ("O1", "P1", 4), ("O2", "P2", 1))
    clerk = make_actor(db, "clerk")
    flow = PickingFlow(db, clerk)
    flow.feed(f"W{wave}-1")
    totes = {t.order_ref: t.tote for t in flow.view.tasks}
    assert sorted(totes.values()) == ["T1", "T2"]
    # skip the first pick: it comes back after the others (the route may start with either order)
    first = flow.view.task
    assert first is not None
    v = flow.feed("%CMD:SKIP")
    assert "comes back" in v.message and v.task is not None and v.task.id != first.id
    # cluster picking: this order continues in another tote; a tote of another order is refused
    assert flow.feed(f"%TOTE:{totes[first.order_ref]}").bell
    v = flow.feed("%TOTE:T9")
    assert "tote T9" in v.message and v.task is not None and v.task.tote == "T9"

    def short_p1() -> None:
        t = flow.view.task
        assert t is not None and t.sku == "P1" and t.location == "A-01" and t.qty == 4
        assert flow.feed("%CMD:SHORT").bell  # not before the location is scanned
        flow.feed(loc("A-01"))
        flow.feed("P1")  # one there
        v = flow.feed("%CMD:SHORT")  # the other three are not: 1 picked, 3 short, re-allocated from C-05
        assert "1 picked" in v.message and "3 × P1 short at A-01" in v.message
        assert "re-allocated from C-05" in v.message
        assert v.task is not None and v.task.location == "C-05" and v.task.qty == 3

    if first.sku == "P2":
        short_p1()
        pick_current(flow)  # the re-allocated pick at C-05
        assert flow.view.task is not None and flow.view.task.id == first.id  # the skipped one is back
        pick_current(flow)
    else:
        pick_current(flow)
        assert flow.view.task is not None and flow.view.task.id == first.id  # the skipped one is back
        short_p1()
        pick_current(flow)
    tickets = order_exceptions.ticket_page(db, admin, code="short_pick")
    assert len(tickets) == 1 and "re-allocated 3 from C-05" in tickets[0].notes
    assert flow.step == "tour" and "2 picked, 1 short" in flow.view.message  # the new task counts as picked
    detail = order_svc.order_detail(db, admin, "SO-1")
    assert detail.order.status == "picked" and detail.lines[0].allocated == 4
    books_ok(db, admin)


def test_short_pick_without_other_stock_closes_the_line_short(db: Database, admin: Actor, tmp_path: Path) -> None:
    wave = released(db, admin, tmp_path, ("O1", "LOT1", 2))
    flow = PickingFlow(db, admin)
    flow.feed(f"W{wave}-1")
    t = flow.view.task
    assert t is not None and t.location == "E-02"
    flow.feed(loc("E-02"))
    # L-B at C-02 is other stock of LOT1: re-allocated there
    v = flow.feed("%CMD:SHORT")
    assert v.task is not None and v.task.location == "C-02" and v.task.lot == "L-B"
    flow.feed(loc("C-02"))
    v = flow.feed("%CMD:SHORT")  # nothing anywhere else now
    assert "no other stock" in v.message and flow.step == "tour"
    assert order_svc.order_detail(db, admin, "SO-1").order.status == "picked"
    books_ok(db, admin)


def test_replenishment_rules_triggers_and_the_rf_flow(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_all(db, admin, tmp_path)
    # P1's faces are A-01 (5) and C-05 (3 on hand); C-05 min 5, max 12: below min at once → from reserve
    # E-10 (another face is never a source)
    replenishment.set_rule(db, admin, "A-01", "P1", min_qty=1, max_qty=5)
    rule = replenishment.set_rule(db, admin, "C-05", "P1", min_qty=5, max_qty=12)
    assert rule.on_hand == 3 and rule.level == 3
    made = replenishment.check(db, admin, "W1")
    assert [(t.from_location, t.to_location, t.qty, t.reason) for t in made] == [("E-10", "C-05", 9, "below_min")]
    assert replenishment.check(db, admin, "W1") == []  # on the way: nothing more
    # a wave that draws the P2 face D-03 (4) below its minimum creates a task at release
    replenishment.set_rule(db, admin, "D-03", "P2", min_qty=2, max_qty=6)
    orders(db, admin, tmp_path, ("O1", "P2", 3))
    res = waves.plan(db, admin, warehouse="W1")
    rel = waves.release(db, admin, res.wave_id or 0)
    assert rel.replenishments == 1
    todo = replenishment.tasks(db, admin, warehouse="W1")
    assert [(t.from_location, t.to_location, t.qty, t.reason) for t in todo] == [
        ("E-10", "C-05", 9, "below_min"), ("E-09", "D-03", 5, "wave")]

    clerk = make_actor(db, "clerk")
    flow = PickingFlow(db, clerk)
    v = flow.feed("%CMD:REPLEN")
    assert flow.step == "r_from" and v.replen is not None and v.replen.from_location == "E-10"
    assert flow.feed(loc("C-05")).bell  # the wrong end first
    flow.feed(loc("E-10"))
    assert flow.feed("P2").bell
    flow.feed("P1")
    assert flow.step == "r_to"
    flow.feed("7")  # move 7 of 9 now
    assert flow.feed(loc("E-09")).bell
    v = flow.feed(loc("C-05"))
    assert "✓ 7 × P1 E-10 → C-05" in v.message and flow.step == "r_from"
    assert v.replen is not None and v.replen.left == 2
    for code in (loc("E-10"), "P1", loc("C-05")):
        flow.feed(code)
    for code in (loc("E-09"), "P2", loc("D-03")):
        v = flow.feed(code)
    assert "replenishment done" in v.message and flow.step == "tour"
    assert replenishment.tasks(db, admin) == []
    on = {(r.location, r.sku): r.on_hand for r in stock.stock_page(db, admin, stock.StockFilter())}
    assert on[("C-05", "P1")] == 12 and on[("D-03", "P2")] == 9
    # picking the wave leaves D-03 at 6: no new task; then a pick below min (2) would create one
    flow.feed(f"W{res.wave_id}-1")
    pick_current(flow)
    assert replenishment.tasks(db, admin) == []
    books_ok(db, admin)


def test_pick_face_dropping_below_min_on_a_pick_creates_a_task(db: Database, admin: Actor, tmp_path: Path) -> None:
    wave = released(db, admin, tmp_path, ("O1", "P1", 4))  # A-01 (5) is P1's face in this test
    replenishment.set_rule(db, admin, "A-01", "P1", min_qty=2, max_qty=5)
    flow = PickingFlow(db, admin)
    flow.feed(f"W{wave}-1")
    flow.feed(loc("A-01"))
    v = None
    for _i in range(4):
        v = flow.feed("P1")
    assert v is not None and "A-01 needs replenishing" in v.message
    todo = replenishment.tasks(db, admin)
    assert [(t.from_location, t.to_location, t.qty) for t in todo] == [("C-05", "A-01", 3), ("E-10", "A-01", 1)]


def test_permissions_of_waves_picking_and_replenishment(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_all(db, admin, tmp_path)
    orders(db, admin, tmp_path, ("O1", "P1", 1))
    clerk, fin, sup = make_actor(db, "clerk"), make_actor(db, "finance"), make_actor(db, "supervisor")
    for who in (clerk, fin):
        with pytest.raises(PermissionDenied):
            waves.plan(db, who, warehouse="W1")
        with pytest.raises(PermissionDenied):
            replenishment.set_rule(db, who, "C-05", "P1", min_qty=1, max_qty=3)
        with pytest.raises(PermissionDenied):
            waves.set_cutoff(db, who, "W1", "SF", "15:00")
    res = waves.plan(db, sup, warehouse="W1")
    for who in (clerk, fin):
        with pytest.raises(PermissionDenied):
            waves.release(db, who, res.wave_id or 0)
    waves.release(db, sup, res.wave_id or 0)
    assert [w.id for w in waves.list_waves(db, fin)] == [res.wave_id]  # waves.view: everyone
    tour = picking.list_tours(db, fin)[0]
    with pytest.raises(PermissionDenied):
        picking.start_tour(db, fin, tour.ref)
    task = picking.tour_tasks(db, fin, tour.id)[0]
    with pytest.raises(PermissionDenied):
        picking.confirm_pick(db, fin, task.id, 1, op_id="f1")
    replenishment.set_rule(db, sup, "C-05", "P1", min_qty=5, max_qty=8)
    made = replenishment.check(db, sup)
    with pytest.raises(PermissionDenied):
        replenishment.confirm(db, fin, made[0].id, op_id="f2")
    replenishment.confirm(db, clerk, made[0].id, op_id="c2")
    picking.confirm_pick(db, clerk, task.id, Decimal(1), op_id="c1")
    again = picking.confirm_pick(db, clerk, task.id, Decimal(1), op_id="c1")  # the same op: posted once
    assert again.replayed
    denied = db.read(lambda s: s.execute(select(AuditEvent.payload).where(AuditEvent.action == "permission.denied"))
                     .scalars().all())
    assert len(denied) == 11
    books_ok(db, admin)


def test_the_packing_bench_finds_a_picked_order_by_its_tote(db: Database, admin: Actor, tmp_path: Path) -> None:
    from wsms_tui import packing
    from wsms_tui.db.models_waves import WaveOrder

    wave = released(db, admin, tmp_path, ("O1", "LOT1", 2))
    tote = db.read(lambda s: s.execute(select(WaveOrder.tote)).scalar_one())
    assert tote
    with pytest.raises(BadInput, match="SO-1 is picking"):  # found by its tote, but not picked yet
        packing.open_order(db, admin, tote)
    flow = PickingFlow(db, admin)
    flow.feed(f"W{wave}-1")
    task = flow.view.task
    assert task is not None and task.lot
    flow.feed(loc(task.location))
    flow.feed("09506000134352")  # LOT1's GTIN, then its lot, then how many
    flow.feed(task.lot)
    flow.feed(str(task.qty))
    assert order_svc.order_detail(db, admin, "SO-1").order.status == "picked"
    assert packing.open_order(db, admin, tote).ref == "SO-1"  # at the bench by its picking tote
