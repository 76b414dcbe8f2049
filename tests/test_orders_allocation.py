"""Allocation rules one by one (both backends): whole-order warehouse, nearest warehouse, split only
when the channel allows, priority, FEFO, backorder then re-allocation when stock is received, and
the books (ledger verify, Σ reservations = Σ allocations) after shipping and cancelling."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from tests.orders_seed import NY, line, order_csv, seed_orders
from wsms_tui import ledger, order_exceptions, orders, receiving, stock
from wsms_tui.allocation import allocate
from wsms_tui.database import Database
from wsms_tui.order_import import import_orders
from wsms_tui.security import Actor


def books_ok(db: Database, admin: Actor) -> None:
    report = stock.verify_ledger(db, admin)
    assert report.ok, report.problems
    r, a = orders.reservation_totals(db)
    assert r == a, (r, a)


def allocs(db: Database, admin: Actor, ref: str) -> list[tuple[str, str, str, str | None, Decimal]]:
    return [(a.sku, a.warehouse, a.location, a.lot, a.qty) for a in orders.order_detail(db, admin, ref).allocations
            if a.status == "active"]


def test_whole_order_warehouse_first_then_the_nearest(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    ledger.receive(db, admin, product="P1", qty=5, location="A-01", op_id="w1-p1")
    ledger.receive(db, admin, product="P1", qty=5, location="B-01", op_id="w2-p1")
    ledger.receive(db, admin, product="P2", qty=5, location="B-01", op_id="w2-p2")
    orders.set_route(db, admin, "W1", country="CN", rank=1)
    orders.set_route(db, admin, "W2", country="US", rank=1)
    orders.set_route(db, admin, "W2", country="", rank=50)
    import_orders(db, admin, order_csv(tmp_path / "o.csv",
                                       line("WHOLE", "P1", 2), line("WHOLE", "P2", 1),  # only W2 has both
                                       line("NEAR-CN", "P1", 1), line("NEAR-US", "P1", 1, head=NY)),
                  channel="SHOP")
    assert {a[1] for a in allocs(db, admin, "WHOLE")} == {"W2"}
    assert allocs(db, admin, "NEAR-CN") == [("P1", "W1", "A-01", None, 1)]
    assert allocs(db, admin, "NEAR-US") == [("P1", "W2", "B-01", None, 1)]
    assert orders.order_detail(db, admin, "WHOLE").order.warehouse == "W2"
    books_ok(db, admin)


def test_split_only_when_the_channel_allows(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    ledger.receive(db, admin, product="P1", qty=5, location="A-01", op_id="w1-p1")
    ledger.receive(db, admin, product="P2", qty=5, location="B-01", op_id="w2-p2")
    import_orders(db, admin, order_csv(tmp_path / "s.csv", line("S1", "P1", 2), line("S1", "P2", 2)),
                  channel="SHOP")
    import_orders(db, admin, order_csv(tmp_path / "m.csv", line("M1", "P1", 2), line("M1", "P2", 2)),
                  channel="MARKET")
    shop = orders.order_detail(db, admin, "S1")
    assert shop.order.status == "backorder" and shop.order.warehouse == "W1"  # no split: waits in one warehouse
    assert allocs(db, admin, "S1") == [("P1", "W1", "A-01", None, 2)]
    market = orders.order_detail(db, admin, "M1")
    assert market.order.status == "allocated" and market.order.warehouse is None  # split over both
    assert sorted(allocs(db, admin, "M1")) == [("P1", "W1", "A-01", None, 2), ("P2", "W2", "B-01", None, 2)]
    # stock of P2 arriving in W1 completes the no-split order there
    ledger.receive(db, admin, product="P2", qty=2, location="A-02", op_id="w1-p2")
    rep = allocate(db, admin)
    assert (rep.orders, rep.allocated) == (1, 1)
    assert sorted(allocs(db, admin, "S1")) == [("P1", "W1", "A-01", None, 2), ("P2", "W1", "A-02", None, 2)]
    books_ok(db, admin)


def test_priority_express_then_priority_then_promised_date_then_channel_rank(
        db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    soon = (date.today() + timedelta(days=2)).isoformat()
    import_orders(db, admin, order_csv(tmp_path / "shop.csv",
                                       line("N1", "P1", 3), line("HIGH", "P1", 3, priority="high"),
                                       line("PROMISED", "P1", 3, promised=soon)), channel="SHOP")
    import_orders(db, admin, order_csv(tmp_path / "mkt.csv", line("EXPRESS", "P1", 3, priority="express"),
                                       line("N5", "P1", 3)), channel="MARKET")
    assert {r.status for r in orders.order_page(db, admin)} == {"backorder"}
    won = []
    for i in range(5):
        ledger.receive(db, admin, product="P1", qty=3, location="A-01", op_id=f"batch-{i}")
        allocate(db, admin)
        won += [r.external_ref for r in orders.order_page(db, admin, orders.OrderFilter(status=("allocated",)))
                if r.external_ref not in won]
    assert won == ["EXPRESS", "HIGH", "PROMISED", "N1", "N5"]
    books_ok(db, admin)


def test_fefo_skips_expired_lots(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    today = date.today()
    ledger.receive(db, admin, product="LOT1", qty=5, location="A-01", op_id="late", lot="L-LATE",
                   expiry=today + timedelta(days=200))
    ledger.receive(db, admin, product="LOT1", qty=2, location="A-02", op_id="soon", lot="L-SOON",
                   expiry=today + timedelta(days=20))
    ledger.receive(db, admin, product="LOT1", qty=9, location="A-01", op_id="old", lot="L-OLD",
                   expiry=today - timedelta(days=1))
    import_orders(db, admin, order_csv(tmp_path / "o.csv", line("F1", "LOT1", 4), line("F2", "LOT1", 4)),
                  channel="SHOP")
    assert sorted(allocs(db, admin, "F1")) == [("LOT1", "W1", "A-01", "L-LATE", 2),
                                               ("LOT1", "W1", "A-02", "L-SOON", 2)]
    f2 = orders.order_detail(db, admin, "F2")
    assert f2.order.status == "backorder" and f2.order.allocated == 3  # the expired lot is never taken
    assert f2.lines[0].backordered == 1
    books_ok(db, admin)


def test_backorder_is_allocated_when_the_receipt_arrives(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    rc = tmp_path / "receipts.csv"
    rc.write_text("reference,supplier,expected_date,sku,qty,lot,expiry,warehouse\n"
                  "PO-1,Acme,2026-12-01,P1,6,,,W1\n", encoding="utf-8")
    receiving.import_receipts(db, admin, rc)
    import_orders(db, admin, order_csv(tmp_path / "o.csv", line("B1", "P1", 4), line("B2", "P1", 1),
                                       line("B3", "P2", 1)), channel="SHOP")
    assert {r.external_ref: r.status for r in orders.order_page(db, admin)} == {
        "B1": "backorder", "B2": "backorder", "B3": "backorder"}
    tickets = order_exceptions.ticket_page(db, admin, code="out_of_stock")
    assert {t.external_ref for t in tickets} == {"B1", "B2", "B3"}
    receiving.receive_line(db, admin, receipt="PO-1", product="P1", qty=6, location="A-01", op_id="rcv-1")
    status = {r.external_ref: r.status for r in orders.order_page(db, admin)}
    assert status == {"B1": "allocated", "B2": "allocated", "B3": "backorder"}
    assert {t.external_ref for t in order_exceptions.ticket_page(db, admin, code="out_of_stock")} == {"B3"}
    timeline = [e.to_status for e in orders.order_timeline(db, admin, "B1")[1]]
    assert timeline == ["new", "backorder", "allocated"]
    # ship one, cancel another: reservations follow, the books stay exact
    shipped = orders.ship_order(db, admin, "B1", op_id="ship-b1")
    assert shipped.status == "shipped" and shipped.shipped == 4
    assert orders.ship_order(db, admin, "B1", op_id="ship-b1").replayed
    cancelled = orders.cancel_order(db, admin, "B2", reason="customer changed their mind")
    assert cancelled.released == 1
    rows = stock.stock_page(db, admin, stock.StockFilter(sku="P1"))
    assert sum(r.on_hand for r in rows) == 2 and sum(r.reserved for r in rows) == 0
    assert [e.to_status for e in orders.order_timeline(db, admin, "B1")[1]][-1] == "shipped"
    books_ok(db, admin)
