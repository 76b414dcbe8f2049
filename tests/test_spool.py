"""The persistent print spool: PrintJob rows printed exactly once through a fake Zebra on loopback,
surviving a restart, reprints with a reason — on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.helpers import make_actor
from wsms_tui import labels, printing
from wsms_tui.config import PrinterConfig
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent
from wsms_tui.db.models import PrintJob as PrintJobRow
from wsms_tui.devices.simulator import TcpPrinterServer, ZebraSimulator
from wsms_tui.errors import BadInput, PermissionDenied
from wsms_tui.security import Actor


@pytest.fixture
def sim(tmp_path: Path) -> ZebraSimulator:
    return ZebraSimulator(out_dir=tmp_path / "labels")


@pytest.fixture
def server(sim: ZebraSimulator) -> Iterator[TcpPrinterServer]:
    with TcpPrinterServer(sim) as s:
        yield s


def wait_until(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def statuses(db: Database) -> dict[int, str]:
    return dict(db.read(lambda s: s.execute(select(PrintJobRow.id, PrintJobRow.status)).all()))


def runner(db: Database, actor: Actor, url: str) -> printing.SpoolRunner:
    return printing.SpoolRunner(db, actor, "dock1", PrinterConfig(url=url), status_timeout=0.5,
                                idle_poll=0.05).start()


def test_queued_labels_print_once_each_and_a_replay_queues_nothing(
        db: Database, admin: Actor, server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    clerk = make_actor(db, "clerk")
    loc = labels.location_label("SH1-A01-03-2")
    j1 = printing.queue_label(db, clerk, printer="dock1", label=loc, idempotency_key="loc:SH1-A01-03-2:1")
    again = printing.queue_label(db, clerk, printer="dock1", label=loc, idempotency_key="loc:SH1-A01-03-2:1")
    assert again.id == j1.id
    prod = labels.product_label(sku="P1", name="苹果 Apple", gtin="04006381333931", lot="L1", count=12)
    j2 = printing.queue_label(db, clerk, printer="dock1", label=prod, idempotency_key="prod:1")
    assert "P1" in j2.preview and j2.status == "queued"
    sim.add_faults("paper_out=3")  # the first status queries say paper out: nothing is sent until it is fixed
    r = runner(db, clerk, server.url)
    try:
        wait_until(lambda: set(statuses(db).values()) == {"printed"})
    finally:
        r.stop()
    assert len(sim.labels) == 2
    assert sim.labels[0].decode() == loc.zpl.strip() and sim.labels[1].decode() == prod.zpl.strip()
    jobs = printing.list_jobs(db, clerk)
    assert [(j.id, j.status, j.attempts) for j in jobs] == [(j2.id, "printed", 1), (j1.id, "printed", 1)]
    assert all(j.printed_at is not None for j in jobs)


def test_jobs_survive_a_restart_and_an_uncertain_sscc_waits_for_a_person(
        db: Database, admin: Actor, server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    clerk = make_actor(db, "clerk")
    sscc = labels.lpn_label("106141411234567897")
    plain = labels.location_label("A-01")
    js = printing.queue_label(db, clerk, printer="dock1", label=sscc, idempotency_key="lpn:1")
    jp = printing.queue_label(db, clerk, printer="dock1", label=plain, idempotency_key="loc:1")
    # a crash while both were being sent: rows left in 'printing'
    db.write(lambda s: s.execute(update(PrintJobRow).values(status="printing")))
    r = runner(db, clerk, server.url)
    try:
        wait_until(lambda: statuses(db) == {js.id: "needs_decision", jp.id: "needs_decision"})
    finally:
        r.stop()
    assert sim.labels == []  # an uncertain label is never resent by itself, SSCC or plain
    assert printing.mark_printed(db, clerk, jp.id, reason="it is on the shelf").status == "printed"
    with pytest.raises(BadInput, match="say why"):
        printing.reprint(db, clerk, js.id, reason="")
    redo = printing.reprint(db, clerk, js.id, reason="label torn at the applicator")
    assert redo.reprint_of == js.id and redo.reason == "label torn at the applicator"
    assert statuses(db)[js.id] == "cancelled"
    r = runner(db, clerk, server.url)
    try:
        wait_until(lambda: statuses(db)[redo.id] == "printed")
    finally:
        r.stop()
    assert [lb.decode() for lb in sim.labels] == [sscc.zpl.strip()]
    actions = db.read(lambda s: s.execute(select(AuditEvent.action).where(
        AuditEvent.action.like("print.%"))).scalars().all())  # type: ignore[attr-defined]
    assert actions.count("print.reprint") == 1 and "print.needs_decision" in actions


def test_a_silent_printer_keeps_the_job_queued_until_it_answers(
        db: Database, admin: Actor, server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    clerk = make_actor(db, "clerk")
    sim.add_faults("silence=4")
    job = printing.queue_label(db, clerk, printer="dock1", label=labels.location_label("B-7"), idempotency_key="k")
    seen: list[str] = []
    r = printing.SpoolRunner(db, clerk, "dock1", PrinterConfig(url=server.url), status_timeout=0.3,
                             idle_poll=0.05, on_status=lambda st: seen.append(st.state)).start()
    try:
        wait_until(lambda: statuses(db)[job.id] == "printed")
    finally:
        r.stop()
    assert "offline" in seen and len(sim.labels) == 1


def test_reprint_rules_and_permissions(db: Database, admin: Actor, server: TcpPrinterServer) -> None:
    clerk = make_actor(db, "clerk")
    finance = make_actor(db, "finance")
    job = printing.queue_label(db, clerk, printer="dock1", label=labels.location_label("C-1"), idempotency_key="c1")
    with pytest.raises(BadInput, match="not finished"):
        printing.reprint(db, clerk, job.id, reason="smudged")
    with pytest.raises(PermissionDenied):
        printing.queue_label(db, finance, printer="dock1", label=labels.location_label("C-2"), idempotency_key="c2")
    with pytest.raises(BadInput, match="not waiting for a decision"):
        printing.mark_printed(db, clerk, job.id, reason="seen")
    assert printing.cancel(db, clerk, job.id, reason="wrong bin").status == "cancelled"
    with pytest.raises(BadInput, match="no printer"):
        printing.resolve_printer(printing.Settings(), "nowhere")
    assert printing.resolve_printer(printing.Settings(), "socket://127.0.0.1:9100").url.startswith("socket://")


def test_a_plain_label_the_printer_cannot_confirm_is_held_not_printed_twice(
        db: Database, admin: Actor, server: TcpPrinterServer, sim: ZebraSimulator) -> None:
    clerk = make_actor(db, "clerk")
    sim.add_faults("silence_after_job=1")  # the first label prints, then the printer says nothing
    j1 = printing.queue_label(db, clerk, printer="dock1", label=labels.location_label("C-1"), idempotency_key="c1")
    j2 = printing.queue_label(db, clerk, printer="dock1", label=labels.location_label("C-2"), idempotency_key="c2")
    r = runner(db, clerk, server.url)
    try:
        wait_until(lambda: statuses(db) == {j1.id: "needs_decision", j2.id: "printed"})
    finally:
        r.stop()
    assert len(sim.labels) == 2 and len(set(sim.labels)) == 2, "each label once; the held one not again"
    held = printing.list_jobs(db, clerk, status="needs_decision")
    assert [j.id for j in held] == [j1.id] and "cannot tell" in held[0].last_error and held[0].attempts == 1
