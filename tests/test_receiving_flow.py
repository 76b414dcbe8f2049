"""The receiving scan flow driven scan by scan, as the desk drives it (no screen), on both backends."""

from __future__ import annotations

from decimal import Decimal
from itertools import count
from pathlib import Path

from sqlalchemy import insert, select

from tests.helpers import make_actor, seed_basic
from wsms_tui import receiving, stock
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, Product, ProductBarcode
from wsms_tui.receiving_flow import ReceivingFlow, parse_expiry
from wsms_tui.security import Actor

CSV = ("reference,supplier,expected_date,sku,qty,lot,expiry\n"
       "PO-1,Acme,2026-11-30,P1,30,,\n"
       "PO-1,Acme,2026-11-30,LOT1,5,,\n"
       "PO-1,Acme,2026-11-30,SER1,2,,\n")
GTIN_P1 = "4006381333931"
GS = "\x1d"


def setup(db: Database, admin: Actor, tmp_path: Path) -> tuple[ReceivingFlow, Actor]:
    seed_basic(db)

    def more(s):  # type: ignore[no-untyped-def]
        lot1 = s.execute(select(Product.id).where(Product.sku == "LOT1")).scalar_one()
        p1 = s.execute(select(Product.id).where(Product.sku == "P1")).scalar_one()
        s.execute(insert(ProductBarcode).values(product_id=lot1, code="09506000134352", kind="gtin",
                                                pack_qty=Decimal(1)))
        s.execute(insert(ProductBarcode).values(product_id=p1, code="14006381333938", kind="case",
                                                pack_qty=Decimal(12)))

    db.write(more)
    f = tmp_path / "r.csv"
    f.write_text(CSV, encoding="utf-8")
    receiving.import_receipts(db, admin, f)
    clerk = make_actor(db, "clerk")
    ids = count(1)
    return ReceivingFlow(db, clerk, new_op_id=lambda: f"op-{next(ids)}"), clerk


def on_hand(db: Database, admin: Actor, sku: str) -> dict[tuple[str, str | None], Decimal]:
    return {(r.location, r.lot): r.on_hand for r in stock.stock_page(db, admin, stock.StockFilter(sku=sku))}


def test_two_scans_receive_one_unit(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    assert flow.feed("PO-1").step == "product"
    v = flow.feed(GTIN_P1)
    assert v.step == "location" and v.draft and v.draft.qty == 1 and v.draft.suggestion
    v = flow.feed("A-02")
    assert v.step == "product" and v.level == "ok" and "line 1: 1/30" in v.message
    assert on_hand(db, admin, "P1") == {("A-02", None): 1}


def test_case_barcode_and_typed_quantity(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    flow.feed("PO-1")
    v = flow.feed("14006381333938")  # case of 12
    assert v.draft and v.draft.qty == 12
    v = flow.feed("3")  # a number at the location step changes the quantity
    assert v.step == "location" and v.draft and v.draft.qty == 3
    flow.feed("A-01")
    assert on_hand(db, admin, "P1") == {("A-01", None): 3}


def test_gs1_scan_fills_lot_expiry_and_count(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    flow.feed("PO-1")
    v = flow.feed("0109506000134352172703011" + f"0LOT-A{GS}304")
    assert v.step == "location", v
    assert v.draft and (v.draft.lot, str(v.draft.expiry), v.draft.qty) == ("LOT-A", "2027-03-01", 4)
    flow.feed("A-01")
    rows = stock.stock_page(db, admin, stock.StockFilter(sku="LOT1"))
    assert [(r.lot, str(r.expiry), r.on_hand) for r in rows] == [("LOT-A", "2027-03-01", 4)]


def test_tracked_product_asks_lot_then_expiry_and_serials(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    flow.feed("PO-1")
    assert flow.feed("LOT1").step == "lot"
    assert flow.feed("L-77").step == "expiry"
    v = flow.feed("not a date")
    assert v.step == "expiry" and v.level == "error" and v.bell
    assert flow.feed("20270115").step == "location"
    flow.feed("A-01")
    assert flow.feed("SER1").step == "lot"
    assert flow.feed("SN-1").step == "location"
    assert flow.view.draft and flow.view.draft.qty == 1
    flow.feed("A-01")
    flow.feed("SER1")
    flow.feed("SN-1")
    v = flow.feed("A-02")
    assert v.level == "error" and "already in stock" in v.message
    assert on_hand(db, admin, "SER1") == {("A-01", "SN-1"): 1}


def test_bad_scans_ring_say_why_and_are_audited(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, clerk = setup(db, admin, tmp_path)
    v = flow.feed("PO-404")
    assert v.level == "error" and v.bell and "no receipt PO-404" in v.message
    flow.feed("PO-1")
    v = flow.feed("4006381333932")  # wrong check digit
    assert v.level == "error" and v.step == "product"
    v = flow.feed("\x00\x01garbage" * 500)
    assert v.level == "error" and v.step == "product"
    events = db.read(lambda s: s.execute(select(AuditEvent.actor, AuditEvent.payload)
                                         .where(AuditEvent.action == "scan.rejected")).all())
    assert len(events) == 3 and all(a == clerk.name for a, _p in events)
    assert stock.verify_ledger(db, admin).ok


def test_over_receipt_needs_supervisor_pin(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    make_actor(db, "supervisor", name="boss", pin="9999")
    flow.feed("PO-1")
    flow.feed(GTIN_P1)
    flow.feed("31")
    v = flow.feed("A-01")
    assert v.step == "supervisor_user" and v.bell
    v = flow.feed("boss")
    assert v.step == "supervisor_pin" and v.secret
    v = flow.feed("0000")
    assert v.step == "supervisor_user" and v.level == "error"
    flow.feed("boss")
    v = flow.feed("9999")
    assert v.step == "product" and v.level == "ok" and "31/30" in v.message
    assert on_hand(db, admin, "P1") == {("A-01", None): 31}


def test_undo_and_done(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    flow.feed("PO-1")
    flow.feed(GTIN_P1)
    flow.feed("A-01")
    v = flow.feed("u")
    assert v.level == "ok" and "undone" in v.message
    assert on_hand(db, admin, "P1") == {}
    flow.feed(GTIN_P1)
    flow.feed("A-01")
    v = flow.feed("%CMD:DONE")
    assert v.step == "closed" and [(d.sku, d.difference) for d in v.discrepancies] == [
        ("P1", -29), ("LOT1", -5), ("SER1", -2)]


def test_parse_expiry() -> None:
    assert str(parse_expiry("2027-03-01")) == "2027-03-01"
    assert str(parse_expiry("270301")) == "2027-03-01"
    assert parse_expiry("2027-02-30") is None and parse_expiry("x") is None


def test_a_clerk_at_the_supervisor_prompt_is_refused_and_the_desk_goes_on(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    """A clerk's own name and PIN at the over-receipt prompt is refused in red and the flow asks for a
    supervisor again (no assertion, no "receiving failed" on later scans); a supervisor then approves."""
    flow, _clerk = setup(db, admin, tmp_path)
    make_actor(db, "clerk", name="clerk2", pin="2222")
    make_actor(db, "supervisor", name="boss", pin="9999")
    flow.feed("PO-1")
    flow.feed(GTIN_P1)
    flow.feed("31")
    assert flow.feed("A-01").step == "supervisor_user"
    assert flow.feed("clerk2").step == "supervisor_pin"
    v = flow.feed("2222")
    assert (v.step, v.level, v.bell, v.secret) == ("supervisor_user", "error", True, False), v
    assert "clerk2 is not a supervisor" in v.message and "Supervisor user" in v.prompt
    assert on_hand(db, admin, "P1") == {}
    v = flow.feed("boss")
    assert v.step == "supervisor_pin" and v.secret
    v = flow.feed("9999")
    assert v.step == "product" and v.level == "ok" and "31/30" in v.message, v
    assert on_hand(db, admin, "P1") == {("A-01", None): 31}
    # refused again, then Esc (%CMD:CANCEL) drops the line and the desk scans on
    flow.feed(GTIN_P1)
    flow.feed("A-01")
    flow.feed("clerk2")
    assert flow.feed("2222").step == "supervisor_user"
    v = flow.feed("%CMD:CANCEL")
    assert v.step == "product" and v.draft is None
    assert flow.feed(GTIN_P1).step == "location"
    assert stock.verify_ledger(db, admin).ok


def test_a_refusal_after_the_supervisor_pin_goes_back_to_the_location(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    """The supervisor approved but the ledger refuses (a serial in stock already): the line is kept at the
    location step with the reason, never left on the PIN prompt."""
    flow, _clerk = setup(db, admin, tmp_path)
    make_actor(db, "supervisor", name="boss", pin="9999")
    flow.feed("PO-1")
    for serial in ("SN-1", "SN-2", "SN-1"):
        flow.feed("SER1")
        flow.feed(serial)
        v = flow.feed("A-01")
    assert v.step == "supervisor_user"
    flow.feed("boss")
    v = flow.feed("9999")
    assert v.step == "location" and v.level == "error" and "already in stock" in v.message and not v.secret, v
    assert v.draft and v.draft.lot == "SN-1"
    assert flow.feed("%CMD:CANCEL").step == "product"
    assert on_hand(db, admin, "SER1") == {("A-01", "SN-1"): 1, ("A-01", "SN-2"): 1}


def test_blind_over_receipt_message_hides_the_expected_quantity(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    f = tmp_path / "blind.csv"
    f.write_text("reference,supplier,expected_date,sku,qty,lot,expiry,blind\n"
                 "PO-B,Acme,2026-11-30,P1,4,,,true\n", encoding="utf-8")
    receiving.import_receipts(db, admin, f)
    flow.feed("PO-B")
    flow.feed(GTIN_P1)
    flow.feed("5")
    v = flow.feed("A-01")
    assert v.step == "supervisor_user" and v.level == "error"
    assert "exceed what is expected" in v.message and "supervisor" in v.message
    assert "4" not in v.message, v.message  # the expected quantity is not shown


def test_a_location_label_confirms_the_putaway(db: Database, admin: Actor, tmp_path: Path) -> None:
    from wsms_tui import label_jobs

    flow, _clerk = setup(db, admin, tmp_path)
    data = label_jobs.make_location_label(db, admin, "A-02").barcodes[0].data
    assert data.startswith("%LOC:A-02:")
    flow.feed("PO-1")
    flow.feed(GTIN_P1)
    check = data[-1]
    wrong = data[:-1] + ("0" if check != "0" else "1")
    v = flow.feed(wrong)
    assert v.step == "location" and v.level == "error" and v.bell
    assert "check character wrong" in v.message
    assert on_hand(db, admin, "P1") == {}
    v = flow.feed(data)
    assert v.step == "product" and v.level == "ok" and "into A-02" in v.message, v
    assert on_hand(db, admin, "P1") == {("A-02", None): 1}


def test_a_wrong_gtin_check_digit_says_so(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    flow.feed("PO-1")
    v = flow.feed("4006381333932")
    assert v.step == "product" and v.level == "error" and "check digit wrong" in v.message, v
    v = flow.feed("01" + "04006381333932" + "3706")  # the GTIN inside a GS1 string
    assert v.step == "product" and v.level == "error" and "check digit wrong" in v.message, v
    assert stock.ledger_page(db, admin) == []


def test_a_gs1_scan_missing_its_separator_after_the_lot_is_refused(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    flow.feed("PO-1")
    v = flow.feed("0109506000134352" + "10LOT-A" + "17270301")  # no GS after the lot
    assert v.step == "product" and v.level == "error" and v.bell and v.draft is None, v
    assert v.message == ("lot LOT-A17270301 looks like it swallowed AI 17 (expiry 2027-03-01): "
                         "the GS separator is probably missing; rescan — or type ok (scan %CMD:OK) to take it as it "
                         "is")
    v = flow.feed("0109506000134352" + "10LOT-A" + "17270301")  # the same scanner again, still without GS
    assert v.level == "error" and v.draft is None, v  # refused again: a rescan is no confirmation
    # with its separator the same data is a lot and an expiry, and posts as before
    v = flow.feed("0109506000134352" + f"10LOT-A{GS}17270301")
    assert v.step == "location" and v.draft and (v.draft.lot, str(v.draft.expiry)) == ("LOT-A", "2027-03-01")
    flow.feed("A-01")
    assert [(r.lot, r.on_hand) for r in stock.stock_page(db, admin, stock.StockFilter(sku="LOT1"))] == [("LOT-A", 1)]


def test_a_date_coded_lot_that_looks_like_a_swallowed_element_is_taken_when_confirmed(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    flow.feed("PO-1")
    code = "0109506000134352" + f"17270301{GS}" + "10B13240315"  # lot B13240315: "13240315" reads as AI 13
    v = flow.feed(code)
    assert v.level == "error" and "swallowed AI 13" in v.message and v.draft is None, v
    v = flow.feed(code)  # the same code again is no confirmation
    assert v.level == "error" and v.draft is None, v
    flow.feed("xyz")  # another scan in between drops what was pending
    v = flow.feed("ok")
    assert v.level == "error" and v.draft is None, v
    v = flow.feed(code)
    assert v.level == "error", v
    v = flow.feed("%CMD:OK")  # the clerk says the lot is right
    assert v.step == "location" and v.draft and (v.draft.lot, str(v.draft.expiry)) == ("B13240315", "2027-03-01"), v
    flow.feed("A-01")
    assert [r.lot for r in stock.stock_page(db, admin, stock.StockFilter(sku="LOT1"))] == ["B13240315"]


def test_the_lot_step_guards_a_gs1_scan_missing_its_separator_too(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    flow.feed("PO-1")
    v = flow.feed("LOT1")  # the product by its SKU: no lot carried, so the desk asks for it
    assert v.step == "lot", v
    v = flow.feed("0109506000134352" + "10LOT-A" + "17270301")  # the carton's GS1 label, GS missing
    assert v.step == "lot" and v.level == "error" and "swallowed AI 17" in v.message, v
    v = flow.feed("ok")
    assert v.step != "lot" and v.draft and v.draft.lot == "LOT-A17270301", v
    flow.feed("%CMD:CANCEL")
    flow.feed("LOT1")
    v = flow.feed("0109506000134352" + f"10LOT-A{GS}17270301")
    assert v.draft and (v.draft.lot, str(v.draft.expiry)) == ("LOT-A", "2027-03-01"), v


def test_command_undo_barcode_and_ai_37_count(db: Database, admin: Actor, tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    flow.feed("PO-1")
    v = flow.feed("01" + "04006381333931" + "37" + "6")  # AI 37: count of trade items
    assert v.step == "location" and v.draft and v.draft.qty == 6, v
    flow.feed("A-01")
    assert on_hand(db, admin, "P1") == {("A-01", None): 6}
    v = flow.feed("%CMD:UNDO")  # the command barcode undoes like `u`
    assert v.level == "ok" and "undone: 6 × P1" in v.message, v
    assert on_hand(db, admin, "P1") == {}
    flow.feed(GTIN_P1)
    v = flow.feed("%CMD:UNDO")  # at the location step too: the line in progress is dropped, nothing to undo
    assert v.level == "error" and "nothing of yours to undo" in v.message
