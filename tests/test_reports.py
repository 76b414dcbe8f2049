"""Every report against figures computed independently here, on small hand-made data (SQLite and PostgreSQL).

Moves are posted with the ledger services and then dated with an UPDATE of their ``at`` (``dated``), so a
few weeks of history take a few milliseconds. Each flow-based report is checked twice: straight from the
ledger (nothing folded into the snapshot yet) and after ``rebuild-snapshots`` — the figures must not move.
Bad input (unknown report, empty periods, missing rates) gets a clear message; the reorder alert follows
the stock; ``report.view`` is driven for every role; xlsx and the CLI are checked end to end.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, update
from typer.testing import CliRunner

from tests.helpers import make_actor, seed_basic
from wsms_tui import ledger
from wsms_tui.cli import app
from wsms_tui.config import ReportRates, ReportSettings
from wsms_tui.database import Database
from wsms_tui.db.models import LedgerEntry, Location, Product, Role, Warehouse
from wsms_tui.db.models_orders import OrderStatusEvent, SalesChannel, SalesOrder, SalesOrderLine
from wsms_tui.db.models_stocktake import CountSession
from wsms_tui.errors import BadInput, PermissionDenied
from wsms_tui.reports import NoData, ReportParams, ReportResult, reorder_alert_count, run_report, snapshot
from wsms_tui.security import Actor

NOW = datetime(2026, 3, 31, 18, 0, tzinfo=UTC)
D0, D1 = date(2026, 1, 1), date(2026, 3, 31)  # a 90-day period
COST = {"P1": Decimal(2), "P2": Decimal(10), "P3": Decimal(5), "P4": Decimal(1), "P5": Decimal(3)}


def t(d: date, hour: int = 12) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def dated(db: Database, entry_id: int, at: datetime) -> None:
    db.write(lambda s: s.execute(update(LedgerEntry).where(LedgerEntry.id == entry_id).values(at=at)))


class World:
    """What was posted, kept so the tests can recompute every figure on their own."""

    def __init__(self, db: Database, admin: Actor) -> None:
        self.db, self.admin = db, admin
        self.moves: list[tuple[str, str, Decimal, date]] = []  # (kind in|sale, sku, qty, day)
        self.n = 0

    def receive(self, sku: str, q: int, loc: str, d: date, lot: str | None = None, expiry: date | None = None) -> None:
        self.n += 1
        r = ledger.receive(self.db, self.admin, product=sku, qty=q, location=loc, op_id=f"r{self.n}", lot=lot,
                           expiry=expiry)
        dated(self.db, r.entry_id, t(d, 8))
        self.moves.append(("in", sku, Decimal(q), d))

    def sell(self, sku: str, q: int, loc: str, d: date) -> None:
        self.n += 1
        r = ledger.post_move(self.db, self.admin, product=sku, qty=q, from_location=loc,
                             to_location=ledger.CUSTOMER, op_id=f"s{self.n}", kind="ship")
        dated(self.db, r.entry_id, t(d, 15))
        self.moves.append(("sale", sku, Decimal(q), d))


def build(db: Database, admin: Actor) -> World:
    """W1 (A-01, A-02) and W2 (B-01); P1..P5 in two categories; receipts and sales from January to March."""
    seed_basic(db)

    def catalog(s: Any) -> None:
        w2 = Warehouse(code="W2", name="Second")
        s.add(w2)
        s.flush()
        s.add(Location(code="B-01", name="B-01", usage="internal", warehouse_id=w2.id, aisle="B", bay="01", level="1"))
        s.execute(update(Product).where(Product.sku == "P1").values(unit_cost=COST["P1"], category="Fruit",
                                                                    weight_kg=Decimal("0.5")))
        for sku in ("P2", "P3", "P4", "P5"):
            s.add(Product(sku=sku, name=f"Product {sku}", unit_cost=COST[sku], category="Fruit" if sku == "P3"
                          else "Tools", weight_kg=Decimal(2)))

    db.write(catalog)
    w = World(db, admin)
    w.receive("P1", 100, "A-01", date(2026, 1, 1))
    w.sell("P1", 10, "A-01", date(2026, 1, 10))
    w.sell("P1", 20, "A-01", date(2026, 2, 10))
    w.sell("P1", 30, "A-01", date(2026, 3, 10))
    w.receive("P2", 50, "B-01", date(2026, 2, 1))
    w.sell("P2", 5, "B-01", date(2026, 2, 15))
    w.receive("P3", 10, "A-02", date(2025, 12, 1))
    w.sell("P3", 2, "A-02", date(2026, 3, 1))  # value 10
    w.receive("P4", 20, "A-02", date(2026, 1, 5))
    w.sell("P4", 5, "A-02", date(2026, 1, 20))  # value 5
    w.receive("P5", 10, "A-01", date(2025, 10, 1))  # never sold: dead
    w.receive("LOT1", 6, "A-01", date(2026, 3, 20), lot="L-7", expiry=date(2026, 4, 15))
    return w


def params(**kw: Any) -> ReportParams:
    return ReportParams(now=NOW, date_from=kw.pop("date_from", D0), date_to=kw.pop("date_to", D1), **kw)


def twice(db: Database, admin: Actor, name: str, p: ReportParams) -> ReportResult:
    """The report straight from the ledger, then again after rebuilding the snapshot: identical rows."""
    first = run_report(db, admin, name, p)
    snapshot.rebuild(db, admin)
    again = run_report(db, admin, name, p)
    assert again.rows == first.rows
    return first


def level_on(w: World, sku: str, day: date) -> Decimal:
    """End-of-day stock of ``sku`` (all warehouses), by walking the moves."""
    return sum((q if k == "in" else -q for k, s, q, d in w.moves if s == sku and d <= day), Decimal(0))


def days(a: date, b: date) -> list[date]:
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


@pytest.fixture
def world(db: Database, admin: Actor) -> World:
    return build(db, admin)


def by(rows: list[dict[str, Any]], key: str) -> dict[Any, dict[str, Any]]:
    return {r[key]: r for r in rows}


# ------------------------------------------------------------------ stock


def test_stock_value_by_warehouse_category_location_and_as_of(db: Database, admin: Actor, world: World) -> None:
    r = run_report(db, admin, "stock", ReportParams(now=NOW))
    assert r.warehouse == "all warehouses" and r.period.startswith("as of 2026-03-31") and r.computed_at == NOW
    rows = by(r.rows, "warehouse")
    # W1: P1 40×2, P3 8×5, P4 15×1, P5 10×3, LOT1 6×0 ; W2: P2 45×10
    assert rows["W1"]["value"] == Decimal("165.00") and rows["W1"]["on_hand"] == Decimal(79)
    assert rows["W2"]["value"] == Decimal("450.00") and rows["W2"]["products"] == 1
    cats = by(run_report(db, admin, "stock", ReportParams(now=NOW, by="category")).rows, "category")
    assert cats["Fruit"]["value"] == Decimal("120.00") and cats["Tools"]["value"] == Decimal("495.00")
    locs = run_report(db, admin, "stock", ReportParams(now=NOW, by="location", warehouse="W1")).rows
    assert {(x["location"], x["value"]) for x in locs} == {("A-01", Decimal("110.00")), ("A-02", Decimal("55.00"))}
    # at the end of 2026-02-12: P1 70 (140), P2 50 (500), P3 10 (50), P4 15 (15), P5 10 (30)
    past = twice(db, admin, "stock", ReportParams(now=NOW, date_to=date(2026, 2, 12)))
    assert past.period == "end of 2026-02-12"
    assert by(past.rows, "warehouse")["W2"]["value"] == Decimal("500.00")
    assert by(past.rows, "warehouse")["W1"]["value"] == Decimal("235.00")
    with pytest.raises(BadInput, match="by location is stock now"):
        run_report(db, admin, "stock", ReportParams(now=NOW, by="location", date_to=date(2026, 2, 12)))


def test_ageing_layers_stock_by_arrival(db: Database, admin: Actor, world: World) -> None:
    r = twice(db, admin, "ageing", ReportParams(now=NOW))
    rows = by(r.rows, "age_days")
    # P1 40 from 01-01 (89 days), P2 45 from 02-01 (58), P3 8 from 2025-12-01 (120), P4 15 from 01-05 (85),
    # P5 10 from 2025-10-01 (181), LOT1 6 from 03-20 (11)
    assert rows["0–30"]["on_hand"] == 6
    assert rows["31–60"]["on_hand"] == 45 and rows["31–60"]["value"] == Decimal("450.00")
    assert rows["61–90"]["on_hand"] == 55 and rows["61–90"]["value"] == Decimal("95.00")
    assert rows["91–180"]["on_hand"] == 8
    assert rows["181–365"]["on_hand"] == 10 and rows["181–365"]["products"] == 1


def test_expiring_lots(db: Database, admin: Actor, world: World) -> None:
    r = run_report(db, admin, "expiring", ReportParams(now=NOW))
    assert [(x["sku"], x["lot"], x["days_left"], x["on_hand"]) for x in r.rows] == [("LOT1", "L-7", 15, 6)]
    with pytest.raises(NoData, match="expires by 2026-04-10"):
        run_report(db, admin, "expiring", ReportParams(now=NOW, within_days=10))


# ------------------------------------------------------------------ turnover, slow/dead, ABC, XYZ


def test_turnover_and_days_of_supply(db: Database, admin: Actor, world: World) -> None:
    r = twice(db, admin, "turnover", params())
    assert r.period == "2026-01-01 – 2026-03-31 (90 days)"
    p1 = by(r.rows, "sku")["P1"]
    levels = [level_on(world, "P1", d) for d in days(D0, D1)]
    avg = sum(levels) / len(levels)
    assert p1["sold"] == 60 and p1["avg_stock"] == round(avg, 2)
    assert p1["turnover"] == Decimal(str(round(float(60 / avg), 2)))
    assert p1["annual_turnover"] == Decimal(str(round(float(60 / avg) * 365 / 90, 2)))
    assert p1["days_of_supply"] == Decimal("60.0")  # 40 left / (60 / 90 a day)
    cats = by(twice(db, admin, "turnover", params(by="category")).rows, "category")
    fruit_avg = sum(level_on(world, "P1", d) * 2 + level_on(world, "P3", d) * 5 for d in days(D0, D1)) / 90
    assert cats["Fruit"]["cogs"] == Decimal("130.00")  # 60×2 + 2×5
    assert cats["Fruit"]["avg_value"] == round(fruit_avg, 2)
    w2 = run_report(db, admin, "turnover", params(warehouse="W2"))
    assert [x["sku"] for x in w2.rows] == ["P2"]


def test_slow_and_dead_stock(db: Database, admin: Actor, world: World) -> None:
    r = twice(db, admin, "slow", params())
    rows = by(r.rows, "sku")
    assert rows["P5"]["class"] == "dead" and rows["P5"]["last_sold"] is None and rows["P5"]["value"] == Decimal("30.00")
    # P3: 8 left, 2 sold in 90 days → 360 days of supply (slow); P2: 45 / (5/90) = 810 (slow)
    assert rows["P3"]["class"] == "slow" and rows["P3"]["days_of_supply"] == 360
    assert rows["P2"]["class"] == "slow"
    assert "P1" not in rows  # 60 days of supply, sold 21 days ago
    assert [x["sku"] for x in r.rows][0] == "P2"  # most value first


def test_abc_classes(db: Database, admin: Actor, world: World) -> None:
    r = twice(db, admin, "abc", params())
    values = {sku: sum((q for k, s, q, d in world.moves if k == "sale" and s == sku and D0 <= d <= D1),
                       Decimal(0)) * COST[sku] for sku in COST}
    ranked = sorted((v, sku) for sku, v in values.items() if v > 0)[::-1]
    total, before, want = sum(values.values()), Decimal(0), {}
    for v, sku in ranked:
        want[sku] = "A" if before < total * Decimal("0.8") else "B" if before < total * Decimal("0.95") else "C"
        before += v
    assert {x["sku"]: x["class"] for x in r.rows} == want == {"P1": "A", "P2": "A", "P3": "B", "P4": "C"}
    assert [x["value"] for x in r.rows] == [Decimal("120.00"), Decimal("50.00"), Decimal("10.00"), Decimal("5.00")]
    assert r.rows[-1]["cum_pct"] == Decimal("100.0")


def test_xyz_classes(db: Database, admin: Actor, world: World) -> None:
    r = twice(db, admin, "xyz", params())
    weeks = 90 // 7  # whole weeks counted back from the last day
    start = D1 - timedelta(days=weeks * 7 - 1)
    assert r.period.startswith(start.isoformat())
    for row in r.rows:
        sku = row["sku"]
        series = [0.0] * weeks
        for k, s, q, d in world.moves:
            if k == "sale" and s == sku and start <= d <= D1:
                series[(D1 - d).days // 7] += float(q)
        mean = sum(series) / weeks
        sd = statistics.pstdev(series)
        assert row["cv"] == Decimal(str(round(sd / mean, 3)))
        assert row["class"] == ("X" if sd / mean <= 0.5 else "Y" if sd / mean <= 1 else "Z")


# ------------------------------------------------------------------ fulfilment, cost, accuracy


def orders_world(db: Database, admin: Actor) -> None:
    """Three orders of channel ``shop`` shipped from W1 (24 h on time, 84 h late, 6 h unpromised) and one of
    ``b2b`` from W2 (48 h), with their timelines and lines."""
    seed_basic(db)

    def work(s: Any) -> None:
        w2 = Warehouse(code="W2", name="Second")
        s.add(w2)
        s.flush()
        w1 = s.execute(Warehouse.__table__.select().where(Warehouse.code == "W1")).first().id  # type: ignore[attr-defined]
        p1 = s.execute(Product.__table__.select().where(Product.sku == "P1")).first().id  # type: ignore[attr-defined]
        s.execute(update(Product).where(Product.id == p1).values(weight_kg=Decimal("0.5")))
        ch = {}
        for name in ("shop", "b2b"):
            c = SalesChannel(name=name)
            s.add(c)
            s.flush()
            ch[name] = c.id
        spec = [  # channel, wh, created, allocated, shipped, promised, lines (qty)
            ("shop", w1, datetime(2026, 3, 1, 0, tzinfo=UTC), 2, 24, date(2026, 3, 2), (1, 2)),
            ("shop", w1, datetime(2026, 3, 1, 0, tzinfo=UTC), 10, 84, date(2026, 3, 3), (4,)),
            ("shop", w1, datetime(2026, 3, 5, 0, tzinfo=UTC), 1, 6, None, (1,)),
            ("b2b", w2.id, datetime(2026, 3, 6, 0, tzinfo=UTC), 40, 48, date(2026, 3, 9), (10, 10, 10)),
        ]
        for i, (c, wid, created, alloc_h, ship_h, promised, lines) in enumerate(spec):
            o = SalesOrder(channel_id=ch[c], external_ref=f"O{i}", status="shipped", warehouse_id=wid,
                           promised_date=promised, created_at=created, updated_at=created)
            s.add(o)
            s.flush()
            for n, q in enumerate(lines, start=1):
                s.add(SalesOrderLine(order_id=o.id, line_no=n, product_id=p1, qty=Decimal(q), shipped_qty=Decimal(q)))
            for a, b, h in (("", "new", 0), ("new", "allocated", alloc_h), ("allocated", "shipped", ship_h)):
                s.execute(insert(OrderStatusEvent).values(order_id=o.id, at=created + timedelta(hours=h),
                                                          from_status=a, to_status=b, actor_id=admin.user_id))

    db.write(work)


def test_fulfilment_lead_times_and_on_time(db: Database, admin: Actor) -> None:
    orders_world(db, admin)
    p = params(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    rows = by(run_report(db, admin, "fulfilment", p).rows, "channel")
    shop = rows["shop"]
    assert shop["orders"] == 3 and shop["p50_h"] == 24 and shop["p90_h"] == 84 and shop["p95_h"] == 84
    assert shop["mean_h"] == Decimal("38.0") and shop["promised"] == 2 and shop["on_time_pct"] == Decimal("50.0")
    assert rows["b2b"]["p50_h"] == 48 and rows["b2b"]["on_time_pct"] == 100
    wh = by(run_report(db, admin, "fulfilment", ReportParams(now=NOW, by="warehouse", date_from=date(2026, 3, 1))
                       ).rows, "warehouse")
    assert wh["W2"]["orders"] == 1 and wh["W1"]["orders"] == 3
    st = by(run_report(db, admin, "status-times", p).rows, "status")
    # hours in "new": 2, 10, 1, 40 ; in "allocated": 22, 74, 5, 8
    assert st["new"]["changes"] == 4 and st["new"]["p50_h"] == 2 and st["new"]["mean_h"] == Decimal("13.2")
    assert st["allocated"]["p50_h"] == 8 and st["allocated"]["p95_h"] == 74
    assert st["allocated"]["share_pct"] == Decimal(str(round(109 / 162 * 100, 1)))
    with pytest.raises(NoData, match="no order was shipped"):
        run_report(db, admin, "fulfilment", params(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31)))


def test_cost_per_order_from_rates(db: Database, admin: Actor) -> None:
    orders_world(db, admin)
    p = params(date_from=date(2026, 3, 1), date_to=date(2026, 3, 31))
    with pytest.raises(BadInput, match="handling_per_line, handling_per_unit"):
        run_report(db, admin, "cost", ReportParams(now=NOW, settings=ReportSettings(rates=ReportRates(
            storage_per_unit_day="0", handling_per_order="1", packaging_per_order="0.5", carrier_per_order="3",
            carrier_per_kg="1"))))
    rates = ReportRates(storage_per_unit_day="0", handling_per_order="1", handling_per_line="0.2",
                        handling_per_unit="0.1", packaging_per_order="0.5", carrier_per_order="3", carrier_per_kg="1")
    rows = by(run_report(db, admin, "cost", ReportParams(**{**p.__dict__, "settings": ReportSettings(rates=rates)})
                         ).rows, "channel")
    # shop: 3 orders, 4 lines, 8 units, 4 kg → handling 3 + 0.8 + 0.8, packaging 1.5, carrier 9 + 4
    shop = rows["shop"]
    assert shop["handling"] == round(Decimal("4.6") / 3, 2) and shop["packaging"] == Decimal("0.50")
    assert shop["carrier"] == round(Decimal(13) / 3, 2) and shop["storage"] == Decimal("0.00")
    assert shop["total"] == round((Decimal("4.6") + Decimal("1.5") + Decimal(13)) / 3, 2)
    # b2b: 1 order, 3 lines, 30 units, 15 kg: 1 + 0.6 + 3 ; 0.5 ; 3 + 15
    assert rows["b2b"]["total"] == Decimal("23.10")


def test_accuracy_over_time_from_closed_counts(db: Database, admin: Actor) -> None:
    seed_basic(db)

    def work(s: Any) -> None:
        for i, (closed, n, ok, lines, lok, exp, absv) in enumerate((
                (datetime(2026, 1, 10, tzinfo=UTC), 10, 9, 20, 18, "1000", "50"),
                (datetime(2026, 1, 20, tzinfo=UTC), 10, 7, 10, 7, "1000", "150"),
                (datetime(2026, 3, 2, tzinfo=UTC), 4, 4, 8, 8, "200", "0"))):
            s.add(CountSession(ref=f"C{i}", kind="full", status="closed", created_by=admin.user_id, created_at=closed,
                               closed_at=closed, loc_counted=n, loc_accurate=ok, lines_counted=lines,
                               lines_accurate=lok, value_expected=Decimal(exp), value_abs_variance=Decimal(absv),
                               value_net_variance=-Decimal(absv)))
        s.add(CountSession(ref="OPEN", kind="full", status="open", created_by=admin.user_id, created_at=NOW))

    db.write(work)
    r = run_report(db, admin, "accuracy", params())
    rows = by(r.rows, "month")
    assert list(rows) == ["2026-01", "2026-03"]
    assert rows["2026-01"]["counts"] == 2 and rows["2026-01"]["location_accuracy_pct"] == Decimal("80.0")
    assert rows["2026-01"]["line_accuracy_pct"] == Decimal("83.3") and rows["2026-01"]["value_accuracy_pct"] == 90
    assert rows["2026-03"]["location_accuracy_pct"] == 100
    weeks = run_report(db, admin, "accuracy", params(by="week")).rows
    assert [x["week"] for x in weeks] == ["2026-01-05", "2026-01-19", "2026-03-02"]  # Mondays
    with pytest.raises(NoData, match="no count of all warehouses was closed"):
        run_report(db, admin, "accuracy", params(date_from=date(2026, 2, 1), date_to=date(2026, 2, 28)))


# ------------------------------------------------------------------ forecast and reorder


def demand_world(db: Database, admin: Actor, on_hand: int) -> World:
    """R1 in W1: sold 10, 14, 10, 14 … a week for 8 weeks up to 2026-03-31, ``on_hand`` left."""
    seed_basic(db)
    db.write(lambda s: s.add(Product(sku="R1", name="Steady seller", unit_cost=Decimal(1))))
    w = World(db, admin)
    sold = [10, 14] * 4
    w.receive("R1", on_hand + sum(sold), "A-01", date(2026, 2, 1))
    for i, q in enumerate(sold):  # week i ends 2026-03-31 − 7·(7−i)
        w.sell("R1", q, "A-01", D1 - timedelta(days=7 * (7 - i) + 3))
    return w


HISTORY = {"date_from": D1 - timedelta(days=55), "date_to": D1}  # exactly the 8 weeks


def test_forecast_per_product(db: Database, admin: Actor) -> None:
    demand_world(db, admin, on_hand=24)
    r = run_report(db, admin, "forecast", params(**HISTORY, method="mean", weeks=3))
    row = r.rows[0]
    assert (row["sku"], row["method"], row["mean_week"], row["w1"], row["w3"]) == ("R1", "mean", 12, 12, 12)
    assert row["next_total"] == 36 and row["mase"] is not None  # backtest on the last 2 of 8 weeks
    auto = run_report(db, admin, "forecast", params(**HISTORY))
    assert auto.rows[0]["method"] in ("naive", "mean", "ses", "croston", "sba", "tsb", "seasonal_naive")
    assert auto.charts[0].kind == "line" and len(auto.charts[0].values) == 8 + 8
    with pytest.raises(BadInput, match="--method must be one of"):
        run_report(db, admin, "forecast", params(**HISTORY, method="prophet"))


def test_reorder_suggestion_for_known_demand_and_the_alert(db: Database, admin: Actor) -> None:
    demand_world(db, admin, on_hand=24)
    assert reorder_alert_count(db, admin) is None  # nothing saved yet
    p = params(**HISTORY, method="mean", lead_days=14, service_level=Decimal("0.95"))
    r = run_report(db, admin, "reorder", p)
    sigma = statistics.stdev([10, 14] * 4)
    z = statistics.NormalDist().inv_cdf(0.95)
    ss = z * sigma * math.sqrt(2)
    rop = 12 * 2 + ss
    up_to = rop + 12 * 4  # cover 28 days
    [row] = r.rows
    assert row["safety_stock"] == Decimal(str(round(ss, 1))) and row["reorder_point"] == Decimal(str(round(rop, 1)))
    assert row["available"] == 24 and row["suggested"] == math.ceil(up_to - 24) == 53
    assert reorder_alert_count(db, admin) == 1
    ledger.receive(db, admin, product="R1", qty=10, location="A-01", op_id="top-up")
    assert reorder_alert_count(db, admin) == 0  # 34 > ROP 28.97
    calm = run_report(db, admin, "reorder", p)
    assert calm.rows == [] and any("nothing to reorder" in n for n in calm.notes)


def test_reorder_rounds_to_the_case_pack(db: Database, admin: Actor) -> None:
    demand_world(db, admin, on_hand=24)
    from wsms_tui.db.models import ProductBarcode

    def case(s: Any) -> None:
        pid = s.execute(Product.__table__.select().where(Product.sku == "R1")).first().id  # type: ignore[attr-defined]
        s.add(ProductBarcode(product_id=pid, code="10000000000007", pack_qty=Decimal(12)))

    db.write(case)
    [row] = run_report(db, admin, "reorder", params(**HISTORY, method="mean", lead_days=14, save=False)).rows
    assert row["suggested"] == 60 and row["case_pack"] == 12  # 53 → 5 cases of 12


# ------------------------------------------------------------------ bad input, permissions


def test_bad_input_is_a_clear_message(db: Database, admin: Actor) -> None:
    seed_basic(db)
    with pytest.raises(BadInput, match="there is no report 'turnovr'; reports: stock, ageing"):
        run_report(db, admin, "turnovr")
    with pytest.raises(NoData, match="no stock and no sales in all warehouses between 2026-01-01 and 2026-03-31"):
        run_report(db, admin, "turnover", params())
    with pytest.raises(NoData, match="nothing was sold"):
        run_report(db, admin, "abc", params())
    with pytest.raises(NoData, match="there is no stock"):
        run_report(db, admin, "stock", ReportParams(now=NOW))
    with pytest.raises(BadInput, match="starts .* after it ends"):
        run_report(db, admin, "turnover", params(date_from=D1, date_to=D0))
    with pytest.raises(BadInput, match="no warehouse 'NOPE'; warehouses: W1"):
        run_report(db, admin, "turnover", params(warehouse="NOPE"))
    with pytest.raises(BadInput, match="--by must be one of: warehouse, category, location, product"):
        run_report(db, admin, "stock", ReportParams(now=NOW, by="colour"))
    with pytest.raises(BadInput, match="service level"):
        run_report(db, admin, "reorder", params(service_level=Decimal("1.5")))


@pytest.mark.parametrize("role", [Role.CLERK, Role.FINANCE, Role.SUPERVISOR])
def test_report_permissions(db: Database, admin: Actor, world: World, role: Role) -> None:
    actor = make_actor(db, role)
    calls: list[Callable[[], Any]] = [lambda: run_report(db, actor, "stock", ReportParams(now=NOW)),
                                      lambda: snapshot.rebuild(db, actor)]
    for action, call in zip(("report.view", "report.rebuild"), calls, strict=True):
        if actor.can(action):
            call()
        else:
            with pytest.raises(PermissionDenied, match=action):
                call()
    run_report(db, admin, "reorder", params(date_from=date(2026, 1, 5)))  # saves reorder points
    count = reorder_alert_count(db, actor)
    assert count is None if role == Role.CLERK else isinstance(count, int)  # clerks see no alert


# ------------------------------------------------------------------ CLI and xlsx


def test_cli_report_formats_and_xlsx(db_url: str, db: Database, admin: Actor, world: World, tmp_path: Path) -> None:
    runner = CliRunner()

    def wsms(*args: str, env: dict[str, str] | None = None) -> Any:
        return runner.invoke(app, ["--db", db_url, "report", *args], env=env or {})

    res = wsms("abc", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert [(x["sku"], x["class"], x["value"]) for x in data][:2] == [("P1", "A", "120.00"), ("P2", "A", "50.00")]
    assert "period: 2026-01-01 – 2026-03-31 (90 days) · warehouse: all warehouses · computed" in res.stderr
    table = wsms("turnover", "--by", "category", "--from", "2026-01-01", "--to", "2026-03-31")
    assert table.exit_code == 0 and "Turns a year by category" in table.stdout and "warehouse: all" in table.stdout
    csv_out = wsms("stock", "--by", "category", "--format", "csv")
    assert csv_out.stdout.splitlines()[0] == "category,products,on_hand,reserved,value,share_pct"
    bad = wsms("turnovr")
    assert bad.exit_code == 1 and "there is no report 'turnovr'" in bad.stderr
    empty = wsms("abc", "--from", "2020-01-01", "--to", "2020-03-31")
    assert empty.exit_code == 1 and "nothing was sold" in empty.stderr
    cost = wsms("cost")
    assert cost.exit_code == 1 and "storage_per_unit_day" in cost.stderr and "[reports.rates]" in cost.stderr
    assert wsms("abc", "--format", "xlsx").exit_code == 1
    listing = wsms("list", "--format", "json")
    assert {"turnover", "abc", "forecast", "reorder", "fulfilment", "accuracy"} <= {x["name"] for x in
                                                                                    json.loads(listing.stdout)}
    rebuilt = wsms("rebuild-snapshots")
    assert rebuilt.exit_code == 0 and "ledger folded in up to entry" in rebuilt.stdout

    path = tmp_path / "abc.xlsx"
    res = wsms("abc", "--from", "2026-01-01", "--to", "2026-03-31", "--format", "xlsx", "--output", str(path))
    assert res.exit_code == 0, res.output
    from openpyxl import load_workbook

    ws = load_workbook(path).active
    assert ws["A1"].value == "ABC classes by sales value"
    assert ws["A2"].value == "Period" and ws["B2"].value == "2026-01-01 – 2026-03-31 (90 days)"
    assert ws["B3"].value == "all warehouses" and isinstance(ws["B4"].value, datetime)
    header = [c.value for c in ws[6]]
    assert header[:4] == ["SKU", "Name", "ABC", "Sold"]
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=7, max_row=10)]
    assert [(r[0], r[2], r[4]) for r in body] == [("P1", "A", 120), ("P2", "A", 50), ("P3", "B", 10), ("P4", "C", 5)]
    assert ws.cell(row=7, column=5).number_format == "#,##0.00"
