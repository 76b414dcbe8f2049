"""Stocktake: plan full, spot, cycle (ABC-driven) and sample counts; count blind; recount variances
beyond tolerance by another user; approve or reject; accuracy figures.

**Counting while the warehouse works.** Each count line stores the quantity the system expected at
that location *at the moment it was counted*: the counting transaction locks the quants of the
product/lot at the location and snapshots their on-hand (a scan refreshes the snapshot of its line;
lines never scanned are snapshotted when the location is finished). The variance is counted −
expected-at-count-time, and approval posts exactly that variance as a ledger adjustment against
``VIRT/LOSS`` (reason ``count``). A pick or a receipt between count and approval changes the stock
and the snapshot alike, never the variance: no phantom variances.

**Blind.** Expected quantities are never in what the counting services return; review and the
count detail show them only to roles with ``count.review`` (or on a count planned not blind).

**Set-based.** Planning inserts its locations with one ``INSERT … SELECT``; finishing locations,
count sheets and approval are a handful of set-based statements whatever the number of locations
(approval: lines marked with the approval id, missing quants inserted, quants locked in the ledger's
order, refusals checked in SQL, ledger rows inserted with ``INSERT … SELECT``, quants updated with
``UPDATE … FROM``). An approval writes one audit event for all its ledger entries (their id range
and totals) rather than one per entry.

**Cycle counts.** Products are classed A/B/C by sales value over the last ``sales_days`` (ledger
moves to ``VIRT/CUSTOMER`` of kind ship/move × unit cost, cumulative share ≤ 80 % A, ≤ 95 % B), a
location takes the best class of what it holds, and is due every ``cycle_days[class]`` days (or its
own ``count_frequency_days`` when that is shorter) after its last approved count. The daily list is
the due locations, most overdue first, capped at the steady-state daily rate Σ 1/frequency.

**Sample counts** estimate inventory accuracy (share of locations without variance) from a simple
random sample of locations, with a 95 % Wilson score interval (no finite-population correction,
which makes the interval slightly conservative).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session

from wsms_tui import audit, ledger
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import (
    VIRTUAL_USAGES,
    LedgerEntry,
    Location,
    LocationUsage,
    Lot,
    Product,
    Quant,
    Tracking,
    User,
    Warehouse,
)
from wsms_tui.db.models_stocktake import (
    CountApproval,
    CountEntry,
    CountIssue,
    CountLine,
    CountLocation,
    CountSession,
)
from wsms_tui.db.types import QTY_SCALE, plain
from wsms_tui.errors import BadInput, NotFound, WsmsError
from wsms_tui.i18n import _
from wsms_tui.security import Actor

KINDS = ("full", "spot", "cycle", "sample")
OPEN_LOCATION_STATES = ("pending", "recount", "counted")
Z95 = 1.959963984540054
SALES_KINDS = ("ship", "move")


class SameCounter(WsmsError):
    """A recount must be done by someone other than the first counter."""


# ------------------------------------------------------------------ policy


@dataclass(frozen=True)
class Policy:
    """Tolerances and cycle-count rules (defaults; ``Settings.stocktake`` and per-count options override)."""

    tol_qty: Decimal = Decimal(0)
    tol_pct: Decimal = Decimal(0)
    tol_value: Decimal | None = None
    blind: bool = True
    cycle_days: tuple[tuple[str, int], ...] = (("A", 30), ("B", 91), ("C", 365))
    abc_a_pct: Decimal = Decimal(80)
    abc_b_pct: Decimal = Decimal(95)
    sales_days: int = 365

    def days(self, cls: str) -> int:
        return dict(self.cycle_days)[cls]

    @classmethod
    def from_settings(cls, st: Any, **overrides: Any) -> Policy:
        """From ``Settings.stocktake`` (``StocktakeSettings``), with per-count ``overrides`` (None = keep)."""
        def dec(v: Any, what: str) -> Decimal:
            d = ledger.to_qty(v, what)
            if d < 0:
                raise BadInput(_("{what} must not be negative").format(what=what))
            return d

        values = {
            "tol_qty": dec(st.tol_qty, "tol_qty"), "tol_pct": dec(st.tol_pct, "tol_pct"),
            "tol_value": None if st.tol_value in (None, "") else dec(st.tol_value, "tol_value"),
            "blind": bool(st.blind),
            "cycle_days": (("A", int(st.cycle_days_a)), ("B", int(st.cycle_days_b)), ("C", int(st.cycle_days_c))),
            "abc_a_pct": dec(st.abc_a_pct, "abc_a_pct"), "abc_b_pct": dec(st.abc_b_pct, "abc_b_pct"),
            "sales_days": int(st.sales_days),
        }
        for key, value in overrides.items():
            if value is not None:
                values[key] = dec(value, key) if key in ("tol_qty", "tol_pct", "tol_value") else value
        if any(d <= 0 for _c, d in values["cycle_days"]):
            raise BadInput(_("cycle-count frequencies are days above zero"))
        return cls(**values)


DEFAULT_POLICY = Policy()


# ------------------------------------------------------------------ views


@dataclass(frozen=True)
class CountSummary:
    ref: str
    kind: str
    warehouse: str
    scope: str
    status: str
    blind: bool
    created_at: datetime
    created_by: str
    locations: int
    pending: int
    recount: int
    counted: int
    approved: int
    rejected: int
    skipped: int = 0  # when planned: locations left out because another open count has them


@dataclass(frozen=True)
class CountedLine:
    """A line as the counter may see it: what was counted, never what was expected."""

    sku: str
    name: str
    lot: str | None
    counted: Decimal
    unexpected: bool


@dataclass(frozen=True)
class LocationState:
    ref: str
    location: str
    status: str
    round: int
    counted_by: str | None
    lines: list[CountedLine]


@dataclass(frozen=True)
class ScanResult:
    ref: str
    location: str
    sku: str
    name: str
    lot: str | None
    qty: Decimal
    counted: Decimal
    round: int
    unexpected: bool
    replayed: bool = False


@dataclass(frozen=True)
class LocationDone:
    ref: str
    location: str
    status: str  # counted | recount
    lines: int
    needs_recount: bool


@dataclass(frozen=True)
class ReviewLine:
    location: str
    status: str
    sku: str
    name: str
    lot: str | None
    expected: Decimal | None  # None when hidden from this actor (blind)
    counted: Decimal
    recount_expected: Decimal | None
    recount: Decimal | None
    variance: Decimal | None
    value: Decimal | None
    counted_by: str | None
    recount_by: str | None
    unexpected: bool
    note: str


@dataclass(frozen=True)
class CountLocationView:
    location: str
    status: str
    abc: str
    counted_by: str | None
    recount_by: str | None
    has_variance: bool
    note: str


@dataclass(frozen=True)
class IssueView:
    at: datetime
    location: str | None
    kind: str
    message: str
    raw_scan: str
    actor: str


@dataclass(frozen=True)
class Decision:
    ref: str
    decision: str
    locations: int
    entries: int
    held: list[str] = field(default_factory=list)  # "A-01: reason" for locations left undecided
    closed: bool = False


@dataclass(frozen=True)
class Accuracy:
    ref: str
    kind: str
    status: str
    locations_counted: int
    locations_accurate: int
    lines_counted: int
    lines_accurate: int
    value_expected: Decimal
    value_abs_variance: Decimal
    value_net_variance: Decimal
    population: int | None
    ci_low: float | None
    ci_high: float | None

    @property
    def location_accuracy(self) -> float | None:
        return self.locations_accurate / self.locations_counted if self.locations_counted else None

    @property
    def value_accuracy(self) -> float | None:
        if not self.value_expected:
            return None
        return max(0.0, 1.0 - float(self.value_abs_variance / self.value_expected))


@dataclass(frozen=True)
class CycleDue:
    location: str
    warehouse: str
    abc: str
    frequency_days: int
    last_counted: date | None
    days_since: int | None


@dataclass(frozen=True)
class SheetReport:
    ref: str
    locations: int
    lines: int
    recount: int


# ------------------------------------------------------------------ helpers


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion (``z`` = 1.96: 95 %)."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, center - half), min(1.0, center + half))


def _null(type_: Any) -> Any:
    """A typed NULL for INSERT … SELECT (PostgreSQL cannot guess the type of a bare NULL under DISTINCT)."""
    return cast(null(), type_)


def _now() -> datetime:
    return audit.utcnow()


def _session(s: Session, ref: str, *, lock: bool = False) -> CountSession:
    q = select(CountSession).where(CountSession.ref == ref.strip())
    if lock:
        q = q.with_for_update()
    cs = s.execute(q).scalars().first()
    if cs is None:
        raise NotFound(_("no count {ref}").format(ref=ref))
    return cs


def _open_session(s: Session, ref: str) -> CountSession:
    cs = _session(s, ref)
    if cs.status != "open":
        raise BadInput(_("count {ref} is {status}").format(ref=cs.ref, status=cs.status))
    return cs


def _stock_location(s: Session, ref: str) -> tuple[int, str, int | None]:
    row = s.execute(select(Location.id, Location.code, Location.warehouse_id, Location.usage)
                    .where(or_(Location.code == ref, Location.barcode == ref))).first()
    if row is None:
        raise NotFound(_("no location {ref}").format(ref=ref))
    if row.usage != LocationUsage.INTERNAL:
        raise BadInput(_("{code} is not a stock location").format(code=row.code))
    return row.id, row.code, row.warehouse_id


def _warehouse_id(s: Session, code: str | None) -> int | None:
    if not code:
        return None
    wid = s.execute(select(Warehouse.id).where(Warehouse.code == code)).scalar()
    if wid is None:
        raise NotFound(_("no warehouse {code}").format(code=code))
    return wid


def _user_names(s: Session) -> dict[int, str]:
    return dict(s.execute(select(User.id, User.name)).all())  # type: ignore[arg-type]


def _see_expected(actor: Actor, blind: bool) -> bool:
    return actor.can("count.review") or not blind


def _insert(s: Session, table: Any) -> Any:
    return postgresql.insert(table) if s.get_bind().dialect.name == "postgresql" else sqlite.insert(table)


def _loss_id(s: Session) -> int:
    return s.execute(select(Location.id).where(Location.code == ledger.LOSS)).scalar_one()


def _customer_id(s: Session) -> int:
    return s.execute(select(Location.id).where(Location.code == ledger.CUSTOMER)).scalar_one()


def _record_issue(s: Session, actor: Actor, session_id: int, location_id: int | None, kind: str, message: str,
                  raw: str) -> None:
    at = _now()
    s.execute(insert(CountIssue).values(session_id=session_id, location_id=location_id, kind=kind, message=message,
                                        raw_scan=raw[:512], actor_id=actor.user_id, at=at))
    audit.record(s, actor, "scan.rejected" if kind != "unexpected_product" else "count.flagged",
                 "desk:stocktake", {"raw": raw[:512].encode("unicode_escape").decode("ascii"),
                                     "reason": message, "kind": kind}, at=at)


def record_issue(db: Database, actor: Actor, ref: str, *, kind: str, message: str, raw: str,
                 location: str | None = None) -> None:
    """Keep a refused scan of a count for the supervisor's review (and in the audit log)."""

    def work(s: Session) -> None:
        cs = _session(s, ref)
        loc_id = None
        if location:
            loc_id = s.execute(select(Location.id).where(Location.code == location)).scalar()
        _record_issue(s, actor, cs.id or 0, loc_id, kind, message, raw)

    db.write(work)


# ------------------------------------------------------------------ planning


def _new_session(s: Session, actor: Actor, *, kind: str, warehouse_id: int | None, scope: str, policy: Policy,
                 seed: int | None = None, population: int | None = None) -> CountSession:
    cs = CountSession(ref=f"tmp-{random.getrandbits(48):x}", kind=kind, warehouse_id=warehouse_id, scope=scope,
                      status="open", blind=policy.blind, tol_qty=policy.tol_qty, tol_pct=policy.tol_pct,
                      tol_value=policy.tol_value, sample_seed=seed, sample_population=population,
                      created_by=actor.user_id, created_at=_now())
    s.add(cs)
    s.flush()
    cs.ref = f"CNT-{cs.id:06d}"
    s.flush()
    return cs


def _busy_elsewhere(loc_id_col: Any) -> Any:
    """True for a location already in an open count and not yet decided there."""
    other = aliased(CountLocation)
    return exists().where(other.location_id == loc_id_col, other.status.in_(OPEN_LOCATION_STATES),  # type: ignore[attr-defined]
                          other.session_id == CountSession.id, CountSession.status == "open")


def _add_locations(s: Session, cs: CountSession, candidates: Any, *, abc: Any = None) -> tuple[int, int]:
    """Insert the count's locations from ``candidates`` (a select of location id, code, aisle, bay, level)
    in walking order, leaving out those busy in another open count; returns (added, skipped)."""
    sub = candidates.subquery()
    total = int(s.execute(select(func.count()).select_from(sub)).scalar_one())
    free = select(sub.c.id, sub.c.abc if abc is not None else literal("").label("abc"),
                  sub.c.aisle, sub.c.bay, sub.c.level, sub.c.code).where(~_busy_elsewhere(sub.c.id)).subquery()
    seq = func.row_number().over(order_by=(free.c.aisle, free.c.bay, free.c.level, free.c.code))
    ins = insert(CountLocation.__table__).from_select(
        ["session_id", "location_id", "seq", "status", "abc", "has_variance", "note"],
        select(literal(cs.id), free.c.id, seq, literal("pending"), free.c.abc, false(), literal("")))
    s.execute(ins)
    # (the rowcount of INSERT … SELECT is not reliable through every driver: count what is there)
    added = int(s.execute(select(func.count()).select_from(CountLocation)
                          .where(CountLocation.session_id == cs.id)).scalar_one())
    if added <= 0:
        raise BadInput(_("nothing to count: no free stock location matches (each location is in at most one "
                         "open count)"))
    return added, total - added


def _stock_locations(warehouse_id: int | None) -> Any:
    q = (select(Location.id, Location.code, Location.aisle, Location.bay, Location.level)
         .where(Location.usage == LocationUsage.INTERNAL, Location.active == true()))
    if warehouse_id is not None:
        q = q.where(Location.warehouse_id == warehouse_id)
    return q


def _planned(db: Database, actor: Actor, kind: str, build: Any) -> CountSummary:
    require(db, actor, "count.plan", f"count:{kind}")

    def work(s: Session) -> tuple[str, int]:
        cs, skipped = build(s)
        audit.record(s, actor, "count.plan", f"count:{cs.ref}", {"kind": kind, "scope": cs.scope,
                                                                  "skipped": skipped, "blind": cs.blind})
        return cs.ref, skipped

    ref, skipped = db.write(work)
    summary = _summaries(db, ref=ref)[0]
    return CountSummary(**{**summary.__dict__, "skipped": skipped})


def plan_full(db: Database, actor: Actor, *, warehouse: str | None, zone: str | None = None,
              aisle: str | None = None, policy: Policy = DEFAULT_POLICY) -> CountSummary:
    """Count every stock location of a warehouse (or of one zone / aisle of it; ``None``: every warehouse)."""

    def build(s: Session) -> tuple[CountSession, int]:
        wid = _warehouse_id(s, warehouse)
        q = _stock_locations(wid)
        scope = warehouse or _("all warehouses")
        if zone:
            q, scope = q.where(Location.zone == zone), f"{scope} zone {zone}"
        if aisle:
            q, scope = q.where(Location.aisle == aisle), f"{scope} aisle {aisle}"
        cs = _new_session(s, actor, kind="full", warehouse_id=wid, scope=scope, policy=policy)
        _a, skipped = _add_locations(s, cs, q)
        return cs, skipped

    return _planned(db, actor, "full", build)


def plan_spot(db: Database, actor: Actor, *, locations: Sequence[str] = (), skus: Sequence[str] = (),
              warehouse: str | None = None, policy: Policy = DEFAULT_POLICY) -> CountSummary:
    """Count chosen locations, and every location holding one of the chosen products."""
    if not locations and not skus:
        raise BadInput(_("a spot count needs locations or SKUs"))

    def build(s: Session) -> tuple[CountSession, int]:
        wid = _warehouse_id(s, warehouse)
        ids: set[int] = set()
        for code in locations:
            ids.add(_stock_location(s, code)[0])
        pids = []
        for sku in skus:
            pids.append(ledger.product_ref(s, sku).id)
        conds = []
        if ids:
            conds.append(Location.id.in_(ids))  # type: ignore[union-attr]
        if pids:
            conds.append(exists().where(Quant.location_id == Location.id, Quant.product_id.in_(pids),  # type: ignore[attr-defined]
                                        Quant.on_hand != 0))
        q = _stock_locations(wid).where(or_(*conds))
        scope = ", ".join([*locations, *skus])[:500]
        cs = _new_session(s, actor, kind="spot", warehouse_id=wid, scope=scope, policy=policy)
        _a, skipped = _add_locations(s, cs, q)
        return cs, skipped

    return _planned(db, actor, "spot", build)


def plan_sample(db: Database, actor: Actor, *, warehouse: str, size: int, seed: int | None = None,
                policy: Policy = DEFAULT_POLICY) -> CountSummary:
    """Count a simple random sample of ``size`` stock locations (reproducible from ``seed``)."""
    if size <= 0:
        raise BadInput(_("a sample needs at least one location"))
    seed = random.SystemRandom().randrange(1, 2**31) if seed is None else seed

    def build(s: Session) -> tuple[CountSession, int]:
        wid = _warehouse_id(s, warehouse)
        population = sorted(s.execute(_stock_locations(wid).with_only_columns(Location.id)).scalars().all())
        if not population:
            raise BadInput(_("warehouse {w} has no stock locations").format(w=warehouse))
        chosen = random.Random(seed).sample(population, min(size, len(population)))
        cs = _new_session(s, actor, kind="sample", warehouse_id=wid,
                          scope=_("{w}: {n} of {N} locations, seed {seed}").format(
                              w=warehouse, n=len(chosen), N=len(population), seed=seed),
                          policy=policy, seed=seed, population=len(population))
        _a, skipped = _add_locations(s, cs, _stock_locations(wid).where(Location.id.in_(chosen)))  # type: ignore[union-attr]
        return cs, skipped

    return _planned(db, actor, "sample", build)


# ------------------------------------------------------------------ cycle counts (ABC)


def _abc_query(s: Session, *, warehouse_id: int | None, day: date, policy: Policy) -> Any:
    """(location id, code, aisle, bay, level, warehouse, abc, frequency, last counted, days since) of every
    stock location, in SQL: sales value per product → ABC class → best class per location."""
    customer = _customer_id(s)
    since = datetime.combine(day - timedelta(days=policy.sales_days), datetime.min.time(), tzinfo=UTC)
    until = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    raw_qty = literal_column("ledger_entry.qty")
    sales = (select(LedgerEntry.product_id.label("pid"), func.sum(cast(raw_qty, Float)).label("q"))
             .where(LedgerEntry.to_location_id == customer, LedgerEntry.kind.in_(SALES_KINDS),  # type: ignore[attr-defined]
                    LedgerEntry.at >= since, LedgerEntry.at < until))
    if warehouse_id is not None:
        src = aliased(Location)
        sales = sales.join(src, src.id == LedgerEntry.from_location_id).where(src.warehouse_id == warehouse_id)
    sales_sq = sales.group_by(LedgerEntry.product_id).subquery()
    value = (sales_sq.c.q * cast(literal_column("product.unit_cost"), Float)).label("v")
    valued = (select(Product.id.label("pid"), value).join(sales_sq, sales_sq.c.pid == Product.id)).subquery()
    cum = func.sum(valued.c.v).over(order_by=(valued.c.v.desc(), valued.c.pid))
    tot = func.sum(valued.c.v).over()
    ranked = select(valued.c.pid, valued.c.v, (cum - valued.c.v).label("before"), tot.label("total")).subquery()
    a, b = float(policy.abc_a_pct) / 100, float(policy.abc_b_pct) / 100
    cls = case((ranked.c.v <= 0, "C"), (ranked.c.before < ranked.c.total * a, "A"),
               (ranked.c.before < ranked.c.total * b, "B"), else_="C")
    classes = select(ranked.c.pid, cls.label("abc")).subquery()
    held = (select(Quant.location_id.label("lid"), func.min(classes.c.abc).label("abc"))
            .join(classes, classes.c.pid == Quant.product_id).where(Quant.on_hand > 0)
            .group_by(Quant.location_id)).subquery()
    loc_abc = func.coalesce(held.c.abc, "C")
    cls_days = case(*((loc_abc == c, d) for c, d in policy.cycle_days), else_=policy.days("C"))
    freq = case((and_(Location.count_frequency_days.is_not(None), Location.count_frequency_days > 0,  # type: ignore[union-attr]
                      Location.count_frequency_days < cls_days), Location.count_frequency_days), else_=cls_days)
    last = (select(CountLocation.location_id.label("lid"),
                   func.max(func.coalesce(CountLocation.recount_at, CountLocation.counted_at)).label("at"))
            .where(CountLocation.status == "approved").group_by(CountLocation.location_id)).subquery()
    if s.get_bind().dialect.name == "sqlite":
        days_since = cast(func.julianday(day.isoformat()) - func.julianday(func.date(last.c.at)), Float)
    else:
        days_since = cast(literal(day) - func.date(func.timezone("UTC", last.c.at)), Float)
    q = (select(Location.id, Location.code, Location.aisle, Location.bay, Location.level,
                func.coalesce(Warehouse.code, "").label("warehouse"), loc_abc.label("abc"), freq.label("freq"),
                last.c.at.label("last_at"), days_since.label("days_since"))
         .join(Warehouse, Warehouse.id == Location.warehouse_id)
         .outerjoin(held, held.c.lid == Location.id)
         .outerjoin(last, last.c.lid == Location.id)
         .where(Location.usage == LocationUsage.INTERNAL, Location.active == true()))
    if warehouse_id is not None:
        q = q.where(Location.warehouse_id == warehouse_id)
    return q


def _due_query(s: Session, *, warehouse_id: int | None, day: date, policy: Policy, limit: int | None) -> Any:
    """The due locations, most overdue first, in one statement: without ``limit``, capped at the
    steady-state daily rate Σ 1/frequency (a window over every location in scope)."""
    base = _abc_query(s, warehouse_id=warehouse_id, day=day, policy=policy).subquery()
    freq = cast(base.c.freq, Float)
    eligible = case((and_(or_(base.c.last_at.is_(None), base.c.days_since >= base.c.freq),
                          ~_busy_elsewhere(base.c.id)), 1), else_=0)
    overdue = case((base.c.last_at.is_(None), 1e9), else_=base.c.days_since / freq)
    ranked = select(base, eligible.label("eligible"),
                    func.row_number().over(partition_by=eligible, order_by=(overdue.desc(), base.c.abc, base.c.code))
                    .label("rn"),
                    func.sum(1.0 / freq).over().label("rate")).subquery()
    cap = ranked.c.rn <= limit if limit is not None else ranked.c.rn - 1 < ranked.c.rate  # rn <= ceil(rate)
    return select(ranked).where(ranked.c.eligible == 1, cap).order_by(ranked.c.rn)


def cycle_list(db: Database, actor: Actor, *, warehouse: str | None = None, day: date | None = None,
               limit: int | None = None, policy: Policy = DEFAULT_POLICY) -> list[CycleDue]:
    """Today's cycle-count list: due locations, most overdue first, capped at the daily rate (or ``limit``)."""
    require(db, actor, "count.view")
    day = day or _now().date()  # days are UTC days, like the ledger times they are compared with

    def work(s: Session) -> list[CycleDue]:
        wid = _warehouse_id(s, warehouse)
        rows = s.execute(_due_query(s, warehouse_id=wid, day=day, policy=policy, limit=limit)).all()
        return [CycleDue(r.code, r.warehouse, r.abc, int(r.freq),
                         audit.as_utc(r.last_at).date() if isinstance(r.last_at, datetime) else None,
                         None if r.days_since is None else int(r.days_since)) for r in rows]

    return db.read(work)


def abc_classes(db: Database, actor: Actor, *, warehouse: str | None = None, day: date | None = None,
                policy: Policy = DEFAULT_POLICY) -> dict[str, int]:
    """How many stock locations fall in each ABC class (for the CLI and the desk)."""
    require(db, actor, "count.view")
    day = day or _now().date()  # days are UTC days, like the ledger times they are compared with

    def work(s: Session) -> dict[str, int]:
        base = _abc_query(s, warehouse_id=_warehouse_id(s, warehouse), day=day, policy=policy).subquery()
        out = {"A": 0, "B": 0, "C": 0}
        out.update({k: int(v) for k, v in s.execute(select(base.c.abc, func.count()).group_by(base.c.abc))})
        return out

    return db.read(work)


def plan_cycle(db: Database, actor: Actor, *, warehouse: str, day: date | None = None, limit: int | None = None,
               policy: Policy = DEFAULT_POLICY) -> CountSummary:
    """Plan today's cycle-count list of a warehouse as a count."""
    day = day or _now().date()  # days are UTC days, like the ledger times they are compared with

    def build(s: Session) -> tuple[CountSession, int]:
        wid = _warehouse_id(s, warehouse)
        due = _due_query(s, warehouse_id=wid, day=day, policy=policy, limit=limit).subquery()
        cs = _new_session(s, actor, kind="cycle", warehouse_id=wid,
                          scope=_("{w} cycle list of {d}").format(w=warehouse, d=day.isoformat()), policy=policy)
        _a, skipped = _add_locations(s, cs, select(due.c.id, due.c.code, due.c.aisle, due.c.bay, due.c.level,
                                                   due.c.abc), abc=True)
        return cs, skipped

    return _planned(db, actor, "cycle", build)


# ------------------------------------------------------------------ listing


def _summaries(db: Database, *, ref: str | None = None, status: str | None = None,
               limit: int = 200) -> list[CountSummary]:
    def work(s: Session) -> list[CountSummary]:
        agg = (select(CountLocation.session_id.label("sid"), func.count().label("n"),
                      *(func.sum(case((CountLocation.status == st, 1), else_=0)).label(st)
                        for st in ("pending", "recount", "counted", "approved", "rejected")))
               .group_by(CountLocation.session_id).subquery())
        q = (select(CountSession, func.coalesce(Warehouse.code, "").label("wh"), User.name, agg)
             .outerjoin(Warehouse, Warehouse.id == CountSession.warehouse_id)
             .join(User, User.id == CountSession.created_by)
             .outerjoin(agg, agg.c.sid == CountSession.id))
        if ref:
            q = q.where(CountSession.ref == ref.strip())
        if status and status != "all":
            q = q.where(CountSession.status == status)
        q = q.order_by(CountSession.id.desc()).limit(limit)  # type: ignore[union-attr]
        out = []
        for row in s.execute(q):
            cs = row[0]
            out.append(CountSummary(cs.ref, cs.kind, row.wh, cs.scope, cs.status, cs.blind,
                                    audit.as_utc(cs.created_at), row.name, int(row.n or 0), int(row.pending or 0),
                                    int(row.recount or 0), int(row.counted or 0), int(row.approved or 0),
                                    int(row.rejected or 0)))
        if ref and not out:
            raise NotFound(_("no count {ref}").format(ref=ref))
        return out

    return db.read(work)


def list_counts(db: Database, actor: Actor, *, status: str | None = "open", limit: int = 200) -> list[CountSummary]:
    """Counts, newest first (``status``: open, closed, cancelled or all)."""
    require(db, actor, "count.view")
    return _summaries(db, status=status, limit=limit)


def count_summary(db: Database, actor: Actor, ref: str) -> CountSummary:
    require(db, actor, "count.view")
    return _summaries(db, ref=ref)[0]


def count_locations(db: Database, actor: Actor, ref: str, *, status: str | None = None,
                    limit: int = 500) -> list[CountLocationView]:
    """The locations of a count in walking order, with their state (no quantities)."""
    require(db, actor, "count.view")

    def work(s: Session) -> list[CountLocationView]:
        cs = _session(s, ref)
        names = _user_names(s)
        q = (select(CountLocation, Location.code).join(Location, Location.id == CountLocation.location_id)
             .where(CountLocation.session_id == cs.id))
        if status:
            q = q.where(CountLocation.status == status)
        rows = s.execute(q.order_by(CountLocation.seq).limit(limit)).all()
        see = _see_expected(actor, cs.blind)
        return [CountLocationView(code, cl.status, cl.abc, names.get(cl.counted_by or 0),
                                  names.get(cl.recount_by or 0), bool(cl.has_variance) if see else False, cl.note)
                for cl, code in rows]

    return db.read(work)


# ------------------------------------------------------------------ counting


def _count_location(s: Session, cs: CountSession, location: str, actor: Actor, raw: str,
                    *, lock: bool = True) -> tuple[CountLocation, str]:
    loc_id, code, _wid = _stock_location(s, location)
    q = select(CountLocation).where(CountLocation.session_id == cs.id, CountLocation.location_id == loc_id)
    if lock:
        q = q.with_for_update()
    cl = s.execute(q).scalars().first()
    if cl is None:
        raise BadInput(_("location {loc} is not in count {ref}").format(loc=code, ref=cs.ref))
    return cl, code


def _check_countable(cl: CountLocation, code: str, cs: CountSession, actor: Actor, names: dict[int, str]) -> int:
    """The round (1 = count, 2 = recount) ``actor`` may count at this location, or a refusal."""
    if cl.status == "pending":
        return 1
    if cl.status == "recount":
        if cl.counted_by == actor.user_id:
            raise SameCounter(_("{loc} needs a recount by someone other than {who}, who counted it first").format(
                loc=code, who=actor.name))
        return 2
    if cl.status == "counted":
        raise BadInput(_("{loc} is already counted in {ref}; it waits for the supervisor").format(
            loc=code, ref=cs.ref))
    raise BadInput(_("{loc} is already {status} in {ref}").format(loc=code, status=cl.status, ref=cs.ref))


def start_location(db: Database, actor: Actor, ref: str, location: str, *, raw: str = "") -> LocationState:
    """Check a location may be counted now by ``actor`` (refusals are recorded for review); return what this
    round has counted there so far (never the expected quantities)."""
    require(db, actor, "count.count", f"count:{ref}")

    def work(s: Session) -> LocationState | WsmsError:
        cs = _open_session(s, ref)
        names = _user_names(s)
        try:
            cl, code = _count_location(s, cs, location, actor, raw, lock=False)
            rnd = _check_countable(cl, code, cs, actor, names)
        except SameCounter as exc:
            _record_issue(s, actor, cs.id or 0, None, "same_counter_recount", str(exc), raw or location)
            return exc
        except (BadInput, NotFound) as exc:
            kind = "location_not_in_count" if "not in count" in str(exc) else "bad_location"
            _record_issue(s, actor, cs.id or 0, None, kind, str(exc), raw or location)
            return exc
        return LocationState(cs.ref, code, cl.status, rnd, names.get(cl.counted_by or 0),
                             _counted_lines(s, cl, rnd))

    out = db.write(work)
    if isinstance(out, WsmsError):
        raise out
    return out


def _counted_lines(s: Session, cl: CountLocation, rnd: int) -> list[CountedLine]:
    qty = CountLine.counted_qty if rnd == 1 else CountLine.recount_qty
    rows = s.execute(select(Product.sku, Product.name, Lot.lot_no, qty, CountLine.unexpected)
                     .join(Product, Product.id == CountLine.product_id).outerjoin(Lot, Lot.id == CountLine.lot_id)
                     .where(CountLine.count_location_id == cl.id, qty.is_not(None), qty != 0)  # type: ignore[union-attr]
                     .order_by(CountLine.id)).all()
    return [CountedLine(sku, name, lot, q, bool(unexp)) for sku, name, lot, q, unexp in rows]


def location_state(db: Database, actor: Actor, ref: str, location: str) -> LocationState:
    require(db, actor, "count.view")

    def work(s: Session) -> LocationState:
        cs = _session(s, ref)
        cl, code = _count_location(s, cs, location, actor, "", lock=False)
        rnd = 2 if cl.status == "recount" or cl.recount_by else 1
        return LocationState(cs.ref, code, cl.status, rnd, _user_names(s).get(cl.counted_by or 0),
                             _counted_lines(s, cl, rnd))

    return db.read(work)


def _snapshot(s: Session, product_id: int, location_id: int, lot_id: int | None) -> Decimal:
    """On hand of a product/lot at a location now, its quants locked (the count's expected quantity)."""
    rows = s.execute(select(Quant.on_hand).where(
        Quant.product_id == product_id, Quant.location_id == location_id,
        func.coalesce(Quant.lot_id, 0) == (lot_id or 0)).order_by(func.coalesce(Quant.package_id, 0))
        .with_for_update()).scalars().all()
    return sum(rows, Decimal(0))


def _resolve_lot(s: Session, actor: Actor, cs: CountSession, prod: Any, lot: str | None, loc_id: int,
                 raw: str) -> tuple[int | None, str | None] | WsmsError:
    if prod.tracking == Tracking.NONE:
        if lot:
            return BadInput(_("{sku} is not lot- or serial-tracked; leave the lot empty").format(sku=prod.sku))
        return None, None
    if not lot:
        what = _("serial number") if prod.tracking == Tracking.SERIAL else _("lot")
        return BadInput(_("{sku} is tracked: scan or enter its {what}").format(sku=prod.sku, what=what))
    lot = lot.strip()
    lot_id = s.execute(select(Lot.id).where(Lot.product_id == prod.id, Lot.lot_no == lot)).scalar()
    if lot_id is not None:
        return lot_id, lot
    owner = s.execute(select(Product.sku).join(Lot, Lot.product_id == Product.id).where(Lot.lot_no == lot)
                      .order_by(Product.sku)).scalars().first()
    if owner is not None:
        msg = _("lot {lot} belongs to {other}, not to {sku}: scan the lot of the item in hand").format(
            lot=lot, other=owner, sku=prod.sku)
        _record_issue(s, actor, cs.id or 0, loc_id, "lot_of_other_product", msg, raw or lot)
        return BadInput(msg)
    # a lot the system never saw: counted (created), and flagged like an unexpected product
    ledger._insert_ignore(s, Lot, {"product_id": prod.id, "lot_no": lot, "expiry": None,
                                   "is_serial": prod.tracking == Tracking.SERIAL})
    lot_id = s.execute(select(Lot.id).where(Lot.product_id == prod.id, Lot.lot_no == lot)).scalar_one()
    return lot_id, lot


def count_item(db: Database, actor: Actor, ref: str, *, location: str, product: str | int, qty: object = 1,
               lot: str | None = None, mode: str = "add", op_id: str, raw_scan: str | None = None) -> ScanResult:
    """Count ``qty`` of a product (and lot/serial) at a location: ``add`` for a scan, ``set`` for a typed
    total, ``take`` to take ``qty`` back off the line (an undone scan; down to 0 at most, the entry keeps what
    was taken) — ``add`` and ``take`` work on the locked line, so another counter's scans of it meanwhile stay
    counted. One transaction: the line's expected quantity is re-snapshotted from the locked quants."""
    require(db, actor, "count.count", f"count:{ref}")
    q = ledger.to_qty(qty)
    if mode not in ("add", "set", "take"):
        raise BadInput(_("mode is add, set or take"))
    op = ledger._check_op_id(op_id)
    raw = raw_scan or ""

    def work(s: Session) -> ScanResult | WsmsError:
        cs = _open_session(s, ref)
        names = _user_names(s)
        try:
            cl, code = _count_location(s, cs, location, actor, raw)
        except (BadInput, NotFound) as exc:
            _record_issue(s, actor, cs.id or 0, None, "location_not_in_count", str(exc), raw or location)
            return exc
        prior = s.execute(select(CountEntry).where(CountEntry.op_id == op)).scalars().first()
        prod = ledger.product_ref(s, product)
        name = s.execute(select(Product.name).where(Product.id == prod.id)).scalar_one()
        if prior is not None:
            line = s.get(CountLine, prior.count_line_id)
            assert line is not None
            total = line.counted_qty if prior.round == 1 else (line.recount_qty or Decimal(0))
            return ScanResult(cs.ref, code, prod.sku, name, ledger.lot_no_of(s, line.lot_id), prior.qty, total,
                              prior.round, bool(line.unexpected), replayed=True)
        try:
            rnd = _check_countable(cl, code, cs, actor, names)
        except SameCounter as exc:
            _record_issue(s, actor, cs.id or 0, cl.location_id, "same_counter_recount", str(exc), raw)
            return exc
        except BadInput as exc:
            return exc
        got = _resolve_lot(s, actor, cs, prod, lot, cl.location_id, raw)
        if isinstance(got, WsmsError):
            return got
        lot_id, lot_no = got
        if prod.tracking == Tracking.SERIAL and q not in ((0, 1) if mode == "set" else (1,)):
            return BadInput(_("{sku} is serial-tracked: scan each serial number once").format(sku=prod.sku))
        if q < 0 or (mode != "set" and q == 0):
            return BadInput(_("a count is a quantity above zero, not {q}").format(q=q))
        expected = _snapshot(s, prod.id, cl.location_id, lot_id)
        now = _now()
        line = s.execute(select(CountLine).where(
            CountLine.count_location_id == cl.id, CountLine.product_id == prod.id,
            func.coalesce(CountLine.lot_id, 0) == (lot_id or 0))).scalars().first()
        unexpected = False
        if line is None:
            seen = s.execute(select(Quant.id).where(Quant.product_id == prod.id,
                                                    Quant.location_id == cl.location_id).limit(1)).scalar()
            unexpected = seen is None
            line = CountLine(session_id=cs.id or 0, count_location_id=cl.id or 0, location_id=cl.location_id,
                             product_id=prod.id, lot_id=lot_id, expected_qty=expected if rnd == 1 else Decimal(0),
                             counted_qty=Decimal(0), counted_at=now if rnd == 1 else None, unexpected=unexpected)
            s.add(line)
            s.flush()
            if unexpected:
                _record_issue(s, actor, cs.id or 0, cl.location_id, "unexpected_product",
                              _("{sku} was never stocked at {loc}: counted, flagged for review").format(
                                  sku=prod.sku, loc=code), raw or prod.sku)
        current = line.counted_qty if rnd == 1 else (line.recount_qty or Decimal(0))
        new = {"add": current + q, "take": max(current - q, Decimal(0)), "set": q}[mode]
        entry_q = current - new if mode == "take" else q  # taken back: what was taken, at most the count
        if prod.tracking == Tracking.SERIAL and new > 1:
            return BadInput(_("serial {lot} of {sku} is already counted here").format(lot=lot_no, sku=prod.sku))
        if rnd == 1:
            line.counted_qty, line.expected_qty, line.counted_at = new, expected, now
        else:
            line.recount_qty, line.recount_expected, line.recount_at = new, expected, now
        s.add(CountEntry(op_id=op, count_line_id=line.id or 0, round=rnd, mode=mode, qty=entry_q,
                         actor_id=actor.user_id, terminal=actor.terminal, at=now, raw_scan=raw[:2000] or None))
        s.flush()
        audit.record(s, actor, "count.scan", f"count:{cs.ref}", {
            "location": code, "sku": prod.sku, "lot": lot_no, "qty": str(entry_q), "mode": mode, "round": rnd,
            "op_id": op}, at=now)
        return ScanResult(cs.ref, code, prod.sku, name, lot_no, entry_q, new, rnd,
                          bool(line.unexpected or unexpected))

    try:
        out = db.write(work)
    except IntegrityError:  # a concurrent twin with the same op_id won: replay it
        out = db.write(work)
    if isinstance(out, WsmsError):
        raise out
    return out


def _lock_locations(s: Session, ids: Iterable[int]) -> None:
    ids = sorted(set(ids))
    if ids and s.get_bind().dialect.name == "postgresql":
        s.execute(select(CountLocation.id).where(CountLocation.id.in_(ids))  # type: ignore[union-attr]
                  .order_by(CountLocation.id).with_for_update())
        # the quants of those locations, in the ledger's lock order, so every snapshot below is current
        s.execute(select(Quant.id).where(Quant.location_id.in_(  # type: ignore[attr-defined]
            select(CountLocation.location_id).where(CountLocation.id.in_(ids))))  # type: ignore[union-attr]
            .order_by(Quant.product_id, Quant.location_id, func.coalesce(Quant.lot_id, 0),
                      func.coalesce(Quant.package_id, 0)).with_for_update())


def _finish(s: Session, cs: CountSession, actor: Actor, ids: list[int]) -> None:
    """Finish the given count locations (set-based): snapshot the lines nobody scanned (counted 0), set each
    line's variance, and mark each location counted — or ``recount`` when a first count is beyond tolerance."""
    if not ids:
        return
    _lock_locations(s, ids)
    now = _now()
    states = dict(s.execute(select(CountLocation.id, CountLocation.status)
                            .where(CountLocation.id.in_(ids))).all())  # type: ignore[union-attr]
    onhand = func.sum(Quant.on_hand)
    ts = CountLine.__table__.c.counted_at.type  # type: ignore[attr-defined]
    line_exists = exists().where(CountLine.count_location_id == CountLocation.id,
                                 CountLine.product_id == Quant.product_id,
                                 func.coalesce(CountLine.lot_id, 0) == func.coalesce(Quant.lot_id, 0))
    for status, rnd in (("pending", 1), ("recount", 2)):
        these = [i for i in ids if states.get(i) == status]
        if not these:
            continue
        in_round = CountLocation.id.in_(these)  # type: ignore[union-attr]
        sel = (select(literal(cs.id), CountLocation.id, Quant.location_id, Quant.product_id, Quant.lot_id,
                      onhand if rnd == 1 else literal(0), literal(0),
                      literal(now) if rnd == 1 else _null(ts), _null(BigInteger) if rnd == 1 else onhand,
                      _null(BigInteger) if rnd == 1 else literal(0), _null(ts) if rnd == 1 else literal(now),
                      false())
               .join(Quant, Quant.location_id == CountLocation.location_id)
               .where(in_round, ~line_exists)
               .group_by(CountLocation.id, Quant.location_id, Quant.product_id, Quant.lot_id)
               .having(onhand != 0))
        s.execute(insert(CountLine.__table__).from_select(
            ["session_id", "count_location_id", "location_id", "product_id", "lot_id", "expected_qty",
             "counted_qty", "counted_at", "recount_expected", "recount_qty", "recount_at", "unexpected"], sel))
        mine = CountLine.count_location_id.in_(select(CountLocation.id).where(in_round))  # type: ignore[attr-defined]
        if rnd == 2:
            now_qty = (select(func.coalesce(func.sum(Quant.on_hand), 0))
                       .where(Quant.product_id == CountLine.product_id, Quant.location_id == CountLine.location_id,
                              func.coalesce(Quant.lot_id, 0) == func.coalesce(CountLine.lot_id, 0))
                       .scalar_subquery())
            s.execute(update(CountLine).where(mine, CountLine.recount_qty.is_(None))  # type: ignore[union-attr]
                      .values(recount_qty=0, recount_expected=now_qty, recount_at=now))
            s.execute(update(CountLine).where(mine).values(
                variance=CountLine.recount_qty - CountLine.recount_expected))
        else:
            s.execute(update(CountLine).where(mine).values(variance=CountLine.counted_qty - CountLine.expected_qty))
        any_var = exists().where(CountLine.count_location_id == CountLocation.id, CountLine.variance != 0)
        if rnd == 1:
            beyond = exists().where(CountLine.count_location_id == CountLocation.id, _beyond_tolerance(cs))
            s.execute(update(CountLocation).where(in_round).values(
                status=case((beyond, "recount"), else_="counted"), has_variance=any_var,
                counted_by=actor.user_id, counted_at=now))
        else:
            s.execute(update(CountLocation).where(in_round).values(
                status="counted", has_variance=any_var, recount_by=actor.user_id, recount_at=now))


def _beyond_tolerance(cs: CountSession) -> Any:
    """SQL: this count line's variance is beyond the count's tolerance (quantity, percent or value)."""
    var = func.abs(cast(literal_column("count_line.variance"), Float))
    exp = cast(literal_column("count_line.expected_qty"), Float)
    tol_q = float(cs.tol_qty) * 10**QTY_SCALE
    pct = float(cs.tol_pct) / 100
    qty_ok = var <= case((exp * pct > tol_q, exp * pct), else_=tol_q)
    if cs.tol_value is None:
        return and_(CountLine.variance != 0, ~qty_ok)
    cost = select(cast(literal_column("product.unit_cost"), Float)).where(
        Product.id == CountLine.product_id).scalar_subquery()
    value_ok = var * cost <= float(cs.tol_value) * 10**QTY_SCALE * 10**4
    return and_(CountLine.variance != 0, or_(~qty_ok, ~value_ok))


def finish_location(db: Database, actor: Actor, ref: str, location: str, *, empty: bool = False,
                    raw: str = "") -> LocationDone:
    """The counter is done with a location (``empty``: nothing there at all). What was not scanned counts 0."""
    require(db, actor, "count.count", f"count:{ref}")

    def work(s: Session) -> LocationDone | WsmsError:
        cs = _open_session(s, ref)
        names = _user_names(s)
        try:
            cl, code = _count_location(s, cs, location, actor, raw)
            rnd = _check_countable(cl, code, cs, actor, names)
        except SameCounter as exc:
            _record_issue(s, actor, cs.id or 0, None, "same_counter_recount", str(exc), raw or location)
            return exc
        except (BadInput, NotFound) as exc:
            return exc
        if empty and _counted_lines(s, cl, rnd):
            return BadInput(_("items were counted at {loc}: finish it instead of marking it empty").format(loc=code))
        _finish(s, cs, actor, [cl.id or 0])
        status = s.execute(select(CountLocation.status).where(CountLocation.id == cl.id)).scalar_one()
        n = int(s.execute(select(func.count()).select_from(CountLine)
                          .where(CountLine.count_location_id == cl.id)).scalar_one())
        audit.record(s, actor, "count.location", f"count:{cs.ref}", {
            "location": code, "round": rnd, "empty": empty, "status": status, "lines": n})
        return LocationDone(cs.ref, code, status, n, status == "recount")

    out = db.write(work)
    if isinstance(out, WsmsError):
        raise out
    return out


def count_sheet(db: Database, actor: Actor, ref: str, rows: Iterable[tuple[str, str, str | None, object]]
                ) -> SheetReport:
    """Enter a count sheet — (location, sku, lot, counted qty) rows, a location with no rows is empty —
    and finish every location on it, in one set-based transaction. Quantities are totals (not scans)."""
    require(db, actor, "count.count", f"count:{ref}")
    parsed: dict[str, dict[tuple[str, str | None], Decimal]] = {}
    for loc, sku, lot, qty in rows:
        q = ledger.to_qty(qty, _("count of {sku} at {loc}").format(sku=sku, loc=loc)) if sku else Decimal(0)
        if q < 0:
            raise BadInput(_("a count is never negative ({loc} {sku})").format(loc=loc, sku=sku))
        per = parsed.setdefault(loc.strip(), {})
        if sku:
            key = (sku.strip(), (lot or "").strip() or None)
            per[key] = per.get(key, Decimal(0)) + q

    def work(s: Session) -> SheetReport:
        cs = _open_session(s, ref)
        locs = {r.code: r for r in s.execute(
            select(CountLocation.id, CountLocation.status, CountLocation.counted_by, CountLocation.location_id,
                   Location.code).join(Location, Location.id == CountLocation.location_id)
            .where(CountLocation.session_id == cs.id))}
        missing = [code for code in parsed if code not in locs]
        if missing:
            raise BadInput(_("not in count {ref}: {locs}").format(ref=cs.ref, locs=", ".join(sorted(missing)[:10])))
        skus = {sku for per in parsed.values() for sku, _lot in per}
        prods = {r.sku: r for r in s.execute(select(Product.id, Product.sku, Product.tracking)
                                             .where(Product.sku.in_(skus)))}  # type: ignore[attr-defined]
        unknown = sorted(skus - prods.keys())
        if unknown:
            raise BadInput(_("unknown SKU(s): {s}").format(s=", ".join(unknown[:10])))
        lots = {(r.product_id, r.lot_no): r.id for r in s.execute(
            select(Lot.id, Lot.product_id, Lot.lot_no).where(Lot.product_id.in_([p.id for p in prods.values()])))}  # type: ignore[attr-defined]
        ids: list[int] = []
        values: list[dict[str, Any]] = []
        now = _now()
        for code, per in parsed.items():
            cl = locs[code]
            if cl.status not in ("pending", "recount"):
                raise BadInput(_("{loc} is {status} in {ref}").format(loc=code, status=cl.status, ref=cs.ref))
            if cl.status == "recount" and cl.counted_by == actor.user_id:
                raise SameCounter(_("{loc} needs a recount by someone other than {who}, who counted it first")
                                  .format(loc=code, who=actor.name))
            ids.append(cl.id)
            for (sku, lot), q in per.items():
                p = prods[sku]
                if (p.tracking == Tracking.NONE) != (lot is None):
                    raise BadInput(_("{sku} at {loc}: a lot is needed exactly for tracked products").format(
                        sku=sku, loc=code))
                lot_id = None
                if lot is not None:
                    lot_id = lots.get((p.id, lot))
                    if lot_id is None:
                        raise BadInput(_("no lot {lot} of {sku}").format(lot=lot, sku=sku))
                values.append({"cl": cl.id, "loc": cl.location_id, "p": p.id, "lot": lot_id, "q": q,
                               "rnd": 1 if cl.status == "pending" else 2})
        _lock_locations(s, ids)
        existing = {(r.count_location_id, r.product_id, r.lot_id or 0): r.id for r in s.execute(
            select(CountLine.id, CountLine.count_location_id, CountLine.product_id, CountLine.lot_id)
            .where(CountLine.count_location_id.in_(ids)))}  # type: ignore[attr-defined]
        new = [v for v in values if (v["cl"], v["p"], v["lot"] or 0) not in existing]
        if new:
            s.execute(insert(CountLine), [{
                "session_id": cs.id, "count_location_id": v["cl"], "location_id": v["loc"], "product_id": v["p"],
                "lot_id": v["lot"], "expected_qty": Decimal(0), "counted_qty": v["q"] if v["rnd"] == 1 else Decimal(0),
                "counted_at": now if v["rnd"] == 1 else None, "recount_qty": v["q"] if v["rnd"] == 2 else None,
                "recount_at": now if v["rnd"] == 2 else None, "unexpected": False} for v in new])
        for rnd, col in ((1, "counted_qty"), (2, "recount_qty")):
            upd = [{"lid": existing[(v["cl"], v["p"], v["lot"] or 0)], "q": v["q"]} for v in values
                   if v["rnd"] == rnd and (v["cl"], v["p"], v["lot"] or 0) in existing]
            if upd:
                tbl = CountLine.__table__  # type: ignore[attr-defined]
                s.execute(update(tbl).where(tbl.c.id == bindparam("lid")).values(
                    {col: bindparam("q", type_=tbl.c[col].type)}), upd)
        # expected at count time: one set-based snapshot of every line on the sheet
        now_qty = (select(func.coalesce(func.sum(Quant.on_hand), 0))
                   .where(Quant.product_id == CountLine.product_id, Quant.location_id == CountLine.location_id,
                          func.coalesce(Quant.lot_id, 0) == func.coalesce(CountLine.lot_id, 0)).scalar_subquery())
        pending = {r.id for r in locs.values() if r.status == "pending"}
        first = CountLine.count_location_id.in_([i for i in ids if i in pending])  # type: ignore[attr-defined]
        second = CountLine.count_location_id.in_([i for i in ids if i not in pending])  # type: ignore[attr-defined]
        s.execute(update(CountLine).where(first).values(expected_qty=now_qty, counted_at=now))
        s.execute(update(CountLine).where(second, CountLine.recount_qty.is_not(None))  # type: ignore[union-attr]
                  .values(recount_expected=now_qty, recount_at=now))
        seen = exists().where(Quant.product_id == CountLine.product_id, Quant.location_id == CountLine.location_id)
        s.execute(update(CountLine).where(CountLine.count_location_id.in_(ids), ~seen)  # type: ignore[attr-defined]
                  .values(unexpected=True))
        _finish(s, cs, actor, ids)
        recount = int(s.execute(select(func.count()).select_from(CountLocation).where(
            CountLocation.id.in_(ids), CountLocation.status == "recount")).scalar_one())  # type: ignore[union-attr]
        audit.record(s, actor, "count.sheet", f"count:{cs.ref}", {"locations": len(ids), "lines": len(values),
                                                                   "recount": recount})
        return SheetReport(cs.ref, len(ids), len(values), recount)

    return db.write(work)


# ------------------------------------------------------------------ review and approval


def review(db: Database, actor: Actor, ref: str, *, only_variances: bool = True,
           status: Sequence[str] = ("counted", "recount", "approved", "rejected"), limit: int | None = 2000
           ) -> list[ReviewLine]:
    """Count lines for the supervisor: expected (at count time), counted, recount, variance and its value; the
    first ``limit`` in walking order (None: all of them)."""
    require(db, actor, "count.review", f"count:{ref}")

    def work(s: Session) -> list[ReviewLine]:
        cs = _session(s, ref)
        names = _user_names(s)
        q = (select(CountLine, CountLocation.status, CountLocation.counted_by, CountLocation.recount_by,
                    CountLocation.note, Location.code, Product.sku, Product.name, Product.unit_cost, Lot.lot_no)
             .join(CountLocation, CountLocation.id == CountLine.count_location_id)
             .join(Location, Location.id == CountLine.location_id)
             .join(Product, Product.id == CountLine.product_id)
             .outerjoin(Lot, Lot.id == CountLine.lot_id)
             .where(CountLine.session_id == cs.id, CountLocation.status.in_(status)))  # type: ignore[attr-defined]
        if only_variances:
            q = q.where(or_(CountLine.variance != 0, CountLocation.status == "recount", CountLine.unexpected == true()))
        rows = s.execute(q.order_by(CountLocation.seq, Product.sku, CountLine.id).limit(limit)).all()
        out = []
        for ln, st, cby, rby, note, code, sku, name, cost, lot in rows:
            var = ln.variance
            out.append(ReviewLine(code, st, sku, name, lot, ln.expected_qty, ln.counted_qty, ln.recount_expected,
                                  ln.recount_qty, var, None if var is None else plain(var * cost),
                                  names.get(cby or 0), names.get(rby or 0), bool(ln.unexpected), note))
        return out

    return db.read(work)


def issues(db: Database, actor: Actor, ref: str) -> list[IssueView]:
    """Bad input recorded at the count desk, for review."""
    require(db, actor, "count.review", f"count:{ref}")

    def work(s: Session) -> list[IssueView]:
        cs = _session(s, ref)
        rows = s.execute(select(CountIssue, Location.code, User.name)
                         .outerjoin(Location, Location.id == CountIssue.location_id)
                         .join(User, User.id == CountIssue.actor_id)
                         .where(CountIssue.session_id == cs.id).order_by(CountIssue.id)).all()
        return [IssueView(audit.as_utc(i.at), code, i.kind, i.message, i.raw_scan, who) for i, code, who in rows]

    return db.read(work)


def _chosen(s: Session, cs: CountSession, locations: Sequence[str] | None, states: Sequence[str]) -> list[int]:
    q = (select(CountLocation.id).join(Location, Location.id == CountLocation.location_id)
         .where(CountLocation.session_id == cs.id, CountLocation.status.in_(states)))  # type: ignore[attr-defined]
    if locations:
        codes = [c.strip() for c in locations]
        known = set(s.execute(select(Location.code).join(CountLocation, CountLocation.location_id == Location.id)
                              .where(CountLocation.session_id == cs.id, Location.code.in_(codes))).scalars())  # type: ignore[attr-defined]
        missing = [c for c in codes if c not in known]
        if missing:
            raise BadInput(_("not in count {ref}: {locs}").format(ref=cs.ref, locs=", ".join(missing[:10])))
        q = q.where(Location.code.in_(codes))  # type: ignore[attr-defined]
    return list(s.execute(q.order_by(CountLocation.id).with_for_update(of=CountLocation)).scalars())


def approve(db: Database, actor: Actor, ref: str, *, locations: Sequence[str] | None = None) -> Decision:
    """Approve the counted locations (all, or ``locations``): post each line's variance — counted minus
    expected at count time — as an ``adjust`` to/from ``VIRT/LOSS`` with reason ``count``, set-based.

    A location whose adjustment would break a ledger invariant (negative stock, reserved above on hand,
    a serial twice in stock) is held back, with the reason, for the supervisor. The count closes when no
    location is left to count or decide."""
    require(db, actor, "count.approve", f"count:{ref}")

    def work(s: Session) -> Decision:
        cs = _session(s, ref, lock=True)
        if cs.status != "open":
            raise BadInput(_("count {ref} is {status}").format(ref=cs.ref, status=cs.status))
        ids = _chosen(s, cs, locations, ("counted",))
        if not ids:
            raise BadInput(_("nothing to approve: no location of {ref} is counted and waiting").format(ref=cs.ref)
                           if not locations else _("none of those locations is counted and waiting for approval"))
        now = _now()
        appr = CountApproval(session_id=cs.id or 0, decision="approve", actor_id=actor.user_id, at=now)
        s.add(appr)
        s.flush()
        loss = _loss_id(s)
        s.execute(update(CountLine).where(CountLine.count_location_id.in_(ids), CountLine.variance != 0,  # type: ignore[attr-defined]
                                          CountLine.ledger_entry_id.is_(None))  # type: ignore[union-attr]
                  .values(approval_id=appr.id))
        problems = _hold_invalid(s, appr.id or 0, loss)
        entries, first_id, last_id = _post_adjustments(s, cs, actor, appr.id or 0, loss, now)
        done = [i for i in ids if i not in problems]
        if done:
            s.execute(update(CountLocation).where(CountLocation.id.in_(done))  # type: ignore[union-attr]
                      .values(status="approved", decided_by=actor.user_id, decided_at=now, note=""))
        appr.locations, appr.entries = len(done), entries
        held = [f"{code}: {why}" for code, why in sorted(problems.values())]
        closed = _maybe_close(s, cs, now)
        audit.record(s, actor, "count.approve", f"count:{cs.ref}", {
            "approval": appr.id, "locations": appr.locations, "entries": entries, "first_entry": first_id,
            "last_entry": last_id, "held": held[:50], "closed": closed}, at=now)
        return Decision(cs.ref, "approve", appr.locations, entries, held, closed)

    return db.write(work)


def _hold_invalid(s: Session, approval_id: int, loss: int) -> dict[int, tuple[str, str]]:
    """Lock what the approval touches (serial lots, then quants, in the ledger's order), then take back the
    locations whose adjustment the ledger would refuse; returns count location id -> (code, why)."""
    marked = CountLine.approval_id == approval_id
    # loose quants at the location and at VIRT/LOSS must exist before they can be locked and updated
    for loc_expr in (CountLine.location_id, literal(loss)):
        have = exists().where(Quant.product_id == CountLine.product_id, Quant.location_id == loc_expr,
                              func.coalesce(Quant.lot_id, 0) == func.coalesce(CountLine.lot_id, 0),
                              Quant.package_id.is_(None))  # type: ignore[union-attr]
        src = (select(CountLine.product_id, loc_expr, CountLine.lot_id, _null(Integer), literal(0), literal(0))
               .where(marked, ~have).distinct())
        s.execute(_insert(s, Quant.__table__).from_select(
            ["product_id", "location_id", "lot_id", "package_id", "on_hand", "reserved"], src)
            .on_conflict_do_nothing())
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(Lot.id).where(Lot.is_serial == true(), Lot.id.in_(  # type: ignore[union-attr]
            select(CountLine.lot_id).where(marked))).order_by(Lot.id).with_for_update())
        touched = exists().where(marked, CountLine.product_id == Quant.product_id,
                                 func.coalesce(CountLine.lot_id, 0) == func.coalesce(Quant.lot_id, 0),
                                 or_(Quant.location_id == CountLine.location_id, Quant.location_id == loss))
        s.execute(select(Quant.id).where(Quant.package_id.is_(None), touched)  # type: ignore[union-attr]
                  .order_by(Quant.product_id, Quant.location_id, func.coalesce(Quant.lot_id, 0))
                  .with_for_update())
    problems: dict[int, tuple[str, str]] = {}  # count location id -> (code, why)
    neg = (select(CountLine.count_location_id, Location.code, Product.sku, Quant.on_hand, Quant.reserved,
                  CountLine.variance)
           .join(Quant, and_(Quant.product_id == CountLine.product_id, Quant.location_id == CountLine.location_id,
                             func.coalesce(Quant.lot_id, 0) == func.coalesce(CountLine.lot_id, 0),
                             Quant.package_id.is_(None)))  # type: ignore[union-attr]
           .join(Location, Location.id == CountLine.location_id).join(Product, Product.id == CountLine.product_id)
           .where(marked, CountLine.variance < 0,
                  or_(and_(Quant.on_hand + CountLine.variance < 0, Location.allow_negative == false()),
                      and_(Quant.reserved > 0, Quant.on_hand + CountLine.variance < Quant.reserved))))
    for cl_id, code, sku, on_hand, reserved, var in s.execute(neg):
        after = on_hand + var
        why = (_("{sku}: {r} reserved, only {a} would be left").format(sku=sku, r=reserved, a=plain(after))
               if after >= 0 else _("{sku}: only {h} loose on hand, cannot take {v}").format(
                   sku=sku, h=on_hand, v=-var))
        problems.setdefault(cl_id, (code, why))
    serial_in = (select(CountLine.count_location_id, CountLine.location_id, CountLine.lot_id, Location.code,
                        Product.sku, Lot.lot_no)
                 .join(Location, Location.id == CountLine.location_id).join(Product, Product.id == CountLine.product_id)
                 .join(Lot, Lot.id == CountLine.lot_id)
                 .where(marked, CountLine.variance > 0, Product.tracking == Tracking.SERIAL.value))
    for cl_id, loc_id, lot_id, code, sku, lot_no in s.execute(serial_in).all():
        elsewhere = s.execute(
            select(func.coalesce(func.sum(Quant.on_hand), 0)).join(Location, Location.id == Quant.location_id)
            .where(Quant.lot_id == lot_id, Quant.location_id != loc_id,
                   Location.usage.notin_([u.value for u in VIRTUAL_USAGES]))).scalar_one()  # type: ignore[attr-defined]
        leaving = s.execute(select(func.coalesce(func.sum(CountLine.variance), 0))
                            .where(marked, CountLine.lot_id == lot_id, CountLine.variance < 0)).scalar_one()
        if Decimal(elsewhere) + Decimal(leaving) > 0:
            problems.setdefault(cl_id, (code, _("serial {lot} of {sku} is in stock elsewhere: count that location "
                                                "or transfer it").format(lot=lot_no, sku=sku)))
    for cl_id, (_code, why) in problems.items():
        s.execute(update(CountLine).where(marked, CountLine.count_location_id == cl_id).values(approval_id=None))
        s.execute(update(CountLocation).where(CountLocation.id == cl_id).values(note=why[:500]))
    return problems


def _post_adjustments(s: Session, cs: CountSession, actor: Actor, approval_id: int, loss: int,
                      now: datetime) -> tuple[int, int | None, int | None]:
    """INSERT … SELECT the ledger rows of the marked lines, link them, and apply them to the quants."""
    marked = CountLine.approval_id == approval_id
    line_id_str = cast(CountLine.id, String)
    op_id = literal("count:") + literal(cs.ref) + literal(":") + line_id_str
    var = literal_column("count_line.variance")
    sel = (select(op_id, literal(now, type_=LedgerEntry.__table__.c.at.type), literal("adjust"),  # type: ignore[attr-defined]
                  literal(actor.user_id), literal(actor.terminal), CountLine.product_id,
                  case((var > 0, var), else_=-var),
                  case((var > 0, literal(loss)), else_=CountLine.location_id),
                  case((var > 0, CountLine.location_id), else_=literal(loss)),
                  CountLine.lot_id, _null(Integer), literal(cs.ref), literal("count"),
                  literal_column("product.unit_cost"), _null(String), _null(BigInteger))
           .join(Product, Product.id == CountLine.product_id).where(marked).order_by(CountLine.id))
    entries = int(s.execute(select(func.count()).select_from(CountLine).where(marked)).scalar_one())
    if not entries:
        return 0, None, None
    s.execute(insert(LedgerEntry.__table__).from_select(
        ["op_id", "at", "kind", "actor_id", "terminal", "product_id", "qty", "from_location_id", "to_location_id",
         "lot_id", "package_id", "doc_ref", "reason", "unit_cost", "raw_scan", "reverses_id"], sel))
    entry = select(LedgerEntry.id).where(LedgerEntry.op_id == op_id).scalar_subquery()
    s.execute(update(CountLine).where(marked).values(ledger_entry_id=entry))
    lo, hi = s.execute(select(func.min(CountLine.ledger_entry_id), func.max(CountLine.ledger_entry_id))
                       .where(marked)).one()
    # the quants: + variance at the location, − variance at VIRT/LOSS (set-based UPDATE … FROM)
    at_loc = (select(CountLine.product_id.label("p"), CountLine.location_id.label("l"),
                     CountLine.lot_id.label("t"), var.label("d")).where(marked))
    at_loss = (select(CountLine.product_id.label("p"), literal(loss).label("l"), CountLine.lot_id.label("t"),
                      func.sum(-var).label("d")).where(marked).group_by(CountLine.product_id, CountLine.lot_id))
    for delta in (at_loc.subquery(), at_loss.subquery()):
        s.execute(update(Quant).where(
            Quant.product_id == delta.c.p, Quant.location_id == delta.c.l,
            func.coalesce(Quant.lot_id, 0) == func.coalesce(delta.c.t, 0), Quant.package_id.is_(None))  # type: ignore[union-attr]
            .values(on_hand=literal_column("quant.on_hand") + delta.c.d))
    return entries, lo, hi


def reject(db: Database, actor: Actor, ref: str, *, locations: Sequence[str], reason: str) -> Decision:
    """Reject the variances of counted locations: nothing is posted, the stock record stays as it is."""
    require(db, actor, "count.approve", f"count:{ref}")
    if not reason.strip():
        raise BadInput(_("say why the count is rejected"))
    if not locations:
        raise BadInput(_("name the locations to reject"))

    def work(s: Session) -> Decision:
        cs = _session(s, ref, lock=True)
        if cs.status != "open":
            raise BadInput(_("count {ref} is {status}").format(ref=cs.ref, status=cs.status))
        ids = _chosen(s, cs, locations, ("counted", "recount"))
        if not ids:
            raise BadInput(_("none of those locations is counted and waiting for a decision"))
        now = _now()
        appr = CountApproval(session_id=cs.id or 0, decision="reject", actor_id=actor.user_id, at=now,
                             locations=len(ids), reason=reason.strip())
        s.add(appr)
        s.execute(update(CountLocation).where(CountLocation.id.in_(ids))  # type: ignore[union-attr]
                  .values(status="rejected", decided_by=actor.user_id, decided_at=now, note=reason.strip()[:500]))
        closed = _maybe_close(s, cs, now)
        audit.record(s, actor, "count.reject", f"count:{cs.ref}", {"locations": len(ids), "reason": reason.strip(),
                                                                    "closed": closed}, at=now)
        return Decision(cs.ref, "reject", len(ids), 0, [], closed)

    return db.write(work)


def close_count(db: Database, actor: Actor, ref: str) -> Decision:
    """Close a count early: locations never counted are left out (rejected as 'not counted'). Counted
    locations must be approved or rejected first."""
    require(db, actor, "count.approve", f"count:{ref}")

    def work(s: Session) -> Decision:
        cs = _session(s, ref, lock=True)
        if cs.status != "open":
            raise BadInput(_("count {ref} is {status}").format(ref=cs.ref, status=cs.status))
        waiting = int(s.execute(select(func.count()).select_from(CountLocation).where(
            CountLocation.session_id == cs.id, CountLocation.status == "counted")).scalar_one())
        if waiting:
            raise BadInput(_("{n} counted location(s) wait for approval or rejection first").format(n=waiting))
        now = _now()
        left = and_(CountLocation.session_id == cs.id,
                    CountLocation.status.in_(("pending", "recount")))  # type: ignore[attr-defined]
        n = int(s.execute(select(func.count()).select_from(CountLocation).where(left)).scalar_one())
        s.execute(update(CountLocation).where(left).values(
            status="rejected", decided_by=actor.user_id, decided_at=now,
            note=_("not counted when the count was closed")))
        _maybe_close(s, cs, now)
        audit.record(s, actor, "count.close", f"count:{cs.ref}", {"not_counted": n}, at=now)
        return Decision(cs.ref, "close", n, 0, [], True)

    return db.write(work)


def _maybe_close(s: Session, cs: CountSession, now: datetime) -> bool:
    left = s.execute(select(func.count()).select_from(CountLocation).where(
        CountLocation.session_id == cs.id, CountLocation.status.in_(OPEN_LOCATION_STATES))).scalar_one()  # type: ignore[attr-defined]
    if left:
        return False
    acc = _accuracy(s, cs)
    s.execute(update(CountSession).where(CountSession.id == cs.id).values(
        status="closed", closed_at=now, loc_counted=acc.locations_counted, loc_accurate=acc.locations_accurate,
        lines_counted=acc.lines_counted, lines_accurate=acc.lines_accurate, value_expected=acc.value_expected,
        value_abs_variance=acc.value_abs_variance, value_net_variance=acc.value_net_variance))
    return True


def _accuracy(s: Session, cs: CountSession) -> Accuracy:
    """Accuracy over the locations whose count is final (approved, or counted and waiting)."""
    final = CountLocation.status.in_(("approved", "counted"))  # type: ignore[attr-defined]
    n_loc, n_ok = s.execute(select(func.count(), func.coalesce(func.sum(case((CountLocation.has_variance == false(),
                                                                                1), else_=0)), 0))
                            .where(CountLocation.session_id == cs.id, final)).one()
    per_product = s.execute(
        select(Product.unit_cost, func.count(), func.sum(case((CountLine.variance == 0, 1), else_=0)),
               func.sum(literal_column("coalesce(count_line.recount_expected, count_line.expected_qty)")),
               func.sum(func.abs(literal_column("count_line.variance"))),
               func.sum(literal_column("count_line.variance")))
        .join(CountLocation, CountLocation.id == CountLine.count_location_id)
        .join(Product, Product.id == CountLine.product_id)
        .where(CountLine.session_id == cs.id, final).group_by(Product.id, Product.unit_cost)).all()
    lines = ok = 0
    v_exp = v_abs = v_net = Decimal(0)
    scale = Decimal(10) ** -QTY_SCALE
    for cost, n, n_same, exp_raw, abs_raw, net_raw in per_product:
        lines += int(n)
        ok += int(n_same or 0)
        v_exp += Decimal(int(exp_raw or 0)) * scale * cost
        v_abs += Decimal(int(abs_raw or 0)) * scale * cost
        v_net += Decimal(int(net_raw or 0)) * scale * cost
    q4 = Decimal("0.0001")
    lo = hi = None
    if cs.kind == "sample" and n_loc:
        lo, hi = wilson_interval(int(n_ok), int(n_loc))
    return Accuracy(cs.ref, cs.kind, cs.status, int(n_loc), int(n_ok), lines, ok, plain(v_exp.quantize(q4)),
                    plain(v_abs.quantize(q4)), plain(v_net.quantize(q4)), cs.sample_population, lo, hi)


def accuracy(db: Database, actor: Actor, ref: str) -> Accuracy:
    """A count's accuracy figures: stored when it closed, live before; a sample gets a 95 % Wilson interval."""
    require(db, actor, "count.review", f"count:{ref}")

    def work(s: Session) -> Accuracy:
        cs = _session(s, ref)
        if cs.status == "closed" and cs.loc_counted is not None:
            n, ok = cs.loc_counted, cs.loc_accurate or 0
            lo = hi = None
            if cs.kind == "sample" and n:
                lo, hi = wilson_interval(ok, n)
            return Accuracy(cs.ref, cs.kind, cs.status, n, ok, cs.lines_counted or 0, cs.lines_accurate or 0,
                            cs.value_expected or Decimal(0), cs.value_abs_variance or Decimal(0),
                            cs.value_net_variance or Decimal(0), cs.sample_population, lo, hi)
        return _accuracy(s, cs)

    return db.read(work)


# ------------------------------------------------------------------ what a scan at the count desk is


@dataclass(frozen=True)
class Resolved:
    """A typed or scanned code at the count desk: a location, a product (with the pack quantity of the
    barcode) or nothing we know."""

    kind: str  # location | product | none
    code: str
    sku: str = ""
    name: str = ""
    tracking: str = ""
    pack_qty: Decimal = Decimal(1)


def resolve(db: Database, actor: Actor, code: str, *, gtin: str | None = None) -> Resolved:
    """Look a code up: SKU, then the GTIN (``gtin``, already normalised) among product barcodes, then a
    location code or barcode."""
    require(db, actor, "count.view")
    from wsms_tui.db.models import ProductBarcode

    def work(s: Session) -> Resolved:
        row = s.execute(select(Product.sku, Product.name, Product.tracking).where(Product.sku == code)).first()
        if row is not None:
            return Resolved("product", code, row.sku, row.name, row.tracking)
        if gtin:
            hit = s.execute(select(Product.sku, Product.name, Product.tracking, ProductBarcode.pack_qty)
                            .join(ProductBarcode, ProductBarcode.product_id == Product.id)
                            .where(ProductBarcode.code == gtin)).first()
            if hit is not None:
                return Resolved("product", code, hit.sku, hit.name, hit.tracking, hit.pack_qty)
            return Resolved("none", code)
        loc = s.execute(select(Location.code).where(or_(Location.code == code, Location.barcode == code))).scalar()
        if loc is not None:
            return Resolved("location", loc)
        return Resolved("none", code)

    return db.read(work)
