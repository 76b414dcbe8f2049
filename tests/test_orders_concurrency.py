"""Four OS processes (desks) import, allocate, pack and ship (boxes at the packing bench, then confirm),
ship without packing and cancel orders that compete for scarce stock at once, on SQLite and PostgreSQL:
nothing is oversold, Σ reservations = Σ active allocations, every line's cache equals its allocations,
what the boxes hold equals what the ledger shipped, shared orders exist once, and ledger and audit verify
clean."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.orders_seed import seed_orders
from wsms_tui import audit, ledger, orders, stock
from wsms_tui.database import Database
from wsms_tui.db.models import LedgerEntry, Location, Quant
from wsms_tui.db.models_orders import Allocation, SalesOrder, SalesOrderLine
from wsms_tui.db.models_shipping import ShipmentBox, ShipmentItem
from wsms_tui.security import Actor

ROOT = Path(__file__).resolve().parent.parent
WORKERS = 4

pytestmark = pytest.mark.slow


def run_desks(url: str, workdir: Path, timeout: float = 120) -> list[dict[str, Any]]:
    procs = [subprocess.Popen([sys.executable, "-m", "tests.orders_worker", url, str(i), str(2000 + i), str(workdir)],
                              cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(WORKERS)]
    try:
        for p in procs:
            assert p.stdout is not None
            got = p.stdout.readline()
            assert got.strip() == "ready", f"desk did not start: {got!r} {p.stderr.read() if p.stderr else ''}"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        reports = []
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            assert p.returncode == 0, err
            reports.append(json.loads(out.strip().splitlines()[-1]))
        return reports
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_four_desks_allocating_scarce_stock_never_oversell(db_url: str, db: Database, admin: Actor,
                                                           tmp_path: Path) -> None:
    seed_orders(db, admin)
    ledger.receive(db, admin, product="P1", qty=14, location="A-01", op_id="p1-w1")
    ledger.receive(db, admin, product="P1", qty=6, location="B-01", op_id="p1-w2")
    ledger.receive(db, admin, product="P2", qty=10, location="A-02", op_id="p2-w1")
    soon = date.today() + timedelta(days=30)
    ledger.receive(db, admin, product="LOT1", qty=5, location="A-01", op_id="lot-a", lot="LA", expiry=soon)
    ledger.receive(db, admin, product="LOT1", qty=5, location="B-01", op_id="lot-b", lot="LB",
                   expiry=soon + timedelta(days=30))
    reports = run_desks(db_url, tmp_path)
    errors = [e for r in reports for e in r["errors"]]
    assert not errors, "\n".join(errors)
    assert sum(r["allocations"] for r in reports) > 0 and sum(r["shipped"] for r in reports) > 0, reports
    assert sum(r["packed"] for r in reports) > 0 and sum(r["boxes"] for r in reports) > 0, reports

    report = stock.verify_ledger(db, admin)
    assert report.ok, report.problems
    chain = db.read(audit.verify_chain)
    assert chain.ok, chain.problems
    r, a = orders.reservation_totals(db)
    assert r == a, (r, a)

    def facts(s: Any) -> dict[str, Any]:
        res, on_hand = orders.raw(Quant.reserved), orders.raw(Quant.on_hand)
        q = s.execute(select(func.count()).select_from(Quant).where(
            ((res > 0) & (res > on_hand)) | (res < 0) | (on_hand < 0) & (Quant.location_id.in_(  # type: ignore[attr-defined]
                select(Location.id).where(Location.usage == "internal"))))).scalar_one()
        alloc = (select(Allocation.order_line_id, func.sum(orders.raw(Allocation.qty)).label("q"))
                 .where(Allocation.status == "active").group_by(Allocation.order_line_id).subquery())
        lt = SalesOrderLine
        mismatched = s.execute(select(func.count()).select_from(lt).outerjoin(alloc, alloc.c.order_line_id == lt.id)
                               .where(func.coalesce(alloc.c.q, 0) != orders.raw(lt.allocated_qty))).scalar_one()
        over = s.execute(select(func.count()).select_from(lt).where(
            orders.raw(lt.allocated_qty) + orders.raw(lt.shipped_qty) > orders.raw(lt.qty))).scalar_one()
        shared = s.execute(select(func.count()).select_from(SalesOrder)
                           .where(SalesOrder.external_ref.like("SH-%"))).scalar_one()  # type: ignore[attr-defined]
        shipped_lines = s.execute(select(func.coalesce(func.sum(orders.raw(lt.shipped_qty)), 0))).scalar_one()
        shipped_ledger = s.execute(select(func.coalesce(func.sum(orders.raw(LedgerEntry.qty)), 0))
                                   .where(LedgerEntry.kind == "ship")).scalar_one()
        boxed = s.execute(select(func.coalesce(func.sum(orders.raw(ShipmentItem.qty)), 0))
                          .join(ShipmentBox, ShipmentBox.id == ShipmentItem.box_id)
                          .where(ShipmentBox.status == "shipped")).scalar_one()
        pack_shipped = s.execute(select(func.coalesce(func.sum(orders.raw(LedgerEntry.qty)), 0))
                                 .where(LedgerEntry.kind == "ship", LedgerEntry.op_id.like("pack-%"))).scalar_one()  # type: ignore[attr-defined]
        open_boxes = s.execute(select(func.count()).select_from(ShipmentBox)
                               .where(ShipmentBox.status == "packed")).scalar_one()
        return {"oversold": q, "mismatched": mismatched, "over": over, "shared": shared,
                "shipped": (shipped_lines, shipped_ledger), "boxed": (boxed, pack_shipped), "open_boxes": open_boxes}

    f = db.read(facts)
    assert f["oversold"] == 0 and f["mismatched"] == 0 and f["over"] == 0, f
    assert f["shared"] == 6, f  # imported by four desks at once, exists once
    assert f["shipped"][0] == f["shipped"][1], f
    assert f["boxed"][0] == f["boxed"][1] > 0, f  # every shipped box's items left through the ledger, nothing else
    assert f["open_boxes"] == 0, f
    assert sum(r["shared_created"] for r in reports) == 6

