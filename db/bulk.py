"""Bulk writes through the driver's executemany, for the hot paths (order import, allocation).

SQLAlchemy's Core executemany builds a parameter dict per row; with 100k rows that costs more than
the database. These helpers hand plain tuples straight to the driver (``?`` for sqlite3, ``%s``
for psycopg) in the caller's transaction. Values must already be in storage form: scaled integers
for ``Qty``/``Money`` columns, and timestamps through ``stamp`` (SQLite keeps SQLAlchemy's naive
UTC text form, PostgreSQL takes aware datetimes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session


def _ph(s: Session) -> str:
    return "?" if s.get_bind().dialect.name == "sqlite" else "%s"


def stamp(s: Session, at: datetime) -> Any:
    """A timestamp as the driver should receive it for a ``DateTime(timezone=True)`` column."""
    if s.get_bind().dialect.name == "sqlite":
        return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return at


def insert_rows(s: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT many rows (tuples in ``columns`` order) with one executemany."""
    if not rows:
        return
    ph = _ph(s)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([ph] * len(columns))})"
    s.connection().exec_driver_sql(sql, list(rows))  # type: ignore[arg-type]


def execute_many(s: Session, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run a statement written with ``?`` placeholders once per row (``?`` becomes ``%s`` on PostgreSQL)."""
    if not rows:
        return
    if _ph(s) != "?":
        sql = sql.replace("?", "%s")
    s.connection().exec_driver_sql(sql, list(rows))  # type: ignore[arg-type]
