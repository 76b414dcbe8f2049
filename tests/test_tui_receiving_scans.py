"""Wedge scans typed into the real Receiving screen (F3) and checked in the ledger: an over-long burst
refused whole. Fixtures and helpers come from tests/test_tui_receiving.py.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.test_tui_receiving import (
    GTIN_P1,
    SIZE,
    count_bells,
    key_events,
    scan,
    seed_receipts,
    until,
)
from tests.tui_helpers import async_test, login, tui_settings
from wsms_tui import stock
from wsms_tui.app import WsmsApp
from wsms_tui.database import Database
from wsms_tui.screens.receiving import ReceivingScreen
from wsms_tui.screens.widgets.scan_input import MAX_SCAN


def error_notes(app: WsmsApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


@async_test
async def test_a_10_kb_burst_is_one_red_refusal_and_the_next_scan_works(db: Database, tmp_path: Path) -> None:
    """10 000 characters typed as one scan at the product step: the bell once, one red refusal saying why,
    nothing posted (not its last 4096 characters either); the next scans receive a line as usual."""
    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(), desk="receiving")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = app.screen
        assert isinstance(screen, ReceivingScreen)
        await scan(pilot, "PO-9")
        bells = count_bells(app)
        for key in key_events(GTIN_P1 * 770 + "\r"):  # 10 010 characters
            app.post_message(key)
        await until(pilot, lambda: bool(error_notes(app)))
        assert error_notes(app) == [f"scan of 10010 characters is longer than {MAX_SCAN}: ignored"]
        assert len(bells) == 1
        assert screen.view.step == "product" and screen.flow.draft is None
        assert stock.ledger_page(db, admin, sku="P1") == []
        for code in (GTIN_P1, "3", "A-01"):
            await scan(pilot, code)
        await until(pilot, lambda: screen.view.step == "product" and screen.flow.last_received is not None)
        assert len(error_notes(app)) == 1 and len(bells) == 1
    assert [(e.qty, e.to_location, e.doc_ref) for e in stock.ledger_page(db, admin, sku="P1")] == [
        (Decimal(3), "A-01", "PO-9")]
