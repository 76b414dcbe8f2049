"""``wsms devices …``, ``wsms print …`` and ``wsms printer …``: scanners and printers from a shell.

No database and no Textual here: these commands talk to devices only, so they work on a desk
before wsms is set up (a scanner doctor, a printer check, a fake printer to try things with).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from wsms_tui.i18n import _
from wsms_tui.output import Format, emit

devices_app = typer.Typer(help="Scanners and printers: list ports, watch a scanner, simulate a printer.",
                          no_args_is_help=True)
print_app = typer.Typer(help="Print labels.", no_args_is_help=True)
printer_app = typer.Typer(help="Label printers.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"wsms: {message}", err=True)
    return typer.Exit(code)


def _bytes_shown(raw: bytes) -> str:
    """Raw bytes with control characters made visible: GS as <GS>, others as \\xNN."""
    out = []
    for b in raw:
        if b == 0x1D:
            out.append("<GS>")
        elif 32 <= b < 127:
            out.append(chr(b))
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out)


@devices_app.command("ports")
def ports(fmt: Annotated[Format, typer.Option("--format", "-f", help="table, csv or json")] = Format.table) -> None:
    """List serial ports (USB-CDC scanners and printers show up here)."""
    from serial.tools import list_ports

    rows = [{"device": p.device, "description": p.description or "", "hwid": p.hwid or "",
             "vid": f"{p.vid:04x}" if p.vid is not None else "", "pid": f"{p.pid:04x}" if p.pid is not None else "",
             "serial_number": p.serial_number or ""} for p in sorted(list_ports.comports(), key=lambda p: p.device)]
    emit(rows, [("device", _("Device")), ("description", _("Description")), ("vid", "VID"), ("pid", "PID"),
                ("serial_number", _("Serial")), ("hwid", _("Hardware id"))], fmt, title=_("Serial ports"))
    if not rows and fmt == Format.table:
        typer.echo(_("no serial ports found (network printers are socket://HOST:9100)"), err=True)


@devices_app.command("scan-monitor")
def scan_monitor(
    url: Annotated[str, typer.Argument(help="scanner URL: /dev/ttyACM0, socket://HOST:PORT, rfc2217://…")],
    baudrate: Annotated[int, typer.Option(help="serial speed")] = 9600,
    terminator: Annotated[str, typer.Option(help="what ends a scan: cr, lf, crlf (any of CR/LF), tab")] = "crlf",
    prefix: Annotated[str, typer.Option(help="a prefix the scanner sends before each scan")] = "",
    suffix: Annotated[str, typer.Option(help="a suffix the scanner sends after each scan")] = "",
    count: Annotated[int, typer.Option(help="stop after N scans (0 = until Ctrl+C)")] = 0,
    seconds: Annotated[float, typer.Option(help="stop after this many seconds (0 = until Ctrl+C)")] = 0,
) -> None:
    """Scanner doctor: print each scan's raw bytes, symbology, GS1 fields and check-digit verdicts."""
    from wsms_tui.barcodes import interpret
    from wsms_tui.devices.scan import Scan
    from wsms_tui.devices.serial_scanner import CutScan, Framing, ScannerStatus, SerialScanner

    terms = {"cr": b"\r", "lf": b"\n", "crlf": b"\r\n", "tab": b"\t"}
    if terminator not in terms:
        raise _fail(_("--terminator is one of: cr, lf, crlf, tab"))
    framing = Framing(terminators=terms[terminator], prefix=prefix.encode(), suffix=suffix.encode())
    done = threading.Event()
    seen = [0]
    lock = threading.Lock()

    def on_scan(scan: Scan) -> None:
        result = interpret(scan.raw, scan.symbology)
        with lock:
            seen[0] += 1
            lines = [f"#{seen[0]} {scan.at:%H:%M:%S.%f}"[:-3],
                     f"  raw       {_bytes_shown(scan.raw)}  ({len(scan.raw)} bytes)",
                     "  symbology " + (scan.symbology or _("(none sent: enable AIM ids on the scanner)"))]
            if isinstance(scan, CutScan):
                lines.append("  " + _("CUT: longer than the limit, {n} bytes dropped").format(n=scan.dropped))
            lines.append(f"  kind      {result.kind}")
            for f in result.fields:
                verdict = f"  [{f.verdict}]" if f.verdict else ""
                lines.append(f"  ({f.ai}) {f.title:<16} {f.value}{verdict}")
            if result.kind == "gtin":
                lines.append("  GTIN check digit OK")
            if result.reason:
                lines.append("  " + _("problem") + f"   {result.reason}")
            typer.echo("\n".join(lines))
            if count and seen[0] >= count:
                done.set()

    def on_status(status: ScannerStatus) -> None:
        typer.echo(f"-- {status}", err=True)

    scanner = SerialScanner(url, on_scan, on_status, framing=framing, baudrate=baudrate)
    scanner.start()
    typer.echo(_("watching {url}; Ctrl+C ends").format(url=url), err=True)
    deadline = time.monotonic() + seconds if seconds else None
    try:
        while not done.is_set() and (deadline is None or time.monotonic() < deadline):
            done.wait(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        scanner.stop()
        scanner.join(5)
    typer.echo(_("{n} scan(s)").format(n=seen[0]), err=True)


@devices_app.command("simulate-printer")
def simulate_printer(
    listen: Annotated[str, typer.Option(help="HOST:PORT to listen on (port 0 picks a free one)")] = "127.0.0.1:9100",
    out: Annotated[Path | None, typer.Option(help="save each label as DIR/label-NNNNN.zpl")] = None,
    fault: Annotated[str | None, typer.Option(help="fault script, inline (paper_out=3,silence=1) or a file")] = None,
    seconds: Annotated[float, typer.Option(help="stop after this many seconds (0 = until Ctrl+C)")] = 0,
) -> None:
    """A fake Zebra on TCP: answers ~HS, saves each ^XA…^XZ label, follows a fault script."""
    from wsms_tui.devices.simulator import FaultScriptError, TcpPrinterServer, ZebraSimulator, parse_fault_script

    host, _sep, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit():
        raise _fail(_("--listen takes HOST:PORT, e.g. 127.0.0.1:9100"))
    faults: dict[str, int] = {}
    if fault:
        text = Path(fault).read_text(encoding="utf-8") if Path(fault).is_file() else fault
        try:
            faults = parse_fault_script(text)
        except FaultScriptError as exc:
            raise _fail(str(exc)) from None

    def announce(label: bytes) -> None:
        typer.echo(_("label {n}: {size} bytes").format(n=len(sim.labels), size=len(label)))

    sim = ZebraSimulator(out_dir=out, faults=faults, on_label=announce)
    try:
        server = TcpPrinterServer(sim, host.strip("[]"), int(port_text))
    except OSError as exc:
        raise _fail(_("cannot listen on {a}: {e}").format(a=listen, e=exc)) from None
    server.start()
    typer.echo(_("fake Zebra printer at {url}{out}; Ctrl+C ends").format(
        url=server.url, out=_(", labels in {d}").format(d=out) if out else ""), err=True)
    sys.stdout.flush()
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    deadline = time.monotonic() + seconds if seconds else None
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            stop.wait(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        server.join(5)
    typer.echo(_("{n} label(s) received, {q} status queries").format(n=len(sim.labels), q=sim.queries), err=True)


@print_app.command("test")
def print_test(
    printer: Annotated[str, typer.Argument(help="printer URL: socket://HOST:9100, /dev/ttyUSB0, file:///…, lp://Q")],
    dpi: Annotated[int, typer.Option(help="printer resolution: 203 or 300")] = 203,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the printer's ~HS answer")] = 2.0,
) -> None:
    """Send a test label (checks ~HS first; confirms with a second ~HS)."""
    from wsms_tui.devices.printer import PrinterError, print_once
    from wsms_tui.labels import LabelError, test_label

    try:
        label = test_label(printer, dpi=dpi)
        status = print_once(printer, label.payload, timeout=timeout)
    except (PrinterError, LabelError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(_("test label sent to {p}: {s}").format(p=printer, s=status.describe()))


@printer_app.command("status")
def printer_status(
    printer: Annotated[str, typer.Argument(help="printer URL")],
    timeout: Annotated[float, typer.Option(help="seconds to wait for the ~HS answer")] = 2.0,
) -> None:
    """Ask the printer's ~HS host status and print the verdict. Exit 1 when not ready."""
    from wsms_tui.devices.printer import PrinterError, open_printer

    try:
        p = open_printer(printer, timeout=timeout)
    except PrinterError as exc:
        raise _fail(str(exc)) from None
    try:
        status = p.query_status()
    finally:
        p.close()
    typer.echo(f"{printer}: {status.describe()}")
    if p.can_report_status:
        if status.answered:
            typer.echo(f"  paper out={int(status.paper_out)} head open={int(status.head_open)} "
                       f"paused={int(status.paused)} ribbon out={int(status.ribbon_out)} "
                       f"buffer full={int(status.buffer_full)} formats queued={status.formats_in_buffer} "
                       f"labels remaining={status.labels_remaining}")
        if not status.ready:
            raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``devices``, ``print`` and ``printer`` to the ``wsms`` app (one line in cli.py)."""
    app.add_typer(devices_app, name="devices")
    app.add_typer(print_app, name="print")
    app.add_typer(printer_app, name="printer")
