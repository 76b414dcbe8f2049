"""The daily stock-flow snapshot (``stock_daily``): a cache of the ledger that keeps long histories fast.

One row per (product, warehouse, UTC day) with what crossed the warehouse's boundary: in, out, sold to
customers, returned by customers, sales lines. Moves inside a warehouse change nothing here. Stock of a
warehouse at the end of day D = Σ (in − out) over days ≤ D.

It folds the ledger in up to ``stock_daily_state.ledger_id``; ``flows`` adds the entries after that mark
straight from the ledger (in the same statement, so a concurrent refresh is never counted twice), so a
report is always exact, whether the snapshot is fresh or not. ``refresh`` folds the new entries in
(upsert-adding), ``rebuild`` starts over from the whole ledger. Both take the state row's lock, and on
PostgreSQL a SHARE lock on the ledger, which waits for in-flight ledger writers to commit — so an entry
with a lower id committed later is never skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Integer,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session

from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import LedgerEntry, Location, LocationUsage
from wsms_tui.db.models_reports import StockDaily, StockDailyState
from wsms_tui.reports.base import day_of, raw
from wsms_tui.security import Actor

#: fold the ledger into the snapshot before a report when more entries than this are not in it yet
REFRESH_AT = 2_000
FLOW_COLS = ("product_id", "warehouse_id", "day", "qty_in", "qty_out", "qty_sold", "qty_returned", "sales_lines")


@dataclass(frozen=True)
class SnapshotInfo:
    rows: int
    ledger_id: int
    folded: int
    seconds: float


def _ledger_flows(s: Session, after: Any, *, upto: Any = None, day0: int | None = None,
                  day1: int | None = None, warehouse_id: int | None = None, product_ids: Any = None) -> Any:
    """SELECT of the ledger's daily flows (FLOW_COLS) for entries with ``after`` < id (≤ ``upto``)."""
    e = LedgerEntry.__table__  # type: ignore[attr-defined]
    src, dst = aliased(Location.__table__), aliased(Location.__table__)  # type: ignore[attr-defined]
    q = raw(e.c.qty)
    day = day_of(s, e.c.at)
    zero = literal(0)
    joined = e.join(dst, dst.c.id == e.c.to_location_id).join(src, src.c.id == e.c.from_location_id)

    def common(side: Any) -> list[Any]:
        conds = [e.c.id > after]
        if upto is not None:
            conds.append(e.c.id <= upto)
        # days, not ``at``: the computed day can't use the time index, so the planner walks the few entries
        # past the mark by primary key instead of a year of entries by time
        if day0 is not None:
            conds.append(day >= day0)
        if day1 is not None:
            conds.append(day <= day1)
        if warehouse_id is not None:
            conds.append(side.c.warehouse_id == warehouse_id)
        if product_ids is not None:
            conds.append(e.c.product_id.in_(product_ids))
        return conds

    ins = (select(e.c.product_id.label("product_id"), dst.c.warehouse_id.label("warehouse_id"), day.label("day"),
                  q.label("qty_in"), zero.label("qty_out"), zero.label("qty_sold"),
                  case((src.c.usage == LocationUsage.CUSTOMER.value, q), else_=0).label("qty_returned"),
                  zero.label("sales_lines"))
           .select_from(joined)
           .where(dst.c.warehouse_id.is_not(None),
                  or_(src.c.warehouse_id.is_(None), src.c.warehouse_id != dst.c.warehouse_id), *common(dst)))
    to_customer = dst.c.usage == LocationUsage.CUSTOMER.value
    outs = (select(e.c.product_id, src.c.warehouse_id, day, zero, q, case((to_customer, q), else_=0), zero,
                   case((to_customer, 1), else_=0))
            .select_from(joined)
            .where(src.c.warehouse_id.is_not(None),
                   or_(dst.c.warehouse_id.is_(None), src.c.warehouse_id != dst.c.warehouse_id), *common(src)))
    u = union_all(ins, outs).subquery()
    return (select(u.c.product_id, u.c.warehouse_id, u.c.day, func.sum(u.c.qty_in).label("qty_in"),
                   func.sum(u.c.qty_out).label("qty_out"), func.sum(u.c.qty_sold).label("qty_sold"),
                   func.sum(u.c.qty_returned).label("qty_returned"),
                   cast(func.sum(u.c.sales_lines), Integer).label("sales_lines"))
            .group_by(u.c.product_id, u.c.warehouse_id, u.c.day))


Agg = Callable[[Any], dict[str, Any]]


def aggregate(s: Session, *, keys: Agg, sums: Agg, maxes: Agg | None = None, day0: int | None = None,
              day1: int | None = None, warehouse_id: int | None = None, product_ids: Any = None) -> Any:
    """Aggregate the daily flows for days ``day0``..``day1`` (inclusive; None = open) into a subquery.

    ``keys(f)``, ``sums(f)`` and ``maxes(f)`` map output names to expressions over a flow row ``f`` (attributes
    ``product_id, warehouse_id, day, qty_in, qty_out, qty_sold, qty_returned, sales_lines``, raw integers).
    The aggregate is pushed down to each source — the snapshot's rows, and the ledger entries not folded in
    yet (past ``stock_daily_state.ledger_id``, read in the same statement so a concurrent refresh is never
    counted twice) — and the partial results are summed: the snapshot is grouped in its primary-key order
    without a union in between."""
    sd = StockDaily.__table__  # type: ignore[attr-defined]
    mark = select(StockDailyState.ledger_id).where(StockDailyState.id == 1).scalar_subquery()
    conds = []
    if day0 is not None:
        conds.append(sd.c.day >= day0)
    if day1 is not None:
        conds.append(sd.c.day <= day1)
    if warehouse_id is not None:
        conds.append(sd.c.warehouse_id == warehouse_id)
    if product_ids is not None:
        conds.append(sd.c.product_id.in_(product_ids))
    snap = SimpleNamespace(product_id=sd.c.product_id, warehouse_id=sd.c.warehouse_id, day=sd.c.day,
                           **{c: raw(sd.c[c]) for c in FLOW_COLS[3:7]}, sales_lines=sd.c.sales_lines)
    delta = _ledger_flows(s, mark, day0=day0, day1=day1, warehouse_id=warehouse_id, product_ids=product_ids).subquery()
    fresh = SimpleNamespace(**{c: delta.c[c] for c in FLOW_COLS})
    parts = []
    for f, where in ((snap, conds), (fresh, [])):
        k, sm, mx = keys(f), sums(f), (maxes(f) if maxes else {})
        parts.append(select(*(v.label(n) for n, v in k.items()), *(func.sum(v).label(n) for n, v in sm.items()),
                            *(func.max(v).label(n) for n, v in mx.items()))
                     .where(true(), *where).group_by(*k.values()))
    u = union_all(*parts).subquery()
    names = list(keys(snap))
    return (select(*(u.c[n] for n in names), *(func.sum(u.c[n]).label(n) for n in sums(snap)),
                   *(func.max(u.c[n]).label(n) for n in (maxes(snap) if maxes else {})))
            .group_by(*(u.c[n] for n in names))).subquery()


def _lock(s: Session) -> int:
    """Lock the state row (and, on PostgreSQL, the ledger against writers until commit); the fold mark."""
    row = s.execute(select(StockDailyState.ledger_id).where(StockDailyState.id == 1).with_for_update()).first()
    if row is None:
        s.execute(insert(StockDailyState).values(id=1, ledger_id=0))
        row = (0,)
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("LOCK TABLE ledger_entry IN SHARE MODE"))
    return int(row[0])


def _max_id(s: Session) -> int:
    return int(s.execute(select(func.coalesce(func.max(LedgerEntry.id), 0))).scalar_one())


def _fold(s: Session, after: int, upto: int) -> int:
    """Upsert-add the flows of entries ``after`` < id ≤ ``upto`` into the snapshot; rows touched."""
    src = _ledger_flows(s, after, upto=upto).subquery()
    cols = [src.c[c] for c in FLOW_COLS]
    sd = StockDaily.__table__  # type: ignore[attr-defined]
    if s.get_bind().dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    else:
        from sqlalchemy.dialects.postgresql import insert as dialect_insert  # type: ignore[assignment]
    stmt = dialect_insert(sd).from_select(list(FLOW_COLS), select(*cols).where(true()))
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["product_id", "warehouse_id", "day"],
        set_={c: sd.c[c] + ex[c] for c in FLOW_COLS[3:]})
    return int(s.execute(stmt).rowcount or 0)


def refresh_in_session(s: Session, now: datetime | None = None) -> int:
    """Fold the ledger entries not in the snapshot yet; returns how many entries were folded."""
    mark = _lock(s)
    top = _max_id(s)
    if top <= mark:
        return 0
    _fold(s, mark, top)
    s.execute(update(StockDailyState).where(StockDailyState.id == 1)
              .values(ledger_id=top, refreshed_at=now or datetime.now(UTC)))
    return top - mark


def pending(db: Database) -> int:
    """How many ledger entries (by id) are not folded into the snapshot yet (two primary-key look-ups)."""

    def work(s: Session) -> int:
        mark = s.execute(select(StockDailyState.ledger_id).where(StockDailyState.id == 1)).scalar() or 0
        return max(0, _max_id(s) - int(mark))

    return db.read(work)


def ensure_fresh(db: Database) -> None:
    """Fold new ledger entries into the snapshot when there are many (reports stay exact either way)."""
    if pending(db) > REFRESH_AT:
        db.write(refresh_in_session)


def refresh(db: Database, actor: Actor) -> SnapshotInfo:
    """Fold the new ledger entries into the snapshot (``wsms report refresh-snapshots``)."""
    require(db, actor, "report.view")
    import time

    t = time.perf_counter()
    folded = db.write(refresh_in_session)
    return _info(db, folded, time.perf_counter() - t)


def rebuild(db: Database, actor: Actor) -> SnapshotInfo:
    """Rebuild the whole snapshot from the ledger (``wsms report rebuild-snapshots``)."""
    require(db, actor, "report.rebuild")
    import time

    t = time.perf_counter()

    def work(s: Session) -> int:
        _lock(s)
        top = _max_id(s)
        s.execute(delete(StockDaily))
        _fold(s, 0, top)
        now = datetime.now(UTC)
        s.execute(update(StockDailyState).where(StockDailyState.id == 1)
                  .values(ledger_id=top, rebuilt_at=now, refreshed_at=now))
        return top

    folded = db.write(work)
    if not db.is_sqlite:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE stock_daily")
    return _info(db, folded, time.perf_counter() - t)


def _info(db: Database, folded: int, seconds: float) -> SnapshotInfo:
    def work(s: Session) -> SnapshotInfo:
        n = s.execute(select(func.count()).select_from(StockDaily)).scalar_one()
        mark = s.execute(select(StockDailyState.ledger_id).where(StockDailyState.id == 1)).scalar() or 0
        return SnapshotInfo(int(n), int(mark), folded, round(seconds, 3))

    return db.read(work)
