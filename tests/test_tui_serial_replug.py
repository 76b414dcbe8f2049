"""A serial scanner on a real pseudo-terminal, unplugged and plugged back while the TUI runs: its scans reach
the desk before and after, the desk says it is waiting for the device and that it is back, without a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import DataTable

from tests.test_serial_scanner import Pty
from tests.tui_helpers import async_test, login, seed_stock, table_rows, tui_settings, until
from wsms_tui.app import WsmsApp
from wsms_tui.config import ScannerSettings
from wsms_tui.database import Database
from wsms_tui.screens.stock import StockScreen

SIZE = (80, 24)


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[Pty]:
    p = Pty(tmp_path / "scanner")
    yield p
    p.close()


def locations(screen: StockScreen) -> list[str]:
    return [r[2] for r in table_rows(screen.query_one(DataTable))]


def notes(app: WsmsApp) -> list[str]:
    return [n.message for n in app._notifications]


@async_test
async def test_unplug_and_replug_while_the_desk_runs(db: Database, pty: Pty) -> None:
    seed_stock(db)
    settings = tui_settings(scanner=ScannerSettings.model_construct(prefix="", suffix="", max_interkey_ms=40,
                                                                    url=str(pty.link)))
    app = WsmsApp(db, settings)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await pilot.press("f2")
        screen = app.screen
        assert isinstance(screen, StockScreen)
        pty.write(b"A-02\r\n")
        await until(pilot, lambda: locations(screen) == ["A-02"])
        pty.unplug()
        await until(pilot, lambda: any("waiting for device" in n for n in notes(app)))
        time.sleep(0.3)  # a few reopen attempts fail meanwhile
        pty.plug()
        await until(pilot, lambda: any("connected again" in n for n in notes(app)))
        pty.write(b"A-01\r\n")
        await until(pilot, lambda: set(locations(screen)) == {"A-01"})
        assert app.scanner is not None and app.scanner.reconnects == 1
