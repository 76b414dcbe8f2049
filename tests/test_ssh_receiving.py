"""The Receiving desk over a real ``ssh`` (loopback sshd, forced command, SetEnv) inside tmux at 80×24:
a wedge scanner's keys (each scan = text + Enter) typed with ``send-keys``, checked in the ledger."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.sshd import Tmux, have_ssh_tools, ssh_server
from tests.test_tui_receiving import GTIN_LOT1, GTIN_P1, seed_receipts
from wsms_tui import receiving, stock
from wsms_tui.database import Database

pytestmark = pytest.mark.slow

if not have_ssh_tools():
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("CI must run the over-SSH tests: `make test` installs openssh-server and tmux", pytrace=False)
    pytest.skip("sshd/ssh/tmux missing (make test installs them)", allow_module_level=True)


def desk_env(db_url: str) -> dict[str, str]:
    return {"WSMS_DATABASE_URL": db_url, "LANG": "C.UTF-8", "WSMS_TERMINAL": "ssh-rcv-1", "TERM": "xterm-256color",
            "WSMS_CONFIG": "/nonexistent/wsms.toml"}


def test_receive_a_receipt_over_ssh(db_url: str, tmp_path: Path) -> None:
    db = Database.open(db_url)
    seed_receipts(db, tmp_path)
    db.dispose()
    scans = ["PO-1", GTIN_P1, "3", "A-02",
             "01" + GTIN_LOT1 + "17270301" + "10LOT-S<GS>302", "A-01",  # <GS>: the wedge's GS substitute
             "SER1", "SN-7", "A-01", GTIN_P1, "A-02", "u",  # u: the last line is undone
             "%CMD:DONE"]
    cmd = f"{sys.executable} -m wsms_tui run --desk receiving"
    with ssh_server(tmp_path / "ssh", cmd, desk_env(db_url)) as srv:
        t = Tmux("rcv", tmp_path)
        t.start(srv.ssh_command())
        try:
            t.wait_for("PIN")
            t.send("clerk1", literal=True)
            t.send("Enter")
            # the login screen can lose a PIN typed before its focus moved (it rewrites the user field's
            # buffer after the first Enter): give it a moment; the receiving scans below are not spaced
            time.sleep(0.5)
            t.send("1234", literal=True)
            t.send("Enter")
            t.wait_for("Scan or choose a receipt")
            for code in scans:  # typed back to back, as a wedge scanner types: no waiting between scans
                t.send(code, literal=True)
                t.send("Enter")
            screen = t.wait_for("Discrepancies of PO-1")
            lines = screen.splitlines()
            assert len(lines) <= 24 and max(len(line) for line in lines) <= 80
        finally:
            t.kill()
    db = Database.open(db_url)
    try:
        admin = db.system_actor("test")
        quants = {(r.sku, r.location, r.lot): r.on_hand for r in stock.stock_page(db, admin)}
        assert quants == {("P1", "A-02", None): 3, ("LOT1", "A-01", "LOT-S"): 2, ("SER1", "A-01", "SN-7"): 1}
        entries = list(reversed(stock.ledger_page(db, admin)))
        assert [(e.kind, e.sku, int(e.qty)) for e in entries][:4] == [
            ("receive", "P1", 3), ("receive", "LOT1", 2), ("receive", "SER1", 1), ("receive", "P1", 1)]
        assert len(entries) == 5 and entries[4].reverses_id == entries[3].id  # the undo
        assert {e.terminal for e in entries} == {"ssh-rcv-1"} and {e.actor for e in entries} == {"clerk1"}
        assert receiving.receipt_detail(db, admin, "PO-1").summary.status == "closed"
        assert stock.verify_ledger(db, admin).ok
    finally:
        db.dispose()
