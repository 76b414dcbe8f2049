"""bench/orders.py runs end to end at tiny sizes, so it never rots (figures are not checked here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PG_URL
from tests.test_bench_smoke import _pg_reachable

ROOT = Path(__file__).resolve().parents[1]


def test_orders_bench_runs_in_its_tiny_mode(tmp_path: Path) -> None:
    out = tmp_path / "orders.json"
    args = [sys.executable, "-m", "bench.orders", "--tiny", "--json", str(out)]
    pg = _pg_reachable()
    if pg:
        args.append("--pg")
    proc = subprocess.run(args, cwd=ROOT, env={**os.environ, "WSMS_BENCH_PG_URL": PG_URL}, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "allocate" in proc.stdout and "baseline" in proc.stdout
    figures = json.loads(out.read_text(encoding="utf-8"))["figures"]
    assert {f["backend"] for f in figures} == ({"sqlite", "postgresql"} if pg else {"sqlite"})
    assert all(f["value"] > 0 and f["baseline"] > 0 for f in figures)
