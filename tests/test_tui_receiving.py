"""The Receiving desk (F3) through Textual's Pilot, on SQLite and PostgreSQL: pick or scan a receipt,
receive by scanning (GTIN, GS1 with lot/expiry/count, tracked products), refused scans ring the bell,
over-receipt with a masked supervisor PIN, undo, blind receipts, close with discrepancies; a burst of
scans as back-to-back key events; a serial scanner on a real pty; SVG snapshots at 80×24 (SQLite).
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from textual import events
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.helpers import seed_basic
from tests.tui_helpers import async_test, login, table_rows, tui_settings, until
from wsms_tui import receiving, stock
from wsms_tui.app import WsmsApp
from wsms_tui.config import ScannerSettings
from wsms_tui.database import Database
from wsms_tui.db.models import Product, ProductBarcode
from wsms_tui.screens.help import HelpScreen
from wsms_tui.screens.receiving import ReceivingScreen
from wsms_tui.screens.widgets.scan_input import ScanInput
from wsms_tui.security import Actor
from wsms_tui.users import add_user
from wsms_tui.users import authenticate as _authenticate

SIZE = (80, 24)
GTIN_P1 = "4006381333931"
GTIN_LOT1 = "09506000134352"
CSV = ("reference,supplier,expected_date,sku,qty,lot,expiry,blind\n"
       "PO-1,Acme,2026-11-30,P1,30,,,\n"
       "PO-1,Acme,2026-11-30,LOT1,5,,,\n"
       "PO-1,Acme,2026-11-30,SER1,2,,,\n"
       "PO-2,Bolt & Co,2026-12-01,P1,4,,,true\n"
       "PO-9,Burst Ltd,2026-10-01,P1,100,,,\n")


def seed_receipts(db: Database, tmp_path: Path) -> None:
    """seed_basic, a GTIN for LOT1, receipts PO-1 (P1 30, LOT1 5, SER1 2), PO-2 (blind: P1 4), PO-9 (P1 100),
    users clerk1/1234 (clerk) and boss/9999 (supervisor)."""
    seed_basic(db)

    def gtin(s):  # type: ignore[no-untyped-def]
        lot1 = s.execute(select(Product.id).where(Product.sku == "LOT1")).scalar_one()
        s.execute(insert(ProductBarcode).values(product_id=lot1, code=GTIN_LOT1, kind="gtin", pack_qty=Decimal(1)))

    db.write(gtin)
    admin = db.system_actor("test")
    f = tmp_path / "receipts.csv"
    f.write_text(CSV, encoding="utf-8")
    receiving.import_receipts(db, admin, f)
    add_user(db, admin, "clerk1", "clerk", "1234")
    add_user(db, admin, "boss", "supervisor", "9999")


def on_hand(db: Database, admin: Actor, sku: str) -> dict[tuple[str, str | None], Decimal]:
    return {(r.location, r.lot): r.on_hand for r in stock.stock_page(db, admin, stock.StockFilter(sku=sku))}


def text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def lines(screen: Any) -> list[list[str]]:
    return table_rows(screen.query_one("#rcv-lines", DataTable))


def count_bells(app: WsmsApp) -> list[int]:
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    return bells


def key_events(text: str) -> list[events.Key]:
    return [events.Key("enter" if c == "\r" else _character_to_key(c), c) for c in text]


async def scan(pilot: Pilot[Any], code: str) -> None:
    """``code`` and Enter as key events into the focused scan field (a wedge scanner), then wait for idle."""
    field = pilot.app.focused
    assert isinstance(field, ScanInput)
    for key in key_events(code + "\r"):
        field.post_message(key)
    await pilot.pause()


@asynccontextmanager
async def receiving_desk(app: WsmsApp) -> AsyncIterator[tuple[Pilot[Any], ReceivingScreen]]:
    """Run ``app`` (opening on the Receiving desk) at 80×24 and log clerk1 in: the pilot and the desk."""
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = app.screen
        assert isinstance(screen, ReceivingScreen)
        yield pilot, screen


@async_test
async def test_pick_from_list_receive_gs1_tracked_undo_and_close(db: Database, tmp_path: Path) -> None:
    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(), desk="receiving")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = app.screen
        assert isinstance(screen, ReceivingScreen) and isinstance(app.focused, ScanInput)
        receipts = table_rows(screen.query_one("#rcv-receipts", DataTable))
        assert [r[0] for r in receipts] == ["PO-2", "PO-1", "PO-9"]  # newest expected first
        assert receipts[0][5] == "·"  # PO-2 is blind: a clerk does not see what is expected
        assert "Scan or choose a receipt" in text(screen, "#rcv-prompt")

        await pilot.press("down", "enter")  # the cursor onto PO-1, Enter on the empty scan field
        await pilot.pause()
        assert screen.flow.receipt == "PO-1"
        assert "PO-1 · Acme · W1" in text(screen, "#rcv-header")
        assert [r[:5] for r in lines(screen)] == [["1", "P1", "苹果 Apple", "30", "0"],
                                                  ["2", "LOT1", "Milk 牛奶", "5", "0"],
                                                  ["3", "SER1", "Phone", "2", "0"]]

        await scan(pilot, GTIN_P1)
        assert "scan the location" in text(screen, "#rcv-prompt")
        draft = text(screen, "#rcv-draft")
        assert "P1 苹果 Apple" in draft and "qty 1" in draft and "put away → A-0" in draft
        await scan(pilot, "A-02")
        assert lines(screen)[0][4] == "1" and "line 1: 1/30" in text(screen, "#rcv-message")
        assert screen.query_one("#rcv-message").has_class("ok")
        assert on_hand(db, admin, "P1") == {("A-02", None): 1}

        # a GS1-128 string carries GTIN, expiry, lot and count: straight to the location
        await scan(pilot, "01" + GTIN_LOT1 + "17270301" + "10LOT-A<GS>304")
        assert "4 × LOT1" in text(screen, "#rcv-prompt")
        assert "lot LOT-A" in text(screen, "#rcv-draft") and "2027-03-01" in text(screen, "#rcv-draft")
        await scan(pilot, "A-01")
        assert lines(screen)[1][4] == "4"
        rows = stock.stock_page(db, admin, stock.StockFilter(sku="LOT1"))
        assert [(r.location, r.lot, str(r.expiry), r.on_hand) for r in rows] == [("A-01", "LOT-A", "2027-03-01", 4)]

        # a serial-tracked product asks for its serial number
        await scan(pilot, "SER1")
        assert "serial number of SER1" in text(screen, "#rcv-prompt")
        await scan(pilot, "SN-1")
        await scan(pilot, "A-01")
        assert on_hand(db, admin, "SER1") == {("A-01", "SN-1"): 1}

        # Esc cancels a line in progress; `u` typed as a scan undoes the last posted line
        await scan(pilot, GTIN_P1)
        await pilot.press("escape")
        await pilot.pause()
        assert "line cancelled" in text(screen, "#rcv-message") and screen.view.draft is None
        await scan(pilot, "u")
        assert "undone" in text(screen, "#rcv-message")
        assert on_hand(db, admin, "SER1") == {}
        assert lines(screen)[2][4] == "0"
        await pilot.press("ctrl+z")  # the undo key: the line before (LOT1) goes too
        await pilot.pause()
        assert "undone: 4 × LOT1" in text(screen, "#rcv-message") and on_hand(db, admin, "LOT1") == {}

        # Ctrl+D asks once, closes on the second press: the discrepancy list
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert "again closes PO-1" in text(screen, "#rcv-message") and screen.view.step != "closed"
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert screen.view.step == "closed"
        diffs = table_rows(screen.query_one("#rcv-diffs", DataTable))
        assert [(r[1], r[3], r[4], r[5]) for r in diffs] == [("P1", "30", "1", "-29"), ("LOT1", "5", "0", "-5"),
                                                            ("SER1", "2", "0", "-2")]
        assert "3 line(s) differ" in text(screen, "#rcv-message")
        assert "Discrepancies of PO-1" in text(screen, "#rcv-closed-title")
        assert receiving.receipt_detail(db, admin, "PO-1").summary.status == "closed"
        await pilot.press("escape")  # back to the list: PO-1 is gone from it
        await pilot.pause()
        assert [r[0] for r in table_rows(screen.query_one("#rcv-receipts", DataTable))] == ["PO-2", "PO-9"]

        # F1 lists this desk's keys
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        help_rows = dict((what, keys) for keys, what in app.screen.keys)
        assert help_rows["undo the last line (or scan u)"] == "Ctrl+Z"
        assert help_rows["close the receipt (press twice)"] == "Ctrl+D"
        assert help_rows["Receiving"] == "F3"
    assert stock.verify_ledger(db, admin).ok


@async_test
async def test_scanned_reference_blind_refusals_and_supervisor_pin(db: Database, tmp_path: Path) -> None:
    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(keys={"receiving.undo": "f12"}), desk="receiving")
    async with receiving_desk(app) as (pilot, screen):
        bells = count_bells(app)

        await scan(pilot, "PO-404")
        assert len(bells) == 1 and screen.query_one("#rcv-message").has_class("error")
        assert "no receipt PO-404" in text(screen, "#rcv-message")

        await scan(pilot, "PO-2")  # scanning the reference opens it
        assert screen.flow.receipt == "PO-2" and not screen.query_one("#rcv-message").has_class("error")
        assert lines(screen)[0][3] == "·"  # blind: expected hidden from the clerk
        assert "blind" in text(screen, "#rcv-header") and " of " not in text(screen, "#rcv-header")

        await scan(pilot, GTIN_LOT1)  # a product that is not on this receipt
        assert len(bells) == 2 and screen.query_one("#rcv-message").has_class("error")
        assert "LOT1 Milk 牛奶 is not on receipt PO-2" in text(screen, "#rcv-message")
        await scan(pilot, "4006381333932")  # a wrong check digit
        assert len(bells) == 3
        assert stock.ledger_page(db, admin) == []  # nothing posted

        # over-receipt: 5 of 4 expected needs a supervisor and a masked PIN
        await scan(pilot, GTIN_P1)
        await scan(pilot, "5")
        assert screen.view.draft is not None and screen.view.draft.qty == 5
        await scan(pilot, "A-01")
        assert len(bells) == 4 and "Supervisor user" in text(screen, "#rcv-prompt")
        assert on_hand(db, admin, "P1") == {}
        await scan(pilot, "boss")
        field = screen.query_one(ScanInput)
        assert field.mask == "•" and "PIN of boss" in text(screen, "#rcv-prompt")
        await pilot.press(*"9999")
        assert field.buffer == "9999" and "9999" not in str(field.render()) and "••••" in str(field.render())
        await pilot.press("enter")
        await pilot.pause()
        assert field.mask is None
        assert on_hand(db, admin, "P1") == {("A-01", None): 5}
        assert lines(screen)[0][4] == "5"

        # the undo key is remappable by its id (f12 here instead of Ctrl+Z)
        await pilot.press("f12")
        await pilot.pause()
        assert "undone" in text(screen, "#rcv-message") and on_hand(db, admin, "P1") == {}
    assert stock.verify_ledger(db, admin).ok


@async_test
async def test_a_clerk_as_supervisor_and_scans_the_desk_can_tell_are_wrong(db: Database, tmp_path: Path) -> None:
    """A clerk's own name and PIN at the over-receipt prompt is refused in red and the desk asks for a
    supervisor again (no "receiving failed"); a blind receipt's over-receipt shows no expected quantity; a wrong
    check digit and a GS1 string missing its separator after the lot are refused with the reason."""
    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(), desk="receiving")
    async with receiving_desk(app) as (pilot, screen):
        bells = count_bells(app)
        await scan(pilot, "PO-2")  # blind: P1 4 expected

        await scan(pilot, "4006381333932")
        assert "GTIN check digit wrong: expected 1, got 2" in text(screen, "#rcv-message") and len(bells) == 1
        await scan(pilot, "01" + GTIN_LOT1 + "10LOT-A17270301")
        assert "swallowed AI 17 (expiry 2027-03-01)" in text(screen, "#rcv-message") and len(bells) == 2
        assert "Scan a product" in text(screen, "#rcv-prompt")

        await scan(pilot, GTIN_P1)
        await scan(pilot, "5")
        await scan(pilot, "A-01")
        assert "exceed what is expected on PO-2" in text(screen, "#rcv-message")
        assert "4" not in text(screen, "#rcv-message")
        await scan(pilot, "clerk1")
        field = screen.query_one(ScanInput)
        assert field.mask == "•"
        await scan(pilot, "1234")
        assert "clerk1 is not a supervisor" in text(screen, "#rcv-message")
        assert screen.query_one("#rcv-message").has_class("error") and len(bells) == 4
        assert "Supervisor user" in text(screen, "#rcv-prompt") and field.mask is None
        await scan(pilot, "boss")
        assert "PIN of boss" in text(screen, "#rcv-prompt") and "failed" not in text(screen, "#rcv-message")
        await scan(pilot, "9999")
        assert on_hand(db, admin, "P1") == {("A-01", None): 5}
        assert lines(screen)[0][4] == "5"
    assert stock.verify_ledger(db, admin).ok


@async_test
async def test_a_burst_of_scans_is_posted_whole_and_in_order(db: Database, tmp_path: Path) -> None:
    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(), desk="receiving")
    async with receiving_desk(app) as (pilot, screen):
        await scan(pilot, "PO-9")
        pairs = [(i % 3 + 1, f"A-0{i % 2 + 1}") for i in range(20)]  # (qty, location) for each line
        burst = "".join(f"{GTIN_P1}\r{q}\r{loc}\r" for q, loc in pairs)
        for key in key_events(burst):  # back to back through the App, no waiting for idle between keys
            app.post_message(key)
        total = sum(q for q, _loc in pairs)
        await until(pilot, lambda: screen.view.step == "product" and lines(screen)[0][4] == str(total))
        entries = list(reversed(stock.ledger_page(db, admin, sku="P1")))
        assert [(int(e.qty), e.to_location) for e in entries] == pairs
        assert all(e.doc_ref == "PO-9" for e in entries)
        assert on_hand(db, admin, "P1") == {
            ("A-01", None): sum(q for q, loc in pairs if loc == "A-01"),
            ("A-02", None): sum(q for q, loc in pairs if loc == "A-02")}


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
@async_test
async def test_a_serial_scanner_on_a_pty_drives_a_whole_receipt(db: Database, tmp_path: Path) -> None:
    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    master, slave = os.openpty()
    url = os.ttyname(slave)
    settings = tui_settings(scanner=ScannerSettings.model_construct(prefix="", suffix="", url=url))
    app = WsmsApp(db, settings, desk="receiving")
    try:
        async with receiving_desk(app) as (pilot, screen):
            assert "keyboard + serial" in text(screen, "#status-info")
            await until(pilot, lambda: app.scanner is not None and app.scanner.status is not None
                        and app.scanner.status.state == "connected")
            scans = ["PO-1", GTIN_P1, "12", "A-02",
                     "]C1" + "01" + GTIN_LOT1 + "17270301" + "10LOT-B\x1d" + "305",  # AIM id, GS, count
                     "A-01", "SER1", "SN-9", "A-01", "%CMD:DONE"]
            os.write(master, b"".join(s.encode() + b"\r\n" for s in scans))
            await until(pilot, lambda: screen.view.step == "closed")
            diffs = table_rows(screen.query_one("#rcv-diffs", DataTable))
            assert [(r[1], r[5]) for r in diffs] == [("P1", "-18"), ("SER1", "-1")]
            assert app.scanner is not None and app.scanner.scans == len(scans)
    finally:
        os.close(master)
        os.close(slave)
    assert app.scanner is None  # stopped when the app ended
    assert on_hand(db, admin, "P1") == {("A-02", None): 12}
    assert on_hand(db, admin, "LOT1") == {("A-01", "LOT-B"): 5}
    assert on_hand(db, admin, "SER1") == {("A-01", "SN-9"): 1}
    assert [e.doc_ref for e in stock.ledger_page(db, admin)] == ["PO-1"] * 3


# -- SVG snapshots at 80×24 (SQLite, fixed data, a file named wsms.db) -------------------------


@pytest.fixture
def snap_db(snap_file_db: Database, tmp_path: Path) -> Iterator[Database]:
    database = snap_file_db
    seed_receipts(database, tmp_path)
    yield database


def _snap(snap_db: Database, snap_compare: Callable[..., bool], *scans: str, close: bool = False) -> bool:
    async def run_before(pilot: Pilot[Any]) -> None:
        await login(pilot)
        for code in scans:
            await scan(pilot, code)
        if close:
            await pilot.press("ctrl+d", "ctrl+d")
        await pilot.pause()

    return snap_compare(WsmsApp(snap_db, tui_settings(), desk="receiving"), terminal_size=SIZE,
                        run_before=run_before)


def test_snapshot_receipt_list(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare)


def test_snapshot_line_in_progress(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare, "PO-1", GTIN_P1, "A-02", "01" + GTIN_LOT1 + "17270301" + "10LOT-A<GS>304")


def test_snapshot_discrepancies_after_close(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    assert _snap(snap_db, snap_compare, "PO-1", GTIN_P1, "7", "A-02", "SER1", "SN-1", "A-01", close=True)



@async_test
async def test_what_another_desk_receives_shows_while_this_one_waits(db: Database, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    seed_receipts(db, tmp_path)
    monkeypatch.setattr(ReceivingScreen, "refresh_s", 0.2)
    add_user(db, db.system_actor("test"), "clerk2", "clerk", "5678")
    other = _authenticate(db, "clerk2", "5678", "desk-2")
    app = WsmsApp(db, tui_settings(), desk="receiving")
    async with receiving_desk(app) as (pilot, screen):
        await scan(pilot, "PO-1")
        assert [r[4] for r in lines(screen)] == ["0", "0", "0"]
        receiving.receive_line(db, other, receipt="PO-1", product="P1", qty=7, location="A-02", op_id="other-1")
        await until(pilot, lambda: [r[4] for r in lines(screen)] == ["7", "0", "0"], timeout=10)
        assert "received 7 of 37" in text(screen, "#rcv-header")
        await scan(pilot, GTIN_P1)  # this desk goes on as before: 1 more on the same line
        await scan(pilot, "A-01")
        await until(pilot, lambda: lines(screen)[0][4] == "8")

        # a refresh never touches what the desk is saying or asking, nor rings again
        bells = count_bells(app)
        await scan(pilot, "NOPE-1")  # refused: red, the bell
        refused, rung = text(screen, "#rcv-message"), len(bells)
        assert rung >= 1
        receiving.receive_line(db, other, receipt="PO-1", product="P1", qty=2, location="A-02", op_id="other-2")
        await until(pilot, lambda: lines(screen)[0][4] == "10", timeout=10)
        assert text(screen, "#rcv-message") == refused and len(bells) == rung  # no bell again
        await pilot.press("ctrl+o")  # a location label: the next scan is the location
        asking = text(screen, "#rcv-prompt")
        assert asking.startswith("Location label")
        receiving.receive_line(db, other, receipt="PO-1", product="P1", qty=1, location="A-02", op_id="other-3")
        await pilot.pause(0.8)  # several refresh periods: none while the desk asks
        assert text(screen, "#rcv-prompt") == asking and lines(screen)[0][4] == "10"
        await pilot.press("escape")
        await until(pilot, lambda: lines(screen)[0][4] == "11", timeout=10)


@async_test
async def test_a_clerk_disabled_meanwhile_is_told_once_not_audited_every_refresh(
        db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wsms_tui import users
    from wsms_tui.db.models import AuditEvent

    seed_receipts(db, tmp_path)
    monkeypatch.setattr(ReceivingScreen, "refresh_s", 0.1)
    app = WsmsApp(db, tui_settings(), desk="receiving")
    async with receiving_desk(app) as (pilot, screen):
        await scan(pilot, "PO-1")
        users.set_active(db, db.system_actor("test"), "clerk1", False)
        await until(pilot, lambda: "account of clerk1 is disabled" in text(screen, "#rcv-message"), timeout=10)
        await pilot.pause(1.0)  # ten refresh periods
    denied = db.read(lambda s: s.execute(select(AuditEvent.seq).where(AuditEvent.action == "permission.denied"))
                     .scalars().all())
    assert len(denied) == 1


@async_test
async def test_logging_out_with_a_line_not_put_away_asks_first_and_idling_waits(db: Database, tmp_path: Path) -> None:
    from wsms_tui.screens.login import LoginScreen

    seed_receipts(db, tmp_path)
    app = WsmsApp(db, tui_settings(idle_logout_minutes=0.05), desk="receiving")  # idle: 3 s (a loaded machine
    # may take a second from the login keys to the scans, which go straight to the field)
    async with receiving_desk(app) as (pilot, screen):
        notes: list[str] = []
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign,assignment]
        await scan(pilot, "PO-1")
        await scan(pilot, GTIN_P1)  # 1 × P1 waits for its location
        await pilot.pause(3.5)  # longer than the idle limit: the scanned line keeps the clerk logged in
        assert app.screen is screen and app.actor is not None
        await pilot.press("f12")
        assert app.screen is screen and notes and "1 × P1 scanned, not put away yet" in notes[-1]
        await scan(pilot, "A-01")  # put away (in the ledger, checked below): nothing held any more, and
        # (these scans go straight to the field, not through the app's keys) the idle time long past: logged out
        await until(pilot, lambda: isinstance(app.screen, LoginScreen), timeout=10)
        await pilot.app.workers.wait_for_complete()
    again = WsmsApp(db, tui_settings(), desk="receiving")
    async with receiving_desk(again) as (pilot, screen):
        await scan(pilot, "PO-1")
        await scan(pilot, GTIN_P1)
        await pilot.press("f12")
        assert again.screen is screen
        await pilot.press("f12")  # the second press logs out, dropping the line
        assert isinstance(again.screen, LoginScreen) and again.actor is None
    quitting = WsmsApp(db, tui_settings(), desk="receiving")
    async with receiving_desk(quitting) as (pilot, screen):
        await scan(pilot, "PO-1")
        await scan(pilot, GTIN_P1)
        await pilot.press("ctrl+q")  # the same question before quitting
        assert quitting.return_code is None and quitting.screen is screen
        await pilot.press("ctrl+q")
        assert quitting.return_code == 0
    assert on_hand(db, db.system_actor("test"), "P1") == {("A-01", None): Decimal(1)}
