"""The Picking desk (F6) through Textual's Pilot (both backends): take a tour from the list, scan location
labels and items as wedge-scanner bursts, a wrong location rings the bell and posts nothing, short pick
and skip keys, a tote change, the Waves screen (plan, release, show); a serial scanner on a real pty picks
a whole tour; SVG snapshots at 80×24 (SQLite, fixed data)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.test_tui_receiving import count_bells, scan
from tests.tui_helpers import async_test, login, table_rows, tui_settings, until
from tests.waves_seed import orders, seed_all
from wsms_tui import order_exceptions, replenishment, stock, waves
from wsms_tui import orders as order_svc
from wsms_tui.app import WsmsApp
from wsms_tui.barcodes import location_barcode
from wsms_tui.config import ScannerSettings
from wsms_tui.database import Database
from wsms_tui.screens.help import HelpScreen
from wsms_tui.screens.picking import PickingScreen
from wsms_tui.screens.waves import WavesScreen
from wsms_tui.users import add_user

SIZE = (80, 24)


def seed_desk(db: Database, tmp_path: Path, *, release: bool = True) -> None:
    """W1 with its layout and stock; orders SO-1 (P1 ×2), SO-2 (P2 ×1); a released wave W1 (one tour);
    users clerk1/1234 and boss/9999."""
    admin = db.system_actor("test")
    seed_all(db, admin, tmp_path)
    orders(db, admin, tmp_path, ("O1", "P1", 2), ("O2", "P2", 1))
    add_user(db, admin, "clerk1", "clerk", "1234")
    add_user(db, admin, "boss", "supervisor", "9999")
    if release:
        res = waves.plan(db, admin, warehouse="W1")
        waves.release(db, admin, res.wave_id or 0)


def text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def scans_for(screen: PickingScreen) -> list[str]:
    """The scans that pick the current task whole (location label, then the item per unit)."""
    t = screen.view.task
    assert t is not None
    return [location_barcode(t.location)] + [t.lot or t.sku if t.tracking != "none" else t.sku] * int(t.left)


@async_test
async def test_pick_a_tour_with_keys_and_bursts(db: Database, tmp_path: Path) -> None:
    seed_desk(db, tmp_path)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(), desk="picking")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = app.screen
        assert isinstance(screen, PickingScreen)
        bells = count_bells(app)
        tours = table_rows(screen.query_one("#pk-tour-table", DataTable))
        assert [r[0] for r in tours] == ["W1-1"] and tours[0][2] == "2"
        await pilot.press("enter")  # the highlighted tour
        await pilot.pause()
        assert screen.view.step == "location" and screen.view.tour is not None
        t = screen.view.task
        assert t is not None
        assert t.location in text(screen, "#pk-card") and t.sku in text(screen, "#pk-card")
        assert "2 line(s) left" in text(screen, "#pk-left") and " m to walk" in text(screen, "#pk-left")

        other = "D-03" if t.location != "D-03" else "A-01"
        await scan(pilot, location_barcode(other))
        assert len(bells) == 1 and "wrong location" in text(screen, "#pk-message")
        assert screen.query_one("#pk-message").has_class("error")
        assert stock.ledger_page(db, admin, sku="P2")[0].kind == "receive"  # nothing posted

        # skip (Ctrl+K): the other pick comes first; change its tote; pick it in one burst
        await pilot.press("ctrl+k")
        await pilot.pause()
        assert "comes back" in text(screen, "#pk-message")
        second = screen.view.task
        assert second is not None and second.id != t.id
        await scan(pilot, "%TOTE:T7")
        assert "tote T7" in text(screen, "#pk-message")
        for code in scans_for(screen):
            await scan(pilot, code)
        assert screen.view.task is not None and screen.view.task.id == t.id
        # short pick (Ctrl+E) after the location: re-allocated elsewhere (P1: C-05 / E-10; P2: E-09)
        await scan(pilot, location_barcode(t.location))
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert "short at" in text(screen, "#pk-message") and "re-allocated" in text(screen, "#pk-message")
        for code in scans_for(screen):
            await scan(pilot, code)
        assert screen.view.step == "tour" and "tour W1-1 done" in text(screen, "#pk-message")
        assert {r.status for r in order_svc.order_page(db, admin)} == {"picked"}
        assert len(order_exceptions.ticket_page(db, admin, code="short_pick")) == 1

        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        rows = {what: keys for keys, what in app.screen.keys}
        assert rows["short pick: the rest is not there (or scan %CMD:SHORT)"] == "Ctrl+E"
    assert stock.verify_ledger(db, admin).ok


@async_test
async def test_waves_screen_plans_and_releases(db: Database, tmp_path: Path) -> None:
    seed_desk(db, tmp_path, release=False)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(), desk="picking")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "boss", "9999")
        desk = app.screen
        assert isinstance(desk, PickingScreen) and desk.view.tours == ()
        await pilot.press("ctrl+w")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WavesScreen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "wave W1: 2 orders" in text(screen, "#wv-message")
        assert table_rows(screen.query_one("#wv-waves", DataTable))[0][:2] == ["W1", "planned"]
        tours = table_rows(screen.query_one("#wv-tours", DataTable))
        assert tours[0][0] == "W1-1" and "→" in tours[0][4]
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert "again releases W1" in text(screen, "#wv-message")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert "released" in text(screen, "#wv-message")
        assert table_rows(screen.query_one("#wv-waves", DataTable))[0][1] == "released"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert "nothing to plan" in text(screen, "#wv-message")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is desk and [t.ref for t in desk.view.tours] == ["W1-1"]
    assert {r.status for r in order_svc.order_page(db, admin)} == {"picking"}


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
@async_test
async def test_a_serial_scanner_on_a_pty_picks_a_whole_tour(db: Database, tmp_path: Path) -> None:
    seed_desk(db, tmp_path)
    admin = db.system_actor("test")
    tasks = waves.show(db, admin, 1).tours[0].stops
    assert tasks
    master, slave = os.openpty()
    settings = tui_settings(scanner=ScannerSettings.model_construct(prefix="", suffix="", url=os.ttyname(slave)))
    app = WsmsApp(db, settings, desk="picking")
    try:
        async with app.run_test(size=SIZE) as pilot:
            await login(pilot)
            screen = app.screen
            assert isinstance(screen, PickingScreen)
            await until(pilot, lambda: app.scanner is not None and app.scanner.status is not None
                        and app.scanner.status.state == "connected")
            os.write(master, b"W1-1\r\n")
            await until(pilot, lambda: screen.view.step == "location")
            sent = 1
            while screen.view.step != "tour":
                codes = scans_for(screen)
                os.write(master, b"".join(c.encode() + b"\r\n" for c in codes))
                sent += len(codes)
                current = screen.view.task
                await until(pilot, lambda cur=current: screen.view.task != cur)
            assert "done: 2 picked, 0 short" in text(screen, "#pk-message")
            assert app.scanner is not None and app.scanner.scans == sent
    finally:
        os.close(master)
        os.close(slave)
    assert {r.status for r in order_svc.order_page(db, admin)} == {"picked"}
    assert stock.verify_ledger(db, admin).ok


# -- SVG snapshots at 80×24 (SQLite, fixed data, a file named wsms.db) -------------------------


@pytest.fixture
def snap_db(snap_file_db: Database, tmp_path: Path) -> Iterator[Database]:
    database = snap_file_db
    seed_desk(database, tmp_path)
    yield database


def _snap(snap_db: Database, snap_compare: Callable[..., bool], *scans: str, keys: tuple[str, ...] = ()) -> bool:
    async def run_before(pilot: Pilot[Any]) -> None:
        await login(pilot)
        for code in scans:
            await scan(pilot, code)
        for key in keys:
            await pilot.press(key)
        await pilot.pause()

    return snap_compare(WsmsApp(snap_db, tui_settings(), desk="picking"), terminal_size=SIZE, run_before=run_before)


def test_snapshot_tour_list(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare)


def test_snapshot_pick_card(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare, "W1-1", location_barcode("Z-99"))  # a refused scan: red line


def test_snapshot_replenishment(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    admin = snap_db.system_actor("test")
    replenishment.set_rule(snap_db, admin, "C-05", "P1", min_qty=5, max_qty=10)
    replenishment.check(snap_db, admin, "W1")
    assert _snap(snap_db, snap_compare, "%CMD:REPLEN", location_barcode("A-01"))


def test_snapshot_waves_screen(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare, keys=("ctrl+w",))


