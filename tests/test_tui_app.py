"""The TUI shell through Textual's Pilot, on SQLite and PostgreSQL: login, desks, keys, stock lookup, paging."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from textual import events
from textual.keys import _character_to_key
from textual.widgets import DataTable, Static

from tests.tui_helpers import async_test, login, seed_stock, table_rows, tui_settings, until
from wsms_tui import ledger, users
from wsms_tui.app import WsmsApp, short_db_label
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent
from wsms_tui.errors import BadInput
from wsms_tui.screens.admin import AdminScreen
from wsms_tui.screens.help import HelpScreen
from wsms_tui.screens.login import LoginScreen
from wsms_tui.screens.menu import MenuScreen
from wsms_tui.screens.orders import OrdersScreen
from wsms_tui.screens.packing import PackingScreen
from wsms_tui.screens.receiving import ReceivingScreen
from wsms_tui.screens.stock import StockScreen
from wsms_tui.screens.widgets.scan_input import ScanInput
from wsms_tui.screens.widgets.status_bar import StatusBar

SIZE = (80, 24)


def static_text(screen: object, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


@async_test
async def test_wrong_pin_shows_the_message_and_stays(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "clerk1", "9999")
        assert isinstance(app.screen, LoginScreen)
        assert "wrong PIN" in static_text(app.screen, "#login-error")
        assert app.actor is None
        assert app.screen.query_one("#login-pin", ScanInput).buffer == ""
        assert app.focused is app.screen.query_one("#login-user", ScanInput)
        await pilot.press("f2")  # desks are closed before login
        assert isinstance(app.screen, LoginScreen)


@async_test
async def test_login_typed_in_one_burst_logs_in(db: Database) -> None:
    """User, Enter, PIN, Enter arriving before the focus moves (a badge scan, a fast typist over SSH)."""
    seed_stock(db)
    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for c in "clerk1\t1234\r":
            app.post_message(events.Key({"\t": "tab", "\r": "enter"}.get(c) or _character_to_key(c), c))
        for _ in range(50):
            await pilot.pause()
            if isinstance(app.screen, MenuScreen):
                break
        assert isinstance(app.screen, MenuScreen)
        assert app.actor is not None and app.actor.name == "clerk1"


@async_test
async def test_login_reaches_the_menu_and_f_keys_switch_desks(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert isinstance(app.screen, MenuScreen)
        assert app.actor is not None and app.actor.name == "clerk1"
        assert isinstance(app.focused, ScanInput)
        info = static_text(app.screen, "#status-info")
        assert "clerk1 (clerk)" in info and "scanner: keyboard" in info and "printer: none" in info
        await pilot.press("f2")
        assert isinstance(app.screen, StockScreen)
        assert isinstance(app.focused, ScanInput)
        await pilot.press("f3")
        assert isinstance(app.screen, ReceivingScreen)
        assert app.screen.query_one(ScanInput) is app.focused
        await pilot.press("f4")
        assert isinstance(app.screen, OrdersScreen)
        assert app.screen.query_one(ScanInput) is app.focused
        assert app.screen.query_one(StatusBar)
        await pilot.press("f5")
        assert isinstance(app.screen, PackingScreen) and app.screen.query_one(ScanInput) is app.focused
        for key, desk in (("f6", "waves"), ("f8", "reports"), ("f9", "admin")):
            await pilot.press(key)
            assert app.current_mode == desk
        assert isinstance(app.screen, AdminScreen) and app.screen.query_one(ScanInput) is app.focused
        await pilot.press("f10")
        assert isinstance(app.screen, MenuScreen)


@async_test
async def test_desk_option_opens_that_desk_after_login(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings(), desk="receiving")
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, LoginScreen)  # kiosk/SSH logins still log in first
        await login(pilot)
        assert isinstance(app.screen, ReceivingScreen)


def test_unknown_desk_is_refused_with_the_choices(db: Database) -> None:
    with pytest.raises(BadInput, match="receiving"):
        WsmsApp(db, tui_settings(), desk="nowhere")


async def scan(pilot: object, app: WsmsApp, code: str) -> None:
    await pilot.press(*code, "enter")  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("code", "expected"), [
    ("P1", {("P1", "A-01", "10", "0"), ("P1", "A-02", "4", "1")}),
    ("04006381333931", {("P1", "A-01", "10", "0"), ("P1", "A-02", "4", "1")}),
    ("A-01", {("LOT1", "A-01", "6", "0"), ("P1", "A-01", "10", "0")}),
    ("L-7", {("LOT1", "A-01", "6", "0")}),
])
@async_test
async def test_stock_lookup_shows_the_right_rows(db: Database, code: str, expected: set[tuple[str, ...]]) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings(), desk="stock")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert isinstance(app.screen, StockScreen)
        await scan(pilot, app, code)
        rows = table_rows(app.screen.query_one(DataTable))
        assert {(r[0], r[2], r[5], r[6]) for r in rows} == expected
        assert all(r[0] != "LOT1" or (r[3], r[4]) == ("L-7", "2031-05-01") for r in rows)
        assert str(len(expected)) + " rows" in static_text(app.screen, "#stock-totals")


@async_test
async def test_scan_on_another_desk_opens_stock_with_that_code(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("f9")
        await scan(pilot, app, "A-02")
        assert isinstance(app.screen, StockScreen)
        assert [r[:3] for r in table_rows(app.screen.query_one(DataTable))] == [["P1", "苹果 Apple", "A-02"]]
        assert "Location A-02" in static_text(app.screen, "#stock-title")


@async_test
async def test_unknown_code_is_an_error_on_the_status_line(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings(), desk="stock")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await scan(pilot, app, "NOPE")
        bar = app.screen.query_one(StatusBar)
        assert bar.error and "NOPE" in bar.message
        assert app.screen.query_one(DataTable).row_count == 0


@async_test
async def test_a_clerk_disabled_while_at_a_desk_is_refused_at_the_next_scan(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings(), desk="stock")
    app.account_poll_s = 3600  # the check runs below, when the test says (the scan must come first)
    async with app.run_test(size=SIZE) as pilot:
        notes: list[str] = []
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign,assignment]
        await login(pilot)
        await scan(pilot, app, "A-02")
        assert app.screen.query_one(DataTable).row_count == 1
        users.set_active(db, db.system_actor("test"), "clerk1", False)  # an admin elsewhere
        await scan(pilot, app, "A-01")
        bar = app.screen.query_one(StatusBar)
        assert bar.error and "account of clerk1 is disabled" in bar.message
        assert "Location A-02" in static_text(app.screen, "#stock-title")  # nothing of A-01 shown
        app._check_account()  # what the account timer runs: the session ends
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), timeout=10)
        await pilot.app.workers.wait_for_complete()
        assert app.actor is None and "the account of clerk1 was disabled" in notes


@async_test
async def test_a_role_changed_by_an_admin_ends_the_session(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings(), desk="stock")
    app.account_poll_s = 0.3
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.pause(0.8)  # checks that find nothing change nothing
        assert isinstance(app.screen, StockScreen)
        users.set_role(db, db.system_actor("test"), "clerk1", "supervisor")
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), timeout=10)
        await pilot.app.workers.wait_for_complete()
    reason = db.read(lambda s: s.execute(select(AuditEvent.payload).where(AuditEvent.action == "logout")).scalar_one())
    assert "clerk1 is supervisor now: log in again" in reason


@async_test
async def test_f12_logs_out_and_the_next_user_logs_in_at_the_same_terminal(db: Database) -> None:
    seed_stock(db)
    users.add_user(db, db.system_actor("test"), "boss", "supervisor", "9999")
    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("f3")
        await scan(pilot, app, "NOT-A-RECEIPT")  # the desk holds a refusal on its message line
        assert isinstance(app.screen, ReceivingScreen)
        await pilot.press("f12")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and app.actor is None
        assert "not logged in" in static_text(app.screen, "#status-info")
        await pilot.press("f3")  # no desk without a login
        assert isinstance(app.screen, LoginScreen)
        await login(pilot, "boss", "9999")
        assert isinstance(app.screen, MenuScreen) and app.actor is not None and app.actor.name == "boss"
        assert "boss (supervisor)" in static_text(app.screen, "#status-info")
        await pilot.press("f3")
        assert isinstance(app.screen, ReceivingScreen)
        assert "NOT-A-RECEIPT" not in static_text(app.screen, "#rcv-message")  # a new desk, not clerk1's
    events = db.read(lambda s: s.execute(select(AuditEvent.action, AuditEvent.actor).where(
        AuditEvent.action.in_(("login.ok", "logout"))).order_by(AuditEvent.seq)).all())
    assert [tuple(e) for e in events] == [("login.ok", "clerk1"), ("logout", "clerk1"), ("login.ok", "boss")]


@async_test
async def test_a_shared_terminal_logs_out_after_idling(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings(idle_logout_minutes=0.05))  # 3 s without a key or a scan
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("f2")
        assert isinstance(app.screen, StockScreen)
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), timeout=10)
        await pilot.app.workers.wait_for_complete()  # the logout closes the desks after showing the login
        assert app.actor is None and "stock" not in app._modes
    reason = db.read(lambda s: s.execute(select(AuditEvent.payload).where(AuditEvent.action == "logout")).scalar_one())
    assert "clerk1 logged out after 0.05 min without a key or a scan" in reason


@async_test
async def test_paging_loads_further_pages_when_the_cursor_reaches_the_end(db: Database) -> None:
    seed_stock(db)
    admin = db.system_actor("test")
    for i in range(23):  # 3 seeded quants + 23 lots of LOT1 = 26 rows
        ledger.receive(db, admin, product="LOT1", qty=1, location="A-02", lot=f"B{i:03d}", op_id=f"page-{i}")
    app = WsmsApp(db, tui_settings(), desk="stock", page_size=10)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = app.screen
        assert isinstance(screen, StockScreen)
        table = screen.query_one(DataTable)
        assert table.row_count == 10  # all stock (26 rows), first page only
        assert "26 rows" in static_text(screen, "#stock-totals")
        await pilot.press(*["down"] * 9)
        assert table.row_count == 20
        await pilot.press(*["down"] * 10)
        assert table.row_count == 26
        await pilot.press(*["down"] * 10)
        assert table.row_count == 26 and screen.exhausted
        rows = table_rows(table)
        keys = [(r[0], r[2], r[3]) for r in rows]
        assert len(set(keys)) == 26  # no row twice, none lost
        assert [r[0] for r in rows] == sorted(r[0] for r in rows)


@async_test
async def test_keymap_from_settings_remaps_desk_keys_and_help_shows_it(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings(keys={"desk.stock": "f12", "help": "f11"}))
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("f2")
        assert isinstance(app.screen, MenuScreen)  # f2 is no longer Stock
        await pilot.press("f12")
        assert isinstance(app.screen, StockScreen)
        await pilot.press("f11")
        assert isinstance(app.screen, HelpScreen)
        rows = dict((what, keys) for keys, what in app.screen.keys)
        assert rows["Stock"] == "F12" and rows["Help: the keys"] == "F11"
        await pilot.press("escape")
        assert isinstance(app.screen, StockScreen)


@async_test
async def test_help_lists_the_default_keys(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = dict((what, keys) for keys, what in app.screen.keys)
        assert rows["Help: the keys"] == "F1" and rows["Stock"] == "F2" and rows["Receiving"] == "F3"
        assert rows["Admin"] == "F9" and rows["Quit"] == "Ctrl+Q"
        await pilot.press("f1")
        assert isinstance(app.screen, MenuScreen)


def test_status_bar_database_label_has_no_password() -> None:
    assert short_db_label("postgresql+psycopg://bob:s3cret@db.example:5432/wsms") == "postgresql://db.example:5432/wsms"
    assert short_db_label("sqlite:////var/lib/wsms/demo.db") == "sqlite:demo.db"


@async_test
async def test_command_palette_lists_and_opens_desks(db: Database) -> None:
    seed_stock(db)
    app = WsmsApp(db, tui_settings())
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"desk: stock")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, StockScreen)


def test_theme_comes_from_settings_not_the_environment(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTUAL_THEME", "nord")
    assert WsmsApp(db, tui_settings()).theme == "textual-dark"
    assert WsmsApp(db, tui_settings(theme="gruvbox")).theme == "gruvbox"
    assert WsmsApp(db, tui_settings(theme="no-such-theme")).theme == "textual-dark"


@async_test
async def test_scan_timing_from_the_settings_reaches_every_desk_scan_field(db: Database) -> None:
    """``[scanner] timing = "on"`` frames by inter-key timing on a desk: a fast run of keys with no
    terminator is a scan (here a SKU that opens on the Stock desk); "auto" in a headless app is off."""
    from time import monotonic

    from wsms_tui.config import ScannerSettings

    seed_stock(db)
    timed = ScannerSettings.model_construct(prefix="", suffix="", timing="on", max_interkey_ms=40)
    app = WsmsApp(db, tui_settings(scanner=timed), desk="stock")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert isinstance(app.screen, StockScreen)
        assert app.screen.query_one(ScanInput).interkey_ms == 40
        start = monotonic()
        for i, c in enumerate("LOT1"):
            key = events.Key(_character_to_key(c), c)
            key.time = start + i * 0.002
            app.post_message(key)
        for _ in range(40):
            await pilot.pause(0.02)
            if "L-7" in {cell for row in table_rows(app.screen.query_one(DataTable)) for cell in row}:
                break
        assert "L-7" in {cell for row in table_rows(app.screen.query_one(DataTable)) for cell in row}
    app = WsmsApp(db, tui_settings(), desk="stock")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        assert app.screen.query_one(ScanInput).interkey_ms == 0
