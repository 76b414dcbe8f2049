"""The demo warehouse builder on SQLite and PostgreSQL (at the tiny scale, to stay quick)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from tests.conftest import new_database_url
from wsms_tui import audit, demo, stock, users
from wsms_tui.barcodes import is_valid_gtin
from wsms_tui.database import Database
from wsms_tui.db.models import (
    AuditEvent,
    LedgerEntry,
    Location,
    Lot,
    Meta,
    Product,
    ProductBarcode,
    Quant,
    Warehouse,
)
from wsms_tui.errors import BadInput, PermissionDenied
from wsms_tui.security import Actor


def _ledger_rows(db: Database) -> list[tuple[object, ...]]:
    src, dst = aliased(Location), aliased(Location)
    return db.read(lambda s: [tuple(r) for r in s.execute(
        select(LedgerEntry.op_id, LedgerEntry.at, LedgerEntry.kind, Product.sku, LedgerEntry.qty, src.code, dst.code,
               Lot.lot_no, LedgerEntry.doc_ref, LedgerEntry.reason, LedgerEntry.unit_cost, LedgerEntry.reverses_id)
        .join(Product, Product.id == LedgerEntry.product_id)
        .join(src, src.id == LedgerEntry.from_location_id)
        .join(dst, dst.id == LedgerEntry.to_location_id)
        .outerjoin(Lot, Lot.id == LedgerEntry.lot_id)
        .order_by(LedgerEntry.id))])


def test_tiny_build_is_complete_and_consistent(db: Database, admin: Actor) -> None:
    stages: dict[str, tuple[int, int]] = {}
    summary = demo.build_demo(db, admin, scale="tiny", progress=lambda st, d, t: stages.__setitem__(st, (d, t)))
    assert {"plan", "catalog", "ledger", "quants", "users"} <= set(stages)
    assert all(done == total for done, total in stages.values())
    assert demo.is_demo(db)

    def counts(s):  # type: ignore[no-untyped-def]
        def n(model: type) -> int:
            return int(s.execute(select(func.count()).select_from(model)).scalar_one())
        return {"warehouses": n(Warehouse), "products": n(Product), "lots": n(Lot), "ledger": n(LedgerEntry),
                "quants": n(Quant), "bins": int(s.execute(select(func.count()).select_from(Location)
                                                           .where(Location.usage == "internal")).scalar_one())}

    c = db.read(counts)
    assert c["warehouses"] == summary.warehouses == 2
    assert c["products"] == summary.products == 30
    assert c["lots"] == summary.lots > 0
    assert c["ledger"] == summary.ledger_entries and 1_000 < c["ledger"] < 10_000
    assert c["quants"] == summary.quants
    assert c["bins"] == summary.locations - 2 == 48
    assert summary.users == 4

    codes = db.read(lambda s: s.execute(select(ProductBarcode.code, ProductBarcode.pack_qty)).all())
    assert codes and all(is_valid_gtin(code) and len(code) == 14 for code, _ in codes)
    assert any(pack in (12, 24) for _, pack in codes)
    names = db.read(lambda s: s.execute(select(Product.name, Product.tracking)).all())
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in name) and any(ch.isascii() and ch.isalpha() for ch in name)
               for name, _ in names)
    assert {t for _, t in names} == {"none", "lot", "serial"}
    kinds = set(db.read(lambda s: s.execute(select(LedgerEntry.kind).distinct()).scalars().all()))
    assert {"receive", "transfer", "ship", "adjust"} <= kinds
    bins = db.read(lambda s: s.execute(select(Location.code, Location.x, Location.y, Location.zone)
                                       .where(Location.usage == "internal")).all())
    assert all(code[:3] in ("SH1", "LA1") and x is not None and y is not None and zone for code, x, y, zone in bins)

    report = stock.verify_ledger(db, admin)
    assert report.ok, report.problems[:5]
    assert report.entries == summary.ledger_entries
    chain = db.read(audit.verify_chain)
    assert chain.ok, chain.problems
    actions = db.read(lambda s: s.execute(select(AuditEvent.action)).scalars().all())
    assert actions.count("demo.build") == 1


def test_serials_never_twice_in_stock_and_sales_never_oversell(db: Database, admin: Actor) -> None:
    demo.build_demo(db, admin, scale="tiny")

    def check(s):  # type: ignore[no-untyped-def]
        serial_stock = s.execute(
            select(Quant.lot_id, func.sum(Quant.on_hand)).join(Location, Location.id == Quant.location_id)
            .join(Lot, Lot.id == Quant.lot_id).where(Location.usage == "internal", Lot.is_serial == True)  # noqa: E712
            .group_by(Quant.lot_id)).all()
        negative = s.execute(select(func.count()).select_from(Quant).join(Location, Location.id == Quant.location_id)
                             .where(Location.usage == "internal", Quant.on_hand < 0)).scalar_one()
        return serial_stock, negative

    serial_stock, negative = db.read(check)
    assert serial_stock and all(q <= 1 for _, q in serial_stock)
    assert negative == 0


def test_deterministic_across_databases(db: Database, admin: Actor, backend: str, request: pytest.FixtureRequest,
                                        tmp_path: Path) -> None:
    demo.build_demo(db, admin, scale="tiny")
    other = Database.open(new_database_url(backend, request, tmp_path))
    try:
        demo.build_demo(other, other.system_actor("test"), scale="tiny")
        first, second = _ledger_rows(db), _ledger_rows(other)
        assert first == second and len(first) > 1_000
        products = [db.read(lambda s: s.execute(select(Product.sku, Product.name).order_by(Product.sku)).all()),
                    other.read(lambda s: s.execute(select(Product.sku, Product.name).order_by(Product.sku)).all())]
        assert products[0] == products[1]
    finally:
        other.dispose()


def test_refuses_a_second_build_and_non_admins(db: Database, admin: Actor) -> None:
    clerk = Actor(admin.user_id, "someone", "clerk", "test")  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        demo.build_demo(db, clerk, scale="tiny")
    with pytest.raises(BadInput, match="scale"):
        demo.build_demo(db, admin, scale="huge")
    assert not demo.is_demo(db)
    demo.build_demo(db, admin, scale="tiny")
    with pytest.raises(BadInput, match="empty database"):
        demo.build_demo(db, admin, scale="tiny")


def test_demo_logins_work(db: Database, admin: Actor) -> None:
    demo.build_demo(db, admin, scale="tiny")
    logins = users.demo_logins(db)
    assert sorted(x.role for x in logins) == ["admin", "clerk", "finance", "supervisor"]
    for login in logins:
        actor = users.authenticate(db, login.name, login.pin, "test")
        assert actor.role == login.role
    raw = db.read(lambda s: s.execute(select(Meta.value).where(Meta.key == "demo")).scalar())
    assert raw == "tiny"
    assert json.loads(db.read(lambda s: s.execute(select(Meta.value).where(Meta.key == "demo_logins")).scalar()))
