"""Helpers for the TUI tests: settings, seeded stock, logging in through the login screen, table contents."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any, ParamSpec

from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.helpers import seed_basic
from wsms_tui import ledger
from wsms_tui.config import ScannerSettings, Settings
from wsms_tui.database import Database
from wsms_tui.users import add_user

P = ParamSpec("P")


def async_test(fn: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Run an ``async def`` test with ``asyncio.run`` (no asyncio pytest plugin is installed)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(fn(*args, **kwargs))

    return run


def tui_settings(**overrides: Any) -> Settings:
    """Settings fixed for tests (no config file or environment can change what a test sees)."""
    values: dict[str, Any] = {"database_url": "sqlite://", "terminal": "test-term", "theme": "textual-dark",
                              "keys": {}, "desk": None,
                              "scanner": ScannerSettings.model_construct(prefix="", suffix="", max_interkey_ms=40)}
    values.update(overrides)
    return Settings.model_construct(**values)


def seed_stock(db: Database) -> None:
    """seed_basic plus stock: P1 in A-01 (10) and A-02 (4, 1 reserved), LOT1 lot L-7 in A-01, user clerk1/1234."""
    seed_basic(db)
    admin = db.system_actor("test")
    ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="tui-r1")
    ledger.receive(db, admin, product="P1", qty=4, location="A-02", op_id="tui-r2")
    ledger.reserve(db, admin, product="P1", location="A-02", qty=1, op_id="tui-res1")
    ledger.receive(db, admin, product="LOT1", qty=6, location="A-01", lot="L-7", expiry=date(2031, 5, 1),
                   op_id="tui-r3")
    add_user(db, admin, "clerk1", "clerk", "1234")


async def login(pilot: Pilot[Any], name: str = "clerk1", pin: str = "1234") -> None:
    """Type the user and PIN into the login screen as a person would."""
    await pilot.press(*name, "enter", *pin, "enter")
    await pilot.pause()


def table_rows(table: DataTable[Any]) -> list[list[str]]:
    """Every loaded row of ``table`` as plain strings."""
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def settle(pilot: Pilot[Any]) -> None:
    """Let the screen process what is queued and every worker (a report, a check) finish."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_in(pilot: Pilot[Any], text: str) -> None:
    """Type ``text`` into the focused field and press Enter, then settle."""
    await pilot.press(*text, "enter")
    await settle(pilot)


async def until(pilot: Pilot[Any], check: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until ``check()`` is true (a device thread's scan has arrived …); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.02)
