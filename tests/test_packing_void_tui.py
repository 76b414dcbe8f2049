"""Voiding a booked box at the Packing bench (F5) through Textual's Pilot, on SQLite and PostgreSQL, with the HTTP
carrier (the fake carrier web API on loopback): Ctrl+X names the box, Ctrl+X again asks why (Esc keeps it); the
carrier's refusal (409: collected already) is a red line with the bell and nothing changed; after the void the
order's lines show the units to pack again, the next box books, and the order ships."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from tests.fake_carrier import FakeCarrier
from tests.test_packing import books_ok, http_settings, seed_pack, shipped_by_sku
from tests.test_tui_packing import SIZE, booked, message
from tests.test_tui_receiving import scan
from tests.tui_helpers import async_test, login
from wsms_tui import packing
from wsms_tui.app import WsmsApp
from wsms_tui.database import Database
from wsms_tui.screens.packing import PackingScreen
from wsms_tui.screens.reason_prompt import ReasonPrompt
from wsms_tui.security import Actor
from wsms_tui.users import add_user


def to_pack(screen: PackingScreen) -> dict[str, str]:
    """SKU → the "To pack" cell of the order's lines on the screen."""
    table = screen.query_one("#pack-lines", DataTable)
    out = {}
    for key in table.rows:
        row = table.get_row(key)
        out[str(row[1]).strip()] = str(row[6]).strip()
    return out


@async_test
async def test_ctrl_x_twice_voids_the_last_box_and_its_units_pack_again(
        db: Database, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed_pack(db, admin, tmp_path)
    add_user(db, admin, "clerk1", "clerk", "1234")
    monkeypatch.setenv("FAKE_CARRIER_KEY", "secret")
    with FakeCarrier() as fake:
        app = WsmsApp(db, http_settings(fake, timeout_s=5), desk="packing")
        rung: list[int] = []
        app.bell = lambda: rung.append(1)  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            await login(pilot)
            screen = app.screen
            assert isinstance(screen, PackingScreen)
            await pilot.press("ctrl+x")  # nothing open: says so
            assert "scan the order first" in message(screen) and len(rung) == 1
            for code in ("SHOP:O1", "P1", "P1", "P1", "%CMD:DONE", "S", "1.2"):
                await scan(pilot, code)
            await booked(pilot)
            for code in ("P2", "P2", "%CMD:DONE", "M", "0.9"):
                await scan(pilot, code)
            await booked(pilot)
            assert screen.view.step == "confirm" and screen.view.last_box is not None
            two = screen.view.last_box
            assert to_pack(screen) == {"P1": "0", "P2": "0"}

            await pilot.press("ctrl+x")  # the first press names the box
            assert not isinstance(app.screen, ReasonPrompt)
            assert message(screen).startswith(f"Ctrl+X again voids box 2 (SSCC {two.sscc}, fast FC00000002)")
            await pilot.press("ctrl+x")
            assert isinstance(app.screen, ReasonPrompt)
            await pilot.press("escape")  # not now
            assert app.screen is screen and "box 2 was not voided" in message(screen)

            fake.collected.add(two.sscc)  # the driver has it: the carrier refuses
            rings = len(rung)  # (each box closed without a printer rang too)
            await pilot.press("ctrl+x", "ctrl+x")
            assert isinstance(app.screen, ReasonPrompt)
            await scan(pilot, "wrong weight")
            await booked(pilot)
            line = screen.query_one("#pack-message", Static)
            assert "carrier fast refused: the driver collected it already (HTTP 409)" in message(screen)
            assert line.has_class("error") and len(rung) == rings + 1
            po = packing.pack_order(db, admin, "SHOP:O1")
            assert po.status == "packed" and [b.status for b in po.boxes] == ["packed", "packed"]

            fake.collected.clear()
            await pilot.press("ctrl+x", "ctrl+x")
            await scan(pilot, "wrong weight")
            await booked(pilot)
            assert "✓ box 2 voided: fast FC00000002 cancelled, 2 unit(s) to pack again · order allocated" in message(
                screen) and not line.has_class("error")
            assert screen.view.step == "item" and to_pack(screen) == {"P1": "0", "P2": "2"}
            assert "cancelled" in str(screen.query_one("#pack-box", Static).render())

            for code in ("P2", "P2", "%CMD:DONE", "M", "0.95"):  # the units box again: box 3
                await scan(pilot, code)
            await booked(pilot)
            assert screen.view.step == "confirm" and screen.view.last_box is not None
            assert screen.view.last_box.box_no == 3 and screen.view.last_box.tracking == "FC00000003"
            await scan(pilot, "%CMD:DONE")
            assert screen.view.shipped is not None and screen.view.shipped.status == "shipped"
            assert screen.view.shipped.trackings == ["FC00000001", "FC00000003"]
        assert fake.cancels == [two.sscc, two.sscc]
    assert shipped_by_sku(db) == {"P1": 3, "P2": 2}
    books_ok(db, admin)
