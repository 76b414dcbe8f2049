"""The Exceptions screen pages its tickets like the other desks, on SQLite and PostgreSQL: one keyset page
(``ticket_page(before_id=…)``) at a time, the next one loaded when the cursor reaches the last loaded row, the
count from ``ticket_count``; after an action the worked ticket is found again even when it is pages down."""

from __future__ import annotations

from pathlib import Path

from tests.test_tui_orders import SIZE, answer, seed_queue, text_of
from tests.tui_helpers import async_test, login, tui_settings
from wsms_tui import order_exceptions
from wsms_tui.app import WsmsApp
from wsms_tui.database import Database
from wsms_tui.screens.exceptions import ExceptionsScreen


@async_test
async def test_exceptions_screen_pages_further(db: Database, tmp_path: Path) -> None:
    seed_queue(db, tmp_path, n=60, p2=5)
    admin = db.system_actor("test")
    every = order_exceptions.ticket_page(db, admin, limit=1000)
    assert len(every) == order_exceptions.ticket_count(db, admin) == 11  # 10 out of stock, 1 bad address
    app = WsmsApp(db, tui_settings(), desk="orders", page_size=4)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot, "boss", "9999")
        await pilot.press("ctrl+e")
        ex = app.screen
        assert isinstance(ex, ExceptionsScreen)
        assert ex.table.row_count == 4 and not ex.exhausted
        assert "11 open tickets · loaded 4" in text_of(ex, "#exc-filter")

        await pilot.press("down", "down")
        assert ex.table.row_count == 4  # not at the last loaded row yet
        await pilot.press("down")  # the 4th row: the next page comes
        await pilot.pause()
        assert ex.table.row_count == 8 and "loaded 8" in text_of(ex, "#exc-filter")
        await pilot.press(*["down"] * 4)
        await pilot.pause()
        assert ex.table.row_count == 11 and ex.exhausted
        assert "11 open tickets" in text_of(ex, "#exc-filter") and "loaded" not in text_of(ex, "#exc-filter")
        assert [t.id for t in ex.rows] == [t.id for t in every]  # newest first, no ticket twice or missed

        oldest = every[-1]
        await pilot.press(*["down"] * 3)
        await pilot.pause()
        assert ex.current() == ex.rows[-1] and ex.current().id == oldest.id  # type: ignore[union-attr]
        await pilot.press("ctrl+n")
        await answer(pilot, "checked the shelf")
        await pilot.pause()
        # the list reloads from its first page and pages on to the ticket just worked
        assert ex.current() is not None and ex.current().id == oldest.id  # type: ignore[union-attr]
        assert "checked the shelf" in order_exceptions.ticket_detail(db, admin, oldest.id).notes
        assert "loaded" not in text_of(ex, "#exc-filter")

        await pilot.press(*"SHOP:HOLD1", "enter")  # one order's tickets: a page that is not full is the count
        await pilot.pause()
        assert [t.code for t in ex.rows] == ["bad_address"] and ex.total == 1
        assert "1 open tickets of SHOP:HOLD1" in text_of(ex, "#exc-filter")
