"""Demand forecast per product and reorder suggestions; the reorder alert count for the status bar.

Weekly demand (units sold net of returns, per product, weeks counted back from the period's last day) comes
from the daily flows with one GROUP BY; ``wsms_tui.forecast.choose`` picks a method per product by backtest
and forecasts the next weeks.

Reorder policy (continuous review): with weekly demand forecast f, standard deviation of weekly demand σ
over the history, lead time L weeks and z the normal quantile of the service level,
safety stock SS = z·σ·√L, reorder point ROP = f·L + SS, order-up-to S = ROP + f × cover weeks.
A product is suggested when its stock position (on hand − reserved + still expected on open receipts) is at
or below its ROP; the suggestion is S − position, rounded up to whole units (or to the case pack when the
product has a case barcode). The reorder points are saved (``reorder_point``) so ``reorder_alert_count`` can
count products at or below them with one cheap query.
"""

from __future__ import annotations

import math
import statistics
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select
from sqlmodel import Session

from wsms_tui import forecast as fc
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import VIRTUAL_USAGES, Location, Product, ProductBarcode, Quant, Receipt, ReceiptLine
from wsms_tui.db.models_reports import ReorderPoint
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
    period,
    qty,
    ratio,
    raw,
    warehouse_id,
    warehouse_text,
)
from wsms_tui.reports.snapshot import aggregate, ensure_fresh
from wsms_tui.security import Actor

VIRTUAL = [u.value for u in VIRTUAL_USAGES]
METHOD_CHOICES = ("auto", *sorted(fc.METHODS))


def _history_period(params: ReportParams) -> tuple[Period, int]:
    weeks = params.settings.history_weeks
    p0 = period(params, weeks * 7)
    n = p0.days // 7
    if n < 4:
        raise BadInput(_("a forecast needs at least 4 whole weeks of history; {a} – {b} has {n}").format(
            a=p0.start.isoformat(), b=p0.end.isoformat(), n=n))
    return Period(p0.end - timedelta(days=n * 7 - 1), p0.end), n


def weekly_demand(s: Session, p: Period, weeks: int, wid: int | None) -> dict[int, list[float]]:
    """product id → weekly units sold (net of returns), oldest week first; products that sold nothing are left out."""
    w = aggregate(s, keys=lambda f: {"pid": f.product_id, "w": (literal(p.day1) - f.day) // 7},
                  sums=lambda f: {"q": f.qty_sold - f.qty_returned}, day0=p.day0, day1=p.day1, warehouse_id=wid)
    out: dict[int, list[float]] = {}
    for pid, week, q in s.execute(select(w.c.pid, w.c.w, w.c.q)):
        series = out.get(pid)
        if series is None:
            series = out[pid] = [0.0] * weeks
        series[weeks - 1 - int(week)] = int(q or 0) / Q
    return {pid: y for pid, y in out.items() if any(v > 0 for v in y)}


def holdout(weeks: int) -> int:
    """Weeks held out for the backtest: a quarter of the history, 2 to 8."""
    return max(2, min(8, weeks // 4))


def _method(params: ReportParams) -> list[str] | None:
    m = (params.method or "auto").strip().lower()
    if m not in METHOD_CHOICES:
        raise BadInput(_("--method must be one of: {m} (not {v!r})").format(m=", ".join(METHOD_CHOICES),
                                                                           v=params.method))
    return None if m == "auto" else [m]


def _products(s: Session, ids: Any) -> dict[int, Any]:
    return {r.id: r for r in s.execute(select(Product.id, Product.sku, Product.name, Product.uom)
                                       .where(Product.id.in_(ids)))}  # type: ignore[union-attr]


def forecast_report(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Next weeks' demand per product, with the method chosen by backtest and its errors."""
    require(db, actor, "report.view")
    p, n = _history_period(params)
    horizon = params.weeks or params.settings.forecast_weeks
    if not 1 <= horizon <= 52:
        raise BadInput(_("--weeks must be 1 to 52"))
    methods = _method(params)
    now = params.clock()
    ensure_fresh(db)

    def work(s: Session) -> tuple[dict[int, list[float]], dict[int, Any]]:
        wid = warehouse_id(s, params.warehouse)
        hist = weekly_demand(s, p, n, wid)
        return hist, _products(s, list(hist))

    hist, prods = db.read(work)
    if not hist:
        raise NoData(_("nothing was sold in {wh} between {a} and {b}: no demand to forecast").format(
            wh=warehouse_text(params.warehouse), a=p.start.isoformat(), b=p.end.isoformat()))
    rows = []
    total_hist = [0.0] * n
    total_fc = [0.0] * horizon
    chosen: dict[str, int] = {}
    for pid in sorted(hist, key=lambda i: prods[i].sku):
        y = hist[pid]
        fit = fc.choose(y, horizon, methods=methods, holdout=holdout(n))
        chosen[fit.method] = chosen.get(fit.method, 0) + 1
        sc = fit.score
        row = {"sku": prods[pid].sku, "name": prods[pid].name, "method": fit.method,
               "intermittent": fc.is_intermittent(y), "mean_week": ratio(sum(y) / n, 2),
               "mase": ratio(sc.mase, 3) if sc and sc.mase is not None else None,
               "rmsse": ratio(sc.rmsse, 3) if sc and sc.rmsse is not None else None,
               "bias_pct": ratio(sc.bias * 100, 1) if sc and sc.bias is not None else None,
               "next_total": ratio(sum(fit.forecast), 1)}
        for i, v in enumerate(fit.forecast, start=1):
            row[f"w{i}"] = ratio(v, 2)
        rows.append(row)
        for i, v in enumerate(y):
            total_hist[i] += v
        for i, v in enumerate(fit.forecast):
            total_fc[i] += v
    cols = (Col("sku", "SKU"), Col("name", _("Name")), Col("method", _("Method")),
            Col("intermittent", _("Intermittent"), brief=False), Col("mean_week", _("Mean/wk"), "qty"),
            Col("mase", "MASE", "ratio"), Col("rmsse", "RMSSE", "ratio", brief=False),
            Col("bias_pct", _("Bias %"), "pct"), Col("next_total", _("Next {h} wk").format(h=horizon), "qty"),
            *(Col(f"w{i}", _("Wk {i}").format(i=i), "qty", brief=False) for i in range(1, horizon + 1)))
    mases = [float(r["mase"]) for r in rows if r["mase"] is not None]
    notes = (_("weekly demand over {n} weeks; each product's method chosen by a backtest on its last {k} weeks "
               "(lowest MASE); forecasts for the {h} weeks after {d}").format(n=n, k=holdout(n), h=horizon,
                                                                             d=p.end.isoformat()),
             _("methods: {m}; median MASE {x}").format(
                 m=", ".join(f"{k} {v}" for k, v in sorted(chosen.items(), key=lambda kv: -kv[1])),
                 x=round(statistics.median(mases), 3) if mases else "—"))
    labels = tuple(f"-{n - i}" for i in range(n)) + tuple(f"+{i}" for i in range(1, horizon + 1))
    chart = Chart(_("Total weekly demand: {n} weeks and {h} forecast").format(n=n, h=horizon), "line", labels,
                  tuple(total_hist) + tuple(total_fc))
    return ReportResult("forecast", _("Demand forecast for the next {h} weeks").format(h=horizon), p.text(),
                        warehouse_text(params.warehouse), now, cols, rows, (chart,), notes, p.start, p.end)


def z_for(service_level: Decimal) -> float:
    sl = float(service_level)
    if not 0.5 <= sl < 1:
        raise BadInput(_("the service level must be at least 0.5 and below 1 (e.g. 0.95), not {v}").format(
            v=service_level))
    return statistics.NormalDist().inv_cdf(sl)


def _positions(s: Session, wid: int | None, ids: list[int]) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """(available = on hand − reserved, still expected on open receipts, case pack) per product, raw."""
    stock = (select(Quant.product_id, func.sum(raw(Quant.on_hand) - raw(Quant.reserved)))
             .join(Location, Location.id == Quant.location_id)
             .where(Location.usage.notin_(VIRTUAL), Quant.product_id.in_(ids))  # type: ignore[attr-defined]
             .group_by(Quant.product_id))
    if wid is not None:
        stock = stock.where(Location.warehouse_id == wid)
    left = raw(ReceiptLine.expected_qty) - raw(ReceiptLine.received_qty)
    due = (select(ReceiptLine.product_id, func.sum(left))
           .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
           .where(Receipt.status.in_(("open", "receiving")), left > 0, ReceiptLine.product_id.in_(ids))  # type: ignore[attr-defined]
           .group_by(ReceiptLine.product_id))
    if wid is not None:
        due = due.where(Receipt.warehouse_id == wid)
    packs = (select(ProductBarcode.product_id, func.max(raw(ProductBarcode.pack_qty)))
             .where(ProductBarcode.product_id.in_(ids)).group_by(ProductBarcode.product_id))  # type: ignore[attr-defined]
    return ({p: int(v or 0) for p, v in s.execute(stock)}, {p: int(v or 0) for p, v in s.execute(due)},
            {p: int(v or 0) for p, v in s.execute(packs)})


def _round_up(value: float, pack: Decimal, uom: str) -> Decimal:
    if value <= 0:
        return Decimal(0)
    if pack > 1:
        return (Decimal(str(value)) / pack).to_integral_value(ROUND_CEILING) * pack
    step = Decimal(1) if uom == "unit" else Decimal("0.001")
    return (Decimal(str(value)) / step).to_integral_value(ROUND_CEILING) * step


def reorder(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Reorder suggestions for the products at or below their reorder point (and save the reorder points)."""
    require(db, actor, "report.view")
    p, n = _history_period(params)
    st = params.settings
    service = params.service_level if params.service_level is not None else Decimal(st.service_level)
    z = z_for(service)
    lead = params.lead_days if params.lead_days is not None else st.lead_time_days
    if not 0 < lead <= 365:
        raise BadInput(_("the lead time must be 1 to 365 days, not {v}").format(v=lead))
    lead_w, cover_w = lead / 7, st.cover_days / 7
    methods = _method(params)
    now = params.clock()
    ensure_fresh(db)

    def load(s: Session) -> tuple[int | None, dict[int, list[float]], dict[int, Any], Any]:
        wid = warehouse_id(s, params.warehouse)
        hist = weekly_demand(s, p, n, wid)
        ids = list(hist)
        return wid, hist, _products(s, ids), _positions(s, wid, ids)

    wid, hist, prods, (avail, due, packs) = db.read(load)
    if not hist:
        raise NoData(_("nothing was sold in {wh} between {a} and {b}: no demand to plan reorders from").format(
            wh=warehouse_text(params.warehouse), a=p.start.isoformat(), b=p.end.isoformat()))
    plan = []
    rows = []
    for pid in sorted(hist, key=lambda i: prods[i].sku):
        y = hist[pid]
        fit = fc.choose(y, 4, methods=methods, holdout=holdout(n))
        rate = sum(fit.forecast) / len(fit.forecast)
        sigma = statistics.stdev(y) if len(y) > 1 else 0.0
        ss = z * sigma * math.sqrt(lead_w)
        rop = rate * lead_w + ss
        up_to = rop + rate * cover_w
        plan.append((pid, rop, ss, up_to, fit.method))
        position = (avail.get(pid, 0) + due.get(pid, 0)) / Q
        if rop <= 0 or position > rop:
            continue
        pack = qty(packs.get(pid, 0))
        rows.append({"sku": prods[pid].sku, "name": prods[pid].name, "method": fit.method,
                     "demand_week": ratio(rate, 2), "sd_week": ratio(sigma, 2),
                     "available": qty(avail.get(pid, 0)), "on_order": qty(due.get(pid, 0)),
                     "safety_stock": ratio(ss, 1), "reorder_point": ratio(rop, 1), "order_up_to": ratio(up_to, 1),
                     "suggested": _round_up(up_to - position, pack, prods[pid].uom),
                     "case_pack": pack if pack > 1 else None})
    if params.save:
        db.write(lambda s: _save(s, wid, plan, now))
    cols = (Col("sku", "SKU"), Col("name", _("Name")), Col("method", _("Method"), brief=False),
            Col("demand_week", _("Dem/wk"), "qty"), Col("sd_week", _("SD/wk"), "qty", brief=False),
            Col("available", _("Avail"), "qty"), Col("on_order", _("On order"), "qty", brief=False),
            Col("safety_stock", _("Safety"), "qty"), Col("reorder_point", _("ROP"), "qty"),
            Col("order_up_to", _("Up to"), "qty", brief=False), Col("suggested", _("Order"), "qty"),
            Col("case_pack", _("Pack"), "qty", brief=False))
    notes = (_("service level {sl} (z = {z}), lead time {l} days, cover {c} days after arrival; safety stock = "
               "z·σ·√L with σ the standard deviation of weekly demand over {n} weeks").format(
        sl=service, z=round(z, 3), l=lead, c=st.cover_days, n=n),
        _("{k} of {m} products with demand are at or below their reorder point").format(k=len(rows), m=len(plan)))
    if not rows:
        notes = (*notes, _("nothing to reorder: every product is above its reorder point"))
    return ReportResult("reorder", _("Reorder suggestions"), p.text(), warehouse_text(params.warehouse), now, cols,
                        rows, (), notes, p.start, p.end)


def _save(s: Session, wid: int | None, plan: list[tuple[int, float, float, float, str]], now: Any) -> None:
    """Replace the saved reorder points of this scope (a warehouse, or all warehouses) with ``plan``."""
    rp = ReorderPoint.__table__  # type: ignore[attr-defined]
    s.execute(delete(rp).where(rp.c.warehouse_id.is_(None) if wid is None else rp.c.warehouse_id == wid))

    def q(v: float) -> int:
        return max(0, round(v * Q))

    values = [{"product_id": pid, "warehouse_id": wid, "reorder_point": q(rop), "safety_stock": q(ss),
               "order_up_to": q(up), "method": m, "computed_at": now} for pid, rop, ss, up, m in plan]
    from wsms_tui.orders import raw_table

    for i in range(0, len(values), 5000):
        s.execute(insert(raw_table(ReorderPoint)), values[i:i + 5000])


def reorder_alert_count(db: Database, actor: Actor) -> int | None:
    """How many saved reorder points the stock position is at or below now (None: no reorder run saved yet,
    or the actor may not see reports). One query; cheap enough for a status bar to poll."""
    if not actor.can("report.view"):
        return None

    def work(s: Session) -> int | None:
        rp = ReorderPoint.__table__  # type: ignore[attr-defined]
        if s.execute(select(rp.c.id).limit(1)).first() is None:
            return None
        stock = (select(Quant.product_id.label("pid"), Location.warehouse_id.label("wid"),
                        func.sum(raw(Quant.on_hand) - raw(Quant.reserved)).label("q"))
                 .join(Location, Location.id == Quant.location_id)
                 .where(Location.usage.notin_(VIRTUAL))  # type: ignore[attr-defined]
                 .group_by(Quant.product_id, Location.warehouse_id)).subquery()
        left = raw(ReceiptLine.expected_qty) - raw(ReceiptLine.received_qty)
        due = (select(ReceiptLine.product_id.label("pid"), Receipt.warehouse_id.label("wid"), func.sum(left).label("q"))
               .join(Receipt, Receipt.id == ReceiptLine.receipt_id)
               .where(Receipt.status.in_(("open", "receiving")), left > 0)  # type: ignore[attr-defined]
               .group_by(ReceiptLine.product_id, Receipt.warehouse_id)).subquery()

        def per_point(src: Any) -> Any:  # Σ src.q over the point's product and scope, per reorder point
            on = and_(src.c.pid == rp.c.product_id, or_(rp.c.warehouse_id.is_(None), src.c.wid == rp.c.warehouse_id))
            return (select(rp.c.id.label("id"), func.coalesce(func.sum(src.c.q), 0).label("q"))
                    .select_from(rp.outerjoin(src, on)).group_by(rp.c.id)).subquery()

        have, coming = per_point(stock), per_point(due)
        q = (select(func.count()).select_from(rp)
             .join(have, have.c.id == rp.c.id).join(coming, coming.c.id == rp.c.id)
             .where(raw(rp.c.reorder_point) > 0, have.c.q + coming.c.q <= raw(rp.c.reorder_point)))
        return int(s.execute(q).scalar_one())

    return db.read(work)
