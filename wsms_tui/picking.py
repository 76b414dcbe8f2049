"""Pick tasks: the tours of released waves, confirming picks, short picks, skipping, totes.

A confirmed pick is one transaction, in the fixed lock order (the order row, the task, the quants, the
audit head): the reservation leaves the bin (journal −qty, quant ``reserved``), the units move from the
bin to the warehouse's packing staging location (ledger kind ``pick``, doc ref ``SO-<id>``), the
reservation is taken again there (journal +qty), and the allocation row follows the stock (moved to
staging whole, or split). So allocations always point where the reserved stock is and ``ledger
verify`` stays exact. When an order has no open pick task left it becomes ``picked``; a tour (and a
wave) with nothing left is ``done``; a pick that leaves a pick face under its minimum creates a
replenishment task.

A short pick reports the missing units through ``order_exceptions.report_short_pick`` (written off to
the loss location, ``short_pick`` ticket), then re-allocates what is missing from other locations of the
same warehouse (FEFO) as new pick tasks on the same tour, placed where they add the least walking.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from wsms_tui import audit, ledger, order_exceptions, replenishment
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import (
    Location,
    LocationUsage,
    Lot,
    Product,
    ProductBarcode,
    Quant,
    ReservationEntry,
    User,
    Warehouse,
)
from wsms_tui.db.models_orders import Allocation, ExceptionTicket, SalesOrderLine
from wsms_tui.db.models_waves import PickTask, PickTour, Wave, WaveOrder
from wsms_tui.errors import BadInput, NotFound
from wsms_tui.i18n import _
from wsms_tui.orders import doc_ref, from_raw, lock_orders, raw, raw_table, set_status, to_raw
from wsms_tui.routing import DEPOT, Router
from wsms_tui.security import Actor
from wsms_tui.waves import PACK_ZONE, packing_location, tour_ref

OPEN = ("open", "skipped")


@dataclass(frozen=True)
class TaskView:
    id: int
    wave_id: int
    tour_id: int
    seq: int
    order_ref: str
    line_no: int
    sku: str
    name: str
    tracking: str
    location: str
    lot: str | None
    expiry: date | None
    qty: Decimal
    picked: Decimal
    short: Decimal
    tote: str
    status: str
    #: the product's barcodes (14-digit GTINs and internal codes) → units per scan
    barcodes: tuple[tuple[str, Decimal], ...] = ()

    @property
    def left(self) -> Decimal:
        return self.qty - self.picked - self.short


@dataclass(frozen=True)
class TourInfo:
    id: int
    wave_id: int
    number: int
    ref: str
    status: str
    warehouse: str
    picker: str | None
    tasks: int
    left: int
    length: float
    orders: int


@dataclass(frozen=True)
class PickResult:
    task: TaskView
    order_status: str
    tour_done: bool
    replenishments: int = 0
    replayed: bool = False


@dataclass(frozen=True)
class ShortResult:
    task: TaskView
    short: Decimal
    reallocated: tuple[TaskView, ...]
    order_status: str
    tour_done: bool
    replayed: bool = False

    @property
    def reallocated_qty(self) -> Decimal:
        return sum((t.qty for t in self.reallocated), Decimal(0))


# ------------------------------------------------------------------ reading


def _tour_infos(s: Session, where: Any) -> list[TourInfo]:
    total = select(PickTask.tour_id, func.count().label("n")).group_by(PickTask.tour_id).subquery()
    left = (select(PickTask.tour_id, func.count().label("n")).where(PickTask.status.in_(OPEN))  # type: ignore[attr-defined]
            .group_by(PickTask.tour_id).subquery())
    orders = (select(WaveOrder.tour_id, func.count().label("n")).where(WaveOrder.dropped == False)  # noqa: E712
              .group_by(WaveOrder.tour_id).subquery())
    rows = s.execute(select(PickTour.id, PickTour.wave_id, PickTour.number, PickTour.status, Warehouse.code, User.name,
                            total.c.n, left.c.n, PickTour.length_m, orders.c.n)
                     .join(Wave, Wave.id == PickTour.wave_id).join(Warehouse, Warehouse.id == Wave.warehouse_id)
                     .outerjoin(User, User.id == PickTour.picker_id).outerjoin(total, total.c.tour_id == PickTour.id)
                     .outerjoin(left, left.c.tour_id == PickTour.id).outerjoin(orders, orders.c.tour_id == PickTour.id)
                     .where(where).order_by(PickTour.wave_id, PickTour.number)).all()
    return [TourInfo(r[0], r[1], r[2], tour_ref(r[1], r[2]), r[3], r[4], r[5], int(r[6] or 0), int(r[7] or 0), r[8],
                     int(r[9] or 0)) for r in rows]


def list_tours(db: Database, actor: Actor, *, warehouse: str | None = None) -> list[TourInfo]:
    """Tours of released waves still to pick, oldest wave first."""
    require(db, actor, "waves.view")
    cond = PickTour.status.in_(("open", "picking")) & (Wave.status == "released")  # type: ignore[attr-defined]
    if warehouse:
        cond = cond & (Warehouse.code == warehouse)
    return db.read(lambda s: _tour_infos(s, cond))


def _parse_tour_ref(ref: str) -> tuple[int, int]:
    t = ref.strip().upper()
    if t.startswith("W") and "-" in t:
        w, _sep, n = t[1:].partition("-")
        if w.isdigit() and n.isdigit():
            return int(w), int(n)
    raise BadInput(_("{r!r} is not a tour: tours read W<wave>-<tour>, e.g. W12-3").format(r=ref[:40]))


def start_tour(db: Database, actor: Actor, ref: str) -> TourInfo:
    """Take tour ``W12-3``: its picker is this user from now on."""
    require(db, actor, "pick.pick", f"tour:{ref}")
    wave_id, number = _parse_tour_ref(ref)

    def work(s: Session) -> int:
        row = s.execute(select(PickTour.id, PickTour.status, Wave.status).join(Wave, Wave.id == PickTour.wave_id)
                        .where(PickTour.wave_id == wave_id, PickTour.number == number)).first()
        if row is None:
            raise NotFound(_("no tour {r}").format(r=tour_ref(wave_id, number)))
        if row[2] != "released" or row[1] not in ("open", "picking"):
            raise BadInput(_("tour {r} is {st}: nothing to pick").format(
                r=tour_ref(wave_id, number), st=row[1] if row[1] != "open" else row[2]))
        s.execute(update(PickTour).where(PickTour.id == row[0]).values(status="picking", picker_id=actor.user_id))
        audit.record(s, actor, "picking.start", f"tour:{tour_ref(wave_id, number)}", {})
        return int(row[0])

    tid = db.write(work)
    return db.read(lambda s: _tour_infos(s, PickTour.id == tid))[0]


def _task_views(s: Session, where: Any) -> list[TaskView]:
    t = PickTask
    lt = SalesOrderLine
    rows = s.execute(select(t.id, t.wave_id, t.tour_id, t.seq, t.order_id, lt.line_no, Product.sku, Product.name,
                            Product.tracking, Location.code, Lot.lot_no, Lot.expiry, t.qty, t.picked_qty, t.short_qty,
                            t.tote, t.status, t.product_id)
                     .join(lt, lt.id == t.order_line_id).join(Product, Product.id == t.product_id)
                     .join(Location, Location.id == t.location_id).outerjoin(Lot, Lot.id == t.lot_id)
                     .where(where).order_by(t.tour_id, t.seq, t.id)).all()
    pids = sorted({r[17] for r in rows})
    codes: dict[int, list[tuple[str, Decimal]]] = {}
    if pids:
        for pid, code, pack in s.execute(select(ProductBarcode.product_id, ProductBarcode.code, ProductBarcode.pack_qty)
                                         .where(ProductBarcode.product_id.in_(pids)).order_by(ProductBarcode.id)):  # type: ignore[attr-defined]
            codes.setdefault(pid, []).append((code, pack))
    return [TaskView(r[0], r[1], r[2], r[3], doc_ref(r[4]), r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
                     r[14], r[15], r[16], tuple(codes.get(r[17], ()))) for r in rows]


def tour_tasks(db: Database, actor: Actor, tour_id: int) -> list[TaskView]:
    """Every task of a tour in route order (done ones included)."""
    require(db, actor, "waves.view")
    return db.read(lambda s: _task_views(s, PickTask.tour_id == tour_id))


def task_view(db: Database, actor: Actor, task_id: int) -> TaskView:
    require(db, actor, "waves.view")
    rows = db.read(lambda s: _task_views(s, PickTask.id == task_id))
    if not rows:
        raise NotFound(_("no pick task {id}").format(id=task_id))
    return rows[0]


# ------------------------------------------------------------------ writing


def _op(op_id: str) -> str:
    op = (op_id or "").strip()
    if not op or len(op) > 70:
        raise BadInput(_("every operation needs an operation id of 1 to 70 characters"))
    return op


def _lock_task(s: Session, task_id: int) -> tuple[Any, Any]:
    """Lock the task's order, then the task (the fixed order); returns (order row, task row)."""
    oid = s.execute(select(PickTask.order_id).where(PickTask.id == task_id)).scalar()
    if oid is None:
        raise NotFound(_("no pick task {id}").format(id=task_id))
    order = lock_orders(s, [oid])[oid]
    t = s.execute(select(PickTask.__table__).where(PickTask.id == task_id).with_for_update()).one()  # type: ignore[attr-defined]
    return order, t


def _reservation(s: Session, actor: Actor, op: str, a: Any, location_id: int, q: int, at: Any) -> None:
    s.execute(insert(raw_table(ReservationEntry)).values(
        op_id=op, at=at, actor_id=actor.user_id, terminal=actor.terminal, product_id=a.product_id,
        location_id=location_id, lot_id=a.lot_id, package_id=a.package_id, qty=q, doc_ref=doc_ref(a.order_id)))


def _add_reserved(s: Session, quant_id: int, q: int) -> None:
    qt = raw_table(Quant)
    s.execute(update(qt).where(qt.c.id == quant_id).values(reserved=qt.c.reserved + q))


def _finish(s: Session, actor: Actor, order: Any, tour_id: int, wave_id: int) -> tuple[str, bool]:
    """An order with no open task is ``picked``; a tour (wave) with nothing open is ``done``."""
    status = order.status
    is_open = PickTask.status.in_(OPEN)  # type: ignore[attr-defined]
    left = s.execute(select(func.count()).where(PickTask.order_id == order.id, is_open)).scalar_one()
    if not left and order.status == "picking":
        set_status(s, actor, order.id, "picking", "picked", _("all lines picked"))
        status = "picked"
    tour_left = s.execute(select(func.count()).where(PickTask.tour_id == tour_id, is_open)).scalar_one()
    if not tour_left:
        s.execute(update(PickTour).where(PickTour.id == tour_id).values(status="done"))
        wave_left = s.execute(select(func.count()).where(PickTask.wave_id == wave_id, is_open)).scalar_one()
        if not wave_left:
            s.execute(update(Wave).where(Wave.id == wave_id).values(status="done"))
    return status, not tour_left


def confirm_pick(db: Database, actor: Actor, task_id: int, qty: object, *, op_id: str,
                 raw_scan: str | None = None) -> PickResult:
    """``qty`` of the task picked at its location into its tote: see the module doc."""
    require(db, actor, "pick.pick", f"pick_task:{task_id}")
    q = ledger.to_qty(qty)
    op = _op(op_id)

    def work(s: Session) -> PickResult:
        order, t = _lock_task(s, task_id)
        if s.execute(select(ledger.LedgerEntry.id).where(ledger.LedgerEntry.op_id == op)).scalar() is not None:
            return PickResult(_task_views(s, PickTask.id == task_id)[0], order.status, False, replayed=True)
        if t.status not in OPEN:
            raise BadInput(_("this pick is {st} already").format(st=t.status))
        left = t.qty - t.picked_qty - t.short_qty
        if q <= 0 or q > left:
            raise BadInput(_("pick between 1 and {left} here, not {q}").format(left=left, q=q))
        a = s.execute(select(raw_table(Allocation)).where(raw_table(Allocation).c.id == t.allocation_id)).one()
        qr = to_raw(q)
        if a.status != "active" or a.location_id != t.location_id or a.qty < qr:
            raise BadInput(_("the stock held for this pick changed (now {q} here): ask a supervisor").format(
                q=from_raw(a.qty) if a.status == "active" and a.location_id == t.location_id else 0))
        staging = packing_location(s, actor, a.warehouse_id)
        kb = (a.product_id, a.location_id, a.lot_id, a.package_id)
        ks = (a.product_id, staging, a.lot_id, a.package_id)
        quants = ledger.lock_quants(s, [kb, ks])
        if quants[kb].reserved < q:
            raise BadInput(_("only {r} reserved at this location: ask a supervisor").format(r=quants[kb].reserved))
        at = audit.utcnow()
        _add_reserved(s, quants[kb].id, -qr)
        _reservation(s, actor, f"{op}:u", a, a.location_id, -qr, at)
        pkg = (s.execute(select(ledger.Package.code).where(ledger.Package.id == a.package_id)).scalar()
               if a.package_id else None)
        ledger.post_in_session(s, actor, kind="pick", product=a.product_id, qty=q, from_location=a.location_id,
                               to_location=staging, lot=ledger.lot_no_of(s, a.lot_id), expiry=None, package=pkg,
                               op_id=op, doc_ref=doc_ref(a.order_id), reason="", unit_cost=None,
                               raw_scan=(raw_scan or None) and raw_scan[:2000])
        _add_reserved(s, quants[ks].id, qr)
        _reservation(s, actor, f"{op}:r", a, staging, qr, at)
        at_tab = raw_table(Allocation)
        if qr == a.qty:
            s.execute(update(at_tab).where(at_tab.c.id == a.id).values(location_id=staging))
        else:
            s.execute(update(at_tab).where(at_tab.c.id == a.id).values(qty=a.qty - qr))
            s.execute(insert(at_tab).values(order_id=a.order_id, order_line_id=a.order_line_id, product_id=a.product_id,
                                            warehouse_id=a.warehouse_id, location_id=staging, lot_id=a.lot_id,
                                            package_id=a.package_id, qty=qr, status="active", created_at=at))
        picked = t.picked_qty + q
        done = picked + t.short_qty >= t.qty
        s.execute(update(PickTask).where(PickTask.id == task_id).values(
            picked_qty=picked, status="picked" if done else "open", picker_id=actor.user_id,
            done_at=at if done else None))
        status, tour_done = _finish(s, actor, order, t.tour_id, t.wave_id)
        made = replenishment.check_in_session(s, actor, a.warehouse_id, faces=[(a.location_id, a.product_id)])
        audit.record(s, actor, "picking.pick", f"pick_task:{task_id}", {
            "order": doc_ref(a.order_id), "qty": str(q), "tote": t.tote, "done": done, "op_id": op}, at=at)
        return PickResult(_task_views(s, PickTask.id == task_id)[0], status, tour_done, len(made))

    return ledger.write_once(db, work)


def skip_task(db: Database, actor: Actor, task_id: int) -> TaskView:
    """Leave a pick for later: it comes back after the tour's other picks."""
    require(db, actor, "pick.pick", f"pick_task:{task_id}")

    def work(s: Session) -> TaskView:
        _order, t = _lock_task(s, task_id)
        if t.status not in OPEN:
            raise BadInput(_("this pick is {st} already").format(st=t.status))
        s.execute(update(PickTask).where(PickTask.id == task_id).values(status="skipped"))
        audit.record(s, actor, "picking.skip", f"pick_task:{task_id}", {})
        return _task_views(s, PickTask.id == task_id)[0]

    return db.write(work)


def set_tote(db: Database, actor: Actor, task_id: int, tote: str) -> TaskView:
    """Cluster picking: this order continues in ``tote`` (this pick and its order's later ones on the tour)."""
    require(db, actor, "pick.pick", f"pick_task:{task_id}")
    name = tote.strip()
    if not name or len(name) > 32 or not name.isprintable():
        raise BadInput(_("a tote name is 1 to 32 printable characters"))

    def work(s: Session) -> TaskView:
        _order, t = _lock_task(s, task_id)
        clash = s.execute(select(WaveOrder.order_id).where(WaveOrder.tour_id == t.tour_id, WaveOrder.tote == name,
                                                           WaveOrder.order_id != t.order_id)).first()
        if clash is not None:
            raise BadInput(_("tote {t} holds {o} on this cart: take an empty tote").format(t=name, o=doc_ref(clash[0])))
        s.execute(update(PickTask).where(PickTask.tour_id == t.tour_id, PickTask.order_id == t.order_id,
                                         PickTask.status.in_(OPEN)).values(tote=name))  # type: ignore[attr-defined]
        s.execute(update(WaveOrder).where(WaveOrder.tour_id == t.tour_id, WaveOrder.order_id == t.order_id)
                  .values(tote=name))
        audit.record(s, actor, "picking.tote", f"pick_task:{task_id}", {"tote": name, "was": t.tote})
        return _task_views(s, PickTask.id == task_id)[0]

    return db.write(work)


def short_pick(db: Database, actor: Actor, task_id: int, *, op_id: str, note: str = "") -> ShortResult:
    """What is left of this pick is not there: report it (ticket, written off) and re-allocate it from
    other locations as new picks on this tour (see the module doc). Pick what *is* there first."""
    require(db, actor, "pick.pick", f"pick_task:{task_id}")
    op = _op(op_id)
    info = db.read(lambda s: s.execute(
        select(PickTask.order_id, PickTask.status, SalesOrderLine.line_no, Location.code, PickTask.lot_id,
               PickTask.qty, PickTask.picked_qty, PickTask.short_qty)
        .join(SalesOrderLine, SalesOrderLine.id == PickTask.order_line_id)
        .join(Location, Location.id == PickTask.location_id).where(PickTask.id == task_id)).first())
    if info is None:
        raise NotFound(_("no pick task {id}").format(id=task_id))
    if info.status == "short":
        return _short_result(db, task_id, (), replayed=True)
    if info.status not in OPEN:
        raise BadInput(_("this pick is {st} already").format(st=info.status))
    left = info.qty - info.picked_qty - info.short_qty
    lot = db.read(lambda s: ledger.lot_no_of(s, info.lot_id))
    order_exceptions.report_short_pick(db, actor, info.order_id, info.line_no, qty=left, location=info.code,
                                       op_id=f"{op}:w", lot=lot,
                                       note=note or _("pick task {id}").format(id=task_id))

    def work(s: Session) -> tuple[list[int], str, bool]:
        order, t = _lock_task(s, task_id)
        if t.status == "short":
            return [], order.status, False
        missing = t.qty - t.picked_qty - t.short_qty
        at = audit.utcnow()
        s.execute(update(PickTask).where(PickTask.id == task_id).values(
            short_qty=t.short_qty + missing, status="short", picker_id=actor.user_id, done_at=at))
        new_ids = _reallocate(s, actor, t, to_raw(missing), op, at)
        status, tour_done = _finish(s, actor, order, t.tour_id, t.wave_id)
        audit.record(s, actor, "picking.short", f"pick_task:{task_id}", {
            "order": doc_ref(t.order_id), "short": str(missing), "new_tasks": new_ids, "op_id": op}, at=at)
        return new_ids, status, tour_done

    new_ids, status, tour_done = db.write(work)
    return _short_result(db, task_id, tuple(new_ids), status=status, tour_done=tour_done)


def _short_result(db: Database, task_id: int, new_ids: tuple[int, ...], *, status: str = "", tour_done: bool = False,
                  replayed: bool = False) -> ShortResult:
    def work(s: Session) -> ShortResult:
        t = _task_views(s, PickTask.id == task_id)[0]
        new = tuple(_task_views(s, PickTask.id.in_(new_ids))) if new_ids else ()  # type: ignore[union-attr]
        return ShortResult(t, t.short, new, status, tour_done, replayed)

    return db.read(work)


def _reallocate(s: Session, actor: Actor, t: Any, missing: int, op: str, at: Any) -> list[int]:
    """Allocate ``missing`` (raw) of the task's product from other free stock of its warehouse (FEFO) and
    add pick tasks for it to the tour. Caller holds the order and task locks."""
    wid = s.execute(select(Wave.warehouse_id).where(Wave.id == t.wave_id)).scalar_one()
    # not where this line came up short already (the picker found less there)
    short_at = set(s.execute(select(PickTask.location_id).where(PickTask.order_line_id == t.order_line_id,
                                                                PickTask.status == "short")).scalars())
    short_at.add(t.location_id)
    cands = s.execute(
        select(Quant.location_id, Quant.lot_id, Quant.package_id, Lot.expiry, Location.code)
        .join(Location, Location.id == Quant.location_id).outerjoin(Lot, Lot.id == Quant.lot_id)
        .where(Quant.product_id == t.product_id, Location.warehouse_id == wid,
               Location.usage == LocationUsage.INTERNAL.value, Location.active == True,  # noqa: E712
               Location.zone != PACK_ZONE, Location.id.not_in(short_at),  # type: ignore[union-attr]
               raw(Quant.on_hand) > raw(Quant.reserved),
               (Lot.expiry.is_(None)) | (Lot.expiry >= date.today()))).all()  # type: ignore[union-attr]
    if not cands:
        return []
    cands.sort(key=lambda r: (r[3] is None, r[3] or date.max, r[4], r[1] or 0))
    keys = [(t.product_id, r[0], r[1], r[2]) for r in cands]
    quants = ledger.lock_quants(s, keys)
    router: Router | None = None
    new_ids: list[int] = []
    for k, r in zip(keys, cands, strict=True):
        if missing <= 0:
            break
        qr = quants[k]
        free = to_raw(qr.on_hand - qr.reserved)
        take = min(free, missing)
        if take <= 0:
            continue
        missing -= take
        aid = s.execute(insert(raw_table(Allocation)).values(
            order_id=t.order_id, order_line_id=t.order_line_id, product_id=t.product_id, warehouse_id=wid,
            location_id=r[0], lot_id=r[1], package_id=r[2], qty=take, status="active", created_at=at)
            .returning(raw_table(Allocation).c.id)).scalar_one()
        _add_reserved(s, qr.id, take)
        s.execute(insert(raw_table(ReservationEntry)).values(
            op_id=f"{op}:a{aid}"[:80], at=at, actor_id=actor.user_id, terminal=actor.terminal, product_id=t.product_id,
            location_id=r[0], lot_id=r[1], package_id=r[2], qty=take, doc_ref=doc_ref(t.order_id)))
        lt = raw_table(SalesOrderLine)
        s.execute(update(lt).where(lt.c.id == t.order_line_id).values(allocated_qty=lt.c.allocated_qty + take))
        if router is None:
            from wsms_tui.layout import router_for

            wh = s.execute(select(Warehouse.code).where(Warehouse.id == wid)).scalar_one()
            try:
                router = router_for(s, wh)
            except Exception:  # noqa: BLE001 - no layout: the new pick goes last
                router = None
        seq = _insertion_seq(s, router, t, r[4])
        nid = s.execute(insert(PickTask).values(
            wave_id=t.wave_id, tour_id=t.tour_id, seq=seq, order_id=t.order_id, order_line_id=t.order_line_id,
            allocation_id=aid, product_id=t.product_id, location_id=r[0], lot_id=r[1], qty=from_raw(take),
            picked_qty=Decimal(0), short_qty=Decimal(0), tote=t.tote, status="open")
            .returning(PickTask.id)).scalar_one()
        new_ids.append(int(nid))
        _note_ticket(s, t, _("re-allocated {q} from {loc} (pick task {id})").format(q=from_raw(take), loc=r[4], id=nid),
                     actor, at)
    if missing > 0:
        _note_ticket(s, t, _("{q} could not be re-allocated in this warehouse").format(q=from_raw(missing)), actor, at)
    return new_ids


def _insertion_seq(s: Session, router: Router | None, t: Any, code: str) -> int:
    """Where a new pick at ``code`` adds the least walking among the tour's picks still ahead of ``t``."""
    ahead = s.execute(select(PickTask.seq, Location.code).join(Location, Location.id == PickTask.location_id)
                      .where(PickTask.tour_id == t.tour_id, PickTask.status == "open", PickTask.seq > t.seq)
                      .order_by(PickTask.seq)).all()
    last = s.execute(select(func.max(PickTask.seq)).where(PickTask.tour_id == t.tour_id)).scalar_one() or 0
    pos = last + 1
    if router is not None and code in router.points:
        here = s.execute(select(Location.code).where(Location.id == t.location_id)).scalar_one()
        pts = [router.points.get(here, DEPOT)] + [router.points.get(c, DEPOT) for _q, c in ahead] + [DEPOT]
        new = router.points[code]
        best, best_i = None, len(ahead)
        for i in range(len(pts) - 1):
            cost = router.distance(pts[i], new) + router.distance(new, pts[i + 1]) - router.distance(pts[i], pts[i + 1])
            if best is None or cost < best - 1e-9:
                best, best_i = cost, i
        if best_i < len(ahead):
            pos = ahead[best_i][0]
            s.execute(update(PickTask).where(PickTask.tour_id == t.tour_id, PickTask.seq >= pos)
                      .values(seq=PickTask.seq + 1))
    return int(pos)


def _note_ticket(s: Session, t: Any, text: str, actor: Actor, at: Any) -> None:
    tid = s.execute(select(ExceptionTicket.id).where(ExceptionTicket.order_line_id == t.order_line_id,
                                                     ExceptionTicket.code == "short_pick")
                    .order_by(ExceptionTicket.id.desc()).limit(1)).scalar()  # type: ignore[union-attr]
    if tid is None:
        return
    notes = s.execute(select(ExceptionTicket.notes).where(ExceptionTicket.id == tid)).scalar_one()
    line = f"[{at.strftime('%Y-%m-%d %H:%M')} {actor.name}] {text}"
    s.execute(update(ExceptionTicket).where(ExceptionTicket.id == tid).values(
        notes=((notes + "\n") if notes else "") + line, updated_at=at))


def new_op_id(prefix: str = "pick") -> str:
    return f"{prefix}:{uuid.uuid4().hex}"


def product_codes(db: Database, actor: Actor, sku: str) -> tuple[tuple[str, Decimal], ...]:
    """A product's barcodes → units per scan (what an item scan at the desk is checked against)."""
    require(db, actor, "waves.view")
    return tuple(db.read(lambda s: [(c, q) for c, q in s.execute(
        select(ProductBarcode.code, ProductBarcode.pack_qty).join(Product, Product.id == ProductBarcode.product_id)
        .where(Product.sku == sku).order_by(ProductBarcode.id)).all()]))
