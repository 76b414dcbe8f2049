"""Wedge scans typed into the real Receiving screen (F3) and checked in the ledger: a receipt's GS1 codes
(lot, expiry, count, GS typed as ``<GS>``) and bin scans at 2 ms per character; an over-long burst
refused whole. Fixtures and helpers come from tests/test_tui_receiving.py.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.test_tui_receiving import (
    GTIN_LOT1,
    GTIN_P1,
    count_bells,
    key_events,
    receiving_desk,
    scan,
    seed_receipts,
    text,
)
from tests.tui_helpers import async_test, tui_settings, until
from wsms_tui import receiving, stock
from wsms_tui.app import WsmsApp
from wsms_tui.config import ScannerSettings
from wsms_tui.database import Database
from wsms_tui.db.models import Lot
from wsms_tui.screens.widgets.scan_input import MAX_SCAN


def error_notes(app: WsmsApp) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


@async_test
async def test_100_scans_at_2_ms_per_character_through_the_receiving_screen(db: Database, tmp_path: Path) -> None:
    """A receipt (1 scan), 49 lines of a GS1 code (GTIN, expiry, lot, GS as ``<GS>``, count) and a bin, then
    ``%CMD:DONE``: 100 scans typed one character every 2 ms (the flow posts a line while later keys arrive),
    every line in the ledger in order with its lot, quantity, bin and expiry."""
    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    extra = tmp_path / "po-77.csv"
    extra.write_text("reference,supplier,expected_date,sku,qty,lot,expiry,blind\n"
                     "PO-77,Lots Ltd,2026-10-01,LOT1,200,,,\n", encoding="utf-8")
    receiving.import_receipts(db, admin, extra)
    lines = [(f"L{i:03d}", i % 3 + 1, f"A-0{i % 2 + 1}", date(2027, i % 12 + 1, 28)) for i in range(49)]
    scans = ["PO-77"]
    for lot, qty, bin_code, expiry in lines:
        scans += [f"01{GTIN_LOT1}17{expiry:%y%m%d}10{lot}<GS>30{qty}", bin_code]
    scans.append("%CMD:DONE")
    assert len(scans) == 100
    app = WsmsApp(db, tui_settings(), desk="receiving", gs_substitutes=("<GS>",))
    async with receiving_desk(app) as (pilot, screen):
        for key in key_events("".join(s + "\r" for s in scans)):
            app.post_message(key)
            await asyncio.sleep(0.002)
        await until(pilot, lambda: screen.view.step == "closed")
        assert "PO-77 closed" in text(screen, "#rcv-message")
    entries = list(reversed(stock.ledger_page(db, admin, sku="LOT1")))
    assert [(e.lot, int(e.qty), e.to_location) for e in entries] == [(lot, q, b) for lot, q, b, _e in lines]
    assert {(e.doc_ref, e.from_location, e.kind) for e in entries} == {("PO-77", "VIRT/SUPPLIER", "receive")}
    expiries = dict(db.read(lambda s: s.execute(select(Lot.lot_no, Lot.expiry)).all()))
    assert [expiries[lot] for lot, _q, _b, _e in lines] == [e for _l, _q, _b, e in lines]
    assert stock.ledger_page(db, admin, sku="P1") == []
    assert stock.verify_ledger(db, admin).ok


@async_test
async def test_a_10_kb_burst_is_one_red_refusal_and_the_next_scan_works(db: Database, tmp_path: Path) -> None:
    """10 000 characters typed as one scan at the product step: the bell once, one red refusal saying why,
    nothing posted (not its last 4096 characters either); the next scans receive a line as usual."""
    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(), desk="receiving")
    async with receiving_desk(app) as (pilot, screen):
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


@async_test
async def test_aim_ids_from_a_wedge_scanner_at_the_receiving_desk(db: Database, tmp_path: Path) -> None:
    """A scanner set to send AIM ids: ``]E0`` + EAN-13, ``]C1`` + a GS1 element string (lot, expiry) and
    ``]C0`` bins are received; ``]Q3%CMD:UNDO`` undoes the last line like ``%CMD:UNDO``."""
    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(), desk="receiving")
    async with receiving_desk(app) as (pilot, screen):
        for code in ("]C0PO-1", f"]E0{GTIN_P1}", "2", "]C0A-01",
                     f"]C101{GTIN_LOT1}1727033110LOT-A\x1d304", "]C0A-02",
                     f"]E0{GTIN_P1}", "]C0A-02", "]Q3%CMD:UNDO"):
            await scan(pilot, code)
        await until(pilot, lambda: "undone" in text(screen, "#rcv-message"))
    assert stock.ledger_page(db, admin, sku="LOT1")[0].lot == "LOT-A"
    assert {(r.location, r.lot): r.on_hand for r in stock.stock_page(db, admin, stock.StockFilter(sku="P1"))
            if r.on_hand} == {("A-01", None): Decimal(2)}
    assert {(r.location, r.lot): r.on_hand for r in stock.stock_page(db, admin, stock.StockFilter(sku="LOT1"))} == {
        ("A-02", "LOT-A"): Decimal(4)}



@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
@async_test
async def test_a_serial_scanner_over_long_scan_is_refused_and_aim_ids_keep_gs1(db: Database, tmp_path: Path) -> None:
    """A serial scanner on a pty: a 10 kB scan (the reader cuts it) is one red refusal, never a scan for the
    flow; a lot-only GS1-128 ``]C110LOT-Z`` at the lot step is the lot ``LOT-Z``, not ``10LOT-Z``."""
    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    master, slave = os.openpty()
    settings = tui_settings(scanner=ScannerSettings.model_construct(prefix="", suffix="", url=os.ttyname(slave)))
    app = WsmsApp(db, settings, desk="receiving")
    try:
        async with receiving_desk(app) as (pilot, screen):
            bells = count_bells(app)
            await until(pilot, lambda: app.scanner is not None and app.scanner.status is not None
                        and app.scanner.status.state == "connected")
            os.write(master, b"PO-1\r\n")
            await until(pilot, lambda: screen.view.step == "product")
            os.write(master, GTIN_P1.encode() * 770 + b"\r\n")
            await until(pilot, lambda: bool(error_notes(app)))
            assert error_notes(app) == [f"scan of 10010 characters is longer than {MAX_SCAN}: ignored"]
            assert len(bells) == 1 and screen.flow.draft is None
            scans = [GTIN_P1, "3", "A-01", f"]C101{GTIN_LOT1}", "]C110LOT-Z", "2027-03-31", "A-02"]
            os.write(master, b"".join(s.encode() + b"\r\n" for s in scans))
            await until(pilot, lambda: len(stock.ledger_page(db, admin)) == 2 and screen.view.step == "product")
            assert len(error_notes(app)) == 1 and len(bells) == 1
    finally:
        os.close(master)
        os.close(slave)
    assert [(e.sku, e.qty, e.to_location, e.lot) for e in reversed(stock.ledger_page(db, admin))] == [
        ("P1", Decimal(3), "A-01", None), ("LOT1", Decimal(1), "A-02", "LOT-Z")]
    expiry = db.read(lambda s: s.execute(select(Lot.expiry).where(Lot.lot_no == "LOT-Z")).scalar_one())
    assert expiry == date(2027, 3, 31)


@async_test
async def test_a_serial_scan_while_a_dialog_is_open_is_refused_and_posts_nothing(db: Database, tmp_path: Path) -> None:
    """A scan from the serial scanner arrives while the LPN label dialog is open over the Receiving desk: the
    bell and a notice saying why, nothing reaches the desk or the ledger, the dialog stays; once it is closed the
    same scan goes to the desk as usual."""
    from wsms_tui.devices.scan import Scan
    from wsms_tui.screens.print_dialog import PrintDialog

    seed_receipts(db, tmp_path)
    admin = db.system_actor("test")
    app = WsmsApp(db, tui_settings(), desk="receiving")
    async with receiving_desk(app) as (pilot, screen):
        await scan(pilot, "PO-9")
        await scan(pilot, GTIN_P1)  # waiting for the location now
        await pilot.press("ctrl+n")  # the LPN label dialog
        await pilot.pause()
        assert isinstance(app.screen, PrintDialog)
        bells = count_bells(app)
        app.post_message(WsmsApp.ScannerScan(Scan.from_text("A-01", "/dev/ttyACM0")))
        await pilot.pause()
        assert isinstance(app.screen, PrintDialog) and bells == [1]
        assert any("not used" in n.message for n in app._notifications)
        assert stock.ledger_page(db, admin) == []
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        app.post_message(WsmsApp.ScannerScan(Scan.from_text("A-01", "/dev/ttyACM0")))
        await until(pilot, lambda: len(stock.ledger_page(db, admin)) == 1)
