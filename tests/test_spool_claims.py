"""One worker per printer across processes: two spools (separate Database objects, i.e. separate
connections) feeding the same printer claim each job atomically, so each prints exactly once —
on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.helpers import make_actor
from wsms_tui import labels, printing
from wsms_tui.config import PrinterConfig
from wsms_tui.database import Database
from wsms_tui.db.models import PrintJob as PrintJobRow
from wsms_tui.devices.simulator import TcpPrinterServer, ZebraSimulator
from wsms_tui.security import Actor


@pytest.fixture
def second_db(db_url: str) -> Iterator[Database]:
    other = Database.open(db_url)
    try:
        yield other
    finally:
        other.engine.dispose()


def statuses(db: Database) -> dict[int, str]:
    return dict(db.read(lambda s: s.execute(select(PrintJobRow.id, PrintJobRow.status)).all()))


def test_a_job_is_claimed_by_one_spool_only(db: Database, second_db: Database, admin: Actor) -> None:
    clerk = make_actor(db, "clerk")
    j1 = printing.queue_label(db, clerk, printer="dock1", label=labels.location_label("A-1"), idempotency_key="1")
    j2 = printing.queue_label(db, clerk, printer="dock1", label=labels.location_label("A-2"), idempotency_key="2")
    a = printing.DbSpool(db, clerk, "dock1")
    b = printing.DbSpool(second_db, clerk, "dock1")
    seen_a, seen_b = a.next_job(), b.next_job()
    assert seen_a is not None and seen_b is not None and seen_a.id == seen_b.id == j1.id  # both look at it
    assert a.on_sending(j1.id) is True
    assert b.on_sending(j1.id) is False, "the loser of the claim must not send"
    nxt = b.next_job()
    assert nxt is not None and nxt.id == j2.id and not nxt.ambiguous_before  # a's 'printing' row is not b's
    assert b.on_sending(j2.id) is True
    b.on_held(j1.id, "not b's to hold")  # a stale callback changes nothing
    assert statuses(db) == {j1.id: "printing", j2.id: "printing"}
    a.on_printed(j1.id)
    b.on_printed(j2.id)
    assert statuses(db) == {j1.id: "printed", j2.id: "printed"}
    assert [j.attempts for j in printing.list_jobs(db, clerk)] == [1, 1]


def test_two_workers_on_one_printer_print_every_job_once(
        db: Database, second_db: Database, admin: Actor, tmp_path: Path) -> None:
    clerk = make_actor(db, "clerk")
    n = 24
    ids = [printing.queue_label(db, clerk, printer="dock1", label=labels.location_label(f"B-{i:02d}"),
                                idempotency_key=f"b{i}").id for i in range(n)]
    sim = ZebraSimulator()
    with TcpPrinterServer(sim, concurrent=True) as srv:
        config = PrinterConfig(url=srv.url)
        runners = [printing.SpoolRunner(d, clerk, "dock1", config, status_timeout=0.5, idle_poll=0.02)
                   for d in (db, second_db)]  # both spools exist before either prints: no leftovers
        for r in runners:
            r.start()
        try:
            deadline = time.monotonic() + 30
            while set(statuses(db).values()) != {"printed"}:
                assert time.monotonic() < deadline, statuses(db)
                time.sleep(0.02)
        finally:
            for r in runners:
                r.stop()
    assert len(sim.labels) == n and len(set(sim.labels)) == n, "every label exactly once"
    assert sum(r.worker.sends for r in runners) == n, "no job sent by both workers"
    assert all(j.attempts == 1 for j in printing.list_jobs(db, clerk)) and len(ids) == n


def test_a_claimed_job_whose_settling_callback_failed_is_held_not_lost(db: Database, second_db: Database,
                                                                      admin: Actor) -> None:
    """The worker claimed and sent a job, then recording the outcome failed (the database was away; the worker
    swallows a callback's error and asks for the next job). The row must not stay 'printing' for the life of
    the spool: the next ask hands it back as ambiguous, so the worker holds it for a person — never resent,
    never lost. Another spool's claimed row is not taken for one of these."""
    clerk = make_actor(db, "clerk")
    j1 = printing.queue_label(db, clerk, printer="dock1", label=labels.location_label("A-1"), idempotency_key="1")
    j2 = printing.queue_label(db, clerk, printer="dock1", label=labels.location_label("A-2"), idempotency_key="2")
    a = printing.DbSpool(db, clerk, "dock1")
    b = printing.DbSpool(second_db, clerk, "dock1")
    first = a.next_job()
    assert first is not None and first.id == j1.id and a.on_sending(j1.id) is True
    # … sent; a.on_printed / a.on_held never got through: the worker asks for the next job
    nxt = a.next_job()
    assert nxt is not None and nxt.id == j1.id and nxt.ambiguous_before, nxt
    other = b.next_job()
    assert other is not None and other.id == j2.id and not other.ambiguous_before  # not b's to recover
    a.on_held(j1.id, "sent, but its outcome could not be recorded")
    assert statuses(db) == {j1.id: "needs_decision", j2.id: "queued"}
    nxt = a.next_job()
    assert nxt is not None and nxt.id == j2.id and not nxt.ambiguous_before
