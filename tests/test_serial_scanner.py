"""The serial scanner reader on real pseudo-terminals: framing, AIM ids, garbage, unplug/replug.

pyserial opens the pty slave path (as it would /dev/ttyACM0); the test writes to the master as
the scanner. Unplug = close the master (the slave reads fail); replug = a new pty pair behind the
same symlink, which the reader reopens by itself.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wsms_tui.devices.scan import Scan, split_aim_id
from wsms_tui.devices.serial_scanner import (
    CutScan,
    Framing,
    ScanFramer,
    ScannerState,
    ScannerStatus,
    SerialScanner,
    split_aim,
)

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals")


class Pty:
    """A pty pair; ``path`` is a symlink to the slave so it can be re-pointed on replug."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = -1
        self.slave = -1
        self.plug()

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tmp = self.link.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self.slave))
        tmp.replace(self.link)

    def unplug(self) -> None:
        os.close(self.master)
        os.close(self.slave)
        self.link.unlink()

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class Collector:
    def __init__(self) -> None:
        self.scans: queue.Queue[Scan] = queue.Queue()
        self.statuses: list[ScannerStatus] = []
        self.state_changed = threading.Condition()

    def on_scan(self, scan: Scan) -> None:
        self.scans.put(scan)

    def on_status(self, status: ScannerStatus) -> None:
        with self.state_changed:
            self.statuses.append(status)
            self.state_changed.notify_all()

    def wait_state(self, state: ScannerState, after: int = 0, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        with self.state_changed:
            while not any(s.state == state for s in self.statuses[after:]):
                left = deadline - time.monotonic()
                assert left > 0, f"never reached {state}: {self.statuses}"
                self.state_changed.wait(left)

    def take(self, n: int, timeout: float = 5.0) -> list[Scan]:
        return [self.scans.get(timeout=timeout) for _ in range(n)]


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[Pty]:
    p = Pty(tmp_path / "scanner")
    yield p
    p.close()


def start(pty: Pty, framing: Framing | None = None) -> tuple[SerialScanner, Collector]:
    c = Collector()
    s = SerialScanner(str(pty.link), c.on_scan, c.on_status, framing=framing, read_timeout=0.05,
                      backoff_min=0.05, backoff_max=0.2)
    s.start()
    c.wait_state(ScannerState.CONNECTED)
    return s, c


def test_scans_are_framed_in_order_with_aim_ids(pty: Pty) -> None:
    scanner, c = start(pty)
    try:
        pty.write(b"]C10101234567890128\x1d10LOT1\r\n]E04006381333931\r")
        pty.write(b"]d20101234567890128\n")
        pty.write(b"PLAIN-CODE\r\n\r\n")  # empty frames between terminators are dropped
        pty.write(b"]Q3%CMD:UNDO")
        pty.write(b"\r\n")  # the terminator in a separate chunk
        got = c.take(5)
    finally:
        scanner.stop()
        scanner.join(2)
    assert [(s.symbology, s.raw) for s in got] == [
        ("]C1", b"0101234567890128\x1d10LOT1"), ("]E0", b"4006381333931"), ("]d2", b"0101234567890128"),
        (None, b"PLAIN-CODE"), ("]Q3", b"%CMD:UNDO")]
    assert all(s.source == str(pty.link) for s in got)
    assert not scanner.is_alive()
    assert c.statuses[-1].state == ScannerState.STOPPED


def test_ten_kilobytes_of_garbage_is_cut_and_reading_goes_on(pty: Pty) -> None:
    scanner, c = start(pty, Framing(max_length=4096))
    try:
        junk = bytes((i * 7 + 33) % 256 for i in range(10_000)).replace(b"\r", b"x").replace(b"\n", b"y")
        pty.write(junk + b"\r\n")
        pty.write(b"4006381333931\r\n")
        cut, good = c.take(2)
    finally:
        scanner.stop()
        scanner.join(2)
    assert isinstance(cut, CutScan)
    assert len(cut.raw) + (3 if cut.symbology else 0) == 4096
    assert cut.dropped == 10_000 - 4096
    assert not isinstance(good, CutScan) and good.raw == b"4006381333931"


def test_prefix_and_suffix_framing(pty: Pty) -> None:
    scanner, c = start(pty, Framing(terminators=b"", prefix=b"\x02", suffix=b"\x03"))
    try:
        pty.write(b"noise\x02]C1ABC\x03\x02DEF\x03trailing")
        got = c.take(2)
    finally:
        scanner.stop()
        scanner.join(2)
    assert [(s.symbology, s.raw) for s in got] == [("]C1", b"ABC"), (None, b"DEF")]


def test_unplug_and_replug_resumes_without_restart(pty: Pty) -> None:
    scanner, c = start(pty)
    try:
        pty.write(b"FIRST\r\n")
        assert c.take(1)[0].raw == b"FIRST"
        n = len(c.statuses)
        pty.write(b"HALF-A-SC")  # unplugged mid-scan: the partial scan is dropped, not glued on
        time.sleep(0.1)
        pty.unplug()
        c.wait_state(ScannerState.WAITING, after=n)
        time.sleep(0.3)  # a few failed reopen attempts with back-off
        n = len(c.statuses)
        pty.plug()
        c.wait_state(ScannerState.CONNECTED, after=n)
        pty.write(b"SECOND\r\n")
        assert c.take(1)[0].raw == b"SECOND"
        assert scanner.reconnects == 1
        assert scanner.is_alive()
    finally:
        scanner.stop()
        scanner.join(2)
    assert not scanner.is_alive()
    waiting = [s for s in c.statuses if s.state == ScannerState.WAITING]
    assert waiting and "partial scan of 9 bytes dropped" in waiting[0].detail


def test_a_missing_device_waits_and_stop_is_prompt(tmp_path: Path) -> None:
    c = Collector()
    s = SerialScanner(str(tmp_path / "nothing-here"), c.on_scan, c.on_status, read_timeout=0.05,
                      backoff_min=0.05, backoff_max=0.1)
    s.start()
    c.wait_state(ScannerState.WAITING)
    t = time.monotonic()
    s.stop()
    s.join(2)
    assert not s.is_alive() and time.monotonic() - t < 1


def test_loop_url_and_a_failing_callback() -> None:
    """``loop://`` is a pyserial URL too; a consumer that raises does not kill the reader."""
    got: list[Scan] = []

    def on_scan(scan: Scan) -> None:
        got.append(scan)
        if scan.raw == b"BOOM":
            raise RuntimeError("consumer bug")

    s = SerialScanner("loop://", on_scan, read_timeout=0.05)
    s.start()
    deadline = time.monotonic() + 5
    while s._port is None and time.monotonic() < deadline:  # noqa: SLF001 - wait for the port
        time.sleep(0.01)
    port = s._port  # noqa: SLF001
    assert port is not None
    port.write(b"BOOM\rAFTER\r")
    while len(got) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    s.stop()
    s.join(2)
    assert [g.raw for g in got] == [b"BOOM", b"AFTER"]


def test_framer_is_bounded_byte_by_byte() -> None:
    f = ScanFramer(Framing(max_length=16))
    out = []
    for b in b"x" * 100_000 + b"\nOK\n":
        out += f.feed(bytes([b]))
        assert f.pending <= 17
    assert out == [(b"x" * 16, 100_000 - 16), (b"OK", 0)]


def test_split_aim() -> None:
    assert split_aim(b"]C1abc") == ("]C1", b"abc")
    assert split_aim(b"]\xff1abc") == (None, b"]\xff1abc")
    assert split_aim(b"]C") == (None, b"]C")


def test_split_aim_id_of_text_takes_ascii_ids_only() -> None:
    """The text form (wedge scans, ``Scan.from_text``): ``]`` + ASCII letter + ASCII letter or digit."""
    assert split_aim_id("]Q3%CMD:UNDO") == ("]Q3", "%CMD:UNDO")
    assert split_aim_id("]e0010950110153000310ABC") == ("]e0", "010950110153000310ABC")
    assert split_aim_id("]é1X") == ("", "]é1X")
    assert split_aim_id("]C") == ("", "]C")
    assert split_aim_id("]1AB") == ("", "]1AB")
    ean = Scan.from_text("]E04006381333931", "kbd")
    assert (ean.raw, ean.symbology) == (b"4006381333931", "]E0")
    assert Scan.from_text("]é1X", "kbd").symbology is None
