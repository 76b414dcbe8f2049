"""Engines and transactions for SQLite and PostgreSQL.

SQLite: WAL, ``synchronous=FULL``, foreign keys, a busy timeout, and ``BEGIN IMMEDIATE`` for
write transactions so two writers queue instead of failing on lock upgrade. PostgreSQL: psycopg 3,
READ COMMITTED, row locks taken by the services with ``SELECT … FOR UPDATE``.
``run_in_transaction`` retries on SQLite busy and PostgreSQL 40001/40P01 with jittered backoff.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 10_000
RETRYABLE_SQLSTATES = {"40001", "40P01"}


class DatabaseUnavailable(RuntimeError):
    """The database URL does not answer (message is one clear line)."""


class RetriesExhausted(RuntimeError):
    """A transaction kept failing on lock conflicts."""


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with the pragmas and begin-mode wsms relies on."""
    url = normalise_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
        )
        _install_sqlite_hooks(engine)
        return engine
    if u.get_backend_name() == "postgresql":
        return create_engine(
            url,
            echo=echo,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5, "application_name": "wsms"},
        )
    raise DatabaseUnavailable(
        f"unsupported database URL {safe_url(url)!r}: use sqlite:///FILE or postgresql://USER@HOST/DB"
    )


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = "DEFERRED" if conn.get_execution_options().get("wsms_readonly") else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")


def check_connection(engine: Engine) -> None:
    """Open one connection; turn any driver error into one clear line."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"cannot reach the database {safe_url(str(engine.url))}: {reason}"
        ) from None


def is_retryable(exc: BaseException) -> bool:
    """SQLite busy/locked, PostgreSQL serialization failure or deadlock."""
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        sqlstate = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "diag", None), "sqlstate", None)
        if sqlstate in RETRYABLE_SQLSTATES:
            return True
        if isinstance(exc, OperationalError):
            msg = str(orig).lower()
            return "database is locked" in msg or "database is busy" in msg or "database table is locked" in msg
    return False


def run_in_transaction(
    engine: Engine,
    fn: Callable[[Session], T],
    *,
    attempts: int = 12,
    readonly: bool = False,
) -> T:
    """Run ``fn(session)`` in one transaction, retrying lock conflicts with jittered backoff."""
    delay = 0.005
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(engine, readonly=readonly) as session:
                return fn(session)
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == attempts:
                if is_retryable(exc):
                    raise RetriesExhausted(
                        "the database stayed busy (other desks are writing); try again in a moment"
                    ) from exc
                raise
        time.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(delay * 2, 0.5)
    raise AssertionError("unreachable")


@contextmanager
def session_scope(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on any error."""
    conn = engine.connect()
    if readonly:
        conn = conn.execution_options(wsms_readonly=True)
    try:
        with Session(bind=conn, expire_on_commit=False) as session, conn.begin():
            yield session
            session.flush()
    finally:
        conn.close()
