"""``wsms devices …``, ``wsms print test`` and ``wsms printer status`` against real ptys and sockets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wsms_tui.cli import app
from wsms_tui.devices.simulator import TcpPrinterServer, ZebraSimulator

runner = CliRunner()


PORT_KEYS = ["device", "description", "vid", "pid", "serial_number", "hwid"]  # docs/DEVICES.md


def test_ports_lists_as_json() -> None:
    """Whatever this machine has: a JSON list of objects with exactly the documented keys, all strings."""
    r = runner.invoke(app, ["devices", "ports", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert isinstance(rows, list)
    for row in rows:
        assert list(row) == PORT_KEYS and all(isinstance(v, str) for v in row.values())
        assert row["device"]


@pytest.fixture
def pty_port(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A real pseudo-terminal listed as a USB-CDC scanner: pyserial's list_ports does not see ptys (it reads
    sysfs), so ``comports`` is made to return the pty with a USB VID/PID, product and serial number."""
    from serial.tools import list_ports, list_ports_common

    master, slave = os.openpty()
    device = os.ttyname(slave)
    info = list_ports_common.ListPortInfo(device, skip_link_detection=True)
    info.vid, info.pid, info.serial_number = 0x05E0, 0x1200, "S123"
    info.description = "Symbol Bar Code Scanner"
    info.hwid = info.usb_info()
    monkeypatch.setattr(list_ports, "comports", lambda *a, **k: [info])
    try:
        yield device
    finally:
        os.close(master)
        os.close(slave)


def test_ports_lists_a_pty_scanner_as_json_csv_and_table(pty_port: str) -> None:
    r = runner.invoke(app, ["devices", "ports", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == [{"device": pty_port, "description": "Symbol Bar Code Scanner", "vid": "05e0",
                                     "pid": "1200", "serial_number": "S123",
                                     "hwid": "USB VID:PID=05E0:1200 SER=S123"}]
    r = runner.invoke(app, ["devices", "ports", "--format", "csv"])
    assert r.exit_code == 0, r.output
    assert [line.split(",")[:5] for line in r.stdout.splitlines()[1:]] == [
        [pty_port, "Symbol Bar Code Scanner", "05e0", "1200", "S123"]]
    r = runner.invoke(app, ["devices", "ports", "--format", "table"])
    assert r.exit_code == 0, r.output
    for header in ("Device", "Description", "VID", "PID", "Serial", "Hardware id"):
        assert header in r.stdout
    assert pty_port in r.stdout and "05e0" in r.stdout and "no serial ports" not in r.output


def test_ports_without_any_port_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from serial.tools import list_ports

    monkeypatch.setattr(list_ports, "comports", lambda *a, **k: [])
    r = runner.invoke(app, ["devices", "ports", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == []
    r = runner.invoke(app, ["devices", "ports"])
    assert r.exit_code == 0, r.output
    assert "no serial ports found (network printers are socket://HOST:9100)" in r.stderr


def test_print_test_and_status_against_the_fake_printer() -> None:
    sim = ZebraSimulator()
    with TcpPrinterServer(sim) as srv:
        r = runner.invoke(app, ["printer", "status", srv.url, "--timeout", "1"])
        assert r.exit_code == 0 and "ready" in r.stdout and "paper out=0" in r.stdout
        r = runner.invoke(app, ["print", "test", srv.url, "--dpi", "300"])
        assert r.exit_code == 0, r.output
        assert len(sim.labels) == 1 and b"wsms test label" in sim.labels[0] and b"^PW1200" in sim.labels[0]
        sim.add_faults("head_open=2")
        r = runner.invoke(app, ["printer", "status", srv.url])
        assert r.exit_code == 1 and "not ready: head open" in r.stdout
        r = runner.invoke(app, ["print", "test", srv.url])
        assert r.exit_code == 1 and "head open" in r.stderr and len(sim.labels) == 1


def test_print_test_to_a_missing_printer_is_one_clear_line() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = runner.invoke(app, ["print", "test", f"socket://127.0.0.1:{port}"])
    assert r.exit_code == 1 and r.stderr.startswith("wsms: ") and "Traceback" not in r.output


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals")
def test_scan_monitor_prints_raw_symbology_fields_and_verdicts() -> None:
    master, slave = os.openpty()

    def scanner() -> None:
        # type once the monitor has opened and configured the port (pyserial turns canonical mode off,
        # then empties the input buffer): a fixed wait lost the scans on a loaded machine
        deadline = time.monotonic() + 10
        while termios.tcgetattr(slave)[3] & termios.ICANON and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        os.write(master, b"]C10104006381333932\x1d10AB\r\n]E04006381333931\r\n")

    t = threading.Thread(target=scanner)
    t.start()
    try:
        r = runner.invoke(app, ["devices", "scan-monitor", os.ttyname(slave), "--count", "2", "--seconds", "10"])
    finally:
        t.join()
        os.close(master)
        os.close(slave)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "raw       0104006381333932<GS>10AB" in out and "symbology ]C1" in out
    assert "(01) GTIN" in out and "GTIN check digit wrong: expected 1, got 2" in out
    assert "symbology ]E0" in out and "kind      gtin" in out


def test_simulate_printer_command_saves_labels_and_follows_faults(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "faults.txt"
    script.write_text("paper_out=1  # the first status says paper out\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "wsms_tui", "devices", "simulate-printer", "--listen",
                             f"127.0.0.1:{port}", "--out", str(tmp_path / "out"), "--fault", str(script),
                             "--seconds", "30"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"socket://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        status = None
        while time.monotonic() < deadline:
            status = runner.invoke(app, ["printer", "status", url, "--timeout", "1"])
            if "paper out" in status.stdout:
                break
            time.sleep(0.1)
        assert status is not None and "not ready: paper out" in status.stdout
        r = runner.invoke(app, ["print", "test", url])
        assert r.exit_code == 0, r.output
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["label-00001.zpl"]
    assert "label 1:" in out and "1 label(s) received" in err
