"""Permission checks inside the services: a refusal is audited in its own transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from wsms_tui import audit
from wsms_tui.database import Database
from wsms_tui.db.models import User
from wsms_tui.errors import PermissionDenied
from wsms_tui.i18n import _
from wsms_tui.security import PERMISSIONS, Actor


def account(db: Database, actor: Actor) -> Any:
    """The actor's account as it is now: a row (``active``, ``role``), or None when there is no such user. One
    indexed row over a plain read-only connection (a deferred BEGIN on SQLite): a third of a session's cost."""
    with db.engine.connect().execution_options(wsms_readonly=True) as conn:
        return conn.execute(select(User.active, User.role).where(User.id == actor.user_id)).first()


def require(db: Database, actor: Actor, action: str, obj: str = "") -> None:
    """Raise ``PermissionDenied`` (and audit it) unless the actor may do ``action`` now.

    The actor's role is the one it logged in with; the account is read again at every call, so a user an
    admin disabled, or gave a role without this right, is refused from then on at desks that are still
    open (a role with more rights counts from the next login)."""
    if actor.can(action):
        now = account(db, actor)
        if now is not None and now.active and now.role in PERMISSIONS.get(action, frozenset()):
            return
        if now is None or not now.active:
            why, message = "disabled", _("the account of {name} is disabled, so this is refused; ask an admin").format(
                name=actor.name)
        else:
            why, message = "role changed", _(
                "{name} is {role} now and may not {action}; log in again, or ask a supervisor or an admin").format(
                name=actor.name, role=now.role, action=action)
    else:
        why = ""
        message = _("{role} {name} may not {action}; ask a supervisor or an admin").format(
            role=str(actor.role), name=actor.name, action=action)
    payload = {"wanted": action, "role": str(actor.role)} | ({"now": why} if why else {})
    db.write(lambda s: audit.record(s, actor, "permission.denied", obj, payload))
    raise PermissionDenied(message)
