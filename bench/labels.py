"""Labels per second: ZPL generation alone, and render + decode (zplkit + zxing-cpp, test extras).

    .venv/bin/python -m bench.labels [--seconds 2] [--json PATH]

Kinds: product (GS1-128 + GS1 DataMatrix, Chinese name), location (Code 128 with check character),
LPN (SSCC) — at 203 and 300 dpi. Render + decode also checks every decoded barcode equals the
intended data, so the figure is of labels that were *right*, not just drawn. Also times the print
worker sending jobs to the fake Zebra on a loopback port (~HS before and after each job).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from wsms_tui import labels as L
from wsms_tui.barcodes import make_sscc

FONT = Path(__file__).resolve().parents[1] / "tests" / "data" / "cjk-subset.ttf"


def makers(dpi: int) -> dict[str, Callable[[int], L.Label]]:
    return {
        "product": lambda i: L.product_label(sku=f"SKU-{i}", name="苹果汁 1L", gtin="4006381333931",
                                             lot=f"L{i % 1000}", expiry=date(2027, 3, 31), count=12, dpi=dpi),
        "location": lambda i: L.location_label(f"A-{i % 100:02d}-{i % 7:02d}", dpi=dpi),
        "lpn": lambda i: L.lpn_label(make_sscc("0614141", i % 10**9, 3), contents="绿茶 x 40", dpi=dpi),
    }


def rate(fn: Callable[[int], object], seconds: float) -> tuple[float, int]:
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or n < 3:
        fn(n)
        n += 1
    return n / elapsed, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="time per measurement")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    results: dict[str, float] = {}
    print(f"{'label':<10}{'dpi':>5}{'ZPL/s':>12}{'render+decode/s':>18}")
    try:
        import zplkit
        import zxingcpp
    except ImportError:
        zplkit = zxingcpp = None  # type: ignore[assignment]
    font = FONT.read_bytes() if FONT.exists() else b""
    download = f"~DY{L.DEFAULT_CJK_FONT},A,T,{len(font)},,{font.hex().upper()}" if font else ""
    for dpi in (203, 300):
        for kind, make in makers(dpi).items():
            gen, _ = rate(make, args.seconds)
            results[f"{kind}_{dpi}_zpl_per_s"] = gen
            shown = "-"
            if zplkit is not None:
                opts = zplkit.Options(dpi=dpi, width=4 * dpi, height=6 * dpi)

                def render_decode(i: int, make: Callable[[int], L.Label] = make, opts: object = opts,
                                  kind: str = kind, dpi: int = dpi) -> None:
                    label = make(i)
                    zpl = download + re.sub(r"\^PQ\d+", "", label.zpl)
                    raster = zplkit.render(zpl, opts).labels[0].rasterize()  # type: ignore[arg-type]
                    view = memoryview(raster.pixels).cast("B", (raster.height, raster.width))
                    got = sorted(b.bytes for b in zxingcpp.read_barcodes(view))
                    want = sorted(b.data.encode() for b in label.barcodes)
                    if got != want:
                        raise SystemExit(f"{kind} {dpi} dpi label {i}: decoded {got}, wanted {want}")

                rd, _ = rate(render_decode, args.seconds)
                results[f"{kind}_{dpi}_render_decode_per_s"] = rd
                shown = f"{rd:,.0f}"
            print(f"{kind:<10}{dpi:>5}{gen:>12,.0f}{shown:>18}")
    results["spool_jobs_per_s"] = spool_rate(args.seconds)
    print(f"print worker → fake Zebra over loopback TCP: {results['spool_jobs_per_s']:,.0f} jobs/s "
          f"(~HS before and after each)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def spool_rate(seconds: float) -> float:
    from wsms_tui.devices.simulator import TcpPrinterServer, ZebraSimulator
    from wsms_tui.devices.spool import JobQueue, PrinterWorker, PrintJob

    sim = ZebraSimulator()
    payload = L.product_label(sku="S", name="n", gtin="4006381333931").payload
    q = JobQueue()
    n = 200
    for i in range(n):
        q.put(PrintJob(i, payload))
    done: list[object] = []
    with TcpPrinterServer(sim) as srv:
        w = PrinterWorker(srv.url, q.next_job, on_printed=done.append, idle_poll=0.01)
        start = time.perf_counter()
        with w:
            while len(done) < n and time.perf_counter() - start < max(30.0, seconds * 10):
                time.sleep(0.001)
            elapsed = time.perf_counter() - start
    assert len(sim.labels) == len(done) == n, "every job printed exactly once"
    return n / elapsed


if __name__ == "__main__":
    main()
