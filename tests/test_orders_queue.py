"""The order queue's search and count on SQLite and PostgreSQL: the customer substring index (migration 0009)
finds exactly what the scan finds, follows inserts, updates and deletes, and is filled for orders that
existed before the upgrade; keyset pages of a search; the capped count and the desk's first read
(``order_queue_head``), and the desk showing "N+" when the count stopped.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from tests.conftest import _pg_admin_engine, _pg_url_for
from tests.orders_seed import HEADER, seed_orders
from wsms_tui import order_exceptions, orders
from wsms_tui.database import Database
from wsms_tui.db.engine import make_engine
from wsms_tui.db.migrate import upgrade
from wsms_tui.db.models_orders import SalesChannel, SalesOrder
from wsms_tui.order_import import import_orders
from wsms_tui.security import Actor

NAMES = ["Jürgen Müller", "O'Brien \"Bob\"", "a_b%c d", "张伟", "Ünal Yılmaz", "STRASSE AG", "Abc Def", "Bobby Tables"]
SEARCHES = ["customer 1", "CUSTOMER 12", "tomer 14", "Customer 150", "müller", "Müller", "jürgen", "bob", '"bob"',
            "o'brien", "a_b", "b%c", "%", "__", "张伟", "伟", "ab", "zz", "stras", "R 1", "Q0003", "q0003", "P2",
            "SO-3", "so-4", "13812345678", "138 1234 5678", "+1 212 555 0100", "abc def", "  customer 7  ", "ünal",
            "nothing"]


def seed(db: Database, admin: Actor, tmp_path: Path, n: int = 150) -> None:
    """seed_orders and ``n`` "Customer i" orders plus a few odd names, over both channels."""
    seed_orders(db, admin)
    path = tmp_path / "orders.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        f.write(HEADER)
        w = csv.writer(f)
        names = [f"Customer {i}" for i in range(1, n + 1)] + NAMES
        for i, name in enumerate(names):
            phone = "13812345678" if i % 5 == 0 else "+1 212 555 0100"
            w.writerow([f"Q{i:04d}", "2026-11-20", name, phone, "1 Main St", "New York", "10001", "US", "",
                        "P2" if i % 7 == 0 else "P1", 1, ""])
    import_orders(db, admin, path, channel="SHOP")


def everything(db: Database, admin: Actor, search: str) -> list[int]:
    return [r.id for r in orders.order_page(db, admin, orders.OrderFilter(search=search), limit=10_000)]


def drop_search_index(db: Database) -> None:
    """The database as a backend without the substring index leaves it (no trigram tokenizer, no pg_trgm)."""
    def work(s: Session) -> None:
        if db.is_sqlite:
            for name in ("ai", "ad", "au"):
                s.execute(text(f"DROP TRIGGER sales_order_search_{name}"))
            s.execute(text("DROP TABLE sales_order_search"))
        else:
            s.execute(text("DROP INDEX ix_sales_order_customer_trgm"))

    db.write(work)


def indexed(db: Database) -> bool:
    return db.read(orders._queue_session)


def test_the_substring_index_finds_what_the_scan_finds(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed(db, admin, tmp_path)
    assert indexed(db)
    with_index = {t: everything(db, admin, t) for t in SEARCHES}
    assert len(with_index["customer 1"]) == 1 + 10 + 50 + 1  # 1, 10-19, 100-149, 150
    assert len(with_index["CUSTOMER 12"]) == 1 + 10  # 12, 120-129: case-insensitive
    n = len(with_index["bob"])
    assert n == 2 and with_index['"bob"'] == with_index["bob"][1:]  # Bobby Tables, O'Brien "Bob"
    assert len(with_index["müller"]) == len(with_index["Müller"]) == len(with_index["jürgen"]) == 1
    assert len(with_index["张伟"]) == len(with_index["伟"]) == 1  # under 3 characters: scanned
    assert len(with_index["Q0003"]) == 1 and with_index["q0003"] == []  # refs are exact
    assert orders.order_page(db, admin, orders.OrderFilter(search="SO-3"))[0].id == 3
    assert with_index["nothing"] == [] and with_index["zz"] == []
    assert sorted(with_index["%"], reverse=True) == with_index["%"] and len(with_index["%"]) == 150 + len(NAMES)
    drop_search_index(db)
    assert not indexed(db)
    assert {t: everything(db, admin, t) for t in SEARCHES} == with_index


def test_search_pages_and_filters(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed(db, admin, tmp_path)
    for f in (orders.OrderFilter(search="customer 1"), orders.OrderFilter(search="13812345678"),
              orders.OrderFilter(search="P2"), orders.OrderFilter(search="customer 1", status=("new",)),
              orders.OrderFilter(search="stomer", channel="SHOP"), orders.OrderFilter(search="stomer", channel="X")):
        whole = [r.id for r in orders.order_page(db, admin, f, limit=10_000)]
        paged: list[int] = []
        before = None
        while True:
            page = orders.order_page(db, admin, f, limit=7, before_id=before)
            paged += [r.id for r in page]
            if len(page) < 7:
                break
            before = page[-1].id
        assert paged == whole and orders.order_count(db, admin, f) == len(whole)
        assert whole == sorted(whole, reverse=True)
    assert orders.order_count(db, admin, orders.OrderFilter(search="stomer", channel="X")) == 0


def test_several_statuses_page_and_count(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed(db, admin, tmp_path, n=60)
    db.write(lambda s: s.execute(text("UPDATE sales_order SET status = 'hold' WHERE id % 3 = 0")))
    status = dict(db.read(lambda s: s.execute(text("SELECT id, status FROM sales_order")).all()))
    for sts in (("new", "hold"), ("hold", "new", "hold"), ("hold",), ("cancelled", "hold")):
        f = orders.OrderFilter(status=sts)
        want = sorted((i for i, st in status.items() if st in sts), reverse=True)
        paged: list[int] = []
        before = None
        while True:
            page = orders.order_page(db, admin, f, limit=7, before_id=before)
            paged += [r.id for r in page]
            if len(page) < 7:
                break
            before = page[-1].id
        assert paged == want
        assert [orders.order_count(db, admin, f, cap=c) for c in (None, 5)] == [len(want), min(len(want), 6)]


def test_the_index_follows_inserts_updates_and_deletes(db: Database, admin: Actor, tmp_path: Path) -> None:
    seed(db, admin, tmp_path, n=5)
    (jurgen,) = everything(db, admin, "jürgen")
    order_exceptions.fix_address(db, admin, jurgen, customer="Hans Meier")
    assert everything(db, admin, "jürgen") == [] and everything(db, admin, "hans mei") == [jurgen]

    def add(s: Session) -> int:
        now = datetime.now(UTC)
        o = SalesOrder(channel_id=1, external_ref="RAW1", customer="Zacharias Zorn", created_at=now, updated_at=now)
        s.add(o)
        s.flush()
        assert o.id is not None
        return o.id

    oid = db.write(add)
    assert everything(db, admin, "charias z") == [oid]
    db.write(lambda s: s.execute(text("DELETE FROM sales_order WHERE id = :i"), {"i": oid}))
    assert everything(db, admin, "charias z") == []
    if db.is_sqlite:  # the FTS index agrees with its content table
        db.write(lambda s: s.execute(text("INSERT INTO sales_order_search (sales_order_search) "
                                          "VALUES ('integrity-check')")))


def test_capped_count_and_the_queue_head(db: Database, admin: Actor, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    seed(db, admin, tmp_path, n=22)
    n = 22 + len(NAMES)
    everyone = orders.OrderFilter()
    assert orders.order_count(db, admin, everyone) == n
    assert [orders.order_count(db, admin, everyone, cap=c) for c in (0, 10, n - 1, n, 1000)] == [1, 11, n, n, n]
    search = orders.OrderFilter(search="customer 2")  # 2, 20, 21, 22
    assert [orders.order_count(db, admin, search, cap=c) for c in (0, 3, 4)] == [1, 4, 4]

    head = orders.order_queue_head(db, admin, everyone, limit=5, cap=10)
    assert [r.id for r in head.rows] == [r.id for r in orders.order_page(db, admin, everyone, limit=5)]
    assert (head.total, head.capped) == (10, True)  # more than 10
    head = orders.order_queue_head(db, admin, everyone, limit=5, cap=n)
    assert (len(head.rows), head.total, head.capped) == (5, n, False)
    head = orders.order_queue_head(db, admin, search, limit=5, cap=1)  # not a full page: it is the whole answer
    assert (len(head.rows), head.total, head.capped) == (4, 4, False)
    monkeypatch.setattr(orders, "COUNT_CAP", 7)
    head = orders.order_queue_head(db, admin, everyone, limit=5)
    assert (head.total, head.capped) == (7, True)


@pytest.fixture
def empty_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any schema."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    request.getfixturevalue("pg_template")  # no server: skipped (or failed in CI) like every PostgreSQL test
    admin = _pg_admin_engine()
    name = f"wsms_old_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield _pg_url_for(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrading_an_older_database_indexes_its_orders(empty_url: str) -> None:
    engine = make_engine(empty_url)
    upgrade(engine, "0008")
    with Session(engine) as s:
        now = datetime.now(UTC)
        s.add(SalesChannel(name="SHOP"))
        s.flush()
        s.add(SalesOrder(channel_id=1, external_ref="OLD1", customer="Wilhelmina Old", created_at=now,
                         updated_at=now))
        s.commit()
    upgrade(engine)
    engine.dispose()
    db = Database.open(empty_url)
    try:
        admin = db.system_actor("test")
        assert indexed(db)
        assert everything(db, admin, "HELMINA O") == [1]
    finally:
        db.dispose()
