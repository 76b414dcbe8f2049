"""The persistent print spool: PrintJob rows in the database, one ``PrinterWorker`` per printer.

A label is queued as a row (status ``queued``) in the same breath as the action that asked for it,
under an idempotency key, so a replayed scan never queues a second label. ``DbSpool`` feeds a
printer's worker thread (``devices.spool.PrinterWorker``) from those rows and records each
outcome: ``printing`` just before the first byte goes out, then ``printed``, ``failed`` or
``needs_decision`` (a label whose delivery is uncertain and that the printer cannot vouch for is
never sent again without a person — plain or serialized). Jobs survive a restart of wsms: a row
still ``printing`` after a crash is held for a person. Reprints are new rows pointing at the original, with
the reason recorded and audited.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from wsms_tui import audit
from wsms_tui.authz import require
from wsms_tui.config import PrinterConfig, Settings
from wsms_tui.database import Database
from wsms_tui.db.models import PrintJob as PrintJobRow
from wsms_tui.db.models import User
from wsms_tui.devices.spool import PrinterWorker, PrintJob, WorkerStatus
from wsms_tui.errors import BadInput, NotFound
from wsms_tui.i18n import _
from wsms_tui.labels import Label
from wsms_tui.security import Actor

FINAL = ("printed", "failed", "cancelled")


@dataclass(frozen=True)
class JobInfo:
    id: int
    printer: str
    kind: str
    status: str
    serialized: bool
    attempts: int
    preview: str
    reprint_of: int | None
    reason: str
    last_error: str
    user: str
    created_at: datetime
    printed_at: datetime | None


def resolve_printer(settings: Settings, name_or_url: str) -> PrinterConfig:
    """A printer by its name in ``[printers]``, or a URL used as is (203 dpi)."""
    if name_or_url in settings.printers:
        return settings.printers[name_or_url]
    if "://" in name_or_url or name_or_url.startswith("/dev/"):
        return PrinterConfig(url=name_or_url)
    known = ", ".join(sorted(settings.printers)) or _("none configured")
    raise BadInput(_("no printer {p} (named printers: {k}; or give a URL such as socket://host:9100)").format(
        p=name_or_url, k=known))


def _info(row: PrintJobRow, user: str) -> JobInfo:
    assert row.id is not None
    return JobInfo(row.id, row.printer, row.kind, row.status, row.serialized, row.attempts, row.preview,
                   row.reprint_of, row.reason, row.last_error, user, audit.as_utc(row.created_at),
                   audit.as_utc(row.printed_at) if row.printed_at else None)


def _job(s: Session, job_id: int) -> tuple[PrintJobRow, str]:
    row = s.execute(select(PrintJobRow, User.name).join(User, User.id == PrintJobRow.actor_id)
                    .where(PrintJobRow.id == job_id)).first()
    if row is None:
        raise NotFound(_("no print job {id}").format(id=job_id))
    return row[0], row[1]


def queue_label(db: Database, actor: Actor, *, printer: str, label: Label, idempotency_key: str,
                reprint_of: int | None = None, reason: str = "") -> JobInfo:
    """Put a label in the spool (once per ``idempotency_key``: a replay returns the first job)."""
    require(db, actor, "print.label", f"printer:{printer}")
    key = idempotency_key.strip()[:120]
    if not key:
        raise BadInput(_("a print job needs an idempotency key"))

    def work(s: Session) -> JobInfo:
        existing = s.execute(select(PrintJobRow.id).where(PrintJobRow.idempotency_key == key)).scalar()
        if existing is not None:
            return _info(*_job(s, existing))
        now = audit.utcnow()
        jid = s.execute(insert(PrintJobRow).values(
            printer=printer, kind=label.name, payload=label.zpl, preview=label.preview(), idempotency_key=key,
            serialized=label.serialized, status="queued", attempts=0, last_error="", reprint_of=reprint_of,
            reason=reason, actor_id=actor.user_id, terminal=actor.terminal, created_at=now,
        ).returning(PrintJobRow.id)).scalar_one()
        audit.record(s, actor, "print.queue" if reprint_of is None else "print.reprint", f"print_job:{jid}",
                     {"printer": printer, "kind": label.name, "serialized": label.serialized,
                      "reprint_of": reprint_of, "reason": reason})
        return _info(*_job(s, jid))

    from sqlalchemy.exc import IntegrityError

    try:
        return db.write(work)
    except IntegrityError:  # a concurrent twin with the same key won: return its job
        return db.write(work)


def list_jobs(db: Database, actor: Actor, *, printer: str | None = None, status: str | None = None,
              limit: int = 200, before_id: int | None = None) -> list[JobInfo]:
    """Newest jobs first (one keyset page)."""
    require(db, actor, "stock.view")

    def work(s: Session) -> list[JobInfo]:
        q = select(PrintJobRow, User.name).join(User, User.id == PrintJobRow.actor_id)
        if printer:
            q = q.where(PrintJobRow.printer == printer)
        if status:
            q = q.where(PrintJobRow.status == status)
        if before_id is not None:
            q = q.where(PrintJobRow.id < before_id)
        q = q.order_by(PrintJobRow.id.desc()).limit(limit)  # type: ignore[union-attr]
        return [_info(r, u) for r, u in s.execute(q).all()]

    return db.read(work)


def reprint(db: Database, actor: Actor, job_id: int, *, reason: str) -> JobInfo:
    """Print a job's label again as a new job, with the reason recorded (and audited)."""
    require(db, actor, "print.reprint", f"print_job:{job_id}")
    reason = reason.strip()
    if len(reason) < 3:
        raise BadInput(_("say why the label is printed again (at least 3 characters)"))
    original, _user = db.read(lambda s: _job(s, job_id))
    if original.status in ("queued", "printing"):
        raise BadInput(_("job {id} has not finished printing yet").format(id=job_id))
    n = db.read(lambda s: s.execute(select(func.count()).select_from(PrintJobRow)
                                    .where(PrintJobRow.reprint_of == job_id)).scalar_one())
    label = Label(original.kind, 0, original.payload, (), "spool", original.serialized)
    job = queue_label(db, actor, printer=original.printer, label=label,
                      idempotency_key=f"reprint:{job_id}:{n + 1}", reprint_of=job_id, reason=reason)
    if original.status == "needs_decision":
        _finish(db, actor, job_id, "cancelled", _("reprinted as job {id}").format(id=job.id))
    return job


def mark_printed(db: Database, actor: Actor, job_id: int, *, reason: str) -> JobInfo:
    """A person saw that a held (uncertain) label did print: close it without printing again."""
    require(db, actor, "print.reprint", f"print_job:{job_id}")
    row, _user = db.read(lambda s: _job(s, job_id))
    if row.status != "needs_decision":
        raise BadInput(_("job {id} is {st}, not waiting for a decision").format(id=job_id, st=row.status))
    return _finish(db, actor, job_id, "printed", reason or _("confirmed printed by a person"))


#: jobs that have not reached the printer: a person may still call them off
WAITING = ("queued", "needs_decision")


def cancel_in(s: Session, actor: Actor, where: Any, note: str, *,
              statuses: Sequence[str] = WAITING) -> list[int]:
    """Cancel, in the caller's transaction, the jobs matching ``where`` that are in ``statuses`` now — one
    conditional UPDATE, so a job a worker claimed or finished meanwhile is left as it is; each cancelled job
    is audited. Returns their ids."""
    pj = PrintJobRow
    ids = list(s.execute(update(pj).where(where, pj.status.in_(list(statuses)))  # type: ignore[attr-defined]
                         .values(status="cancelled", last_error=note[:500]).returning(pj.id)).scalars())
    for jid in sorted(ids):
        audit.record(s, actor, "print.cancelled", f"print_job:{jid}", {"note": note})
    return ids


def cancel(db: Database, actor: Actor, job_id: int, *, reason: str) -> JobInfo:
    require(db, actor, "print.reprint", f"print_job:{job_id}")

    def work(s: Session) -> JobInfo | None:
        if not cancel_in(s, actor, PrintJobRow.id == job_id, reason, statuses=(*WAITING, "printing")):
            return None
        return _info(*_job(s, job_id))

    done = db.write(work)
    if done is None:  # finished already, or meanwhile
        row, _user = db.read(lambda s: _job(s, job_id))
        raise BadInput(_("job {id} is {st} already").format(id=job_id, st=row.status))
    return done


def _finish(db: Database, actor: Actor, job_id: int, status: str, note: str) -> JobInfo:
    def work(s: Session) -> JobInfo:
        values: dict[str, object] = {"status": status, "last_error": note[:500]}
        if status == "printed":
            values["printed_at"] = audit.utcnow()
        s.execute(update(PrintJobRow).where(PrintJobRow.id == job_id).values(**values))
        audit.record(s, actor, f"print.{status}", f"print_job:{job_id}", {"note": note})
        return _info(*_job(s, job_id))

    return db.write(work)


class DbSpool:
    """Feeds one printer's worker from PrintJob rows and records what happened to each job.

    The callbacks run on the worker thread; each is one short transaction. Jobs are *claimed*:
    ``next_job`` only looks at the oldest ``queued`` row, and ``on_sending`` moves it to
    ``printing`` with a conditional ``UPDATE … WHERE id = ? AND status = 'queued'`` just before the
    first byte goes out. Two spools feeding the same printer (two desks, or a desk and
    ``wsms print serve``) can both look at a row; only the one whose update changed it sends it,
    the other is told ``False`` and moves on to the next row. Every later update is conditional
    too, so a row settled elsewhere (held, cancelled) is never overwritten by a stale worker."""

    def __init__(self, db: Database, actor: Actor, printer: str) -> None:
        self.db = db
        self.actor = actor
        self.printer = printer
        self._owned: set[int] = set()  # rows this spool claimed and has not settled
        self._recovered: set[int] = set(db.read(lambda s: s.execute(
            select(PrintJobRow.id).where(PrintJobRow.printer == printer, PrintJobRow.status == "printing")
        ).scalars().all()))

    def next_job(self) -> PrintJob | None:
        def work(s: Session) -> PrintJob | None:
            cols = (PrintJobRow.id, PrintJobRow.payload, PrintJobRow.serialized)
            # left 'printing' when this spool started, or claimed by this spool and still 'printing' although its
            # worker asks for the next job (the callback that settles it failed, e.g. the database was away):
            # the worker holds it for a person — it may have printed, and it must not be lost
            for jid in sorted(self._recovered | self._owned):
                row = s.execute(select(*cols).where(PrintJobRow.id == jid, PrintJobRow.status == "printing")).first()
                if row is not None:
                    return PrintJob(row.id, row.payload.encode("utf-8"), bool(row.serialized), True)
                self._recovered.discard(jid)
                self._owned.discard(jid)
            row = s.execute(select(*cols).where(PrintJobRow.printer == self.printer, PrintJobRow.status == "queued")
                            .order_by(PrintJobRow.id).limit(1)).first()
            if row is None:
                return None
            return PrintJob(row.id, row.payload.encode("utf-8"), bool(row.serialized), False)

        return self.db.read(work)

    def _set(self, job_id: object, status: str, allowed: tuple[str, ...], note: str = "") -> bool:
        """Move the row to ``status`` if it is in one of ``allowed``; False when it was not."""
        jid = int(job_id)  # type: ignore[call-overload]

        def work(s: Session) -> bool:
            values: dict[str, object] = {"status": status}
            if status == "printing":
                values["attempts"] = PrintJobRow.attempts + 1
            if note:
                values["last_error"] = note[:500]
            if status == "printed":
                values["printed_at"] = audit.utcnow()
            changed = s.execute(update(PrintJobRow).where(
                PrintJobRow.id == jid, PrintJobRow.status.in_(allowed))  # type: ignore[attr-defined]
                .values(**values)).rowcount
            if changed == 1 and status != "printing":
                audit.record(s, self.actor, f"print.{status}", f"print_job:{jid}",
                             {"printer": self.printer, "note": note})
            return changed == 1

        done = self.db.write(work)
        if status != "printing":
            self._recovered.discard(jid)
            self._owned.discard(jid)
        return done

    def on_sending(self, job_id: object) -> bool:
        """Claim the row (``queued`` → ``printing``; a resend of our own row stays ``printing``).
        False: another spool claimed it, or a person settled it — do not send."""
        jid = int(job_id)  # type: ignore[call-overload]
        won = self._set(jid, "printing", ("printing",) if jid in self._owned else ("queued",))
        if won:
            self._owned.add(jid)
        return won

    def _ours(self, job_id: object) -> bool:
        jid = int(job_id)  # type: ignore[call-overload]
        return jid in self._owned or jid in self._recovered

    def on_printed(self, job_id: object) -> None:
        if self._ours(job_id):  # it did print: say so even if a person settled it meanwhile
            self._set(job_id, "printed", ("printing", "needs_decision", "cancelled"))

    def on_failed(self, job_id: object, reason: str) -> None:
        self._set(job_id, "failed", ("queued", "printing"), reason)

    def on_held(self, job_id: object, reason: str) -> None:
        if self._ours(job_id):
            self._set(job_id, "needs_decision", ("printing",), reason)


class SpoolRunner:
    """Runs the worker of one printer for this process and keeps its last status for the UI."""

    def __init__(self, db: Database, actor: Actor, printer: str, config: PrinterConfig, *,
                 on_status: Callable[[WorkerStatus], None] | None = None, status_timeout: float = 2.0,
                 idle_poll: float = 1.0) -> None:
        self.spool = DbSpool(db, actor, printer)
        self.status: WorkerStatus | None = None
        self._listener = on_status
        self._lock = threading.Lock()
        self.worker = PrinterWorker(
            config.url, self.spool.next_job, on_printed=self.spool.on_printed, on_failed=self.spool.on_failed,
            on_held=self.spool.on_held, on_sending=self.spool.on_sending, on_status=self._status,
            status_timeout=status_timeout, idle_poll=idle_poll)

    def _status(self, status: WorkerStatus) -> None:
        with self._lock:
            self.status = status
        if self._listener:
            self._listener(status)

    def start(self) -> SpoolRunner:
        self.worker.start()
        return self

    def wake(self) -> None:
        self.worker.wake()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker and wait for it (at most ``timeout`` s; it is a daemon thread either way)."""
        self._listener = None  # no status reports to a UI that is going away
        self.worker.stop()
        self.worker.join(timeout)


def printer_state_text(printer: str, status: WorkerStatus | None) -> tuple[str, bool]:
    """A short printer state for a status bar: (``dock1 paper out``, is it a fault?)."""
    if status is None:
        return _("{p} starting").format(p=printer), False
    if status.state == "not ready":
        problems = status.printer.problems if status.printer is not None else []
        what = ", ".join(_(p) for p in problems) if problems else _("not ready")
        if status.printer is not None and status.printer.partial_format and not problems:
            what = _("partial format cancelled")
        return f"{printer} {what}", True
    if status.state == "offline":
        return _("{p} offline").format(p=printer), True
    if status.state == "idle" and "held" in status.detail:
        return _("{p} idle, {held}").format(p=printer, held=status.detail.split(":", 1)[0]), False
    names = {"idle": _("idle"), "printing": _("printing"), "stopped": _("stopped")}
    return f"{printer} {names.get(status.state, status.state)}", status.state == "stopped"
