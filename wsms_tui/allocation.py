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

One transaction per chunk of 10k orders (held about as long as a 5k chunk used to be): lock the
orders (by id), then every free quant of the products involved (``SELECT … FOR UPDATE`` in the fixed
(product, location, lot, package) order; SQLite's ``BEGIN IMMEDIATE`` serialises writers), compute
in memory with scaled integers (``_decide``), and write allocations, reservation journal rows (doc ref
``SO-<id>``), quant ``reserved``, line caches, statuses and timeline rows set-based, in order id
order: ``db/bulk.py`` (COPY on PostgreSQL); on SQLite the journal rows are copied from the allocation
rows just written by one INSERT … SELECT. Id lists go to the database as one parameter (``any_of``),
and the cyclic GC is paused for the run (it cost a third of it). Concurrent allocators never
oversell: availability is read inside the locks.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from sqlalchemy import case, select
from sqlmodel import Session

from wsms_tui import audit
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.bulk import any_of, execute_many, fetch, insert_rows, paused_gc, stamp, update_by_id
from wsms_tui.db.models import LocationUsage, Product
from wsms_tui.db.models_orders import (
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

CHUNK = 10000
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
    report = AllocationReport()
    day = today or date.today()
    with paused_gc():
        ids = db.read(lambda s: _candidates(s, refs, product_ids, statuses))
        for i in range(0, len(ids), chunk):
            part = ids[i:i + chunk]
            done = db.write(lambda s, part=part: _allocate_chunk(s, actor, part, statuses, day))  # type: ignore[misc]
            if done is not None:  # counted once the chunk committed (a retried chunk counts once)
                report.orders += done.orders
                report.allocated += done.allocated
                report.backordered += done.backordered
                report.allocations += done.allocations
                report.lines += done.lines
                report.qty_reserved += done.qty_reserved
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


def _prio(o: Sequence[Any]) -> tuple[Any, ...]:
    # (express first, priority, promised date, channel rank, order date, id); dates None last
    return (not o[4], -o[5], o[6] is None, o[6] or "", o[8], o[7] is None, o[7] or "", o[0])


def _decide(ordered: Iterable[Sequence[Any]], lines: dict[int, list[list[int]]], held_in: dict[int, set[int]],
            free: dict[int, dict[int, list[list[Any]]]], avail: dict[int, dict[int, int]],
            ranked_for: Callable[[str], list[int]]
            ) -> tuple[list[tuple[int, int, int, int, list[Any], int]], dict[int, tuple[str, str, int | None]]]:
    """The allocation decision for locked orders in priority order (rows as read in ``_allocate_chunk``):
    allocation rows (order, line, product, warehouse, quant, qty) and each order's (old status, new status,
    warehouse). Takes from ``free``/``avail`` and lowers each line's remaining quantity as it goes."""
    allocs: list[tuple[int, int, int, int, list[Any], int]] = []  # order, line, product, wh, quant, qty
    new_status: dict[int, tuple[str, str, int | None]] = {}
    nothing: dict[int, int] = {}

    def take(oid: int, ln: list[int], av: dict[int, int], wid: int) -> int:
        want = ln[2]
        if av.get(wid, 0) <= 0:
            return 0
        got = 0
        for q in free[ln[1]][wid]:
            f = q[5]
            if f <= 0:
                continue
            t = f if f < want - got else want - got
            q[5] = f - t
            got += t
            allocs.append((oid, ln[0], ln[1], wid, q, t))
            if got >= want:
                break
        av[wid] -= got
        ln[2] -= got
        return got

    for o in ordered:
        oid = o[0]
        ols = lines.get(oid, ())
        ls = [(ln, avail.get(ln[1], nothing)) for ln in ols if ln[2] > 0]
        held = held_in.get(oid)
        whs_used = set(held) if held else set()
        if ls:
            ranked = ranked_for(o[2])
            fixed = sorted(whs_used) if whs_used else ([o[3]] if o[3] else [])
            order_whs = fixed + [w for w in ranked if w not in fixed] if fixed else ranked
            choices = order_whs if (o[9] or not fixed) else fixed
            whole = None
            for w in choices:
                for ln, av in ls:
                    if av.get(w, 0) < ln[2]:
                        break
                else:
                    whole = w
                    break
            if whole is not None:
                for ln, av in ls:
                    take(oid, ln, av, whole)
                whs_used.add(whole)
            elif o[9]:
                for ln, av in ls:
                    for w in order_whs:
                        if ln[2] <= 0:
                            break
                        if take(oid, ln, av, w):
                            whs_used.add(w)
            else:
                def covered(w: int, ls: list[tuple[list[int], dict[int, int]]] = ls) -> int:
                    return sum(min(av.get(w, 0), ln[2]) for ln, av in ls)

                best = max(choices, key=lambda w: (covered(w), -choices.index(w)), default=None)
                if best is not None and covered(best) > 0:
                    for ln, av in ls:
                        take(oid, ln, av, best)
                    whs_used.add(best)
        short = False
        for ln in ols:
            if ln[2] > 0:
                short = True
                break
        new_status[oid] = (o[1], "backorder" if short else "allocated",
                           next(iter(whs_used)) if len(whs_used) == 1 else None)
    return allocs, new_status


def _allocate_chunk(s: Session, actor: Actor, ids: list[int], statuses: Sequence[str],
                    day: date) -> AllocationReport | None:
    pg = s.get_bind().dialect.name == "postgresql"
    # 1. lock the orders (ascending id) and re-read them inside the lock
    cond, param = any_of(s, "o.id", ids)
    orders = {r[0]: r for r in fetch(
        s, "SELECT o.id, o.status, o.country, o.warehouse_id, o.express, o.priority, o.promised_date, o.order_date,"
           " c.rank, c.allow_split, o.external_ref, o.channel_id FROM sales_order o"
           f" JOIN sales_channel c ON c.id = o.channel_id WHERE {cond} ORDER BY o.id"
           + (" FOR UPDATE OF o" if pg else ""), (param,)) if r[1] in statuses}
    if not orders:
        return None
    oids = list(orders)
    cond, param = any_of(s, "order_id", oids)
    # 2. open lines still short: order -> [[line_id, product, remaining], …] in line order
    lines: dict[int, list[list[int]]] = defaultdict(list)
    for lid, oid, pid, rest in fetch(
            s, "SELECT id, order_id, product_id, qty - allocated_qty - shipped_qty FROM sales_order_line"
               f" WHERE {cond} AND status = 'open' ORDER BY order_id, line_no", (param,)):
        lines[oid].append([lid, pid, rest])
    held_in: dict[int, set[int]] = defaultdict(set)
    for oid, wid in fetch(s, f"SELECT DISTINCT order_id, warehouse_id FROM allocation WHERE {cond}"
                             " AND status = 'active'", (param,)):
        held_in[oid].add(wid)
    products = sorted({ln[1] for ls in lines.values() for ln in ls if ln[2] > 0})
    # 3. lock the free quants of those products (PostgreSQL: in the fixed order; SQLite's write lock is
    #    already held): product -> warehouse -> FEFO quants [.., free (5), quant id (6), lot (7), package (8)]
    free: dict[int, dict[int, list[list[Any]]]] = defaultdict(lambda: defaultdict(list))
    avail: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))  # product -> warehouse -> free
    if products:
        cond, param = any_of(s, "q.product_id", products)
        for qid, pid, loc, lot, pkg, f, wid, expiry in fetch(
                s, "SELECT q.id, q.product_id, q.location_id, q.lot_id, q.package_id, q.on_hand - q.reserved,"
                   " l.warehouse_id, t.expiry FROM quant q JOIN location l ON l.id = q.location_id"
                   " LEFT JOIN lot t ON t.id = q.lot_id"
                   f" WHERE {cond} AND l.usage = ? AND l.active = ? AND l.warehouse_id IS NOT NULL"
                   " AND q.on_hand > q.reserved AND (t.expiry IS NULL OR t.expiry >= ?)"
                   + (" ORDER BY q.product_id, q.location_id, coalesce(q.lot_id, 0), coalesce(q.package_id, 0)"
                      " FOR UPDATE OF q" if pg else ""),
                (param, LocationUsage.INTERNAL.value, True, day if pg else day.isoformat())):
            free[pid][wid].append([expiry is None, expiry or "", loc, lot or 0, pkg or 0, f, qid, lot, pkg])
            avail[pid][wid] += f
        for by_wh in free.values():
            for v in by_wh.values():
                v.sort()
    routes, warehouses = _routes(s)
    rank_cache: dict[str, list[int]] = {}

    def ranked(country: str) -> list[int]:
        return rank_cache.get(country) or _ranked(routes, warehouses, country, rank_cache)

    # 4. in priority order (``ids`` come in that order already: sorting again only catches changes since,
    #    in linear time), decide in memory
    ordered = sorted((orders[i] for i in ids if i in orders), key=_prio)
    allocs, new_status = _decide(ordered, lines, held_in, free, avail, ranked)

    # 5. write it all, set-based, in order id order (the tables' and indexes' order)
    at = audit.utcnow()
    run = uuid.uuid4().hex[:12]
    ts = stamp(s, at)
    allocs.sort(key=itemgetter(0))
    quant_delta: dict[int, int] = defaultdict(int)
    line_delta: dict[int, int] = defaultdict(int)
    for _oid, lid, _pid, _wid, q, t in allocs:
        quant_delta[q[6]] += t
        line_delta[lid] += t
    if allocs:
        uid, term = actor.user_id, actor.terminal
        base = 0 if pg else fetch(s, "SELECT coalesce(max(id), 0) FROM allocation")[0][0]
        insert_rows(s, "allocation", ("order_id", "order_line_id", "product_id", "warehouse_id", "location_id",
                                      "lot_id", "package_id", "qty", "status", "created_at"),
                    [(oid, lid, pid, wid, q[2], q[7], q[8], t, "active", ts) for oid, lid, pid, wid, q, t in allocs])
        # the journal rows: one per allocation, op ids alloc-<run>-<n> in allocation order
        res_cols = ("op_id", "at", "actor_id", "terminal", "product_id", "location_id", "lot_id", "package_id",
                    "qty", "doc_ref")
        if pg:
            insert_rows(s, "reservation_entry", res_cols,
                        [(f"alloc-{run}-{k:06d}", ts, uid, term, pid, q[2], q[7], q[8], t, f"SO-{oid}")
                         for k, (oid, _lid, pid, _wid, q, t) in enumerate(allocs)])
        else:  # copied from the rows just written (ids above ``base``: the write lock is ours)
            s.connection().exec_driver_sql(
                f"INSERT INTO reservation_entry ({', '.join(res_cols)}) SELECT printf('alloc-%s-%06d', ?, id - ? - 1),"
                " created_at, ?, ?, product_id, location_id, lot_id, package_id, qty, 'SO-' || order_id"
                " FROM allocation WHERE id > ? ORDER BY id", (run, base, uid, term, base))
        update_by_id(s, "quant", [("reserved", "add", "bigint")], sorted(quant_delta.items()))
        update_by_id(s, "sales_order_line", [("allocated_qty", "add", "bigint")], sorted(line_delta.items()))
    changed = [(oid, old, new, wh) for oid, (old, new, wh) in sorted(new_status.items())
               if old != new or wh != orders[oid][3]]
    if changed:
        update_by_id(s, "sales_order", [("status", "set", "text"), ("warehouse_id", "set", "integer"),
                                        ("updated_at", "set", "timestamptz")],
                     [(oid, new, wh, ts) for oid, _old, new, wh in changed])
        insert_rows(s, "order_status_event", ("order_id", "at", "from_status", "to_status", "actor_id", "note"),
                    [(oid, ts, old, new, actor.user_id, "") for oid, old, new, _wh in changed if old != new])
    became_short = [oid for oid, old, new, _wh in changed if new == "backorder" and old != "backorder"]
    became_full = [oid for oid, _old, new, _wh in changed if new == "allocated"]
    _tickets(s, became_short, became_full, at, orders)
    n_alloc = sum(1 for v in new_status.values() if v[1] == "allocated")
    n_short = len(new_status) - n_alloc
    reserved = sum(a[5] for a in allocs)
    audit.record(s, actor, "orders.allocate", f"allocation-run:{run}", {
        "orders": len(new_status), "allocated": n_alloc, "backordered": n_short, "allocations": len(allocs),
        "qty": str(from_raw(reserved)), "first_order": min(new_status), "last_order": max(new_status)}, at=at)
    return AllocationReport(orders=len(new_status), allocated=n_alloc, backordered=n_short, allocations=len(allocs),
                            lines=len(line_delta), qty_reserved=reserved)


def _tickets(s: Session, short: list[int], full: list[int], at: Any, orders: dict[int, Any]) -> None:
    """An ``out_of_stock`` ticket per order newly short (unless one is open); resolve them when full.
    ``orders`` are the locked order rows (id, …, external_ref at 10, channel_id at 11)."""
    if full:
        cond, param = any_of(s, "order_id", full)
        execute_many(s, "UPDATE exception_ticket SET status = 'resolved', resolution = 'allocated', updated_at = ?"
                        f" WHERE {cond} AND code = 'out_of_stock' AND status IN ('open', 'waiting')",
                     [(stamp(s, at), param)])
    if not short:
        return
    cond, param = any_of(s, "order_id", short)
    have = {r[0] for r in fetch(s, f"SELECT order_id FROM exception_ticket WHERE {cond}"
                                   " AND code = 'out_of_stock' AND status IN ('open', 'waiting')", (param,))}
    ts = stamp(s, at)
    msg = _("not enough stock to allocate {ref} whole; the rest is backordered")
    insert_rows(s, "exception_ticket", ("code", "order_id", "external_ref", "channel_id", "message", "raw", "status",
                                        "notes", "resolution", "created_at", "updated_at"),
                [("out_of_stock", o, orders[o][10], orders[o][11], msg.format(ref=doc_ref(o)), "", "open", "", "",
                  ts, ts) for o in short if o not in have])
