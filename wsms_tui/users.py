"""Users and logins: add/list users, disable/enable them, reset PINs, change roles, PIN login with a
growing delay after repeated failures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from wsms_tui import audit, authz
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, Meta, Role, User
from wsms_tui.errors import BadInput, LoginFailed, PermissionDenied
from wsms_tui.i18n import _
from wsms_tui.security import Actor, hash_pin, verify_pin

FREE_ATTEMPTS = 3
#: the roles a user may have, in the order they are listed
ROLE_NAMES = tuple(r.value for r in Role)
MAX_LOCK_SECONDS = 300


@dataclass(frozen=True)
class UserInfo:
    id: int
    name: str
    full_name: str
    role: str
    active: bool


@dataclass(frozen=True)
class DemoLogin:
    name: str
    role: str
    pin: str


def check_pin_shape(pin: str) -> None:
    if not (4 <= len(pin) <= 32) or any(c.isspace() for c in pin):
        raise BadInput(_("a PIN is 4 to 32 characters without spaces"))


def add_user(db: Database, actor: Actor, name: str, role: str, pin: str, full_name: str = "") -> UserInfo:
    require(db, actor, "user.add", f"user:{name}")
    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise BadInput(_("a user name is 1 to 64 characters without spaces"))
    r = _parse_role(role)
    check_pin_shape(pin)
    pin_hash = hash_pin(pin)

    def work(s: Session) -> UserInfo:
        if s.execute(select(User.id).where(User.name == name)).first():
            raise BadInput(_("user {name} exists already").format(name=name))
        u = User(name=name, full_name=full_name, role=r.value, pin_hash=pin_hash, created_at=audit.utcnow())
        s.add(u)
        s.flush()
        assert u.id is not None
        audit.record(s, actor, "user.add", f"user:{u.id}", {"name": name, "role": r.value})
        return UserInfo(u.id, u.name, u.full_name, u.role, True)

    try:
        return db.write(work)
    except IntegrityError:
        raise BadInput(_("user {name} exists already").format(name=name)) from None


def list_users(db: Database, actor: Actor) -> list[UserInfo]:
    require(db, actor, "user.list")
    return db.read(lambda s: [
        UserInfo(u.id, u.name, u.full_name, u.role, u.active)
        for u in s.execute(select(User).where(User.is_system == False).order_by(User.name)).scalars()  # noqa: E712
    ])


def _parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise BadInput(_("role must be one of: {roles}").format(roles=", ".join(x.value for x in Role))) from None


def _info(u: User) -> UserInfo:
    assert u.id is not None
    return UserInfo(u.id, u.name, u.full_name, u.role, u.active)


def _lock_active_admins(s: Session) -> list[int]:
    """Lock the active (non-system) admins' rows, in id order, and return their ids.

    Called first in a transaction that may take away an admin, so two admins disabling or demoting
    each other queue on these rows (PostgreSQL) or on the write lock (SQLite, ``BEGIN IMMEDIATE``):
    the second sees the first's change and the last active admin always stays."""
    q = (select(User.id).where(User.role == Role.ADMIN.value, User.active == True,  # noqa: E712
                               User.is_system == False).order_by(User.id).with_for_update())  # noqa: E712
    return [int(i) for i in s.execute(q).scalars()]


def _still_admin(s: Session, actor: Actor, admins: list[int]) -> None:
    """The acting user must still be an active admin now (``admins``: the locked active admins), not only
    when they logged in: an admin disabled or demoted meanwhile cannot undo it from an open desk."""
    if actor.user_id in admins:
        return
    if s.execute(select(User.is_system).where(User.id == actor.user_id)).scalar():
        return  # the built-in system admin (the CLI)
    raise PermissionDenied(_("{name} is no longer an active admin, so this is refused; log in again").format(
        name=actor.name))


def _target(s: Session, name: str) -> User:
    """The (locked) user called ``name``; the built-in system user counts as unknown."""
    u = s.execute(select(User).where(User.name == name).with_for_update()).scalars().first()
    if u is None or u.is_system:
        raise BadInput(_("there is no user {name}: check the name in the user list").format(name=name))
    return u


def set_active(db: Database, actor: Actor, name: str, active: bool) -> UserInfo:
    """Disable (no more logins) or enable a user. Refuses disabling oneself or the last active admin."""
    require(db, actor, "user.manage", f"user:{name}")
    name = name.strip()

    def work(s: Session) -> UserInfo:
        admins = _lock_active_admins(s)  # admins first, then the target: one lock order
        _still_admin(s, actor, admins)
        u = _target(s, name)
        if u.active == active:
            return _info(u)
        if not active and u.id == actor.user_id:
            raise BadInput(_("you cannot disable yourself: ask another admin to do it"))
        if admins == [u.id]:
            raise BadInput(_("{name} is the last active admin and cannot be disabled: make another user admin "
                             "first").format(name=u.name))
        s.execute(update(User).where(User.id == u.id).values(active=active))
        audit.record(s, actor, "user.enable" if active else "user.disable", f"user:{u.id}", {"name": u.name})
        assert u.id is not None
        return UserInfo(u.id, u.name, u.full_name, u.role, active)

    return db.write(work)


def set_pin(db: Database, actor: Actor, name: str, pin: str) -> UserInfo:
    """Give a user a new PIN and lift any login lockout (the failure count starts again at zero)."""
    require(db, actor, "user.manage", f"user:{name}")
    name = name.strip()
    check_pin_shape(pin)
    pin_hash = hash_pin(pin)

    def work(s: Session) -> UserInfo:
        _still_admin(s, actor, _lock_active_admins(s))
        u = _target(s, name)
        s.execute(update(User).where(User.id == u.id).values(pin_hash=pin_hash, failed_logins=0, locked_until=None))
        audit.record(s, actor, "user.pin", f"user:{u.id}", {"name": u.name})
        return _info(u)

    return db.write(work)


def set_role(db: Database, actor: Actor, name: str, role: str) -> UserInfo:
    """Change a user's role. Refuses taking the admin role from the last active admin."""
    require(db, actor, "user.manage", f"user:{name}")
    name = name.strip()
    r = _parse_role(role)

    def work(s: Session) -> UserInfo:
        admins = _lock_active_admins(s)  # admins first, then the target
        _still_admin(s, actor, admins)
        u = _target(s, name)
        if u.role == r.value:
            return _info(u)
        if admins == [u.id]:
            raise BadInput(_("{name} is the last active admin and must stay admin: make another user admin "
                             "first").format(name=u.name))
        was = u.role
        s.execute(update(User).where(User.id == u.id).values(role=r.value))
        audit.record(s, actor, "user.role", f"user:{u.id}", {"name": u.name, "from": was, "to": r.value})
        assert u.id is not None
        return UserInfo(u.id, u.name, u.full_name, r.value, u.active)

    return db.write(work)


def _aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def _lock_seconds(failures: int) -> int:
    return min(5 * 2 ** (failures - FREE_ATTEMPTS), MAX_LOCK_SECONDS)


def _refuse_unknown(s: Session, probe: Actor, name: str, now: datetime) -> str:
    """An unknown (or inactive) name gets exactly the answers a real user would, lockout included, so
    the login screen never tells which users exist. Its failures are counted from the audit log."""
    obj = f"user:{name}"
    since = now - timedelta(seconds=MAX_LOCK_SECONDS * 2)
    failed = s.execute(select(AuditEvent.at).where(AuditEvent.action == "login.failed", AuditEvent.object == obj,
                                                  AuditEvent.at > since).order_by(AuditEvent.seq)).scalars().all()
    failures = len(failed)
    if failures >= FREE_ATTEMPTS:
        until = _aware(failed[-1]) + timedelta(seconds=_lock_seconds(failures))
        if until > now:
            wait = int((until - now).total_seconds()) + 1
            audit.record(s, probe, "login.refused", obj, {"reason": "locked", "wait_s": wait})
            return _("too many wrong PINs: wait {n} s and try again").format(n=wait)
    failures += 1
    audit.record(s, probe, "login.failed", obj, {"reason": "unknown or inactive user", "failures": failures})
    if failures >= FREE_ATTEMPTS:
        return _("wrong PIN; too many failures: wait {n} s before the next try").format(n=_lock_seconds(failures))
    return _("unknown user or wrong PIN")


def account_changed(db: Database, actor: Actor) -> str:
    """Why ``actor``'s session should end now ("" when it may go on): the account was disabled, or its role is
    no longer the one it logged in with."""
    row = authz.account(db, actor)
    if row is None or not row.active:
        return _("the account of {name} was disabled").format(name=actor.name)
    if row.role != actor.role:
        return _("{name} is {role} now: log in again").format(name=actor.name, role=row.role)
    return ""


def logout(db: Database, actor: Actor, reason: str = "") -> None:
    """Record that ``actor`` left this terminal (the F12 key, or logged out after idling: ``reason``)."""
    db.write(lambda s: audit.record(s, actor, "logout", f"user:{actor.user_id}",
                                    {"reason": reason} if reason else {}))


def authenticate(db: Database, name: str, pin: str, terminal: str) -> Actor:
    """Check a user's PIN; audit the attempt; refuse for a growing time after repeated failures."""
    name = name.strip()

    def work(s: Session) -> Actor | str:
        now = audit.utcnow()
        user = s.execute(select(User).where(User.name == name).with_for_update()).scalars().first()
        probe = Actor(0, name or "?", Role.CLERK, terminal)
        if user is None or user.is_system or not user.active:
            return _refuse_unknown(s, probe, name, now)
        actor = Actor(user.id or 0, user.name, Role(user.role), terminal)
        if user.locked_until is not None and _aware(user.locked_until) > now:
            wait = int((_aware(user.locked_until) - now).total_seconds()) + 1
            audit.record(s, actor, "login.refused", f"user:{user.id}", {"reason": "locked", "wait_s": wait})
            return _("too many wrong PINs: wait {n} s and try again").format(n=wait)
        if not verify_pin(user.pin_hash, pin):
            failures = user.failed_logins + 1
            locked_until = None
            if failures >= FREE_ATTEMPTS:
                locked_until = now + timedelta(seconds=_lock_seconds(failures))
            s.execute(update(User).where(User.id == user.id).values(failed_logins=failures,
                                                                    locked_until=locked_until))
            audit.record(s, actor, "login.failed", f"user:{user.id}", {"reason": "wrong PIN", "failures": failures})
            if locked_until is not None:
                wait = int((locked_until - now).total_seconds())
                return _("wrong PIN; too many failures: wait {n} s before the next try").format(n=wait)
            return _("unknown user or wrong PIN")
        s.execute(update(User).where(User.id == user.id).values(failed_logins=0, locked_until=None))
        audit.record(s, actor, "login.ok", f"user:{user.id}", {})
        return actor

    result = db.write(work)
    if isinstance(result, str):
        raise LoginFailed(result)
    return result


def demo_logins(db: Database) -> list[DemoLogin]:
    """The demo users and PINs, present only in a database built by ``wsms demo``."""
    raw = db.read(lambda s: s.execute(select(Meta.value).where(Meta.key == "demo_logins")).scalar())
    if not raw:
        return []
    return [DemoLogin(**d) for d in json.loads(raw)]
