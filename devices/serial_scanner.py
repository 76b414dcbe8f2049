"""Serial / USB-CDC barcode scanners: a reader thread over any pyserial ``serial_for_url`` URL.

``SerialScanner`` is a ``threading.Thread`` (the toolong model): it owns the port, reads with a
timeout (never a blocking read: the app must always be able to exit), frames the byte stream into
scans with ``ScanFramer``, and hands each one to a callback as a ``Scan``. When the device goes
away (unplugged, ``SerialException``, ``OSError``) it closes the port, reports "waiting for
device" and tries again with a growing back-off, so scanning resumes after a replug without a
restart. ``stop()`` sets the exit event; ``join()`` returns within about one read timeout.

Callbacks run on the reader thread: a Textual app wraps them in ``post_message`` / ``call_from_thread``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import serial

from wsms_tui.devices.scan import Scan

DEFAULT_MAX_SCAN = 4096


@dataclass(frozen=True)
class CutScan(Scan):
    """A scan longer than the framer's limit: ``raw`` holds its first ``max_length`` bytes and
    ``dropped`` counts the bytes thrown away up to the next terminator. Never a valid barcode."""

    dropped: int = 0


@dataclass(frozen=True)
class Framing:
    """How a scanner marks the end (and optionally the start) of a scan.

    * ``terminators``: any of these bytes ends a scan (default CR and LF, so CR, LF and CRLF all
      work; empty frames between them are dropped). Add ``b"\\t"`` for scanners that send Tab.
    * ``prefix``: if set, a scan starts only after it; bytes before it are line noise and dropped.
    * ``suffix``: if set, it ends a scan (terminators still end one too).
    * ``aim``: take a leading AIM symbology identifier (``]C1``, ``]d2``, ``]E0``, ``]Q3`` …) off the
      data into ``Scan.symbology``.
    * ``max_length``: a longer scan is cut at this many bytes and delivered as ``CutScan``.
    """

    terminators: bytes = b"\r\n"
    prefix: bytes = b""
    suffix: bytes = b""
    aim: bool = True
    max_length: int = DEFAULT_MAX_SCAN


def split_aim(raw: bytes) -> tuple[str | None, bytes]:
    """``(b"]C1", rest)`` when ``raw`` starts with an AIM symbology identifier, else ``(None, raw)``."""
    if len(raw) >= 3 and raw[0:1] == b"]" and chr(raw[1]).isalpha() and chr(raw[2]).isalnum() and raw[1] < 128 \
            and raw[2] < 128:
        return raw[:3].decode("ascii"), raw[3:]
    return None, raw


class ScanFramer:
    """Turns a byte stream into frames. Pure and bounded: memory never exceeds ``max_length``
    (plus the prefix/suffix length) however the bytes arrive."""

    def __init__(self, framing: Framing | None = None) -> None:
        self.framing = framing or Framing()
        if self.framing.max_length < 1:
            raise ValueError("max_length must be positive")
        self._buf = bytearray()
        self._in_frame = not self.framing.prefix
        self._dropping = 0  # > 0 while skipping the tail of an over-long scan
        self._cut: bytes | None = None

    def reset(self) -> None:
        """Forget a partial scan (after the device went away mid-scan)."""
        self._buf.clear()
        self._in_frame = not self.framing.prefix
        self._dropping = 0
        self._cut = None

    @property
    def pending(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> list[tuple[bytes, int]]:
        """Feed bytes; return the completed frames as ``(raw, dropped)`` (``dropped > 0``: cut)."""
        out: list[tuple[bytes, int]] = []
        f = self.framing
        term = f.terminators
        for b in data:
            if not self._in_frame:
                self._buf.append(b)
                if self._buf.endswith(f.prefix):
                    self._buf.clear()
                    self._in_frame = True
                elif len(self._buf) > len(f.prefix):
                    del self._buf[: len(self._buf) - len(f.prefix)]
                continue
            if self._cut is not None:  # skipping the rest of an over-long scan
                self._buf.append(b)
                ended = b in term or (f.suffix and self._buf.endswith(f.suffix))
                if ended:
                    out.append((self._cut, self._dropping))
                    self._cut, self._dropping = None, 0
                    self._buf.clear()
                    self._in_frame = not f.prefix
                else:
                    self._dropping += 1
                    if len(self._buf) > len(f.suffix):
                        del self._buf[: len(self._buf) - len(f.suffix)]
                continue
            if b in term:
                self._emit(bytes(self._buf), out)
                continue
            self._buf.append(b)
            if f.suffix and self._buf.endswith(f.suffix):
                self._emit(bytes(self._buf[: -len(f.suffix)]), out)
                continue
            if len(self._buf) > f.max_length + len(f.suffix):
                self._cut = bytes(self._buf[: f.max_length])
                self._dropping = len(self._buf) - f.max_length
                self._buf.clear()
        return out

    def _emit(self, frame: bytes, out: list[tuple[bytes, int]]) -> None:
        self._buf.clear()
        self._in_frame = not self.framing.prefix
        if frame:
            out.append((frame, 0))

    def make_scan(self, raw: bytes, dropped: int, source: str) -> Scan:
        symbology, data = split_aim(raw) if self.framing.aim else (None, raw)
        if dropped:
            return CutScan(data, source, symbology, dropped=dropped)
        return Scan(data, source, symbology)


class ScannerState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting for device"
    STOPPED = "stopped"


@dataclass(frozen=True)
class ScannerStatus:
    state: ScannerState
    url: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.url}: {self.state.value}" + (f" ({self.detail})" if self.detail else "")


ScanCallback = Callable[[Scan], None]
StatusCallback = Callable[[ScannerStatus], None]


class SerialScanner(threading.Thread):
    """Reads scans from one serial URL until ``stop()``; reconnects by itself.

    ``on_scan`` gets every framed ``Scan`` (``CutScan`` for an over-long one) in order;
    ``on_status`` gets each change of ``ScannerStatus``. An exception raised by a callback is
    reported as status detail and does not kill the reader."""

    def __init__(self, url: str, on_scan: ScanCallback, on_status: StatusCallback | None = None, *,
                 framing: Framing | None = None, baudrate: int = 9600, read_timeout: float = 0.1,
                 backoff_min: float = 0.1, backoff_max: float = 5.0, source: str | None = None,
                 serial_options: dict[str, Any] | None = None) -> None:
        super().__init__(name=f"scanner {url}", daemon=True)
        if read_timeout is None or read_timeout <= 0:
            raise ValueError("a serial scanner needs a positive read timeout")
        self.url = url
        self.source = source or url
        self.on_scan = on_scan
        self.on_status = on_status
        self.framer = ScanFramer(framing)
        self.baudrate = baudrate
        self.read_timeout = read_timeout
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.serial_options = serial_options or {}
        self._exit = threading.Event()
        self._port: serial.SerialBase | None = None
        self._last_status: ScannerStatus | None = None
        self.scans = 0
        self.reconnects = 0

    # ---------------------------------------------------------------- control

    def stop(self) -> None:
        self._exit.set()

    def __enter__(self) -> SerialScanner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.join(5)

    @property
    def status(self) -> ScannerStatus | None:
        return self._last_status

    # ---------------------------------------------------------------- thread

    def run(self) -> None:
        delay = self.backoff_min
        try:
            while not self._exit.is_set():
                self._report(ScannerState.CONNECTING)
                try:
                    self._port = serial.serial_for_url(self.url, baudrate=self.baudrate,
                                                       timeout=self.read_timeout, **self.serial_options)
                except (serial.SerialException, OSError, ValueError) as exc:
                    self._report(ScannerState.WAITING, _short(exc))
                    self._exit.wait(delay)
                    delay = min(self.backoff_max, delay * 2)
                    continue
                delay = self.backoff_min
                self._report(ScannerState.CONNECTED)
                try:
                    self._read_until_error(self._port)
                except (serial.SerialException, OSError) as exc:
                    self.reconnects += 1
                    lost = f", a partial scan of {self.framer.pending} bytes dropped" if self.framer.pending else ""
                    self._report(ScannerState.WAITING, _short(exc) + lost)
                    self._exit.wait(delay)
                finally:
                    self.framer.reset()
                    self._close()
        finally:
            self._close()
            self._report(ScannerState.STOPPED)

    def _read_until_error(self, port: serial.SerialBase) -> None:
        while not self._exit.is_set():
            waiting = port.in_waiting
            data = port.read(min(max(1, waiting), 65536))  # returns after read_timeout at most
            if not data:
                continue
            for raw, dropped in self.framer.feed(data):
                scan = self.framer.make_scan(raw, dropped, self.source)
                self.scans += 1
                try:
                    self.on_scan(scan)
                except Exception as exc:  # a broken consumer must not stop the reader
                    self._report(ScannerState.CONNECTED, f"scan callback failed: {exc!r}")

    def _close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):  # closing a vanished device can fail; it is gone either way
                port.close()

    def _report(self, state: ScannerState, detail: str = "") -> None:
        status = ScannerStatus(state, self.url, detail)
        if status == self._last_status:
            return
        self._last_status = status
        if self.on_status is not None:
            with contextlib.suppress(Exception):  # a status display error must not stop the reader
                self.on_status(status)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "…"
