"""The wheel builds and each room (wsms_tui, screens, db, devices) imports from the installed wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_builds_and_every_room_imports_from_it(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(dist), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    (wheel,) = dist.glob("wsms-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ("wsms_tui/cli.py", "wsms_tui/db/models.py", "wsms_tui/db/migrations/env.py",
                     "wsms_tui/db/migrations/script.py.mako", "wsms_tui/db/migrations/versions/0001_initial_schema.py",
                     "wsms_tui/devices/scan.py", "wsms_tui/screens/__init__.py"):
        assert expected in names, expected
    assert any(n.startswith("wsms_tui/screens/") and n.endswith(".tcss") for n in names)
    assert not any(n.startswith(("db/", "devices/", "screens/", "tests/")) for n in names), "rooms leaked to top level"

    target = tmp_path / "site"
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                        str(wheel)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    code = (
        "import wsms_tui, wsms_tui.db.models, wsms_tui.devices.scan, wsms_tui.screens, wsms_tui.cli\n"
        "from wsms_tui.db.migrate import head_revision\n"
        "import sys\n"
        f"root = {str(target)!r}\n"
        "for m in ('wsms_tui', 'wsms_tui.db.models', 'wsms_tui.devices.scan', 'wsms_tui.screens'):\n"
        "    assert sys.modules[m].__file__.startswith(root), (m, sys.modules[m].__file__)\n"
        "print(head_revision())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    from wsms_tui.db.migrate import head_revision

    assert p.stdout.strip() == head_revision()
    # the installed migrations work: a fresh SQLite database upgraded through the wheel's CLI
    p = subprocess.run([sys.executable, "-m", "wsms_tui", "--db", f"sqlite:///{tmp_path / 'w.db'}", "db",
                        "upgrade"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
