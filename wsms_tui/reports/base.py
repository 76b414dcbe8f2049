"""What every report shares: parameters, the result shape, periods, warehouses and SQL helpers.

A report is a function ``(db, actor, params) -> ReportResult``. It checks ``report.view``, computes its
figures with SQL aggregates (GROUP BY in the database, on SQLite and PostgreSQL alike; Python only
formats the aggregated rows), and states its period, warehouse and the time it was computed. The clock is
``params.now`` when given (tests and snapshots fix it), else the wall clock (UTC). Bad input — an unknown
warehouse, a period the wrong way round, a period with no data — raises ``BadInput`` with a message for a
person, never an empty table that looks like a result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Float, Integer, Numeric, cast, func, literal_column, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from wsms_tui.config import ReportSettings
from wsms_tui.db.models import Warehouse
from wsms_tui.db.types import MONEY_SCALE, QTY_SCALE, plain
from wsms_tui.errors import BadInput
from wsms_tui.i18n import _

EPOCH_DAY = date(1970, 1, 1)
Q = 10**QTY_SCALE
M = 10**MONEY_SCALE
CENT = Decimal("0.01")

#: column types: how a value is written (table alignment, xlsx number formats)
TYPES = ("text", "int", "qty", "money", "pct", "ratio", "date", "days", "hours")
NUMERIC = frozenset({"int", "qty", "money", "pct", "ratio", "days", "hours"})


class NoData(BadInput):
    """The report found nothing to show for what was asked (the message says what and why)."""


@dataclass(frozen=True)
class ReportParams:
    """What a report is asked for; every field is optional and each report says what it uses."""

    warehouse: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    #: grouping of the stock, turnover and ABC reports: warehouse, category, location, product
    by: str | None = None
    #: forecast: weeks ahead; reorder: weeks of history
    weeks: int | None = None
    #: forecast method (auto = chosen per product by backtest)
    method: str | None = None
    service_level: Decimal | None = None
    lead_days: int | None = None
    #: expiring: expiry within this many days
    within_days: int | None = None
    #: reorder: save the reorder points for the status bar alert (default yes)
    save: bool = True
    settings: ReportSettings = field(default_factory=ReportSettings)
    #: the clock: "now" for this report (None: the wall clock, UTC)
    now: datetime | None = None

    def clock(self) -> datetime:
        return (self.now or datetime.now(UTC)).astimezone(UTC)


@dataclass(frozen=True)
class Col:
    """A result column: key (snake_case, the JSON/CSV name), heading, type, shown in terminal tables."""

    key: str
    title: str
    type: str = "text"
    brief: bool = True

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC


@dataclass(frozen=True)
class Chart:
    """A picture of the result: ``bar`` (one bar per label) or ``line`` (a trend over labels)."""

    title: str
    kind: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    unit: str = ""


@dataclass(frozen=True)
class ReportResult:
    name: str
    title: str
    #: the period in words ("2026-08-01 – 2026-10-31 (92 days)", "as of 2026-11-01 09:30 UTC")
    period: str
    warehouse: str
    computed_at: datetime
    columns: tuple[Col, ...]
    rows: list[dict[str, Any]]
    charts: tuple[Chart, ...] = ()
    notes: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None

    def column(self, key: str) -> Col:
        return next(c for c in self.columns if c.key == key)

    def header(self, *, with_time: bool = True) -> str:
        """One line: period, warehouse and (unless hidden) the computation time."""
        parts = [_("period: {p}").format(p=self.period), _("warehouse: {w}").format(w=self.warehouse)]
        if with_time:
            parts.append(_("computed {t}").format(t=self.computed_at.strftime("%Y-%m-%d %H:%M:%S UTC")))
        return " · ".join(parts)


ReportFn = Callable[[Any, Any, ReportParams], ReportResult]


# ------------------------------------------------------------------ periods and warehouses


@dataclass(frozen=True)
class Period:
    start: date  # first day, inclusive
    end: date  # last day, inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def day0(self) -> int:
        return day_number(self.start)

    @property
    def day1(self) -> int:
        """Last day as a day number (inclusive)."""
        return day_number(self.end)

    @property
    def t0(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def t1(self) -> datetime:
        """The instant after the last day (exclusive)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def text(self) -> str:
        return _("{a} – {b} ({n} days)").format(a=self.start.isoformat(), b=self.end.isoformat(), n=self.days)


def period(params: ReportParams, default_days: int) -> Period:
    """The period asked for: ``--from``/``--to`` (inclusive UTC days), by default the ``default_days`` up to
    and including today."""
    today = params.clock().date()
    end = params.date_to or today
    start = params.date_from or (end - timedelta(days=default_days - 1))
    if start > end:
        raise BadInput(_("the period starts ({a}) after it ends ({b}): swap --from and --to").format(
            a=start.isoformat(), b=end.isoformat()))
    if start > today:
        raise BadInput(_("the period starts on {a}, after today ({t}): there is nothing to report yet").format(
            a=start.isoformat(), t=today.isoformat()))
    return Period(start, end)


def as_of_text(now: datetime) -> str:
    return _("as of {t}").format(t=now.strftime("%Y-%m-%d %H:%M UTC"))


def warehouse_id(s: Session, code: str | None) -> int | None:
    """The id of warehouse ``code`` (None: all warehouses); an unknown code names the ones there are."""
    if not code:
        return None
    wid = s.execute(select(Warehouse.id).where(Warehouse.code == code)).scalar()
    if wid is None:
        codes = s.execute(select(Warehouse.code).order_by(Warehouse.code)).scalars().all()
        raise BadInput(_("there is no warehouse {code!r}; warehouses: {codes}").format(
            code=code, codes=", ".join(codes) or _("none yet")))
    return int(wid)


def warehouse_text(code: str | None) -> str:
    return code or _("all warehouses")


def category_label(col: Any) -> Any:
    """SQL: a product category, "(none)" when empty (a group must have a name people can read)."""
    return func.coalesce(func.nullif(col, ""), "(none)")


def choice(value: str | None, allowed: Sequence[str], what: str) -> str:
    """``value`` (or the first of ``allowed``) when it is one of ``allowed``; else a message naming them."""
    v = (value or allowed[0]).strip().lower()
    if v not in allowed:
        raise BadInput(_("{what} must be one of: {choices} (not {v!r})").format(
            what=what, choices=", ".join(allowed), v=value))
    return v


# ------------------------------------------------------------------ SQL helpers


def raw(col: Any) -> Any:
    """A scaled-decimal column read as its stored integer (exact sums in SQL)."""
    return type_coerce(col, BigInteger)


def day_number(d: date) -> int:
    return (d - EPOCH_DAY).days


def from_day_number(n: int) -> date:
    return EPOCH_DAY + timedelta(days=int(n))


def day_of(s: Session, at: Any) -> ColumnElement[Any]:
    """SQL: the UTC day number (days since 1970-01-01) of a timestamp column."""
    if s.get_bind().dialect.name == "sqlite":
        # SQLite keeps timestamps as UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'
        return cast(func.julianday(func.substr(at, 1, 10)) - 2440587.5, Integer)
    return cast(func.floor(func.extract("epoch", at) / 86400), Integer)


def hours_between(s: Session, a: Any, b: Any) -> ColumnElement[Any]:
    """SQL: hours from timestamp ``a`` to timestamp ``b`` (a float)."""
    if s.get_bind().dialect.name == "sqlite":
        return (func.julianday(b) - func.julianday(a)) * 24.0
    return func.extract("epoch", b - a) / 3600.0


def wide(s: Session, expr: Any) -> Any:
    """An integer expression widened for sums of products (qty × cost): NUMERIC on PostgreSQL (exact),
    double precision on SQLite (which has no wider integer; exact to the cent below 10¹³)."""
    if s.get_bind().dialect.name == "sqlite":
        return cast(expr, Float)
    return cast(expr, Numeric)


def value_of(s: Session, qty_raw: Any, cost_raw: Any) -> Any:
    """SQL: money value (currency units, not scaled) of a raw quantity at a raw unit cost."""
    return wide(s, qty_raw) * cost_raw / literal_column(str(Q * M))


def qty(v: object) -> Decimal:
    """A raw scaled quantity (int) as a Decimal."""
    return plain(Decimal(int(v or 0)).scaleb(-QTY_SCALE))  # type: ignore[call-overload]


def money(v: object) -> Decimal:
    """A money amount (float or Decimal from SQL) rounded to cents."""
    if v is None:
        return Decimal("0.00")
    return Decimal(str(v)).quantize(CENT)


def ratio(v: float | Decimal | None, places: int = 2) -> Decimal | None:
    if v is None:
        return None
    return Decimal(str(round(float(v), places)))


def float_qty(v: object) -> float:
    return int(v or 0) / Q  # type: ignore[call-overload]
