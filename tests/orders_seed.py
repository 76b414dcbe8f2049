"""Seed data and small helpers shared by the order tests (and their worker processes)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import seed_basic
from wsms_tui import orders
from wsms_tui.database import Database
from wsms_tui.db.models import Location, Product, Warehouse
from wsms_tui.security import Actor

HEADER = "channel_ref,order_date,customer,phone,address,city,postcode,country,priority,sku,qty,promised_date\n"
SH = "2026-11-20,张三,13812345678,上海市浦东新区世纪大道100号,上海,200120,CN"
NY = "2026-11-20,John Doe,+1 212 555 0100,1 Main St,New York,10001,US"


def seed_orders(db: Database, admin: Actor) -> None:
    """seed_basic (W1: A-01..A-03; P1, LOT1, SER1) + warehouse W2 with B-01, product P2, channels SHOP
    (rank 10, no split) and MARKET (rank 20, split allowed)."""
    seed_basic(db)

    def work(s):  # type: ignore[no-untyped-def]
        w2 = Warehouse(code="W2", name="Second warehouse")
        s.add(w2)
        s.flush()
        s.add(Location(code="B-01", name="B-01", usage="internal", warehouse_id=w2.id, aisle="B", bay="01",
                       level="1"))
        s.add(Product(sku="P2", name="Pear 梨"))

    db.write(work)
    orders.save_channel(db, admin, "SHOP", rank=10)
    orders.save_channel(db, admin, "MARKET", rank=20, allow_split=True)


def order_csv(path: Path, *lines: str) -> Path:
    """A wsms-csv order file from 'REF,<head>,priority,sku,qty,promised' fragments."""
    path.write_text(HEADER + "".join(ln + "\n" for ln in lines), encoding="utf-8")
    return path


def line(ref: str, sku: str, qty: object, *, head: str = SH, priority: str = "", promised: str = "") -> str:
    return f"{ref},{head},{priority},{sku},{qty},{promised}"
