"""Importing orders (both backends): every format, idempotent re-import, changes while open or being
picked, bad rows (never half an order), file-level problems, and the drop folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.orders_seed import NY, line, order_csv, seed_orders
from wsms_tui import ledger, order_exceptions, orders, stock
from wsms_tui.database import Database
from wsms_tui.db.models_orders import ExceptionTicket, OrderStatusEvent, SalesOrder, SalesOrderLine
from wsms_tui.errors import NotFound
from wsms_tui.importing import ImportRejected
from wsms_tui.order_import import import_orders, watch_once
from wsms_tui.security import Actor


def count(db: Database, model: type, *where: object) -> int:
    return db.read(lambda s: int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()))


def test_our_csv_imports_allocates_and_reimport_never_duplicates(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="stock")
    f = order_csv(tmp_path / "o.csv", line("A1", "P1", 2, priority="express"),
                  line("A1", "LOT1", 1, priority="express"),
                  line("A2", "P1", 3, head=NY, priority="high", promised="2026-12-01"))
    rep = import_orders(db, admin, f, channel="SHOP")
    assert (rep.created, rep.unchanged, rep.errors) == (2, 0, []) and rep.format == "wsms-csv"
    assert rep.allocation is not None and rep.allocation.orders == 2
    rows = {r.external_ref: r for r in orders.order_page(db, admin)}
    assert rows["A1"].express and rows["A1"].lines == 2 and rows["A1"].status == "backorder"  # no LOT1 stock
    assert rows["A2"].priority == 1 and rows["A2"].status == "allocated" and rows["A2"].warehouse == "W1"
    again = import_orders(db, admin, f, channel="SHOP")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert count(db, SalesOrder) == 2 and count(db, SalesOrderLine) == 3
    # the same references from another channel are other orders
    assert import_orders(db, admin, f, channel="MARKET", allocate=False).created == 2
    with pytest.raises(Exception, match="several channels"):
        orders.order_detail(db, admin, "A2")
    assert orders.order_detail(db, admin, "SHOP:A2").order.status == "allocated"
    assert stock.verify_ledger(db, admin).ok


def test_json_shopify_and_woocommerce_exports(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    j = tmp_path / "orders.json"
    j.write_text(json.dumps([{"channel_ref": "J1", "order_date": "2026-11-21", "customer": "李四",
                              "phone": "021-12345678", "address": "北京路1号", "city": "广州", "postcode": "510000",
                              "country": "CN", "priority": "", "promised_date": "",
                              "lines": [{"sku": "P1", "qty": 1}, {"sku": "P2", "qty": "2.5"}]}],
                            ensure_ascii=False), encoding="utf-8")
    rep = import_orders(db, admin, j, channel="SHOP", allocate=False)
    assert (rep.format, rep.created, rep.errors) == ("wsms-json", 1, [])

    shop = tmp_path / "orders_export.csv"
    with shop.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Name", "Email", "Created at", "Lineitem quantity", "Lineitem name", "Lineitem sku",
                    "Lineitem requires shipping", "Shipping Name", "Shipping Address1", "Shipping Address2",
                    "Shipping City", "Shipping Zip", "Shipping Province", "Shipping Country", "Shipping Phone",
                    "Shipping Method", "Cancelled at", "Tags"])
        w.writerow(["#1001", "a@x.com", "2026-11-20 10:11:12 +0100", "2", "Apple", "P1", "true", "Ann Lee",
                    "5 Elm St", "Apt 2", "Boston", "'02134", "MA", "US", "617-555-0123", "Express", "", ""])
        w.writerow(["#1001", "", "", "1", "Pear", "P2", "true", "", "", "", "", "", "", "", "", "", "", ""])
        w.writerow(["#1001", "", "", "1", "Gift card", "", "false", "", "", "", "", "", "", "", "", "", "", ""])
        w.writerow(["#1002", "b@x.com", "2026-11-20 11:00:00 +0100", "1", "Apple", "P1", "true", "Bo", "1 Rd",
                    "", "Lyon", "69001", "", "FR", "+33 4 12 34 56 78", "Standard", "2026-11-21 09:00", ""])
    rep = import_orders(db, admin, shop, channel="SHOP", allocate=False)
    assert (rep.format, rep.created, rep.skipped, rep.errors) == ("shopify", 1, 1, [])
    d = orders.order_detail(db, admin, "#1001")
    assert [(ln.sku, ln.qty) for ln in d.lines] == [("P1", 2), ("P2", 1)]
    assert (d.postcode, d.order.country, d.order.express, d.address) == ("02134", "US", True, "5 Elm St, Apt 2")

    woo = tmp_path / "woo.csv"
    woo.write_text(
        "order_id,order_number,order_date,status,shipping_first_name,shipping_last_name,shipping_address_1,"
        "shipping_address_2,shipping_postcode,shipping_city,shipping_state,shipping_country,billing_phone,"
        "billing_email,shipping_method,item_sku,item_quantity\n"
        "77,W-77,2026-11-20 08:00:00,processing,Max,Muster,Hauptstr. 1,,10115,Berlin,,DE,+49 30 1234567,m@x.de,"
        "Flat rate,P1,3\n"
        "77,W-77,2026-11-20 08:00:00,processing,Max,Muster,Hauptstr. 1,,10115,Berlin,,DE,+49 30 1234567,m@x.de,"
        "Flat rate,P2,1\n", encoding="utf-8")
    rep = import_orders(db, admin, woo, channel="MARKET", allocate=False)
    assert (rep.format, rep.created, rep.errors) == ("woocommerce", 1, [])
    assert orders.order_detail(db, admin, "W-77").order.customer == "Max Muster"

    toffee = tmp_path / "woo-toffee.csv"
    toffee.write_text(
        "order_id,order_number,order_date,status,shipping_first_name,shipping_last_name,shipping_address_1,"
        "shipping_postcode,shipping_city,shipping_country,billing_phone,line_item_1,line_item_2\n"
        "88,W-88,2026-11-20,processing,Eva,Smit,Damrak 1,1012 LG,Amsterdam,NL,+31 20 1234567,"
        "name:Apple|product_id:1|sku:P1|quantity:2|total:3.00,name:Pear|product_id:2|sku:P2|quantity:1|total:1\n",
        encoding="utf-8")
    rep = import_orders(db, admin, toffee, channel="MARKET", fmt="woocommerce", allocate=False)
    assert (rep.created, rep.errors) == (1, [])
    assert [(ln.sku, ln.qty) for ln in orders.order_detail(db, admin, "W-88").lines] == [("P1", 2), ("P2", 1)]


def test_bad_rows_never_half_an_order(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    f = order_csv(tmp_path / "bad.csv",
                  line("G1", "P1", 1),
                  line("B1", "P1", 1), line("B1", "NOPE", 1),  # unknown SKU: B1 not imported at all
                  line("B2", "P1", -2),  # negative quantity
                  line("B3", "P1", 1), line("B3", "P1", 2),  # duplicate line
                  line("B4", "P1", 1), line("B4", "P2", 1, head=NY),  # header differs between lines
                  line("B5", "P1", "abc"),
                  "H1,2026-11-20,Someone,12345,,Nowhere,99,CN,,P1,1,",  # bad address: imported on hold
                  "short,row")
    rep = import_orders(db, admin, f, channel="SHOP")
    assert (rep.created, rep.held, rep.rejected_orders) == (2, 1, 5)
    by_line = {(e.line, e.column): e.reason for e in rep.errors}
    assert "no product with SKU NOPE" in by_line[(4, "sku")]
    assert "order B1 has bad lines" in by_line[(3, "channel_ref")]
    assert "negative quantity -2" in by_line[(5, "qty")]
    assert "duplicate line" in by_line[(7, "sku")]
    assert "differs from the first line" in by_line[(9, "customer")]
    assert "not a number" in by_line[(10, "qty")]
    assert "2 fields, the header has 12" in by_line[(12, "")]
    assert {r.external_ref for r in orders.order_page(db, admin)} == {"G1", "H1"}
    assert orders.order_detail(db, admin, "H1").order.status == "hold"
    rejects = list(csv.DictReader(Path(rep.reject_file or "").read_text(encoding="utf-8").splitlines()))
    assert {r["line"] for r in rejects} == {"3", "4", "5", "6", "7", "8", "9", "10", "12"}
    assert all(r["error"] for r in rejects)
    tickets = {(t.code, t.external_ref) for t in order_exceptions.ticket_page(db, admin)}
    assert {("unknown_sku", "B1"), ("bad_row", "B2"), ("bad_row", "B3"), ("bad_address", "H1")} <= tickets
    n = count(db, ExceptionTicket)
    import_orders(db, admin, f, channel="SHOP")  # the same bad file again: no new tickets
    assert count(db, ExceptionTicket) == n


def test_file_level_problems_are_clear(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    gb = tmp_path / "gb.csv"
    gb.write_bytes(("channel_ref,order_date,customer,phone,address,city,postcode,country,priority,sku,qty,"
                    "promised_date\nX1,2026-11-20,张三,13812345678,上海路,上海,200120,CN,,P1,1,\n").encode("gb18030"))
    with pytest.raises(ImportRejected, match="not UTF-8 text.*GB18030"):
        import_orders(db, admin, gb, channel="SHOP")
    big = order_csv(tmp_path / "big.csv", *[line(f"R{i}", "P1", 1) for i in range(50)])
    with pytest.raises(ImportRejected, match="more than the .* MB .* split it"):
        import_orders(db, admin, big, channel="SHOP", max_bytes=1000)
    with pytest.raises(NotFound, match="no sales channel 'EBAY'.*wsms channels add EBAY"):
        import_orders(db, admin, big, channel="EBAY")
    odd = tmp_path / "odd.csv"
    odd.write_text("foo,bar\n1,2\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="cannot tell the file's format"):
        import_orders(db, admin, odd, channel="SHOP")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(ImportRejected, match="empty"):
        import_orders(db, admin, tmp_path / "empty.csv", channel="SHOP")
    assert count(db, SalesOrder) == 0


def test_changes_apply_while_open_and_are_refused_once_picking(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="stock")
    import_orders(db, admin, order_csv(tmp_path / "v1.csv", line("C1", "P1", 2), line("C2", "P1", 1)), channel="SHOP")
    v2 = order_csv(tmp_path / "v2.csv", line("C1", "P1", 5), line("C1", "P2", 1), line("C2", "P1", 4))
    # C2 is being picked now: its change must be refused
    db.write(lambda s: orders.set_status(s, admin, orders.find_order_id(s, "C2"), "allocated", "picking", "wave 1"))
    rep = import_orders(db, admin, v2, channel="SHOP")
    assert (rep.updated, rep.refused) == (1, 1)
    assert any("is picking" in e.reason and "refused" in e.reason for e in rep.errors)
    c1 = orders.order_detail(db, admin, "C1")
    assert [(ln.sku, ln.qty, ln.status) for ln in c1.lines] == [("P1", 5, "open"), ("P2", 1, "open")]
    assert c1.order.status == "backorder"  # P1 re-allocated, P2 out of stock
    assert [ln.qty for ln in orders.order_detail(db, admin, "C2").lines] == [1]
    assert ("change_refused", "C2") in {(t.code, t.external_ref) for t in order_exceptions.ticket_page(db, admin)}
    assert stock.verify_ledger(db, admin).ok
    r, a = orders.reservation_totals(db)
    assert r == a == 5 + 1


def test_drop_folder_moves_files_to_done_or_rejected(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    drop = tmp_path / "drop"
    drop.mkdir()
    orders.save_channel(db, admin, "SHOP", rank=10, drop_folder=str(drop))
    order_csv(drop / "good.csv", line("D1", "P1", 1), line("D2", "NOPE", 1))
    (drop / "broken.csv").write_bytes(b"\xff\xfe\x00junk")
    (drop / "late.csv.part").write_text("still copying", encoding="utf-8")
    results = {r.file: r for r in watch_once(db, admin, settle_seconds=0)}
    assert set(results) == {"good.csv", "broken.csv"}
    assert results["good.csv"].outcome == "done" and results["broken.csv"].outcome == "rejected"
    assert (drop / "done" / "good.csv").exists() and (drop / "rejected" / "broken.csv").exists()
    report = (drop / "done" / "good.csv.report.txt").read_text(encoding="utf-8")
    assert "1 new" in report and "NOPE" in report
    assert (drop / "rejected" / "good.rejects.csv").exists()
    assert "UTF-8" in (drop / "rejected" / "broken.csv.report.txt").read_text(encoding="utf-8")
    assert (drop / "late.csv.part").exists()
    assert watch_once(db, admin, settle_seconds=0) == []  # nothing new
    order_csv(drop / "good.csv", line("D1", "P1", 1))  # the same name again: kept apart, not duplicated
    [r] = watch_once(db, admin, settle_seconds=0)
    assert r.outcome == "done" and "1 unchanged" in r.summary and r.moved_to != str(drop / "done" / "good.csv")
    assert count(db, SalesOrder) == 1
    assert count(db, OrderStatusEvent, OrderStatusEvent.to_status == "new") == 1


def test_content_digest_keeps_its_form() -> None:
    """Orders store a digest of their content; re-imports compare against digests written by earlier versions,
    so the fast form must give exactly ``sha256(repr((sorted(head.items()), sorted((product, qty), …))))``."""
    import hashlib

    from wsms_tui.order_import import _digest, _head

    heads = [_head({"order_date": "2026-11-20", "customer": "张三 'Q' \"x\"", "phone": "13812345678",
                    "address": "上海市\\n 1号", "city": "上海", "postcode": "200120", "country": "China",
                    "priority": "express", "promised_date": "2026-12-01", "email": "a@b.c", "state": "SH"}),
             _head({"customer": "", "country": "", "priority": "7", "express": "yes", "cancelled": "1"})]
    lines = [(3, 42, 2_500_000), (2, 7, 1_000_000), (9, 1, 3)]
    for h in heads:
        for ls in (lines, lines[:1], []):
            old = repr((sorted(h.items()), sorted((p, q) for _l, p, q in ls)))
            assert _digest(h, ls) == hashlib.sha256(old.encode()).hexdigest()


def test_our_csv_cells_are_trimmed_and_address2_joined(db: Database, admin: Actor, tmp_path: Path) -> None:
    """Cells are compared and stored trimmed: lines whose order columns differ only by spaces agree."""
    seed_orders(db, admin)
    f = tmp_path / "o.csv"
    f.write_text("channel_ref,order_date,customer,phone,address,address2,city,postcode,country,priority,sku,qty,"
                 "promised_date\n"
                 " T1 ,2026-11-20,John Doe,+1 212 555 0100,1 Main St,Apt 2,New York,10001,US,, P1 , 2 ,\n"
                 "T1,2026-11-20, John Doe ,+1 212 555 0100,1 Main St,Apt 2 ,New York,10001,US,,P2,1,\n"
                 "T2,2026-11-20,Ann,+1 212 555 0100,2 Main St,,New York,10001,US,,P1,1,\n"
                 "T2,2026-11-20,Ann,+1 212 555 0100,2 Main St,Apt 3,New York,10001,US,,P2,1,\n", encoding="utf-8")
    rep = import_orders(db, admin, f, channel="SHOP", allocate=False)
    assert (rep.created, rep.rejected_orders) == (1, 1)
    assert [(e.line, e.column) for e in rep.errors] == [(4, "channel_ref"), (5, "address")]
    d = orders.order_detail(db, admin, "T1")
    assert (d.order.customer, d.address) == ("John Doe", "1 Main St, Apt 2")
    assert [(ln.sku, ln.qty) for ln in d.lines] == [("P1", 2), ("P2", 1)]
    assert import_orders(db, admin, f, channel="SHOP", allocate=False).unchanged == 1
