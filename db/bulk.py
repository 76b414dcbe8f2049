"""Bulk writes through the driver, for the hot paths (order import, allocation).

SQLAlchemy's Core executemany builds a parameter dict per row; with 100k rows that costs more than
the database. These helpers hand plain tuples straight to the driver (``?`` for sqlite3, ``%s``
for psycopg) in the caller's transaction. Values must already be in storage form: scaled integers
for ``Qty``/``Money`` columns, and timestamps through ``stamp`` (SQLite keeps SQLAlchemy's naive
UTC text form, PostgreSQL ISO text with the offset). PostgreSQL inserts go through COPY.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlmodel import Session


def _ph(s: Session) -> str:
    return "?" if s.get_bind().dialect.name == "sqlite" else "%s"


def stamp(s: Session, at: datetime) -> Any:
    """A timestamp as the driver should receive it for a ``DateTime(timezone=True)`` column: SQLite's naive
    UTC text; on PostgreSQL ISO text with its offset (exact, and COPY writes text 3× faster than datetimes)."""
    if s.get_bind().dialect.name == "sqlite":
        return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return at.isoformat(sep=" ")


def insert_rows(s: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """INSERT many rows (tuples in ``columns`` order): multi-row INSERTs on SQLite, COPY on PostgreSQL."""
    if not rows:
        return
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        import psycopg

        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        try:
            with dbapi.cursor() as cur, cur.copy(sql) as cp:  # type: ignore[attr-defined]
                for row in rows:
                    cp.write_row(row)
        except psycopg.Error as exc:  # as SQLAlchemy would raise it: IntegrityError, retryable 40001 …
            raise DBAPIError.instance(sql, None, exc, psycopg.Error, dialect=conn.dialect) from exc
        return
    # SQLite: multi-row INSERTs (as many rows per statement as its bound-variable limit allows) instead of
    # executemany: fewer statement runs and savepoints, and an FTS5 index kept by triggers flushes once per
    # statement, not once per row
    import sqlite3
    from itertools import chain

    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    # at most ~5000 values a statement: a statement is compiled per distinct row count and SQLite compiles
    # a 25k-row VALUES list (Debian's limit is 250k variables) slower than it runs 50 cached 500-row ones
    per = max(1, min(5000, dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) // len(columns))  # type: ignore[attr-defined]
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    one = f"({', '.join(['?'] * len(columns))})"
    full = ""
    for i in range(0, len(rows), per):
        part = rows[i:i + per]
        if len(part) < per:
            sql = head + ", ".join([one] * len(part))
        else:
            sql = full = full or head + ", ".join([one] * per)
        conn.exec_driver_sql(sql, tuple(chain.from_iterable(part)))


def update_by_id(s: Session, table: str, sets: Sequence[tuple[str, str, str]], rows: Sequence[Sequence[Any]]) -> None:
    """UPDATE many rows by ``id`` (each id once). ``sets`` are (column, "set" | "add", PostgreSQL type); each
    row is ``(id, value, …)`` in ``sets`` order. SQLite: UPDATE … FROM (VALUES …) in chunks; PostgreSQL: one
    UPDATE … FROM unnest()."""
    if not rows:
        return
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        cols = ", ".join(f"{c} = {'t.' + c + ' + ' if how == 'add' else ''}u.{c}" for c, how, _t in sets)
        arrays = ", ".join(["%s::bigint[]", *(f"%s::{t}[]" for _c, _h, t in sets)])
        names = ", ".join(["id", *(c for c, _h, _t in sets)])
        sql = f"UPDATE {table} AS t SET {cols} FROM unnest({arrays}) AS u({names}) WHERE t.id = u.id"
        conn.exec_driver_sql(sql, tuple([list(col) for col in zip(*rows, strict=True)]))
        return
    import sqlite3

    if sqlite3.sqlite_version_info < (3, 33):  # no UPDATE … FROM: one UPDATE per row
        cols = ", ".join(f"{c} = {c + ' + ' if how == 'add' else ''}?" for c, how, _t in sets)
        conn.exec_driver_sql(f"UPDATE {table} SET {cols} WHERE id = ?",
                             [(*r[1:], r[0]) for r in rows])  # type: ignore[arg-type]
        return
    # UPDATE … FROM (VALUES …) of ~5000 values a statement: 30-40 % less than one UPDATE per row
    # (an UPDATE of a table with triggers or foreign keys builds a scratch table per run)
    width = len(sets) + 1
    cols = ", ".join(f"{c} = {'t.' + c + ' + ' if how == 'add' else ''}v.column{k}"
                     for k, (c, how, _t) in enumerate(sets, 2))
    one = f"({', '.join(['?'] * width)})"
    per = max(1, 5000 // width)
    sqls: dict[int, str] = {}
    for i in range(0, len(rows), per):
        part = rows[i:i + per]
        n = len(part)
        if n not in sqls:
            sqls[n] = f"UPDATE {table} AS t SET {cols} FROM (VALUES {', '.join([one] * n)}) AS v WHERE t.id = v.column1"
        conn.exec_driver_sql(sqls[n], tuple(chain.from_iterable(part)))


def execute_many(s: Session, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Run a statement written with ``?`` placeholders once per row (``?`` becomes ``%s`` on PostgreSQL)."""
    if not rows:
        return
    if _ph(s) != "?":
        sql = sql.replace("?", "%s")
    s.connection().exec_driver_sql(sql, list(rows))  # type: ignore[arg-type]


def fetch(s: Session, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Run a SELECT written with ``?`` placeholders (``%s`` on PostgreSQL) and return its rows as tuples."""
    if _ph(s) != "?":
        sql = sql.replace("?", "%s")
    conn = s.connection()
    result = conn.exec_driver_sql(sql, tuple(params))  # type: ignore[arg-type]
    try:  # the driver's own tuples: no Row object per row
        return result.cursor.fetchall()  # type: ignore[union-attr]
    except conn.dialect.dbapi.Error as exc:  # type: ignore[union-attr]  # as SQLAlchemy would raise it
        raise DBAPIError.instance(sql, params, exc, conn.dialect.dbapi.Error,  # type: ignore[union-attr]
                                  dialect=conn.dialect) from exc
    finally:
        result.close()


def any_of(s: Session, column: str, values: Sequence[int]) -> tuple[str, Any]:
    """``column`` is one of many integer ``values``, as one bound parameter (no IN list to compile):
    ``(sql, param)`` — ``json_each`` on SQLite, ``unnest(bigint[])`` on PostgreSQL (a hashed semi-join,
    never a per-row scan of the array)."""
    if s.get_bind().dialect.name == "sqlite":
        return f"{column} IN (SELECT value FROM json_each(?))", json.dumps(list(values))
    return f"{column} IN (SELECT unnest(?::bigint[]))", list(values)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector around a bulk step that builds many short-lived lists and
    tuples (none of them cyclic): otherwise hundreds of collections, each walking every live object,
    cost a third of an allocation run. A no-op when the collector is already off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
