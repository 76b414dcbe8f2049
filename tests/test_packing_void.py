"""Voiding (unpacking) a box booked at the packing bench, on SQLite and PostgreSQL: the box is cancelled with its
carrier and in wsms, the order goes back from ``packed``, its units pack again (the next box numbers on), a shipment
left without boxes is cancelled so the next box may go with another carrier; a second void writes nothing; a shipped
box is refused; a carrier that refuses (the fake carrier's 409: collected already) or fails leaves everything as it
was; a label still waiting in the spool is cancelled, a printed one left alone; the exception actions and the
channel's import that refuse changes under a booked box accept them after the void; ``wsms shipments void``.
The ledger verifies and Σ reservations = Σ active allocations throughout (closing a box writes no ledger row, so
voiding one reverses none)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from tests.fake_carrier import FakeCarrier
from tests.helpers import make_actor
from tests.orders_seed import line, order_csv
from tests.test_exceptions_packed import state
from tests.test_packing import books_ok, feed, http_settings, ledger_rows, pack_settings, seed_pack, shipped_by_sku
from wsms_tui import carriers, orders, packing
from wsms_tui import order_exceptions as ex
from wsms_tui.cli import app
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, PrintJob
from wsms_tui.db.models_shipping import Shipment, ShipmentBox
from wsms_tui.errors import BadInput, PermissionDenied
from wsms_tui.order_import import import_orders
from wsms_tui.packing_flow import PackingFlow
from wsms_tui.security import Actor

runner = CliRunner()


def audits(db: Database, action: str) -> list[dict[str, Any]]:
    import json

    rows = db.read(lambda s: s.execute(select(AuditEvent.payload).where(AuditEvent.action == action)
                                       .order_by(AuditEvent.seq)).scalars().all())
    return [json.loads(p) if isinstance(p, str) else p for p in rows]


def box_status(db: Database) -> list[tuple[int, int, str]]:
    """(shipment, box_no, status) of every box, oldest first."""
    return [tuple(r) for r in db.read(lambda s: s.execute(
        select(ShipmentBox.shipment_id, ShipmentBox.box_no, ShipmentBox.status).order_by(ShipmentBox.id)).all())]


def shipment_status(db: Database) -> list[tuple[str, str]]:
    return [tuple(r) for r in db.read(lambda s: s.execute(select(Shipment.carrier, Shipment.status)
                                                          .order_by(Shipment.id)).all())]


def box(db: Database, admin: Actor, ref: str, box_no: int) -> packing.BoxView:
    return next(b for b in packing.pack_order(db, admin, ref).open_boxes if b.box_no == box_no)


def test_void_unpacks_the_box_and_its_units_pack_again(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    st = pack_settings()
    flow = PackingFlow(db, admin, st)
    v = feed(flow, "SHOP:O1", "P1", "P1", "P1", "%CMD:DONE", "S", "1.2", "P2", "P2", "%CMD:DONE", "M", "0.9")
    assert v.step == "confirm" and v.order is not None and v.order.status == "packed"
    ledger_before = ledger_rows(db)
    two = box(db, admin, "SHOP:O1", 2)

    with pytest.raises(BadInput, match="say why"):
        packing.void_box(db, admin, st, two.sscc, reason="  ")
    with pytest.raises(BadInput, match="at most 200"):
        packing.void_box(db, admin, st, two.sscc, reason="x" * 201)
    with pytest.raises(PermissionDenied):
        packing.void_box(db, make_actor(db, "finance"), st, two.sscc, reason="wrong weight")
    assert box_status(db) == [(1, 1, "packed"), (1, 2, "packed")]

    res = packing.void_box(db, admin, st, two.tracking, reason="  wrong weight  ")  # by tracking number
    assert not res.already and res.box.status == "cancelled" and res.order_status == "allocated"
    assert not res.shipment_cancelled  # box 1 still goes with this shipment
    assert box_status(db) == [(1, 1, "packed"), (1, 2, "cancelled")] and shipment_status(db) == [("local", "open")]
    po = packing.pack_order(db, admin, "SHOP:O1")
    assert [(ln.sku, ln.packed, ln.to_pack) for ln in po.lines] == [("P1", 3, 0), ("P2", 0, 2)]
    assert [b.box_no for b in po.open_boxes] == [1]
    last = orders.order_timeline(db, admin, "SHOP:O1")[1][-1]
    assert (last.from_status, last.to_status) == ("packed", "allocated")
    assert f"box 2 (SSCC {two.sscc}" in last.note and "wrong weight" in last.note
    [rec] = audits(db, "packing.void")
    assert rec["sscc"] == two.sscc and rec["tracking"] == two.tracking and rec["carrier"] == "local"
    assert rec["reason"] == "wrong weight" and rec["order"] == "SO-1"
    assert ledger_rows(db) == ledger_before  # nothing to reverse: closing a box wrote no ledger row
    books_ok(db, admin)

    # again: void already, nothing written twice
    before = state(db)
    again = packing.void_box(db, admin, st, two.sscc, reason="wrong weight")
    assert again.already and again.box.status == "cancelled" and again.order_status == "allocated"
    assert state(db) == before and len(audits(db, "packing.void")) == 1

    # the units pack again: the flow sees them, the next box numbers on (box 2's number and SSCC are not reused)
    v = feed(flow, "%CMD:CANCEL", "SHOP:O1")
    assert v.step == "item" and v.order is not None and v.order.to_pack == 2
    v = feed(flow, "P2", "P2", "%CMD:DONE", "M", "0.95")
    assert v.step == "confirm" and v.last_box is not None and v.last_box.box_no == 3
    assert v.last_box.sscc != two.sscc and v.order is not None and v.order.status == "packed"
    v = flow.feed("%CMD:DONE")
    assert v.shipped is not None and v.shipped.status == "shipped" and v.shipped.boxes == 2
    assert two.tracking not in v.shipped.trackings and len(v.shipped.trackings) == 2
    assert box_status(db) == [(1, 1, "shipped"), (1, 2, "cancelled"), (1, 3, "shipped")]
    assert shipped_by_sku(db) == {"P1": 3, "P2": 2}
    [row] = packing.list_shipments(db, admin, order="SHOP:O1")
    assert row.boxes == 2 and two.tracking not in row.trackings and row.weight_kg == Decimal("2.15")
    books_ok(db, admin)

    # a shipped box has left: a return, not a void
    one = next(b for b in packing.pack_order(db, admin, "SHOP:O1").boxes if b.box_no == 1)
    with pytest.raises(BadInput, match=r"box 1 of SO-1 .*shipped on \d{4}-\d\d-\d\d .*handle it as a return"):
        packing.void_box(db, admin, st, one.sscc, reason="customer changed the order")
    assert len(audits(db, "packing.void")) == 1


def test_void_the_only_box_cancels_the_shipment_and_another_carrier_may_book(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    st = pack_settings()
    po = packing.open_order(db, admin, "SHOP:O1")
    p1, p2 = (packing.match_item(db, admin, po.id, sku) for sku in ("P1", "P2"))
    first = packing.close_box(db, admin, st, "SHOP:O1", items=[packing.BoxItem(p1.line_id, Decimal(3))], box="S",
                              weight="1.2", op_id="b1")
    assert first.box.carrier == "local" and first.order_status == "allocated"
    with pytest.raises(BadInput, match="the open boxes of SO-1 go with local"):  # one carrier per open shipment
        packing.close_box(db, admin, st, "SHOP:O1", items=[packing.BoxItem(p2.line_id, Decimal(2))], box="S",
                          weight="1", op_id="b2", carrier="manual", waybill="JD0001234567")

    res = packing.void_box(db, admin, st, first.box.sscc, reason="goes with the market's courier")
    assert res.shipment_cancelled and res.order_status == "allocated"
    assert shipment_status(db) == [("local", "cancelled")]
    last = orders.order_timeline(db, admin, "SHOP:O1")[1][-1]  # the status stays: the timeline still says so
    assert (last.from_status, last.to_status) == ("allocated", "allocated") and "voided" in last.note
    assert [s.boxes for s in packing.list_shipments(db, admin, status="cancelled")] == [0]

    a = packing.close_box(db, admin, st, "SHOP:O1", items=[packing.BoxItem(p2.line_id, Decimal(2))], box="S",
                          weight="1", op_id="b2", carrier="manual", waybill="JD0001234567")
    b = packing.close_box(db, admin, st, "SHOP:O1", items=[packing.BoxItem(p1.line_id, Decimal(3))], box="S",
                          weight="1.2", op_id="b3", carrier="manual", waybill="JD0001234568")
    assert (a.box.carrier, a.box.box_no, b.box.box_no, b.order_status) == ("manual", 1, 2, "packed")
    assert len({first.box.sscc, a.box.sscc, b.box.sscc}) == 3  # a voided SSCC is never used again
    assert shipment_status(db) == [("local", "cancelled"), ("manual", "open")]
    out = packing.ship(db, admin, "SHOP:O1", op_id="s1")
    assert out.status == "shipped" and sorted(out.trackings) == ["JD0001234567", "JD0001234568"]
    assert shipped_by_sku(db) == {"P1": 3, "P2": 2}
    books_ok(db, admin)


def test_an_order_whose_only_box_was_voided_may_go_into_a_wave_again(db: Database, admin: Actor,
                                                                       tmp_path: Path) -> None:
    from wsms_tui import waves

    seed_pack(db, admin, tmp_path)
    st = pack_settings()
    before = db.read(waves._releasable_by_warehouse)
    po = packing.open_order(db, admin, "SHOP:O1")
    p1 = packing.match_item(db, admin, po.id, "P1")
    first = packing.close_box(db, admin, st, "SHOP:O1", items=[packing.BoxItem(p1.line_id, Decimal(1))], box="S",
                              weight="1", op_id="b1")
    boxed = db.read(waves._releasable_by_warehouse)
    assert sum(n for _c, _i, n in boxed) == sum(n for _c, _i, n in before) - 1  # being packed: no wave takes it
    packing.void_box(db, admin, st, first.box.sscc, reason="packed at the wrong bench")
    assert db.read(waves._releasable_by_warehouse) == before


def test_void_after_a_wave_goes_back_to_picked(db: Database, admin: Actor, tmp_path: Path) -> None:
    """An order packed after picking goes back to ``picked`` (its stock waits at the packing staging location),
    not to ``allocated`` (which a wave would plan and pick again)."""
    seed_pack(db, admin, tmp_path)
    st = pack_settings()
    oid = packing.pack_order(db, admin, "MARKET:M1").id
    db.write(lambda s: orders.set_status(s, admin, oid, "allocated", "picked", "picked (test: a wave's pick)"))
    v = feed(PackingFlow(db, admin, st), "MARKET:M1", "P1", "%CMD:DONE", "S", "0.4")
    assert v.step == "confirm" and v.order is not None and v.order.status == "packed"
    res = packing.void_box(db, admin, st, box(db, admin, "MARKET:M1", 1).sscc, reason="damaged when boxed")
    assert res.order_status == "picked" and res.shipment_cancelled
    assert packing.open_order(db, admin, "MARKET:M1").to_pack == 1
    books_ok(db, admin)


def test_http_carrier_cancel_refused_or_failed_leaves_everything(
        db: Database, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_pack(db, admin, tmp_path)
    monkeypatch.setenv("FAKE_CARRIER_KEY", "secret")
    with FakeCarrier() as fake:
        st = http_settings(fake, timeout_s=2)
        v = feed(PackingFlow(db, admin, st), "MARKET:M1", "P1", "%CMD:DONE", "S", "0.4")
        assert v.last_box is not None and v.last_box.tracking == "FC00000001"
        sscc = v.last_box.sscc
        before = state(db)

        fake.collected.add(sscc)
        with pytest.raises(carriers.CarrierError, match=r"carrier fast refused: the driver collected it already "
                                                         r"\(HTTP 409\)"):
            packing.void_box(db, admin, st, sscc, reason="wrong box")
        fake.collected.clear()
        fake.mode = "fail"
        with pytest.raises(carriers.CarrierError, match=r"failed: booking system down \(HTTP 503\); nothing was "
                                                         r"saved here"):
            packing.void_box(db, admin, st, sscc, reason="wrong box")
        assert state(db) == before  # nothing written: box, order, timeline, audit
        assert fake.cancels == [sscc]  # the 503 came before the fake looked at the booking

        fake.mode = "ok"
        res = packing.void_box(db, admin, st, sscc, reason="wrong box")
        assert res.box.status == "cancelled" and res.order_status == "allocated" and res.shipment_cancelled
        cancel = [(p, h) for m, p, h in fake.requests if m == "POST" and p.endswith("/cancel")]
        assert cancel[-1][0] == f"/shipments/{sscc}/cancel" and cancel[-1][1].get("Idempotency-Key") == sscc
        assert cancel[-1][1].get("Authorization") == "Bearer secret"
        assert carriers.carrier(st, "fast").track("FC00000001").status == "cancelled"
        carriers.carrier(st, "fast").cancel_shipment("FC00000001", sscc)  # cancelling twice is fine
        n = len(fake.cancels)
        assert packing.void_box(db, admin, st, sscc, reason="wrong box").already
        assert len(fake.cancels) == n  # void already: the carrier is not asked again
    assert packing.open_order(db, admin, "MARKET:M1").to_pack == 1
    books_ok(db, admin)


def test_a_box_that_ships_while_it_is_being_voided_is_recorded_for_a_supervisor(
        db: Database, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another bench ships the order between the carrier's cancel and the void's transaction: nothing of the void
    is written, and the parcel that left on a cancelled booking is an exception ticket and an audit event, not
    only a red line on one screen."""
    from wsms_tui.db.models_orders import ExceptionTicket

    seed_pack(db, admin, tmp_path)
    monkeypatch.setenv("FAKE_CARRIER_KEY", "secret")
    with FakeCarrier() as fake:
        st = http_settings(fake, timeout_s=2)
        v = feed(PackingFlow(db, admin, st), "MARKET:M1", "P1", "%CMD:DONE", "S", "0.4")
        assert v.last_box is not None
        sscc = v.last_box.sscc
        fake.on_cancel = lambda ref: packing.ship(db, admin, "MARKET:M1", op_id="ship-at-bench-2")
        with pytest.raises(BadInput, match="shipped while it was being voided: carrier fast was asked to cancel "
                                           "FC00000001; call them"):
            packing.void_box(db, admin, st, sscc, reason="wrong box")
    assert [s for _sh, _n, s in box_status(db)] == ["shipped"]
    assert audits(db, "packing.void") == []
    failed = audits(db, "packing.void_failed")
    assert [(f["sscc"], f["tracking"], f["reason"]) for f in failed] == [(sscc, "FC00000001", "wrong box")]
    tickets = db.read(lambda s: s.execute(select(ExceptionTicket.code, ExceptionTicket.status)).all())
    assert [tuple(t) for t in tickets] == [("void_after_ship", "open")]
    books_ok(db, admin)


def test_a_label_queued_after_its_box_was_voided_is_cancelled(db: Database, admin: Actor, tmp_path: Path) -> None:
    """The bench that closed the box queues its label after the box is written; a void from another bench in
    between must not leave that label to print."""
    seed_pack(db, admin, tmp_path)
    st = pack_settings()
    printer = f"file://{tmp_path}/labels.zpl"  # no spool worker runs here: a job waits, queued
    po = packing.open_order(db, admin, "SHOP:O1")
    p1 = packing.match_item(db, admin, po.id, "P1")
    a = packing.close_box(db, admin, st, "SHOP:O1", items=[packing.BoxItem(p1.line_id, Decimal(3))], box="S",
                          weight="1.2", op_id="b1", printer="")  # booked and written; its label step still to come
    assert a.job is None
    packing.void_box(db, admin, st, a.box.sscc, reason="wrong box")
    job, why = packing._print(db, admin, st, a.box, None, printer, 203)  # the first bench's label step, late
    assert job is None and "voided meanwhile: its label is cancelled" in why
    jobs = db.read(lambda s: s.execute(select(PrintJob.status)).scalars().all())
    assert jobs == ["cancelled"]
    books_ok(db, admin)


def test_the_label_is_cancelled_while_it_waits_and_left_alone_once_printed(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    st = pack_settings()
    printer = f"file://{tmp_path}/labels.zpl"  # no spool worker runs here: the jobs wait, queued
    po = packing.open_order(db, admin, "SHOP:O1")
    p1, p2 = (packing.match_item(db, admin, po.id, sku) for sku in ("P1", "P2"))
    a = packing.close_box(db, admin, st, "SHOP:O1", items=[packing.BoxItem(p1.line_id, Decimal(3))], box="S",
                          weight="1.2", op_id="b1", printer=printer)
    b = packing.close_box(db, admin, st, "SHOP:O1", items=[packing.BoxItem(p2.line_id, Decimal(2))], box="S",
                          weight="1", op_id="b2", printer=printer)
    assert a.job is not None and b.job is not None and a.job.status == b.job.status == "queued"
    db.write(lambda s: s.execute(update(PrintJob).where(PrintJob.id == a.job.id).values(status="printed")))

    def job(jid: int) -> str:
        return db.read(lambda s: s.execute(select(PrintJob.status).where(PrintJob.id == jid)).scalar_one())

    rb = packing.void_box(db, admin, st, b.box.sscc, reason="customer changed the order")
    assert rb.label_cancelled and job(b.job.id) == "cancelled"
    ra = packing.void_box(db, admin, st, a.box.sscc, reason="customer changed the order")
    assert not ra.label_cancelled and job(a.job.id) == "printed"  # it printed: left alone (thrown away by hand)
    assert [p["note"].startswith("box 2 (SSCC") for p in audits(db, "print.cancelled")] == [True]
    with pytest.raises(BadInput, match="was cancelled"):
        packing.print_label(db, admin, st, b.box.sscc, reason="reprint a voided box")
    books_ok(db, admin)


def test_changes_refused_under_a_booked_box_are_accepted_after_the_void(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    st = pack_settings()
    feed(PackingFlow(db, admin, st), "SHOP:O1", "P2", "P2", "%CMD:DONE", "S", "0.8")
    two = box(db, admin, "SHOP:O1", 1)
    with pytest.raises(BadInput, match=r"not changed here; ship it first .*cancel what is left of line 2; or void "
                                       r"it at the packing bench \(or `wsms shipments void " + two.sscc):
        ex.cancel_line(db, admin, "SHOP:O1", 2, reason="customer changed their mind")
    with pytest.raises(BadInput, match=r"re-address the box\); or void it at the packing bench"):
        ex.fix_address(db, admin, "SHOP:O1", phone="13900000000")

    changed = order_csv(tmp_path / "v2.csv", line("O1", "P1", 3), line("O1", "P2", 1))  # P2 2 → 1
    rep = import_orders(db, admin, changed, channel="SHOP")
    assert rep.refused == 1 and rep.updated == 0
    assert any("they void the boxes (or ship them), then import the change again" in e.reason for e in rep.errors)

    packing.void_box(db, admin, st, two.sscc, reason="the channel changed the order")
    rep = import_orders(db, admin, changed, channel="SHOP")
    assert rep.refused == 0 and rep.updated == 1
    po = packing.pack_order(db, admin, "SHOP:O1")
    assert [(ln.sku, ln.qty, ln.allocated, ln.packed) for ln in po.lines if ln.status == "open"] == [
        ("P1", 3, 3, 0), ("P2", 1, 1, 0)]
    assert ex.fix_address(db, admin, "SHOP:O1", phone="13900000000").ref == "SO-1"
    v = feed(PackingFlow(db, admin, st), "SHOP:O1", "P1", "P1", "P1", "P2", "%CMD:DONE", "M", "1.5", "%CMD:DONE")
    assert v.shipped is not None and v.shipped.status == "shipped"
    assert shipped_by_sku(db) == {"P1": 3, "P2": 1}
    books_ok(db, admin)


def test_flow_voids_the_last_box_closed_here(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    flow = PackingFlow(db, admin, pack_settings())
    v = flow.void("wrong box")
    assert v.bell and "scan the order first" in v.message
    v = feed(flow, "SHOP:O1")
    assert flow.void("wrong box").bell and "no booked box" in flow.view.message
    v = feed(flow, "P1", "P1", "P1", "%CMD:DONE", "S", "1.2", "P2", "P2", "%CMD:DONE", "S", "0.8")
    assert v.step == "confirm" and v.last_box is not None and flow.void_target() == v.last_box
    v = feed(flow, "%CMD:CANCEL", "SHOP:O1")  # opened again: the order's last booked box
    assert flow.void_target() is not None and flow.void_target().box_no == 2  # type: ignore[union-attr]
    v = flow.void("wrong weight")
    assert v.level == "ok" and "box 2 voided: local" in v.message and "2 unit(s) to pack again" in v.message
    assert v.step == "item" and v.order is not None and v.order.to_pack == 2 and v.order.status == "allocated"
    v = feed(flow, "P2", "%CMD:DONE")
    assert v.step == "box"
    assert flow.void("x y z").bell and "finish closing the box first" in flow.view.message
    books_ok(db, admin)


def test_shipments_void_from_the_command_line(db_url: str, db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)

    def wsms(*args: str) -> Any:
        return runner.invoke(app, ["--db", db_url, *args], catch_exceptions=False)

    r = wsms("pack", "MARKET:M1", "-i", "P1", "--box", "S", "--weight", "0.4", "--op-id", "m1")
    assert r.exit_code == 0 and "order packed" in r.output
    sscc = box(db, admin, "MARKET:M1", 1).sscc
    r = wsms("shipments", "void", sscc)
    assert r.exit_code == 1 and "say why the box is voided" in r.output
    r = wsms("shipments", "void", sscc, "--reason", "damaged goods found")
    out = r.output
    assert r.exit_code == 0 and f"SO-3: box 1 voided · SSCC {sscc} · local LX" in out, out
    assert "1 unit(s) to pack again · order allocated" in out and "shipment #1 cancelled" in out
    r = wsms("shipments", "void", sscc, "--reason", "damaged goods found")
    assert r.exit_code == 0 and "was void already; nothing changed" in r.output
    r = wsms("shipments", "list", "--status", "cancelled", "-f", "json")
    assert '"status": "cancelled"' in r.output
    r = wsms("pack", "MARKET:M1", "-i", "P1", "--box", "S", "--weight", "0.5", "--ship")
    assert r.exit_code == 0 and "box 1 S 0.5 kg" in r.output and "shipped: 1 box(es), 1 unit(s)" in r.output
    r = wsms("shipments", "void", sscc.replace(sscc[-3:], "999"), "--reason", "no such box")
    assert r.exit_code != 0 and "no box" in r.output
    assert len(audits(db, "packing.void")) == 1
    assert db.read(lambda s: s.execute(select(func.count()).select_from(ShipmentBox)).scalar_one()) == 2
    books_ok(db, admin)
