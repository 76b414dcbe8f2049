"""Replenishment of pick faces: min/max rules and tasks that move stock from reserve to the face.

A rule says: location F is the pick face of product P; keep between ``min_qty`` and ``max_qty`` there.
The *level* of a face is its on-hand minus what open pick tasks will still take from it; with the
replenishments already on their way (open tasks into F) added, a level under the minimum asks for
``max − level − on the way`` more. Sources are the warehouse's other active internal locations holding
free stock of P (not another face of P, not the packing zone, no expired lot), **FEFO** (earliest expiry
first, then location code), minus what other open replenishments already take from them.

Triggers: a pick that leaves its face below the minimum (``picking.confirm_pick``), a released wave
whose tasks would draw a face below it (``waves.release``: reason ``wave``), and ``check`` (the CLI
``wsms waves replenish`` and the desk). The move itself is done on the picking desk's RF flow: scan
the from-location, the item, the to-location (``confirm``: one ledger transfer and the task done, in
one transaction).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlmodel import Session

from wsms_tui import audit, ledger
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import Location, LocationUsage, Lot, Product, Quant, Warehouse
from wsms_tui.db.models_waves import PickTask, ReplenRule, ReplenTask
from wsms_tui.errors import BadInput, NotFound
from wsms_tui.i18n import _
from wsms_tui.orders import from_raw, raw, to_raw
from wsms_tui.security import Actor

PACK_ZONE = "PACK"


@dataclass(frozen=True)
class RuleView:
    id: int
    warehouse: str
    location: str
    sku: str
    name: str
    min_qty: Decimal
    max_qty: Decimal
    on_hand: Decimal
    level: Decimal  # on hand minus open pick demand
    on_the_way: Decimal


@dataclass(frozen=True)
class ReplenTaskView:
    id: int
    warehouse: str
    sku: str
    name: str
    tracking: str
    lot: str | None
    expiry: date | None
    from_location: str
    to_location: str
    qty: Decimal
    moved: Decimal
    reason: str
    status: str

    @property
    def left(self) -> Decimal:
        return self.qty - self.moved


def set_rule(db: Database, actor: Actor, location: str, sku: str, *, min_qty: object, max_qty: object) -> RuleView:
    """Make ``location`` the pick face of ``sku`` with these min/max (replaces an existing rule)."""
    require(db, actor, "replen.manage", f"location:{location}")
    lo, hi = ledger.to_qty(min_qty, "min"), ledger.to_qty(max_qty, "max")
    if lo < 0 or hi <= lo:
        raise BadInput(_("a pick face needs 0 ≤ min < max (got min {lo}, max {hi})").format(lo=lo, hi=hi))

    def work(s: Session) -> int:
        loc = ledger.location_ref(s, location)
        prod = ledger.product_ref(s, sku)
        wid = s.execute(select(Location.warehouse_id).where(Location.id == loc.id)).scalar()
        if loc.usage != LocationUsage.INTERNAL.value or wid is None:
            raise BadInput(_("{loc} is not a storage location of a warehouse").format(loc=loc.code))
        rid = s.execute(select(ReplenRule.id).where(ReplenRule.location_id == loc.id,
                                                    ReplenRule.product_id == prod.id)).scalar()
        if rid is None:
            rid = s.execute(insert(ReplenRule).values(warehouse_id=wid, location_id=loc.id, product_id=prod.id,
                                                      min_qty=lo, max_qty=hi, active=True)
                            .returning(ReplenRule.id)).scalar_one()
        else:
            s.execute(update(ReplenRule).where(ReplenRule.id == rid).values(min_qty=lo, max_qty=hi, active=True))
        audit.record(s, actor, "replen.rule", f"location:{loc.code}", {"sku": prod.sku, "min": str(lo), "max": str(hi)})
        return int(rid)

    rid = db.write(work)
    return next(r for r in list_rules(db, actor) if r.id == rid)


def list_rules(db: Database, actor: Actor, warehouse: str | None = None) -> list[RuleView]:
    require(db, actor, "waves.view")

    def work(s: Session) -> list[RuleView]:
        q = (select(ReplenRule.id, ReplenRule.warehouse_id, Warehouse.code, Location.code, Product.sku, Product.name,
                    ReplenRule.min_qty, ReplenRule.max_qty, ReplenRule.location_id, ReplenRule.product_id)
             .join(Warehouse, Warehouse.id == ReplenRule.warehouse_id)
             .join(Location, Location.id == ReplenRule.location_id).join(Product, Product.id == ReplenRule.product_id)
             .where(ReplenRule.active == True).order_by(Location.code, Product.sku))  # noqa: E712
        if warehouse:
            q = q.where(Warehouse.code == warehouse)
        out = []
        for r in s.execute(q).all():
            on_hand, demand, way = _face_state(s, r[8], r[9])
            out.append(RuleView(r[0], r[2], r[3], r[4], r[5], r[6], r[7], from_raw(on_hand),
                                from_raw(on_hand - demand), from_raw(way)))
        return out

    return db.read(work)


def _face_state(s: Session, location_id: int, product_id: int) -> tuple[int, int, int]:
    """(on hand, open pick demand, replenishment on the way) at a face, raw."""
    on_hand = s.execute(select(func.coalesce(func.sum(raw(Quant.on_hand)), 0)).where(
        Quant.location_id == location_id, Quant.product_id == product_id)).scalar_one()
    demand = s.execute(select(func.coalesce(func.sum(raw(PickTask.qty) - raw(PickTask.picked_qty)
                                                     - raw(PickTask.short_qty)), 0)).where(
        PickTask.location_id == location_id, PickTask.product_id == product_id,
        PickTask.status.in_(("open", "skipped")))).scalar_one()  # type: ignore[attr-defined]
    way = s.execute(select(func.coalesce(func.sum(raw(ReplenTask.qty) - raw(ReplenTask.moved_qty)), 0)).where(
        ReplenTask.to_location_id == location_id, ReplenTask.product_id == product_id,
        ReplenTask.status == "open")).scalar_one()
    return int(on_hand), int(demand), int(way)


def check_in_session(s: Session, actor: Actor, warehouse_id: int | None, *,
                     faces: Sequence[tuple[int, int]] | None = None, wave_id: int | None = None,
                     today: date | None = None) -> list[int]:
    """Create the replenishment tasks faces below their minimum need (all faces of the warehouse, or
    only ``faces`` = [(location id, product id)]); returns the new task ids. No quant is locked: the
    move itself locks and re-checks."""
    q = select(ReplenRule).where(ReplenRule.active == True)  # noqa: E712
    if warehouse_id is not None:
        q = q.where(ReplenRule.warehouse_id == warehouse_id)
    if faces is not None:
        if not faces:
            return []
        q = q.where(or_(*[(ReplenRule.location_id == loc) & (ReplenRule.product_id == p) for loc, p in faces]))
    rules = list(s.execute(q.order_by(ReplenRule.id)).scalars())
    made: list[int] = []
    day = today or date.today()
    at = audit.utcnow()
    for rule in rules:
        on_hand, demand, way = _face_state(s, rule.location_id, rule.product_id)
        level = on_hand - demand
        if level + way >= to_raw(rule.min_qty):
            continue
        need = to_raw(rule.max_qty) - level - way
        faces_of_p = set(s.execute(select(ReplenRule.location_id).where(ReplenRule.product_id == rule.product_id,
                                                                        ReplenRule.active == True)).scalars())  # noqa: E712
        out_pending: dict[tuple[int, int], int] = defaultdict(int)
        for loc, lot, left in s.execute(select(ReplenTask.from_location_id, ReplenTask.lot_id,
                                               raw(ReplenTask.qty) - raw(ReplenTask.moved_qty))
                                        .where(ReplenTask.product_id == rule.product_id, ReplenTask.status == "open")):
            out_pending[(loc, lot or 0)] += int(left)
        sources = s.execute(
            select(Quant.location_id, Quant.lot_id, raw(Quant.on_hand) - raw(Quant.reserved), Lot.expiry, Location.code)
            .join(Location, Location.id == Quant.location_id).outerjoin(Lot, Lot.id == Quant.lot_id)
            .where(Quant.product_id == rule.product_id, Location.warehouse_id == rule.warehouse_id,
                   Location.usage == LocationUsage.INTERNAL.value, Location.active == True,  # noqa: E712
                   Location.zone != PACK_ZONE, Quant.package_id.is_(None),  # type: ignore[union-attr]
                   raw(Quant.on_hand) > raw(Quant.reserved), or_(Lot.expiry.is_(None), Lot.expiry >= day))  # type: ignore[union-attr]
        ).all()
        ranked = sorted((r for r in sources if r[0] not in faces_of_p),
                        key=lambda r: (r[3] is None, r[3] or date.max, r[4], r[1] or 0))
        for loc, lot, free, _exp, _code in ranked:
            if need <= 0:
                break
            free = int(free) - out_pending.get((loc, lot or 0), 0)
            if free <= 0:
                continue
            take = min(free, need)
            tid = s.execute(insert(ReplenTask).values(
                warehouse_id=rule.warehouse_id, rule_id=rule.id, wave_id=wave_id, product_id=rule.product_id,
                from_location_id=loc, to_location_id=rule.location_id, lot_id=lot, qty=from_raw(take),
                moved_qty=Decimal(0), reason="wave" if wave_id else "below_min", status="open", created_at=at)
                .returning(ReplenTask.id)).scalar_one()
            made.append(int(tid))
            need -= take
    if made:
        audit.record(s, actor, "replen.created", f"warehouse:{warehouse_id}", {"tasks": made, "wave": wave_id}, at=at)
    return made


def check(db: Database, actor: Actor, warehouse: str | None = None) -> list[ReplenTaskView]:
    """Create the replenishment tasks every face below its minimum needs; returns the new tasks."""
    require(db, actor, "replen.manage", f"warehouse:{warehouse or '*'}")

    def work(s: Session) -> list[int]:
        wid = None
        if warehouse:
            wid = s.execute(select(Warehouse.id).where(Warehouse.code == warehouse)).scalar()
            if wid is None:
                raise NotFound(_("no warehouse {w}").format(w=warehouse))
        return check_in_session(s, actor, wid)

    ids = db.write(work)
    return [t for t in tasks(db, actor, status=("open",)) if t.id in set(ids)]


def _views(s: Session, where: Any) -> list[ReplenTaskView]:
    src, dst = Location.__table__.alias("src"), Location.__table__.alias("dst")  # type: ignore[attr-defined]
    rt = ReplenTask
    rows = s.execute(select(rt.id, Warehouse.code, Product.sku, Product.name, Product.tracking, Lot.lot_no, Lot.expiry,
                            src.c.code, dst.c.code, rt.qty, rt.moved_qty, rt.reason, rt.status)
                     .join(Warehouse, Warehouse.id == rt.warehouse_id).join(Product, Product.id == rt.product_id)
                     .outerjoin(Lot, Lot.id == rt.lot_id).join(src, src.c.id == rt.from_location_id)
                     .join(dst, dst.c.id == rt.to_location_id).where(where).order_by(rt.id)).all()
    return [ReplenTaskView(*r) for r in rows]


def tasks(db: Database, actor: Actor, *, warehouse: str | None = None,
          status: Sequence[str] = ("open",)) -> list[ReplenTaskView]:
    """Replenishment tasks (oldest first)."""
    require(db, actor, "waves.view")

    def work(s: Session) -> list[ReplenTaskView]:
        cond = ReplenTask.status.in_(list(status))  # type: ignore[attr-defined]
        if warehouse:
            cond = cond & (Warehouse.code == warehouse)
        return _views(s, cond)

    return db.read(work)


def task_view(db: Database, actor: Actor, task_id: int) -> ReplenTaskView:
    require(db, actor, "waves.view")
    rows = db.read(lambda s: _views(s, ReplenTask.id == task_id))
    if not rows:
        raise NotFound(_("no replenishment task {id}").format(id=task_id))
    return rows[0]


def confirm(db: Database, actor: Actor, task_id: int, *, op_id: str, qty: object | None = None,
            raw_scan: str | None = None) -> ReplenTaskView:
    """Move the task's stock (all that is left, or ``qty``) from reserve to the face: a ledger transfer
    and the task updated, in one transaction. Done when nothing is left."""
    require(db, actor, "replen.move", f"replen_task:{task_id}")
    op = (op_id or "").strip()
    if not op or len(op) > 80:
        raise BadInput(_("every operation needs an operation id of 1 to 80 characters"))

    def work(s: Session) -> None:
        t = s.execute(select(ReplenTask.__table__).where(ReplenTask.id == task_id).with_for_update()).first()  # type: ignore[attr-defined]
        if t is None:
            raise NotFound(_("no replenishment task {id}").format(id=task_id))
        if s.execute(select(ledger.LedgerEntry.id).where(ledger.LedgerEntry.op_id == op)).scalar() is not None:
            return  # the same scan again: posted once
        if t.status != "open":
            raise BadInput(_("replenishment task {id} is {st}").format(id=task_id, st=t.status))
        left = t.qty - t.moved_qty
        q = ledger.to_qty(qty) if qty is not None else left
        if q <= 0 or q > left:
            raise BadInput(_("move between 1 and {left}, not {q}").format(left=left, q=q))
        ledger.post_in_session(s, actor, kind="transfer", product=t.product_id, qty=q,
                               from_location=t.from_location_id, to_location=t.to_location_id,
                               lot=ledger.lot_no_of(s, t.lot_id), expiry=None, package=None, op_id=op,
                               doc_ref=f"RPL-{task_id}", reason="replenish", unit_cost=None, raw_scan=raw_scan)
        moved = t.moved_qty + q
        s.execute(update(ReplenTask).where(ReplenTask.id == task_id).values(
            moved_qty=moved, status="done" if moved >= t.qty else "open",
            done_at=audit.utcnow() if moved >= t.qty else None, done_by=actor.user_id))

    ledger.write_once(db, work)
    return task_view(db, actor, task_id)
