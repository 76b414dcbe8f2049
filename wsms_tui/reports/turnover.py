"""Inventory turnover and days of supply (per product or category), slow and dead stock.

All from the daily flows (snapshot + newer ledger entries) in one GROUP BY per product:

* average stock over the period = the mean of the end-of-day stock levels of its N days, computed without
  a day-by-day loop as Σ over days d ≤ end of net(d) × (end − max(d, start) + 1) / N;
* stock at the end = Σ net(d) for d ≤ end; units sold = Σ (sold − returned) within the period;
* turnover = cost of goods sold / average stock value (at unit cost; for one product simply units sold /
  average units), also annualised (× 365 / N); days of supply = stock at the end / average daily sales.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
    Period,
    ReportParams,
    ReportResult,
    category_label,
    choice,
    from_day_number,
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


def product_flows(s: Session, p: Period, wid: int | None) -> Any:
    """Per product: level_days (Σ end-of-day stock over the period), closing stock, units sold (net of
    returns) and sales lines within the period, last day sold (≤ end) — raw integers, one GROUP BY."""
    def sums(f: Any) -> dict[str, Any]:
        net = f.qty_in - f.qty_out
        weight = case((f.day < p.day0, p.days), else_=literal(p.day1 + 1) - f.day)
        in_period = f.day >= p.day0
        return {"level_days": net * weight, "closing": net,
                "sold": case((in_period, f.qty_sold - f.qty_returned), else_=0),
                "lines": case((in_period, f.sales_lines), else_=0)}

    return aggregate(s, keys=lambda f: {"pid": f.product_id}, sums=sums,
                     maxes=lambda f: {"last_day": case((f.qty_sold > 0, f.day))}, day1=p.day1, warehouse_id=wid)


def _no_data(params: ReportParams, p: Period) -> NoData:
    return NoData(_("no stock and no sales in {wh} between {a} and {b}: nothing to report").format(
        wh=warehouse_text(params.warehouse), a=p.start.isoformat(), b=p.end.isoformat()))


def turnover(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Turnover and days of supply per product (``--by product``, default) or per category."""
    require(db, actor, "report.view")
    by = choice(params.by, ("product", "category"), _("--by"))
    p = period(params, 365)
    now = params.clock()
    ensure_fresh(db)

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        per = product_flows(s, p, wid)
        cost = raw(Product.unit_cost)
        n = p.days
        if by == "product":
            dims = [Product.sku.label("sku"), Product.name.label("name"), Product.category.label("category")]
        else:
            dims = [category_label(Product.category).label("category")]
        q = (select(*dims, func.count().label("products"), func.sum(per.c.sold).label("sold"),
                    func.sum(per.c.closing).label("closing"), func.sum(per.c.level_days).label("level_days"),
                    func.sum(value_of(s, per.c.sold, cost)).label("cogs"),
                    (func.sum(value_of(s, per.c.level_days, cost)) / n).label("avg_value"),
                    func.sum(value_of(s, per.c.closing, cost)).label("closing_value"))
             .join(Product, Product.id == per.c.pid)
             .where((per.c.level_days != 0) | (per.c.sold != 0))
             .group_by(*dims))
        rows = []
        for r in s.execute(q):
            avg_units = int(r.level_days or 0) / n / 10**6
            sold = int(r.sold or 0) / 10**6
            avg_value = float(r.avg_value or 0)
            cogs = float(r.cogs or 0)
            turns = cogs / avg_value if avg_value > 0 else None
            daily = sold / n
            row: dict[str, Any] = {k.name: getattr(r, k.name) for k in dims}
            row.update(products=int(r.products), sold=qty(r.sold), cogs=money(r.cogs),
                       avg_stock=ratio(avg_units, 2), avg_value=money(avg_value), closing=qty(r.closing),
                       closing_value=money(r.closing_value), turnover=ratio(turns, 2),
                       annual_turnover=ratio(turns * 365 / n, 2) if turns is not None else None,
                       days_of_supply=ratio(int(r.closing or 0) / 10**6 / daily, 1) if daily > 0 else None)
            rows.append(row)
        if not rows:
            raise _no_data(params, p)
        rows.sort(key=lambda x: (-(x["annual_turnover"] or Decimal(-1)), str(x.get("sku") or x["category"])))
        label = [Col("sku", "SKU"), Col("name", _("Name")), Col("category", _("Category"), brief=False)] \
            if by == "product" else [Col("category", _("Category")), Col("products", _("Products"), "int")]
        cols = (*label, Col("sold", _("Sold"), "qty"), Col("cogs", _("COGS"), "money", brief=False),
                Col("avg_stock", _("Avg stock"), "qty"), Col("avg_value", _("Avg value"), "money", brief=False),
                Col("closing", _("Stock end"), "qty", brief=False),
                Col("closing_value", _("Value end"), "money", brief=False),
                Col("turnover", _("Turns"), "ratio", brief=False), Col("annual_turnover", _("Turns/yr"), "ratio"),
                Col("days_of_supply", _("Days supply"), "days"))
        tot_cogs = sum(float(x["cogs"]) for x in rows)
        tot_avg = sum(float(x["avg_value"]) for x in rows)
        notes = [_("turnover = cost of goods sold / average stock value; annualised × 365/{n}").format(n=n)]
        if tot_avg > 0:
            notes.append(_("overall: {t} turns a year, COGS {c}, average stock value {v}").format(
                t=round(tot_cogs / tot_avg * 365 / n, 2), c=money(tot_cogs), v=money(tot_avg)))
        charts = ()
        if by == "category":
            charts = (Chart(_("Turns a year by category"), "bar", tuple(x["category"] for x in rows),
                            tuple(float(x["annual_turnover"] or 0) for x in rows)),)
        return ReportResult("turnover", _("Inventory turnover and days of supply by {by}").format(by=by), p.text(),
                            warehouse_text(params.warehouse), now, cols, rows, charts, tuple(notes), p.start, p.end)

    return db.read(work)


def slow_dead(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Products in stock at the end of the period that sold nothing for ``dead_days`` (dead) or hold more
    than ``slow_days`` of supply at the period's rate of sale (slow); most value first."""
    require(db, actor, "report.view")
    p = period(params, 90)
    now = params.clock()
    dead_days, slow_days = params.settings.dead_days, params.settings.slow_days
    ensure_fresh(db)

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        per = product_flows(s, p, wid)
        cost = raw(Product.unit_cost)
        since = literal(p.day1) - per.c.last_day
        daily = cast(per.c.sold, Float) / p.days
        supply = case((per.c.sold > 0, cast(per.c.closing, Float) / daily))
        dead = (per.c.last_day.is_(None)) | (since >= dead_days)
        cls = case((dead, "dead"), else_="slow")
        q = (select(Product.sku, Product.name, Product.category, cls.label("cls"), per.c.closing, per.c.sold,
                    per.c.last_day, since.label("since"), supply.label("supply"),
                    value_of(s, per.c.closing, cost).label("value"))
             .join(Product, Product.id == per.c.pid)
             .where(per.c.closing > 0, dead | (per.c.sold <= 0) | (supply > slow_days))
             .order_by(value_of(s, per.c.closing, cost).desc(), Product.sku))
        rows = [{"sku": r.sku, "name": r.name, "category": r.category, "class": r.cls, "on_hand": qty(r.closing),
                 "value": money(r.value), "last_sold": from_day_number(r.last_day) if r.last_day is not None else None,
                 "days_since_sale": int(r.since) if r.since is not None else None, "sold": qty(r.sold),
                 "days_of_supply": ratio(r.supply, 0) if r.supply is not None else None} for r in s.execute(q)]
        if not rows:
            raise NoData(_("no slow or dead stock in {wh} at the end of {b}: everything in stock sold within {d} "
                           "days and holds at most {s} days of supply").format(
                wh=warehouse_text(params.warehouse), b=p.end.isoformat(), d=dead_days, s=slow_days))
        cols = (Col("sku", "SKU"), Col("name", _("Name")), Col("category", _("Category"), brief=False),
                Col("class", _("Class")), Col("on_hand", _("On hand"), "qty"), Col("value", _("Value"), "money"),
                Col("last_sold", _("Last sold"), "date"), Col("days_since_sale", _("Days idle"), "days", brief=False),
                Col("sold", _("Sold"), "qty", brief=False), Col("days_of_supply", _("Days supply"), "days"))
        dead_rows = [x for x in rows if x["class"] == "dead"]
        notes = (_("dead: no sale for {d} days or more; slow: more than {s} days of supply at this period's rate "
                   "of sale").format(d=dead_days, s=slow_days),
                 _("{n} dead ({dv}), {m} slow ({sv})").format(
                     n=len(dead_rows), dv=sum((x["value"] for x in dead_rows), money(0)),
                     m=len(rows) - len(dead_rows),
                     sv=sum((x["value"] for x in rows if x["class"] == "slow"), money(0))))
        return ReportResult("slow", _("Slow and dead stock"), p.text(), warehouse_text(params.warehouse), now, cols,
                            rows, (), notes, p.start, p.end)

    return db.read(work)
