"""The rooms stay apart: services, db/ and devices/ never load Textual; each room imports only what
ARCHITECTURE.md allows (checked on the source with ast, and at run time in a clean interpreter)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UI_MODULES = {"app.py"}  # the Textual App lives in wsms_tui/ but nothing else there may import Textual


def _module_level(tree: ast.AST) -> list[ast.AST]:
    """Nodes outside function bodies: a lazy import inside a command function is allowed."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            stack.extend(ast.iter_child_nodes(node))
    return out


def imports_of(path: Path, *, module_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in (_module_level(tree) if module_level_only else ast.walk(tree)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def files(room: str) -> list[Path]:
    return sorted(p for p in (ROOT / room).rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", files("db"), ids=lambda p: str(p.relative_to(ROOT)))
def test_db_imports_only_sqlalchemy_world(path: Path) -> None:
    bad = {m for m in imports_of(path)
           if m.split(".")[0] in {"textual", "rich", "typer", "serial"}
           or (m.startswith("wsms_tui") and not m.startswith("wsms_tui.db"))}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", files("devices"), ids=lambda p: str(p.relative_to(ROOT)))
def test_devices_import_nothing_of_ours(path: Path) -> None:
    bad = {m for m in imports_of(path)
           if m.split(".")[0] in {"textual", "sqlalchemy", "sqlmodel"}
           or (m.startswith("wsms_tui") and not m.startswith("wsms_tui.devices"))}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", files("screens"), ids=lambda p: str(p.relative_to(ROOT)))
def test_screens_hold_no_sql(path: Path) -> None:
    bad = {m for m in imports_of(path)
           if m.split(".")[0] in {"sqlalchemy", "sqlmodel", "sqlite3", "psycopg"} or m.startswith("wsms_tui.db")}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", [p for p in files("wsms_tui") if p.name not in UI_MODULES],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_services_never_import_textual_or_screens(path: Path) -> None:
    bad = {m for m in imports_of(path, module_level_only=True)
           if m.split(".")[0] == "textual" or m.startswith("wsms_tui.screens") or m == "wsms_tui.app"}
    assert not bad, f"{path.name} imports {bad}"


def test_cli_and_services_do_not_load_textual_at_run_time() -> None:
    mods = ["wsms_tui.cli", "wsms_tui.ledger", "wsms_tui.stock", "wsms_tui.catalog", "wsms_tui.users",
            "wsms_tui.audit", "wsms_tui.db.models", "wsms_tui.db.migrate", "wsms_tui.devices.scan"]
    code = "import sys\n" + "".join(f"import {m}\n" for m in mods) + (
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not loaded, loaded\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
