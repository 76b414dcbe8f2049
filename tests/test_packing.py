"""The packing bench without a screen (``PackingFlow`` and the ``packing`` services) and the carriers, on
SQLite and PostgreSQL: wrong items and extra units refused with nothing posted, multi-box orders, partial
shipments, lots, the manual / local / HTTP carriers (against a fake carrier on loopback: refusals, failures,
timeouts and garbage are one clear message and nothing is written), reprints, shipments, permissions.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.fake_carrier import FakeCarrier
from tests.helpers import make_actor
from tests.orders_seed import NY, line, order_csv, seed_orders
from tests.tui_helpers import tui_settings
from wsms_tui import carriers, ledger, orders, packing, stock
from wsms_tui.carriers.local import is_valid_s10, s10_check_digit
from wsms_tui.config import CarrierConfig, PackingSettings, PrinterConfig
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, LedgerEntry
from wsms_tui.db.models_shipping import Shipment, ShipmentBox, ShipmentItem
from wsms_tui.errors import BadInput, PermissionDenied
from wsms_tui.order_import import import_orders
from wsms_tui.packing_flow import PackingFlow
from wsms_tui.security import Actor

GTIN_P1 = "4006381333931"
TODAY = "2026-11-20"


def pack_settings(**packing_over: Any) -> Any:
    p = PackingSettings(**packing_over)
    return tui_settings(packing=p, printer="", printers={}, gs1_company_prefix="0614141")


def bench_settings(url: str | None = None, **more: Any) -> Any:
    """``pack_settings`` with the desk's printer ``dock1`` at ``url`` (and its spool in the desk), if given."""
    s = pack_settings(**more)
    if url:
        s = s.model_copy(update={"printers": {"dock1": PrinterConfig(url=url)}, "printer": "dock1",
                                 "spool_in_desk": True})
    return s


def http_settings(fake: FakeCarrier, printer_url: str | None = None, timeout_s: float = 10.0) -> Any:
    """The bench with the HTTP carrier ``fast`` (the fake on loopback, key in $FAKE_CARRIER_KEY) for every
    order, and a printer when ``printer_url`` is given."""
    fast = CarrierConfig(kind="http", url=fake.url, api_key_env="FAKE_CARRIER_KEY", timeout_s=timeout_s)
    return bench_settings(printer_url, carriers={"fast": fast}, carrier="fast")


def seed_pack(db: Database, admin: Actor, tmp_path: Path) -> None:
    """seed_orders + stock; SHOP:O1 = P1×3 + P2×2 (CN), SHOP:O2 = LOT1×2 (lots LA, LB), MARKET:M1 = P1×1 (US)."""
    seed_orders(db, admin)
    ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="r1")
    ledger.receive(db, admin, product="P2", qty=10, location="A-02", op_id="r2")
    ledger.receive(db, admin, product="LOT1", qty=1, location="A-01", op_id="r3", lot="LA",
                   expiry=__import__("datetime").date(2031, 1, 1))
    ledger.receive(db, admin, product="LOT1", qty=5, location="A-02", op_id="r4", lot="LB",
                   expiry=__import__("datetime").date(2032, 1, 1))
    import_orders(db, admin, order_csv(tmp_path / "o.csv", line("O1", "P1", 3), line("O1", "P2", 2),
                                       line("O2", "LOT1", 2)), channel="SHOP")
    import_orders(db, admin, order_csv(tmp_path / "m.csv", line("M1", "P1", 1, head=NY)), channel="MARKET")


def ledger_rows(db: Database) -> int:
    return db.read(lambda s: s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one())


def shipped_by_sku(db: Database) -> dict[str, Decimal]:
    """Σ ledger moves to the customer location per SKU."""
    from wsms_tui.db.models import Location, Product

    def work(s: Any) -> dict[str, Decimal]:
        rows = s.execute(select(Product.sku, LedgerEntry.qty).join(Product, Product.id == LedgerEntry.product_id)
                         .join(Location, Location.id == LedgerEntry.to_location_id)
                         .where(Location.code == "VIRT/CUSTOMER")).all()
        out: dict[str, Decimal] = {}
        for sku, q in rows:
            out[sku] = out.get(sku, Decimal(0)) + q
        return out

    return db.read(work)


def books_ok(db: Database, admin: Actor) -> None:
    assert stock.verify_ledger(db, admin).ok
    r, a = orders.reservation_totals(db)
    assert r == a


def feed(flow: PackingFlow, *scans: str) -> Any:
    view = flow.view
    for s in scans:
        view = flow.feed(s)
    return view


def test_flow_wrong_item_extra_unit_two_boxes_then_ship(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    before = ledger_rows(db)
    flow = PackingFlow(db, admin, pack_settings())
    v = flow.feed("SHOP:O1")
    assert v.step == "item" and v.order is not None and v.order.to_pack == 5

    v = flow.feed("LOT1")  # not on the order
    assert v.bell and v.level == "error" and "wrong item" in v.message and v.box == ()
    v = feed(flow, GTIN_P1, GTIN_P1, "P1")
    assert v.level == "ok" and [(b.sku, b.qty) for b in v.box] == [("P1", 3)]
    v = flow.feed(GTIN_P1)  # a fourth P1: extra
    assert v.bell and "extra unit" in v.message and [(b.sku, b.qty) for b in v.box] == [("P1", 3)]
    v = flow.feed("%CMD:UNDO")
    assert [(b.sku, b.qty) for b in v.box] == [("P1", 2)]
    v = feed(flow, "P1", "%CMD:DONE")
    assert v.step == "box"
    v = flow.feed("XL")
    assert v.bell and "no box type" in v.message and v.step == "box"
    v = feed(flow, "s", "0.05")  # lighter than the empty box
    assert v.bell and "less than the empty box" in v.message and v.step == "weight"
    assert ledger_rows(db) == before and db.read(lambda s: s.execute(select(func.count()).select_from(ShipmentBox))
                                                 .scalar_one()) == 0
    v = flow.feed("1.2")
    assert v.step == "item" and v.last_box is not None and v.last_box.box_no == 1 and is_valid_s10(v.last_box.tracking)
    assert "no printer" in v.message  # written, label not printed (no printer at this bench)
    first = v.last_box

    v = feed(flow, "P2", "P2", "P2")
    assert v.bell and "extra unit" in v.message
    v = feed(flow, "%CMD:DONE", "M", "2500g")
    assert v.step == "confirm" and v.order is not None and v.order.status == "packed"
    assert [b.box_no for b in v.order.open_boxes] == [1, 2]
    assert ledger_rows(db) == before  # nothing moves before the confirmation
    v = flow.feed("P1")
    assert v.bell and "everything is packed" in v.message
    v = flow.feed("00" + first.sscc)  # the label of box 1 (GS1 AI 00) confirms
    assert v.step == "order" and v.shipped is not None and v.shipped.status == "shipped" and v.shipped.boxes == 2

    po = packing.pack_order(db, admin, "SHOP:O1")
    assert po.status == "shipped" and all(ln.shipped == ln.qty for ln in po.lines)
    assert [b.status for b in po.boxes] == ["shipped", "shipped"]
    assert shipped_by_sku(db) == {"P1": 3, "P2": 2}
    assert [e.to_status for e in orders.order_timeline(db, admin, "SHOP:O1")[1]][-2:] == ["packed", "shipped"]
    books_ok(db, admin)
    rejected = db.read(lambda s: s.execute(select(func.count()).select_from(AuditEvent)
                                           .where(AuditEvent.action == "scan.rejected")).scalar_one())
    assert rejected == 5  # LOT1, the 4th P1, XL, the 3rd P2, P1 after everything was packed


def test_partial_shipment_then_the_rest(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    flow = PackingFlow(db, admin, pack_settings())
    v = feed(flow, "SHOP:O1", "P1", "P1", "P1", "%CMD:DONE", "S", "1")
    assert v.step == "item"
    v = flow.feed("%CMD:DONE")  # nothing in the box, 2 still to pack
    assert v.bell and "still to pack" in v.message
    with pytest.raises(BadInput, match="boxes booked at the packing bench: void them there"):
        orders.cancel_order(db, admin, "SHOP:O1", reason="too late: a box is packed")
    v = flow.finish(partial=True)
    assert v.shipped is not None and v.shipped.partial and v.shipped.status == "allocated"
    po = packing.pack_order(db, admin, "SHOP:O1")
    assert [(ln.sku, ln.shipped, ln.allocated) for ln in po.lines] == [("P1", 3, 0), ("P2", 0, 2)]
    books_ok(db, admin)
    v = feed(flow, "SHOP:O1", "P2", "P2", "%CMD:DONE", "S", "0.8", "%CMD:DONE")
    assert v.shipped is not None and v.shipped.status == "shipped"
    assert len(packing.list_shipments(db, admin, order="SHOP:O1")) == 2
    books_ok(db, admin)


def test_a_scanned_lot_must_be_the_one_held(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    po = packing.pack_order(db, admin, "SHOP:O2")
    assert po.status == "allocated"  # FEFO: LA (1) then LB (1)
    held = {a.lot for a in orders.order_detail(db, admin, "SHOP:O2").allocations}
    assert held == {"LA", "LB"}
    ledger.receive(db, admin, product="LOT1", qty=1, location="A-03", op_id="r5", lot="LC",
                   expiry=__import__("datetime").date(2033, 1, 1))
    with pytest.raises(BadInput, match="not the stock picked"):
        packing.match_item(db, admin, po.id, "LOT1", lot="LC")
    m = packing.match_item(db, admin, po.id, "LOT1", lot="LB")
    res = packing.close_box(db, admin, pack_settings(), "SHOP:O2",
                            items=[packing.BoxItem(m.line_id, Decimal(1), m.lot_id)], box="S", weight="0.5",
                            op_id="lot-box")
    with pytest.raises(BadInput, match="that lot has 0 left"):
        packing.close_box(db, admin, pack_settings(), "SHOP:O2",
                          items=[packing.BoxItem(m.line_id, Decimal(1), m.lot_id)], box="S", weight="0.5", op_id="x2")
    again = packing.close_box(db, admin, pack_settings(), "SHOP:O2",
                              items=[packing.BoxItem(m.line_id, Decimal(1), m.lot_id)], box="S", weight="0.5",
                              op_id="lot-box")
    assert again.replayed and again.box.sscc == res.box.sscc
    out = packing.ship(db, admin, "SHOP:O2", op_id="lot-ship", partial=True)
    assert out.shipped == 1
    moved = db.read(lambda s: s.execute(select(LedgerEntry.lot_id).where(LedgerEntry.kind == "ship")).scalars().all())
    assert moved == [m.lot_id]
    books_ok(db, admin)


def test_local_and_manual_carriers(db: Database, admin: Actor, tmp_path: Path) -> None:
    assert s10_check_digit("47312482") == 9 and is_valid_s10("RR473124829GB")  # UPU's own example
    local = carriers.carrier(pack_settings(), "local")
    to = carriers.ShipTo("A", "1 Main St", "New York", "10001", "US")
    req = carriers.ShipmentRequest("006141410000000012", "SO-1", to, Decimal("40"))
    with pytest.raises(carriers.CarrierError, match="up to 31.5 kg"):
        local.create_shipment(req)
    a = local.create_shipment(carriers.ShipmentRequest("006141410000000012", "SO-1", to, Decimal("1.5")))
    assert a.tracking == local.create_shipment(carriers.ShipmentRequest("006141410000000012", "SO-1", to,
                                                                        Decimal("1.5"))).tracking
    assert a.service == "small" and a.label_data == {"route": "US-100"} and is_valid_s10(a.tracking)
    manual = carriers.carrier(pack_settings(), "manual")
    with pytest.raises(carriers.CarrierError, match="waybill"):
        manual.create_shipment(req)
    with pytest.raises(carriers.CarrierError, match="not a waybill"):
        manual.create_shipment(carriers.ShipmentRequest("x", "SO-1", to, Decimal(1), waybill="a b"))

    # the MARKET channel ships manual: the bench asks for the waybill
    seed_pack(db, admin, tmp_path)
    st = pack_settings(channel_carriers={"MARKET": "manual"})
    assert [c.name for c in carriers.list_carriers(st) if c.channels == ("MARKET",)] == ["manual"]
    flow = PackingFlow(db, admin, st)
    v = feed(flow, "MARKET:M1", "P1", "%CMD:DONE", "S")
    assert v.step == "waybill"
    v = feed(flow, "JD0001234567", "0.4", "%CMD:DONE")
    assert v.shipped is not None and v.shipped.trackings == ["JD0001234567"]
    detail = packing.shipment_detail(db, admin, "JD0001234567")
    assert detail.shipment.carrier == "manual" and detail.boxes[0].weight_kg == Decimal("0.4")


def test_http_carrier_against_a_fake_service(db: Database, admin: Actor, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seed_pack(db, admin, tmp_path)
    monkeypatch.setenv("FAKE_CARRIER_KEY", "secret")
    with FakeCarrier() as fake:
        st = http_settings(fake, timeout_s=0.5)
        flow = PackingFlow(db, admin, st)
        feed(flow, "SHOP:O1", "P1", "P1", "P1", "%CMD:DONE", "S")
        for mode, words in (("refuse", "refused: postcode 000000 is not served (HTTP 422)"),
                            ("fail", "failed: booking system down (HTTP 503)"),
                            ("slow", "did not answer within 0.5 s"), ("garbage", "not JSON"),
                            ("no_tracking", "without a tracking number")):
            fake.mode = mode
            v = flow.feed("1.1")
            assert v.bell and words in v.message and v.step == "weight", (mode, v.message)
            assert db.read(lambda s: (s.execute(select(func.count()).select_from(Shipment)).scalar_one(),
                                      s.execute(select(func.count()).select_from(ShipmentItem)).scalar_one())) == (0, 0)
        fake.mode = "ok"
        v = flow.feed("1.1")
        assert v.last_box is not None and v.last_box.tracking == "FC00000001" and v.last_box.label_data == {
            "route": "HUB-CN"}
        keys = {h.get("Idempotency-Key") for m, p, h in fake.requests if m == "POST"}
        assert keys == {v.last_box.sscc}  # every retry of the box used the same SSCC: booked once
        info = packing.track(db, admin, st, "FC00000001")
        assert info.status == "in transit" and info.events[0].where == "Hub"
        with pytest.raises(carriers.CarrierError, match="refused: no shipment"):
            carriers.carrier(st, "fast").track("FC99")
    with pytest.raises(carriers.CarrierError, match="cannot reach carrier fast"):
        carriers.carrier(st, "fast").track("FC00000001")
    monkeypatch.delenv("FAKE_CARRIER_KEY")
    with pytest.raises(carriers.CarrierError, match="environment variable FAKE_CARRIER_KEY"):
        carriers.carrier(st, "fast")


def test_deferred_booking_waits_at_the_step_book(db: Database, admin: Actor, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``defer_booking`` (the screen's way) a weight stops at ``book``; ``book()`` does the carrier call and
    the writing; a failure goes back to the weight with the box as scanned, and the retry books the same SSCC."""
    seed_pack(db, admin, tmp_path)
    monkeypatch.setenv("FAKE_CARRIER_KEY", "secret")
    with FakeCarrier() as fake:
        st = http_settings(fake, timeout_s=5)
        flow = PackingFlow(db, admin, st, defer_booking=True)
        v = feed(flow, "MARKET:M1", "P1", "%CMD:DONE", "S", "0.4")
        assert v.step == "book" and flow.booking and v.message == "booking with fast…" and not fake.requests
        v = flow.feed("P1")  # fed while booking: refused, the box kept
        assert v.step == "book" and v.bell and "being booked" in v.message and [(b.sku, b.qty) for b in v.box] == [
            ("P1", 1)]
        fake.mode = "fail"
        v = flow.book()
        assert v.step == "weight" and not flow.booking and v.bell and "HTTP 503" in v.message
        assert db.read(lambda s: s.execute(select(func.count()).select_from(ShipmentBox)).scalar_one()) == 0
        assert flow.book().bell  # nothing waits to be booked now
        fake.mode = "ok"
        v = flow.feed("0.4")
        assert v.step == "book"
        v = flow.book()
        assert v.step == "confirm" and v.last_box is not None and v.last_box.tracking == "FC00000001"
        assert {h.get("Idempotency-Key") for m, _p, h in fake.requests if m == "POST"} == {v.last_box.sscc}
    books_ok(db, admin)


def test_permissions_of_the_bench(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    clerk, finance = make_actor(db, "clerk"), make_actor(db, "finance")
    st = pack_settings()
    with pytest.raises(PermissionDenied):
        packing.open_order(db, finance, "SHOP:O1")
    with pytest.raises(PermissionDenied):
        packing.close_box(db, finance, st, "SHOP:O1", items=[packing.BoxItem(1, Decimal(1))], box="S", weight=1,
                          op_id="f")
    with pytest.raises(PermissionDenied):
        packing.ship(db, finance, "SHOP:O1", op_id="f")
    po = packing.open_order(db, clerk, "SHOP:O1")
    m = packing.match_item(db, clerk, po.id, "P1")
    packing.close_box(db, clerk, st, "SHOP:O1", items=[packing.BoxItem(m.line_id, Decimal(3))], box="S", weight=1,
                      op_id="c1")
    assert packing.ship(db, clerk, "SHOP:O1", op_id="c-ship", partial=True).shipped == 3
    assert [s.status for s in packing.list_shipments(db, finance)] == ["shipped"]
    with pytest.raises(BadInput, match="shipped already|is allocated|nothing"):
        packing.ship(db, clerk, "SHOP:O1", op_id="c-ship2")


def test_a_tote_opens_the_order_it_holds(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    ledger.receive(db, admin, product="P1", qty=3, location="A-01", op_id="t1", package="TOTE-7")
    import_orders(db, admin, order_csv(tmp_path / "t.csv", line("T1", "P1", 3)), channel="SHOP")
    flow = PackingFlow(db, admin, pack_settings())
    v = feed(flow, "TOTE-7")
    assert v.order is not None and v.order.external_ref == "T1"
    v = feed(flow, "P1", "P1", "P1", "%CMD:DONE", "M", "2", "%CMD:DONE")
    assert v.shipped is not None and v.shipped.status == "shipped"
    v = flow.feed("TOTE-7")  # empty now
    assert v.bell and "holds no order" in v.message
    v = flow.feed("SO-1")
    assert v.bell and "shipped already" in v.message
    books_ok(db, admin)
