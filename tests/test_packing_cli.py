"""``wsms pack``, ``wsms shipments list|show|track|reprint`` and ``wsms carriers list|boxes`` end to end through
Typer, on SQLite and PostgreSQL: a two-box order packed from a script and shipped, wrong items and extra units
refused with one clear line and nothing written, replayed operation ids packing once."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.test_packing import seed_pack
from wsms_tui.cli import app
from wsms_tui.database import Database
from wsms_tui.security import Actor

runner = CliRunner()


def wsms(db_url: str, *args: str) -> object:
    return runner.invoke(app, ["--db", db_url, *args], catch_exceptions=False)


def test_pack_ship_and_list_from_the_command_line(db_url: str, db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_pack(db, admin, tmp_path)
    r = wsms(db_url, "carriers", "list")
    assert r.exit_code == 0 and "local" in r.output and "manual" in r.output  # type: ignore[attr-defined]
    r = wsms(db_url, "carriers", "boxes", "-f", "json")
    assert [b["code"] for b in json.loads(r.output)] == ["L", "M", "S"]  # type: ignore[attr-defined]

    r = wsms(db_url, "pack", "SHOP:O1", "-i", "LOT1", "--box", "S", "--weight", "1")
    assert r.exit_code == 1 and "wrong item: LOT1" in r.output  # type: ignore[attr-defined]
    r = wsms(db_url, "pack", "SHOP:O1", "-i", "P1:4", "--box", "S", "--weight", "1")
    assert r.exit_code == 1 and "has 3 left to pack, not 4" in r.output  # type: ignore[attr-defined]
    r = wsms(db_url, "pack", "SHOP:O1", "-i", "04006381333931:3", "--box", "S", "--weight", "1.2", "--op-id", "b1")
    assert r.exit_code == 0 and "box 1 S 1.2 kg" in r.output and "order allocated" in r.output  # type: ignore[attr-defined]
    r = wsms(db_url, "pack", "SHOP:O1", "-i", "04006381333931:3", "--box", "S", "--weight", "1.2", "--op-id", "b1")
    assert r.exit_code == 0 and "(already packed)" in r.output  # type: ignore[attr-defined]
    r = wsms(db_url, "pack", "SHOP:O1", "--ship")
    assert r.exit_code == 1 and "are not packed" in r.output  # type: ignore[attr-defined]
    r = wsms(db_url, "pack", "SHOP:O1", "-i", "P2", "-i", "P2", "--box", "M", "--weight", "2", "--ship")
    out = r.output  # type: ignore[attr-defined]
    assert r.exit_code == 0 and "order packed" in out and "SO-1 shipped: 2 box(es), 5 unit(s)" in out, out  # type: ignore[attr-defined]

    r = wsms(db_url, "shipments", "list", "-f", "json")
    rows = json.loads(r.output)  # type: ignore[attr-defined]
    assert [(x["order"], x["status"], x["boxes"]) for x in rows] == [("SO-1", "shipped", 2)]
    tracking = rows[0]["tracking"].split()[0]
    r = wsms(db_url, "shipments", "show", tracking)
    assert r.exit_code == 0 and "3 × P1" in r.output and "2 × P2" in r.output  # type: ignore[attr-defined]
    r = wsms(db_url, "shipments", "track", tracking)
    assert r.exit_code == 0 and "label issued" in r.output  # type: ignore[attr-defined]
    r = wsms(db_url, "shipments", "reprint", tracking, "--reason", "torn")
    assert r.exit_code == 1 and "no printer configured" in r.output  # type: ignore[attr-defined]
    r = wsms(db_url, "shipments", "reprint", tracking, "--printer", f"file://{tmp_path}/labels.zpl")
    assert r.exit_code == 0 and "label queued: job 1" in r.output  # type: ignore[attr-defined]
