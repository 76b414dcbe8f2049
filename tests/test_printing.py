"""Printers, the print worker and the fake Zebra: over a loopback TCP port and over a real pty.

Fault scripts (paper out, head open, silence, disconnect mid-job, silence after a job) must end with
every job printed exactly once, or held for a person when the printer cannot tell whether it printed:
no job whose sending was not confirmed is ever sent again on a guess.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wsms_tui.devices.printer import (
    AmbiguousWrite,
    BadFormat,
    PrinterStatus,
    PrinterUnavailable,
    open_printer,
    parse_host_status,
    print_once,
    split_formats,
)
from wsms_tui.devices.simulator import (
    FaultScriptError,
    FdPrinterServer,
    TcpPrinterServer,
    ZebraSimulator,
    parse_fault_script,
)
from wsms_tui.devices.spool import JobQueue, PrinterWorker, PrintJob, WorkerStatus


def label(n: int) -> bytes:
    return f"^XA^CI28^FO20,20^A0N,30,30^FH^FDjob {n}^FS^XZ".encode()


class Outcomes:
    def __init__(self) -> None:
        self.printed: list[object] = []
        self.failed: list[tuple[object, str]] = []
        self.held: list[tuple[object, str]] = []
        self.sending: list[object] = []
        self.statuses: list[WorkerStatus] = []
        self.cond = threading.Condition()

    def _add(self, target: list, item: object) -> None:  # type: ignore[type-arg]
        with self.cond:
            target.append(item)
            self.cond.notify_all()

    def worker(self, url: str, source: Callable[[], PrintJob | None], **kw: object) -> PrinterWorker:
        opts: dict[str, object] = {"status_timeout": 0.3, "retry_min": 0.02, "retry_max": 0.1, "idle_poll": 0.05}
        opts.update(kw)
        return PrinterWorker(url, source, on_printed=lambda j: self._add(self.printed, j),
                             on_failed=lambda j, r: self._add(self.failed, (j, r)),
                             on_held=lambda j, r: self._add(self.held, (j, r)),
                             on_sending=lambda j: self._add(self.sending, j),
                             on_status=lambda s: self._add(self.statuses, s), **opts)  # type: ignore[arg-type]

    def wait_resolved(self, n: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.printed) + len(self.failed) + len(self.held) < n:
                left = deadline - time.monotonic()
                assert left > 0, f"only {self.printed=} {self.failed=} {self.held=}; {self.statuses[-5:]}"
                self.cond.wait(left)


@pytest.fixture
def sim(tmp_path: Path) -> ZebraSimulator:
    return ZebraSimulator(out_dir=tmp_path / "labels")


@pytest.fixture
def server(sim: ZebraSimulator) -> Iterator[TcpPrinterServer]:
    with TcpPrinterServer(sim) as s:
        yield s


def run_jobs(url: str, jobs: list[PrintJob], n_resolved: int | None = None, **kw: object) -> Outcomes:
    q = JobQueue()
    for j in jobs:
        q.put(j)
    out = Outcomes()
    w = out.worker(url, q.next_job, **kw)
    with w:
        out.wait_resolved(len(jobs) if n_resolved is None else n_resolved)
    assert not w.is_alive()
    return out


# ---------------------------------------------------------------- ~HS and formats


def test_host_status_parser_reads_every_flag() -> None:
    reply = (b"\x02030,1,1,1245,003,1,0,1,000,0,0,1\x03\r\n"
             b"\x02001,0,1,1,1,2,6,0,00000042,1,000\x03\r\n\x021234,0\x03\r\n")
    s = parse_host_status(reply)
    assert (s.paper_out, s.paused, s.label_length, s.formats_in_buffer, s.buffer_full, s.partial_format) == \
        (True, True, 1245, 3, True, True)
    assert (s.head_open, s.ribbon_out, s.thermal_transfer, s.labels_remaining, s.over_temperature) == \
        (True, True, True, 42, True)
    assert not s.ready
    assert s.describe() == "not ready: paper out, head open, ribbon out, paused, buffer full, head too hot"
    ok = parse_host_status(b"\x02030,0,0,1245,000,0,0,0,000,0,0,0\x03\r\n\x02001,0,0,0,0,2,6,0,00000000,1,000\x03")
    assert ok.ready and ok.describe() == "ready"
    with pytest.raises(ValueError):
        parse_host_status(b"\x02garbage\x03")


def test_only_whole_formats_are_accepted() -> None:
    assert split_formats(b"^XA^FDa^FS^XZ\n^XA^FDb^FS^XZ") == [b"^XA^FDa^FS^XZ", b"^XA^FDb^FS^XZ"]
    assert len(split_formats(b"~DYE:F.TTF,A,T,2,,0000^XA^XZ")) == 1  # a download before the format
    for bad in (b"", b"^XA^FDno end", b"junk^XA^XZ", b"^XA^XZ tail", b"^XA^XA^XZ"):
        with pytest.raises(BadFormat):
            split_formats(bad)


# ---------------------------------------------------------------- TCP


def test_status_and_one_label_over_tcp(server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    p = open_printer(server.url, timeout=1)
    try:
        assert p.query_status().ready
    finally:
        p.close()
    status = print_once(server.url, label(1), timeout=1)
    assert status.ready
    assert sim.labels == [label(1)]
    assert sorted(x.name for x in (sim.out_dir or Path()).iterdir()) == ["label-00001.zpl"]


def test_worker_prints_each_job_once_in_order(server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    out = run_jobs(server.url, [PrintJob(i, label(i)) for i in range(20)])
    assert out.printed == list(range(20))
    assert sim.labels == [label(i) for i in range(20)]
    assert out.sending == list(range(20))


@pytest.mark.parametrize("script", ["paper_out=3", "head_open=2", "pause=2", "ribbon_out=1", "buffer_full=1",
                                    "silence=3", "disconnect_mid_job=1", "disconnect_mid_job=2, silence=1",
                                    "paper_out=1; head_open=1\nsilence=1 # all of them"])
def test_faults_end_with_exactly_one_label(server: TcpPrinterServer, sim: ZebraSimulator, script: str) -> None:
    sim.add_faults(script)
    out = run_jobs(server.url, [PrintJob("a", label(1)), PrintJob("b", label(2))])
    assert out.printed == ["a", "b"]
    assert sim.labels == [label(1), label(2)], "each label exactly once, in order"
    assert not out.held and not out.failed
    if "disconnect" in script:
        assert sim.discarded >= 1 and sim.cancels >= 1  # the half format was dropped, ~JX sent after
    if "paper_out" in script:
        assert any(s.printer and s.printer.paper_out for s in out.statuses)
    assert all(v == 0 for v in sim.faults.values())


def test_nothing_is_sent_while_the_printer_is_not_ready(server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    sim.add_faults("paper_out=5")
    out = run_jobs(server.url, [PrintJob(1, label(1))])
    not_ready = [s for s in out.statuses if s.state == "not ready"]
    assert len(not_ready) >= 1 and "paper out" in not_ready[0].describe()
    assert out.sending == [1], "sent once, only when ready"
    assert sim.labels == [label(1)]


def test_serialized_job_is_held_not_reprinted_after_an_unconfirmed_send(
        server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    sim.add_faults("silence_after_job=1, silence=2")  # prints it, then says nothing for a while
    sscc = b"^XA^FO20,20^BCN,100,N,N,N^FD>;>800306141411234567891^FS^XZ"
    out = run_jobs(server.url, [PrintJob("pallet", sscc, serialized=True), PrintJob("next", label(2))])
    assert out.held and out.held[0][0] == "pallet" and "not confirmed" in out.held[0][1]
    assert out.printed == ["next"]
    assert sim.labels == [sscc, label(2)], "the SSCC label printed once, never again"
    assert out.sending.count("pallet") == 1


def test_serialized_job_cut_mid_send_is_held(server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    sim.add_faults("disconnect_mid_job=1")
    out = run_jobs(server.url, [PrintJob("pallet", label(9), serialized=True)])
    assert [j for j, _ in out.held] == ["pallet"]
    assert sim.labels == [] and out.sending == ["pallet"]


@contextlib.contextmanager
def fake_printer(kind: str, sim: ZebraSimulator) -> Iterator[str]:
    """The fake Zebra on a loopback TCP port or behind a pty (a serial printer); yields its URL."""
    if kind == "tcp":
        with TcpPrinterServer(sim) as srv:
            yield srv.url
        return
    master, slave = os.openpty()
    try:
        with FdPrinterServer(sim, master):
            yield os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals")
@pytest.mark.parametrize("kind", ["tcp", "pty"])
@pytest.mark.parametrize(("script", "held"), [
    ("silence_after_job=1", True),  # it printed, then no answer: the printer cannot tell → held, not resent
    ("silence_after_job=1, silence=2", True),
    ("disconnect_mid_job=1", False),  # the printer reports the cut format: ~JX, sent again, prints once
    ("disconnect_mid_job=1, paper_out=2", False),
    ("paper_out=3", False),  # nothing is sent until the paper is back
    ("head_open=2, silence=1", False),
])
def test_plain_jobs_print_exactly_once_or_are_held(kind: str, script: str, held: bool) -> None:
    sim = ZebraSimulator()
    sim.add_faults(script)
    jobs = [PrintJob(n, label(n)) for n in (1, 2, 3)]
    with fake_printer(kind, sim) as url:
        out = run_jobs(url, jobs)
    assert len(sim.labels) == len(set(sim.labels)), "no label printed twice"
    assert sim.labels == [label(1), label(2), label(3)], "each label exactly once, in order"
    if held:
        assert [j for j, _ in out.held] == [1] and "cannot tell" in out.held[0][1]
        assert out.printed == [2, 3] and out.sending.count(1) == 1, "a held job is never sent again"
    else:
        assert out.printed == [1, 2, 3] and not out.held
    if "disconnect" in script:
        assert sim.discarded == 1 and sim.cancels >= 1 and not sim.partial_pending
    assert all(v == 0 for v in sim.faults.values())


def test_a_cut_job_of_several_formats_is_held(server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    sim.add_faults("disconnect_mid_job=1")
    out = run_jobs(server.url, [PrintJob("two", label(1) + label(2)), PrintJob("next", label(3))])
    assert [j for j, _ in out.held] == ["two"] and out.printed == ["next"]
    assert sim.labels == [label(3)] and out.sending.count("two") == 1


class CutOnce:
    """A transport whose first send stops after ``cut`` bytes (maybe sent), then works."""

    url = "fake://"
    can_report_status = True

    def __init__(self, cut: int) -> None:
        self.cut = cut
        self.log: list[bytes] = []

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, data: bytes) -> None:
        if not self.log:
            self.log.append(b"cut")
            raise AmbiguousWrite("sending stopped", possibly_sent=self.cut)
        self.log.append(data)

    def query_status(self) -> PrinterStatus:
        return parse_host_status(b"\x02030,0,0,1245,000,0,0,0,000,0,0,0\x03\x02001,0,0,0,0,2,6,0,00000000,1,000\x03")

    def cancel_partial(self) -> None:
        self.log.append(b"~JX")


@pytest.mark.parametrize("serialized", [False, True])
def test_a_write_cut_before_the_format_ended_is_sent_again(serialized: bool) -> None:
    t = CutOnce(cut=len(label(1)) - 2)  # "^X" of "^XZ" may have gone, not the whole ^XZ
    out = run_jobs(t.url, [PrintJob(1, label(1), serialized=serialized)], transport=t)
    assert out.printed == [1] and not out.held
    assert t.log == [b"cut", b"~JX", label(1)], "~JX first, then the whole job once"
    t = CutOnce(cut=len(label(1)))  # the whole format may have arrived: no resend
    out = run_jobs(t.url, [PrintJob(1, label(1), serialized=serialized)], transport=t)
    assert [j for j, _ in out.held] == [1] and t.log[0] == b"cut" and label(1) not in t.log


def test_a_job_that_may_have_printed_before_a_restart_is_held(
        server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    out = run_jobs(server.url, [PrintJob("s", label(1), serialized=True, ambiguous_before=True),
                                PrintJob("p", label(2), ambiguous_before=True), PrintJob("new", label(3))])
    assert [j for j, _ in out.held] == ["s", "p"] and out.printed == ["new"]
    assert sim.labels == [label(3)]


def test_bad_payload_fails_without_sending(server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    out = run_jobs(server.url, [PrintJob("bad", b"^XA^FDno end"), PrintJob("ok", label(1))])
    assert out.failed[0][0] == "bad" and "^XZ" in out.failed[0][1]
    assert out.printed == ["ok"] and sim.labels == [label(1)]


def test_printer_offline_then_online(tmp_path: Path) -> None:
    """The worker starts before the printer exists, keeps the job, prints it once it appears."""
    sim = ZebraSimulator()
    probe = TcpPrinterServer(sim)  # take a free port, then free it for the late printer
    host, port = probe.address
    probe._sock.close()  # noqa: SLF001
    q = JobQueue()
    q.put(PrintJob(1, label(1)))
    out = Outcomes()
    w = out.worker(f"socket://{host}:{port}", q.next_job)
    with w:
        deadline = time.monotonic() + 5
        while not any(s.state == "offline" for s in out.statuses) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert out.sending == []
        with TcpPrinterServer(sim, host, port):
            out.wait_resolved(1)
    assert out.printed == [1] and sim.labels == [label(1)]


def test_worker_stops_promptly_when_idle(server: TcpPrinterServer) -> None:
    out = Outcomes()
    w = out.worker(server.url, lambda: None, idle_poll=5.0)
    w.start()
    time.sleep(0.1)
    t = time.monotonic()
    w.stop()
    w.join(2)
    assert not w.is_alive() and time.monotonic() - t < 1
    assert out.statuses[-1].state == "stopped"


def test_fault_script_errors_are_clear() -> None:
    assert parse_fault_script("paper_out=2, silence\n# c\nhead-open=1") == \
        {"paper_out": 2, "silence": 1, "head_open": 1}
    with pytest.raises(FaultScriptError, match="unknown fault 'fire'"):
        parse_fault_script("fire=1")
    with pytest.raises(FaultScriptError, match="whole number"):
        parse_fault_script("silence=x")


# ---------------------------------------------------------------- pty (a serial printer)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals")
def test_worker_over_a_pty_with_faults() -> None:
    master, slave = os.openpty()
    sim = ZebraSimulator(faults={"paper_out": 2, "silence": 1})
    try:
        with FdPrinterServer(sim, master):
            out = run_jobs(os.ttyname(slave), [PrintJob(i, label(i)) for i in range(3)])
    finally:
        os.close(master)
        os.close(slave)
    assert out.printed == [0, 1, 2]
    assert sim.labels == [label(0), label(1), label(2)]


# ---------------------------------------------------------------- file:// and lp://


def test_file_printer_appends_jobs(tmp_path: Path) -> None:
    target = tmp_path / "out" / "labels.zpl"
    out = run_jobs(f"file://{target}", [PrintJob(1, label(1)), PrintJob(2, label(2))])
    assert out.printed == [1, 2]
    assert target.read_bytes() == label(1) + label(2)


def test_lp_printer_without_cups_is_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `lp` on PATH
    p = open_printer("lp://zebra")
    with pytest.raises(PrinterUnavailable, match="lp"):
        p.send(label(1))


def test_lp_printer_pipes_raw_to_lp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "lp"
    fake.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat > {tmp_path}/job\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    out = run_jobs("lp://ZEBRA1", [PrintJob(1, label(1))])
    assert out.printed == [1]
    assert (tmp_path / "args").read_text().split() == ["-d", "ZEBRA1", "-o", "raw"]
    assert (tmp_path / "job").read_bytes() == label(1)
