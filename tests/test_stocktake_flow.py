"""The count desk's flow (no Textual), on SQLite and PostgreSQL: location labels, scans counting one,
case barcodes and GS1 counts, typed quantities, lots asked for, EMPTY/DONE, next location finishing the
current one, refusals ringing the bell and recorded for review, recount by another counter, blind views.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import insert, select

from tests.helpers import make_actor, seed_basic
from wsms_tui import ledger, stocktake
from wsms_tui.barcodes import location_barcode
from wsms_tui.database import Database
from wsms_tui.db.models import Product, ProductBarcode
from wsms_tui.stocktake_flow import CountFlow

GTIN_P1 = "4006381333931"  # seed_basic's P1
CASE_P1 = "14006381333938"  # a case of 6 (GTIN-14)


def seed(db: Database) -> str:
    seed_basic(db)
    admin = db.system_actor("test")

    def case(s):  # type: ignore[no-untyped-def]
        p1 = s.execute(select(Product.id).where(Product.sku == "P1")).scalar_one()
        s.execute(insert(ProductBarcode).values(product_id=p1, code=CASE_P1, kind="gtin", pack_qty=Decimal(6)))

    db.write(case)
    ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="s1")
    ledger.receive(db, admin, product="LOT1", qty=6, location="A-01", lot="L-7", op_id="s2")
    ledger.receive(db, admin, product="P1", qty=2, location="A-02", op_id="s3")
    boss = make_actor(db, "supervisor", "boss")
    return stocktake.plan_full(db, boss, warehouse="W1").ref


def test_count_a_warehouse_by_scanning(db: Database) -> None:
    ref = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    flow = CountFlow(db, clerk)
    assert flow.view.step == "count"
    v = flow.feed(ref)
    assert v.step == "location" and v.count is not None and v.count.locations == 3
    v = flow.feed(location_barcode("A-01"))
    assert (v.step, v.location, v.level) == ("item", "A-01", "ok")
    flow.feed(GTIN_P1)
    v = flow.feed(CASE_P1)  # a case: 6
    assert [(ln.sku, ln.counted) for ln in v.lines] == [("P1", Decimal(7))]
    v = flow.feed("3")  # the case scan was really 3 loose units
    assert [(ln.sku, ln.counted) for ln in v.lines] == [("P1", Decimal(4))]
    v = flow.feed("LOT1")
    assert v.step == "lot" and "lot of LOT1" in v.prompt
    v = flow.feed("L-7")
    assert v.step == "item" and v.lines[-1].counted == 1 and v.lines[-1].lot == "L-7"
    v = flow.feed("5")
    assert v.lines[-1].counted == 5
    # a GS1 scan carrying the lot and a count of 1 more
    v = flow.feed("(01)09506000134352(10)L-7(30)1")  # unknown GTIN: refused, recorded
    assert v.level == "error" and v.bell
    # the next location finishes A-01 (P1 4 of 10, LOT1 5 of 6: a recount by someone else)
    v = flow.feed(location_barcode("A-02"))
    assert v.location == "A-02" and "A-01 done (2 line(s)), another counter will recount it" in v.message
    v = flow.feed("%CMD:EMPTY")  # A-02 holds 2 of P1 in the books: counted empty
    assert v.step == "location" and v.message == "A-02 counted empty, another counter will recount it"
    v = flow.feed("A-03")
    v = flow.feed("%CMD:DONE")
    assert v.step == "location" and v.count is not None
    assert (v.count.recount, v.count.counted, v.count.pending) == (2, 1, 0)
    # nothing the counter saw holds an expected quantity
    assert all(set(ln.__dict__) == {"sku", "name", "lot", "counted", "unexpected"} for ln in v.lines)

    again = CountFlow(db, clerk)
    again.feed(ref)
    v = again.feed(location_barcode("A-01"))
    assert v.level == "error" and "someone other than clerk1" in v.message
    other = CountFlow(db, make_actor(db, "clerk", "clerk2"))
    other.feed(ref)
    v = other.feed(location_barcode("A-01"))
    assert v.round == 2 and v.lines == [] and "recount" in v.message
    boss = make_actor(db, "supervisor", "boss2")
    kinds = [i.kind for i in stocktake.issues(db, boss, ref)]
    assert kinds == ["bad_scan", "same_counter_recount"]


def test_refusals_ring_and_are_recorded(db: Database) -> None:
    ref = seed(db)
    clerk = make_actor(db, "clerk", "clerk1")
    boss = make_actor(db, "supervisor", "boss2")
    flow = CountFlow(db, clerk)
    assert flow.feed("CNT-999999").level == "error"
    flow.feed(ref)
    v = flow.feed(GTIN_P1)
    assert v.bell and "scan the location first" in v.message
    v = flow.feed("%LOC:A-01:0")  # wrong check character
    assert v.bell and "check character" in v.message
    v = flow.feed("VIRT/LOSS")
    assert v.bell and "not a stock location" in v.message
    flow.feed(location_barcode("A-01"))
    v = flow.feed("SER1")
    assert v.step == "lot"
    v = flow.feed("L-7")  # LOT1's lot scanned for SER1
    assert v.bell and "lot L-7 belongs to LOT1, not to SER1" in v.message and v.step == "item"
    v = flow.feed("7")  # a quantity with no scan before it
    assert v.bell and "scan an item first" in v.message
    v = flow.feed("NOPE-123")
    assert v.bell and "no location, product or quantity" in v.message
    kinds = [i.kind for i in stocktake.issues(db, boss, ref)]
    assert kinds == ["bad_scan", "bad_location", "lot_of_other_product", "bad_scan"]
    v = flow.feed("%CMD:CANCEL")
    assert v.step == "location" and "left A-01" in v.message


def test_undo_takes_the_last_scans_back_one_by_one(db: Database) -> None:
    ref = seed(db)
    boss = make_actor(db, "supervisor", "boss2")
    flow = CountFlow(db, make_actor(db, "clerk", "clerk1"))
    flow.feed(ref)
    v = flow.feed("%CMD:UNDO")
    assert v.bell and "nothing to undo" in v.message
    flow.feed(location_barcode("A-01"))
    flow.feed(GTIN_P1)
    flow.feed(CASE_P1)  # 1 + 6
    flow.feed("LOT1")
    flow.feed("L-7")
    v = flow.feed("4")  # that lot scan was 4
    assert [(ln.sku, ln.counted) for ln in v.lines] == [("P1", Decimal(7)), ("LOT1", Decimal(4))]
    v = flow.feed("%CMD:UNDO")  # the lot scan with its typed 4
    assert v.level == "ok" and "4 × LOT1 L-7 taken back, 0 counted" in v.message
    assert [(ln.sku, ln.counted) for ln in v.lines if ln.counted] == [("P1", Decimal(7))]
    v = flow.undo()  # the case: 6 of P1
    assert "6 × P1 taken back, 1 counted" in v.message
    flow.feed(GTIN_P1)
    v = flow.feed("%CMD:UNDO")
    assert [(ln.sku, ln.counted) for ln in v.lines if ln.counted] == [("P1", Decimal(1))]
    v = flow.undo()
    v = flow.undo()
    assert v.bell and "nothing to undo" in v.message
    assert all(ln.counted == 0 for ln in v.lines)
    flow.feed("LOT1")  # waiting for its lot: UNDO drops it, as CANCEL does
    v = flow.feed("%CMD:UNDO")
    assert v.step == "item" and v.message == "item dropped"
    flow.feed(GTIN_P1)
    flow.feed(GTIN_P1)
    v = flow.feed(location_barcode("A-02"))  # A-01 finished with P1 2: no undo into it from here
    assert "A-01 done" in v.message
    v = flow.undo()
    assert v.bell and "nothing to undo" in v.message
    review = stocktake.review(db, boss, ref, only_variances=False)
    a01 = [(r.sku, r.counted) for r in review if r.location == "A-01" and r.counted]
    assert a01 == [("P1", Decimal(2))]


def test_undo_and_a_typed_number_keep_another_counters_scans_of_the_same_line(db: Database) -> None:
    ref = seed(db)
    a = CountFlow(db, make_actor(db, "clerk", "clerk1"))
    b = CountFlow(db, make_actor(db, "clerk", "clerk2"))
    for flow in (a, b):
        flow.feed(ref)
        flow.feed(location_barcode("A-01"))
    a.feed(GTIN_P1)
    b.feed(GTIN_P1)  # both count the same location: 2 of P1
    v = a.feed("%CMD:UNDO")  # A takes back A's scan: B's stays
    assert [(ln.sku, ln.counted) for ln in v.lines if ln.counted] == [("P1", Decimal(1))]
    a.feed(GTIN_P1)
    b.feed(GTIN_P1)  # 3
    v = a.feed("5")  # A's last scan was really 5: 4 more, B's scans stay
    assert [(ln.sku, ln.counted) for ln in v.lines if ln.counted] == [("P1", Decimal(7))]
    v = a.feed("5")  # the same number again changes nothing
    assert v.level == "ok" and [(ln.sku, ln.counted) for ln in v.lines if ln.counted] == [("P1", Decimal(7))]
    v = a.feed("2")  # …it was 2 after all: 3 taken off
    assert [(ln.sku, ln.counted) for ln in v.lines if ln.counted] == [("P1", Decimal(4))]
    v = a.undo()  # the scan (now 2) taken back
    assert [(ln.sku, ln.counted) for ln in v.lines if ln.counted] == [("P1", Decimal(2))]
