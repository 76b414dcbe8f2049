"""Schema migrations: Alembic scripts shipped inside the package, run programmatically.

Every command but ``wsms db upgrade`` calls ``check_schema`` first so that an un-migrated or a
newer database stops with a message naming the fix instead of failing half-way.

Modules may add their tables on parallel branches of the revision graph (each revision names the
revision it builds on); ``upgrade`` applies every head and ``check_schema`` compares the set of
heads, so independent modules never fight over "the next revision number".
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


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> frozenset[str]:
    return frozenset(_script().get_heads())


def head_revision() -> str:
    """The schema version this wsms expects, as one string (heads joined by '+')."""
    return "+".join(sorted(head_revisions()))


def current_revisions(engine: Engine) -> frozenset[str]:
    with engine.connect() as conn:
        return frozenset(MigrationContext.configure(conn).get_current_heads())


def current_revision(engine: Engine) -> str | None:
    revs = current_revisions(engine)
    return "+".join(sorted(revs)) if revs else None


def upgrade(engine: Engine, revision: str = "heads") -> tuple[str | None, str]:
    """Bring the schema to every head (or ``revision``); returns (before, after)."""
    before = current_revision(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return before, current_revision(engine) or ""


def check_schema(engine: Engine) -> None:
    current = current_revisions(engine)
    heads = head_revisions()
    if current == heads:
        return
    if not current:
        raise SchemaMismatch(
            "this database has no wsms schema yet: run `wsms db upgrade` (or `wsms demo` for a demo warehouse)"
        )
    known = {s.revision for s in _script().walk_revisions()}
    unknown = sorted(current - known)
    if unknown:
        raise SchemaMismatch(
            f"this database is at schema {'+'.join(unknown)}, newer than this wsms knows "
            f"(latest {head_revision()}): upgrade wsms to the version that wrote it"
        )
    raise SchemaMismatch(
        f"this database is at schema {'+'.join(sorted(current))}, older than {head_revision()}: "
        "run `wsms db upgrade`"
    )
