"""Exceptions (both backends): address checks per country, the supervisors' notice, and every action
that works a ticket — fix address, cancel line, substitute, wait for stock, release (a hold, or a
rejected order imported again), short pick and damage written off and re-allocated."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.helpers import make_actor
from tests.orders_seed import line, order_csv, seed_orders
from wsms_tui import ledger, orders, stock
from wsms_tui import order_exceptions as ex
from wsms_tui.addresses import Address, check_address
from wsms_tui.database import Database
from wsms_tui.db.models import Product, Role
from wsms_tui.errors import BadInput
from wsms_tui.order_import import import_orders
from wsms_tui.security import Actor


@pytest.mark.parametrize(("country", "postcode", "phone", "bad"), [
    ("CN", "200120", "13812345678", set()),
    ("CN", "200120", "+86 138 1234 5678", set()),
    ("CN", "20012", "13812345678", {"postcode"}),
    ("CN", "200120", "", {"phone"}),
    ("CN", "200120", "12345", {"phone"}),
    ("US", "10001-1234", "(212) 555-0100", set()),
    ("US", "1000", "212 555 0100", {"postcode"}),
    ("US", "10001", "+44 20 7946 0958", {"phone"}),
    ("DE", "10115", "+49 30 1234567", set()),
    ("FR", "7500", "", {"postcode"}),
    ("NL", "1012 LG", "+31 20 1234567", set()),
    ("PL", "00950", "", {"postcode"}),
    ("GB", "SW1A 1AA", "020 7946 0958", set()),
    ("IE", "", "", set()),
    ("XX", "1", "", {"country"}),
])
def test_address_checks_per_country(country: str, postcode: str, phone: str, bad: set[str]) -> None:
    problems = check_address(Address("Ann", "1 Road", "Town", postcode, country, phone))
    assert {f for f, _why in problems} == bad, problems


def test_required_address_fields() -> None:
    problems = dict(check_address(Address("", " ", "", "", "", "")))
    assert set(problems) == {"customer", "address", "city", "country"}


def test_notice_fix_address_cancel_line_substitute_and_wait(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    clerk = make_actor(db, Role.CLERK)
    ledger.receive(db, admin, product="P1", qty=5, location="A-01", op_id="p1")
    ledger.receive(db, admin, product="P2", qty=5, location="A-02", op_id="p2")
    import_orders(db, admin, order_csv(
        tmp_path / "o.csv",
        "HOLD,2026-11-20,Ann,555,Main St 1,Springfield,ABC,US,,P1,1,",
        line("SHORT", "P1", 1), line("SHORT", "LOT1", 2),
        line("SUB", "LOT1", 2)), channel="SHOP")
    notice = ex.open_exception_count(db, admin)
    assert notice.open == 3 and notice.by_code == {"bad_address": 1, "out_of_stock": 2}
    assert ex.open_exception_count(db, clerk).open == 0  # the status bar notice is for supervisors

    with pytest.raises(BadInput, match="postcode"):
        ex.fix_address(db, admin, "HOLD", postcode="9")
    assert orders.order_detail(db, admin, "HOLD").order.status == "hold"
    fixed = ex.fix_address(db, admin, "HOLD", postcode="62701", phone="+1 217 555 0100", state="IL")
    assert fixed.status == "allocated"
    assert [e.to_status for e in orders.order_timeline(db, admin, "HOLD")[1]] == ["hold", "new", "allocated"]

    [short] = ex.ticket_page(db, admin, code="out_of_stock", order="SHORT")
    t = ex.assign_ticket(db, admin, short.id, clerk.name)
    assert t.assignee == clerk.name
    assert "asked the customer" in ex.add_note(db, admin, short.id, "asked the customer").notes
    assert ex.cancel_line(db, admin, "SHORT", 2, reason="customer drops the milk").status == "allocated"
    assert ex.ticket_detail(db, admin, short.id).status == "resolved"

    [sub] = ex.ticket_page(db, admin, code="out_of_stock", order="SUB")
    assert ex.wait_for_stock(db, admin, sub.id).status == "waiting"
    with pytest.raises(BadInput, match="is the product of that line already"):
        ex.substitute(db, admin, "SUB", 1, "LOT1")
    change = ex.substitute(db, admin, "SUB", 1, "P2")
    assert change.status == "allocated"
    lines = orders.order_detail(db, admin, "SUB").lines
    assert [(ln.sku, ln.qty, ln.status) for ln in lines] == [("LOT1", 2, "cancelled"), ("P2", 2, "open")]
    assert ex.ticket_detail(db, admin, sub.id).status == "resolved"
    assert ex.open_exception_count(db, admin).open == 0
    assert stock.verify_ledger(db, admin).ok


def test_release_a_hold_and_retry_a_rejected_order(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    ledger.receive(db, admin, product="P1", qty=5, location="A-01", op_id="p1")
    import_orders(db, admin, order_csv(tmp_path / "o.csv",
                                       "H1,2026-11-20,Bo,,Somewhere 1,Town,,DE,,P1,1,",
                                       line("U1", "P1", 1), line("U1", "NEW-SKU", 2)), channel="SHOP")
    [hold] = ex.ticket_page(db, admin, code="bad_address")
    assert ex.release(db, admin, hold.id, "carrier knows the address").status == "allocated"
    [unknown] = ex.ticket_page(db, admin, code="unknown_sku")
    with pytest.raises(BadInput, match="NEW-SKU"):
        ex.release(db, admin, unknown.id)  # the product is still missing
    db.write(lambda s: s.add(Product(sku="NEW-SKU", name="New thing")))
    change = ex.release(db, admin, unknown.id)
    assert change is not None and change.status == "backorder"
    assert [ln.sku for ln in orders.order_detail(db, admin, "U1").lines] == ["P1", "NEW-SKU"]
    assert ex.ticket_detail(db, admin, unknown.id).status == "resolved"
    with pytest.raises(BadInput, match="resolved already"):
        ex.release(db, admin, unknown.id)


def held_at(db: Database, admin: Actor, ref: str) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for a in orders.order_detail(db, admin, ref).allocations:
        if a.status == "active":
            out[a.location] = out.get(a.location, Decimal(0)) + a.qty
    return out


def test_short_pick_and_damage_write_off_and_reallocate(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_orders(db, admin)
    clerk = make_actor(db, Role.CLERK)
    ledger.receive(db, admin, product="P1", qty=3, location="A-01", op_id="a")
    ledger.receive(db, admin, product="P1", qty=5, location="A-02", op_id="b")
    import_orders(db, admin, order_csv(tmp_path / "o.csv", line("P", "P1", 3)), channel="SHOP")
    assert [a.location for a in orders.order_detail(db, admin, "P").allocations] == ["A-01"]
    r = ex.report_short_pick(db, clerk, "P", 1, qty=2, location="A-01", op_id="short-1")
    assert r.status == "allocated"
    r2 = ex.report_short_pick(db, clerk, "P", 1, qty=2, location="A-01", op_id="short-1")  # a repeated scan
    assert r2.status == "allocated"
    assert held_at(db, admin, "P") == {"A-01": 1, "A-02": 2}
    ex.report_damage(db, clerk, "P", 1, qty=1, location="A-02", op_id="dmg-1", note="crushed box")
    assert held_at(db, admin, "P") == {"A-01": 1, "A-02": 2}  # re-allocated from what is left in A-02
    on_hand = {r.location: r.on_hand for r in stock.stock_page(db, admin, stock.StockFilter(sku="P1"))}
    assert on_hand == {"A-01": 1, "A-02": 4}
    codes = sorted(t.code for t in ex.ticket_page(db, admin))
    assert codes == ["damaged", "short_pick"]
    with pytest.raises(BadInput, match="holds nothing at A-03"):
        ex.report_damage(db, clerk, "P", 1, qty=1, location="A-03", op_id="dmg-2")
    assert stock.verify_ledger(db, admin).ok
    rsv, alloc = orders.reservation_totals(db)
    assert rsv == alloc == 3
