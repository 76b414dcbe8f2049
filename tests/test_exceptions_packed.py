"""Exception actions against what the packing bench has packed, on SQLite and PostgreSQL: a line with units in a
booked box (written by the bench, labelled, not shipped) cannot be cancelled, substituted or written off below what
is packed, and the order's address cannot change under its labels — refused with a message naming the boxes and
nothing written; a line with nothing packed works as before; shipping the boxes first and then cancelling the rest
works; a line cancelled while the bench still has its units in the box being packed stops that box from closing; a
channel's change to an order with a booked box is refused (a ``change_refused`` ticket).
After every shipment the ledger verifies and Σ reservations = Σ active allocations."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.orders_seed import line, order_csv
from tests.test_packing import books_ok, feed, pack_settings, seed_pack, shipped_by_sku
from wsms_tui import order_exceptions as ex
from wsms_tui import orders, packing
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, LedgerEntry, ReservationEntry
from wsms_tui.db.models_orders import Allocation, ExceptionTicket, OrderStatusEvent, SalesOrder, SalesOrderLine
from wsms_tui.db.models_shipping import ShipmentBox, ShipmentItem
from wsms_tui.errors import BadInput
from wsms_tui.order_import import import_orders
from wsms_tui.packing_flow import PackingFlow
from wsms_tui.security import Actor


def state(db: Database) -> dict[str, Any]:
    """Everything a refused exception action must leave as it was (audit events aside: none are written)."""

    def rows(s: Any, model: Any, *cols: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in s.execute(select(*cols).select_from(model).order_by(*cols)).all()]

    def work(s: Any) -> dict[str, Any]:
        return {
            "ledger": s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one(),
            "reservations": s.execute(select(func.count()).select_from(ReservationEntry)).scalar_one(),
            "audit": s.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
            "orders": rows(s, SalesOrder, SalesOrder.id, SalesOrder.status, SalesOrder.address, SalesOrder.phone,
                           SalesOrder.postcode),
            "timeline": s.execute(select(func.count()).select_from(OrderStatusEvent)).scalar_one(),
            "lines": rows(s, SalesOrderLine, SalesOrderLine.id, SalesOrderLine.product_id, SalesOrderLine.qty,
                          SalesOrderLine.allocated_qty, SalesOrderLine.shipped_qty, SalesOrderLine.status),
            "allocations": rows(s, Allocation, Allocation.id, Allocation.qty, Allocation.status),
            "boxes": rows(s, ShipmentBox, ShipmentBox.id, ShipmentBox.status),
            "items": rows(s, ShipmentItem, ShipmentItem.id, ShipmentItem.order_line_id, ShipmentItem.qty),
            "tickets": rows(s, ExceptionTicket, ExceptionTicket.id, ExceptionTicket.status),
        }

    return db.read(work)


def box_one(db: Database, admin: Actor, ref: str) -> packing.BoxView:
    [box] = packing.pack_order(db, admin, ref).open_boxes
    return box


def test_packed_line_cannot_be_cancelled_or_substituted_nor_the_address_changed(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)  # SHOP:O1 = line 1 P1×3, line 2 P2×2, allocated
    flow = PackingFlow(db, admin, pack_settings())
    v = feed(flow, "SHOP:O1", "P2", "P2", "%CMD:DONE", "S", "0.8")
    assert v.step == "item" and v.last_box is not None  # box 1 booked with P2×2; P1 still to pack
    box = box_one(db, admin, "SHOP:O1")
    assert orders.order_detail(db, admin, "SHOP:O1").order.status == "allocated"
    before = state(db)

    label = re.escape(f"box 1 (SSCC {box.sscc}, {box.carrier} {box.tracking})")
    named = re.escape("line 2 (P2) has 2 unit(s) packed in ") + label
    with pytest.raises(BadInput, match=named + r".*not changed here; ship it first .*cancel what is left of line 2"):
        ex.cancel_line(db, admin, "SHOP:O1", 2, reason="customer changed their mind")
    with pytest.raises(BadInput, match=named + r".*substitute what is left of line 2"):
        ex.substitute(db, admin, "SHOP:O1", 2, "LOT1", qty=1)
    with pytest.raises(BadInput, match=r"SO-\d+ has " + label
                       + r" booked with the carrier to the address on the label, not shipped: .*ship it first"):
        ex.fix_address(db, admin, "SHOP:O1", phone="13900000000")
    with pytest.raises(BadInput, match=named + r".*line 2 holds 2: at most 0 can be written off"):
        ex.report_damage(db, admin, "SHOP:O1", 2, qty=1, location="A-02", op_id="dmg-packed")
    with pytest.raises(BadInput, match="boxes booked at the packing bench: void them there"):
        orders.cancel_order(db, admin, "SHOP:O1", reason="too late")
    assert state(db) == before  # nothing written, not even a half: lines, allocations, boxes, ledger, audit

    # the same address again is no change: allowed (nothing under the label moves)
    ex.fix_address(db, admin, "SHOP:O1", phone=orders.order_detail(db, admin, "SHOP:O1").order.phone)

    # line 1 has nothing packed: it is cancelled as before, and with everything left in boxes the order is packed
    change = ex.cancel_line(db, admin, "SHOP:O1", 1, reason="customer drops the apples")
    assert change.status == "packed" and change.released == 3
    po = packing.pack_order(db, admin, "SHOP:O1")
    assert [(ln.sku, ln.status, ln.allocated, ln.packed) for ln in po.lines] == [("P1", "cancelled", 0, 0),
                                                                                ("P2", "open", 2, 2)]
    books_ok(db, admin)

    v = feed(flow, "%CMD:CANCEL", "SHOP:O1")  # leave the order and scan it again: what it is now
    assert v.step == "confirm"  # all packed: the box label ships it
    v = flow.feed(box.sscc)
    assert v.shipped is not None and v.shipped.status == "shipped"
    assert shipped_by_sku(db) == {"P2": 2}
    books_ok(db, admin)


def test_ship_the_packed_box_first_then_cancel_and_substitute_the_rest(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    flow = PackingFlow(db, admin, pack_settings())
    feed(flow, "SHOP:O1", "P1", "P1", "%CMD:DONE", "S", "1")  # 2 of the 3 P1 in box 1
    box = box_one(db, admin, "SHOP:O1")
    with pytest.raises(BadInput, match=re.escape(f"line 1 (P1) has 2 unit(s) packed in box 1 (SSCC {box.sscc}")):
        ex.cancel_line(db, admin, "SHOP:O1", 1, reason="only two wanted")
    # a short pick may take what is not in the box, not what is
    with pytest.raises(BadInput, match="at most 1 can be written off"):
        ex.report_short_pick(db, admin, "SHOP:O1", 1, qty=2, location="A-01", op_id="short-2")

    v = flow.finish(partial=True)  # what the supervisor is told to do: ship the box first
    assert v.shipped is not None and v.shipped.partial
    books_ok(db, admin)
    change = ex.cancel_line(db, admin, "SHOP:O1", 1, reason="only two wanted")  # the third P1 is released
    assert change.released == 1 and change.status == "allocated"
    change = ex.substitute(db, admin, "SHOP:O1", 2, "P1", qty=1)  # nothing of line 2 was packed: as before
    assert change.status == "allocated"
    lines = orders.order_detail(db, admin, "SHOP:O1").lines
    assert [(ln.sku, ln.qty, ln.shipped, ln.status) for ln in lines] == [
        ("P1", 3, 2, "cancelled"), ("P2", 2, 0, "cancelled"), ("P1", 1, 0, "open")]
    books_ok(db, admin)

    v = feed(flow, "SHOP:O1", "P1", "%CMD:DONE", "S", "0.5", "%CMD:DONE")
    assert v.shipped is not None and v.shipped.status == "shipped"
    assert shipped_by_sku(db) == {"P1": 3}
    assert orders.order_detail(db, admin, "SHOP:O1").order.status == "shipped"
    books_ok(db, admin)


def test_short_pick_beside_a_packed_box_then_ship(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    flow = PackingFlow(db, admin, pack_settings())
    feed(flow, "SHOP:O1", "P1", "P1", "%CMD:DONE", "S", "1")
    r = ex.report_short_pick(db, admin, "SHOP:O1", 1, qty=1, location="A-01", op_id="short-1")
    assert r.status == "allocated"  # the missing unit was written off and held again from what is left
    books_ok(db, admin)
    v = feed(flow, "%CMD:CANCEL", "SHOP:O1", "P1", "P2", "P2", "%CMD:DONE", "M", "2", "%CMD:DONE")
    assert v.shipped is not None and v.shipped.status == "shipped"
    assert shipped_by_sku(db) == {"P1": 3, "P2": 2}
    books_ok(db, admin)


def test_line_cancelled_while_its_units_are_in_the_box_being_packed(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    flow = PackingFlow(db, admin, pack_settings())
    v = feed(flow, "SHOP:O1", "P1", "P1", "P1", "P2")
    assert [(b.sku, b.qty) for b in v.box] == [("P1", 3), ("P2", 1)]
    # the box being packed lives at the bench, not in the database: nothing blocks the supervisor
    assert ex.cancel_line(db, admin, "SHOP:O1", 2, reason="customer changed their mind").status == "allocated"
    before = state(db)
    v = feed(flow, "%CMD:DONE", "S", "1.5")
    assert v.bell and v.step == "weight"
    assert re.search(r"line 2 \(P2\) of SO-\d+ was cancelled while this box was being packed: take its units out",
                     v.message)
    after = state(db)
    assert after.pop("audit") == before.pop("audit") + 1  # the SSCC taken for this box (kept for its retry)
    assert after == before  # no box, no booking written
    v = feed(flow, "%CMD:UNDO")  # the P2 was the last unit in
    assert [(b.sku, b.qty) for b in v.box] == [("P1", 3)]
    v = feed(flow, "%CMD:DONE", "S", "1.5", "%CMD:DONE")
    assert v.shipped is not None and v.shipped.status == "shipped"
    assert shipped_by_sku(db) == {"P1": 3}
    books_ok(db, admin)


def test_channel_changes_are_refused_while_a_box_is_booked(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    flow = PackingFlow(db, admin, pack_settings())
    feed(flow, "SHOP:O1", "P2", "P2", "%CMD:DONE", "S", "0.8")
    box = box_one(db, admin, "SHOP:O1")
    before = state(db)
    changed = order_csv(tmp_path / "v2.csv", line("O1", "P1", 3), line("O1", "P2", 1))  # P2 2 → 1: one is boxed
    rep = import_orders(db, admin, changed, channel="SHOP")
    assert rep.refused == 1 and rep.updated == 0
    assert any(f"has box 1 (SSCC {box.sscc}" in e.reason and "refused" in e.reason for e in rep.errors)
    [ticket] = ex.ticket_page(db, admin, code="change_refused", order="SHOP:O1")
    assert box.sscc in ticket.message
    after = state(db)
    for k in ("audit", "tickets"):  # the refusal is a ticket (and its audit), nothing else
        after.pop(k), before.pop(k)
    assert after == before
    books_ok(db, admin)
