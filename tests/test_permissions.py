"""Every role against every service function, on SQLite and PostgreSQL, derived from ``PERMISSIONS``.

A refused call raises ``PermissionDenied``, records one ``permission.denied`` audit event naming the
action, and posts nothing; an allowed call succeeds. docs/PERMISSIONS.md must equal the matrix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from tests.helpers import make_actor, seed_basic
from wsms_tui import audit, ledger, stock, users
from wsms_tui.database import Database
from wsms_tui.db.models import AuditEvent, LedgerEntry, ReservationEntry, Role, User
from wsms_tui.errors import PermissionDenied
from wsms_tui.security import PERMISSIONS, Actor

DOC = Path(__file__).resolve().parent.parent / "docs" / "PERMISSIONS.md"

#: actions no function of this test drives (their services live elsewhere and are tested there)
NOT_DRIVEN_HERE = {"audit.verify", "catalog.import", "demo.build", "print.label", "print.reprint"}  # print: test_spool
NOT_DRIVEN_HERE |= {"count.view", "count.plan", "count.count", "count.review", "count.approve"}  # test_stocktake
#: the order module's actions: driven role by role in tests/test_orders_permissions.py
NOT_DRIVEN_HERE |= {"orders.view", "orders.import", "orders.allocate", "orders.cancel", "orders.ship",
                    "channels.manage", "exceptions.view", "exceptions.work", "exceptions.report"}
#: the reports module's actions: driven role by role in tests/test_reports.py
NOT_DRIVEN_HERE |= {"report.view", "report.rebuild"}
#: the packing bench and shipments: driven role by role in tests/test_packing.py
NOT_DRIVEN_HERE |= {"packing.pack", "packing.ship", "shipments.view"}
#: waves, picking and replenishment: driven role by role in tests/test_picking.py
NOT_DRIVEN_HERE |= {"waves.view", "waves.plan", "waves.release", "pick.pick", "replen.manage", "replen.move"}


@dataclass(frozen=True)
class Case:
    name: str
    needs: tuple[str, ...]  # every action the call checks, in the order it checks them
    call: Callable[[Database, Actor, dict[str, int]], Any]


CASES = [
    Case("post_move", ("move.post",), lambda db, a, ids: ledger.post_move(
        db, a, product="P1", qty=1, from_location="A-01", to_location=ledger.CUSTOMER, op_id=f"{a.name}-post")),
    Case("receive", ("move.receive",), lambda db, a, ids: ledger.receive(
        db, a, product="P1", qty=1, location="A-01", op_id=f"{a.name}-recv")),
    Case("transfer", ("move.transfer",), lambda db, a, ids: ledger.transfer(
        db, a, product="P1", qty=1, from_location="A-01", to_location="A-02", op_id=f"{a.name}-tr")),
    Case("adjust", ("move.adjust",), lambda db, a, ids: ledger.adjust(
        db, a, product="P1", location="A-01", delta=1, reason="found", op_id=f"{a.name}-adj")),
    Case("reserve", ("move.reserve",), lambda db, a, ids: ledger.reserve(
        db, a, product="P1", location="A-01", qty=1, op_id=f"{a.name}-res")),
    Case("unreserve", ("move.unreserve",), lambda db, a, ids: ledger.unreserve(
        db, a, product="P1", location="A-01", qty=1, op_id=f"{a.name}-unres")),
    Case("reverse own entry", ("move.reverse",), lambda db, a, ids: ledger.reverse(
        db, a, ids["own"], op_id=f"{a.name}-undo-own")),
    Case("reverse another's entry", ("move.reverse", "move.reverse_any"), lambda db, a, ids: ledger.reverse(
        db, a, ids["other"], op_id=f"{a.name}-undo-other")),
    Case("add_user", ("user.add",), lambda db, a, ids: users.add_user(db, a, f"new-by-{a.name}", "clerk", "5678")),
    Case("list_users", ("user.list",), lambda db, a, ids: users.list_users(db, a)),
    Case("set_active", ("user.manage",), lambda db, a, ids: users.set_active(db, a, a.name, True)),
    Case("stock_page", ("stock.view",), lambda db, a, ids: stock.stock_page(db, a)),
    Case("ledger_page", ("ledger.view",), lambda db, a, ids: stock.ledger_page(db, a)),
    Case("verify_ledger", ("ledger.verify",), lambda db, a, ids: stock.verify_ledger(db, a)),
]


@dataclass(frozen=True)
class Snapshot:
    ledger: int
    reservations: int
    users: int
    audit_seq: int


def snapshot(db: Database) -> Snapshot:
    def work(s: Session) -> Snapshot:
        def count(model: Any) -> int:
            return int(s.execute(select(func.count()).select_from(model)).scalar_one())

        seq = s.execute(select(func.max(AuditEvent.seq))).scalar()
        return Snapshot(count(LedgerEntry), count(ReservationEntry), count(User), int(seq or 0))

    return db.read(work)


def events_after(db: Database, seq: int) -> list[AuditEvent]:
    return db.read(lambda s: list(s.execute(select(AuditEvent).where(AuditEvent.seq > seq)
                                            .order_by(AuditEvent.seq)).scalars()))


def assert_refused_and_audited(db: Database, actor: Actor, wanted: str, call: Callable[[], Any]) -> None:
    before = snapshot(db)
    with pytest.raises(PermissionDenied, match=re.escape(wanted)):
        call()
    after = snapshot(db)
    assert (after.ledger, after.reservations, after.users) == (before.ledger, before.reservations, before.users)
    events = events_after(db, before.audit_seq)
    assert [(e.action, e.actor, e.terminal) for e in events] == [("permission.denied", actor.name, actor.terminal)]
    payload = json.loads(events[0].payload)
    assert payload == {"wanted": wanted, "role": actor.role.value}


def test_every_permission_is_driven_or_listed() -> None:
    driven = {action for case in CASES for action in case.needs}
    assert driven | NOT_DRIVEN_HERE == set(PERMISSIONS), "add a case for the new permission"
    assert not driven & NOT_DRIVEN_HERE


@pytest.mark.parametrize("role", [Role.CLERK, Role.FINANCE, Role.SUPERVISOR, Role.ADMIN])
def test_role_against_every_service(db: Database, admin: Actor, role: Role) -> None:
    seed_basic(db)
    actor = make_actor(db, role, name=f"the-{role.value}")
    ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="stock")
    ledger.reserve(db, admin, product="P1", location="A-01", qty=2, op_id="held")
    other = ledger.receive(db, admin, product="P1", qty=1, location="A-02", op_id="admins-entry").entry_id
    own = other
    if actor.can("move.receive"):
        own = ledger.receive(db, actor, product="P1", qty=1, location="A-02", op_id="own-entry").entry_id
    if role == Role.ADMIN:  # the system admin and this admin are different users
        assert actor.user_id != admin.user_id
    ids = {"own": own, "other": other}

    for case in CASES:
        missing = [a for a in case.needs if not actor.can(a)]
        if missing:
            assert_refused_and_audited(db, actor, missing[0], lambda c=case: c.call(db, actor, ids))
        else:
            before = snapshot(db)
            case.call(db, actor, ids)
            assert all(e.action != "permission.denied" for e in events_after(db, before.audit_seq)), case.name
    # a refusal never breaks the books or the chain
    assert stock.verify_ledger(db, admin).ok
    chain = db.read(audit.verify_chain)
    assert chain.ok, chain.problems


def test_clerk_reverses_own_entry_but_not_anothers(db: Database, admin: Actor) -> None:
    seed_basic(db)
    clerk = make_actor(db, Role.CLERK, name="clerk-a")
    colleague = make_actor(db, Role.CLERK, name="clerk-b")
    supervisor = make_actor(db, Role.SUPERVISOR, name="boss")
    mine = ledger.receive(db, clerk, product="P1", qty=3, location="A-01", op_id="mine")
    theirs = ledger.receive(db, colleague, product="P1", qty=4, location="A-02", op_id="theirs")

    undo = ledger.reverse(db, clerk, mine.entry_id, op_id="undo-mine")
    assert undo.reverses_id == mine.entry_id
    assert_refused_and_audited(db, clerk, "move.reverse_any",
                               lambda: ledger.reverse(db, clerk, theirs.entry_id, op_id="undo-theirs"))
    assert ledger.reverse(db, supervisor, theirs.entry_id, op_id="boss-undo").reverses_id == theirs.entry_id
    rows = stock.stock_page(db, admin, stock.StockFilter(sku="P1"))
    assert sum(r.on_hand for r in rows) == 0
    assert stock.verify_ledger(db, admin).ok


def test_a_user_disabled_at_an_open_desk_is_refused_from_then_on(db: Database, admin: Actor) -> None:
    """Rights are read again at every call: the session a clerk opened before an admin disabled them (or
    took a right away) does no more than a new login could."""
    seed_basic(db)
    clerk = make_actor(db, Role.CLERK, name="clerk-gone")
    ledger.receive(db, clerk, product="P1", qty=2, location="A-01", op_id="before")
    users.set_active(db, admin, "clerk-gone", False)
    before = snapshot(db)
    with pytest.raises(PermissionDenied, match="account of clerk-gone is disabled"):
        ledger.receive(db, clerk, product="P1", qty=1, location="A-01", op_id="after")
    with pytest.raises(PermissionDenied, match="disabled"):
        stock.stock_page(db, clerk)  # reading too
    after = snapshot(db)
    assert (after.ledger, after.reservations) == (before.ledger, before.reservations)
    events = events_after(db, before.audit_seq)
    assert [(e.action, e.actor) for e in events] == [("permission.denied", "clerk-gone")] * 2
    assert json.loads(events[0].payload) == {"wanted": "move.receive", "role": "clerk", "now": "disabled"}
    users.set_active(db, admin, "clerk-gone", True)  # enabled again: the open session works again
    ledger.receive(db, clerk, product="P1", qty=1, location="A-01", op_id="after")


def test_a_role_taken_away_counts_at_once_and_a_role_given_at_the_next_login(db: Database, admin: Actor) -> None:
    seed_basic(db)
    ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="stock")
    boss = make_actor(db, Role.SUPERVISOR, name="boss")
    ledger.adjust(db, boss, product="P1", location="A-01", delta=1, reason="found", op_id="adj-1")
    users.set_role(db, admin, "boss", "clerk")
    with pytest.raises(PermissionDenied, match="boss is clerk now and may not move.adjust"):
        ledger.adjust(db, boss, product="P1", location="A-01", delta=1, reason="found", op_id="adj-2")
    ledger.receive(db, boss, product="P1", qty=1, location="A-02", op_id="still-a-clerk")  # clerks may
    users.set_role(db, admin, "boss", "supervisor")
    ledger.adjust(db, boss, product="P1", location="A-01", delta=1, reason="found", op_id="adj-3")
    clerk = make_actor(db, Role.CLERK, name="rising")
    users.set_role(db, admin, "rising", "supervisor")
    with pytest.raises(PermissionDenied, match="clerk rising may not move.adjust"):  # as logged in
        ledger.adjust(db, clerk, product="P1", location="A-01", delta=1, reason="found", op_id="adj-4")
    promoted = users.authenticate(db, "rising", "1234", "test-terminal")
    ledger.adjust(db, promoted, product="P1", location="A-01", delta=1, reason="found", op_id="adj-4")
    assert stock.verify_ledger(db, admin).ok


def parse_matrix(text: str) -> dict[str, frozenset[Role]]:
    """The table of docs/PERMISSIONS.md as {action: roles with ✓}."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header[0] == "action"
    roles = [Role(h) for h in header[1:]]
    assert sorted(roles) == sorted(Role), "one column per role"
    matrix: dict[str, frozenset[Role]] = {}
    for line in lines[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if set(cells[0]) <= set("-: "):
            continue  # the |---| separator
        action = cells[0].strip("`")
        assert action not in matrix, f"{action} listed twice"
        assert len(cells) == len(header), f"row {action} has {len(cells)} cells, not {len(header)}"
        assert all(c in ("", "✓") for c in cells[1:]), f"row {action}: cells are ✓ or empty"
        matrix[action] = frozenset(r for r, c in zip(roles, cells[1:], strict=True) if c == "✓")
    return matrix


def test_permissions_doc_equals_the_matrix() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert parse_matrix(text) == PERMISSIONS
    covers = text.split("## What each action covers", 1)[1]
    for action in PERMISSIONS:
        assert f"**`{action}`**" in covers, f"docs/PERMISSIONS.md does not say what {action} covers"
