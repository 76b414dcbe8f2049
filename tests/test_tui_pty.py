"""One scanner burst through a real pseudo-terminal: bytes -> Textual's input parser -> ScanInput.

Pilot posts key events directly; this test writes raw bytes (GS as 0x1D, CR terminators) into a pty
that a real Textual app reads, the way a keyboard-wedge scanner's keys reach wsms over SSH.
"""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

GS = "\x1d"

APP = textwrap.dedent('''
    import sys
    from pathlib import Path
    from textual.app import App, ComposeResult
    from wsms_tui.screens.widgets.scan_input import ScanInput

    OUT = Path(sys.argv[1])
    WANT = int(sys.argv[2])
    INTERKEY = float(sys.argv[3]) if len(sys.argv) > 3 else 0

    class ScanApp(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.scans: list[str] = []

        def compose(self) -> ComposeResult:
            yield ScanInput(gs_substitutes=("<GS>",), interkey_ms=INTERKEY)

        def on_mount(self) -> None:
            OUT.with_suffix(".ready").write_text("ready")

        def on_scan_input_scanned(self, message: ScanInput.Scanned) -> None:
            self.scans.append(message.value.replace("\\x1d", "[GS]"))
            if len(self.scans) >= WANT:
                OUT.write_text("\\n".join(self.scans) + "\\n")
                self.exit()

    ScanApp().run()
''')


def run_scan_app(tmp_path: Path, n_scans: int, type_scans: Callable[[int], None], timeout: float,
                 interkey_ms: float = 0) -> list[str]:
    """Start the scan app on a real pty, let ``type_scans(master_fd)`` type into it, return its scans."""
    script = tmp_path / "scan_app.py"
    script.write_text(APP)
    out = tmp_path / "scans.txt"
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none"}
    proc = subprocess.Popen([sys.executable, str(script), str(out), str(n_scans), str(interkey_ms)], stdin=slave,
                            stdout=slave, stderr=slave, env=env, start_new_session=True,
                            cwd=Path(__file__).parent.parent)
    os.close(slave)
    try:
        deadline = time.monotonic() + timeout
        while not out.with_suffix(".ready").exists() and time.monotonic() < deadline:
            _drain(master)
        time.sleep(0.3)
        type_scans(master)
        while proc.poll() is None and time.monotonic() < deadline:
            _drain(master)
        assert proc.poll() is not None, "the app did not receive every scan in time"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)
    return out.read_text().splitlines()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
def test_scanner_burst_through_a_real_pty(tmp_path: Path) -> None:
    codes = [f"0104006381333931{GS}10LOT{i:02d}{GS}17301231" for i in range(30)]

    def burst(master: int) -> None:
        os.write(master, "".join(c + "\r" for c in codes).encode())  # one burst, as a wedge types it

    assert run_scan_app(tmp_path, len(codes), burst, 30) == [c.replace(GS, "[GS]") for c in codes]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
def test_100_wedge_scans_at_2_ms_per_character_with_gs_substitutes(tmp_path: Path) -> None:
    """The issue's burst: 100 scans typed at 2 ms per character, GS sent as the text ``<GS>`` (what many
    wedge scanners type instead of 0x1D): all 100 arrive whole, in order, with GS restored."""
    codes = [f"0104006381333931<GS>10L{i:03d}<GS>3712" for i in range(100)]

    def typed(master: int) -> None:
        for ch in "".join(c + "\r" for c in codes):
            os.write(master, ch.encode())
            time.sleep(0.002)
            _drain(master, 0)

    assert run_scan_app(tmp_path, len(codes), typed, 90) == [c.replace("<GS>", "[GS]") for c in codes]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
def test_a_scanner_without_terminator_is_framed_by_inter_key_timing(tmp_path: Path) -> None:
    """A wedge scanner set to send no suffix: runs typed at 2 ms per key, a pause between scans; with
    inter-key timing on, each run arrives as one scan (here 150 ms, so a loaded test machine's stalls
    stay below it), and a code typed by hand in between, 400 ms per key, waits for its Enter."""
    codes = [f"0104006381333931<GS>10L{i:03d}" for i in range(8)]

    def typed(master: int) -> None:
        for n, code in enumerate(codes):
            for ch in code:
                os.write(master, ch.encode())
                time.sleep(0.002)
            _pause(master, 0.6)
            if n == 3:
                for ch in "A-01\r":
                    os.write(master, ch.encode())
                    _pause(master, 0.4)

    want = [c.replace("<GS>", "[GS]") for c in codes]
    assert run_scan_app(tmp_path, len(codes) + 1, typed, 60, interkey_ms=150) == want[:4] + ["A-01"] + want[4:]


def _pause(fd: int, seconds: float) -> None:
    """Type nothing for ``seconds``, draining the app's output meanwhile."""
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        _drain(fd, left)


def _drain(fd: int, timeout: float = 0.05) -> None:
    """Read and discard the app's screen output so it never blocks on a full pty buffer."""
    import select

    ready, _, _ = select.select([fd], [], [], timeout)
    if ready:
        try:
            os.read(fd, 65536)
        except OSError:
            time.sleep(0.05)
