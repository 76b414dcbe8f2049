"""A desk over a real ``ssh`` (loopback sshd, forced command, SetEnv) inside tmux at 80×24."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import seed_basic
from tests.sshd import Tmux, have_ssh_tools, ssh_server
from wsms_tui import ledger
from wsms_tui.database import Database
from wsms_tui.users import add_user

pytestmark = pytest.mark.slow

if not have_ssh_tools():
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("CI must run the over-SSH tests: `make test` installs openssh-server and tmux", pytrace=False)
    pytest.skip("sshd/ssh/tmux missing (make test installs them)", allow_module_level=True)


def desk_env(db_url: str) -> dict[str, str]:
    return {"WSMS_DATABASE_URL": db_url, "LANG": "C.UTF-8", "WSMS_TERMINAL": "ssh-desk-1", "TERM": "xterm-256color",
            "WSMS_CONFIG": "/nonexistent/wsms.toml"}


def test_stock_lookup_over_ssh(db_url: str, tmp_path: Path) -> None:
    db = Database.open(db_url)
    seed_basic(db)
    admin = db.system_actor()
    add_user(db, admin, "clerk1", "clerk", "1234")
    ledger.receive(db, admin, product="P1", qty=7, location="A-02", op_id="r1")
    db.dispose()
    cmd = f"{sys.executable} -m wsms_tui run --desk stock"
    with ssh_server(tmp_path / "ssh", cmd, desk_env(db_url)) as srv:
        t = Tmux("desk", tmp_path)
        t.start(srv.ssh_command())
        try:
            t.wait_for("PIN")
            time.sleep(1.0)  # let the terminal answer Textual's start-up queries before we type
            t.send("clerk1", literal=True)
            t.wait_for("clerk1")
            t.send("Enter")
            t.send("1234", literal=True)
            t.wait_for("••••")  # the masked PIN arrived through ssh
            t.send("Enter")
            t.wait_for("clerk1 (clerk)", timeout=60)
            t.send("4006381333931", literal=True)  # a wedge scan is keystrokes + Enter at the remote keyboard
            t.send("Enter")
            screen = t.wait_for("A-02")
            assert "苹果 Apple" in screen and "7" in screen
            assert len(screen.splitlines()) <= 24 and max(len(line) for line in screen.splitlines()) <= 80
        finally:
            t.kill()
