"""Small, explicit seed data for tests (the demo builder is for demos and benchmarks)."""

from __future__ import annotations

from decimal import Decimal

from wsms_tui.database import Database
from wsms_tui.db.models import Location, Product, ProductBarcode, Role, Warehouse
from wsms_tui.security import Actor
from wsms_tui.users import add_user, authenticate


def seed_basic(db: Database) -> None:
    """Warehouse W1 with bins A-01..A-03 (A-03 allows negative), products P1 (none), LOT1 (lot), SER1 (serial)."""

    def work(s):  # type: ignore[no-untyped-def]
        w = Warehouse(code="W1", name="Main warehouse 主仓库")
        s.add(w)
        s.flush()
        for code, neg in (("A-01", False), ("A-02", False), ("A-03", True)):
            s.add(Location(code=code, name=code, usage="internal", warehouse_id=w.id, aisle="A",
                           bay=code[-2:], level="1", allow_negative=neg))
        p1 = Product(sku="P1", name="苹果 Apple", unit_cost=Decimal("1.25"))
        s.add(p1)
        s.add(Product(sku="LOT1", name="Milk 牛奶", tracking="lot"))
        s.add(Product(sku="SER1", name="Phone", tracking="serial"))
        s.flush()
        s.add(ProductBarcode(product_id=p1.id, code="04006381333931"))

    db.write(work)


def make_actor(db: Database, role: Role | str, name: str | None = None, pin: str = "1234") -> Actor:
    """Create a user of ``role`` and log it in."""
    role = Role(role)
    name = name or f"{role.value}1"
    add_user(db, db.system_actor("test"), name, role.value, pin)
    return authenticate(db, name, pin, "test-terminal")
