"""Permission checks inside the services: a refusal is audited in its own transaction."""

from __future__ import annotations

from wsms_tui import audit
from wsms_tui.database import Database
from wsms_tui.errors import PermissionDenied
from wsms_tui.i18n import _
from wsms_tui.security import Actor


def require(db: Database, actor: Actor, action: str, obj: str = "") -> None:
    """Raise ``PermissionDenied`` (and audit it) unless the actor's role may do ``action``."""
    if actor.can(action):
        return
    db.write(lambda s: audit.record(s, actor, "permission.denied", obj,
                                    {"wanted": action, "role": str(actor.role)}))
    raise PermissionDenied(
        _("{role} {name} may not {action}; ask a supervisor or an admin").format(
            role=str(actor.role), name=actor.name, action=action)
    )
