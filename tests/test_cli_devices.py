"""``wsms devices …``, ``wsms print test`` and ``wsms printer status`` against real ptys and sockets."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wsms_tui.cli import app
from wsms_tui.devices.simulator import TcpPrinterServer, ZebraSimulator

runner = CliRunner()


def test_ports_lists_as_json() -> None:
    r = runner.invoke(app, ["devices", "ports", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert r.stdout.lstrip().startswith("[")


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
