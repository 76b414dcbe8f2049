"""What the Admin desk (F9) shows besides users: the configured devices and the integrity checks.

``devices`` lists this desk's scanner settings and every named printer with its unfinished spool jobs
(queued, printing, held); ``probe_printer`` asks one printer's ``~HS`` host status (it blocks up to the
timeout: call it from a worker thread). ``run_checks`` runs ``ledger verify`` and ``audit verify`` as the
CLI does, each only when the actor may (a check the actor may not run is reported as such, not skipped
silently). The screen holds no SQL: it calls these and draws what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session

from wsms_tui.audit import ChainReport, verify_chain
from wsms_tui.authz import require
from wsms_tui.config import Settings
from wsms_tui.database import Database
from wsms_tui.db.models import PrintJob as PrintJobRow
from wsms_tui.i18n import _
from wsms_tui.security import Actor
from wsms_tui.stock import LedgerReport, verify_ledger

UNFINISHED = ("queued", "printing", "needs_decision")


@dataclass(frozen=True)
class PrinterRow:
    name: str
    url: str
    dpi: int
    queued: int = 0
    held: int = 0
    this_desk: bool = False


@dataclass(frozen=True)
class Devices:
    printers: list[PrinterRow]
    #: this desk's scanner settings as (what, value) pairs, for reading
    scanner: list[tuple[str, str]]


def devices(db: Database, actor: Actor, settings: Settings) -> Devices:
    """The named printers (and this desk's printer when it is a bare URL) with their unfinished jobs."""
    require(db, actor, "stock.view")  # what the print queue shows every desk too

    def counts(s: Session) -> dict[tuple[str, str], int]:
        rows = s.execute(select(PrintJobRow.printer, PrintJobRow.status, func.count())
                         .where(PrintJobRow.status.in_(UNFINISHED))  # type: ignore[attr-defined]
                         .group_by(PrintJobRow.printer, PrintJobRow.status)).all()
        return {(p, st): int(n) for p, st, n in rows}

    jobs = db.read(counts)
    named = dict(settings.printers)
    mine = settings.printer
    out = []
    for name in sorted(named) + ([mine] if mine and mine not in named else []):
        cfg = named.get(name)
        url, dpi = (cfg.url, cfg.dpi) if cfg else (name, 203)
        out.append(PrinterRow(name, url, dpi, queued=jobs.get((name, "queued"), 0) + jobs.get((name, "printing"), 0),
                              held=jobs.get((name, "needs_decision"), 0), this_desk=name == mine))
    sc = settings.scanner
    scanner = [
        (_("serial scanner"), sc.url or _("none (keyboard wedge only)")),
        (_("scan prefix / suffix"), f"{sc.prefix or '—'} / {sc.suffix or '—'}"),
        (_("GS substitutes"), " ".join(sc.gs_substitutes) or "—"),
        (_("inter-key timing"), f"{sc.timing} ({sc.max_interkey_ms} ms)"),
    ]
    return Devices(out, scanner)


def probe_printer(url: str, *, timeout: float = 2.0) -> tuple[str, bool]:
    """Ask a printer's ``~HS`` status: (what it said, is it ready). Never raises for a device fault."""
    from wsms_tui.devices.printer import PrinterError, open_printer

    try:
        p = open_printer(url, timeout=timeout)
    except PrinterError as exc:
        return str(exc), False
    try:
        status = p.query_status()
    except PrinterError as exc:
        return str(exc), False
    finally:
        p.close()
    return status.describe(), bool(status.ready)


@dataclass
class Check:
    name: str
    #: True passed, False found problems, None the actor may not run it
    ok: bool | None
    summary: str
    problems: list[str] = field(default_factory=list)


def ledger_summary(report: LedgerReport) -> str:
    """One line on a ``ledger verify`` (the CLI prints it after ``ledger verify:``)."""
    if report.ok:
        return _("OK — {e:,} entries, {q:,} quants match").format(e=report.entries, q=report.quants)
    return _("{n:,} problem(s) in {e:,} entries / {q:,} quants").format(n=len(report.problems), e=report.entries,
                                                                       q=report.quants)


def verify_audit(db: Database, actor: Actor) -> ChainReport:
    """``audit verify``: walk the hash chain (roles with ``audit.verify``)."""
    require(db, actor, "audit.verify")
    return db.read(verify_chain)


def audit_summary(report: ChainReport) -> str:
    """One line on an ``audit verify`` (the CLI prints it after ``audit verify:``)."""
    if report.ok:
        return _("OK — {e:,} events, chain intact").format(e=report.events)
    return _("{n:,} problem(s) in {e:,} events").format(n=len(report.problems), e=report.events)


def run_checks(db: Database, actor: Actor) -> list[Check]:
    """``ledger verify`` (quants rebuilt from the ledger) and ``audit verify`` (the hash chain), each only
    when the actor's role may run it (else a ``Check`` that says so)."""
    out = []
    if actor.can("ledger.verify"):
        lr = verify_ledger(db, actor)
        out.append(Check("ledger", lr.ok, ledger_summary(lr), lr.problems))
    else:
        out.append(Check("ledger", None, _("{role} may not run ledger verify").format(role=actor.role.value)))
    if actor.can("audit.verify"):
        ar = verify_audit(db, actor)
        out.append(Check("audit", ar.ok, audit_summary(ar), ar.problems))
    else:
        out.append(Check("audit", None, _("{role} may not run audit verify").format(role=actor.role.value)))
    return out
