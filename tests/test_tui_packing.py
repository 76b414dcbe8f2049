"""The Packing bench (F5) through Textual's Pilot, on SQLite and PostgreSQL: scans from a serial scanner on a
real pty and as a wedge-scanner burst, a wrong item and an extra unit refused with the bell and nothing posted,
two boxes, each label printed once by a fake Zebra on loopback and its barcodes decoded back (SSCC as GS1-128,
the tracking number as Code 128), a reprint with a reason, confirmation by scanning a box label, a partial
shipment by pressing Ctrl+F twice; SVG snapshot at 80×24 (SQLite, fixed data and clock).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from textual.pilot import Pilot
from textual.widgets import Static

from tests.test_packing import pack_settings, seed_pack, shipped_by_sku
from tests.test_tui_printing import FAST, decoded_zpl, jobs
from tests.test_tui_receiving import key_events, scan, until
from tests.tui_helpers import async_test, login
from wsms_tui import packing
from wsms_tui.app import WsmsApp
from wsms_tui.config import PrinterConfig, ScannerSettings
from wsms_tui.database import Database
from wsms_tui.db.models_orders import SalesOrder
from wsms_tui.devices.simulator import TcpPrinterServer, ZebraSimulator
from wsms_tui.screens.packing import PackingScreen
from wsms_tui.screens.reason_prompt import ReasonPrompt
from wsms_tui.security import Actor
from wsms_tui.users import add_user

SIZE = (80, 24)
GTIN_P1 = "4006381333931"


def bench_settings(url: str | None = None, **more: Any) -> Any:
    s = pack_settings(**more)
    if url:
        s = s.model_copy(update={"printers": {"dock1": PrinterConfig(url=url)}, "printer": "dock1",
                                 "spool_in_desk": True})
    return s


def message(screen: Any) -> str:
    return str(screen.query_one("#pack-message", Static).render())


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
            assert screen.view.step == "item" and screen.view.last_box is not None
            first = screen.view.last_box
            await until(pilot, lambda: len(sim.labels) == 1 and jobs(db)[0].status == "printed")
            for code in ("P2", "P2"):
                await scan(pilot, code)
            await pilot.press("ctrl+d")
            await scan(pilot, "M")
            await scan(pilot, "2.5")
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
        assert "no printer" in message(screen)
        await pilot.press("ctrl+f")
        assert "again ships the packed boxes" in message(screen) and screen.view.shipped is None
        await pilot.press("ctrl+f")
        assert screen.view.shipped is not None and screen.view.shipped.partial
        assert shipped_by_sku(db) == {"P1": 1}
        await scan(pilot, "SHOP:O1")
        await pilot.press("escape")  # leaves the order
        assert screen.view.order is None


# -- SVG snapshot at 80×24 (SQLite, fixed data and clock, a file named wsms.db) ----------------


@pytest.fixture
def snap_db(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setattr("wsms_tui.audit.utcnow", lambda: datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    path = tmp_path / "wsms.db"
    shutil.copy(sqlite_template, path)
    database = Database.open(f"sqlite:///{path}")
    admin = database.system_actor("test")
    seed_pack(database, admin, tmp_path)
    add_user(database, admin, "clerk1", "clerk", "1234")
    yield database
    database.dispose()


def test_snapshot_packing_bench(snap_db: Database, snap_compare: Callable[..., bool]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await login(pilot)
        for code in ("SHOP:O1", "P1", "P1", "P1", "%CMD:DONE", "S", "1.2", "P2", "LOT1"):
            await scan(pilot, code)
        await pilot.pause()

    assert snap_compare(WsmsApp(snap_db, bench_settings(), desk="packing"), terminal_size=SIZE,
                        run_before=run_before)
