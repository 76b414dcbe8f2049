"""Schema migrations: Alembic scripts shipped inside the package, run programmatically.

Every command but ``wsms db upgrade`` calls ``check_schema`` first so that an un-migrated or a
newer database stops with a message naming the fix instead of failing half-way.

Modules may add their tables on parallel branches of the revision graph (each revision names the
revision it builds on); ``upgrade`` applies every head and ``check_schema`` compares the set of
heads, so independent modules never fight over "the next revision number".
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class SchemaMismatch(RuntimeError):
    """The database schema is not the one this wsms expects; the message names the fix."""


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config  # Alembic is loaded only to migrate (start-up stays fast)

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


@cache
def revision_graph() -> dict[str, tuple[str, ...]]:
    """revision -> the revisions it builds on, read from the shipped scripts without loading Alembic
    (every command checks the schema at start; ``tests/test_cli.py`` checks this equals Alembic's view)."""
    graph: dict[str, tuple[str, ...]] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.target if isinstance(node, ast.AnnAssign) else (
                node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and node.value:
                values[target.id] = ast.literal_eval(node.value)
        if "revision" in values:
            down = values.get("down_revision")
            graph[str(values["revision"])] = tuple(down) if isinstance(down, tuple | list) else (
                (str(down),) if down else ())
    return graph


def head_revisions() -> frozenset[str]:
    graph = revision_graph()
    return frozenset(graph) - {d for downs in graph.values() for d in downs}


def head_revision() -> str:
    """The schema version this wsms expects, as one string (heads joined by '+')."""
    return "+".join(sorted(head_revisions()))


def current_revisions(engine: Engine) -> frozenset[str]:
    with engine.connect() as conn:
        conn = conn.execution_options(wsms_readonly=True)
        if not inspect(conn).has_table("alembic_version"):
            return frozenset()
        return frozenset(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())


def current_revision(engine: Engine) -> str | None:
    revs = current_revisions(engine)
    return "+".join(sorted(revs)) if revs else None


def upgrade(engine: Engine, revision: str = "heads") -> tuple[str | None, str]:
    """Bring the schema to every head (or ``revision``); returns (before, after). At the heads, the order
    search's optional index is made too if it is missing and now possible (``ensure_search_index``)."""
    from alembic import command

    before = current_revision(engine)
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    if revision == "heads":
        ensure_search_index(engine)
    return before, current_revision(engine) or ""


def _search_migration() -> Any:
    """Migration 0009's module (it knows how to make the order search's index on either backend)."""
    import importlib.util

    path = next((MIGRATIONS_DIR / "versions").glob("0009_*.py"))
    spec = importlib.util.spec_from_file_location("wsms_migration_0009", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def search_index(engine: Engine) -> bool:
    """Whether the order queue's customer search has its substring index (FTS5 trigram table on SQLite, the
    pg_trgm GIN index on PostgreSQL); without it the search scans, with the same answers."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                        "AND name = 'sales_order_search'").first() is not None
        return bool(conn.exec_driver_sql("SELECT to_regclass('ix_sales_order_customer_trgm') IS NOT NULL").scalar())


def ensure_search_index(engine: Engine) -> bool:
    """Make the order search's substring index when it is missing and now possible: migration 0009 leaves it
    out when this SQLite has no FTS5 trigram tokenizer or PostgreSQL may not create pg_trgm, and installing
    those later should not need a new migration. True when it was made now."""
    if search_index(engine):
        return False
    m = _search_migration()
    with engine.begin() as conn:
        made = bool(m._create_sqlite_search(conn) if conn.dialect.name == "sqlite" else m._create_pg_trgm_index(conn))
    return made


def check_schema(engine: Engine) -> None:
    current = current_revisions(engine)
    heads = head_revisions()
    if current == heads:
        return
    if not current:
        raise SchemaMismatch(
            "this database has no wsms schema yet: run `wsms db upgrade` (or `wsms demo` for a demo warehouse)"
        )
    known = set(revision_graph())
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
