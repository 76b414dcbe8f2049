"""Sales orders: channels and warehouse routes, the order queue (keyset pages, filters in SQL), order
detail and its status timeline, status changes, cancelling, and a minimal ship-to-customer.

Every status change writes one ``order_status_event`` row (the timeline customer service reads and
fulfilment reports are computed from). Lock order for anything touching orders: the order rows (by
id) first, then quants (product, location, lot, package), then the audit head — the same in every
transaction, so order services, allocation and the ledger never wait on each other in a cycle.

Screens call one function per action and get frozen dataclasses back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    or_,
    select,
    true,
    type_coerce,
    union,
    union_all,
    update,
)
from sqlmodel import Session

from wsms_tui import audit, ledger
from wsms_tui.audit import as_utc
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import Location, Lot, Product, ReservationEntry, User, Warehouse
from wsms_tui.db.models_orders import (
    Allocation,
    ExceptionTicket,
    OrderStatusEvent,
    SalesChannel,
    SalesOrder,
    SalesOrderLine,
    WarehouseRoute,
)
from wsms_tui.db.types import QTY_SCALE, ScaledDecimal, plain
from wsms_tui.errors import BadInput, NotFound
from wsms_tui.i18n import _
from wsms_tui.security import Actor

PAGE = 200
#: statuses in which an order may still change (after that the warehouse is working on it)
OPEN_STATUSES = ("new", "hold", "backorder", "allocated")
#: statuses allocation works on
ALLOCATABLE = ("new", "backorder")
SCALE = 10**QTY_SCALE


def doc_ref(order_id: int) -> str:
    """The document reference of an order in the ledger and the reservation journal."""
    return f"SO-{order_id}"


def to_raw(q: Decimal) -> int:
    return int(q.scaleb(QTY_SCALE))


def from_raw(v: int | None) -> Decimal:
    return plain(Decimal(int(v or 0)).scaleb(-QTY_SCALE))


def raw(col: Any) -> Any:
    """A scaled-decimal column read as its stored integer (fast sums and arithmetic)."""
    return type_coerce(col, BigInteger)


_RAW_TABLES: dict[str, Table] = {}


def raw_table(model: Any) -> Table:
    """The model's table with scaled-decimal columns as plain BIGINT: bulk values go in pre-scaled."""
    table: Table = model.__table__
    if table.name not in _RAW_TABLES:
        cols = [Column(c.name, BigInteger() if isinstance(c.type, ScaledDecimal) else c.type,
                       primary_key=c.primary_key) for c in table.columns]
        _RAW_TABLES[table.name] = Table(table.name, MetaData(), *cols)
    return _RAW_TABLES[table.name]


# ------------------------------------------------------------------ status changes


def set_status(s: Session, actor: Actor, order_id: int, old: str, new: str, note: str = "",
               at: datetime | None = None) -> None:
    """Change an order's status and append the timeline row (caller holds the order's lock)."""
    if old == new:
        return
    at = at or audit.utcnow()
    s.execute(update(SalesOrder).where(SalesOrder.id == order_id).values(status=new, updated_at=at))
    s.execute(insert(OrderStatusEvent).values(order_id=order_id, at=at, from_status=old, to_status=new,
                                              actor_id=actor.user_id, note=note[:2000]))


def status_events_bulk(s: Session, actor: Actor, changes: Sequence[tuple[int, str, str, str]],
                       at: datetime) -> None:
    """Many timeline rows at once: (order_id, from, to, note)."""
    if changes:
        s.execute(insert(OrderStatusEvent), [
            {"order_id": o, "at": at, "from_status": a, "to_status": b, "actor_id": actor.user_id, "note": n}
            for o, a, b, n in changes])


def lock_orders(s: Session, ids: Iterable[int]) -> dict[int, Any]:
    """Lock orders by id (ascending: the fixed order) and return their rows."""
    ids = sorted(set(ids))
    out: dict[int, Any] = {}
    for i in range(0, len(ids), 5000):
        part = ids[i:i + 5000]
        rows = s.execute(select(SalesOrder.__table__).where(SalesOrder.id.in_(part))  # type: ignore[union-attr]
                         .order_by(SalesOrder.id).with_for_update()).all()
        out.update({r.id: r for r in rows})
    return out


def find_order_id(s: Session, ref: str | int) -> int:
    """``SO-123``, ``CHANNEL:REF`` or a channel's own reference (when only one channel has it)."""
    if isinstance(ref, int):
        oid = s.execute(select(SalesOrder.id).where(SalesOrder.id == ref)).scalar()
        if oid is None:
            raise NotFound(_("no order {ref}").format(ref=doc_ref(ref)))
        return oid
    text = ref.strip()
    if text.upper().startswith("SO-") and text[3:].isdigit():
        return find_order_id(s, int(text[3:]))
    q = select(SalesOrder.id, SalesChannel.name).join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
    if ":" in text:
        ch, ext = text.split(":", 1)
        row = s.execute(q.where(SalesChannel.name == ch, SalesOrder.external_ref == ext)).first()
        if row is not None:
            return int(row.id)
    rows = s.execute(q.where(SalesOrder.external_ref == text)).all()
    if not rows:
        raise NotFound(_("no order {ref}").format(ref=text))
    if len(rows) > 1:
        raise BadInput(_("{ref} is an order of several channels; say which: {opts}").format(
            ref=text, opts=", ".join(f"{r.name}:{text}" for r in rows)))
    return int(rows[0].id)


# ------------------------------------------------------------------ reservations of an order


@dataclass(frozen=True)
class _AllocRow:
    id: int
    order_id: int
    line_id: int
    product_id: int
    location_id: int
    lot_id: int | None
    package_id: int | None
    qty: int  # raw


def active_allocations(s: Session, order_id: int, line_ids: Iterable[int] | None = None) -> list[_AllocRow]:
    a = Allocation
    q = (select(a.id, a.order_id, a.order_line_id, a.product_id, a.location_id, a.lot_id, a.package_id, raw(a.qty))
         .where(a.order_id == order_id, a.status == "active").order_by(a.id))
    if line_ids is not None:
        q = q.where(a.order_line_id.in_(list(line_ids)))  # type: ignore[attr-defined]
    return [_AllocRow(*r) for r in s.execute(q).all()]


def release_allocations(s: Session, actor: Actor, allocs: Sequence[_AllocRow], *, reason: str,
                        partial: dict[int, int] | None = None, locked: bool = False) -> int:
    """Give back the stock held by allocations (reservation journal −qty, quant reserved, line cache).

    ``partial`` maps allocation id → raw qty to release (default: all of it). Caller holds the order
    lock; quants are locked here in the fixed order unless ``locked``. Returns the raw qty released."""
    if not allocs:
        return 0
    keys = [(a.product_id, a.location_id, a.lot_id, a.package_id) for a in allocs]
    quants = ledger.lock_quants(s, keys) if not locked else None
    at = audit.utcnow()
    run = uuid.uuid4().hex[:10]
    total = 0
    res_rows, line_delta = [], {}
    for a, k in zip(allocs, keys, strict=True):
        q = (partial or {}).get(a.id, a.qty)
        q = min(q, a.qty)
        if q <= 0:
            continue
        total += q
        if quants is not None:
            qr = quants[k]
            qr.reserved -= from_raw(q)
        s.execute(update(raw_table(Allocation)).where(raw_table(Allocation).c.id == a.id).values(
            qty=a.qty - q if q < a.qty else a.qty, status="active" if q < a.qty else "released"))
        res_rows.append({"op_id": f"SO-{a.order_id}-rel-{a.id}-{run}", "at": at, "actor_id": actor.user_id,
                         "terminal": actor.terminal, "product_id": a.product_id, "location_id": a.location_id,
                         "lot_id": a.lot_id, "package_id": a.package_id, "qty": -q, "doc_ref": doc_ref(a.order_id)})
        line_delta[a.line_id] = line_delta.get(a.line_id, 0) + q
    if quants is not None:
        for qr in quants.values():
            s.execute(update(raw_table(ledger.Quant)).where(raw_table(ledger.Quant).c.id == qr.id)
                      .values(reserved=to_raw(qr.reserved)))
    else:
        qt = raw_table(ledger.Quant)
        for a, k in zip(allocs, keys, strict=True):
            q = min((partial or {}).get(a.id, a.qty), a.qty)
            if q > 0:
                s.execute(update(qt).where(qt.c.product_id == k[0], qt.c.location_id == k[1],
                                           func.coalesce(qt.c.lot_id, 0) == (k[2] or 0),
                                           func.coalesce(qt.c.package_id, 0) == (k[3] or 0))
                          .values(reserved=qt.c.reserved - q))
    if res_rows:
        s.execute(insert(raw_table(ReservationEntry)), res_rows)
    lt = raw_table(SalesOrderLine)
    for line_id, d in line_delta.items():
        s.execute(update(lt).where(lt.c.id == line_id).values(allocated_qty=lt.c.allocated_qty - d))
    audit.record(s, actor, "orders.release", f"sales_order:{allocs[0].order_id}",
                 {"reason": reason, "allocations": [a.id for a in allocs], "qty": str(from_raw(total))}, at=at)
    return total


def recompute_status(s: Session, actor: Actor, order_id: int, note: str = "") -> str:
    """Status from the lines (allocated / backorder / shipped / cancelled) for an order not yet picked."""
    row = s.execute(select(SalesOrder.status).where(SalesOrder.id == order_id)).one()
    lt = SalesOrderLine
    lines = s.execute(select(lt.status, raw(lt.qty), raw(lt.allocated_qty), raw(lt.shipped_qty))
                      .where(lt.order_id == order_id)).all()
    open_lines = [ln for ln in lines if ln.status == "open"]
    if not open_lines:
        new = "shipped" if any(ln[3] > 0 for ln in lines) else "cancelled"
    elif row.status == "hold":
        return "hold"
    elif all(ln[2] + ln[3] >= ln[1] for ln in open_lines):
        new = "allocated" if any(ln[2] > 0 for ln in open_lines) else "shipped"
    elif any(ln[2] > 0 for ln in open_lines) or row.status in ("backorder", "allocated"):
        new = "backorder"
    else:
        new = row.status if row.status == "new" else "backorder"
    set_status(s, actor, order_id, row.status, new, note)
    return new


# ------------------------------------------------------------------ channels and routes


@dataclass(frozen=True)
class ChannelInfo:
    name: str
    rank: int
    allow_split: bool
    drop_folder: str | None
    default_format: str
    active: bool
    open_orders: int


def channel_id(s: Session, name: str) -> int:
    cid = s.execute(select(SalesChannel.id).where(SalesChannel.name == name.strip())).scalar()
    if cid is None:
        known = s.execute(select(SalesChannel.name).order_by(SalesChannel.name)).scalars().all()
        raise NotFound(_("no sales channel {n!r} (known: {k}); add it with `wsms channels add {n}`").format(
            n=name, k=", ".join(known) or "-"))
    return int(cid)


def save_channel(db: Database, actor: Actor, name: str, *, rank: int = 100, allow_split: bool = False,
                 drop_folder: str | None = None, default_format: str = "auto") -> ChannelInfo:
    """Create a channel or change its settings."""
    require(db, actor, "channels.manage", f"channel:{name}")
    from wsms_tui.order_import import FORMATS

    name = name.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name) or ":" in name:
        raise BadInput(_("a channel name is 1 to 64 characters without spaces or ':'"))
    if default_format != "auto" and default_format not in FORMATS:
        raise BadInput(_("format is one of: auto, {f}").format(f=", ".join(FORMATS)))

    def work(s: Session) -> ChannelInfo:
        cid = s.execute(select(SalesChannel.id).where(SalesChannel.name == name)).scalar()
        values = {"rank": rank, "allow_split": allow_split, "drop_folder": drop_folder or None,
                  "default_format": default_format}
        if cid is None:
            s.execute(insert(SalesChannel).values(name=name, active=True, **values))
        else:
            s.execute(update(SalesChannel).where(SalesChannel.id == cid).values(**values))
        audit.record(s, actor, "channels.save", f"channel:{name}", {**values, "created": cid is None})
        return ChannelInfo(name, rank, allow_split, drop_folder or None, default_format, True, 0)

    return db.write(work)


def list_channels(db: Database, actor: Actor) -> list[ChannelInfo]:
    require(db, actor, "orders.view")

    def work(s: Session) -> list[ChannelInfo]:
        n = (select(SalesOrder.channel_id, func.count().label("n"))
             .where(SalesOrder.status.in_(OPEN_STATUSES)).group_by(SalesOrder.channel_id).subquery())  # type: ignore[attr-defined]
        rows = s.execute(select(SalesChannel, n.c.n).outerjoin(n, n.c.channel_id == SalesChannel.id)
                         .order_by(SalesChannel.rank, SalesChannel.name)).all()
        return [ChannelInfo(c.name, c.rank, c.allow_split, c.drop_folder, c.default_format, c.active, int(k or 0))
                for c, k in rows]

    return db.read(work)


def set_route(db: Database, actor: Actor, warehouse: str, *, country: str = "", rank: int = 100) -> None:
    """How near ``warehouse`` is to ``country`` ('' = any destination); lower rank is preferred."""
    require(db, actor, "channels.manage", f"warehouse:{warehouse}")
    country = country.strip().upper()
    if country and len(country) != 2:
        raise BadInput(_("country is an ISO 3166 two-letter code, or empty for anywhere"))

    def work(s: Session) -> None:
        wid = s.execute(select(Warehouse.id).where(Warehouse.code == warehouse)).scalar()
        if wid is None:
            raise NotFound(_("no warehouse {w}").format(w=warehouse))
        rid = s.execute(select(WarehouseRoute.id).where(WarehouseRoute.warehouse_id == wid,
                                                        WarehouseRoute.country == country)).scalar()
        if rid is None:
            s.execute(insert(WarehouseRoute).values(warehouse_id=wid, country=country, rank=rank))
        else:
            s.execute(update(WarehouseRoute).where(WarehouseRoute.id == rid).values(rank=rank))
        audit.record(s, actor, "channels.route", f"warehouse:{warehouse}", {"country": country, "rank": rank})

    db.write(work)


# ------------------------------------------------------------------ the order queue


@dataclass(frozen=True)
class OrderFilter:
    """What the order queue shows; every field narrows it, all in SQL."""

    status: tuple[str, ...] | None = None
    channel: str | None = None
    warehouse: str | None = None
    express: bool | None = None
    min_priority: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    #: order ref (ours or the channel's), customer, phone or SKU
    search: str | None = None


@dataclass(frozen=True)
class OrderRow:
    id: int
    ref: str
    channel: str
    external_ref: str
    order_date: date | None
    customer: str
    phone: str
    country: str
    priority: int
    express: bool
    promised_date: date | None
    status: str
    warehouse: str | None
    lines: int
    qty: Decimal
    allocated: Decimal


def _rows_query(ids: Sequence[int], *, pg: bool = False):  # type: ignore[no-untyped-def]
    """The queue's columns for the orders ``ids``. Line totals are correlated look-ups on the line index, one
    per order shown, so a page costs the same on a database whose planner has no statistics yet (a fresh
    import) as on an analysed one. ``pg``: the ids go as one array parameter (``= ANY``) and the three totals
    come from one LATERAL look-up per order (SQLite has no LATERAL: a scalar subquery each)."""
    lt = SalesOrderLine
    mine = (lt.order_id == SalesOrder.id, lt.status == "open")
    totals = (func.count(), func.sum(raw(lt.qty)), func.sum(raw(lt.allocated_qty) + raw(lt.shipped_qty)))
    cols = (SalesOrder.id, SalesChannel.name, SalesOrder.external_ref, SalesOrder.order_date, SalesOrder.customer,
            SalesOrder.phone, SalesOrder.country, SalesOrder.priority, SalesOrder.express, SalesOrder.promised_date,
            SalesOrder.status, Warehouse.code)
    if pg:
        agg = select(*(t.label(f"t{i}") for i, t in enumerate(totals))).where(*mine).correlate(SalesOrder).lateral()
        q = select(*cols, *agg.c).select_from(SalesOrder).outerjoin(agg, true())
        where = SalesOrder.id == any_(bindparam("ids", list(ids), type_=ARRAY(BigInteger)))
    else:
        q = select(*cols, *(select(t).where(*mine).correlate(SalesOrder).scalar_subquery() for t in totals))
        where = SalesOrder.id.in_(ids)  # type: ignore[union-attr]
    return (q.join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
            .outerjoin(Warehouse, Warehouse.id == SalesOrder.warehouse_id).where(where))


#: the customer substring indexes of migration 0009 (each absent where the backend could not have it): SQLite's
#: FTS5 trigram table over ``sales_order.customer``, PostgreSQL's pg_trgm GIN index on ``lower(customer)``
_FTS = Table("sales_order_search", MetaData(), Column("rowid", BigInteger), Column("customer", String))
_TRGM_INDEX = "ix_sales_order_customer_trgm"


def _queue_session(s: Session, walk: bool = False) -> bool:
    """Set up a queue read (once per transaction); True when the customer substring index is there.

    PostgreSQL, for the transaction: JIT off — these statements take milliseconds, but on tables without
    statistics yet (right after a large import, before autovacuum's ANALYZE) the planner's guesses pass
    ``jit_above_cost`` and compiling alone costs some 40 ms; a plan for each search's own values
    (``force_custom_plan``) — psycopg prepares a statement run 5 times, and the generic plan PostgreSQL then
    settles on knows neither the search text nor the filter values (40–60 ms where the custom plan takes 5);
    and with ``walk`` (a filter on statuses or a channel, no search: an index holds each status's or the
    channel's orders in id order) no bitmap scans, so a page walks that index and stops after 200 — without
    statistics the planner guesses a few rows and sorts all 37,500 new orders for 200 of them instead.
    Everything else keeps them: the trigram index is read by bitmap scans only, and a date range has no index
    in id order (an index scan there visits the heap in random order)."""
    if "wsms_queue_indexed" not in s.info:
        conn = s.connection()
        if conn.dialect.name == "postgresql":
            row = conn.exec_driver_sql(
                "SELECT set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true), "
                "set_config('enable_bitmapscan', %s, true), to_regclass(%s) IS NOT NULL",
                ("off" if walk else "on", _TRGM_INDEX)).one()
            s.info["wsms_queue_indexed"] = bool(row[3])
        else:
            s.info["wsms_queue_indexed"] = conn.exec_driver_sql(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sales_order_search'").first() is not None
    return bool(s.info["wsms_queue_indexed"])


def _filter_conditions(f: OrderFilter) -> list[Any]:
    """Everything but the search and the status, on ``sales_order`` alone (a channel or warehouse is looked up
    by name)."""
    conds: list[Any] = []
    if f.channel:
        conds.append(SalesOrder.channel_id == select(SalesChannel.id).where(SalesChannel.name == f.channel)
                     .scalar_subquery())
    if f.warehouse:
        conds.append(SalesOrder.warehouse_id == select(Warehouse.id).where(Warehouse.code == f.warehouse)
                     .scalar_subquery())
    if f.express is not None:
        conds.append(SalesOrder.express == f.express)
    if f.min_priority is not None:
        conds.append(SalesOrder.priority >= f.min_priority)
    if f.date_from:
        conds.append(SalesOrder.order_date >= f.date_from)
    if f.date_to:
        conds.append(SalesOrder.order_date <= f.date_to)
    return conds


def _search_arms(search: str, indexed: bool, sqlite: bool) -> list[tuple[Any, Any]]:
    """The ways a search finds an order — order ref (ours ``SO-n`` or the channel's), phone (as typed or its
    digits), SKU on a line, customer substring — each a SELECT of ``sales_order.id`` to narrow further, with
    the column that orders it newest first.

    The customer substring is case-insensitive: ``lower(customer) LIKE '%text%'`` (``%`` and ``_`` dropped).
    With the substring index and a term of 3 characters or more, every way is an indexed look-up of its own
    and the search is their union. PostgreSQL: the pg_trgm GIN index serves that ``LIKE`` itself. SQLite:
    the FTS5 trigram phrase match finds a superset (it folds case beyond ASCII) that the same ``LIKE`` then
    narrows, so the answer is the ``LIKE``'s exactly; its rows come newest first, so a page of a common name
    stops early. Otherwise there is no index to look the customer up in: one arm, one pass over the orders
    newest first, which also stops at the end of a page.
    """
    t = search.strip()
    lt = SalesOrderLine
    phones = [t]
    digits = "".join(c for c in t if c.isdigit())
    if len(digits) >= 6 and digits != t:
        phones.append(digits)
    so_id = int(t[3:]) if t.upper().startswith("SO-") and t[3:].isdigit() else None
    pattern = t.lower().replace("%", "").replace("_", "")
    like = func.lower(SalesOrder.customer).like(f"%{pattern}%")
    sku_orders = select(lt.order_id).join(Product, Product.id == lt.product_id).where(Product.sku == t)
    ids = select(SalesOrder.id).correlate(None)
    if not indexed or len(pattern) < 3:
        conds = [SalesOrder.external_ref == t, SalesOrder.phone.in_(phones), like,  # type: ignore[attr-defined]
                 SalesOrder.id.in_(sku_orders)]  # type: ignore[union-attr]
        if so_id is not None:
            conds.append(SalesOrder.id == so_id)
        return [(ids.where(or_(*conds)), SalesOrder.id)]
    arms = [ids.where(SalesOrder.external_ref == t), ids.where(SalesOrder.phone.in_(phones)),  # type: ignore[attr-defined]
            ids.join(lt, lt.order_id == SalesOrder.id).join(Product, Product.id == lt.product_id)
            .where(Product.sku == t).distinct()]
    if so_id is not None:
        arms.append(ids.where(SalesOrder.id == so_id))
    out = [(a, SalesOrder.id) for a in arms]
    if sqlite:
        # the FTS table hands out its rows by rowid: ordered by it, SQLite walks it newest first
        phrase = '"' + pattern.replace('"', '""') + '"'
        out.append((select(SalesOrder.id).correlate(None).select_from(_FTS)
                    .join(SalesOrder, SalesOrder.id == _FTS.c.rowid).where(_FTS.c.customer.match(phrase), like),
                    _FTS.c.rowid))
    else:
        out.append((ids.where(like), SalesOrder.id))
    return out


def _ids(s: Session, f: OrderFilter, *, limit: int | None, before_id: int | None = None,
         ordered: bool = True) -> Any:
    """A SELECT of the ids ``f`` keeps: newest first when ``ordered``, at most ``limit`` (None: all).

    A search is a union of arms (``_search_arms``), and so is a filter on several statuses without one (an
    arm per status walks the status index in id order). Each arm keeps at most ``limit`` ids of its own
    (newest first when ordered) before the union: the union's first ``limit`` are the same, and when the
    arms are capped at ``cap + 1`` the union has more than ``cap`` exactly when the whole answer has."""
    searching = bool(f.search and f.search.strip())
    indexed = _queue_session(s, walk=not searching and bool(f.channel or f.status))
    conds = _filter_conditions(f)
    if before_id is not None:
        conds.append(SalesOrder.id < before_id)
    if searching:
        if f.status:
            conds.append(SalesOrder.status.in_(f.status))  # type: ignore[attr-defined]
        sqlite = s.get_bind().dialect.name == "sqlite"
        arms = _search_arms(f.search or "", indexed, sqlite)
    else:
        ids = select(SalesOrder.id).correlate(None)
        arms = [(ids.where(SalesOrder.status == st) if st else ids, SalesOrder.id)
                for st in dict.fromkeys(f.status or (None,))]
    selects = [(a.where(*conds).order_by(key.desc()) if ordered else a.where(*conds)).limit(limit) for a, key in arms]
    if len(selects) == 1:
        return selects[0]
    # statuses never overlap: UNION ALL, which a count capped at cap + 1 stops reading early
    u = (union if searching else union_all)(*(select(a.subquery().c.id) for a in selects)).subquery()
    q = select(u.c.id)
    return (q.order_by(u.c.id.desc()) if ordered else q).limit(limit)


def _order_row(r: Any) -> OrderRow:
    return OrderRow(r[0], doc_ref(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]), r[9], r[10], r[11],
                    int(r[12] or 0), from_raw(r[13]), from_raw(r[14]))


def _page(s: Session, f: OrderFilter, limit: int, before_id: int | None) -> list[OrderRow]:
    """One keyset page: the filter's ids (newest first, stopping at ``limit``), then their columns — two
    statements, so the planner sees the page's ids as the short list they are (in one statement, a planner
    without statistics may join every order to find them)."""
    ids = list(s.execute(_ids(s, f, limit=limit, before_id=before_id)).scalars())
    if not ids:
        return []
    rows = {r[0]: r for r in s.execute(_rows_query(ids, pg=s.get_bind().dialect.name == "postgresql")).all()}
    return [_order_row(rows[i]) for i in ids]


def _count(s: Session, f: OrderFilter, cap: int | None) -> int:
    ids = _ids(s, f, limit=None if cap is None else cap + 1, ordered=False)
    return int(s.execute(select(func.count()).select_from(ids.subquery())).scalar_one())


def order_page(db: Database, actor: Actor, f: OrderFilter = OrderFilter(), *, limit: int = PAGE,
               before_id: int | None = None) -> list[OrderRow]:
    """One keyset page of orders, newest first (``before_id`` = id of the previous page's last row)."""
    require(db, actor, "orders.view")
    return db.read(lambda s: _page(s, f, limit, before_id))


def order_count(db: Database, actor: Actor, f: OrderFilter = OrderFilter(), *, cap: int | None = None) -> int:
    """How many orders ``f`` keeps; with ``cap``, counting stops after ``cap + 1`` of them (more than
    ``cap`` then comes back as ``cap + 1``)."""
    require(db, actor, "orders.view")
    return db.read(lambda s: _count(s, f, cap))


#: the queue counts up to this many orders of a filter, then says "10,000+"
COUNT_CAP = 10_000


@dataclass(frozen=True)
class QueueHead:
    """What one Enter at the Orders desk shows: the first page of a filter and how many orders it keeps —
    ``total`` exactly, or when ``capped`` more than ``total`` (= the cap)."""

    rows: tuple[OrderRow, ...]
    total: int
    capped: bool


def order_queue_head(db: Database, actor: Actor, f: OrderFilter = OrderFilter(), *, limit: int = PAGE,
                     cap: int | None = None) -> QueueHead:
    """The first page of ``f`` and its count in one read. A page that is not full is the whole answer (no
    count query: a search that finds a few orders costs one statement); otherwise the count stops after
    ``cap`` (default ``COUNT_CAP``)."""
    require(db, actor, "orders.view")
    most = max(COUNT_CAP if cap is None else cap, 0)

    def work(s: Session) -> QueueHead:
        rows = _page(s, f, limit, None)
        if len(rows) < limit:
            return QueueHead(tuple(rows), len(rows), False)
        n = _count(s, f, most)
        return QueueHead(tuple(rows), min(n, most), n > most)

    return db.read(work)


@dataclass(frozen=True)
class OrderLineView:
    line_no: int
    sku: str
    name: str
    qty: Decimal
    allocated: Decimal
    shipped: Decimal
    status: str

    @property
    def backordered(self) -> Decimal:
        return max(self.qty - self.allocated - self.shipped, Decimal(0)) if self.status == "open" else Decimal(0)


@dataclass(frozen=True)
class AllocationView:
    line_no: int
    sku: str
    warehouse: str
    location: str
    lot: str | None
    expiry: date | None
    qty: Decimal
    status: str


@dataclass(frozen=True)
class StatusEventView:
    at: datetime
    from_status: str
    to_status: str
    actor: str
    note: str


@dataclass(frozen=True)
class OrderDetail:
    order: OrderRow
    email: str
    address: str
    city: str
    state: str
    postcode: str
    lines: list[OrderLineView]
    allocations: list[AllocationView]
    timeline: list[StatusEventView]
    open_tickets: list[int]


def _timeline(s: Session, oid: int) -> list[StatusEventView]:
    ev = OrderStatusEvent
    rows = s.execute(select(ev.at, ev.from_status, ev.to_status, User.name, ev.note)
                     .join(User, User.id == ev.actor_id).where(ev.order_id == oid).order_by(ev.id)).all()
    return [StatusEventView(as_utc(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


def order_detail(db: Database, actor: Actor, ref: str | int) -> OrderDetail:
    require(db, actor, "orders.view")

    def work(s: Session) -> OrderDetail:
        oid = find_order_id(s, ref)
        r = s.execute(_rows_query([oid])).one()
        o = s.execute(select(SalesOrder).where(SalesOrder.id == oid)).scalar_one()
        lt = SalesOrderLine
        lines = [OrderLineView(*x) for x in s.execute(
            select(lt.line_no, Product.sku, Product.name, lt.qty, lt.allocated_qty, lt.shipped_qty, lt.status)
            .join(Product, Product.id == lt.product_id).where(lt.order_id == oid).order_by(lt.line_no)).all()]
        a = Allocation
        allocs = [AllocationView(*x) for x in s.execute(
            select(lt.line_no, Product.sku, Warehouse.code, Location.code, Lot.lot_no, Lot.expiry, a.qty, a.status)
            .join(lt, lt.id == a.order_line_id).join(Product, Product.id == a.product_id)
            .join(Warehouse, Warehouse.id == a.warehouse_id).join(Location, Location.id == a.location_id)
            .outerjoin(Lot, Lot.id == a.lot_id).where(a.order_id == oid, a.status != "released")
            .order_by(lt.line_no, a.id)).all()]
        tickets = list(s.execute(select(ExceptionTicket.id).where(
            ExceptionTicket.order_id == oid, ExceptionTicket.status.in_(("open", "waiting")))  # type: ignore[attr-defined]
            .order_by(ExceptionTicket.id)).scalars())
        return OrderDetail(_order_row(r), o.email, o.address, o.city, o.state, o.postcode, lines, allocs,
                           _timeline(s, oid), tickets)

    return db.read(work)


def order_timeline(db: Database, actor: Actor, ref: str | int) -> tuple[OrderRow, list[StatusEventView]]:
    """The status history of one order, oldest first (what `wsms orders status REF` prints)."""
    require(db, actor, "orders.view")

    def work(s: Session) -> tuple[OrderRow, list[StatusEventView]]:
        oid = find_order_id(s, ref)
        r = s.execute(_rows_query([oid])).one()
        return _order_row(r), _timeline(s, oid)

    return db.read(work)


# ------------------------------------------------------------------ cancel, ship


@dataclass(frozen=True)
class OrderChange:
    ref: str
    status: str
    released: Decimal = Decimal(0)
    shipped: Decimal = Decimal(0)
    replayed: bool = False


def cancel_order(db: Database, actor: Actor, ref: str | int, *, reason: str) -> OrderChange:
    """Cancel an order not yet being picked: its allocations are released, its tickets closed."""
    require(db, actor, "orders.cancel", f"order:{ref}")
    if not reason.strip():
        raise BadInput(_("say why the order is cancelled"))

    def work(s: Session) -> OrderChange:
        oid = find_order_id(s, ref)
        o = lock_orders(s, [oid])[oid]
        if o.status == "cancelled":
            return OrderChange(doc_ref(oid), "cancelled", replayed=True)
        if o.status not in OPEN_STATUSES:
            raise BadInput(_("order {ref} is {st}: the warehouse is working on it; it cannot be cancelled "
                             "here").format(ref=doc_ref(oid), st=o.status))
        from wsms_tui.db.models_shipping import ShipmentBox

        if s.execute(select(ShipmentBox.id).where(ShipmentBox.order_id == oid, ShipmentBox.status == "packed")
                     .limit(1)).first() is not None:
            raise BadInput(_("order {ref} has boxes booked at the packing bench: void them there (Ctrl+X, or "
                             "`wsms shipments void`), then cancel the order").format(ref=doc_ref(oid)))
        released = release_allocations(s, actor, active_allocations(s, oid), reason="cancel")
        s.execute(update(SalesOrderLine).where(SalesOrderLine.order_id == oid, SalesOrderLine.status == "open")
                  .values(status="cancelled"))
        set_status(s, actor, oid, o.status, "cancelled", reason)
        close_tickets(s, oid, "cancelled")
        audit.record(s, actor, "orders.cancel", f"sales_order:{oid}", {"reason": reason})
        return OrderChange(doc_ref(oid), "cancelled", released=from_raw(released))

    return db.write(work)


def close_tickets(s: Session, order_id: int, resolution: str, codes: Sequence[str] | None = None) -> None:
    q = update(ExceptionTicket).where(ExceptionTicket.order_id == order_id,
                                      ExceptionTicket.status.in_(("open", "waiting")))  # type: ignore[attr-defined]
    if codes:
        q = q.where(ExceptionTicket.code.in_(codes))  # type: ignore[attr-defined]
    s.execute(q.values(status="resolved", resolution=resolution, updated_at=audit.utcnow()))


def ship_order(db: Database, actor: Actor, ref: str | int, *, op_id: str) -> OrderChange:
    """Ship a fully allocated order straight to the customer location (no packing): for each
    allocation the reservation is released and the ledger moves the stock to ``VIRT/CUSTOMER``.
    The packing bench replaces this with scan-verified packing; the ledger rows are the same."""
    require(db, actor, "orders.ship", f"order:{ref}")
    op = (op_id or "").strip()
    if not op or len(op) > 60:
        raise BadInput(_("every operation needs an operation id of 1 to 60 characters"))

    def work(s: Session) -> OrderChange:
        oid = find_order_id(s, ref)
        o = lock_orders(s, [oid])[oid]
        first = s.execute(select(ledger.LedgerEntry.id).where(ledger.LedgerEntry.op_id.like(f"{op}-%"),  # type: ignore[attr-defined]
                                                              ledger.LedgerEntry.doc_ref == doc_ref(oid))).first()
        if o.status == "shipped" and first is not None:
            return OrderChange(doc_ref(oid), "shipped", replayed=True)
        if o.status not in ("allocated", "picking", "packed"):
            raise BadInput(_("order {ref} is {st}: only a fully allocated order can ship").format(
                ref=doc_ref(oid), st=o.status))
        allocs = active_allocations(s, oid)
        cust = ledger.location_ref(s, ledger.CUSTOMER)
        keys = [(a.product_id, a.location_id, a.lot_id, a.package_id) for a in allocs]
        keys += [(a.product_id, cust.id, a.lot_id, a.package_id) for a in allocs]
        ledger.lock_quants(s, keys)  # everything this shipment touches, in the fixed order
        release_allocations(s, actor, allocs, reason="ship", locked=True)
        total = 0
        lt = raw_table(SalesOrderLine)
        for a in allocs:
            lot = ledger.lot_no_of(s, a.lot_id)
            pkg = (s.execute(select(ledger.Package.code).where(ledger.Package.id == a.package_id)).scalar()
                   if a.package_id else None)
            ledger.post_in_session(s, actor, kind="ship", product=a.product_id, qty=from_raw(a.qty),
                                   from_location=a.location_id, to_location=cust.id, lot=lot, expiry=None,
                                   package=pkg, op_id=f"{op}-{a.id}", doc_ref=doc_ref(oid), reason="",
                                   unit_cost=None, raw_scan=None)
            s.execute(update(raw_table(Allocation)).where(raw_table(Allocation).c.id == a.id)
                      .values(status="shipped"))
            s.execute(update(lt).where(lt.c.id == a.line_id).values(shipped_qty=lt.c.shipped_qty + a.qty))
            total += a.qty
        set_status(s, actor, oid, o.status, "shipped", _("shipped without packing"))
        close_tickets(s, oid, "shipped")
        return OrderChange(doc_ref(oid), "shipped", shipped=from_raw(total))

    return ledger.write_once(db, work)


def reservation_totals(db: Database) -> tuple[Decimal, Decimal]:
    """(Σ reservations with an order doc ref, Σ active allocations): equal when the books are right."""

    def work(s: Session) -> tuple[Decimal, Decimal]:
        r = s.execute(select(func.coalesce(func.sum(raw(ReservationEntry.qty)), 0))
                      .where(ReservationEntry.doc_ref.like("SO-%"))).scalar_one()  # type: ignore[attr-defined]
        a = s.execute(select(func.coalesce(func.sum(raw(Allocation.qty)), 0))
                      .where(Allocation.status == "active")).scalar_one()
        return from_raw(r), from_raw(a)

    return db.read(work)
