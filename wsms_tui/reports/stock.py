"""Stock reports: stock on hand and value (by warehouse, category, location or product), ageing by
receipt date, expiring lots.

Stock now comes from the quants (the ledger's cache, one GROUP BY); stock at the end of a past day
(``--to``) from the daily snapshot's running sums. Ageing assumes first-in first-out: what is on hand is
the newest arrivals into the warehouse, layered back from the newest with a window sum in SQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlmodel import Session

from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import VIRTUAL_USAGES, Location, Lot, Product, Quant, Warehouse
from wsms_tui.errors import BadInput
from wsms_tui.i18n import _
from wsms_tui.reports.base import (
    Chart,
    Col,
    NoData,
    ReportParams,
    ReportResult,
    as_of_text,
    category_label,
    choice,
    day_number,
    money,
    qty,
    raw,
    value_of,
    warehouse_id,
    warehouse_text,
)
from wsms_tui.reports.snapshot import aggregate, ensure_fresh
from wsms_tui.security import Actor

VIRTUAL = [u.value for u in VIRTUAL_USAGES]
AGE_BUCKETS = ((30, "0–30"), (60, "31–60"), (90, "61–90"), (180, "91–180"), (365, "181–365"))


def _stock_dimension(by: str) -> tuple[list[Any], list[Col]]:
    wh = func.coalesce(Warehouse.code, "")
    if by == "warehouse":
        return [wh.label("warehouse")], [Col("warehouse", _("Warehouse"))]
    if by == "category":
        return [category_label(Product.category).label("category")], [Col("category", _("Category"))]
    if by == "location":
        return ([wh.label("warehouse"), Location.code.label("location")],
                [Col("warehouse", _("Wh")), Col("location", _("Location"))])
    return ([Product.sku.label("sku"), Product.name.label("name")],
            [Col("sku", "SKU"), Col("name", _("Name"))])


def stock_value(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Stock on hand, reserved and value (at unit cost) by warehouse, category, location or product."""
    require(db, actor, "report.view")
    by = choice(params.by, ("warehouse", "category", "location", "product"), _("--by"))
    now = params.clock()
    today = now.date()
    as_of = params.date_to if params.date_to is not None and params.date_to < today else None
    if as_of is not None and by == "location":
        raise BadInput(_("stock by location is stock now: leave out --to, or use --by warehouse, category or "
                         "product for stock at the end of {d}").format(d=as_of.isoformat()))
    if as_of is not None:
        ensure_fresh(db)

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        dims, dim_cols = _stock_dimension(by)
        if as_of is None:
            q = (select(*dims, func.count(func.distinct(Quant.product_id)).label("products"),
                        func.sum(raw(Quant.on_hand)).label("on_hand"), func.sum(raw(Quant.reserved)).label("reserved"),
                        func.sum(value_of(s, raw(Quant.on_hand), raw(Product.unit_cost))).label("value"))
                 .select_from(Quant)
                 .join(Product, Product.id == Quant.product_id)
                 .join(Location, Location.id == Quant.location_id)
                 .outerjoin(Warehouse, Warehouse.id == Location.warehouse_id)
                 .where(Location.usage.notin_(VIRTUAL), Quant.on_hand != 0))  # type: ignore[attr-defined]
            if wid is not None:
                q = q.where(Location.warehouse_id == wid)
            period_text = as_of_text(now)
        else:
            per = aggregate(s, keys=lambda f: {"product_id": f.product_id, "warehouse_id": f.warehouse_id},
                            sums=lambda f: {"q": f.qty_in - f.qty_out}, day1=day_number(as_of), warehouse_id=wid)
            q = (select(*dims, func.count(func.distinct(per.c.product_id)).label("products"),
                        func.sum(per.c.q).label("on_hand"), literal(None).label("reserved"),
                        func.sum(value_of(s, per.c.q, raw(Product.unit_cost))).label("value"))
                 .select_from(per)
                 .join(Product, Product.id == per.c.product_id)
                 .join(Warehouse, Warehouse.id == per.c.warehouse_id)
                 .where(per.c.q != 0))
            period_text = _("end of {d}").format(d=as_of.isoformat())
        keys = [d.name for d in dims]
        rows = []
        for r in s.execute(q.group_by(*dims)):
            row = {k: getattr(r, k) for k in keys}
            row.update(products=int(r.products), on_hand=qty(r.on_hand),
                       reserved=None if r.reserved is None else qty(r.reserved), value=money(r.value))
            rows.append(row)
        if not rows:
            raise NoData(_("there is no stock in {wh} ({when}): nothing to report").format(
                wh=warehouse_text(params.warehouse), when=period_text))
        rows.sort(key=lambda x: (-x["value"], str(x[keys[-1]])))
        total = sum((x["value"] for x in rows), money(0))
        for x in rows:
            x["share_pct"] = (x["value"] / total * 100).quantize(money(0)) if total else None
        cols = (*dim_cols, Col("products", _("Products"), "int"), Col("on_hand", _("On hand"), "qty"),
                Col("reserved", _("Reserved"), "qty"), Col("value", _("Value"), "money"),
                Col("share_pct", _("Share %"), "pct"))
        top = rows[:12]
        label = keys[-1]
        chart = Chart(_("Stock value by {by}").format(by=by), "bar", tuple(str(x[label]) for x in top),
                      tuple(float(x["value"]) for x in top))
        notes = (_("{n} rows; total value {v} at current unit costs").format(n=len(rows), v=total),)
        return ReportResult("stock", _("Stock on hand and value by {by}").format(by=by), period_text,
                            warehouse_text(params.warehouse), now, cols, rows, (chart,), notes, None,
                            as_of or today)

    return db.read(work)


def ageing(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Stock now by age since it arrived in its warehouse (first in, first out), in age brackets."""
    require(db, actor, "report.view")
    now = params.clock()
    today_n = day_number(now.date())
    ensure_fresh(db)

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        stock = (select(Quant.product_id.label("pid"), Location.warehouse_id.label("wid"),
                        func.sum(raw(Quant.on_hand)).label("q"))
                 .join(Location, Location.id == Quant.location_id)
                 .where(Location.warehouse_id.is_not(None), Location.usage.notin_(VIRTUAL))  # type: ignore[union-attr]
                 .group_by(Quant.product_id, Location.warehouse_id))
        if wid is not None:
            stock = stock.where(Location.warehouse_id == wid)
        st = stock.subquery()
        arrivals = aggregate(s, keys=lambda f: {"product_id": f.product_id, "warehouse_id": f.warehouse_id,
                                                "day": f.day},
                             sums=lambda f: {"q": f.qty_in}, warehouse_id=wid)
        newer = func.sum(arrivals.c.q).over(partition_by=(arrivals.c.product_id, arrivals.c.warehouse_id),
                                            order_by=arrivals.c.day.desc()) - arrivals.c.q
        layers = (select(arrivals.c.product_id, arrivals.c.day, st.c.q.label("stock"), arrivals.c.q.label("arrived"),
                         newer.label("newer"))
                  .join(st, (st.c.pid == arrivals.c.product_id) & (st.c.wid == arrivals.c.warehouse_id))
                  .where(arrivals.c.q > 0, st.c.q > 0)).subquery()
        left = layers.c.stock - layers.c.newer
        take = case((left <= 0, 0), (left < layers.c.arrived, left), else_=layers.c.arrived)
        age = literal(today_n) - layers.c.day
        bucket = case(*((age <= limit, i) for i, (limit, _label) in enumerate(AGE_BUCKETS)), else_=len(AGE_BUCKETS))
        cost = select(Product.unit_cost).where(Product.id == layers.c.product_id).scalar_subquery()
        q = (select(bucket.label("b"), func.count(func.distinct(case((take > 0, layers.c.product_id)))).label("n"),
                    func.sum(take).label("q"), func.sum(value_of(s, take, raw(cost))).label("v"))
             .group_by(bucket))
        got = {int(r.b): r for r in s.execute(q)}
        total_q = s.execute(select(func.coalesce(func.sum(st.c.q), 0)).where(st.c.q > 0)).scalar_one()
        if not total_q:
            raise NoData(_("there is no stock in {wh}: nothing to age").format(wh=warehouse_text(params.warehouse)))
        labels = [label for _l, label in AGE_BUCKETS] + [">365"]
        rows = []
        layered = 0
        total_v = sum((money(r.v) for r in got.values()), money(0))
        for i, label in enumerate(labels):
            r = got.get(i)
            q_i = int(r.q or 0) if r else 0
            layered += q_i
            v = money(r.v) if r else money(0)
            rows.append({"age_days": label, "products": int(r.n) if r else 0, "on_hand": qty(q_i), "value": v,
                         "share_pct": (v / total_v * 100).quantize(money(0)) if total_v else None})
        notes = [_("age = days since the stock arrived in its warehouse, oldest arrivals assumed gone first")]
        if int(total_q) > layered:
            rows.append({"age_days": _("unknown"), "products": None, "on_hand": qty(int(total_q) - layered),
                         "value": None, "share_pct": None})
            notes.append(_("'unknown': stock with no arrival on record (e.g. opening balances)"))
        cols = (Col("age_days", _("Age (days)")), Col("products", _("Products"), "int"),
                Col("on_hand", _("On hand"), "qty"), Col("value", _("Value"), "money"),
                Col("share_pct", _("Share %"), "pct"))
        chart = Chart(_("Stock value by age"), "bar", tuple(labels), tuple(float(x["value"] or 0) for x in rows[:6]))
        return ReportResult("ageing", _("Stock ageing by receipt date"), as_of_text(now),
                            warehouse_text(params.warehouse), now, cols, rows, (chart,), tuple(notes), None,
                            now.date())

    return db.read(work)


def expiring(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Lots in stock that expire within N days (or have expired), soonest first."""
    require(db, actor, "report.view")
    now = params.clock()
    today = now.date()
    within = params.within_days if params.within_days is not None else params.settings.expiry_days
    if within < 0:
        raise BadInput(_("--within must be 0 days or more"))
    limit = today + timedelta(days=within)

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        q = (select(Product.sku, Product.name, func.coalesce(Warehouse.code, "").label("warehouse"),
                    Lot.lot_no.label("lot"), Lot.expiry, func.sum(raw(Quant.on_hand)).label("q"),
                    func.sum(value_of(s, raw(Quant.on_hand), raw(Product.unit_cost))).label("v"),
                    func.count().label("locations"))
             .select_from(Quant)
             .join(Lot, Lot.id == Quant.lot_id).join(Product, Product.id == Quant.product_id)
             .join(Location, Location.id == Quant.location_id)
             .outerjoin(Warehouse, Warehouse.id == Location.warehouse_id)
             .where(Location.usage.notin_(VIRTUAL), Quant.on_hand > 0, Lot.expiry.is_not(None),  # type: ignore[attr-defined,union-attr]
                    Lot.expiry <= limit)  # type: ignore[operator]
             .group_by(Product.sku, Product.name, Warehouse.code, Lot.lot_no, Lot.expiry)
             .order_by(Lot.expiry, Product.sku, Lot.lot_no))
        if wid is not None:
            q = q.where(Location.warehouse_id == wid)
        rows = [{"sku": r.sku, "name": r.name, "warehouse": r.warehouse, "lot": r.lot, "expiry": r.expiry,
                 "days_left": (r.expiry - today).days, "locations": int(r.locations), "on_hand": qty(r.q),
                 "value": money(r.v)} for r in s.execute(q)]
        if not rows:
            raise NoData(_("no lot in stock in {wh} expires by {d} (within {n} days): nothing to report").format(
                wh=warehouse_text(params.warehouse), d=limit.isoformat(), n=within))
        cols = (Col("sku", "SKU"), Col("name", _("Name")), Col("warehouse", _("Wh")), Col("lot", _("Lot")),
                Col("expiry", _("Expiry"), "date"), Col("days_left", _("Days left"), "days"),
                Col("locations", _("Locs"), "int", brief=False), Col("on_hand", _("On hand"), "qty"),
                Col("value", _("Value"), "money"))
        expired = [x for x in rows if x["days_left"] < 0]
        notes = (_("{n} lots, {e} already expired (value {v})").format(
            n=len(rows), e=len(expired), v=sum((x["value"] for x in expired), money(0))),)
        return ReportResult("expiring", _("Lots expiring within {n} days").format(n=within),
                            _("{a} – {b} (expiry)").format(a=today.isoformat(), b=limit.isoformat()),
                            warehouse_text(params.warehouse), now, cols, rows, (), notes, today, limit)

    return db.read(work)

