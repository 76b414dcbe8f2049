"""The Packing bench (F5) through Textual's Pilot, on SQLite and PostgreSQL: scans from a serial scanner on a
real pty and as a wedge-scanner burst, a wrong item and an extra unit refused with the bell and nothing posted,
two boxes, each label printed once by a fake Zebra on loopback and its barcodes decoded back (SSCC as GS1-128,
the tracking number as Code 128), a reprint with a reason, confirmation by scanning a box label, a partial
shipment by pressing Ctrl+F twice; SVG snapshot at 80×24 (SQLite, fixed data and clock).

Booking with an HTTP carrier (a fake carrier web API on loopback, ``tests/fake_carrier.py``) runs in a thread:
while a slow carrier answers, timers tick, F1 opens and closes, and the scans and keys typed meanwhile all run in
order after it (one of them books the next box); a carrier that times out, fails (503) or refuses (422) is a red
line with the bell, nothing written, the box still at its weight and booked once with the same SSCC on retry;
quitting while a box is being booked leaves at once and the booking still ends written whole.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from textual.pilot import Pilot
from textual.widgets import Static

from tests.fake_carrier import FakeCarrier
from tests.test_packing import bench_settings, books_ok, http_settings, seed_pack, shipped_by_sku
from tests.test_tui_printing import FAST, decoded_zpl, jobs
from tests.test_tui_receiving import key_events, scan
from tests.tui_helpers import async_test, login, until
from wsms_tui import packing
from wsms_tui.app import WsmsApp
from wsms_tui.config import ScannerSettings
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent
from wsms_tui.db.models_orders import SalesOrder
from wsms_tui.db.models_shipping import Shipment, ShipmentBox, ShipmentItem
from wsms_tui.devices.simulator import TcpPrinterServer, ZebraSimulator
from wsms_tui.screens.help import HelpScreen
from wsms_tui.screens.packing import PackingScreen
from wsms_tui.screens.reason_prompt import ReasonPrompt
from wsms_tui.security import Actor
from wsms_tui.users import add_user

SIZE = (80, 24)
GTIN_P1 = "4006381333931"


def message(screen: Any) -> str:
    return str(screen.query_one("#pack-message", Static).render())


async def booked(pilot: Pilot[Any]) -> None:
    """Wait until no box is being booked (in its thread) and the scans that waited for it have run."""
    screen = pilot.app.screen
    assert isinstance(screen, PackingScreen)
    await until(pilot, lambda: not screen.flow_busy)
    await pilot.pause()


@pytest.fixture
def sim() -> ZebraSimulator:
    return ZebraSimulator()


@pytest.fixture
def server(sim: ZebraSimulator) -> Iterator[TcpPrinterServer]:
    with TcpPrinterServer(sim) as s:
        yield s


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
@async_test
async def test_pack_two_boxes_labels_printed_once_and_decoded(db: Database, admin: Actor, tmp_path: Path,
                                                              server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    seed_pack(db, admin, tmp_path)
    add_user(db, admin, "clerk1", "clerk", "1234")
    # a ship-to in the glyphs of the test font (tests/data/README.md), so the renderer draws the whole label
    db.write(lambda s: s.execute(update(SalesOrder).where(SalesOrder.external_ref == "O1").values(
        customer="Zhang San", address="100 Century Avenue", city="Shanghai")))
    master, slave = os.openpty()
    settings = bench_settings(server.url).model_copy(update={
        "scanner": ScannerSettings.model_construct(prefix="", suffix="", url=os.ttyname(slave))})
    app = WsmsApp(db, settings, desk="packing", spool_options=FAST)
    rung: list[int] = []
    app.bell = lambda: rung.append(1)  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SIZE) as pilot:
            await login(pilot)
            screen = app.screen
            assert isinstance(screen, PackingScreen)
            await until(pilot, lambda: app.scanner is not None and app.scanner.status is not None
                        and app.scanner.status.state == "connected")
            # the serial scanner: the order, a wrong item, then three units of P1
            os.write(master, b"".join(s.encode() + b"\r\n" for s in ["SHOP:O1", "LOT1", GTIN_P1, GTIN_P1]))
            await until(pilot, lambda: screen.view.box != () and screen.view.box[0].qty == 2)
            assert len(rung) == 1  # LOT1 refused with the bell
            # the wedge scanner: a burst of two P1 (the second is an extra unit)
            field = app.focused
            for key in key_events(f"P1\r{GTIN_P1}\r"):
                assert field is not None
                field.post_message(key)
            await pilot.pause()
            assert len(rung) == 2 and "extra unit" in message(screen)
            assert [(b.sku, b.qty) for b in screen.view.box] == [("P1", 3)]
            assert shipped_by_sku(db) == {}

            await pilot.press("ctrl+d")
            await scan(pilot, "S")
            await scan(pilot, "1.2")
            await booked(pilot)
            assert screen.view.step == "item" and screen.view.last_box is not None
            first = screen.view.last_box
            await until(pilot, lambda: len(sim.labels) == 1 and jobs(db)[0].status == "printed")
            for code in ("P2", "P2"):
                await scan(pilot, code)
            await pilot.press("ctrl+d")
            await scan(pilot, "M")
            await scan(pilot, "2.5")
            await booked(pilot)
            assert screen.view.step == "confirm"
            await until(pilot, lambda: len(sim.labels) == 2)

            await pilot.press("ctrl+r")  # the label of the last box again, with a reason
            assert isinstance(app.screen, ReasonPrompt)
            await scan(pilot, "label torn")
            await until(pilot, lambda: len(sim.labels) == 3)
            assert "queued again" in message(screen)

            await scan(pilot, "00" + first.sscc)  # scanning a box label confirms
            assert screen.view.shipped is not None and screen.view.shipped.status == "shipped"
            assert shipped_by_sku(db) == {"P1": 3, "P2": 2}
            await pilot.pause(0.3)
            assert len(sim.labels) == 3
    finally:
        os.close(master)
        os.close(slave)

    po = packing.pack_order(db, admin, "SHOP:O1")
    b1 = next(b for b in po.boxes if b.box_no == 1)
    assert sorted(j.status for j in jobs(db)) == ["printed"] * 3
    assert decoded_zpl(sim.labels[0]) == sorted([("]C0", b1.tracking.encode()),
                                                  ("]C1", ("00" + b1.sscc).encode())])
    text = sim.labels[0].decode()
    assert "ORDER SO-1 (O1)" in text and "BOX 1/1" in text and "1.2 kg" in text and "local small CN-200" in text


@async_test
async def test_partial_shipment_with_ctrl_f_twice(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    add_user(db, admin, "clerk1", "clerk", "1234")
    app = WsmsApp(db, bench_settings(), desk="packing")
    async with app.run_test(size=SIZE) as pilot:
        await login(pilot)
        screen = app.screen
        assert isinstance(screen, PackingScreen)
        for code in ("SHOP:O1", "P1", "%CMD:DONE", "S", "1"):
            await scan(pilot, code)
        await booked(pilot)
        assert "no printer" in message(screen)
        await pilot.press("ctrl+f")
        assert "again ships the packed boxes" in message(screen) and screen.view.shipped is None
        await pilot.press("ctrl+f")
        assert screen.view.shipped is not None and screen.view.shipped.partial
        assert shipped_by_sku(db) == {"P1": 1}
        await scan(pilot, "SHOP:O1")
        await pilot.press("escape")  # leaves the order
        assert screen.view.order is None


@async_test
async def test_f12_with_units_in_the_open_box_asks_before_logging_out(db: Database, admin: Actor,
                                                                     tmp_path: Path) -> None:
    from wsms_tui.screens.login import LoginScreen

    seed_pack(db, admin, tmp_path)
    add_user(db, admin, "clerk1", "clerk", "1234")
    app = WsmsApp(db, bench_settings(), desk="packing")
    async with app.run_test(size=SIZE) as pilot:
        notes: list[str] = []
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign,assignment]
        await login(pilot)
        screen = app.screen
        for code in ("SHOP:O1", "P1"):
            await scan(pilot, code)
        await pilot.press("f12")
        assert app.screen is screen and "1 unit(s) scanned into the open box of" in notes[-1]
        assert "F12 again logs out and drops it" in notes[-1]
        await pilot.press("f12")
        assert isinstance(app.screen, LoginScreen)
    assert box_rows(db) == (0, 0, 0)


# -- booking with a carrier's web API in a thread --------------------------------------------


def box_rows(db: Database) -> tuple[int, int, int]:
    """(shipments, boxes, box items) written."""
    return db.read(lambda s: tuple(s.execute(select(func.count()).select_from(t)).scalar_one()
                                   for t in (Shipment, ShipmentBox, ShipmentItem)))


def rejected_scans(db: Database) -> list[str]:
    rows = db.read(lambda s: s.execute(select(AuditEvent.payload).where(AuditEvent.action == "scan.rejected")
                                       .order_by(AuditEvent.seq)).scalars().all())
    return [str(p) for p in rows]


@async_test
async def test_booking_runs_in_a_thread_and_scans_typed_meanwhile_run_in_order(
        db: Database, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        server: TcpPrinterServer) -> None:
    seed_pack(db, admin, tmp_path)
    add_user(db, admin, "clerk1", "clerk", "1234")
    monkeypatch.setenv("FAKE_CARRIER_KEY", "secret")
    with FakeCarrier() as fake:
        # answers (and books) once the test opens the gate, after it typed box 2 (a fixed delay raced the
        # typing on a loaded machine); 5 s at most, below the adapter's timeout
        fake.mode, fake.delay, fake.gate = "slow", 5.0, threading.Event()
        app = WsmsApp(db, http_settings(fake, server.url), desk="packing", spool_options=FAST)
        rung: list[int] = []
        app.bell = lambda: rung.append(1)  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            await login(pilot)
            screen = app.screen
            assert isinstance(screen, PackingScreen)
            for code in ("SHOP:O1", "P1", "P1", "P1", "%CMD:DONE", "S"):
                await scan(pilot, code)
            ticks: list[float] = []
            app.set_interval(0.05, lambda: ticks.append(time.monotonic()))
            started = time.monotonic()
            await scan(pilot, "1.2")  # box 1: booked in a thread for 2 s
            assert screen.flow_busy and screen.view.step == "book"
            assert message(screen) == "booking with fast…" and "with fast" in str(
                screen.query_one("#pack-prompt", Static).render())

            # the screen answers while the carrier has not: F1 opens and closes, timers tick
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("f1")
            assert app.screen is screen
            # box 2 typed and keyed while box 1 is being booked: a wrong item among them, Ctrl+D, box type, weight
            for code in ("P2", "LOT1", "P2"):
                await scan(pilot, code)
            await pilot.press("ctrl+d")
            for code in ("M", "2.5"):
                await scan(pilot, code)
            await pilot.pause(0.3)
            assert screen.flow_busy and not fake.bookings, "the carrier answered before the test typed"
            # nothing fed yet: the desk still shows box 1 being booked
            assert screen.view.step == "book" and [(b.sku, b.qty) for b in screen.view.box] == [("P1", 3)]
            assert rung == []
            assert len([t for t in ticks if t > started]) >= 5  # the event loop kept running

            fake.gate.set()  # the carrier answers now (and at once for box 2)
            await until(pilot, lambda: screen.view.step == "book" and screen.view.last_box is not None)
            # box 1 booked; the waiting scans ran in order: P2, LOT1 refused (bell), P2, Ctrl+D, M, 2.5 → box 2 books
            assert screen.flow_busy and message(screen) == "booking with fast…"
            assert [(b.sku, b.qty) for b in screen.view.box] == [("P2", 2)] and len(rung) == 1  # LOT1
            await booked(pilot)
        assert screen.view.step == "confirm" and screen.view.order is not None
        assert [(b.box_no, b.box_type, b.tracking, [(i.sku, i.qty) for i in b.items])
                for b in screen.view.order.open_boxes] == [(1, "S", "FC00000001", [("P1", 3)]),
                                                            (2, "M", "FC00000002", [("P2", 2)])]
        assert [r for r in rejected_scans(db) if "LOT1" in r] and len(rejected_scans(db)) == 1
        assert len([m for m, _p, _h in fake.requests if m == "POST"]) == 2  # each box booked once
    assert box_rows(db) == (1, 2, 2)
    books_ok(db, admin)


@async_test
async def test_carrier_timeout_failure_refusal_are_red_nothing_written_and_retry_books_once(
        db: Database, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        server: TcpPrinterServer) -> None:
    seed_pack(db, admin, tmp_path)
    add_user(db, admin, "clerk1", "clerk", "1234")
    monkeypatch.setenv("FAKE_CARRIER_KEY", "secret")
    with FakeCarrier() as fake:
        fake.mode, fake.delay = "slow", 1.5
        app = WsmsApp(db, http_settings(fake, server.url, timeout_s=0.5), desk="packing", spool_options=FAST)
        rung: list[int] = []
        app.bell = lambda: rung.append(1)  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            await login(pilot)
            screen = app.screen
            assert isinstance(screen, PackingScreen)
            for code in ("MARKET:M1", "P1", "%CMD:DONE", "S"):
                await scan(pilot, code)
            line = screen.query_one("#pack-message", Static)
            for mode, words in (("slow", "carrier fast did not answer within 0.5 s"),
                                ("fail", "carrier fast failed: booking system down (HTTP 503)"),
                                ("refuse", "carrier fast refused: postcode 000000 is not served (HTTP 422)")):
                fake.mode = mode
                before = len(rung)
                await scan(pilot, "0.4")
                await booked(pilot)
                assert words in message(screen) and line.has_class("error") and len(rung) == before + 1, mode
                assert screen.view.step == "weight" and [(b.sku, b.qty) for b in screen.view.box] == [("P1", 1)]
                assert box_rows(db) == (0, 0, 0)  # nothing written
                books_ok(db, admin)
                po = packing.pack_order(db, admin, "MARKET:M1")
                assert po.status == "allocated" and po.to_pack == 1 and po.boxes == []
            fake.mode = "ok"
            await scan(pilot, "0.4")  # the retry books the same box
            await booked(pilot)
            assert screen.view.step == "confirm" and not line.has_class("error") and "✓ box 1" in message(screen)
            last = screen.view.last_box
            assert last is not None and last.tracking == "FC00000001"
            await scan(pilot, "%CMD:DONE")
            assert screen.view.shipped is not None and screen.view.shipped.status == "shipped"
        keys = [h.get("Idempotency-Key") for m, _p, h in fake.requests if m == "POST"]
        assert len(keys) == 4 and set(keys) == {last.sscc}  # every try with the box's one SSCC
        assert len(fake.bookings) == 1
    assert box_rows(db) == (1, 1, 1)
    assert shipped_by_sku(db) == {"P1": 1}
    books_ok(db, admin)


@async_test
async def test_quit_while_booking_leaves_at_once_and_the_box_is_written_whole(
        db: Database, admin: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        server: TcpPrinterServer) -> None:
    seed_pack(db, admin, tmp_path)
    add_user(db, admin, "clerk1", "clerk", "1234")
    monkeypatch.setenv("FAKE_CARRIER_KEY", "secret")
    with FakeCarrier() as fake:
        fake.mode, fake.delay = "slow", 2.0
        app = WsmsApp(db, http_settings(fake, server.url), desk="packing", spool_options=FAST)
        async with app.run_test(size=SIZE) as pilot:
            await login(pilot)
            for code in ("MARKET:M1", "P1", "%CMD:DONE", "S", "0.4"):
                await scan(pilot, code)
            screen = app.screen
            assert isinstance(screen, PackingScreen) and screen.flow_busy
            asked = time.monotonic()
            await pilot.press("ctrl+q")
        assert time.monotonic() - asked < 1.0  # the carrier has not answered yet: the desk is gone anyway
        deadline = time.monotonic() + 15
        while box_rows(db) != (1, 1, 1):  # the booking thread finishes: the carrier's box is written whole
            assert time.monotonic() < deadline, "the booking thread did not finish"
            time.sleep(0.05)
    po = packing.pack_order(db, admin, "MARKET:M1")
    assert po.status == "packed" and [b.tracking for b in po.open_boxes] == ["FC00000001"]
    books_ok(db, admin)


# -- SVG snapshot at 80×24 (SQLite, fixed data and clock, a file named wsms.db) ----------------


@pytest.fixture
def snap_db(snap_file_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setattr("wsms_tui.audit.utcnow", lambda: datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    database = snap_file_db
    admin = database.system_actor("test")
    seed_pack(database, admin, tmp_path)
    add_user(database, admin, "clerk1", "clerk", "1234")
    yield database


def test_snapshot_packing_bench(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await login(pilot)
        for code in ("SHOP:O1", "P1", "P1", "P1", "%CMD:DONE", "S", "1.2", "P2", "LOT1"):
            await scan(pilot, code)  # P2 and LOT1 wait for the box to be booked, then run in order
        await booked(pilot)

    assert snap_compare(WsmsApp(snap_db, bench_settings(), desk="packing"), terminal_size=SIZE,
                        run_before=run_before)
