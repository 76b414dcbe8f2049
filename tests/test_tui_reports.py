"""The Reports desk (F8) through Textual's Pilot: choose reports, warehouses and periods by key and by typing,
sort, chart, clear messages for empty periods; the reorder alert on the status bar; 80×24 snapshots (SQLite,
fixed data, the report clock fixed so "computed" never changes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.test_reports import NOW, build, demand_world
from tests.tui_helpers import async_test, login, settle, table_rows, tui_settings, type_in
from wsms_tui.app import WsmsApp
from wsms_tui.database import Database
from wsms_tui.reports import ReportParams, run_report
from wsms_tui.screens.reports import ReportsScreen
from wsms_tui.screens.widgets.status_bar import StatusBar
from wsms_tui.users import add_user

SIZE = (80, 24)


def app_for(db: Database) -> WsmsApp:
    app = WsmsApp(db, tui_settings())
    app.report_clock = lambda: NOW  # type: ignore[attr-defined]
    return app


async def open_reports(pilot: Pilot[Any]) -> ReportsScreen:
    await login(pilot, "boss", "9999")
    await pilot.press("f8")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReportsScreen)
    return screen


def seeded(db: Database) -> None:
    build(db, db.system_actor("test"))
    add_user(db, db.system_actor("test"), "boss", "supervisor", "9999")


def header(screen: ReportsScreen) -> str:
    return str(screen.query_one("#rep-header", Static).render())


@async_test
async def test_reports_desk_choose_sort_and_messages(db: Database) -> None:
    seeded(db)
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_reports(pilot)
        assert "Stock on hand and value by warehouse" in header(screen)
        assert "computed 2026-03-31 18:00 UTC" in header(screen)
        table = screen.query_one("#rep-table", DataTable)
        assert [r[0] for r in table_rows(table)] == ["W2", "W1"]  # most value first
        await type_in(pilot, "abc")
        await type_in(pilot, "2026-01-01..2026-03-31")
        assert "ABC classes" in header(screen) and "2026-01-01 – 2026-03-31" in header(screen)
        want = run_report(db, db.system_actor(), "abc", ReportParams(now=NOW, date_from=date(2026, 1, 1),
                                                                     date_to=date(2026, 3, 31)))
        assert [r[0] for r in table_rows(table)] == [x["sku"] for x in want.rows] == ["P1", "P2", "P3", "P4"]
        await pilot.press("ctrl+s")  # sort by the first column (SKU), text ascending
        assert [r[0] for r in table_rows(table)] == ["P1", "P2", "P3", "P4"]
        await pilot.press("ctrl+r")
        assert [r[0] for r in table_rows(table)] == ["P4", "P3", "P2", "P1"]
        await type_in(pilot, "W2")
        assert " · W2 · " in header(screen) and [r[0] for r in table_rows(table)] == ["P2"]
        await type_in(pilot, "2020-01-01..2020-02-01")  # nothing sold: a message, no table
        bar = screen.query_one(StatusBar)
        assert "nothing was sold in W2 between 2020-01-01 and 2020-02-01" in bar.message and bar.error
        assert table.row_count == 0
        await type_in(pilot, "all")
        await type_in(pilot, "turnovr")  # not a report, not a warehouse: the warehouse is refused by the report
        assert "no warehouse 'TURNOVR'" in bar.message
        await type_in(pilot, "all")
        await pilot.press("ctrl+n")  # abc → xyz
        await settle(pilot)
        assert screen.report == "xyz"
        await pilot.press("ctrl+g")
        assert not screen.query_one("#rep-chart", Static).display


@async_test
async def test_clerk_is_refused_and_the_reorder_alert_shows(db: Database) -> None:
    demand_world(db, db.system_actor("test"), on_hand=24)
    admin = db.system_actor("test")
    add_user(db, admin, "boss", "supervisor", "9999")
    add_user(db, admin, "clerk1", "clerk", "1234")
    run_report(db, admin, "reorder", ReportParams(now=NOW, date_from=date(2026, 2, 4), date_to=date(2026, 3, 31),
                                                  method="mean", lead_days=14))
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "clerk1", "1234")
        await pilot.press("f8")
        await settle(pilot)
        bar = app.screen.query_one(StatusBar)
        assert "may not report.view" in bar.message and "reorder" not in str(bar._info_text())
    app = app_for(db)
    async with app.run_test(size=SIZE) as pilot:
        await open_reports(pilot)
        assert app.reorder_alerts == 1
        assert str(app.screen.query_one(StatusBar)._info_text()).startswith("reorder: 1 │")


# ------------------------------------------------------------------ snapshots


@pytest.fixture
def snap_db(snap_file_db: Database, tmp_path: Path) -> Iterator[Database]:
    db = snap_file_db
    seeded(db)
    yield db


def test_snapshot_stock_by_warehouse(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_reports(pilot)

    assert snap_compare(app_for(snap_db), terminal_size=SIZE, run_before=run_before)


def test_snapshot_turnover_by_category(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_reports(pilot)
        await type_in(pilot, "turnover")
        await type_in(pilot, "by category")
        await type_in(pilot, "2026-01-01..2026-03-31")

    assert snap_compare(app_for(snap_db), terminal_size=SIZE, run_before=run_before)


def test_snapshot_empty_period_message(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_reports(pilot)
        await type_in(pilot, "abc")
        await type_in(pilot, "2020-01-01..2020-03-31")

    assert snap_compare(app_for(snap_db), terminal_size=SIZE, run_before=run_before)



