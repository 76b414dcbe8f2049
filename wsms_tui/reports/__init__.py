"""The reports: a registry of report functions ``(db, actor, params) -> ReportResult``.

One module per family: ``stock`` (stock and value, ageing, expiring lots), ``turnover`` (turnover and days of
supply, slow and dead stock), ``classes`` (ABC, XYZ), ``fulfilment`` (lead times, on-time, time between
statuses, cost per order), ``accuracy`` (counts over time), ``demand`` (forecast, reorder suggestions and the
reorder alert). ``snapshot`` keeps the daily stock-flow cache they read. Nothing here imports Textual: the CLI
(``wsms report NAME``) and the Reports desk call ``run_report`` alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wsms_tui.database import Database
from wsms_tui.errors import BadInput
from wsms_tui.i18n import _
from wsms_tui.reports import accuracy, classes, demand, fulfilment, stock, turnover
from wsms_tui.reports.base import Chart, Col, NoData, ReportParams, ReportResult
from wsms_tui.reports.demand import reorder_alert_count
from wsms_tui.security import Actor

__all__ = ["REPORTS", "Chart", "Col", "NoData", "ReportParams", "ReportResult", "ReportSpec", "get_report",
           "list_reports", "reorder_alert_count", "run_report", "warehouse_codes"]


@dataclass(frozen=True)
class ReportSpec:
    name: str
    fn: Callable[[Database, Actor, ReportParams], ReportResult]
    #: what ``--by`` may be for this report ("" = not used)
    by: tuple[str, ...] = ()
    #: the default period in days ("" for point-in-time reports)
    period_days: int | None = None

    @property
    def description(self) -> str:
        return descriptions()[self.name]


REPORTS: dict[str, ReportSpec] = {spec.name: spec for spec in (
    ReportSpec("stock", stock.stock_value, ("warehouse", "category", "location", "product")),
    ReportSpec("ageing", stock.ageing),
    ReportSpec("expiring", stock.expiring),
    ReportSpec("turnover", turnover.turnover, ("product", "category"), 365),
    ReportSpec("slow", turnover.slow_dead, (), 90),
    ReportSpec("abc", classes.abc, (), 365),
    ReportSpec("xyz", classes.xyz, (), 364),
    ReportSpec("fulfilment", fulfilment.fulfilment, ("channel", "warehouse"), 90),
    ReportSpec("status-times", fulfilment.status_times, (), 90),
    ReportSpec("cost", fulfilment.cost_per_order, ("channel", "warehouse"), 30),
    ReportSpec("accuracy", accuracy.accuracy_over_time, ("month", "week"), 365),
    ReportSpec("forecast", demand.forecast_report, (), 364),
    ReportSpec("reorder", demand.reorder, (), 364),
)}

ALIASES = {"aging": "ageing", "dead": "slow", "slow-dead": "slow", "value": "stock", "expiry": "expiring",
           "lead-times": "fulfilment", "fulfillment": "fulfilment", "cost-per-order": "cost", "reorders": "reorder"}


def descriptions() -> dict[str, str]:
    return {
        "stock": _("stock on hand and value by warehouse, category, location or product"),
        "ageing": _("stock by age since it arrived (first in, first out)"),
        "expiring": _("lots in stock expiring within N days, or expired"),
        "turnover": _("inventory turnover and days of supply per product or category"),
        "slow": _("slow and dead stock: idle for long, or too many days of supply"),
        "abc": _("ABC classes by sales value"),
        "xyz": _("XYZ classes by the variability of weekly demand"),
        "fulfilment": _("order-to-ship lead time percentiles and on-time rate by channel or warehouse"),
        "status-times": _("where orders spend their time: hours in each status"),
        "cost": _("cost per order: storage, handling, packaging, carrier, from configured rates"),
        "accuracy": _("inventory accuracy over time from closed counts"),
        "forecast": _("demand forecast per product for the next weeks, method chosen by backtest"),
        "reorder": _("reorder suggestions: safety stock, reorder point, quantity to order"),
    }


def get_report(name: str) -> ReportSpec:
    """The report called ``name`` (case-insensitive, a few aliases); an unknown name lists the reports."""
    key = (name or "").strip().lower().replace("_", "-")
    key = ALIASES.get(key, key)
    spec = REPORTS.get(key)
    if spec is None:
        raise BadInput(_("there is no report {name!r}; reports: {names} (`wsms report list` describes them)").format(
            name=name, names=", ".join(REPORTS)))
    return spec


def list_reports() -> list[ReportSpec]:
    return list(REPORTS.values())


def warehouse_codes(db: Database, actor: Actor) -> list[str]:
    """The warehouses a report can be restricted to (for the desk's warehouse choice)."""
    from sqlalchemy import select

    from wsms_tui.authz import require
    from wsms_tui.db.models import Warehouse

    require(db, actor, "report.view")
    return db.read(lambda s: list(s.execute(select(Warehouse.code).order_by(Warehouse.code)).scalars()))


def run_report(db: Database, actor: Actor, name: str, params: ReportParams | None = None) -> ReportResult:
    """Run report ``name`` with ``params`` (defaults from ``ReportParams()``)."""
    spec = get_report(name)
    return spec.fn(db, actor, params or ReportParams())
