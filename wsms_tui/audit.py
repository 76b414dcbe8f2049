"""The tamper-evident audit log: every state change appends an event to a SHA-256 hash chain.

Writers lock the single ``audit_head`` row (after any quants, so the lock order is fixed), take
the next sequence number and chain the new event to the previous hash. ``verify_chain`` walks
the chain and names every edited, inserted or deleted row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session

from wsms_tui.db.models import AuditEvent, AuditHead
from wsms_tui.security import Actor

GENESIS = "0" * 64


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(at: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones. Make both aware UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(seq: int, at: datetime, actor: str, terminal: str, action: str, obj: str,
               payload: str, prev_hash: str) -> str:
    body = json.dumps([seq, _iso(at), actor, terminal, action, obj, payload, prev_hash],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(session: Session, actor: Actor, action: str, obj: str = "",
           payload: dict[str, Any] | None = None, *, at: datetime | None = None) -> int:
    """Append one audit event in the caller's transaction; returns its sequence number."""
    head = session.execute(
        select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
    ).one()
    seq = int(head.seq) + 1
    at = at or utcnow()
    body = canonical_json(payload or {})
    h = event_hash(seq, at, actor.name, actor.terminal, action, obj, body, head.hash)
    session.execute(insert(AuditEvent).values(seq=seq, at=at, actor=actor.name, terminal=actor.terminal,
                                              action=action, object=obj, payload=body, prev_hash=head.hash, hash=h))
    session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=h))
    session.flush()  # the caller's pending objects (nothing to do when there are none)
    return seq


@dataclass
class ChainReport:
    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(session: Session) -> ChainReport:
    """Recompute the chain; report each row whose content, position or neighbours are wrong."""
    report = ChainReport()
    expected_seq = 1
    prev_hash = GENESIS
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=5000))
    for (ev,) in rows:
        report.events += 1
        if ev.seq != expected_seq:
            if ev.seq > expected_seq:
                missing = (f"{expected_seq}" if ev.seq == expected_seq + 1
                           else f"{expected_seq}–{ev.seq - 1}")
                report.problems.append(f"audit event(s) {missing} deleted (sequence jumps to {ev.seq})")
            else:
                report.problems.append(f"audit event {ev.seq} out of order")
        if ev.prev_hash != prev_hash:
            report.problems.append(
                f"audit event {ev.seq}: does not chain to the event before it (a row was inserted or removed)"
            )
        recomputed = event_hash(ev.seq, ev.at, ev.actor, ev.terminal, ev.action, ev.object, ev.payload,
                                ev.prev_hash)
        if recomputed != ev.hash:
            report.problems.append(f"audit event {ev.seq} ({ev.action}): contents edited (hash mismatch)")
        prev_hash = ev.hash
        expected_seq = ev.seq + 1
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one_or_none()
    last_seq = expected_seq - 1
    if head is None:
        report.problems.append("audit chain head row is missing")
    elif head.seq > last_seq:
        report.problems.append(f"audit event(s) {last_seq + 1}–{head.seq} deleted from the end of the log")
    elif head.seq < last_seq:
        report.problems.append(f"audit event(s) {head.seq + 1}–{last_seq} inserted after the chain head")
    elif head.hash != prev_hash:
        report.problems.append(f"audit event {last_seq}: differs from the hash the chain head recorded")
    return report
