"""The audit hash chain finds tampering and names the row; PIN logins are audited and throttled.

Tampering is done the way an intruder with database access would: raw SQL, bypassing the services.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text, update
from sqlmodel import Session

from tests.helpers import make_actor, seed_basic
from wsms_tui import audit, ledger
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, AuditHead, Role, User
from wsms_tui.errors import LoginFailed
from wsms_tui.security import Actor
from wsms_tui.users import FREE_ATTEMPTS, authenticate


def build_history(db: Database, admin: Actor, n: int = 6) -> int:
    """A few real events; returns the last sequence number."""
    seed_basic(db)
    for i in range(n):
        ledger.receive(db, admin, product="P1", qty=i + 1, location="A-01", op_id=f"r{i}")
    return db.read(lambda s: int(s.execute(select(AuditHead.seq)).scalar_one()))


def verify(db: Database) -> audit.ChainReport:
    return db.read(audit.verify_chain)


def named(report: audit.ChainReport) -> set[int]:
    """Every sequence number the report's problems name (``audit event 5``, ``audit event(s) 5–7``)."""
    seqs: set[int] = set()
    for p in report.problems:
        for lo, hi in re.findall(r"audit event(?:\(s\))? (\d+)(?:–(\d+))?", p):
            seqs.update(range(int(lo), int(hi or lo) + 1))
    return seqs


def raw(db: Database, sql: str, **params: object) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def test_untouched_chain_is_clean(db: Database, admin: Actor) -> None:
    last = build_history(db, admin)
    report = verify(db)
    assert report.ok, report.problems
    assert report.events == last == 6
    assert named(report) == set()


def test_edited_payload_is_found_by_seq(db: Database, admin: Actor) -> None:
    last = build_history(db, admin)
    victim = last - 2
    raw(db, "UPDATE audit_event SET payload = :p WHERE seq = :s", p='{"qty":"1000"}', s=victim)
    report = verify(db)
    assert not report.ok
    assert any(f"audit event {victim} " in p and "edited" in p for p in report.problems), report.problems
    assert named(report) == {victim}


def test_edited_actor_is_found_even_with_a_recomputed_hash(db: Database, admin: Actor) -> None:
    last = build_history(db, admin)
    victim = last - 3
    ev = db.read(lambda s: s.execute(select(AuditEvent).where(AuditEvent.seq == victim)).scalar_one())
    forged = audit.event_hash(ev.seq, ev.at, "someone-else", ev.terminal, ev.action, ev.object, ev.payload,
                              ev.prev_hash)
    raw(db, "UPDATE audit_event SET actor = 'someone-else', hash = :h WHERE seq = :s", h=forged, s=victim)
    report = verify(db)
    assert not report.ok
    # the row itself now hashes right, so the break shows where the next row points back to it
    assert any(f"audit event {victim + 1}: does not chain" in p for p in report.problems), report.problems
    assert named(report) == {victim + 1}


def test_deleted_middle_row_is_found_by_seq(db: Database, admin: Actor) -> None:
    last = build_history(db, admin)
    victim = last - 3
    raw(db, "DELETE FROM audit_event WHERE seq = :s", s=victim)
    report = verify(db)
    assert not report.ok
    assert any(p.startswith(f"audit event(s) {victim} deleted") for p in report.problems), report.problems
    assert any(f"audit event {victim + 1}: does not chain" in p for p in report.problems), report.problems
    assert named(report) == {victim, victim + 1}


def test_deleted_last_row_is_found_by_seq(db: Database, admin: Actor) -> None:
    last = build_history(db, admin)
    raw(db, "DELETE FROM audit_event WHERE seq = :s", s=last)
    report = verify(db)
    assert not report.ok
    assert any(f"{last}" in p and "deleted from the end" in p for p in report.problems), report.problems
    assert named(report) == {last}


def test_inserted_row_with_a_plausible_hash_is_found_by_seq(db: Database, admin: Actor) -> None:
    last = build_history(db, admin)
    prev = db.read(lambda s: s.execute(select(AuditEvent).where(AuditEvent.seq == last)).scalar_one())
    at = prev.at + timedelta(seconds=1)
    body = audit.canonical_json({"op_id": "forged", "qty": "50"})
    h = audit.event_hash(last + 1, at, "admin", "t", "ledger.receive", "ledger_entry:999", body, prev.hash)
    with db.engine.begin() as conn:
        conn.execute(insert(AuditEvent.__table__).values(  # type: ignore[attr-defined]
            seq=last + 1, at=at, actor="admin", terminal="t", action="ledger.receive", object="ledger_entry:999",
            payload=body, prev_hash=prev.hash, hash=h))
    report = verify(db)
    assert not report.ok
    assert any(f"{last + 1}" in p and "inserted" in p for p in report.problems), report.problems
    assert named(report) == {last + 1}


def test_row_replaced_in_the_middle_is_found(db: Database, admin: Actor) -> None:
    """Delete a row and insert a forged one in its place, chained correctly to the row before it."""
    last = build_history(db, admin)
    victim = last - 2
    before = db.read(lambda s: s.execute(select(AuditEvent).where(AuditEvent.seq == victim - 1)).scalar_one())
    old = db.read(lambda s: s.execute(select(AuditEvent).where(AuditEvent.seq == victim)).scalar_one())
    body = audit.canonical_json({**json.loads(old.payload), "qty": "999"})
    h = audit.event_hash(victim, old.at, old.actor, old.terminal, old.action, old.object, body, before.hash)
    raw(db, "DELETE FROM audit_event WHERE seq = :s", s=victim)
    with db.engine.begin() as conn:
        conn.execute(insert(AuditEvent.__table__).values(  # type: ignore[attr-defined]
            seq=victim, at=old.at, actor=old.actor, terminal=old.terminal, action=old.action, object=old.object,
            payload=body, prev_hash=before.hash, hash=h))
    report = verify(db)
    assert not report.ok
    assert named(report) == {victim + 1}, report.problems


def test_chain_keeps_growing_cleanly_after_verify(db: Database, admin: Actor) -> None:
    build_history(db, admin, n=2)
    assert verify(db).ok
    ledger.receive(db, admin, product="P1", qty=1, location="A-02", op_id="later")
    assert verify(db).ok


# --------------------------------------------------------------------------- logins


def login_events(db: Database, name_or_id: str) -> list[tuple[str, dict[str, object]]]:
    rows = db.read(lambda s: s.execute(
        select(AuditEvent.action, AuditEvent.payload).where(AuditEvent.object == f"user:{name_or_id}")
        .where(AuditEvent.action.like("login.%")).order_by(AuditEvent.seq)).all())  # type: ignore[attr-defined]
    return [(a, json.loads(p)) for a, p in rows]


def test_wrong_pin_fails_and_is_audited(db: Database) -> None:
    clerk = make_actor(db, Role.CLERK, name="ann", pin="2468")
    with pytest.raises(LoginFailed):
        authenticate(db, "ann", "1111", "desk-1")
    events = login_events(db, str(clerk.user_id))
    assert [a for a, _p in events] == ["login.ok", "login.failed"]  # make_actor logged in once
    assert events[-1][1]["reason"] == "wrong PIN"
    assert authenticate(db, "ann", "2468", "desk-1").user_id == clerk.user_id


def test_unknown_user_gets_the_same_message_as_a_wrong_pin(db: Database) -> None:
    make_actor(db, Role.CLERK, name="ann", pin="2468")
    with pytest.raises(LoginFailed) as wrong:
        authenticate(db, "ann", "1111", "desk-1")
    with pytest.raises(LoginFailed) as unknown:
        authenticate(db, "nobody", "1111", "desk-1")
    assert str(unknown.value) == str(wrong.value)
    assert [a for a, _p in login_events(db, "nobody")] == ["login.failed"]


def test_three_wrong_pins_lock_out_even_the_right_pin(db: Database) -> None:
    clerk = make_actor(db, Role.CLERK, name="bob", pin="2468")
    for _ in range(FREE_ATTEMPTS - 1):
        with pytest.raises(LoginFailed):
            authenticate(db, "bob", "0000", "desk-2")
    with pytest.raises(LoginFailed, match=r"wait \d+ s") as third:
        authenticate(db, "bob", "0000", "desk-2")
    assert "5 s" in str(third.value)
    with pytest.raises(LoginFailed, match=r"wait \d+ s") as refused:
        authenticate(db, "bob", "2468", "desk-2")
    wait = int(re.search(r"wait (\d+) s", str(refused.value)).group(1))  # type: ignore[union-attr]
    assert 1 <= wait <= 5
    events = login_events(db, str(clerk.user_id))
    assert [a for a, _p in events][-4:] == ["login.failed"] * 3 + ["login.refused"]
    assert events[-1][1]["reason"] == "locked"

    # the lock runs out (moved into the past rather than sleeping): the right PIN works again,
    # and the failure count starts over
    def expire(s: Session) -> None:
        s.execute(update(User).where(User.id == clerk.user_id)  # type: ignore[arg-type]
                  .values(locked_until=audit.utcnow() - timedelta(seconds=1)))

    db.write(expire)
    assert authenticate(db, "bob", "2468", "desk-2").user_id == clerk.user_id
    with pytest.raises(LoginFailed) as again:
        authenticate(db, "bob", "0000", "desk-2")
    assert "wait" not in str(again.value)
    assert db.read(audit.verify_chain).ok


def test_repeated_lockouts_grow(db: Database) -> None:
    clerk = make_actor(db, Role.CLERK, name="cy", pin="2468")
    waits = []
    for _ in range(3):
        for _ in range(FREE_ATTEMPTS if not waits else 1):
            with pytest.raises(LoginFailed) as exc:
                authenticate(db, "cy", "0000", "desk-3")
        waits.append(int(re.search(r"wait (\d+) s", str(exc.value)).group(1)))  # type: ignore[union-attr]
        db.write(lambda s: s.execute(update(User).where(User.id == clerk.user_id)  # type: ignore[arg-type]
                                     .values(locked_until=audit.utcnow() - timedelta(seconds=1))))
    assert waits == [5, 10, 20]


def test_an_unknown_name_is_locked_out_like_a_real_user(db: Database) -> None:
    """Same answers, attempt by attempt, for a real user with wrong PINs and for a name that does not exist:
    the login screen never tells which users exist."""
    make_actor(db, Role.CLERK, name="carl", pin="2468")
    real, ghost = [], []
    for _ in range(FREE_ATTEMPTS + 1):
        for name, out in (("carl", real), ("ghost", ghost)):
            with pytest.raises(LoginFailed) as exc:
                authenticate(db, name, "0000", "desk-3")
            out.append(re.sub(r"\d+ s", "N s", str(exc.value)))
    assert ghost == real
    assert ghost[-2:] == ["wrong PIN; too many failures: wait N s before the next try",
                          "too many wrong PINs: wait N s and try again"]
    assert [a for a, _p in login_events(db, "ghost")] == ["login.failed"] * FREE_ATTEMPTS + ["login.refused"]
