"""Receiving services: receipts import, receive by line, tolerance and supervisor approval, blind
receipts, undo, close with discrepancies, putaway suggestions — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from tests.helpers import make_actor, seed_basic
from wsms_tui import receiving, stock
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, Location, Product, PutawayRule, Receipt, Warehouse
from wsms_tui.errors import BadInput
from wsms_tui.importing import ImportRejected
from wsms_tui.receiving import OverReceipt
from wsms_tui.security import Actor

RECEIPTS_CSV = (
    "reference,supplier,expected_date,sku,qty,lot,expiry\n"
    "PO-1,Acme 供应商,2026-11-30,P1,10,,\n"
    "PO-1,Acme 供应商,2026-11-30,LOT1,5,L-9,2027-03-01\n"
    "PO-2,Beta,2026-12-01,4006381333931,3,,\n"
)


def _import(db: Database, admin: Actor, tmp_path: Path, text: str = RECEIPTS_CSV, name: str = "r.csv") -> object:
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return receiving.import_receipts(db, admin, f)


def test_import_receipts_csv_and_json_and_no_duplicates(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_basic(db)
    rep = _import(db, admin, tmp_path)
    assert rep.created == 2
    view = receiving.receipt_detail(db, admin, "PO-1")
    assert [(ln.sku, ln.expected_qty, ln.lot_no) for ln in view.lines] == [("P1", 10, None), ("LOT1", 5, "L-9")]
    assert receiving.receipt_detail(db, admin, "PO-2").lines[0].sku == "P1"  # by GTIN
    with pytest.raises(ImportRejected, match="PO-1 exists already"):
        _import(db, admin, tmp_path)
    doc = [{"reference": "PO-3", "supplier": "Gamma", "expected_date": "2026-12-02", "blind": True,
            "lines": [{"sku": "P1", "qty": 2}, {"gtin": "4006381333931", "qty": 1}]}]
    rep = _import(db, admin, tmp_path, json.dumps(doc), "r.json")
    assert rep.created == 1
    view = receiving.receipt_detail(db, admin, "PO-3")
    assert view.summary.blind and [ln.expected_qty for ln in view.lines] == [2, 1]
    assert {r.reference for r in receiving.list_receipts(db, admin)} == {"PO-1", "PO-2", "PO-3"}


def test_a_receipt_with_a_bad_line_is_rejected_whole(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_basic(db)
    bad = RECEIPTS_CSV + "PO-4,Delta,2026-12-03,P1,1,,\nPO-4,Delta,2026-12-03,NOPE,1,,\nPO-5,E,soon,P1,1,,\n"
    with pytest.raises(ImportRejected) as exc:
        _import(db, admin, tmp_path, bad)
    msg = str(exc.value)
    assert "line 6, column sku: no product with SKU or GTIN NOPE" in msg
    assert "line 5, column reference: receipt PO-4 has bad lines" in msg
    assert "line 7, column expected_date" in msg
    assert receiving.list_receipts(db, admin) == []
    f = tmp_path / "bad.csv"
    f.write_text(bad, encoding="utf-8")
    rep = receiving.import_receipts(db, admin, f, skip_bad_rows=True)
    assert rep.created == 2 and rep.reject_file and Path(rep.reject_file).exists()
    assert {r.reference for r in receiving.list_receipts(db, admin)} == {"PO-1", "PO-2"}


def test_receive_over_tolerance_needs_a_supervisor(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_basic(db)
    _import(db, admin, tmp_path)
    clerk = make_actor(db, "clerk")
    sup = make_actor(db, "supervisor")
    r = receiving.receive_line(db, clerk, receipt="PO-1", product="P1", qty=9, location="A-01", op_id="s1")
    assert (r.received_qty, r.line_no) == (9, 1)
    assert receiving.receive_line(db, clerk, receipt="PO-1", product="P1", qty=9, location="A-01",
                                  op_id="s1").move.replayed
    with pytest.raises(OverReceipt, match="supervisor"):
        receiving.receive_line(db, clerk, receipt="PO-1", product="P1", qty=2, location="A-01", op_id="s2")
    with pytest.raises(BadInput, match="not a supervisor"):
        receiving.receive_line(db, clerk, receipt="PO-1", product="P1", qty=2, location="A-01", op_id="s2",
                               approved_by=clerk)
    r = receiving.receive_line(db, clerk, receipt="PO-1", product="P1", qty=2, location="A-01", op_id="s2",
                               approved_by=sup)
    assert r.over_receipt_approved_by == sup.name and r.received_qty == 11
    events = db.read(lambda s: s.execute(select(AuditEvent.actor).where(
        AuditEvent.action == "receiving.over_receipt_approved")).scalars().all())
    assert events == [sup.name]
    with pytest.raises(BadInput, match="not on receipt"):
        receiving.receive_line(db, clerk, receipt="PO-2", product="LOT1", qty=1, location="A-01", op_id="s3",
                               lot="X")
    # tolerance: 10 % more is fine without a supervisor
    db.write(lambda s: s.execute(update(Receipt).where(Receipt.reference == "PO-2").values(
        tolerance_pct=Decimal(50))))
    receiving.receive_line(db, clerk, receipt="PO-2", product="P1", qty=4, location="A-02", op_id="s4")
    assert stock.verify_ledger(db, admin).ok


def test_lot_from_the_receipt_line_and_undo_last(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_basic(db)
    _import(db, admin, tmp_path)
    clerk = make_actor(db, "clerk")
    receiving.receive_line(db, clerk, receipt="PO-1", product="LOT1", qty=2, location="A-01", op_id="a")
    rows = stock.stock_page(db, admin, stock.StockFilter(sku="LOT1"))
    assert [(r.lot, str(r.expiry), r.on_hand) for r in rows] == [("L-9", "2027-03-01", 2)]
    receiving.receive_line(db, clerk, receipt="PO-1", product="P1", qty=3, location="A-02", op_id="b")
    undone = receiving.undo_last(db, clerk, receipt="PO-1", op_id="u1")
    assert undone.move.kind == "reverse" and undone.line_no == 1 and undone.received_qty == 0
    undone = receiving.undo_last(db, clerk, receipt="PO-1", op_id="u2")
    assert undone.line_no == 2 and undone.received_qty == 0
    with pytest.raises(BadInput, match="nothing of yours"):
        receiving.undo_last(db, clerk, receipt="PO-1", op_id="u3")
    assert stock.stock_totals(db, admin) == (0, 0, 0)
    assert stock.verify_ledger(db, admin).ok


def test_blind_receipts_hide_expected_from_clerks_only(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_basic(db)
    _import(db, admin, tmp_path)
    db.write(lambda s: s.execute(update(Receipt).where(Receipt.reference == "PO-1").values(blind=True)))
    clerk = make_actor(db, "clerk")
    assert all(ln.expected_qty is None for ln in receiving.receipt_detail(db, clerk, "PO-1").lines)
    assert receiving.receipt_detail(db, clerk, "PO-1").summary.expected_qty is None
    assert [r.expected_qty for r in receiving.list_receipts(db, clerk) if r.reference == "PO-1"] == [None]
    r = receiving.receive_line(db, clerk, receipt="PO-1", product="P1", qty=1, location="A-01", op_id="x")
    assert r.expected_qty is None
    assert receiving.receipt_detail(db, admin, "PO-1").lines[0].expected_qty == 10


def test_close_lists_discrepancies_and_stops_receiving(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_basic(db)
    _import(db, admin, tmp_path)
    receiving.receive_line(db, admin, receipt="PO-1", product="P1", qty=7, location="A-01", op_id="c1")
    diffs = receiving.close_receipt(db, admin, "PO-1")
    assert [(d.sku, d.expected_qty, d.received_qty, d.difference) for d in diffs] == [
        ("P1", 10, 7, -3), ("LOT1", 5, 0, -5)]
    with pytest.raises(BadInput, match="closed"):
        receiving.receive_line(db, admin, receipt="PO-1", product="P1", qty=1, location="A-01", op_id="c2")
    assert receiving.list_receipts(db, admin, status="closed")[0].reference == "PO-1"


def test_duplicate_serials_are_refused(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_basic(db)
    _import(db, admin, tmp_path, "reference,supplier,expected_date,sku,qty,lot,expiry\nPO-S,S,,SER1,2,,\n")
    receiving.receive_line(db, admin, receipt="PO-S", product="SER1", qty=1, location="A-01", op_id="1", lot="SN1")
    with pytest.raises(BadInput, match="already in stock"):
        receiving.receive_line(db, admin, receipt="PO-S", product="SER1", qty=1, location="A-02", op_id="2",
                               lot="SN1")
    assert receiving.receipt_detail(db, admin, "PO-S").lines[0].received_qty == 1


def test_putaway_rules_fixed_face_zone_then_nearest_with_room(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_basic(db)
    _import(db, admin, tmp_path)

    def layout(s):  # type: ignore[no-untyped-def]
        wid = s.execute(select(Warehouse.id).where(Warehouse.code == "W1")).scalar_one()
        s.execute(update(Location).where(Location.code == "A-01").values(x=1, y=0, capacity=Decimal(5)))
        s.execute(update(Location).where(Location.code == "A-02").values(x=9, y=0, zone="COLD"))
        s.execute(update(Location).where(Location.code == "A-03").values(x=5, y=0))
        s.execute(insert(Location).values(code="DOCK-1", usage="internal", warehouse_id=wid, zone="DOCK", x=0, y=0,
                                          name="", aisle="", bay="", level="", allow_negative=False, active=True))
        return wid

    wid = db.write(layout)
    assert receiving.suggest_putaway(db, admin, receipt="PO-1", product="P1", qty=3).location == "A-01"
    assert receiving.suggest_putaway(db, admin, receipt="PO-1", product="P1", qty=6).location == "A-03"
    receiving.receive_line(db, admin, receipt="PO-1", product="P1", qty=1, location="A-02", op_id="p1")
    s = receiving.suggest_putaway(db, admin, receipt="PO-1", product="P1", qty=6)
    assert (s.location, s.reason) == ("A-02", "holds this product")

    def rules(s):  # type: ignore[no-untyped-def]
        lot1 = s.execute(select(Product.id).where(Product.sku == "LOT1")).scalar_one()
        s.execute(update(Product).where(Product.id == lot1).values(category="dairy"))
        s.execute(insert(PutawayRule).values(warehouse_id=wid, category="dairy", zone="COLD", priority=10))
        a3 = s.execute(select(Location.id).where(Location.code == "A-03")).scalar_one()
        s.execute(insert(PutawayRule).values(warehouse_id=wid, product_id=lot1, location_id=a3, priority=50))

    db.write(rules)
    s = receiving.suggest_putaway(db, admin, receipt="PO-1", product="LOT1", qty=1)
    assert (s.location, s.reason) == ("A-03", "fixed pick face")  # a product rule beats a category rule
    db.write(lambda s: s.execute(PutawayRule.__table__.delete().where(PutawayRule.location_id.is_not(None))))
    assert receiving.suggest_putaway(db, admin, receipt="PO-1", product="LOT1", qty=1).location == "A-02"


def test_import_receipts_by_gtin_without_sku_lot_or_expiry_columns(db: Database, admin: Actor, tmp_path: Path) -> None:
    """Lines name their product by SKU or GTIN; lot and expiry are optional columns (CSV and JSON)."""
    seed_basic(db)
    rep = _import(db, admin, tmp_path, "reference,supplier,expected_date,gtin,qty\n"
                                       "PO-G,Acme,2026-11-30,4006381333931,7\n")
    assert rep.created == 1
    view = receiving.receipt_detail(db, admin, "PO-G")
    assert [(ln.sku, ln.expected_qty, ln.lot_no, ln.expiry) for ln in view.lines] == [("P1", 7, None, None)]
    # a row with neither a SKU nor a GTIN is that row's error, with its line and column
    bad = ("reference,supplier,expected_date,sku,gtin,qty\n"
           "PO-H,Acme,2026-11-30,P1,,1\n"
           "PO-H,Acme,2026-11-30,,,2\n"
           "PO-I,Acme,2026-11-30,,4006381333932,1\n")
    with pytest.raises(ImportRejected) as exc:
        _import(db, admin, tmp_path, bad, "bad.csv")
    msg = str(exc.value)
    assert "line 3, column sku: give a SKU or a GTIN" in msg
    assert "line 4, column gtin: '4006381333932' is not a GTIN" in msg
    with pytest.raises(ImportRejected, match="line 2, column gtin: give a SKU or a GTIN"):
        _import(db, admin, tmp_path, "reference,supplier,expected_date,gtin,qty\nPO-J,Acme,2026-11-30,,1\n", "j.csv")
    with pytest.raises(ImportRejected, match="line 1, column sku: missing column"):
        _import(db, admin, tmp_path, "reference,supplier,expected_date,qty\nPO-K,Acme,2026-11-30,1\n", "k.csv")
    # JSON: GTIN-only lines without lot or expiry
    doc = [{"reference": "PO-L", "supplier": "Gamma", "expected_date": "2026-12-02",
            "lines": [{"gtin": "4006381333931", "qty": 2}, {"gtin": "04006381333931", "qty": 3}]}]
    assert _import(db, admin, tmp_path, json.dumps(doc), "l.json").created == 1
    assert [(ln.sku, ln.expected_qty) for ln in receiving.receipt_detail(db, admin, "PO-L").lines] == [
        ("P1", 2), ("P1", 3)]
    assert {r.reference for r in receiving.list_receipts(db, admin)} == {"PO-G", "PO-L"}
