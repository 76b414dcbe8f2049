"""Roles, the permission matrix, actors and PIN hashing.

Every service call carries an ``Actor`` (user + terminal) and checks it with ``require`` inside
the service, so hiding a button in the UI is never the only guard. The matrix is documented in
docs/PERMISSIONS.md; a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from wsms_tui.db.models import Role

ALL = frozenset(Role)
OFFICE = frozenset({Role.ADMIN, Role.SUPERVISOR})

#: action -> roles allowed to perform it
PERMISSIONS: dict[str, frozenset[Role]] = {
    "stock.view": ALL,
    "ledger.view": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.FINANCE}),
    "ledger.verify": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.FINANCE}),
    "audit.verify": frozenset({Role.ADMIN, Role.FINANCE}),
    "move.receive": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "move.transfer": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "move.reserve": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "move.unreserve": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "move.reverse": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "move.reverse_any": OFFICE,
    "move.adjust": OFFICE,
    "move.post": OFFICE,
    "catalog.import": OFFICE,
    "print.label": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "print.reprint": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "orders.view": ALL,
    "orders.import": OFFICE,
    "orders.allocate": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "orders.cancel": OFFICE,
    "orders.ship": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "channels.manage": OFFICE,
    "exceptions.view": OFFICE,
    "exceptions.work": OFFICE,
    "exceptions.report": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "packing.pack": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "packing.ship": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "shipments.view": ALL,
    "waves.view": ALL,
    "waves.plan": OFFICE,
    "waves.release": OFFICE,
    "pick.pick": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "replen.manage": OFFICE,
    "replen.move": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "user.add": frozenset({Role.ADMIN}),
    "user.list": OFFICE,
    "user.manage": frozenset({Role.ADMIN}),
    "demo.build": frozenset({Role.ADMIN}),
    "count.view": ALL,
    "count.plan": OFFICE,
    "count.count": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.CLERK}),
    "count.review": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.FINANCE}),
    "count.approve": OFFICE,
    "report.view": frozenset({Role.ADMIN, Role.SUPERVISOR, Role.FINANCE}),
    "report.rebuild": frozenset({Role.ADMIN}),
}


@dataclass(frozen=True)
class Actor:
    """Who is acting, from where: carried by every service call."""

    user_id: int
    name: str
    role: Role
    terminal: str = ""

    def can(self, action: str) -> bool:
        return self.role in PERMISSIONS.get(action, frozenset())


# Parameters per RFC 9106's second recommended option, lighter in memory for small terminals.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


def hash_pin(pin: str) -> str:
    return _hasher.hash(pin)


def verify_pin(pin_hash: str | None, pin: str) -> bool:
    if not pin_hash:
        return False
    try:
        return _hasher.verify(pin_hash, pin)
    except (VerificationError, InvalidHashError):
        return False
