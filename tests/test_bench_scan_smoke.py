"""The scan → screen benchmark runs (tiny demo) and the 100-scan burst arrives whole."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_scan_to_screen_bench_smoke(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    p = subprocess.run([sys.executable, "-m", "bench.scan_to_screen", "--scale", "tiny", "--lines", "4"],
                       capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "scan → commit → screen, p95" in p.stdout
    assert "100/100" in p.stdout
