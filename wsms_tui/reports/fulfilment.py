"""Fulfilment reports from the order timeline (``order_status_event``): order-to-ship lead times, on-time
rate, time spent in each status; and cost per order from configured rates.

An order counts in a period when its first ``shipped`` event falls in it. Lead time = first shipped event −
the order's creation. Percentiles are nearest-rank (the smallest value with at least p % of the values at or
below it), computed in SQL with ROW_NUMBER and COUNT windows, the same on SQLite and PostgreSQL. Time in a
status = the next event's time − this event's time (LAG over each order's events).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Float, case, cast, func, literal, select
from sqlmodel import Session

from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import Product, Warehouse
from wsms_tui.db.models_orders import OrderStatusEvent, SalesChannel, SalesOrder, SalesOrderLine
from wsms_tui.errors import BadInput
from wsms_tui.i18n import _
from wsms_tui.reports.base import (
    Chart,
    Col,
    NoData,
    Period,
    Q,
    ReportParams,
    ReportResult,
    choice,
    hours_between,
    money,
    period,
    qty,
    ratio,
    raw,
    warehouse_id,
    warehouse_text,
)
from wsms_tui.reports.snapshot import aggregate, ensure_fresh
from wsms_tui.security import Actor

PCTS = (50, 90, 95)


def _date_of(s: Session, at: Any) -> Any:
    if s.get_bind().dialect.name == "sqlite":
        return func.substr(at, 1, 10)
    return cast(func.timezone("UTC", at), type_=func.current_date().type)


def _shipped(s: Session, p: Period, wid: int | None) -> Any:
    """Orders first shipped in the period: order id, shipped at."""
    first = (select(OrderStatusEvent.order_id.label("oid"), func.min(OrderStatusEvent.at).label("shipped_at"))
             .where(OrderStatusEvent.to_status == "shipped").group_by(OrderStatusEvent.order_id)).subquery()
    q = (select(first.c.oid, first.c.shipped_at).where(first.c.shipped_at >= p.t0, first.c.shipped_at < p.t1))
    if wid is not None:
        q = q.join(SalesOrder, SalesOrder.id == first.c.oid).where(SalesOrder.warehouse_id == wid)
    return q.subquery("shipped")


def _dimension(by: str) -> tuple[Any, Col]:
    if by == "warehouse":
        return func.coalesce(Warehouse.code, literal("—")), Col("warehouse", _("Warehouse"))
    return SalesChannel.name, Col("channel", _("Channel"))


def _no_orders(params: ReportParams, p: Period) -> NoData:
    return NoData(_("no order was shipped from {wh} between {a} and {b}: nothing to report").format(
        wh=warehouse_text(params.warehouse), a=p.start.isoformat(), b=p.end.isoformat()))


def _percentiles(value: Any, rn: Any, n: Any) -> list[Any]:
    return [func.min(case((rn * 100 >= pct * n, value))).label(f"p{pct}") for pct in PCTS]


def fulfilment(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Order-to-ship lead time percentiles (hours) and the on-time rate, by channel or warehouse."""
    require(db, actor, "report.view")
    by = choice(params.by, ("channel", "warehouse"), _("--by"))
    p = period(params, 90)
    now = params.clock()

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        sh = _shipped(s, p, wid)
        dim, dim_col = _dimension(by)
        hours = hours_between(s, SalesOrder.created_at, sh.c.shipped_at)
        promised = SalesOrder.promised_date
        on_time = case((promised.is_(None), None), (_date_of(s, sh.c.shipped_at) <= promised, 1), else_=0)
        base = (select(dim.label("dim"), hours.label("h"), on_time.label("ok"))
                .select_from(sh).join(SalesOrder, SalesOrder.id == sh.c.oid)
                .join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
                .outerjoin(Warehouse, Warehouse.id == SalesOrder.warehouse_id)).subquery()
        ranked = select(base, func.row_number().over(partition_by=base.c.dim, order_by=base.c.h).label("rn"),
                        func.count().over(partition_by=base.c.dim).label("n")).subquery()
        q = (select(ranked.c.dim, func.count().label("orders"), func.avg(ranked.c.h).label("mean"),
                    *_percentiles(ranked.c.h, ranked.c.rn, ranked.c.n), func.max(ranked.c.h).label("max"),
                    func.count(ranked.c.ok).label("promised"), func.sum(ranked.c.ok).label("on_time"))
             .group_by(ranked.c.dim).order_by(ranked.c.dim))
        rows = []
        for r in s.execute(q):
            promised_n = int(r.promised or 0)
            rows.append({dim_col.key: r.dim, "orders": int(r.orders), "mean_h": ratio(r.mean, 1),
                         **{f"p{pct}_h": ratio(getattr(r, f"p{pct}"), 1) for pct in PCTS},
                         "max_h": ratio(r.max, 1), "promised": promised_n,
                         "on_time_pct": ratio(int(r.on_time or 0) / promised_n * 100, 1) if promised_n else None})
        if not rows:
            raise _no_orders(params, p)
        cols = (dim_col, Col("orders", _("Orders"), "int"), Col("mean_h", _("Mean h"), "hours", brief=False),
                *(Col(f"p{pct}_h", f"p{pct} h", "hours") for pct in PCTS),
                Col("max_h", _("Max h"), "hours", brief=False),
                Col("promised", _("Promised"), "int", brief=False), Col("on_time_pct", _("On time %"), "pct"))
        notes = (_("lead time = first shipped − order created, in hours; percentiles are nearest-rank; on time = "
                   "shipped on or before the promised date (orders with one)"),)
        chart = Chart(_("Median hours to ship by {by}").format(by=by), "bar", tuple(str(x[dim_col.key]) for x in rows),
                      tuple(float(x["p50_h"] or 0) for x in rows), "h")
        return ReportResult("fulfilment", _("Fulfilment lead times by {by}").format(by=by), p.text(),
                            warehouse_text(params.warehouse), now, cols, rows, (chart,), notes, p.start, p.end)

    return db.read(work)


def status_times(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Hours orders spend in each status (from entering it to the next change), for changes in the period."""
    require(db, actor, "report.view")
    p = period(params, 90)
    now = params.clock()

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        e = OrderStatusEvent
        prev_at = func.lag(e.at).over(partition_by=e.order_id, order_by=(e.at, e.id))
        ev = select(e.order_id, e.at, e.from_status, prev_at.label("prev_at")).subquery()
        base = (select(ev.c.from_status.label("status"), hours_between(s, ev.c.prev_at, ev.c.at).label("h"))
                .where(ev.c.prev_at.is_not(None), ev.c.from_status != "", ev.c.at >= p.t0, ev.c.at < p.t1))
        if wid is not None:
            base = base.join(SalesOrder, SalesOrder.id == ev.c.order_id).where(SalesOrder.warehouse_id == wid)
        b = base.subquery()
        ranked = select(b, func.row_number().over(partition_by=b.c.status, order_by=b.c.h).label("rn"),
                        func.count().over(partition_by=b.c.status).label("n")).subquery()
        q = (select(ranked.c.status, func.count().label("changes"), func.avg(ranked.c.h).label("mean"),
                    *_percentiles(ranked.c.h, ranked.c.rn, ranked.c.n), func.sum(ranked.c.h).label("total"))
             .group_by(ranked.c.status))
        rows = [{"status": r.status, "changes": int(r.changes), "mean_h": ratio(r.mean, 1),
                 **{f"p{pct}_h": ratio(getattr(r, f"p{pct}"), 1) for pct in PCTS}, "total_h": float(r.total or 0)}
                for r in s.execute(q)]
        if not rows:
            raise NoData(_("no order changed status in {wh} between {a} and {b}: nothing to report").format(
                wh=warehouse_text(params.warehouse), a=p.start.isoformat(), b=p.end.isoformat()))
        total = sum(x["total_h"] for x in rows)
        for x in rows:
            x["share_pct"] = ratio(x.pop("total_h") / total * 100, 1) if total else None
        rows.sort(key=lambda x: -(x["share_pct"] or 0))
        cols = (Col("status", _("Status")), Col("changes", _("Left"), "int"), Col("mean_h", _("Mean h"), "hours"),
                *(Col(f"p{pct}_h", f"p{pct} h", "hours") for pct in PCTS), Col("share_pct", _("Share %"), "pct"))
        chart = Chart(_("Share of waiting time by status"), "bar", tuple(x["status"] for x in rows),
                      tuple(float(x["share_pct"] or 0) for x in rows), "%")
        notes = (_("time in a status = from the change into it to the next change, counted when it is left in the "
                   "period"),)
        return ReportResult("status-times", _("Time between statuses"), p.text(), warehouse_text(params.warehouse),
                            now, cols, rows, (chart,), notes, p.start, p.end)

    return db.read(work)


RATES = ("storage_per_unit_day", "handling_per_order", "handling_per_line", "handling_per_unit",
         "packaging_per_order", "carrier_per_order", "carrier_per_kg")


def _rates(params: ReportParams) -> dict[str, Decimal]:
    given = params.settings.rates
    missing = [r for r in RATES if getattr(given, r) in (None, "")]
    if missing:
        raise BadInput(_("cost per order needs the rate(s) {names}: set them under [reports.rates] in the config file "
                         "(e.g. {first} = \"0.25\"; 0 leaves a cost out) or as WSMS_REPORTS__RATES__{env}").format(
            names=", ".join(missing), first=missing[0], env=missing[0].upper()))
    out = {}
    for r in RATES:
        try:
            out[r] = Decimal(str(getattr(given, r)))
        except ArithmeticError:
            raise BadInput(_("rate {name} = {v!r} is not a number").format(name=r, v=getattr(given, r))) from None
        if out[r] < 0:
            raise BadInput(_("rate {name} must not be negative").format(name=r))
    return out


def cost_per_order(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Cost per shipped order by channel or warehouse: storage (unit-days held × rate, spread over the units each
    warehouse shipped), handling (per order, line and unit), packaging (per order), carrier (per order and kg)."""
    require(db, actor, "report.view")
    rates = _rates(params)
    by = choice(params.by, ("channel", "warehouse"), _("--by"))
    p = period(params, 30)
    now = params.clock()
    ensure_fresh(db)

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        sh = _shipped(s, p, wid)
        dim, dim_col = _dimension(by)
        lines = (select(SalesOrderLine.order_id.label("oid"), func.count().label("lines"),
                        func.sum(raw(SalesOrderLine.shipped_qty)).label("units"),
                        func.sum(cast(raw(SalesOrderLine.shipped_qty), Float)
                                 * cast(func.coalesce(raw(Product.weight_kg), 0), Float)).label("kg"))
                 .join(Product, Product.id == SalesOrderLine.product_id)
                 .where(SalesOrderLine.shipped_qty > 0).group_by(SalesOrderLine.order_id)).subquery()
        q = (select(dim.label("dim"), SalesOrder.warehouse_id.label("wid"), func.count().label("orders"),
                    func.sum(lines.c.lines).label("lines"), func.sum(lines.c.units).label("units"),
                    func.sum(lines.c.kg).label("kg"))
             .select_from(sh).join(SalesOrder, SalesOrder.id == sh.c.oid)
             .join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
             .outerjoin(Warehouse, Warehouse.id == SalesOrder.warehouse_id)
             .outerjoin(lines, lines.c.oid == SalesOrder.id)
             .group_by(dim, SalesOrder.warehouse_id))
        parts = s.execute(q).all()
        if not parts:
            raise _no_orders(params, p)
        held = aggregate(s, keys=lambda f: {"wid": f.warehouse_id},
                         sums=lambda f: {"level_days": (f.qty_in - f.qty_out)
                                         * case((f.day < p.day0, p.days), else_=literal(p.day1 + 1) - f.day)},
                         day1=p.day1, warehouse_id=wid)
        unit_days = {w: int(v or 0) / Q for w, v in s.execute(select(held.c.wid, held.c.level_days))}
        units_by_wh: dict[Any, int] = {}
        for r in parts:
            units_by_wh[r.wid] = units_by_wh.get(r.wid, 0) + int(r.units or 0)
        storage_per_unit = {w: Decimal(str(unit_days.get(w, 0.0))) * rates["storage_per_unit_day"] / qty(u)
                            for w, u in units_by_wh.items() if w is not None and u > 0}
        agg: dict[str, dict[str, Any]] = {}
        for r in parts:
            a = agg.setdefault(str(r.dim), {"orders": 0, "lines": 0, "units": 0, "kg": 0.0, "storage": Decimal(0)})
            a["orders"] += int(r.orders)
            a["lines"] += int(r.lines or 0)
            a["units"] += int(r.units or 0)
            a["kg"] += float(r.kg or 0) / Q / Q
            a["storage"] += storage_per_unit.get(r.wid, Decimal(0)) * qty(r.units)
        rows = []
        for name, a in sorted(agg.items()):
            n = a["orders"]
            units = qty(a["units"])
            kg = Decimal(str(round(a["kg"], 3)))
            handling = rates["handling_per_order"] * n + rates["handling_per_line"] * a["lines"] \
                + rates["handling_per_unit"] * units
            packaging = rates["packaging_per_order"] * n
            carrier = rates["carrier_per_order"] * n + rates["carrier_per_kg"] * kg
            storage = a["storage"]
            total = storage + handling + packaging + carrier
            rows.append({dim_col.key: name, "orders": n, "lines_per_order": ratio(a["lines"] / n, 2),
                         "units_per_order": ratio(float(units) / n, 2), "kg_per_order": ratio(float(kg) / n, 2),
                         "storage": money(storage / n), "handling": money(handling / n),
                         "packaging": money(packaging / n), "carrier": money(carrier / n), "total": money(total / n),
                         "total_cost": money(total)})
        cols = (dim_col, Col("orders", _("Orders"), "int"), Col("lines_per_order", _("Lines"), "ratio"),
                Col("units_per_order", _("Units"), "ratio", brief=False),
                Col("kg_per_order", "kg", "ratio", brief=False),
                Col("storage", _("Storage"), "money"), Col("handling", _("Handling"), "money"),
                Col("packaging", _("Packing"), "money"), Col("carrier", _("Carrier"), "money"),
                Col("total", _("Per order"), "money"), Col("total_cost", _("Total"), "money", brief=False))
        notes = (_("per shipped order; storage = unit-days held in the warehouse over the period × "
                   "storage_per_unit_day, spread over the units it shipped; weight from product weights"),
                 _("rates: {r}").format(r=", ".join(f"{k} {v}" for k, v in rates.items())))
        chart = Chart(_("Cost per order by {by}").format(by=by), "bar", tuple(str(x[dim_col.key]) for x in rows),
                      tuple(float(x["total"]) for x in rows))
        return ReportResult("cost", _("Cost per order by {by}").format(by=by), p.text(),
                            warehouse_text(params.warehouse), now, cols, rows, (chart,), notes, p.start, p.end)

    return db.read(work)


