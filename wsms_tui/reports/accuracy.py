"""Inventory accuracy over time, from the figures each count stores when it closes.

Per month (or week) of closing: counts, locations counted and without variance (location accuracy), count
lines and lines without variance (line accuracy), value counted at unit cost and the absolute and net value of
the variances (value accuracy = 1 − |variance| / expected value). One GROUP BY over ``count_session``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models_stocktake import CountSession
from wsms_tui.i18n import _
from wsms_tui.reports.base import (
    Chart,
    Col,
    M,
    NoData,
    ReportParams,
    ReportResult,
    choice,
    day_of,
    from_day_number,
    money,
    period,
    ratio,
    raw,
    warehouse_id,
    warehouse_text,
)
from wsms_tui.security import Actor


def _bucket(s: Session, by: str, at: Any) -> Any:
    if by == "week":  # the Monday of the week (1970-01-01 was a Thursday)
        day = day_of(s, at)
        return day - (day + 3) % 7
    if s.get_bind().dialect.name == "sqlite":
        return func.substr(at, 1, 7)
    return func.to_char(func.timezone("UTC", at), "YYYY-MM")


def accuracy_over_time(db: Database, actor: Actor, params: ReportParams) -> ReportResult:
    """Location, line and value accuracy of the counts closed in the period, per month or week."""
    require(db, actor, "report.view")
    by = choice(params.by, ("month", "week"), _("--by"))
    p = period(params, 365)
    now = params.clock()

    def work(s: Session) -> ReportResult:
        wid = warehouse_id(s, params.warehouse)
        cs = CountSession
        b = _bucket(s, by, cs.closed_at)

        def total(col: Any) -> Any:
            return func.coalesce(func.sum(col), 0)

        q = (select(b.label("b"), func.count().label("counts"), total(cs.loc_counted).label("locs"),
                    total(cs.loc_accurate).label("locs_ok"), total(cs.lines_counted).label("lines"),
                    total(cs.lines_accurate).label("lines_ok"), total(raw(cs.value_expected)).label("v_exp"),
                    total(raw(cs.value_abs_variance)).label("v_abs"), total(raw(cs.value_net_variance)).label("v_net"))
             .where(cs.status == "closed", cs.closed_at.is_not(None), cs.loc_counted.is_not(None),  # type: ignore[union-attr]
                    cs.closed_at >= p.t0, cs.closed_at < p.t1)  # type: ignore[operator]
             .group_by(b).order_by(b))
        if wid is not None:
            q = q.where(cs.warehouse_id == wid)
        rows = []
        for r in s.execute(q):
            label = from_day_number(int(r.b)).isoformat() if by == "week" else r.b
            locs, lines, v_exp = int(r.locs), int(r.lines), int(r.v_exp)
            rows.append({by: label, "counts": int(r.counts), "locations": locs,
                         "location_accuracy_pct": ratio(int(r.locs_ok) / locs * 100, 1) if locs else None,
                         "lines": lines,
                         "line_accuracy_pct": ratio(int(r.lines_ok) / lines * 100, 1) if lines else None,
                         "value_counted": money(v_exp / M), "abs_variance": money(int(r.v_abs) / M),
                         "net_variance": money(int(r.v_net) / M),
                         "value_accuracy_pct": ratio((1 - int(r.v_abs) / v_exp) * 100, 1) if v_exp else None})
        if not rows:
            raise NoData(_("no count of {wh} was closed between {a} and {b}: no accuracy to report (close a count "
                           "with `wsms count close`)").format(wh=warehouse_text(params.warehouse),
                                                              a=p.start.isoformat(), b=p.end.isoformat()))
        cols = (Col(by, _("Month") if by == "month" else _("Week of")), Col("counts", _("Counts"), "int"),
                Col("locations", _("Locs"), "int"), Col("location_accuracy_pct", _("Loc acc %"), "pct"),
                Col("lines", _("Lines"), "int", brief=False), Col("line_accuracy_pct", _("Line acc %"), "pct"),
                Col("value_counted", _("Value"), "money", brief=False),
                Col("abs_variance", _("|Var|"), "money"), Col("net_variance", _("Net var"), "money", brief=False),
                Col("value_accuracy_pct", _("Value acc %"), "pct"))
        chart = Chart(_("Location accuracy % by {by}").format(by=by), "line", tuple(str(x[by]) for x in rows),
                      tuple(float(x["location_accuracy_pct"] or 0) for x in rows), "%")
        notes = (_("closed counts only (their figures are fixed when they close); a location is accurate when "
                   "none of its lines had a variance"),)
        return ReportResult("accuracy", _("Inventory accuracy over time"), p.text(), warehouse_text(params.warehouse),
                            now, cols, rows, (chart,), notes, p.start, p.end)

    return db.read(work)


