"""Printing from the desk through Textual's Pilot, with a fake Zebra on a loopback TCP port:
the received line's label through the print dialog (preview, Enter, exactly one label that decodes to
the intended GS1 data; a second confirm queues nothing; a scan into the dialog prints nothing); paper out
on the status bar, then one label after recovery; the print queue's reprint with a reason; an uncertain
SSCC label held until a person decides; a job queued before a restart printed by the next app; SVG
snapshots of the print dialog and the print queue at 80×24 (SQLite, fixed data, no clock).
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from tests.test_tui_receiving import GTIN_LOT1, key_events, scan, seed_receipts
from tests.tui_helpers import async_test, login, table_rows, tui_settings, until
from wsms_tui import label_jobs, labels, printing
from wsms_tui.app import WsmsApp
from wsms_tui.config import PrinterConfig
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, Product
from wsms_tui.db.models import PrintJob as PrintJobRow
from wsms_tui.devices.simulator import TcpPrinterServer, ZebraSimulator
from wsms_tui.screens.print_dialog import PrintDialog
from wsms_tui.screens.print_queue import PrintQueueScreen
from wsms_tui.screens.reason_prompt import ReasonPrompt
from wsms_tui.screens.receiving import ReceivingScreen
from wsms_tui.screens.widgets.status_bar import StatusBar

SIZE = (80, 24)
FAST = {"status_timeout": 0.5, "idle_poll": 0.1}
LOT1_CASE = "01" + GTIN_LOT1 + "17270301" + "10LOT-A<GS>304"  # 4 × LOT1, lot LOT-A, expiry 2027-03-01


@pytest.fixture
def sim() -> ZebraSimulator:
    return ZebraSimulator()


@pytest.fixture
def server(sim: ZebraSimulator) -> Iterator[TcpPrinterServer]:
    with TcpPrinterServer(sim) as s:
        yield s


def printer_settings(url: str, **more: Any) -> Any:
    return tui_settings(printers={"dock1": PrinterConfig(url=url)}, printer="dock1", spool_in_desk=True,
                        gs1_company_prefix="0614141", **more)


def jobs(db: Database) -> list[printing.JobInfo]:
    return printing.list_jobs(db, db.system_actor("test"))


def printer_text(app: WsmsApp) -> str:
    return app.screen.query_one(StatusBar).printer_text()


def decoded_zpl(zpl: bytes) -> list[tuple[str, bytes]]:
    """Render a label the printer received with zplkit and read its barcodes with zxing-cpp."""
    zplkit = pytest.importorskip("zplkit")
    zxingcpp = pytest.importorskip("zxingcpp")
    text = re.sub(r"\^PQ\d+", "", zpl.decode("utf-8"))  # zplkit has no ^PQ
    font = (Path(__file__).parent / "data" / "cjk-subset.ttf").read_bytes()
    download = f"~DY{labels.DEFAULT_CJK_FONT},A,T,{len(font)},,{font.hex().upper()}"
    doc = zplkit.render(download + text, zplkit.Options(dpi=203, width=4 * 203, height=6 * 203))
    raster = doc.labels[0].rasterize()
    view = memoryview(raster.pixels).cast("B", (raster.height, raster.width))
    return sorted((b.symbology_identifier, b.bytes) for b in zxingcpp.read_barcodes(view))


async def receive_lot1(pilot: Pilot[Any]) -> None:
    await login(pilot)
    for code in ("PO-1", LOT1_CASE, "A-02"):
        await scan(pilot, code)


@async_test
async def test_the_received_line_prints_once_through_the_dialog(db: Database, tmp_path: Path,
                                                                 server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    seed_receipts(db, tmp_path)
    # a name in the glyphs of the test font (tests/data/README.md), so the renderer draws the whole label
    db.write(lambda s: s.execute(update(Product).where(Product.sku == "LOT1").values(name="绿茶 Green tea")))
    app = WsmsApp(db, printer_settings(server.url), desk="receiving", spool_options=FAST)
    async with app.run_test(size=SIZE) as pilot:
        await receive_lot1(pilot)
        screen = app.screen
        assert isinstance(screen, ReceivingScreen)
        assert "4 × LOT1 into A-02" in str(screen.query_one("#rcv-message", Static).render())
        await until(pilot, lambda: printer_text(app).startswith("dock1 idle"))

        await pilot.press("ctrl+l")
        dialog = app.screen
        assert isinstance(dialog, PrintDialog)
        preview = str(dialog.query_one("#print-preview-text", Static).render())
        assert "(01)09506000134352(17)270301(10)LOT-A(37)4" in preview and "LOT1" in preview
        assert "Printer: dock1" in str(dialog.query_one("#print-printer", Static).render())
        # a scan while the dialog is open: refused with a red line; its Enter does not print
        for key in key_events("4006381333931\r"):
            dialog.post_message(key)
        await pilot.pause()
        assert app.screen is dialog and "not used" in str(dialog.query_one("#print-message", Static).render())
        assert jobs(db) == []

        await pilot.press("enter")
        assert isinstance(app.screen, ReceivingScreen)
        await until(pilot, lambda: len(sim.labels) == 1 and jobs(db)[0].status == "printed")
        assert "label queued: job" in str(screen.query_one("#rcv-message", Static).render())

        # the same line again: the dialog's confirm returns the job already printed, nothing is queued
        await pilot.press("ctrl+l")
        assert isinstance(app.screen, PrintDialog)
        await pilot.press("enter", "enter")
        assert "already" in str(screen.query_one("#rcv-message", Static).render())
        await pilot.pause(0.5)
        assert len(jobs(db)) == 1 and len(sim.labels) == 1

        # the status bar of every screen follows the printer
        await pilot.press("f2")
        assert printer_text(app).startswith("dock1 ")

    expected_label = label_jobs.make_product_label(db, db.system_actor("test"), sku="LOT1", lot="LOT-A", count=4)
    assert sim.labels[0].decode() == expected_label.zpl.strip()
    assert decoded_zpl(sim.labels[0]) == sorted(
        [("]C1", b"01095060001343521727030110LOT-A\x1d374"), ("]d2", b"01095060001343521727030110LOT-A\x1d374")])


@async_test
async def test_paper_out_is_on_the_status_bar_and_the_label_prints_once_after(
        db: Database, tmp_path: Path, server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    seed_receipts(db, tmp_path)
    sim.add_faults("paper_out=100000")
    app = WsmsApp(db, printer_settings(server.url), desk="receiving", spool_options=FAST)
    async with app.run_test(size=SIZE) as pilot:
        await receive_lot1(pilot)
        await pilot.press("ctrl+l", "enter")
        await until(pilot, lambda: printer_text(app) == "dock1 paper out")
        bar = app.screen.query_one(StatusBar)
        assert bar.printer is not None and bar.printer.fault
        assert str(bar.query_one("#status-info", Static).render()).startswith("printer: dock1 paper out")
        assert sim.labels == [] and jobs(db)[0].status == "queued"
        with sim._lock:  # the operator loads paper
            sim.faults["paper_out"] = 0
        await until(pilot, lambda: len(sim.labels) == 1 and jobs(db)[0].status == "printed")
        await until(pilot, lambda: not printer_text(app).endswith("paper out"))
        await pilot.pause(0.5)
        assert len(sim.labels) == 1 and jobs(db)[0].attempts == 1


@async_test
async def test_a_held_sscc_waits_for_a_person_who_reprints_it_with_a_reason(
        db: Database, tmp_path: Path, server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    seed_receipts(db, tmp_path)
    sim.add_faults("silence_after_job=1")  # the pallet label goes out, the printer never confirms it
    app = WsmsApp(db, printer_settings(server.url), desk="receiving", spool_options=FAST)
    async with app.run_test(size=SIZE) as pilot:
        await receive_lot1(pilot)
        await pilot.press("ctrl+n")
        dialog = app.screen
        assert isinstance(dialog, PrintDialog) and dialog.request.label.serialized
        assert "[GS1-128] (00)0061414100000000" in str(dialog.query_one("#print-preview-text", Static).render())
        await pilot.press("f12")
        await until(pilot, lambda: jobs(db)[0].status == "needs_decision")
        held = jobs(db)[0]
        assert held.kind == "lpn" and held.serialized and len(sim.labels) == 1
        await pilot.pause(1.0)
        assert len(sim.labels) == 1 and jobs(db)[0].status == "needs_decision"  # never resent by itself

        await pilot.press("f11")
        queue = app.screen
        assert isinstance(queue, PrintQueueScreen)
        rows = table_rows(queue.query_one(DataTable))
        assert rows[0][0] == str(held.id) and rows[0][4] == "HELD" and rows[0][6] == "clerk1"
        await pilot.press("ctrl+y")  # "it did print?" — the person is not sure: Esc, then reprint instead
        assert isinstance(app.screen, ReasonPrompt)
        await pilot.press("escape")
        assert app.screen is queue
        await pilot.press("ctrl+r")
        assert isinstance(app.screen, ReasonPrompt)
        await pilot.press("o", "k", "enter")  # too short
        assert isinstance(app.screen, ReasonPrompt)
        assert "required" in str(app.screen.query_one("#reason-message", Static).render())
        await pilot.press(*"label torn", "enter")  # a new answer (the refused one was cleared)
        assert app.screen is queue
        await until(pilot, lambda: len(sim.labels) == 2)
        await until(pilot, lambda: jobs(db)[0].status == "printed")
        redo, original = jobs(db)[:2]
        assert redo.reprint_of == held.id and redo.reason == "label torn" and original.status == "cancelled"
        assert sim.labels[1] == sim.labels[0]  # the same SSCC, printed again on a person's word
        await until(pilot, lambda: table_rows(queue.query_one(DataTable))[0][4] == "printed")
        rows = table_rows(queue.query_one(DataTable))
        assert rows[0][7] == f"reprint of {held.id}; label torn" and rows[1][4] == "cancelled"

        # refused actions: red, with the reason from the service
        await pilot.press("ctrl+y")
        message = queue.query_one("#pq-message", Static)
        assert "not waiting for a decision" in str(message.render()) and message.has_class("error")
        await pilot.press("down", "ctrl+x")
        assert "cancelled already" in str(message.render())
        await pilot.press("escape")
        assert isinstance(app.screen, ReceivingScreen)

    events = db.read(lambda s: s.execute(select(AuditEvent.action, AuditEvent.payload).where(
        AuditEvent.action == "print.reprint")).all())
    assert len(events) == 1 and "label torn" in str(events[0].payload)


@async_test
async def test_a_job_queued_before_a_restart_prints_in_the_next_app(
        db: Database, tmp_path: Path, server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    seed_receipts(db, tmp_path)
    with socket.socket() as sock:  # a port nothing listens on: the printer is off
        sock.bind(("127.0.0.1", 0))
        dead_url = f"socket://127.0.0.1:{sock.getsockname()[1]}"
    app = WsmsApp(db, printer_settings(dead_url), desk="receiving", spool_options=FAST)
    async with app.run_test(size=SIZE) as pilot:
        await receive_lot1(pilot)
        await pilot.press("ctrl+l", "enter")
        await until(pilot, lambda: printer_text(app) == "dock1 offline")
        assert jobs(db)[0].status == "queued"
        started = time.monotonic()
    assert time.monotonic() - started < 5  # the worker thread does not hold the app
    assert app.spool is None

    app = WsmsApp(db, printer_settings(server.url), desk="receiving", spool_options=FAST)
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        await until(pilot, lambda: jobs(db)[0].status == "printed")
    assert len(sim.labels) == 1 and len(jobs(db)) == 1


# -- SVG snapshots at 80×24 (SQLite, fixed data, a file named wsms.db, fixed times in UTC) -----------


@pytest.fixture
def snap_db(snap_file_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    database = snap_file_db
    seed_receipts(database, tmp_path)
    yield database
    monkeypatch.delenv("TZ")
    time.tzset()


def no_spool_settings() -> Any:
    """A desk whose printer is served elsewhere: no worker thread, so nothing changes under the camera."""
    return tui_settings(printers={"dock1": PrinterConfig(url="socket://127.0.0.1:9")}, printer="dock1",
                        spool_in_desk=False)


def test_snapshot_print_dialog_location_label(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await login(pilot)
        await scan(pilot, "PO-1")
        await pilot.press("ctrl+o")
        await scan(pilot, "A-01")
        await pilot.pause()

    assert snap_compare(WsmsApp(snap_db, no_spool_settings(), desk="receiving"), terminal_size=SIZE,
                        run_before=run_before)


def test_snapshot_print_queue(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    admin = snap_db.system_actor("test")
    clerk = admin
    one = printing.queue_label(snap_db, clerk, printer="dock1", label=labels.location_label("A-01"),
                               idempotency_key="snap:1")
    two = printing.queue_label(snap_db, clerk, printer="dock1", label=labels.lpn_label("006141410000000012"),
                               idempotency_key="snap:2")
    three = printing.queue_label(snap_db, clerk, printer="dock2", label=labels.location_label("A-02"),
                                 idempotency_key="snap:3")
    base = datetime(2026, 3, 2, 9, 15, tzinfo=UTC)

    def fix(s: Any) -> None:
        s.execute(update(PrintJobRow).where(PrintJobRow.id == one.id).values(
            status="printed", attempts=1, created_at=base, printed_at=base))
        s.execute(update(PrintJobRow).where(PrintJobRow.id == two.id).values(
            status="needs_decision", attempts=1, created_at=base.replace(minute=20),
            last_error="sent, but not confirmed: no answer to ~HS"))
        s.execute(update(PrintJobRow).where(PrintJobRow.id == three.id).values(created_at=base.replace(minute=31)))

    snap_db.write(fix)
    printing.reprint(snap_db, admin, one.id, reason="smudged by the wrap")
    snap_db.write(lambda s: s.execute(update(PrintJobRow).where(PrintJobRow.reprint_of == one.id).values(
        created_at=base.replace(minute=42))))

    async def run_before(pilot: Pilot[Any]) -> None:
        await login(pilot)
        await pilot.press("f11")
        await pilot.pause()

    assert snap_compare(WsmsApp(snap_db, no_spool_settings(), desk="receiving"), terminal_size=SIZE,
                        run_before=run_before)


def test_print_keys_have_ids_and_receiving_help_lists_them() -> None:
    from wsms_tui.keys import all_desk_keys, desk_keys, keys

    ids = [k.id for k in (*keys(), *all_desk_keys())]
    assert len(ids) == len(set(ids))
    assert {"print_queue", "receiving.print_product", "receiving.print_location", "receiving.print_lpn",
            "print.confirm", "print_queue.reprint"} <= set(ids)
    assert [k for k in desk_keys("receiving") if len(k.key) == 1] == []  # nothing printable on a scan screen
