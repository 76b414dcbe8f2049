"""Allocation: hold specific stock for orders, in priority order, set-based.

For each order (express first, then priority, promised date, channel rank, order date, id):

1. the warehouse: one that can ship every open line whole, nearest first (``warehouse_route``
   ranks for the order's country, then the ranks for anywhere, then warehouse id); an order that
   already holds stock in a warehouse stays there unless its channel allows splitting;
2. if none can: split across warehouses, nearest first, when the channel allows it; otherwise take
   what the best warehouse has and backorder the rest there;
3. the quants: FEFO (earliest expiry first, expired lots never), then location;
4. the shortfall is a backorder (status ``backorder`` + an ``out_of_stock`` ticket), re-allocated
   when stock arrives (``allocate_arrivals``, called by receiving) or on the next run.

One transaction per chunk of orders: lock the orders (by id), then every free quant of the
products involved (``SELECT … FOR UPDATE`` in the fixed (product, location, lot, package) order;
SQLite's ``BEGIN IMMEDIATE`` serialises writers), compute in memory with scaled integers, and
write allocations, reservation journal rows (doc ref ``SO-<id>``), quant ``reserved``, line caches,
statuses and timeline rows with executemany. Concurrent allocators never oversell: availability
is read inside the locks.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, case, func, insert, or_, select, update
from sqlmodel import Session

from wsms_tui import audit
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.bulk import insert_rows, stamp, update_by_id
from wsms_tui.db.models import Location, LocationUsage, Lot, Product, Quant
from wsms_tui.db.models_orders import (
    Allocation,
    ExceptionTicket,
    SalesChannel,
    SalesOrder,
    SalesOrderLine,
    WarehouseRoute,
)
from wsms_tui.i18n import _
from wsms_tui.orders import (
    ALLOCATABLE,
    doc_ref,
    find_order_id,
    from_raw,
    raw,
)
from wsms_tui.security import Actor

CHUNK = 5000
_FAR = 10**9


@dataclass
class AllocationReport:
    orders: int = 0
    allocated: int = 0  # orders now fully allocated
    backordered: int = 0  # orders left short
    allocations: int = 0  # allocation rows written
    lines: int = 0
    qty_reserved: Any = 0  # Decimal
    order_refs: list[str] = field(default_factory=list)


def priority_order() -> list[Any]:
    """SQL ORDER BY of the allocation priority (also the order queue's "next to work" sort)."""
    return [SalesOrder.express.desc(), SalesOrder.priority.desc(),  # type: ignore[attr-defined]
            case((SalesOrder.promised_date.is_(None), 1), else_=0), SalesOrder.promised_date,  # type: ignore[union-attr]
            SalesChannel.rank, case((SalesOrder.order_date.is_(None), 1), else_=0), SalesOrder.order_date,  # type: ignore[union-attr]
            SalesOrder.id]


def _candidates(s: Session, refs: Sequence[str | int] | None, product_ids: Iterable[int] | None,
                statuses: Sequence[str]) -> list[int]:
    q = (select(SalesOrder.id).join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
         .where(SalesOrder.status.in_(statuses)))  # type: ignore[attr-defined]
    if refs is not None:
        ids = [r if isinstance(r, int) else find_order_id(s, r) for r in refs]
        if len(ids) > 5000:  # a big explicit list: filter in Python rather than a huge IN
            wanted = set(ids)
            return [i for i in _candidates(s, None, product_ids, statuses) if i in wanted]
        q = q.where(SalesOrder.id.in_(ids))  # type: ignore[union-attr]
    if product_ids is not None:
        lt = SalesOrderLine
        q = q.where(SalesOrder.id.in_(  # type: ignore[union-attr]
            select(lt.order_id).where(lt.product_id.in_(list(product_ids)), lt.status == "open",  # type: ignore[attr-defined]
                                      raw(lt.allocated_qty) + raw(lt.shipped_qty) < raw(lt.qty))))
    return list(s.execute(q.order_by(*priority_order())).scalars())


def allocate(db: Database, actor: Actor, refs: Sequence[str | int] | None = None, *,
             product_ids: Iterable[int] | None = None, statuses: Sequence[str] = ALLOCATABLE,
             chunk: int = CHUNK, today: date | None = None) -> AllocationReport:
    """Allocate orders (all waiting ones, or ``refs``), highest priority first; see the module doc."""
    require(db, actor, "orders.allocate")
    ids = db.read(lambda s: _candidates(s, refs, product_ids, statuses))
    report = AllocationReport()
    day = today or date.today()
    for i in range(0, len(ids), chunk):
        part = ids[i:i + chunk]
        db.write(lambda s, part=part: _allocate_chunk(s, actor, part, statuses, day, report))  # type: ignore[misc]
    report.qty_reserved = from_raw(report.qty_reserved)
    return report


def allocate_arrivals(db: Database, actor: Actor, products: Iterable[int | str]) -> AllocationReport | None:
    """Stock of these products (ids or SKUs) arrived: re-allocate the orders waiting for them (one
    indexed look-up when none wait). Called by receiving after a receipt line is posted; returns None
    if the actor may not allocate or nothing waits."""
    wanted = set(products)
    if not wanted or not actor.can("orders.allocate"):
        return None
    skus = [p for p in wanted if isinstance(p, str)]
    pids = sorted(p for p in wanted if isinstance(p, int))
    if skus:
        pids += db.read(lambda s: list(s.execute(select(Product.id).where(Product.sku.in_(skus))).scalars()))  # type: ignore[attr-defined]
    if not db.read(lambda s: backorders_waiting(s, pids)):
        return None
    return allocate(db, actor, product_ids=pids)


def backorders_waiting(s: Session, product_ids: list[int]) -> bool:
    """Does an open order line of these products wait for stock? (one indexed look-up)"""
    lt = SalesOrderLine
    return s.execute(
        select(lt.id).join(SalesOrder, SalesOrder.id == lt.order_id)
        .where(lt.product_id.in_(product_ids), lt.status == "open", SalesOrder.status.in_(ALLOCATABLE))  # type: ignore[attr-defined]
        .limit(1)).first() is not None


def _routes(s: Session) -> tuple[dict[tuple[int, str], int], list[int]]:
    routes = {(r.warehouse_id, r.country): r.rank for r in s.execute(select(WarehouseRoute)).scalars()}
    from wsms_tui.db.models import Warehouse

    warehouses = list(s.execute(select(Warehouse.id).order_by(Warehouse.id)).scalars())
    return routes, warehouses


def _ranked(routes: dict[tuple[int, str], int], warehouses: list[int], country: str,
            cache: dict[str, list[int]]) -> list[int]:
    if country not in cache:
        def rank(w: int) -> tuple[int, int]:
            r = routes.get((w, country))
            if r is None:
                r = routes.get((w, ""))
            return (r if r is not None else _FAR, w)

        cache[country] = sorted(warehouses, key=rank)
    return cache[country]


def _allocate_chunk(s: Session, actor: Actor, ids: list[int], statuses: Sequence[str], day: date,
                    report: AllocationReport) -> None:
    so = SalesOrder
    # 1. lock the orders (ascending id) and re-read them inside the lock
    orders = {}
    for i in range(0, len(ids), 5000):
        rows = s.execute(
            select(so.id, so.status, so.channel_id, so.country, so.warehouse_id, so.express, so.priority,
                   so.promised_date, so.order_date, SalesChannel.rank, SalesChannel.allow_split)
            .join(SalesChannel, SalesChannel.id == so.channel_id)
            .where(so.id.in_(ids[i:i + 5000])).order_by(so.id).with_for_update(of=so)).all()  # type: ignore[union-attr]
        orders.update({r.id: r for r in rows if r.status in statuses})
    if not orders:
        return
    # 2. open lines still short
    lt = SalesOrderLine
    lines: dict[int, list[list[int]]] = defaultdict(list)  # order -> [line_id, product, remaining]
    oids = list(orders)
    for i in range(0, len(oids), 5000):
        for lid, oid, pid, q, a, sh in s.execute(
                select(lt.id, lt.order_id, lt.product_id, raw(lt.qty), raw(lt.allocated_qty), raw(lt.shipped_qty))
                .where(lt.order_id.in_(oids[i:i + 5000]), lt.status == "open")  # type: ignore[attr-defined]
                .order_by(lt.order_id, lt.line_no)):
            lines[oid].append([lid, pid, q - a - sh, a])
    held_in: dict[int, set[int]] = defaultdict(set)
    for i in range(0, len(oids), 5000):
        for oid, wid in s.execute(select(Allocation.order_id, Allocation.warehouse_id).where(
                Allocation.order_id.in_(oids[i:i + 5000]), Allocation.status == "active").distinct()):  # type: ignore[attr-defined]
            held_in[oid].add(wid)
    products = sorted({ln[1] for ls in lines.values() for ln in ls if ln[2] > 0})
    # 3. lock the free quants of those products, in the fixed order
    free: dict[tuple[int, int], list[list[Any]]] = defaultdict(list)  # (warehouse, product) -> quants
    total: dict[tuple[int, int], int] = defaultdict(int)
    qrows = []
    for i in range(0, len(products), 2000):
        qrows += s.execute(
            select(Quant.id, Quant.product_id, Quant.location_id, Quant.lot_id, Quant.package_id,
                   raw(Quant.on_hand), raw(Quant.reserved), Location.warehouse_id, Lot.expiry)
            .join(Location, Location.id == Quant.location_id).outerjoin(Lot, Lot.id == Quant.lot_id)
            .where(Quant.product_id.in_(products[i:i + 2000]), Location.usage == LocationUsage.INTERNAL.value,  # type: ignore[attr-defined]
                   Location.active == True, Location.warehouse_id.is_not(None),  # type: ignore[union-attr]  # noqa: E712
                   raw(Quant.on_hand) > raw(Quant.reserved), or_(Lot.expiry.is_(None), Lot.expiry >= day))  # type: ignore[union-attr]
            .order_by(Quant.product_id, Quant.location_id, func.coalesce(Quant.lot_id, 0),
                      func.coalesce(Quant.package_id, 0))
            .with_for_update(of=Quant)).all()
    for qid, pid, loc, lot, pkg, on_hand, reserved, wid, expiry in qrows:
        f = on_hand - reserved
        if f > 0:
            free[(wid, pid)].append([expiry or date.max, loc, lot or 0, pkg or 0, qid, f, lot, pkg])
            total[(wid, pid)] += f
    for v in free.values():
        v.sort()
    routes, warehouses = _routes(s)
    rank_cache: dict[str, list[int]] = {}

    # 4. in priority order, decide in memory
    def prio(o: Any) -> tuple[Any, ...]:
        return (not o.express, -o.priority, o.promised_date or date.max, o.rank, o.order_date or date.max, o.id)

    allocs: list[tuple[int, int, int, int, list[Any], int]] = []  # order, line, product, wh, quant, qty
    quant_delta: dict[int, int] = defaultdict(int)
    line_delta: dict[int, int] = defaultdict(int)
    new_status: dict[int, tuple[str, str, int | None]] = {}

    def take(oid: int, ln: list[int], wid: int, want: int) -> int:
        got = 0
        for q in free.get((wid, ln[1]), ()):
            if got >= want:
                break
            if q[5] <= 0:
                continue
            t = min(q[5], want - got)
            q[5] -= t
            got += t
            allocs.append((oid, ln[0], ln[1], wid, q, t))
            quant_delta[q[4]] += t
        total[(wid, ln[1])] -= got
        line_delta[ln[0]] += got
        ln[2] -= got
        return got

    for o in sorted(orders.values(), key=prio):
        ls = [ln for ln in lines.get(o.id, []) if ln[2] > 0]
        whs_used = set(held_in.get(o.id, ()))
        if ls:
            ranked = _ranked(routes, warehouses, o.country, rank_cache)
            fixed = sorted(whs_used) if whs_used else ([o.warehouse_id] if o.warehouse_id else [])
            order_whs = fixed + [w for w in ranked if w not in fixed]
            choices = order_whs if (o.allow_split or not fixed) else fixed
            whole = next((w for w in choices if all(total.get((w, ln[1]), 0) >= ln[2] for ln in ls)), None)
            if whole is not None:
                for ln in ls:
                    take(o.id, ln, whole, ln[2])
                whs_used.add(whole)
            elif o.allow_split:
                for ln in ls:
                    for w in order_whs:
                        if ln[2] <= 0:
                            break
                        if take(o.id, ln, w, ln[2]):
                            whs_used.add(w)
            else:
                def covered(w: int, ls: list[list[int]] = ls) -> int:
                    return sum(min(total.get((w, ln[1]), 0), ln[2]) for ln in ls)

                best = max(choices, key=lambda w: (covered(w), -choices.index(w)), default=None)
                if best is not None and covered(best) > 0:
                    for ln in ls:
                        take(o.id, ln, best, ln[2])
                    whs_used.add(best)
        short = any(ln[2] > 0 for ln in lines.get(o.id, []))
        status = "backorder" if short else "allocated"
        wh = next(iter(whs_used)) if len(whs_used) == 1 else None
        new_status[o.id] = (o.status, status, wh)

    # 5. write it all, set-based
    at = audit.utcnow()
    run = uuid.uuid4().hex[:12]
    ts = stamp(s, at)
    if allocs:
        insert_rows(s, "allocation", ("order_id", "order_line_id", "product_id", "warehouse_id", "location_id",
                                      "lot_id", "package_id", "qty", "status", "created_at"),
                    [(oid, lid, pid, wid, q[1], q[6], q[7], t, "active", ts) for oid, lid, pid, wid, q, t in allocs])
        insert_rows(s, "reservation_entry", ("op_id", "at", "actor_id", "terminal", "product_id", "location_id",
                                             "lot_id", "package_id", "qty", "doc_ref"),
                    [(f"alloc-{run}-{k}", ts, actor.user_id, actor.terminal, pid, q[1], q[6], q[7], t, doc_ref(oid))
                     for k, (oid, _lid, pid, _wid, q, t) in enumerate(allocs)])
        update_by_id(s, "quant", [("reserved", "add", "bigint")], sorted(quant_delta.items()))
        update_by_id(s, "sales_order_line", [("allocated_qty", "add", "bigint")],
                     [(k, d) for k, d in line_delta.items() if d])
    changed = [(oid, old, new, wh) for oid, (old, new, wh) in new_status.items()
               if old != new or wh != orders[oid].warehouse_id]
    if changed:
        update_by_id(s, "sales_order", [("status", "set", "text"), ("warehouse_id", "set", "integer"),
                                        ("updated_at", "set", "timestamptz")],
                     [(oid, new, wh, ts) for oid, _old, new, wh in changed])
        insert_rows(s, "order_status_event", ("order_id", "at", "from_status", "to_status", "actor_id", "note"),
                    [(oid, ts, old, new, actor.user_id, "") for oid, old, new, _wh in changed if old != new])
    became_short = [oid for oid, old, new, _wh in changed if new == "backorder" and old != "backorder"]
    became_full = [oid for oid, _old, new, _wh in changed if new == "allocated"]
    _tickets(s, became_short, became_full, at)
    n_alloc = sum(1 for v in new_status.values() if v[1] == "allocated")
    n_short = len(new_status) - n_alloc
    reserved = sum(t for *_x, t in allocs)
    report.orders += len(new_status)
    report.allocated += n_alloc
    report.backordered += n_short
    report.allocations += len(allocs)
    report.lines += len(line_delta)
    report.qty_reserved += reserved
    audit.record(s, actor, "orders.allocate", f"allocation-run:{run}", {
        "orders": len(new_status), "allocated": n_alloc, "backordered": n_short, "allocations": len(allocs),
        "qty": str(from_raw(reserved)), "first_order": min(new_status), "last_order": max(new_status)}, at=at)


def _bp(name: str) -> Any:
    return bindparam(name)


def _tickets(s: Session, short: list[int], full: list[int], at: Any) -> None:
    """An ``out_of_stock`` ticket per order newly short (unless one is open); resolve them when full."""
    t = ExceptionTicket
    for i in range(0, len(full), 5000):
        s.execute(update(t).where(t.order_id.in_(full[i:i + 5000]), t.code == "out_of_stock",  # type: ignore[union-attr]
                                  t.status.in_(("open", "waiting")))  # type: ignore[attr-defined]
                  .values(status="resolved", resolution="allocated", updated_at=at))
    if not short:
        return
    have = set()
    for i in range(0, len(short), 5000):
        have |= set(s.execute(select(t.order_id).where(t.order_id.in_(short[i:i + 5000]), t.code == "out_of_stock",  # type: ignore[union-attr]
                                                       t.status.in_(("open", "waiting")))).scalars())  # type: ignore[attr-defined]
    todo = [o for o in short if o not in have]
    if not todo:
        return
    refs: dict[int, tuple[str, int]] = {}
    for i in range(0, len(todo), 5000):
        refs.update((r.id, (r.external_ref, r.channel_id)) for r in s.execute(
            select(SalesOrder.id, SalesOrder.external_ref, SalesOrder.channel_id)
            .where(SalesOrder.id.in_(todo[i:i + 5000]))))  # type: ignore[union-attr]
    s.execute(insert(t), [
        {"code": "out_of_stock", "order_id": o, "external_ref": refs[o][0], "channel_id": refs[o][1],
         "message": _("not enough stock to allocate {ref} whole; the rest is backordered").format(ref=doc_ref(o)),
         "raw": "", "status": "open", "notes": "", "resolution": "", "created_at": at, "updated_at": at}
        for o in todo])


