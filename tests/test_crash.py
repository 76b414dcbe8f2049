"""A writer killed with SIGKILL mid-stream loses nothing it acknowledged and leaves nothing half-written.

The writer (``tests/crash_worker.py``) prints each op_id after its transaction committed. The test
kills it after a number of acknowledgements (while it is in the middle of the next transactions),
reopens the database and checks: every acknowledged op_id is in the ledger exactly once, the quants
rebuild from the ledger (``verify_ledger``), every ledger row has its audit event and the chain is
whole (``verify_chain``), and posting continues. Several rounds, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from tests.crash_worker import operation
from tests.helpers import seed_basic
from wsms_tui import audit, ledger, stock
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, LedgerEntry
from wsms_tui.security import Actor

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 3


def write_until_killed(url: str, prefix: str, acks: int) -> list[str]:
    """Run the writer, SIGKILL it after ``acks`` acknowledgements (plus a random moment), return them."""
    p = subprocess.Popen([sys.executable, "-m", "tests.crash_worker", url, prefix], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked: list[str] = []
    try:
        assert p.stdout is not None
        while len(acked) < acks:
            line = p.stdout.readline()
            if not line:
                raise AssertionError(f"writer died early: {p.stderr.read() if p.stderr else ''}")
            acked.append(line.strip())
        # kill it at a random point of a later transaction (microseconds to a few ms in)
        for _ in range(random.randint(0, 3)):
            line = p.stdout.readline()
            if line:
                acked.append(line.strip())
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
        assert p.returncode == -signal.SIGKILL
        # whatever it printed before it died was acknowledged too
        acked += [line.strip() for line in p.stdout.read().splitlines() if line.strip()]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        if p.stdout:
            p.stdout.close()
        if p.stderr:
            p.stderr.close()
    return acked


def check_after_crash(url: str, acked: list[str], prefix: str) -> None:
    db = Database.open(url)  # a fresh engine: the state on disk / on the server, nothing cached
    try:
        admin = db.system_actor("after-crash")

        def ledger_rows(s: Session) -> list[tuple[int, str]]:
            return list(s.execute(select(LedgerEntry.id, LedgerEntry.op_id)
                                  .where(LedgerEntry.op_id.like(f"{prefix}-%"))).all())

        rows = db.read(ledger_rows)
        op_ids = [op for _id, op in rows]
        for op in acked:
            assert op_ids.count(op) == 1, f"acknowledged {op} is in the ledger {op_ids.count(op)} times"
        posted = {int(op.rsplit("-", 1)[1]) for op in op_ids}
        assert posted == set(range(len(posted))), "the ledger has a gap: a later post survived an earlier one"
        assert len(posted) - len(acked) <= 1, "more than the one unacknowledged, in-flight post survived"

        # every ledger row has exactly one audit event naming it, with its op_id
        def audit_objects(s: Session) -> dict[str, str]:
            events = s.execute(select(AuditEvent.object, AuditEvent.payload)
                               .where(AuditEvent.action == "ledger.receive")).all()
            return {obj: json.loads(payload)["op_id"] for obj, payload in events}

        events = db.read(audit_objects)
        for entry_id, op in rows:
            assert events.get(f"ledger_entry:{entry_id}") == op, f"ledger entry {entry_id} ({op}) has no audit event"
        n_events = db.read(lambda s: s.execute(select(func.count()).select_from(AuditEvent)
                                               .where(AuditEvent.action == "ledger.receive")).scalar_one())
        n_entries = db.read(lambda s: s.execute(select(func.count()).select_from(LedgerEntry)
                                                .where(LedgerEntry.kind == "receive")).scalar_one())
        assert n_events == n_entries

        report = stock.verify_ledger(db, admin)
        assert report.ok, report.problems
        chain = db.read(audit.verify_chain)
        assert chain.ok, chain.problems

        # posting goes on: a re-sent acknowledged operation replays, a new one posts
        last = int(acked[-1].rsplit("-", 1)[1])
        assert ledger.receive(db, admin, **operation(prefix, last)).replayed
        assert not ledger.receive(db, admin, **operation(prefix, len(posted))).replayed
        assert stock.verify_ledger(db, admin).ok
    finally:
        db.dispose()


@pytest.mark.slow
def test_killed_writer_keeps_every_acknowledged_post(db_url: str, db: Database, admin: Actor) -> None:
    seed_basic(db)
    db.dispose()  # the test holds no connection while the writer runs and dies
    for round_no in range(ROUNDS):
        prefix = f"crash{round_no}"
        acked = write_until_killed(db_url, prefix, acks=random.randint(15, 40))
        assert len(acked) >= 15
        check_after_crash(db_url, acked, prefix)
