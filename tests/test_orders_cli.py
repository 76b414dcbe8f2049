"""The order commands end to end through Typer (both backends): channels, import orders, orders
list/show/status/allocate/cancel, exceptions, and ``channels watch --once``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import seed_basic
from tests.orders_seed import line, order_csv
from wsms_tui import ledger
from wsms_tui.cli import app
from wsms_tui.database import Database

runner = CliRunner()


def wsms(db_url: str, *args: str) -> object:
    return runner.invoke(app, ["--db", db_url, *args])


def test_order_commands(db_url: str, db: Database, tmp_path: Path) -> None:
    seed_basic(db)
    ledger.receive(db, db.system_actor("t"), product="P1", qty=3, location="A-01", op_id="s")
    drop = tmp_path / "drop"
    drop.mkdir()
    r = wsms(db_url, "channels", "add", "WEB", "--rank", "5", "--folder", str(drop))
    assert r.exit_code == 0, r.output
    r = wsms(db_url, "import", "orders", str(tmp_path / "x.csv"), "--channel", "NOPE")
    assert r.exit_code == 1 and "no sales channel 'NOPE'" in r.output
    f = order_csv(tmp_path / "o.csv", line("W1", "P1", 2), line("W2", "P1", 2), line("W3", "GONE", 1))
    r = wsms(db_url, "import", "orders", str(f), "--channel", "WEB")
    assert r.exit_code == 0, r.output
    assert "2 new" in r.stdout and "1 rejected order" in r.stdout and "GONE" in r.output
    rows = json.loads(wsms(db_url, "orders", "list", "--format", "json").stdout)
    assert {(o["external_ref"], o["status"]) for o in rows} == {("W1", "allocated"), ("W2", "backorder")}
    rows = json.loads(wsms(db_url, "orders", "list", "--status", "backorder", "-s", "W2", "-f", "json").stdout)
    assert [o["ref"] for o in rows] == ["SO-2"]
    r = wsms(db_url, "orders", "show", "W2")
    assert r.exit_code == 0 and "Backorder" in r.stdout and "A-01" in r.stdout
    r = wsms(db_url, "orders", "status", "WEB:W2", "--format", "csv")
    assert r.stdout.splitlines()[0] == "at,from_status,to_status,actor,note"
    assert [ln.split(",")[2] for ln in r.stdout.splitlines()[1:]] == ["new", "backorder"]
    r = wsms(db_url, "orders", "cancel", "W1", "--reason", "double order")
    assert r.exit_code == 0 and "2 released" in r.stdout
    r = wsms(db_url, "orders", "allocate")
    assert r.exit_code == 0 and "1 allocated whole" in r.stdout
    tickets = json.loads(wsms(db_url, "exceptions", "list", "-f", "json").stdout)
    assert {t["code"] for t in tickets} == {"unknown_sku"}
    order_csv(drop / "late.csv", line("W9", "P1", 1))
    r = wsms(db_url, "channels", "watch", "--once", "--settle", "0")
    assert r.exit_code == 0 and "late.csv → done" in r.stdout
    assert (drop / "done" / "late.csv.report.txt").exists()
    r = wsms(db_url, "orders", "show", "SO-99")
    assert r.exit_code == 1 and "no order SO-99" in r.output
