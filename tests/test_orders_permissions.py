"""Every role against every order action (both backends), derived from ``PERMISSIONS``: a refusal
raises ``PermissionDenied``, is audited and changes nothing; an allowed call works."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import make_actor
from tests.orders_seed import line, order_csv, seed_orders
from tests.test_permissions import assert_refused_and_audited, events_after, snapshot
from wsms_tui import ledger, orders
from wsms_tui import order_exceptions as ex
from wsms_tui.allocation import allocate
from wsms_tui.database import Database
from wsms_tui.db.models import Role
from wsms_tui.order_import import import_orders
from wsms_tui.security import PERMISSIONS, Actor

ORDER_ACTIONS = {a for a in PERMISSIONS if a.split(".")[0] in ("orders", "channels", "exceptions")}
Call = Callable[[Database, Actor, Path], Any]

CASES: dict[str, Call] = {
    "orders.view": lambda db, a, p: orders.order_page(db, a),
    "orders.import": lambda db, a, p: import_orders(db, a, order_csv(p / f"{a.name}.csv", line(a.name, "P1", 1)),
                                                    channel="SHOP", allocate=False),
    "orders.allocate": lambda db, a, p: allocate(db, a),
    "orders.cancel": lambda db, a, p: orders.cancel_order(db, a, "CANCEL", reason="test"),
    "orders.ship": lambda db, a, p: orders.ship_order(db, a, "SHIP", op_id=f"ship-{a.name}"),
    "channels.manage": lambda db, a, p: orders.save_channel(db, a, f"CH-{a.name}"),
    "exceptions.view": lambda db, a, p: ex.ticket_page(db, a),
    "exceptions.work": lambda db, a, p: ex.add_note(db, a, ex.ticket_page(db, db.system_actor())[0].id, "hi"),
    "exceptions.report": lambda db, a, p: ex.report_short_pick(db, a, "PICK", 1, qty=1, location="A-01",
                                                               op_id=f"short-{a.name}"),
}


def test_every_order_action_is_driven() -> None:
    assert set(CASES) == ORDER_ACTIONS


@pytest.mark.parametrize("role", [Role.CLERK, Role.FINANCE, Role.SUPERVISOR, Role.ADMIN])
def test_role_against_every_order_action(db: Database, admin: Actor, role: Role, tmp_path: Path) -> None:
    seed_orders(db, admin)
    ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="stock")
    import_orders(db, admin, order_csv(tmp_path / "seed.csv", line("CANCEL", "P1", 1), line("SHIP", "P1", 1),
                                       line("PICK", "P1", 2), line("SHORT", "P2", 1)), channel="SHOP")
    actor = make_actor(db, role, name=f"the-{role.value}")
    for action, call in sorted(CASES.items()):
        if not actor.can(action):
            assert_refused_and_audited(db, actor, action, lambda c=call: c(db, actor, tmp_path))
        else:
            before = snapshot(db)
            call(db, actor, tmp_path)
            assert all(e.action != "permission.denied" for e in events_after(db, before.audit_seq)), action
    # silent for the status bar: no refusal recorded for a role that just doesn't see the notice
    before = snapshot(db)
    notice = ex.open_exception_count(db, actor)
    assert (notice.open > 0) == actor.can("exceptions.view")
    assert events_after(db, before.audit_seq) == []
