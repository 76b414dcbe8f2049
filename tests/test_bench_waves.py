"""bench/waves.py runs end to end at tiny sizes (figures are not checked here, only their presence)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_waves_bench_runs_in_its_tiny_mode(tmp_path: Path) -> None:
    out = tmp_path / "waves.json"
    proc = subprocess.run([sys.executable, "-m", "bench.waves", "--tiny", "--json", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "S-shape (baseline)" in proc.stdout and "FCFS (baseline)" in proc.stdout
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["route_one_block"]["exact"] and result["route_one_block"]["method"] == "ratliff-rosenthal"
    assert result["route_one_block"]["optimal_m"] <= result["route_one_block"]["sshape_m"]
    b = result["batching"]
    assert b["savings"]["travel_m"] < b["fcfs_travel_m"] and b["seed"]["travel_m"] < b["fcfs_travel_m"]
    d = result["plan_from_db"]
    assert d["orders"] > 0 and d["travel_m"] <= d["fcfs_travel_m"] and "from the database" in proc.stdout
