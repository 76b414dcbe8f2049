"""Rejected scans are evidence: each one is written to the audit log with its raw bytes and why."""

from __future__ import annotations

from wsms_tui import audit
from wsms_tui.database import Database
from wsms_tui.security import Actor

MAX_RAW = 512


def record_rejected_scan(db: Database, actor: Actor, *, desk: str, raw: str, reason: str) -> None:
    """Audit a scan the desk refused (bad check digit, unknown code, wrong product …)."""
    shown = raw[:MAX_RAW].encode("unicode_escape").decode("ascii")
    db.write(lambda s: audit.record(s, actor, "scan.rejected", f"desk:{desk}", {
        "raw": shown, "length": len(raw), "reason": reason}))
