"""TUI start to first screen (PRODUCT.md: ≤ 1 s), next to a bare Textual app measured in the same run.

    .venv/bin/python -m bench.tui_start [--runs N]

Each run starts a fresh interpreter on a real pseudo-terminal (80×24) and stops the clock when the
first screen's text arrives on the terminal: wsms's login screen on a migrated SQLite database, and,
as the baseline, a Textual app that shows one line of text (the floor any Textual app pays).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from pathlib import Path

from wsms_tui.db.engine import make_engine
from wsms_tui.db.migrate import upgrade

BARE_APP = (
    "from textual.app import App\nfrom textual.widgets import Static\n"
    "class A(App):\n    def compose(self):\n        yield Static('bare textual ready')\n"
    "A().run()\n"
)


def time_to_text(argv: list[str], marker: bytes, env: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds from spawning ``argv`` on a new pty until ``marker`` appears in its output."""
    pid, fd = pty.fork()
    if pid == 0:  # child
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    start = time.perf_counter()
    seen = b""
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            seen = (seen + chunk)[-8192:]
            # Textual may draw the marker with styling codes between characters: compare the text only
            plain = bytes(b for b in seen if 32 <= b < 127)
            if marker in plain:
                return time.perf_counter() - start
        raise RuntimeError(f"{marker!r} never appeared: {seen[-300:]!r}")
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.tui_start", description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'start.db'}"
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        env = {**os.environ, "TERM": "xterm-256color", "WSMS_DATABASE_URL": url, "LANG": "C.UTF-8",
               "WSMS_CONFIG": str(Path(tmp) / "none.toml")}
        wsms = [time_to_text([sys.executable, "-m", "wsms_tui", "run"], b"log in", env) for _ in range(args.runs)]
        bare = [time_to_text([sys.executable, "-c", BARE_APP], b"bare textual ready", env)
                for _ in range(args.runs)]
    w, b = statistics.median(wsms), statistics.median(bare)
    print(f"{'benchmark':<34} {'wsms':>9} {'baseline':>9} {'×':>6}  baseline is")
    print(f"{'TUI start to first screen (median)':<34} {w:>8.3f}s {b:>8.3f}s {w / b:>6.2f}  "
          f"a bare Textual app showing one line ({args.runs} runs each; target ≤ 1 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
