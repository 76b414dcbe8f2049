"""Alembic environment for wsms: runs on the connection handed in by ``wsms_tui.db.migrate``."""

from __future__ import annotations

import importlib
import pkgutil

from alembic import context
from sqlmodel import SQLModel

import wsms_tui.db

# register every table: db/models.py and each functional area's own db/models_<area>.py
for _mod in pkgutil.iter_modules(wsms_tui.db.__path__):
    if _mod.name.startswith("models"):
        importlib.import_module(f"wsms_tui.db.{_mod.name}")

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        from wsms_tui.db.engine import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.connect() as conn:
            _run(conn)
        return
    _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("wsms migrations run online only: use `wsms db upgrade`")
run_migrations_online()
