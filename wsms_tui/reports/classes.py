"""ABC classes by sales value and XYZ classes by the variability of weekly demand.

ABC: sales value per product over the period (units sold net of returns × unit cost), ranked in SQL with
window sums; a product is A while the value ranked before it is under ``abc_a_pct`` % of the total, B under
``abc_b_pct`` %, else C. XYZ: weekly demand over the period's whole weeks (counted back from its last day,
weeks without sales count as 0), coefficient of variation σ/μ from Σx and Σx² in SQL: X up to ``xyz_x_cv``,
Y up to ``xyz_y_cv``, else Z. Products that sold nothing have no XYZ class and are left out (counted in a
note).
"""

from __future__ import annotations

import math
from decimal import Decimal

from sqlalchemy import Float, case, cast, func, literal, select
from sqlmodel import Session

from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import Product
from wsms_tui.i18n import _
from wsms_tui.reports.base import (
    Chart,
    Col,
    NoData,
    ReportParams,
    ReportResult,
    money,
    period,
    qty,
    ratio,
    raw,
    value_of,
    warehouse_id,
    warehouse_text,
)
from wsms_tui.reports.snapshot import aggregate, ensure_fresh
from wsms_tui.security import Actor


def abc(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """ABC classes of the products sold in the period, by sales value."""
    require(db, actor, "report.view")
    p = period(params, 365)
    now = params.clock()
    a_pct, b_pct = Decimal(params.settings.abc_a_pct), Decimal(params.settings.abc_b_pct)
    ensure_fresh(db)

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        sold = aggregate(s, keys=lambda f: {"pid": f.product_id}, sums=lambda f: {"q": f.qty_sold - f.qty_returned},
                         day0=p.day0, day1=p.day1, warehouse_id=wid)
        valued = (select(Product.id.label("pid"), Product.sku, Product.name, sold.c.q,
                         value_of(s, sold.c.q, raw(Product.unit_cost)).label("v"))
                  .join(sold, sold.c.pid == Product.id).where(sold.c.q > 0)).subquery()
        cum = func.sum(valued.c.v).over(order_by=(valued.c.v.desc(), valued.c.sku))
        total = func.sum(valued.c.v).over()
        ranked = select(valued, (cum - valued.c.v).label("before"), total.label("total")).subquery()
        a, b = float(a_pct) / 100, float(b_pct) / 100
        cls = case((ranked.c.before < ranked.c.total * a, "A"), (ranked.c.before < ranked.c.total * b, "B"),
                   else_="C")
        q = (select(ranked.c.sku, ranked.c.name, ranked.c.q, ranked.c.v, ranked.c.before, ranked.c.total,
                    cls.label("cls")).order_by(ranked.c.v.desc(), ranked.c.sku))
        rows = []
        for r in s.execute(q):
            total_v = float(r.total or 0)
            rows.append({"sku": r.sku, "name": r.name, "class": r.cls, "sold": qty(r.q), "value": money(r.v),
                         "share_pct": ratio(float(r.v) / total_v * 100, 2) if total_v else None,
                         "cum_pct": ratio((float(r.before) + float(r.v)) / total_v * 100, 2) if total_v else None})
        if not rows:
            raise NoData(_("nothing was sold in {wh} between {a} and {b}: no ABC classes").format(
                wh=warehouse_text(params.warehouse), a=p.start.isoformat(), b=p.end.isoformat()))
        counts = {c: sum(1 for x in rows if x["class"] == c) for c in "ABC"}
        values = {c: sum((x["value"] for x in rows if x["class"] == c), money(0)) for c in "ABC"}
        tot = sum(values.values(), money(0))
        cols = (Col("sku", "SKU"), Col("name", _("Name")), Col("class", _("ABC")), Col("sold", _("Sold"), "qty"),
                Col("value", _("Sales value"), "money"), Col("share_pct", _("Share %"), "pct"),
                Col("cum_pct", _("Cum %"), "pct"))
        notes = (_("A: the first {a} % of sales value, B: up to {b} %, C: the rest").format(a=a_pct, b=b_pct),
                 "  ".join(_("{c}: {n} products, {v}").format(c=c, n=counts[c], v=values[c]) for c in "ABC"))
        chart = Chart(_("Share of sales value by class"), "bar", tuple(f"{c} ({counts[c]})" for c in "ABC"),
                      tuple(float(values[c] / tot * 100) if tot else 0.0 for c in "ABC"), "%")
        return ReportResult("abc", _("ABC classes by sales value"), p.text(), warehouse_text(params.warehouse), now,
                            cols, rows, (chart,), notes, p.start, p.end)

    return db.read(work)


def xyz(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """XYZ classes by the coefficient of variation of weekly demand over the period's whole weeks."""
    require(db, actor, "report.view")
    p0 = period(params, 364)
    weeks = p0.days // 7
    if weeks < 4:
        raise NoData(_("XYZ needs at least 4 whole weeks; {a} – {b} has {n}").format(
            a=p0.start.isoformat(), b=p0.end.isoformat(), n=weeks))
    from datetime import timedelta

    from wsms_tui.reports.base import Period

    p = Period(p0.end - timedelta(days=weeks * 7 - 1), p0.end)
    now = params.clock()
    x_cv, y_cv = float(params.settings.xyz_x_cv), float(params.settings.xyz_y_cv)
    ensure_fresh(db)

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        weekly = aggregate(s, keys=lambda f: {"pid": f.product_id, "w": (literal(p.day1) - f.day) // 7},
                           sums=lambda f: {"q": f.qty_sold - f.qty_returned}, day0=p.day0, day1=p.day1,
                           warehouse_id=wid)
        wq = cast(weekly.c.q, Float)
        stats = (select(weekly.c.pid, func.sum(wq).label("sx"), func.sum(wq * wq).label("sxx"),
                        func.sum(case((weekly.c.q > 0, 1), else_=0)).label("active"))
                 .group_by(weekly.c.pid)).subquery()
        q = (select(Product.sku, Product.name, stats.c.sx, stats.c.sxx, stats.c.active)
             .join(stats, stats.c.pid == Product.id).where(stats.c.sx > 0).order_by(Product.sku))
        rows = []
        n = weeks
        for r in s.execute(q):
            mean = float(r.sx) / n / 1e6
            var = max(0.0, float(r.sxx) / n / 1e12 - mean * mean)
            cv = math.sqrt(var) / mean if mean > 0 else None
            cls = "X" if cv is not None and cv <= x_cv else "Y" if cv is not None and cv <= y_cv else "Z"
            rows.append({"sku": r.sku, "name": r.name, "class": cls, "weeks_with_sales": int(r.active),
                         "mean_week": ratio(mean, 2), "sd_week": ratio(math.sqrt(var), 2), "cv": ratio(cv, 3)})
        if not rows:
            raise NoData(_("nothing was sold in {wh} between {a} and {b}: no XYZ classes").format(
                wh=warehouse_text(params.warehouse), a=p.start.isoformat(), b=p.end.isoformat()))
        rows.sort(key=lambda x: (x["cv"], x["sku"]))
        counts = {c: sum(1 for x in rows if x["class"] == c) for c in "XYZ"}
        cols = (Col("sku", "SKU"), Col("name", _("Name")), Col("class", _("XYZ")),
                Col("weeks_with_sales", _("Weeks sold"), "int"), Col("mean_week", _("Mean/wk"), "qty"),
                Col("sd_week", _("SD/wk"), "qty"), Col("cv", _("CV"), "ratio"))
        notes = (_("{n} whole weeks; CV = standard deviation / mean of weekly units sold (weeks without sales count "
                   "as 0); X: CV ≤ {x}, Y: ≤ {y}, Z: above").format(n=n, x=x_cv, y=y_cv),
                 "  ".join(_("{c}: {k} products").format(c=c, k=counts[c]) for c in "XYZ"))
        chart = Chart(_("Products by XYZ class"), "bar", tuple("XYZ"), tuple(float(counts[c]) for c in "XYZ"))
        return ReportResult("xyz", _("XYZ classes by demand variability"), p.text(), warehouse_text(params.warehouse),
                            now, cols, rows, (chart,), notes, p.start, p.end)

    return db.read(work)
