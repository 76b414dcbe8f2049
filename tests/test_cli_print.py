"""``wsms print label …|queue|reprint|mark-printed|cancel|serve`` on SQLite and PostgreSQL, printing to a
fake Zebra on a loopback TCP port (named printers from a config file)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from tests.helpers import seed_basic
from wsms_tui.database import Database
from wsms_tui.db.models import PrintJob as PrintJobRow
from wsms_tui.devices.simulator import TcpPrinterServer, ZebraSimulator

runner = CliRunner()


@pytest.fixture
def sim() -> ZebraSimulator:
    return ZebraSimulator()


@pytest.fixture
def server(sim: ZebraSimulator) -> Iterator[TcpPrinterServer]:
    with TcpPrinterServer(sim) as s:
        yield s


@pytest.fixture
def seeded(db_url: str, tmp_path: Path, server: TcpPrinterServer, monkeypatch: pytest.MonkeyPatch) -> str:
    """The database seeded (seed_basic), and a config file naming printer dock1 (the fake Zebra)."""
    database = Database.open(db_url)
    seed_basic(database)
    database.dispose()
    config = tmp_path / "config.toml"
    config.write_text(f'printer = "dock1"\ngs1_company_prefix = "0614141"\n'
                      f'[printers.dock1]\nurl = "{server.url}"\n', encoding="utf-8")
    monkeypatch.setenv("WSMS_CONFIG", str(config))
    for var in ("WSMS_PRINTER", "WSMS_PRINTERS", "WSMS_SPOOL_IN_DESK"):
        monkeypatch.delenv(var, raising=False)
    return db_url


def wsms(db_url: str, *args: str) -> object:
    return runner.invoke(app_(), ["--db", db_url, *args])


def app_() -> object:
    from wsms_tui.cli import app

    return app


def queue(db_url: str, *args: str) -> list[dict[str, object]]:
    r = wsms(db_url, "print", "queue", "--format", "json", *args)
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    return json.loads(r.stdout)  # type: ignore[attr-defined,no-any-return]


def test_label_preview_queue_serve_reprint(seeded: str, sim: ZebraSimulator) -> None:
    r = wsms(seeded, "print", "label", "location", "A-01", "--preview")
    assert r.exit_code == 0 and "[Code 128] %LOC:A-01:" in r.stdout  # type: ignore[attr-defined]
    assert queue(seeded) == []  # a preview queues nothing

    r = wsms(seeded, "print", "label", "product", "P1", "--count", "12", "--key", "k1")
    assert r.exit_code == 0 and "queued as job 1 on dock1" in r.stdout, r.output  # type: ignore[attr-defined]
    r = wsms(seeded, "print", "label", "product", "P1", "--count", "12", "--key", "k1")
    assert "job 1 " in r.stdout and len(queue(seeded)) == 1  # type: ignore[attr-defined]  # same key, same job
    r = wsms(seeded, "print", "label", "location", "A-02", "--printer", "dock1")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    jobs = queue(seeded, "--status", "queued")
    assert [(j["id"], j["kind"], j["printer"], j["user"]) for j in jobs] == [
        (2, "location", "dock1", "system"), (1, "product", "dock1", "system")]

    r = wsms(seeded, "print", "serve", "--until-empty", "--status-timeout", "0.5", "--seconds", "20")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    assert "labels printed: dock1=2" in r.stderr  # type: ignore[attr-defined]
    assert len(sim.labels) == 2 and b"(01)04006381333931(37)12" in sim.labels[0]
    assert [j["status"] for j in queue(seeded)] == ["printed", "printed"]

    r = wsms(seeded, "print", "reprint", "1")
    assert r.exit_code == 2  # --reason is required
    r = wsms(seeded, "print", "reprint", "1", "--reason", "")
    assert r.exit_code == 1 and "say why" in r.stderr  # type: ignore[attr-defined]
    r = wsms(seeded, "print", "reprint", "1", "--reason", "smudged", "--format", "json")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    redo = json.loads(r.stdout)[0]  # type: ignore[attr-defined]
    assert redo["reprint_of"] == 1 and redo["reason"] == "smudged" and redo["status"] == "queued"
    r = wsms(seeded, "print", "serve", "dock1", "--until-empty", "--status-timeout", "0.5", "--seconds", "20")
    assert r.exit_code == 0 and len(sim.labels) == 3 and sim.labels[2] == sim.labels[0]  # type: ignore[attr-defined]


def test_lpn_held_then_decided_cancel_and_clear_errors(seeded: str, sim: ZebraSimulator) -> None:
    r = wsms(seeded, "print", "label", "lpn", "--reference", "PO-7", "--contents", "40 × P1")
    assert r.exit_code == 0, r.output  # type: ignore[attr-defined]
    r = wsms(seeded, "print", "label", "lpn", "--preview")
    assert r.exit_code == 0 and "(00) 006141410000000029" in r.stdout  # type: ignore[attr-defined]
    # an uncertain print of the SSCC label (e.g. wsms stopped mid-job): held, never resent by the spool
    database = Database.open(seeded)
    database.write(lambda s: s.execute(update(PrintJobRow).where(PrintJobRow.id == 1).values(status="printing")))
    database.dispose()
    r = wsms(seeded, "print", "serve", "--until-empty", "--status-timeout", "0.5", "--seconds", "20")
    assert r.exit_code == 0 and sim.labels == []  # type: ignore[attr-defined]
    assert queue(seeded, "--status", "needs_decision")[0]["id"] == 1
    r = wsms(seeded, "print", "mark-printed", "1", "--reason", "seen on the pallet")
    assert r.exit_code == 0 and "printed" in r.stdout  # type: ignore[attr-defined]
    r = wsms(seeded, "print", "mark-printed", "1")
    assert r.exit_code == 1 and "not waiting for a decision" in r.stderr  # type: ignore[attr-defined]

    r = wsms(seeded, "print", "label", "location", "A-03", "--key", "c")
    assert r.exit_code == 0  # type: ignore[attr-defined]
    r = wsms(seeded, "print", "cancel", "2", "--reason", "wrong bin")
    assert r.exit_code == 0 and "cancelled" in r.stdout  # type: ignore[attr-defined]
    r = wsms(seeded, "print", "cancel", "2")
    assert r.exit_code == 1 and "already" in r.stderr  # type: ignore[attr-defined]

    for args, message in ((("label", "product", "NOPE"), "no product with SKU NOPE"),
                          (("label", "location", "Z-9", "--preview"), "no location Z-9"),
                          (("label", "location", "A-01", "--printer", "nowhere"), "no printer nowhere"),
                          (("reprint", "99", "--reason", "because"), "no print job 99"),
                          (("serve", "nowhere"), "no printer nowhere")):
        r = wsms(seeded, "print", *args)
        assert r.exit_code == 1, (args, r.output)  # type: ignore[attr-defined]
        assert r.stderr.startswith("wsms: ") and message in r.stderr  # type: ignore[attr-defined]
        assert "Traceback" not in r.output  # type: ignore[attr-defined]


def test_serve_stops_cleanly_on_ctrl_c(seeded: str) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "wsms_tui", "--db", seeded, "print", "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline() for _ in range(2)]  # "serving dock1 …" and the worker's first status
        assert any("serving dock1" in line for line in lines), lines
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert time.monotonic() - started < 5 and "stopped; labels printed: dock1=0" in err and "Traceback" not in err
