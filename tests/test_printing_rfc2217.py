"""A label printer behind ser2net: ``rfc2217://host:port`` through the project's own transport.

A loopback RFC 2217 server (pyserial's server side, ``serial.rfc2217.PortManager``, bridged like
pyserial's ``examples/rfc2217_server.py``) runs in a thread: a TCP socket on 127.0.0.1 on one side,
the slave of a pseudo-terminal on the other, the fake Zebra on the pty master. The transport must
finish the Telnet/RFC 2217 option negotiation, get a ``~HS`` answer and send one label that the
fake printer receives exactly once.

A pty has no modem lines: ``TIOCMGET``/``TIOCMBIS`` fail with ENOTTY. PortManager reads the lines
(``check_modem_lines``) as soon as the client accepts RFC 2217, from inside ``filter()``; an
exception there kills the filter generator and drops the rest of the negotiation, and the client
gives up after 3 s ("Remote does not seem to support RFC2217 or BINARY mode"). The bridge's port
therefore reports the lines as low and ignores DTR/RTS/BREAK, as a three-wire serial cable would.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
import serial.rfc2217

from wsms_tui.devices.printer import open_printer, print_once
from wsms_tui.devices.simulator import FdPrinterServer, LoopbackServer, ZebraSimulator

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals"),
    # pyserial 3.5's RFC 2217 client still calls Thread.setDaemon()/setName()
    pytest.mark.filterwarnings("ignore:set(Daemon|Name)\\(\\) is deprecated:DeprecationWarning"),
]

log = logging.getLogger("tests.rfc2217_bridge")


def label(n: int) -> bytes:
    return f"^XA^CI28^FO20,20^A0N,30,30^FH^FDrfc2217 job {n}^FS^XZ".encode()


class ThreeWirePort(serial.Serial):
    """A serial port without modem lines (a pty, or TX/RX/GND only): the lines read low and
    DTR/RTS/BREAK changes are logged and ignored instead of raising ENOTTY."""

    @property
    def cts(self) -> bool:
        return False

    @property
    def dsr(self) -> bool:
        return False

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return False

    def _update_dtr_state(self) -> None:
        try:
            super()._update_dtr_state()
        except OSError as exc:
            log.debug("DTR ignored: %s", exc)

    def _update_rts_state(self) -> None:
        try:
            super()._update_rts_state()
        except OSError as exc:
            log.debug("RTS ignored: %s", exc)

    def _update_break_state(self) -> None:
        try:
            super()._update_break_state()
        except OSError as exc:
            log.debug("BREAK ignored: %s", exc)


class _Connection:
    """What PortManager writes to: Telnet answers and escaped serial data, one writer at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()

    def write(self, data: bytes) -> None:
        with self.lock:
            self.sock.sendall(data)


class Rfc2217Bridge(LoopbackServer):
    """ser2net in miniature: one TCP client at a time bridged to ``port`` with RFC 2217 control."""

    def __init__(self, port: serial.Serial) -> None:
        super().__init__("rfc2217 bridge")
        self.port = port
        self.errors: list[str] = []

    @property
    def url(self) -> str:
        return f"rfc2217://{self.address[0]}:{self.address[1]}"

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.settimeout(0.05)
        manager = serial.rfc2217.PortManager(self.port, _Connection(conn), logger=log)
        done = threading.Event()
        reader = threading.Thread(
            target=self._serial_to_socket, args=(manager, done), name="rfc2217 bridge reader", daemon=True
        )
        reader.start()
        try:
            while not self._exit.is_set() and not done.is_set():
                try:
                    data = conn.recv(4096)
                except TimeoutError:
                    manager.check_modem_lines()
                    continue
                if not data:
                    break
                # filter() is a generator: it answers the Telnet options only while it is iterated
                self.port.write(b"".join(manager.filter(data)))
                manager.check_modem_lines()
        except Exception as exc:  # recorded for the test's assertions, not swallowed silently
            self.errors.append(f"socket→serial: {exc!r}")
            log.exception("socket→serial")
        finally:
            done.set()
            reader.join(5)

    def _serial_to_socket(self, manager: serial.rfc2217.PortManager, done: threading.Event) -> None:
        try:
            while not done.is_set():
                data = self.port.read(self.port.in_waiting or 1)  # read timeout 0.05 s
                if data:
                    manager.connection.write(b"".join(manager.escape(data)))
        except OSError as exc:
            if not done.is_set():
                self.errors.append(f"serial→socket: {exc!r}")
                log.exception("serial→socket")
        finally:
            done.set()


@contextlib.contextmanager
def printer_behind_ser2net(sim: ZebraSimulator) -> Iterator[Rfc2217Bridge]:
    """The fake Zebra on a pty master, the pty slave served over RFC 2217 on 127.0.0.1."""
    master, slave = os.openpty()
    try:
        port = ThreeWirePort(os.ttyname(slave), baudrate=9600, timeout=0.05)
        try:
            with FdPrinterServer(sim, master), Rfc2217Bridge(port) as bridge:
                yield bridge
        finally:
            port.close()
    finally:
        os.close(master)
        os.close(slave)


def test_status_and_one_label_through_rfc2217(tmp_path: Path) -> None:
    sim = ZebraSimulator(out_dir=tmp_path / "labels")
    with printer_behind_ser2net(sim) as bridge:
        printer = open_printer(bridge.url, timeout=2)
        try:
            printer.open()  # the Telnet/RFC 2217 negotiation: fails after 3 s when unanswered
            status = printer.query_status()
        finally:
            printer.close()
        assert status.answered, status.detail
        assert status.ready, status.describe()
        assert sim.labels == []

        after = print_once(bridge.url, label(1), timeout=2)
        assert after.answered and after.ready, after.describe()
        assert bridge.connections == 2
        assert bridge.errors == []
    assert sim.labels == [label(1)], "exactly that one label"
    assert sorted(p.name for p in (tmp_path / "labels").iterdir()) == ["label-00001.zpl"]
    assert (tmp_path / "labels" / "label-00001.zpl").read_bytes() == label(1)
    assert sim.discarded == 0 and sim.cancels == 0
