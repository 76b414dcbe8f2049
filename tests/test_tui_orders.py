"""The Orders desk (F4) and the Exceptions screen through Textual's Pilot, on SQLite and PostgreSQL: a queue
of a few hundred orders paged with a small page size, filters and search typed or scanned into the scan
field, the detail with lines, allocations and the timeline, allocate and cancel with a reason, the
supervisors' open-exceptions notice on the status bar, and every ticket action; SVG snapshots at 80×24.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.orders_seed import NY, SH, line, order_csv, seed_orders
from tests.test_tui_receiving import scan
from tests.tui_helpers import async_test, login, table_rows, tui_settings
from wsms_tui import ledger, order_exceptions, orders
from wsms_tui.app import WsmsApp
from wsms_tui.database import Database
from wsms_tui.order_import import import_orders
from wsms_tui.screens.exceptions import ExceptionsScreen
from wsms_tui.screens.orders import OrdersScreen
from wsms_tui.screens.reason_prompt import ReasonPrompt
from wsms_tui.screens.widgets.status_bar import StatusBar
from wsms_tui.users import add_user

SIZE = (80, 24)
BAD = "2026-11-21,Bad Address,123,Nowhere 1,Shanghai,12,CN"  # a CN postcode of 2 digits: held


def seed_queue(db: Database, tmp_path: Path, n: int = 240, p2: int = 40) -> None:
    """seed_orders, stock for about half the orders, ``n`` orders over two channels, one held on a bad address,
    users boss/9999 (supervisor) and clerk1/1234."""
    admin = db.system_actor("test")
    seed_orders(db, admin)
    ledger.receive(db, admin, product="P1", qty=150, location="A-01", op_id="q1")
    ledger.receive(db, admin, product="P2", qty=p2, location="A-02", op_id="q2")
    rows = []
    for i in range(n):
        head = NY if i % 3 == 0 else SH
        rows.append(line(f"Q{i:04d}", "P1" if i % 4 else "P2", 1 + i % 2, head=head,
                         priority="express" if i % 50 == 7 else ""))
    rows.append(f"HOLD1,{BAD},,P1,1,")
    import_orders(db, admin, order_csv(tmp_path / "q.csv", *rows[: n // 2], rows[-1]), channel="SHOP")
    import_orders(db, admin, order_csv(tmp_path / "m.csv", *rows[n // 2: n]), channel="MARKET")
    add_user(db, admin, "boss", "supervisor", "9999")
    add_user(db, admin, "clerk1", "clerk", "1234")


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def bells(app: WsmsApp) -> list[int]:
    rung: list[int] = []
    app.bell = lambda: rung.append(1)  # type: ignore[method-assign]
    return rung


async def answer(pilot: Pilot[Any], text: str) -> None:
    assert isinstance(pilot.app.screen, ReasonPrompt)
    await scan(pilot, text)


@async_test
async def test_queue_pages_filters_search_detail_and_actions(db: Database, tmp_path: Path) -> None:
    seed_queue(db, tmp_path)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(), desk="orders", page_size=25)
    rung = bells(app)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "boss", "9999")
        screen = app.screen
        assert isinstance(screen, OrdersScreen)
        table = screen.table
        assert table.row_count == 25 and "241 order(s)" in text_of(screen, "#ord-filter")
        assert table_rows(table)[0][0] == "SO-241"  # newest first
        for _ in range(3):
            await pilot.press("pagedown")
        await pilot.press("down")
        assert table.row_count >= 50  # the next keyset page came when the cursor reached the end

        info = text_of(screen, "#status-info")
        open_now = order_exceptions.open_exception_count(db, admin).open
        assert open_now > 0 and f"⚠ {open_now} open exception(s)" in info  # the supervisor's notice

        await scan(pilot, "status:backorder channel:MARKET")
        f = screen.filter
        assert f.status == ("backorder",) and f.channel == "MARKET"
        n = orders.order_count(db, admin, f)
        assert f"{n} order(s)" in text_of(screen, "#ord-filter") and n > 0
        assert {r[5] for r in table_rows(table)} == {"backorder"} and {r[1] for r in table_rows(table)} == {"MARKET"}
        await pilot.press("escape")  # clears the filter
        assert screen.filter == orders.OrderFilter()

        await scan(pilot, "wh:W1 prio:1")  # express orders only count from priority… none has priority ≥ 1
        assert screen.total == orders.order_count(db, admin, orders.OrderFilter(warehouse="W1", min_priority=1))
        await pilot.press("escape")
        await scan(pilot, "express")
        assert screen.total == 5
        await pilot.press("escape")

        await scan(pilot, "04006381333931")  # a scanned GTIN searches its SKU (P1)
        assert screen.filter.search == "P1" and screen.total == 181
        await pilot.press("escape")

        await scan(pilot, "Q0003")  # one hit: its detail opens
        assert screen.detail is not None and screen.detail.order.external_ref == "Q0003"
        history = text_of(screen, "#ord-history")
        assert "Timeline" in history and "→ new" in history
        lines = table_rows(screen.query_one("#ord-lines", DataTable))
        assert lines[0][1] in ("P1", "P2")
        status = screen.detail.order.status
        await pilot.press("ctrl+a")  # allocate again: nothing changes for a whole order; says so
        assert "allocated" in text_of(screen, "#status-message")
        await pilot.press("ctrl+x")
        await answer(pilot, "customer called")
        assert screen.detail.order.status == ("cancelled" if status in orders.OPEN_STATUSES else status)
        assert "cancelled" in text_of(screen, "#ord-history")
        await pilot.press("escape")
        assert screen.detail is None

        await scan(pilot, "status:nonsense")
        assert rung and "no order status nonsense" in text_of(screen, "#status-message")


@async_test
async def test_exceptions_screen_works_the_tickets(db: Database, tmp_path: Path) -> None:
    seed_queue(db, tmp_path, n=60, p2=5)
    admin = db.system_actor("test")
    held = orders.order_detail(db, admin, "SHOP:HOLD1")
    assert held.order.status == "hold" and held.open_tickets
    app = WsmsApp(db, tui_settings(), desk="orders", page_size=25)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "boss", "9999")
        await pilot.press("ctrl+e")
        ex = app.screen
        assert isinstance(ex, ExceptionsScreen)
        assert ex.table.row_count == len(order_exceptions.ticket_page(db, admin))

        await scan(pilot, "SHOP:HOLD1")  # that order's tickets
        assert [t.code for t in ex.rows] == ["bad_address"]
        await pilot.press("ctrl+o")
        await answer(pilot, "postcode=x")
        assert "still needs fixing" in text_of(ex, "#status-message")
        await pilot.press("ctrl+o")
        await answer(pilot, "postcode=200120; phone=13812345678")
        assert orders.order_detail(db, admin, "SHOP:HOLD1").order.status in ("allocated", "backorder")
        assert ex.rows == [] or all(t.code != "bad_address" for t in ex.rows)

        await pilot.press("enter")  # all tickets again
        oos = [t for t in ex.rows if t.code == "out_of_stock"]
        assert len(oos) >= 3
        for i, t in enumerate(ex.rows):
            if t.id == oos[0].id:
                ex.table.move_cursor(row=i)
        await pilot.press("ctrl+n")
        await answer(pilot, "called the customer")
        await pilot.press("ctrl+a")
        await answer(pilot, "boss")
        t0 = order_exceptions.ticket_detail(db, admin, oos[0].id)
        assert t0.assignee == "boss" and "called the customer" in t0.notes
        await pilot.press("ctrl+w")
        await answer(pilot, "")
        assert order_exceptions.ticket_detail(db, admin, oos[0].id).status == "waiting"

        def select_ticket(tid: int) -> None:
            for i, t in enumerate(ex.rows):
                if t.id == tid:
                    ex.table.move_cursor(row=i)

        select_ticket(oos[1].id)
        await pilot.press("ctrl+u")
        await answer(pilot, "1 P1")
        assert "gets a substitute" in text_of(ex, "#status-message") or "P2" in text_of(ex, "#status-message")
        select_ticket(oos[2].id)
        await pilot.press("ctrl+l")
        await answer(pilot, "1 customer agreed")
        ref = oos[2].order_ref
        assert orders.order_detail(db, admin, ref).order.status == "cancelled"
        if len(oos) > 3:
            select_ticket(oos[3].id)
            await pilot.press("ctrl+k")
            await answer(pilot, "dealt with by phone")
            assert order_exceptions.ticket_detail(db, admin, oos[3].id).status == "resolved"
        await pilot.press("escape")
        assert isinstance(app.screen, OrdersScreen)
        left = order_exceptions.open_exception_count(db, admin).open  # the notice follows each action at once
        assert app.exception_notice.text == (f"{left} open exception(s)" if left else "")


@async_test
async def test_a_long_queue_shows_its_count_capped(db: Database, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    seed_queue(db, tmp_path, n=60)
    monkeypatch.setattr(orders, "COUNT_CAP", 40)  # 61 orders: counted up to 40, shown as "40+"
    app = WsmsApp(db, tui_settings(), desk="orders", page_size=25)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "boss", "9999")
        screen = app.screen
        assert isinstance(screen, OrdersScreen)
        assert "40+ order(s)" in text_of(screen, "#ord-filter") and screen.table.row_count == 25
        await scan(pilot, "express")  # Q0007 and Q0057: not a full page, so counted exactly
        assert "2 order(s)" in text_of(screen, "#ord-filter") and screen.total == 2 and not screen.capped
        await pilot.press("escape")
        assert "40+ order(s)" in text_of(screen, "#ord-filter")


@async_test
async def test_a_clerk_sees_no_notice_and_may_not_cancel(db: Database, tmp_path: Path) -> None:
    seed_queue(db, tmp_path, n=20)
    app = WsmsApp(db, tui_settings(), desk="orders")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = app.screen
        assert isinstance(screen, OrdersScreen)
        assert "exception" not in text_of(screen, "#status-info")
        await pilot.press("ctrl+x")
        await answer(pilot, "not mine to cancel")
        assert "supervisor" in text_of(screen, "#status-message").lower() or "not allowed" in text_of(
            screen, "#status-message").lower() or "permission" in text_of(screen, "#status-message").lower()
        assert app.screen.query_one(StatusBar)


# -- SVG snapshots at 80×24 (SQLite, fixed data and clock, a file named wsms.db) ---------------


@pytest.fixture
def snap_db(snap_file_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setattr("wsms_tui.audit.utcnow", lambda: datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    database = snap_file_db
    seed_queue(database, tmp_path, n=30)
    yield database


def _snap(snap_db: Database, snap_compare: Callable[..., bool], *scans: str, keys: tuple[str, ...] = ()) -> bool:
    async def run_before(pilot: Pilot[Any]) -> None:
        await login(pilot, "boss", "9999")
        for code in scans:
            await scan(pilot, code)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return snap_compare(WsmsApp(snap_db, tui_settings(), desk="orders"), terminal_size=SIZE, run_before=run_before)


def test_snapshot_order_queue(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare)


def test_snapshot_order_detail(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare, "Q0003")


def test_snapshot_exceptions(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare, keys=("ctrl+e",))
