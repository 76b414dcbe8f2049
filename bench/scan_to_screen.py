"""Scan → ledger commit → screen updated, on the Receiving desk of the large demo (PRODUCT.md:
p95 ≤ 50 ms), and a 100-scan wedge burst (must arrive whole: 100 of 100).

    .venv/bin/python -m bench.scan_to_screen [--scale large|small|tiny] [--lines N]

1. The Receiving desk runs headless (Textual's Pilot, 80×24) on the demo database. For each line of a
   receipt the bench types the product's GTIN and the bin as wedge keystrokes; the clock runs from
   the bin scan's first key until the screen shows the line's ✓ (the ledger entry committed and the
   desk redrawn). Baseline, same run: the same receive through the service alone (commit, no screen).
2. 100 GS1 scans (with GS separators) typed as one burst of key events into wsms's scan field, next
   to Textual's stock ``Input`` given the same burst (the reason wsms has its own scan field).
The large demo is built once and cached in the temp folder (``wsms-bench-scan-<scale>.db``).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from textual import events
from textual.app import App, ComposeResult
from textual.keys import _character_to_key
from textual.widgets import Input, Static

from wsms_tui import demo, receiving
from wsms_tui.app import WsmsApp
from wsms_tui.config import ScannerSettings, Settings
from wsms_tui.database import Database
from wsms_tui.db.engine import make_engine
from wsms_tui.db.migrate import upgrade
from wsms_tui.db.models import Location, Product, ProductBarcode, Warehouse
from wsms_tui.screens.widgets.scan_input import ScanInput

GS = "\x1d"


def demo_db(scale: str) -> str:
    cached = Path(tempfile.gettempdir()) / f"wsms-bench-scan-{scale}.db"
    if not cached.exists():
        work = cached.with_suffix(".building")
        work.unlink(missing_ok=True)
        url = f"sqlite:///{work}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        db = Database.open(url)
        t = time.perf_counter()
        demo.build_demo(db, db.system_actor("bench"), scale=scale)
        db.dispose()
        print(f"built the {scale} demo in {time.perf_counter() - t:.1f} s (cached as {cached})")
        work.rename(cached)
    copy = Path(tempfile.mkdtemp()) / "scan.db"
    shutil.copy(cached, copy)
    engine = make_engine(f"sqlite:///{copy}")
    upgrade(engine)  # a demo cached before a newer migration
    engine.dispose()
    return f"sqlite:///{copy}"


def make_receipt(db: Database, n: int, ref: str, tmp: Path) -> tuple[list[str], list[str]]:
    """A receipt of ``n`` untracked products of SH1 (their unit GTINs) and ``n`` bins to put them in."""
    def pick(s):  # type: ignore[no-untyped-def]
        rows = s.execute(select(Product.sku, ProductBarcode.code).join(ProductBarcode, ProductBarcode.product_id
                                                                       == Product.id)
                         .where(Product.tracking == "none", ProductBarcode.pack_qty == 1)
                         .order_by(Product.sku).limit(n)).all()
        bins = s.execute(select(Location.code).join(Warehouse, Warehouse.id == Location.warehouse_id)
                         .where(Warehouse.code == "SH1", Location.usage == "internal", Location.capacity.is_(None)
                                | (Location.capacity > 0)).order_by(Location.code).limit(n)).scalars().all()
        return rows, bins
    rows, bins = db.read(pick)
    f = tmp / f"{ref}.csv"
    f.write_text("reference,supplier,expected_date,sku,qty,lot,expiry,warehouse\n" + "".join(
        f"{ref},Bench supplier,2026-11-30,{sku},1000,,,SH1\n" for sku, _g in rows), encoding="utf-8")
    receiving.import_receipts(db, db.system_actor("bench"), f)
    return [g.lstrip("0") if len(g.lstrip("0")) == 13 else g for _s, g in rows], list(bins)


def keys(text: str) -> list[events.Key]:
    return [events.Key("enter" if c == "\r" else _character_to_key(c), c) for c in text]


def settings(url: str) -> Settings:
    return Settings.model_construct(database_url=url, terminal="bench", theme="textual-dark", keys={}, desk=None,
                                    printers={}, printer="", spool_in_desk=False,
                                    scanner=ScannerSettings.model_construct(prefix="", suffix="", url="",
                                                                            gs_substitutes=["<GS>"],
                                                                            max_interkey_ms=40))


async def through_the_desk(url: str, gtins: list[str], bins: list[str], ref: str) -> list[float]:
    db = Database.open(url)
    app = WsmsApp(db, settings(url), desk="receiving")
    times: list[float] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(*"clerk", "enter", *"3333", "enter")
        await pilot.pause()

        async def scan(code: str) -> None:
            field = app.focused
            assert isinstance(field, ScanInput), field
            for k in keys(code + "\r"):
                field.post_message(k)

        async def message_has(text: str, timeout: float = 10.0, line: str = "#rcv-message") -> None:
            deadline = time.perf_counter() + timeout
            while time.perf_counter() < deadline:
                await pilot.pause()
                if text in str(app.screen.query_one(line, Static).render()):
                    return
            raise RuntimeError(f"the desk never showed {text!r}")

        await scan(ref)
        await message_has(ref)
        screen = app.screen
        drawn: list[float] = []
        render_view = screen.render_view

        def timed_render(view: Any) -> None:  # the moment the desk has redrawn after the flow answered
            render_view(view)
            app.call_after_refresh(lambda: drawn.append(time.perf_counter()))

        screen.render_view = timed_render  # type: ignore[method-assign]
        for i, (gtin, loc) in enumerate(zip(gtins, bins, strict=False)):
            await scan(gtin)
            await message_has("scan the location", line="#rcv-prompt")
            drawn.clear()
            t = time.perf_counter()
            await scan(loc)
            await message_has(f"into {loc}")
            while not drawn:
                await pilot.pause()
            if i > 0:  # the first line also loads code paths: not a steady-state figure
                times.append(drawn[-1] - t)
    db.dispose()
    return times


def through_the_service(url: str, gtins: list[str], bins: list[str], ref: str) -> list[float]:
    db = Database.open(url)
    clerk = db.system_actor("bench")
    skus = db.read(lambda s: dict(s.execute(select(ProductBarcode.code, Product.sku).join(
        Product, Product.id == ProductBarcode.product_id)).all()))
    times = []
    for i, (gtin, loc) in enumerate(zip(gtins, bins, strict=False)):
        t = time.perf_counter()
        receiving.receive_line(db, clerk, receipt=ref, product=skus[gtin.zfill(14)], qty=1, location=loc,
                               op_id=f"bench-svc-{i}")
        times.append(time.perf_counter() - t)
    db.dispose()
    return times


BURST = [f"01{g}10LOT{i:03d}{GS}3710" for i, g in enumerate(["09506000134352"] * 100)]


class _WsmsField(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[str] = []

    def compose(self) -> ComposeResult:
        yield ScanInput(id="scan")

    def on_scan_input_scanned(self, message: ScanInput.Scanned) -> None:
        self.got.append(message.value)


class _StockInput(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[str] = []

    def compose(self) -> ComposeResult:
        yield Input(id="scan")

    def on_input_submitted(self, message: Input.Submitted) -> None:
        self.got.append(message.value)
        message.input.value = ""


async def burst(app_class: type[Any]) -> tuple[int, int]:
    app = app_class()
    async with app.run_test(size=(80, 24)) as pilot:
        field = app.query_one("#scan")
        field.focus()
        await pilot.pause()
        for scan in BURST:  # posted to the app, as the terminal driver does, all at once
            for k in keys(scan + "\r"):
                if k.character == GS:
                    k = events.Key("ctrl+right_square_bracket", GS)
                app.post_message(k)
        for _ in range(50):
            await pilot.pause()
        whole = sum(1 for a, b in zip(app.got, BURST, strict=False) if a == b)
        return len(app.got), whole


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * (len(v) - 1) + 0.5))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.scan_to_screen", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="large", choices=["large", "small", "tiny"])
    ap.add_argument("--lines", type=int, default=60)
    args = ap.parse_args(argv)
    url = demo_db(args.scale)
    db = Database.open(url)
    with tempfile.TemporaryDirectory() as tmp:
        g1, b1 = make_receipt(db, args.lines, "BENCH-TUI", Path(tmp))
        g2, b2 = make_receipt(db, args.lines, "BENCH-SVC", Path(tmp))
    db.dispose()
    desk = asyncio.run(through_the_desk(url, g1, b1, "BENCH-TUI"))
    service = through_the_service(url, g2, b2, "BENCH-SVC")
    got, whole = asyncio.run(burst(_WsmsField))
    stock_got, stock_whole = asyncio.run(burst(_StockInput))
    ms = 1000
    print(f"{'benchmark':<46} {'wsms':>10} {'baseline':>10}  baseline is")
    print(f"{'scan → commit → screen, p50 (' + args.scale + ' demo)':<46} {statistics.median(desk) * ms:>8.1f}ms "
          f"{statistics.median(service) * ms:>8.1f}ms  the same receive through the service alone")
    print(f"{'scan → commit → screen, p95 (target ≤ 50 ms)':<46} {pct(desk, 0.95) * ms:>8.1f}ms "
          f"{pct(service, 0.95) * ms:>8.1f}ms  ({len(desk)} lines)")
    print(f"{'100-scan wedge burst: scans received whole':<46} {whole:>7}/100 {stock_whole:>7}/100  "
          f"Textual's stock Input ({stock_got} submitted, {got} from wsms)")
    return 0 if whole == 100 else 1


if __name__ == "__main__":
    raise SystemExit(main())
