"""The migrations and the models describe one schema, on both backends, and every migration can be undone.

A model changed without a migration (or the reverse) would pass every other test, which all run on migrated
databases, and then break the first installation whose schema came from the other side."""

from __future__ import annotations

import warnings

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, text
from sqlmodel import SQLModel

import wsms_tui.db.models  # noqa: F401  (every table on the metadata)
from wsms_tui.db.migrate import alembic_config, current_revisions, head_revisions, search_index, upgrade

# the order search by customer is made by migration 0009 in raw SQL: an FTS5 table and its shadow tables on
# SQLite, a pg_trgm index on PostgreSQL
NOT_MODELLED = ("sales_order_search", "ix_sales_order_customer_trgm")


def _differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            # expression indexes (uq_quant_key …) cannot be reflected; Alembic warns and skips them
            warnings.simplefilter("ignore")
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    return [d for d in diff if not (isinstance(d, tuple) and d[0] in ("remove_table", "remove_index")
                                    and str(d[1].name).startswith(NOT_MODELLED))]


def test_the_migrated_schema_is_the_models_schema(db_url: str) -> None:
    assert _differences(db_url) == []


def test_every_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        cfg = alembic_config(engine)
        command.downgrade(cfg, "base")
        left = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert left == set(), f"tables left after downgrading to base: {sorted(left)}"
        command.upgrade(cfg, "heads")
        assert current_revisions(engine) == head_revisions()
    finally:
        engine.dispose()
    assert _differences(db_url) == []


def test_db_upgrade_makes_the_search_index_missed_by_0009(db_url: str) -> None:
    """0009 leaves the customer search's index out when FTS5 trigram / pg_trgm are missing; once they are
    installed, ``wsms db upgrade`` (already at the heads) makes it, filled with the orders already there."""
    from tests.test_cli import wsms
    from wsms_tui import orders
    from wsms_tui.database import Database
    from wsms_tui.db.models_orders import SalesChannel, SalesOrder

    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            cid = conn.execute(insert(SalesChannel).values(name="WEB", rank=1, allow_split=False,
                                                           default_format="auto", active=True)
                               .returning(SalesChannel.id)).scalar_one()
            conn.execute(insert(SalesOrder).values(
                channel_id=cid, external_ref="W-1", customer="Zhang Wei", priority=0, express=False, status="new",
                created_at=text("CURRENT_TIMESTAMP"), updated_at=text("CURRENT_TIMESTAMP")))
            if conn.dialect.name == "sqlite":  # as 0009 leaves a SQLite without the trigram tokenizer
                for name in ("ai", "ad", "au"):
                    conn.execute(text(f"DROP TRIGGER sales_order_search_{name}"))
                conn.execute(text("DROP TABLE sales_order_search"))
            else:
                conn.execute(text("DROP INDEX ix_sales_order_customer_trgm"))
        assert not search_index(engine)
        assert "customer search: scans every order" in wsms(db_url, "db", "status").stdout
        r = wsms(db_url, "db", "upgrade")
        assert r.exit_code == 0 and "already at" in r.stdout
        assert search_index(engine)
        assert "customer search: indexed" in wsms(db_url, "db", "status").stdout
        assert upgrade(engine)[0] == upgrade(engine)[1]  # again: nothing to do, nothing fails
    finally:
        engine.dispose()
    db = Database.open(db_url)
    try:
        found = orders.order_page(db, db.system_actor("test"), orders.OrderFilter(search="ang we"))
        assert [o.external_ref for o in found] == ["W-1"]
    finally:
        db.dispose()
