"""order queue: an index for the channel filter in id order, and a substring index for the customer search
(SQLite: an FTS5 trigram table kept by triggers; PostgreSQL: a pg_trgm GIN index on lower(customer))

Both substring indexes are optional: when this SQLite has no FTS5 trigram tokenizer (SQLite < 3.34) or the
PostgreSQL user may not create the pg_trgm extension, the migration leaves them out and the search scans
(same results, slower). ``orders._order_query`` uses the FTS table only when it exists.

SQLite: a later migration that rebuilds ``sales_order`` (``batch_alter_table``) drops these triggers with
the old table and must recreate them (``_create_sqlite_search``), or the search index goes stale.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text
from sqlalchemy.engine import Connection

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS = 'sales_order_search'
TRIGGERS = {
    'ai': f"AFTER INSERT ON sales_order BEGIN "
          f"INSERT INTO {FTS} (rowid, customer) VALUES (new.id, new.customer); END",
    'ad': f"AFTER DELETE ON sales_order BEGIN "
          f"INSERT INTO {FTS} ({FTS}, rowid, customer) VALUES ('delete', old.id, old.customer); END",
    'au': f"AFTER UPDATE OF customer ON sales_order BEGIN "
          f"INSERT INTO {FTS} ({FTS}, rowid, customer) VALUES ('delete', old.id, old.customer); "
          f"INSERT INTO {FTS} (rowid, customer) VALUES (new.id, new.customer); END",
}
PG_INDEX = 'ix_sales_order_customer_trgm'


def _create_sqlite_search(conn: Connection) -> bool:
    """The FTS5 trigram table over ``sales_order.customer`` (external content), its triggers, filled."""
    try:
        with conn.begin_nested():
            conn.execute(text(f"CREATE VIRTUAL TABLE {FTS} USING fts5(customer, content='sales_order', "
                              "content_rowid='id', tokenize='trigram')"))
    except Exception:  # noqa: BLE001 - no FTS5 or no trigram tokenizer in this SQLite: the search scans
        return False
    for name, body in TRIGGERS.items():
        conn.execute(text(f"CREATE TRIGGER {FTS}_{name} {body}"))
    conn.execute(text(f"INSERT INTO {FTS} ({FTS}) VALUES ('rebuild')"))
    return True


def _create_pg_trgm_index(conn: Connection) -> bool:
    """pg_trgm (a trusted extension: the database owner may create it) and a GIN index on lower(customer)."""
    try:
        with conn.begin_nested():
            if not conn.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")).first():
                conn.execute(text("CREATE EXTENSION pg_trgm"))
            conn.execute(text(f"CREATE INDEX {PG_INDEX} ON sales_order USING gin (lower(customer) gin_trgm_ops)"))
    except Exception:  # noqa: BLE001 - not available or not permitted: the search scans
        return False
    return True


def upgrade() -> None:
    op.create_index('ix_sales_order_channel_id', 'sales_order', ['channel_id', 'id'], unique=False)
    conn = op.get_bind()
    if conn.dialect.name == 'sqlite':
        _create_sqlite_search(conn)
    elif conn.dialect.name == 'postgresql':
        _create_pg_trgm_index(conn)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == 'sqlite':
        for name in TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {FTS}_{name}"))
        conn.execute(text(f"DROP TABLE IF EXISTS {FTS}"))
    elif conn.dialect.name == 'postgresql':
        conn.execute(text(f"DROP INDEX IF EXISTS {PG_INDEX}"))
    op.drop_index('ix_sales_order_channel_id', table_name='sales_order')
