"""Label printers named by URL, the Zebra ``~HS`` host status, and whole-format sending.

URLs:

* anything pyserial's ``serial_for_url`` takes: ``/dev/ttyUSB0``, ``/dev/ttyACM0``,
  ``socket://10.0.0.5:9100`` (a network printer's raw port), ``rfc2217://host:2217`` (ser2net),
  ``loop://``. These talk both ways: ``~HS`` is asked before every job.
* ``file:///path/labels.zpl``: each job is appended to the file (a printer you can read).
* ``lp://QUEUE``: each job is piped to ``lp -d QUEUE -o raw`` (a CUPS raw queue).

The last two cannot answer ``~HS``; they are taken as always ready (``PrinterStatus.answered`` is
False and ``detail`` says so).

A printer that does not answer ``~HS`` within the timeout is *not ready* (a Zebra with the head
open or out of paper may stay silent). Only whole ``^XA … ^XZ`` formats are sent; when a write
times out half-way, ``~JX`` (cancel the partially received format) is sent so the printer does not
glue the half format to the next one (STYLE.md pitfall 12).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

import serial


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark for translation, translate later"
    """Marks text the UI translates when it shows it (``printing.printer_state_text``); devices/ imports
    nothing of ours, so not wsms_tui.i18n."""
    return message


STX, ETX = b"\x02", b"\x03"
HOST_STATUS = b"~HS"
CANCEL_PARTIAL = b"~JX"


class PrinterError(Exception):
    """A printer problem, worded for a person."""


class PrinterUnavailable(PrinterError):
    """The printer could not be reached: nothing of the job was sent."""


class AmbiguousWrite(PrinterError):
    """Sending started but was not confirmed: the printer may or may not print the job.

    ``possibly_sent`` is how many leading bytes of the data may have reached the printer (None:
    maybe all of it). When they hold no ``^XZ``, no format of the job can have been completed."""

    def __init__(self, message: str, possibly_sent: int | None = None) -> None:
        super().__init__(message)
        self.possibly_sent = possibly_sent


class BadFormat(PrinterError):
    """The job is not a sequence of whole ``^XA … ^XZ`` formats."""


@dataclass(frozen=True)
class PrinterStatus:
    """The printer's state from a ``~HS`` reply (or the lack of one)."""

    answered: bool
    paper_out: bool = False
    paused: bool = False
    head_open: bool = False
    ribbon_out: bool = False
    buffer_full: bool = False
    partial_format: bool = False
    corrupt_ram: bool = False
    under_temperature: bool = False
    over_temperature: bool = False
    label_length: int | None = None
    formats_in_buffer: int | None = None
    labels_remaining: int | None = None
    thermal_transfer: bool | None = None
    detail: str = ""
    raw: bytes = field(default=b"", repr=False)

    @property
    def problems(self) -> list[str]:
        names = [("paper_out", N_("paper out")), ("head_open", N_("head open")), ("ribbon_out", N_("ribbon out")),
                 ("paused", N_("paused")), ("buffer_full", N_("buffer full")), ("corrupt_ram", N_("RAM corrupt")),
                 ("over_temperature", N_("head too hot"))]
        return [text for attr, text in names if getattr(self, attr)]

    @property
    def ready(self) -> bool:
        return self.answered and not self.problems

    def describe(self) -> str:
        if not self.answered:
            return f"not ready: {self.detail or 'no answer to ~HS'}"
        if self.problems:
            return "not ready: " + ", ".join(self.problems)
        extra = f"; {self.detail}" if self.detail else ""
        queued = f", {self.formats_in_buffer} format(s) queued" if self.formats_in_buffer else ""
        return f"ready{queued}{extra}"


ASSUMED_READY = PrinterStatus(answered=False, detail="this transport cannot report status")


def parse_host_status(reply: bytes) -> PrinterStatus:
    """Parse the three ``<STX>…<ETX><CR><LF>`` strings of a ``~HS`` reply.

    String 1 ``aaa,b,c,dddd,eee,f,g,h,iii,j,k,l``: b paper out, c pause, dddd label length (dots),
    eee formats in the receive buffer, f buffer full, h partial format in progress, j corrupt RAM,
    k under temperature, l over temperature. String 2 ``mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www``: o head
    up/open, p ribbon out, q thermal transfer mode, uuuuuuuu labels remaining in the batch.
    String 3 is the password and RAM size (ignored). Raises ``ValueError`` on a malformed reply."""
    parts = re.findall(rb"\x02([^\x02\x03]*)\x03", reply)
    if len(parts) < 2:
        raise ValueError(f"a ~HS reply has three STX…ETX strings, got {len(parts)}")
    one = parts[0].decode("ascii", "replace").strip().split(",")
    two = parts[1].decode("ascii", "replace").strip().split(",")
    if len(one) < 12 or len(two) < 9:
        raise ValueError("a ~HS reply is too short")

    def flag(v: str) -> bool:
        return v.strip() not in ("", "0")

    def num(v: str) -> int | None:
        v = v.strip()
        return int(v) if v.isdigit() else None

    return PrinterStatus(
        answered=True, paper_out=flag(one[1]), paused=flag(one[2]), label_length=num(one[3]),
        formats_in_buffer=num(one[4]), buffer_full=flag(one[5]), partial_format=flag(one[7]),
        corrupt_ram=flag(one[9]), under_temperature=flag(one[10]), over_temperature=flag(one[11]),
        head_open=flag(two[2]), ribbon_out=flag(two[3]), thermal_transfer=flag(two[4]),
        labels_remaining=num(two[8]), raw=bytes(reply))


_FORMAT = re.compile(rb"\^XA.*?\^XZ", re.S)


def split_formats(payload: bytes) -> list[bytes]:
    """The whole ``^XA … ^XZ`` formats of a job, in order (leading ``~`` downloads stay with the
    first). Raises ``BadFormat`` when anything but whitespace is outside a format or one is cut."""
    formats: list[bytes] = []
    pos = 0
    head = b""
    for m in _FORMAT.finditer(payload):
        between = payload[pos:m.start()]
        if between.strip():
            if formats or not between.lstrip().startswith(b"~"):
                raise BadFormat("the job has data outside ^XA…^XZ formats")
            head = between
        chunk = m.group(0)
        if b"^XA" in chunk[3:]:
            raise BadFormat("a format starts (^XA) before the previous one ended (^XZ)")
        formats.append(head + chunk)
        head = b""
        pos = m.end()
    if payload[pos:].strip():
        raise BadFormat("the job ends inside a format (no ^XZ)" if b"^XA" in payload[pos:]
                        else "the job has data after the last ^XZ")
    if not formats:
        raise BadFormat("the job holds no ^XA…^XZ format")
    return formats


class PrinterTransport(Protocol):
    url: str
    can_report_status: bool

    def open(self) -> None: ...
    def close(self) -> None: ...
    def send(self, data: bytes) -> None: ...
    def query_status(self) -> PrinterStatus: ...
    def cancel_partial(self) -> None: ...


class SerialPrinter:
    """A printer on any pyserial URL (serial, USB-CDC, ``socket://``, ``rfc2217://``, ``loop://``)."""

    can_report_status = True

    def __init__(self, url: str, *, baudrate: int = 9600, timeout: float = 2.0, write_timeout: float = 5.0,
                 chunk: int = 4096) -> None:
        self.url = url
        self.baudrate = baudrate
        self.timeout = timeout
        self.write_timeout = write_timeout
        self.chunk = chunk
        self._port: serial.SerialBase | None = None

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def open(self) -> None:
        if self._port is not None:
            return
        options: dict[str, object] = {"baudrate": self.baudrate, "timeout": min(self.timeout, 0.05)}
        if not self.url.startswith("rfc2217:"):  # pyserial's RFC 2217 client refuses a write time-out
            options["write_timeout"] = self.write_timeout
        try:
            self._port = serial.serial_for_url(self.url, **options)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise PrinterUnavailable(f"cannot open {self.url}: {exc}") from None
        sock = getattr(self._port, "_socket", None)  # pyserial's socket:// leaves Nagle on: ~HS would wait
        if sock is not None:                          # ~40 ms for the delayed ACK of the job before it
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with contextlib.suppress(Exception):  # the device may already be gone
                port.close()

    def _require(self) -> serial.SerialBase:
        if self._port is None:
            self.open()
        assert self._port is not None
        return self._port

    def send(self, data: bytes) -> None:
        """Write all of ``data``. A failure after the first byte raises ``AmbiguousWrite`` (after
        trying ``~JX`` and closing the port); one before it raises ``PrinterUnavailable``."""
        port = self._require()
        sent = 0
        attempted = 0  # bytes handed to the port so far, the chunk being written included
        try:
            while sent < len(data):
                piece = data[sent:sent + self.chunk]
                attempted = sent + len(piece)
                n = port.write(piece)
                sent += n if n else 0
                if not n:
                    raise serial.SerialTimeoutException("the printer accepted no data")
            attempted = len(data)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            if isinstance(exc, serial.SerialTimeoutException):
                self.cancel_partial()
            self.close()
            if sent == 0 and not isinstance(exc, serial.SerialTimeoutException):
                raise PrinterUnavailable(f"{self.url}: {exc}") from None
            raise AmbiguousWrite(f"{self.url}: sending stopped after {sent} of {len(data)} bytes: {exc}",
                                 possibly_sent=attempted) from None

    def cancel_partial(self) -> None:
        """Send ``~JX`` (cancel a partially received format); errors are ignored."""
        port = self._port
        if port is None:
            return
        try:
            old = port.write_timeout
            port.write_timeout = 0.5
            port.write(CANCEL_PARTIAL)
            port.write_timeout = old
        except Exception:  # best effort: the port may be the thing that failed
            pass

    def query_status(self) -> PrinterStatus:
        """Ask ``~HS``; ``answered=False`` when nothing complete comes back within ``timeout``."""
        try:
            port = self._require()
        except PrinterUnavailable as exc:
            return PrinterStatus(answered=False, detail=str(exc))
        try:
            port.reset_input_buffer()  # a stale reply must not be read as this one
            port.write(HOST_STATUS)
            port.flush()
            reply = bytearray()
            deadline = time.monotonic() + self.timeout
            while reply.count(ETX) < 3 and time.monotonic() < deadline:
                chunk = port.read(max(1, port.in_waiting))  # read timeout ≤ 0.05 s
                if chunk:
                    reply += chunk
                    if len(reply) > 4096:
                        break
        except (serial.SerialException, OSError) as exc:
            self.close()
            return PrinterStatus(answered=False, detail=f"connection lost: {exc}")
        if reply.count(ETX) < 2:
            return PrinterStatus(answered=False, detail=f"no answer to ~HS within {self.timeout:g} s")
        try:
            return parse_host_status(bytes(reply))
        except ValueError as exc:
            return PrinterStatus(answered=False, detail=f"unreadable ~HS answer: {exc}", raw=bytes(reply))


class FilePrinter:
    """``file:///path``: append each job to a file (created with its folders)."""

    can_report_status = False

    def __init__(self, url: str, path: Path) -> None:
        self.url = url
        self.path = path

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        pass

    def send(self, data: bytes) -> None:
        try:
            self.open()
            with self.path.open("ab") as f:
                f.write(data)
                f.flush()
        except OSError as exc:
            raise PrinterUnavailable(f"cannot write {self.path}: {exc}") from None

    def query_status(self) -> PrinterStatus:
        return ASSUMED_READY

    def cancel_partial(self) -> None:
        pass


class LpPrinter:
    """``lp://QUEUE``: pipe each job to ``lp -d QUEUE -o raw`` (CUPS raw queue)."""

    can_report_status = False

    def __init__(self, url: str, queue: str, *, timeout: float = 30.0, lp: str = "lp") -> None:
        self.url = url
        self.queue = queue
        self.timeout = timeout
        self.lp = lp

    def open(self) -> None:
        if shutil.which(self.lp) is None:
            raise PrinterUnavailable(f"`{self.lp}` is not installed (CUPS client): cannot print to {self.url}")

    def close(self) -> None:
        pass

    def send(self, data: bytes) -> None:
        self.open()
        try:
            p = subprocess.run([self.lp, "-d", self.queue, "-o", "raw"], input=data, capture_output=True,
                               timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise AmbiguousWrite(f"`lp -d {self.queue}` did not finish within {self.timeout:g} s") from None
        except OSError as exc:
            raise PrinterUnavailable(f"cannot run lp: {exc}") from None
        if p.returncode != 0:
            msg = p.stderr.decode("utf-8", "replace").strip() or f"exit code {p.returncode}"
            raise PrinterUnavailable(f"lp -d {self.queue}: {msg}")

    def query_status(self) -> PrinterStatus:
        return ASSUMED_READY

    def cancel_partial(self) -> None:
        pass


def open_printer(url: str, *, timeout: float = 2.0, write_timeout: float = 5.0,
                 baudrate: int = 9600) -> PrinterTransport:
    """The transport for a printer URL (not opened yet: ``open()``/``send()`` connect)."""
    if not url:
        raise PrinterError("no printer URL given")
    if url.startswith("file:"):
        parsed = urlparse(url)
        path = unquote(parsed.path)
        if not path:
            raise PrinterError(f"{url}: a file printer URL looks like file:///path/to/labels.zpl")
        return FilePrinter(url, Path(path))
    if url.startswith("lp:"):
        queue = url[len("lp:"):].lstrip("/")
        if not queue or "/" in queue or queue.startswith("-"):
            raise PrinterError(f"{url}: a CUPS queue URL looks like lp://QUEUE")
        return LpPrinter(url, queue)
    return SerialPrinter(url, timeout=timeout, write_timeout=write_timeout, baudrate=baudrate)


def print_once(url: str, payload: bytes, *, timeout: float = 2.0, write_timeout: float = 5.0) -> PrinterStatus:
    """Check status, send whole formats, confirm with a second ``~HS``: the one-shot path of
    ``wsms print test``. Raises ``PrinterError`` subclasses; returns the confirming status."""
    split_formats(payload)
    printer = open_printer(url, timeout=timeout, write_timeout=write_timeout)
    try:
        printer.open()
        status = printer.query_status()
        if printer.can_report_status and not status.ready:
            raise PrinterUnavailable(f"{url}: {status.describe()}")
        printer.send(payload)
        if not printer.can_report_status:
            return status
        after = printer.query_status()
        if not after.answered:
            raise AmbiguousWrite(f"{url}: sent, but the printer did not confirm ({after.detail})")
        return after
    finally:
        printer.close()
