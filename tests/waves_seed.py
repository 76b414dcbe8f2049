"""Seed data for the wave, picking and replenishment tests: warehouse W1 with a one-block layout
(aisles A, C, D, E; bays 1–10), stock in pick faces and reserve, orders imported and allocated."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import insert, select

from tests.orders_seed import order_csv, seed_orders
from wsms_tui import ledger
from wsms_tui.allocation import allocate
from wsms_tui.database import Database
from wsms_tui.db.models import Location, ProductBarcode, Warehouse
from wsms_tui.layout import parse_layout, save_layout
from wsms_tui.order_import import import_orders
from wsms_tui.security import Actor

GTIN_P2 = "5901234123457"
GTIN_LOT1 = "09506000134352"
LAYOUT = {"warehouse": "W1", "aisle_width": 2.0, "rack_depth": 0.6, "bay_width": 1.3, "cross_aisle_width": 3.0,
          "blocks": [{"name": "main", "bays": [1, 10], "aisles": ["A", "C", "D", "E"]}]}
H = "2026-11-20,张三,13812345678,上海市浦东新区世纪大道100号,上海,200120,CN"


def seed_layout(db: Database, admin: Actor) -> None:
    """W1 gets C-01..E-10 besides A-01..A-03, GTINs for P2 and LOT1, and its layout."""
    seed_orders(db, admin)

    def work(s):  # type: ignore[no-untyped-def]
        wid = s.execute(select(Warehouse.id).where(Warehouse.code == "W1")).scalar_one()
        for aisle in "CDE":
            for bay in range(1, 11):
                s.execute(insert(Location).values(code=f"{aisle}-{bay:02d}", name="", usage="internal",
                                                  warehouse_id=wid, aisle=aisle, bay=f"{bay:02d}", level="1",
                                                  zone="RES" if aisle == "E" else "PICK"))
        from wsms_tui.db.models import Product

        ids = dict(s.execute(select(Product.sku, Product.id)).all())
        s.execute(insert(ProductBarcode).values(product_id=ids["P2"], code="0" + GTIN_P2, kind="gtin", pack_qty=1))
        s.execute(insert(ProductBarcode).values(product_id=ids["LOT1"], code=GTIN_LOT1, kind="gtin", pack_qty=1))
        save_layout(s, admin, parse_layout(LAYOUT), source="test")

    db.write(work)


def stock(db: Database, admin: Actor) -> None:
    """P1: A-01 5, C-05 3, E-10 40 (reserve); P2: D-03 4, E-09 20; LOT1: C-02 lot L-B (2031), E-02 lot L-A (2030)."""
    for i, (sku, qty, loc, lot, exp) in enumerate([
            ("P1", 5, "A-01", None, None), ("P1", 3, "C-05", None, None), ("P1", 40, "E-10", None, None),
            ("P2", 4, "D-03", None, None), ("P2", 20, "E-09", None, None),
            ("LOT1", 6, "C-02", "L-B", date(2031, 1, 1)), ("LOT1", 6, "E-02", "L-A", date(2030, 1, 1))]):
        ledger.receive(db, admin, product=sku, qty=qty, location=loc, lot=lot, expiry=exp, op_id=f"seed-{i}")


def orders(db: Database, admin: Actor, tmp_path: Path, *rows: tuple[str, str, int]) -> None:
    """Import orders (ref, sku, qty) for channel SHOP and allocate them."""
    path = order_csv(tmp_path / f"o{len(list(tmp_path.iterdir()))}.csv",
                     *[f"{ref},{H},,{sku},{qty}," for ref, sku, qty in rows])
    import_orders(db, admin, path, channel="SHOP", allocate=False)
    allocate(db, admin)


def seed_all(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed_layout(db, admin)
    stock(db, admin)
