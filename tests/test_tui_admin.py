"""The Admin desk (F9) through Textual's Pilot, on SQLite and PostgreSQL: users added, disabled, enabled,
given a new PIN and a new role (checked by logging in with the service); refusals for supervisors and
clerks; the devices view asking a fake Zebra on loopback TCP; the integrity checks finding a tampered
audit event. 80×24 snapshots of the users and checks views (SQLite, fixed data)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from tests.tui_helpers import async_test, login, seed_stock, settle, table_rows, tui_settings, type_in
from wsms_tui.app import WsmsApp
from wsms_tui.config import PrinterConfig
from wsms_tui.database import Database
from wsms_tui.devices.simulator import TcpPrinterServer, ZebraSimulator
from wsms_tui.errors import LoginFailed
from wsms_tui.screens.admin import AdminScreen
from wsms_tui.screens.pin_prompt import PinPrompt
from wsms_tui.users import add_user, authenticate, list_users

SIZE = (80, 24)


def seeded(db: Database) -> None:
    seed_stock(db)  # clerk1/1234 and some ledger history
    system = db.system_actor("test")
    add_user(db, system, "root", "admin", "4321", "Ada Admin")
    add_user(db, system, "boss", "supervisor", "9999")


async def open_admin(pilot: Pilot[Any], name: str = "root", pin: str = "4321") -> AdminScreen:
    await login(pilot, name, pin)
    await pilot.press("f9")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, AdminScreen)
    return screen


def message(screen: AdminScreen) -> str:
    return str(screen.query_one("#adm-message", Static).render())


def is_error(screen: AdminScreen) -> bool:
    return screen.query_one("#adm-message", Static).has_class("error")


def users_of(db: Database) -> dict[str, tuple[str, bool]]:
    return {u.name: (u.role, u.active) for u in list_users(db, db.system_actor("test"))}


async def pick_user(pilot: Pilot[Any], screen: AdminScreen, name: str) -> None:
    table = screen.query_one("#adm-table", DataTable)
    for _ in range(table.cursor_row):
        await pilot.press("up")
    while screen.highlighted_user() != name:
        assert table.cursor_row < table.row_count - 1, f"{name} is not in the list"
        await pilot.press("down")


async def give_pin(pilot: Pilot[Any], first: str, second: str) -> None:
    assert isinstance(pilot.app.screen, PinPrompt)
    await pilot.press(*first, "enter", *second, "enter")
    await settle(pilot)


@async_test
async def test_admin_adds_disables_enables_and_resets_a_user(db: Database) -> None:
    seeded(db)
    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot)
        rows = table_rows(screen.query_one("#adm-table", DataTable))
        assert [r[0] for r in rows] == ["boss", "clerk1", "root"]
        assert rows[2][1:] == ["Ada Admin", "admin", "active"]

        # add: name role full name, then the PIN twice (masked)
        await pilot.press("ctrl+a")
        await type_in(pilot, "bob clerk Bob Builder")
        prompt = app.screen
        assert isinstance(prompt, PinPrompt) and all(i.password for i in prompt.query(Input))
        await give_pin(pilot, "5678", "5679")  # differ: refused, the prompt stays
        assert isinstance(app.screen, PinPrompt)
        assert "differ" in str(app.screen.query_one("#pin-message", Static).render())
        await give_pin(pilot, "5678", "5678")
        assert app.screen is screen and not is_error(screen)
        assert "bob added as clerk" in message(screen)
        assert users_of(db)["bob"] == ("clerk", True)
        assert authenticate(db, "bob", "5678", "t").name == "bob"

        # disable: Ctrl+X twice on the highlighted user; bob can no longer log in
        await pick_user(pilot, screen, "bob")
        await pilot.press("ctrl+x")
        assert users_of(db)["bob"] == ("clerk", True) and "again to disable bob" in message(screen)
        await pilot.press("ctrl+x")
        await settle(pilot)
        assert users_of(db)["bob"] == ("clerk", False)
        assert ["bob", "Bob Builder", "clerk", "disabled"] in table_rows(screen.query_one("#adm-table", DataTable))
        with pytest.raises(LoginFailed):
            authenticate(db, "bob", "5678", "t")

        # typed commands: enable, a new PIN, a new role
        await type_in(pilot, "enable bob")
        assert users_of(db)["bob"] == ("clerk", True)
        await type_in(pilot, "pin bob")
        await give_pin(pilot, "2468", "2468")
        assert "new PIN set for bob" in message(screen)
        assert authenticate(db, "bob", "2468", "t").name == "bob"
        await type_in(pilot, "role bob supervisor")
        assert users_of(db)["bob"] == ("supervisor", True) and "bob is now supervisor" in message(screen)

        # refusals from the service, in red: yourself, a bad role
        await type_in(pilot, "disable root")
        assert is_error(screen) and "yourself" in message(screen)
        assert users_of(db)["root"] == ("admin", True)
        await type_in(pilot, "role bob boss")
        assert is_error(screen) and "role must be one of" in message(screen)


@async_test
async def test_supervisor_sees_users_but_may_not_change_them_and_a_clerk_may_not_list(db: Database) -> None:
    seeded(db)
    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot, "boss", "9999")
        assert [r[0] for r in table_rows(screen.query_one("#adm-table", DataTable))] == ["boss", "clerk1", "root"]
        await pick_user(pilot, screen, "clerk1")
        await pilot.press("ctrl+x", "ctrl+x")
        await settle(pilot)
        assert is_error(screen) and "may not" in message(screen)
        assert users_of(db)["clerk1"] == ("clerk", True)
        await pilot.press("ctrl+a")
        await type_in(pilot, "eve clerk")
        assert app.screen is screen and is_error(screen) and "may not" in message(screen)
        assert "eve" not in users_of(db)

    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot, "clerk1", "1234")
        assert screen.query_one("#adm-table", DataTable).row_count == 0
        assert is_error(screen) and "may not" in message(screen)
        await type_in(pilot, "A-02")  # not a command: the Stock desk shows it, as on every desk
        assert app.current_mode == "stock"


@async_test
async def test_devices_view_asks_the_printers(db: Database) -> None:
    seeded(db)
    sim = ZebraSimulator()
    with TcpPrinterServer(sim) as srv:
        settings = tui_settings(printers={"dock1": PrinterConfig(url=srv.url, dpi=300),
                                          "gone": PrinterConfig(url="socket://127.0.0.1:9")},
                                printer="dock1", spool_in_desk=False)
        app = WsmsApp(db, settings)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_admin(pilot)
            await pilot.press("ctrl+n")
            await settle(pilot)
            table = screen.query_one("#adm-table", DataTable)
            assert [r[:4] for r in table_rows(table)] == [["dock1 *", srv.url, "300", "0"],
                                                          ["gone", "socket://127.0.0.1:9", "203", "0"]]
            assert "keyboard wedge only" in str(screen.query_one("#adm-notes", Static).render())
            await pilot.press("ctrl+t")
            await settle(pilot)
            rows = table_rows(table)
            assert "ready" in rows[0][5] and "not" not in rows[0][5]
            assert rows[1][5] and "ready" not in rows[1][5].replace("not ready", "")
            assert is_error(screen) and "not ready: gone" in message(screen)
            assert sim.queries >= 1 and sim.labels == []  # asked, never printed

        # with this desk's print worker on dock1, the desk shows the worker's state instead of a second connection
        settings = tui_settings(printers={"dock1": PrinterConfig(url=srv.url, dpi=300)}, printer="dock1",
                                spool_in_desk=True)
        app = WsmsApp(db, settings, spool_options={"status_timeout": 1.0, "idle_poll": 0.2})
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_admin(pilot)
            assert app.spool is not None
            await pilot.press("ctrl+n")
            await settle(pilot)
            await pilot.press("ctrl+t")
            await settle(pilot)
            rows = table_rows(screen.query_one("#adm-table", DataTable))
            assert rows[0][0] == "dock1 *" and "this desk's print worker" in rows[0][5]


@async_test
async def test_checks_view_runs_the_ledger_and_audit_checks_and_finds_tampering(db: Database) -> None:
    seeded(db)
    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_admin(pilot)
        await type_in(pilot, "checks")
        rows = table_rows(screen.query_one("#adm-table", DataTable))
        assert rows[0][0] == "ledger verify" and rows[0][1].startswith("OK")
        assert rows[1][0] == "audit verify" and rows[1][1].startswith("OK")
        assert not is_error(screen) and "consistent" in message(screen)
        with db.engine.begin() as conn:  # someone edits history behind wsms's back
            conn.execute(text("UPDATE audit_event SET payload = '{\"edited\": 1}' WHERE seq = "
                              "(SELECT min(seq) FROM audit_event)"))
        await pilot.press("ctrl+t")
        await settle(pilot)
        rows = table_rows(screen.query_one("#adm-table", DataTable))
        assert rows[0][1].startswith("OK")
        assert rows[1][0] == "audit verify" and "problem" in rows[1][1]
        assert len(rows) > 2  # the problems, named
        assert is_error(screen) and "audit verify" in message(screen)


# ------------------------------------------------------------------ snapshots (SQLite, fixed data)


@pytest.fixture
def snap_db(snap_file_db: Database, tmp_path: Path) -> Iterator[Database]:
    db = snap_file_db
    seeded(db)
    yield db


def test_snapshot_users(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_admin(pilot)

    assert snap_compare(WsmsApp(snap_db, tui_settings()), terminal_size=SIZE, run_before=run_before)


def test_snapshot_checks(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_admin(pilot)
        await type_in(pilot, "checks")

    assert snap_compare(WsmsApp(snap_db, tui_settings()), terminal_size=SIZE, run_before=run_before)



def test_check_summaries_group_thousands() -> None:
    from wsms_tui.admin import audit_summary, ledger_summary
    from wsms_tui.audit import ChainReport
    from wsms_tui.stock import LedgerReport

    assert ledger_summary(LedgerReport(1_234_567, 4_321)) == "OK — 1,234,567 entries, 4,321 quants match"
    assert audit_summary(ChainReport(12_000, ["x"] * 1_001)) == "1,001 problem(s) in 12,000 events"
