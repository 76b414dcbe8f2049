"""Schema migrations: Alembic scripts shipped inside the package, run programmatically.

Every command but ``wsms db upgrade`` calls ``check_schema`` first so that an un-migrated or a
newer database stops with a message naming the fix instead of failing half-way.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaMismatch(RuntimeError):
    """The database schema is not the one this wsms expects; the message names the fix."""


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; returns (before, after)."""
    before = current_revision(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return before, current_revision(engine) or ""


def check_schema(engine: Engine) -> None:
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaMismatch(
            "this database has no wsms schema yet: run `wsms db upgrade` (or `wsms demo` for a demo warehouse)"
        )
    known = {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current not in known:
        raise SchemaMismatch(
            f"this database is at schema {current}, newer than this wsms knows (latest {head}): "
            "upgrade wsms to the version that wrote it"
        )
    raise SchemaMismatch(f"this database is at schema {current}, older than {head}: run `wsms db upgrade`")
