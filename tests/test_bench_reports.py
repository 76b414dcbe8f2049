"""Smoke run of ``bench/reports.py`` on the tiny demo (SQLite): every figure is produced."""

from __future__ import annotations

import json
from pathlib import Path

from bench import reports as bench_reports


def test_bench_reports_tiny(tmp_path: Path) -> None:
    out = tmp_path / "reports.json"
    figs = bench_reports.main(["--tiny", "--json", str(out)])
    names = [f.name for f in figs]
    assert names == ["snapshot rebuild", "turnover", "abc", "forecast", "reorder", "alert count"]
    assert all(f.seconds >= 0 and f.baseline >= 0 for f in figs)
    assert json.loads(out.read_text())["scale"] == "tiny"
