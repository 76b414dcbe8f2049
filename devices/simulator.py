"""A fake Zebra printer: answers ``~HS``, honours ``~JX``, saves each complete ``^XA…^XZ`` label.

It listens on TCP (``serve_tcp``: a network printer's raw port 9100) or talks over a file
descriptor such as a pseudo-terminal master (``serve_fd``: a serial printer), so printing can be
tried and tested without hardware. A *fault script* makes it misbehave in the ways real printers
do, so tests can prove that a job prints exactly once:

    paper_out=3            the next 3 ~HS answers say "paper out"
    head_open=2            … "head open";  also pause=N, ribbon_out=N, buffer_full=N
    silence=2              the next 2 ~HS queries get no answer at all
    disconnect_mid_job=1   the next job is cut: half of it arrives, then the connection drops
                           (the printer keeps the half format, as a Zebra does: ~HS reports
                           "partial format in progress" until ~JX cancels it; without ~JX the
                           next format would be glued to it)
    silence_after_job=1    the next job prints, then the following ~HS gets no answer

Steps are separated by commas, semicolons or new lines; ``#`` starts a comment. Each counter
counts down independently.
"""

from __future__ import annotations

import os
import re
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

FAULTS = ("paper_out", "head_open", "pause", "ribbon_out", "buffer_full", "silence", "disconnect_mid_job",
          "silence_after_job")


class FaultScriptError(ValueError):
    pass


def parse_fault_script(text: str) -> dict[str, int]:
    """``"paper_out=3, silence=1"`` → ``{"paper_out": 3, "silence": 1}``."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        for step in re.split(r"[,;]", line):
            step = step.strip()
            if not step:
                continue
            name, _, n = step.partition("=")
            name = name.strip().replace("-", "_")
            if name not in FAULTS:
                raise FaultScriptError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
            n = n.strip() or "1"
            if not n.isdigit():
                raise FaultScriptError(f"{name}: the count must be a whole number, got {n!r}")
            counts[name] = counts.get(name, 0) + int(n)
    return counts


@dataclass
class ZebraSimulator:
    """The printer's brain, shared by all its connections. Thread-safe."""

    out_dir: Path | None = None
    faults: dict[str, int] = field(default_factory=dict)
    label_length: int = 1218
    labels: list[bytes] = field(default_factory=list)
    queries: int = 0
    cancels: int = 0
    discarded: int = 0
    on_label: Callable[[bytes], None] | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._pending_silence_after_job = 0
        self._partial: bytes = b""  # a format cut by a dropped connection, kept until ~JX (or glued)
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)

    def add_faults(self, script: str | dict[str, int]) -> None:
        counts = parse_fault_script(script) if isinstance(script, str) else script
        with self._lock:
            for k, v in counts.items():
                self.faults[k] = self.faults.get(k, 0) + v

    def _take(self, name: str) -> bool:
        if self.faults.get(name, 0) > 0:
            self.faults[name] -= 1
            return True
        return False

    def keep_partial(self, data: bytes) -> None:
        """A connection ended inside a format: the printer keeps the half (like a real Zebra)."""
        with self._lock:
            self._partial = bytes(data)

    def take_partial(self) -> bytes:
        """The half format a new connection continues (empty when there is none)."""
        with self._lock:
            data, self._partial = self._partial, b""
            return data

    @property
    def partial_pending(self) -> bool:
        with self._lock:
            return bool(self._partial)

    def host_status(self, partial: bool = False) -> bytes | None:
        """The ``~HS`` answer now, or None for silence (``partial``: a format is in progress)."""
        with self._lock:
            self.queries += 1
            if self._pending_silence_after_job > 0:
                self._pending_silence_after_job -= 1
                return None
            if self._take("silence"):
                return None
            paper = int(self._take("paper_out"))
            head = int(self._take("head_open"))
            pause = int(self._take("pause"))
            ribbon = int(self._take("ribbon_out"))
            full = int(self._take("buffer_full"))
        one = f"030,{paper},{pause},{self.label_length:04d},000,{full},0,{int(partial)},000,0,0,0"
        two = f"001,0,{head},{ribbon},0,2,6,0,00000000,1,000"
        three = "1234,0"
        return b"".join(b"\x02" + s.encode() + b"\x03\r\n" for s in (one, two, three))

    def take_disconnect(self) -> bool:
        with self._lock:
            return self._take("disconnect_mid_job")

    def save(self, label: bytes) -> None:
        with self._lock:
            self.labels.append(label)
            n = len(self.labels)
            if self._take("silence_after_job"):
                self._pending_silence_after_job += 1
        if self.out_dir is not None:
            (self.out_dir / f"label-{n:05d}.zpl").write_bytes(label)
        if self.on_label is not None:
            self.on_label(label)


class _Stream:
    """Parses one connection's bytes: ``~`` commands anywhere, ``^XA…^XZ`` formats."""

    def __init__(self, sim: ZebraSimulator, reply: Callable[[bytes], None]) -> None:
        self.sim = sim
        self.reply = reply
        self.buf = bytearray(sim.take_partial())  # a half format left by a dropped connection
        self.in_format = bool(self.buf)

    def feed(self, data: bytes) -> bool:
        """Process bytes; False when the connection must be dropped (a disconnect fault)."""
        self.buf += data
        while True:
            if not self.in_format:
                i_fmt = self.buf.find(b"^XA")
                i_cmd = self.buf.find(b"~")
                if i_cmd != -1 and (i_fmt == -1 or i_cmd < i_fmt):
                    if len(self.buf) < i_cmd + 3:
                        return True
                    self._control(bytes(self.buf[i_cmd:i_cmd + 3]))
                    del self.buf[:i_cmd + 3]
                    continue
                if i_fmt == -1:
                    if len(self.buf) > 2:
                        del self.buf[:-2]
                    return True
                del self.buf[:i_fmt]
                self.in_format = True
                if self.sim.take_disconnect():
                    end = self.buf.find(b"^XZ")
                    limit = end if end != -1 else len(self.buf)
                    del self.buf[max(3, limit // 2):]  # half of the format arrived, the rest is lost
                    return False
            end = self.buf.find(b"^XZ")
            tilde = self.buf.find(b"~")
            if tilde != -1 and (end == -1 or tilde < end) and len(self.buf) >= tilde + 3:
                cmd = bytes(self.buf[tilde:tilde + 3])
                if cmd in (b"~HS", b"~JX", b"~JA"):
                    del self.buf[tilde:tilde + 3]
                    self._control(cmd)
                    continue
            if end == -1:
                if len(self.buf) > 1_000_000:  # a runaway format: drop it
                    self.buf.clear()
                    self.in_format = False
                    self.sim.discarded += 1
                return True
            self.sim.save(bytes(self.buf[:end + 3]))
            del self.buf[:end + 3]
            self.in_format = False

    def _control(self, cmd: bytes) -> None:
        if cmd == b"~HS":
            answer = self.sim.host_status(partial=self.in_format)
            if answer is not None:
                self.reply(answer)
        elif cmd in (b"~JX", b"~JA"):
            self.sim.cancels += 1
            if self.in_format:
                self.sim.discarded += 1
            self.buf.clear()
            self.in_format = False

    def close(self) -> None:
        if self.in_format and self.buf:
            self.sim.keep_partial(bytes(self.buf))  # the printer waits for the rest of the format
        self.buf.clear()
        self.in_format = False


class LoopbackServer(threading.Thread):
    """A TCP server on a loopback port serving one connection at a time (``concurrent``: each in its own
    thread): the accept loop of the fake printer and of test bridges; subclasses write ``_serve(conn)``."""

    def __init__(self, name: str, host: str = "127.0.0.1", port: int = 0, *, concurrent: bool = False) -> None:
        super().__init__(name=name, daemon=True)
        self._sock = socket.create_server((host, port), reuse_port=False)
        self._sock.settimeout(0.1)
        self.address: tuple[str, int] = self._sock.getsockname()[:2]
        self._exit = threading.Event()
        self.concurrent = concurrent
        self.connections = 0

    def stop(self) -> None:
        self._exit.set()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.join(5)

    def run(self) -> None:
        threads: list[threading.Thread] = []
        try:
            while not self._exit.is_set():
                try:
                    conn, _ = self._sock.accept()
                except TimeoutError:
                    continue
                except OSError:
                    break
                self.connections += 1
                if self.concurrent:
                    threads.append(threading.Thread(target=self._serve_and_close, args=(conn,), daemon=True))
                    threads[-1].start()
                else:
                    self._serve_and_close(conn)
        finally:
            self._sock.close()
            for t in threads:
                t.join(2)

    def _serve_and_close(self, conn: socket.socket) -> None:
        with conn:
            self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        raise NotImplementedError


class TcpPrinterServer(LoopbackServer):
    """Serves a ``ZebraSimulator`` on a TCP port, one connection at a time (like a real printer;
    ``concurrent`` serves every connection at once, for two workers side by side on one printer)."""

    def __init__(self, sim: ZebraSimulator, host: str = "127.0.0.1", port: int = 0, *,
                 concurrent: bool = False) -> None:
        super().__init__("zebra simulator", host, port, concurrent=concurrent)
        self.sim = sim

    @property
    def url(self) -> str:
        return f"socket://{self.address[0]}:{self.address[1]}"

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # answers go out at once, like a printer
        stream = _Stream(self.sim, conn.sendall)
        try:
            while not self._exit.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                if not stream.feed(data):
                    conn.shutdown(socket.SHUT_RDWR)
                    break
        except OSError:
            pass
        finally:
            stream.close()


class FdPrinterServer(threading.Thread):
    """Serves a ``ZebraSimulator`` over a file descriptor (e.g. a pty master): a serial printer.
    A disconnect fault here loses the rest of the data read with the cut job (a cable pulled and
    put back: a pty cannot be unplugged from inside); the half format stays in progress."""

    def __init__(self, sim: ZebraSimulator, fd: int) -> None:
        super().__init__(name="zebra simulator (fd)", daemon=True)
        self.sim = sim
        self.fd = fd
        self._exit = threading.Event()

    def stop(self) -> None:
        self._exit.set()

    def __enter__(self) -> FdPrinterServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.join(5)

    def run(self) -> None:
        stream = _Stream(self.sim, lambda b: os.write(self.fd, b))
        while not self._exit.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self.fd, 65536)
            except OSError:  # the slave side is not open (EIO) or the fd was closed
                self._exit.wait(0.05)
                continue
            if not data:
                self._exit.wait(0.05)
                continue
            if not stream.feed(data):
                stream.close()
                stream = _Stream(self.sim, lambda b: os.write(self.fd, b))
