"""Shared fixtures: every database test runs on SQLite (a file on disk) and on PostgreSQL.

PostgreSQL comes from ``WSMS_TEST_PG_URL`` (default: the local server, database ``test``). Each test
gets its own database: SQLite copies a migrated template file, PostgreSQL clones a migrated
template database (``CREATE DATABASE … TEMPLATE``) and drops it afterwards. With ``CI=true`` an
unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os

os.environ["WSMS_LANGUAGE"] = "en"  # tests read English on any machine; subprocesses inherit it

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from wsms_tui.database import Database
from wsms_tui.db.engine import make_engine
from wsms_tui.db.migrate import upgrade
from wsms_tui.security import Actor

PG_URL = os.environ.get("WSMS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ["sqlite", "postgresql"]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})


def _pg_url_for(dbname: str) -> str:
    return make_url(PG_URL).set(database=dbname).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture
def snap_file_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh migrated SQLite database in a file named ``wsms.db`` (the name the status bar shows in
    snapshots), for the 80×24 snapshot tests to seed with fixed data."""
    path = tmp_path / "wsms.db"
    shutil.copy(sqlite_template, path)
    db = Database.open(f"sqlite:///{path}")
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    try:
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        if IN_CI:
            pytest.fail(f"PostgreSQL must run in CI but is unreachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}")
    name = f"wsms_tmpl_{_worker()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_pg_url_for(name))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def new_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, migrated database of ``backend``; removed when the test ends."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / f"wsms-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    tmpl: str = request.getfixturevalue("pg_template")
    name = f"wsms_t_{_worker()}_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_engine()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return _pg_url_for(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return new_database_url(backend, request, tmp_path)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.open(db_url)
    yield database
    database.dispose()


@pytest.fixture
def admin(db: Database) -> Actor:
    return db.system_actor("test")
