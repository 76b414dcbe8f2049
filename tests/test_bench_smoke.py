"""The benchmarks run end to end at tiny sizes, so they never rot (figures are not checked here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import IN_CI, PG_URL

ROOT = Path(__file__).resolve().parents[1]


def _pg_reachable() -> bool:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "no server"
        return False


def test_bench_runs_in_its_tiny_mode(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = [sys.executable, "-m", "bench.run", "--tiny", "--json", str(out)]
    pg = _pg_reachable()
    if pg:
        args.append("--pg")
    elif IN_CI:
        pytest.fail(f"PostgreSQL must run in CI but is unreachable at {PG_URL}")
    env = {**os.environ, "WSMS_BENCH_PG_URL": PG_URL}
    proc = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ledger verify" in proc.stdout and "baseline" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    backends = {f["backend"] for f in result["figures"]}
    assert backends == ({"sqlite", "postgresql"} if pg else {"sqlite"})
    assert len(result["figures"]) == 5 * len(backends)
    assert all(f["value"] > 0 and f["baseline"] > 0 for f in result["figures"])
