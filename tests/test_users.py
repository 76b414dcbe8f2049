"""User management on SQLite and PostgreSQL: disable/enable, new PIN, new role, and their guards.

Every refusal is a ``BadInput`` that says what to do; every change writes one audit event (never
the PIN); the last active admin can be neither disabled nor demoted, not even by two admins at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from tests.helpers import make_actor
from wsms_tui import users
from wsms_tui.cli import app
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, AuditHead, Role, User
from wsms_tui.errors import BadInput, LoginFailed, PermissionDenied
from wsms_tui.security import Actor

runner = CliRunner()


def events_after(db: Database, seq: int) -> list[AuditEvent]:
    return db.read(lambda s: list(s.execute(select(AuditEvent).where(AuditEvent.seq > seq)
                                            .order_by(AuditEvent.seq)).scalars()))


def last_seq(db: Database) -> int:
    return int(db.read(lambda s: s.execute(select(func.max(AuditEvent.seq))).scalar()) or 0)


def user_row(db: Database, name: str) -> User:
    return db.read(lambda s: s.execute(select(User).where(User.name == name)).scalars().one())


def changes_after(db: Database, seq: int) -> list[tuple[str, str, dict[str, Any]]]:
    """The audit events after ``seq`` other than logins, as (action, object, payload)."""
    return [(e.action, e.object, json.loads(e.payload)) for e in events_after(db, seq)
            if not e.action.startswith("login.")]


def test_disable_refuses_login_and_enable_allows_it_again(db: Database, admin: Actor) -> None:
    make_actor(db, Role.CLERK, name="li.wei", pin="4321")
    uid = user_row(db, "li.wei").id
    seq = last_seq(db)
    info = users.set_active(db, admin, "li.wei", False)
    assert (info.name, info.active) == ("li.wei", False)
    assert changes_after(db, seq) == [("user.disable", f"user:{uid}", {"name": "li.wei"})]
    with pytest.raises(LoginFailed, match="unknown user or wrong PIN"):
        users.authenticate(db, "li.wei", "4321", "t")
    assert [u.active for u in users.list_users(db, admin) if u.name == "li.wei"] == [False]

    seq = last_seq(db)
    assert users.set_active(db, admin, "li.wei", False).active is False  # already disabled: no event
    assert changes_after(db, seq) == []

    assert users.set_active(db, admin, "li.wei", True).active is True
    assert changes_after(db, seq) == [("user.enable", f"user:{uid}", {"name": "li.wei"})]
    assert users.authenticate(db, "li.wei", "4321", "t").name == "li.wei"
    seq = last_seq(db)
    assert users.set_active(db, admin, "li.wei", True).active is True  # already enabled: no event
    assert changes_after(db, seq) == []


def test_new_pin_works_lifts_the_lockout_and_is_never_audited(db: Database, admin: Actor) -> None:
    make_actor(db, Role.CLERK, name="li.wei", pin="4321")
    uid = user_row(db, "li.wei").id
    for _ in range(users.FREE_ATTEMPTS):
        with pytest.raises(LoginFailed):
            users.authenticate(db, "li.wei", "0000", "t")
    locked = user_row(db, "li.wei")
    assert locked.failed_logins == users.FREE_ATTEMPTS and locked.locked_until is not None
    old_hash = locked.pin_hash

    seq = last_seq(db)
    info = users.set_pin(db, admin, "li.wei", "98765")
    assert info.name == "li.wei"
    row = user_row(db, "li.wei")
    assert (row.failed_logins, row.locked_until) == (0, None)
    assert row.pin_hash != old_hash and "98765" not in (row.pin_hash or "")
    events = events_after(db, seq)
    assert [(e.action, e.object, json.loads(e.payload)) for e in events] == [
        ("user.pin", f"user:{uid}", {"name": "li.wei"})]
    assert all("98765" not in e.payload and (row.pin_hash or "") not in e.payload for e in events)
    with pytest.raises(LoginFailed):
        users.authenticate(db, "li.wei", "4321", "t")  # the old PIN is gone
    assert users.authenticate(db, "li.wei", "98765", "t").name == "li.wei"  # no lockout wait


def test_set_role_audits_from_and_to(db: Database, admin: Actor) -> None:
    make_actor(db, Role.CLERK, name="li.wei")
    uid = user_row(db, "li.wei").id
    seq = last_seq(db)
    info = users.set_role(db, admin, "li.wei", "supervisor")
    assert info.role == "supervisor" and user_row(db, "li.wei").role == "supervisor"
    assert changes_after(db, seq) == [
        ("user.role", f"user:{uid}", {"name": "li.wei", "from": "clerk", "to": "supervisor"})]
    seq = last_seq(db)
    assert users.set_role(db, admin, "li.wei", "supervisor").role == "supervisor"  # unchanged: no event
    assert changes_after(db, seq) == []
    assert users.authenticate(db, "li.wei", "1234", "t").role == Role.SUPERVISOR


@pytest.mark.parametrize("call, message", [
    (lambda db, a: users.set_active(db, a, "nobody", False), "there is no user nobody"),
    (lambda db, a: users.set_active(db, a, "nobody", True), "there is no user nobody"),
    (lambda db, a: users.set_pin(db, a, "nobody", "5555"), "there is no user nobody"),
    (lambda db, a: users.set_role(db, a, "nobody", "clerk"), "there is no user nobody"),
    (lambda db, a: users.set_pin(db, a, "li.wei", "12"), "a PIN is 4 to 32 characters"),
    (lambda db, a: users.set_pin(db, a, "li.wei", "12 345"), "a PIN is 4 to 32 characters"),
    (lambda db, a: users.set_role(db, a, "li.wei", "emperor"), "role must be one of: admin, supervisor"),
])
def test_refusals_change_nothing(db: Database, admin: Actor, call: Callable[[Database, Actor], Any],
                                 message: str) -> None:
    make_actor(db, Role.CLERK, name="li.wei")
    before = user_row(db, "li.wei")
    seq = last_seq(db)
    with pytest.raises(BadInput, match=message):
        call(db, admin)
    assert changes_after(db, seq) == []
    after = user_row(db, "li.wei")
    assert (after.active, after.role, after.pin_hash) == (before.active, before.role, before.pin_hash)


def test_the_system_user_counts_as_unknown(db: Database, admin: Actor) -> None:
    system_name = admin.name
    make_actor(db, Role.ADMIN, name="ann")
    for call in (lambda: users.set_active(db, admin, system_name, False),
                 lambda: users.set_pin(db, admin, system_name, "5555"),
                 lambda: users.set_role(db, admin, system_name, "clerk")):
        with pytest.raises(BadInput, match=f"there is no user {system_name}"):
            call()
    row = user_row(db, system_name)
    assert (row.active, row.role) == (True, "admin")


def test_nobody_disables_themselves(db: Database) -> None:
    ann = make_actor(db, Role.ADMIN, name="ann")
    make_actor(db, Role.ADMIN, name="bob")
    seq = last_seq(db)
    with pytest.raises(BadInput, match="you cannot disable yourself: ask another admin"):
        users.set_active(db, ann, "ann", False)
    assert changes_after(db, seq) == [] and user_row(db, "ann").active


def test_the_last_active_admin_stays(db: Database, admin: Actor) -> None:
    ann = make_actor(db, Role.ADMIN, name="ann")
    bob = make_actor(db, Role.ADMIN, name="bob")
    make_actor(db, Role.CLERK, name="li.wei")
    users.set_active(db, ann, "bob", False)
    seq = last_seq(db)
    # the system admin does not count: it cannot log in at a desk
    with pytest.raises(BadInput, match="ann is the last active admin and cannot be disabled: make another"):
        users.set_active(db, admin, "ann", False)
    with pytest.raises(BadInput, match="ann is the last active admin and must stay admin: make another"):
        users.set_role(db, ann, "ann", "supervisor")
    assert changes_after(db, seq) == []
    assert (user_row(db, "ann").active, user_row(db, "ann").role) == (True, "admin")
    # a disabled admin may be demoted; with a second active admin, ann may step down
    assert users.set_role(db, ann, "bob", "clerk").role == "clerk"
    assert users.set_role(db, ann, "li.wei", "admin").role == "admin"
    assert users.set_role(db, ann, "ann", "supervisor").role == "supervisor"
    with pytest.raises(BadInput, match="li.wei is the last active admin"):
        users.set_active(db, admin, "li.wei", False)
    assert bob.name == "bob"


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.CLERK, Role.FINANCE])
def test_only_admins_manage_users(db: Database, role: Role) -> None:
    make_actor(db, Role.CLERK, name="li.wei")
    actor = make_actor(db, role, name=f"the-{role.value}")
    for call in (lambda: users.set_active(db, actor, "li.wei", False),
                 lambda: users.set_pin(db, actor, "li.wei", "5555"),
                 lambda: users.set_role(db, actor, "li.wei", "admin")):
        seq = last_seq(db)
        with pytest.raises(PermissionDenied, match="may not user.manage"):
            call()
        assert [e.action for e in events_after(db, seq)] == ["permission.denied"]
    row = user_row(db, "li.wei")
    assert (row.active, row.role) == (True, "clerk")


def _active_admins(db: Database) -> list[str]:
    return db.read(lambda s: list(s.execute(
        select(User.name).where(User.role == "admin", User.active == True, User.is_system == False)  # noqa: E712
        .order_by(User.name)).scalars()))


def _lock_waiters(db: Database) -> int:
    """Backends of this PostgreSQL database waiting on a lock right now."""
    with db.engine.connect() as conn:
        return int(conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'")).scalar_one())


@pytest.mark.parametrize("how", ["disable", "demote"])
def test_two_admins_taking_each_other_away_at_once_leave_one(db: Database, backend: str, how: str) -> None:
    """Ann and Bob, the only admins, remove each other at the same moment: one wins, one is refused.

    A blocker transaction holds the audit log's head (PostgreSQL) or the write lock (SQLite), so both
    calls are inside their transactions before either can commit; the blocker lets go only once both
    wait. Without the admin row locks both would have read two active admins and both would commit."""
    ann = make_actor(db, Role.ADMIN, name="ann")
    bob = make_actor(db, Role.ADMIN, name="bob")

    def call(actor: Actor, target: str) -> None:
        if how == "disable":
            users.set_active(db, actor, target, False)
        else:
            users.set_role(db, actor, target, "clerk")

    results: dict[str, str] = {}

    def run(actor: Actor, target: str) -> None:
        try:
            call(actor, target)
            results[actor.name] = "ok"
        except (BadInput, PermissionDenied) as exc:
            results[actor.name] = str(exc)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            results[actor.name] = f"error: {exc!r}"

    blocker = db.engine.connect()
    try:
        blocker.begin()  # SQLite: BEGIN IMMEDIATE, the write lock
        if backend == "postgresql":
            blocker.execute(select(AuditHead.seq).where(AuditHead.id == 1).with_for_update())
        base = _lock_waiters(db) if backend == "postgresql" else 0
        threads = [threading.Thread(target=run, args=(ann, "bob")), threading.Thread(target=run, args=(bob, "ann"))]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        if backend == "postgresql":
            while _lock_waiters(db) < base + 2:
                if time.monotonic() > deadline:
                    pytest.skip("the two calls did not both reach their lock waits in 10 s")
                time.sleep(0.02)
        else:
            time.sleep(0.3)  # both wait on the write lock (busy timeout 10 s)
    finally:
        blocker.rollback()
        blocker.close()
    for t in threads:
        t.join(30)
    assert len(results) == 2 and list(results.values()).count("ok") == 1, results
    refused = next(v for v in results.values() if v != "ok")
    # the loser finds itself already taken away (no longer admin), or itself the last admin left
    assert "is the last active admin" in refused or "no longer an active admin" in refused, results
    assert len(_active_admins(db)) == 1


def wsms(db_url: str, *args: str, input: str | None = None) -> Any:
    return runner.invoke(app, ["--db", db_url, *args], input=input)


def test_cli_disable_enable_pin_role(db_url: str) -> None:
    assert wsms(db_url, "user", "add", "li.wei", "--role", "clerk", input="4321\n").exit_code == 0
    assert wsms(db_url, "user", "add", "ann", "--role", "admin", input="1111\n").exit_code == 0

    r = wsms(db_url, "user", "disable", "li.wei")
    assert r.exit_code == 0 and "user li.wei disabled" in r.stdout, r.output
    r = wsms(db_url, "user", "list", "--format", "json")
    assert {u["name"]: u["active"] for u in json.loads(r.stdout)} == {"ann": True, "li.wei": False}
    r = runner.invoke(app, ["--db", db_url, "--as", "li.wei", "user", "list"], env={"WSMS_PIN": "4321"})
    assert r.exit_code == 1 and "unknown user or wrong PIN" in r.stderr
    r = wsms(db_url, "user", "enable", "li.wei")
    assert r.exit_code == 0 and "user li.wei enabled" in r.stdout, r.output

    r = wsms(db_url, "user", "pin", "li.wei", input="8765\n")
    assert r.exit_code == 0 and "user li.wei has a new PIN" in r.stdout, r.output
    r = wsms(db_url, "user", "pin", "li.wei", input="\n")
    assert r.exit_code == 1 and "no PIN on standard input" in r.stderr
    r = wsms(db_url, "user", "pin", "li.wei", input="12\n")
    assert r.exit_code == 1 and "a PIN is 4 to 32 characters" in r.stderr

    r = wsms(db_url, "user", "role", "li.wei", "supervisor")
    assert r.exit_code == 0 and "user li.wei now has role supervisor" in r.stdout, r.output
    r = runner.invoke(app, ["--db", db_url, "--as", "li.wei", "user", "list", "--format", "json"],
                      env={"WSMS_PIN": "8765"})
    assert r.exit_code == 0, r.output  # the new PIN and the new role (supervisors may list users)
    r = wsms(db_url, "user", "role", "li.wei", "emperor")
    assert r.exit_code == 1 and "role must be one of" in r.stderr

    r = wsms(db_url, "user", "disable", "ann")
    assert r.exit_code == 1 and "ann is the last active admin" in r.stderr
    r = wsms(db_url, "user", "role", "ann", "clerk")
    assert r.exit_code == 1 and "ann is the last active admin" in r.stderr
    r = wsms(db_url, "user", "disable", "nobody")
    assert r.exit_code == 1 and "there is no user nobody" in r.stderr
    r = runner.invoke(app, ["--db", db_url, "--as", "li.wei", "user", "disable", "ann"], env={"WSMS_PIN": "8765"})
    assert r.exit_code == 1 and "may not user.manage" in r.stderr


def test_an_admin_taken_away_cannot_act_from_a_desk_still_open(db: Database, admin: Actor) -> None:
    """Rights are checked against the user as they are now, not as they logged in: bob, disabled or demoted
    while his Admin desk is open, cannot undo it, nor change anyone else."""
    ann = make_actor(db, Role.ADMIN, name="ann")
    bob = make_actor(db, Role.ADMIN, name="bob")  # the actor of bob's open session
    make_actor(db, Role.CLERK, name="li.wei")
    users.set_role(db, ann, "bob", "clerk")
    for call in (lambda: users.set_role(db, bob, "bob", "admin"), lambda: users.set_active(db, bob, "ann", False),
                 lambda: users.set_pin(db, bob, "li.wei", "5555")):
        with pytest.raises(PermissionDenied, match="bob is clerk now and may not user.manage"):  # authz.require
            call()
    users.set_role(db, ann, "bob", "admin")
    users.set_active(db, ann, "bob", False)
    with pytest.raises(PermissionDenied, match="account of bob is disabled"):
        users.set_active(db, bob, "bob", True)
    state = {u.name: (u.role, u.active) for u in users.list_users(db, admin)}
    assert state["bob"] == ("admin", False) and state["ann"] == ("admin", True)
    assert users.set_active(db, admin, "bob", True).active  # the system admin (CLI) still can
