"""SVG snapshots at 80×24 of the login screen (with demo logins), the desk menu and a stock lookup.

One backend suffices for pixels: these run on SQLite only, on a file with a fixed name (the status
bar shows it) and fixed data. Regenerate with ``pytest tests/test_tui_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui_helpers import login, seed_stock, tui_settings
from wsms_tui.app import WsmsApp
from wsms_tui.database import Database
from wsms_tui.db.models import Meta

SIZE = (80, 24)
DEMO = [{"name": "admin", "role": "admin", "pin": "1111"}, {"name": "clerk1", "role": "clerk", "pin": "1234"},
        {"name": "super", "role": "supervisor", "pin": "2222"}]


@pytest.fixture
def snap_db(snap_file_db: Database, tmp_path: Path) -> Iterator[Database]:
    db = snap_file_db
    seed_stock(db)
    db.write(lambda s: s.add(Meta(key="demo_logins", value=json.dumps(DEMO))))
    yield db


def test_login_screen_with_demo_logins(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(WsmsApp(snap_db, tui_settings()), terminal_size=SIZE)


def test_desk_menu(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await login(pilot)

    assert snap_compare(WsmsApp(snap_db, tui_settings()), terminal_size=SIZE, run_before=run_before)


def test_stock_lookup_by_location(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await login(pilot)
        await pilot.press("f2", *"A-01", "enter")
        await pilot.pause()

    assert snap_compare(WsmsApp(snap_db, tui_settings()), terminal_size=SIZE, run_before=run_before)
