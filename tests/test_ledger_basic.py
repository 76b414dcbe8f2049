"""Ledger services, one behaviour each, on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.helpers import seed_basic
from wsms_tui import ledger, stock
from wsms_tui.database import Database
from wsms_tui.errors import BadInput, InsufficientStock, NotFound, OpIdConflict
from wsms_tui.security import Actor


def on_hand(db: Database, actor: Actor, sku: str, loc: str) -> Decimal:
    rows = stock.stock_page(db, actor, stock.StockFilter(sku=sku, location=loc))
    return sum((r.on_hand for r in rows), Decimal(0))


def test_receive_transfer_and_verify(db: Database, admin: Actor) -> None:
    seed_basic(db)
    ledger.receive(db, admin, product="P1", qty="10", location="A-01", op_id="r1")
    ledger.transfer(db, admin, product="P1", qty="2.5", from_location="A-01", to_location="A-02", op_id="t1")
    assert on_hand(db, admin, "P1", "A-01") == Decimal("7.5")
    assert on_hand(db, admin, "P1", "A-02") == Decimal("2.5")
    assert stock.verify_ledger(db, admin).ok


def test_same_op_id_posts_once_and_returns_first_result(db: Database, admin: Actor) -> None:
    seed_basic(db)
    first = ledger.receive(db, admin, product="P1", qty=4, location="A-01", op_id="scan-1")
    again = ledger.receive(db, admin, product="P1", qty=4, location="A-01", op_id="scan-1")
    assert again.replayed and again.entry_id == first.entry_id
    assert on_hand(db, admin, "P1", "A-01") == 4
    with pytest.raises(OpIdConflict):
        ledger.receive(db, admin, product="P1", qty=5, location="A-01", op_id="scan-1")


def test_no_negative_stock_and_reserved_cannot_move(db: Database, admin: Actor) -> None:
    seed_basic(db)
    ledger.receive(db, admin, product="P1", qty=3, location="A-01", op_id="r1")
    with pytest.raises(InsufficientStock):
        ledger.transfer(db, admin, product="P1", qty=4, from_location="A-01", to_location="A-02", op_id="t1")
    ledger.reserve(db, admin, product="P1", location="A-01", qty=2, op_id="res1")
    with pytest.raises(InsufficientStock):
        ledger.transfer(db, admin, product="P1", qty=2, from_location="A-01", to_location="A-02", op_id="t2")
    with pytest.raises(InsufficientStock):
        ledger.reserve(db, admin, product="P1", location="A-01", qty=2, op_id="res2")
    ledger.unreserve(db, admin, product="P1", location="A-01", qty=2, op_id="unres1")
    ledger.transfer(db, admin, product="P1", qty=3, from_location="A-01", to_location="A-02", op_id="t3")
    # A-03 allows negative stock
    ledger.transfer(db, admin, product="P1", qty=1, from_location="A-03", to_location="A-02", op_id="t4")
    assert on_hand(db, admin, "P1", "A-03") == -1
    assert stock.verify_ledger(db, admin).ok


def test_adjust_needs_reason_and_reverse_compensates(db: Database, admin: Actor) -> None:
    seed_basic(db)
    with pytest.raises(BadInput):
        ledger.adjust(db, admin, product="P1", location="A-01", delta=5, reason="because", op_id="a0")
    a = ledger.adjust(db, admin, product="P1", location="A-01", delta=5, reason="found", op_id="a1")
    assert a.from_location == ledger.LOSS
    r = ledger.reverse(db, admin, a.entry_id, op_id="undo-a1")
    assert (r.from_location, r.to_location, r.reverses_id) == ("A-01", ledger.LOSS, a.entry_id)
    assert on_hand(db, admin, "P1", "A-01") == 0
    with pytest.raises(BadInput):
        ledger.reverse(db, admin, a.entry_id, op_id="undo-a1-again")
    assert ledger.reverse(db, admin, a.entry_id, op_id="undo-a1").replayed
    assert stock.verify_ledger(db, admin).ok


def test_tracking_rules(db: Database, admin: Actor) -> None:
    seed_basic(db)
    with pytest.raises(BadInput, match="tracked"):
        ledger.receive(db, admin, product="LOT1", qty=1, location="A-01", op_id="x1")
    with pytest.raises(BadInput, match="not lot"):
        ledger.receive(db, admin, product="P1", qty=1, location="A-01", op_id="x2", lot="L1")
    ledger.receive(db, admin, product="SER1", qty=1, location="A-01", op_id="s1", lot="SN-1")
    with pytest.raises(BadInput, match="already in stock"):
        ledger.receive(db, admin, product="SER1", qty=1, location="A-02", op_id="s2", lot="SN-1")
    with pytest.raises(BadInput, match="one unit"):
        ledger.receive(db, admin, product="SER1", qty=2, location="A-02", op_id="s3", lot="SN-2")
    with pytest.raises(NotFound):
        ledger.receive(db, admin, product="NOPE", qty=1, location="A-01", op_id="s4")


def test_lookup_by_sku_gtin_gs1_location_and_lot(db: Database, admin: Actor) -> None:
    seed_basic(db)
    ledger.receive(db, admin, product="LOT1", qty=6, location="A-02", op_id="r1", lot="L-7")
    assert stock.lookup(db, admin, "P1").kind == "product"
    assert stock.lookup(db, admin, "4006381333931").filter.sku == "P1"
    assert stock.lookup(db, admin, "(01)04006381333931(10)X").filter == stock.StockFilter(sku="P1", lot="X")
    assert stock.lookup(db, admin, "A-02").kind == "location"
    look = stock.lookup(db, admin, "L-7")
    assert look.kind == "lot"
    rows = stock.stock_page(db, admin, look.filter)
    assert [(r.sku, r.location, r.on_hand) for r in rows] == [("LOT1", "A-02", 6)]
    assert stock.lookup(db, admin, "garbage\x00").kind == "none"


def test_stock_pages_are_keyset_and_complete(db: Database, admin: Actor) -> None:
    seed_basic(db)
    for i, loc in enumerate(["A-01", "A-02", "A-03"]):
        ledger.receive(db, admin, product="P1", qty=i + 1, location=loc, op_id=f"r{i}")
        ledger.receive(db, admin, product="LOT1", qty=i + 1, location=loc, op_id=f"l{i}", lot=f"L{i}")
    seen = []
    after = None
    while True:
        page = stock.stock_page(db, admin, limit=2, after=after)
        if not page:
            break
        seen += page
        after = page[-1].key()
    assert len(seen) == 6 and len({r.quant_id for r in seen}) == 6
    assert stock.stock_totals(db, admin) == (6, Decimal(12), Decimal(0))


def test_verify_finds_a_serial_in_stock_twice(db: Database, admin: Actor) -> None:
    from sqlalchemy import text

    seed_basic(db)
    ledger.receive(db, admin, product="SER1", qty=1, location="A-01", op_id="s1", lot="SN-9")
    assert stock.verify_ledger(db, admin).ok
    # forge a second unit by hand (ledger and quants together, so only the serial rule can catch it)
    db.write(lambda s: s.execute(text(
        "UPDATE quant SET on_hand = on_hand * 2 WHERE lot_id = (SELECT id FROM lot WHERE lot_no = 'SN-9')")))
    problems = stock.verify_ledger(db, admin).problems
    assert "serial SN-9 of SER1 is in stock more than once" in problems
