"""The Stocktake desk (F7) and its review screen through Textual's Pilot, on SQLite and PostgreSQL: pick a
count, scan a location label and items, type a quantity, a lot, done/empty keys, refusals ring the bell,
blind for the clerk (no expected quantity anywhere on screen, review refused), a supervisor reviews and
approves; SVG snapshots at 80×24 (SQLite, fixed data).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.helpers import seed_basic
from tests.tui_helpers import async_test, login, table_rows, tui_settings
from wsms_tui import ledger, stock, stocktake
from wsms_tui.app import WsmsApp
from wsms_tui.barcodes import location_barcode
from wsms_tui.database import Database
from wsms_tui.screens.help import HelpScreen
from wsms_tui.screens.stocktake import StocktakeScreen
from wsms_tui.screens.stocktake_review import CountReviewScreen
from wsms_tui.screens.widgets.scan_input import ScanInput
from wsms_tui.users import add_user

SIZE = (80, 24)
GTIN_P1 = "4006381333931"


def seed_count(db: Database) -> str:
    """seed_basic, stock (P1 10 @A-01, 4 @A-02; LOT1 L-7 6 @A-01), users clerk1/1234, clerk2/5678 and boss/9999
    (supervisor), and a blind full count of W1 planned by boss."""
    seed_basic(db)
    admin = db.system_actor("test")
    ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="s1")
    ledger.receive(db, admin, product="P1", qty=4, location="A-02", op_id="s2")
    ledger.receive(db, admin, product="LOT1", qty=6, location="A-01", lot="L-7", op_id="s3")
    add_user(db, admin, "clerk1", "clerk", "1234")
    add_user(db, admin, "clerk2", "clerk", "5678")
    add_user(db, admin, "boss", "supervisor", "9999")
    boss = db.system_actor("test")
    return stocktake.plan_full(db, boss, warehouse="W1").ref


def text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def count_bells(app: WsmsApp) -> list[int]:
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    return bells


async def scan(pilot: Pilot[Any], code: str) -> None:
    """``code`` and Enter as key events into the focused scan field (a wedge scanner), then wait for idle."""
    field = pilot.app.focused
    assert isinstance(field, ScanInput)
    for c in code + "\r":
        field.post_message(events.Key("enter" if c == "\r" else _character_to_key(c), c))
    await pilot.pause()


async def boss_review(pilot: Pilot[Any], app: WsmsApp) -> CountReviewScreen:
    """Log the supervisor boss in at the Stocktake desk and open the review of its count (Ctrl+R)."""
    await login(pilot, "boss", "9999")
    await pilot.press("ctrl+r")
    review = app.screen
    assert isinstance(review, CountReviewScreen)
    return review


def location_text(screen: StocktakeScreen) -> str:
    """All the counter sees about the location: prompt, message, header, and the lines table."""
    parts = [text(screen, sel) for sel in ("#st-prompt", "#st-message", "#st-loc-header")]
    table = screen.query_one("#st-lines", DataTable)
    parts += [str(c.label) for c in table.columns.values()] + [" ".join(r) for r in table_rows(table)]
    return "\n".join(parts)


@async_test
async def test_clerk_counts_blind_by_scanning(db: Database) -> None:
    ref = seed_count(db)
    app = WsmsApp(db, tui_settings(), desk="stocktake")
    async with app.run_test(size=SIZE) as pilot:
        bells = count_bells(app)
        await login(pilot)
        screen = app.screen
        assert isinstance(screen, StocktakeScreen) and isinstance(app.focused, ScanInput)
        counts = table_rows(screen.query_one("#st-counts", DataTable))
        assert [r[0] for r in counts] == [ref] and counts[0][3] == "3"
        await pilot.press("enter")  # the highlighted count, Enter on the empty scan field
        assert screen.view.step == "location"
        locs = table_rows(screen.query_one("#st-locations", DataTable))
        assert [r[0] for r in locs] == ["A-01", "A-02", "A-03"] and locs[0][1] == "to count"

        await scan(pilot, location_barcode("A-01"))
        assert screen.view.step == "item" and "A-01" in text(screen, "#st-loc-header")
        await scan(pilot, GTIN_P1)
        await scan(pilot, GTIN_P1)
        await scan(pilot, "8")  # the second scan was 8: 9 in all
        await scan(pilot, "LOT1")
        assert screen.view.step == "lot"
        await scan(pilot, "L-7")
        rows = table_rows(screen.query_one("#st-lines", DataTable))
        assert [(r[0], r[2], r[3]) for r in rows] == [("P1", "", "9"), ("LOT1", "L-7", "1")]
        await pilot.press("ctrl+z")  # the lot scan was a mistake: taken back
        await pilot.pause()
        rows = table_rows(screen.query_one("#st-lines", DataTable))
        assert [(r[0], r[3]) for r in rows if r[3] != "0"] == [("P1", "9")]
        assert "1 × LOT1 L-7 taken back" in text(screen, "#st-message")
        await scan(pilot, "LOT1")
        await scan(pilot, "L-7")
        # blind: the expected 10 and 6 are nowhere on the screen, and the columns have no place for them
        assert [str(c.label) for c in screen.query_one("#st-lines", DataTable).columns.values()] == [
            "SKU", "Name", "Lot/serial", "Counted"]
        visible = location_text(screen)
        assert "P1" in visible and "9" in visible and "L-7" in visible
        assert "10" not in visible and "6" not in visible

        assert bells == []
        await scan(pilot, location_barcode("A-09"))  # no such location
        await scan(pilot, "%LOC:A-02:0")  # a wrong check character
        assert len(bells) == 2 and screen.view.level == "error"
        await pilot.press("ctrl+d")  # done with A-01: beyond tolerance, another counter recounts
        assert screen.view.step == "location" and "another counter will recount it" in text(screen, "#st-message")
        await scan(pilot, location_barcode("A-03"))
        await pilot.press("ctrl+e")  # A-03 is empty
        assert "A-03 counted empty" in text(screen, "#st-message")
        await pilot.press("ctrl+r")  # the review is for supervisors
        assert not isinstance(app.screen, CountReviewScreen) and "blind" in text(screen, "#st-message")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("f1")
    clerk_view = stocktake.count_summary(db, db.system_actor("test"), ref)
    assert (clerk_view.recount, clerk_view.counted, clerk_view.pending) == (1, 1, 1)


@async_test
async def test_supervisor_reviews_and_approves(db: Database) -> None:
    ref = seed_count(db)
    admin = db.system_actor("test")
    from wsms_tui.users import authenticate

    clerk = authenticate(db, "clerk1", "1234", "t")
    clerk2 = authenticate(db, "clerk2", "5678", "t")
    stocktake.count_sheet(db, clerk, ref, [("A-01", "P1", None, 9), ("A-01", "LOT1", "L-7", 6),
                                           ("A-02", "P1", None, 4), ("A-03", "", None, 0)])
    stocktake.count_sheet(db, clerk2, ref, [("A-01", "P1", None, 9), ("A-01", "LOT1", "L-7", 6)])
    app = WsmsApp(db, tui_settings(), desk="stocktake")
    async with app.run_test(size=SIZE) as pilot:
        review = await boss_review(pilot, app)
        rows = table_rows(review.query_one(DataTable))
        assert [r[:8] for r in rows] == [["A-01", "counted", "P1", "10", "9", "9", "-1", "-1.25"]]
        assert "accuracy 66.7 % of 3 locations" in text(review, "#rv-header")
        await pilot.press("ctrl+a")
        assert "again approves" in text(review, "#rv-message")
        await pilot.press("ctrl+a")
        assert "approved 3 location(s), 1 adjustment(s) posted · count closed" in text(review, "#rv-message")
        await pilot.press("escape")
        assert isinstance(app.screen, StocktakeScreen)
    entries = [e for e in stock.ledger_page(db, admin) if e.doc_ref == ref]
    assert [(e.kind, e.qty, e.from_location, e.to_location, e.reason) for e in entries] == [
        ("adjust", Decimal(1), "A-01", ledger.LOSS, "count")]
    assert stock.verify_ledger(db, admin).ok


@async_test
async def test_review_says_when_it_shows_only_the_first_lines(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from wsms_tui.screens import stocktake_review
    from wsms_tui.users import authenticate

    ref = seed_count(db)
    clerk = authenticate(db, "clerk1", "1234", "t")
    stocktake.count_sheet(db, clerk, ref, [("A-01", "P1", None, 9), ("A-01", "LOT1", "L-7", 5),
                                           ("A-02", "P1", None, 4), ("A-03", "", None, 0)])
    monkeypatch.setattr(stocktake_review, "REVIEW_ROWS", 1)  # 2 lines with a variance, room for 1
    app = WsmsApp(db, tui_settings(), desk="stocktake")
    async with app.run_test(size=SIZE) as pilot:
        review = await boss_review(pilot, app)
        assert [r[2] for r in table_rows(review.query_one(DataTable))] == ["LOT1/L-7"]
        assert f"the first 1 lines are shown; `wsms count review {ref}`" in text(review, "#rv-message")
    everything = stocktake.review(db, db.system_actor("test"), ref, limit=None)
    assert [ln.sku for ln in everything] == ["LOT1", "P1"]


# -- SVG snapshots at 80×24 (SQLite, fixed data, a file named wsms.db) -------------------------


@pytest.fixture
def snap_db(snap_file_db: Database, tmp_path: Path) -> Iterator[Database]:
    database = snap_file_db
    seed_count(database)
    yield database


def _snap(snap_db: Database, snap_compare: Callable[..., bool], *scans: str, user: str = "clerk1",
          pin: str = "1234", keys: tuple[str, ...] = ()) -> bool:
    async def run_before(pilot: Pilot[Any]) -> None:
        await login(pilot, user, pin)
        for code in scans:
            await scan(pilot, code)
        for key in keys:
            await pilot.press(key)
        await pilot.pause()

    return snap_compare(WsmsApp(snap_db, tui_settings(), desk="stocktake"), terminal_size=SIZE,
                        run_before=run_before)


def test_snapshot_count_list(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare)


def test_snapshot_counting_a_location(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare, "CNT-000001", location_barcode("A-01"), GTIN_P1, "7", "LOT1", "L-7")


def test_snapshot_review(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    clerk = __import__("wsms_tui.users", fromlist=["authenticate"]).authenticate(snap_db, "clerk1", "1234", "t")
    stocktake.count_sheet(snap_db, clerk, "CNT-000001", [("A-01", "P1", None, 9), ("A-01", "LOT1", "L-7", 6),
                                                         ("A-02", "P1", None, 5), ("A-03", "", None, 0)])
    assert _snap(snap_db, snap_compare, user="boss", pin="9999", keys=("ctrl+r",))
