"""User-facing text is ready for a catalog (docs/ARCHITECTURE.md "Language"): every ``_()``, ``ngettext()``
and ``N_()`` takes its text as a literal, so ``make pot`` (xgettext) extracts exactly the messages the code
translates at run time."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ROOMS = ("wsms_tui", "screens", "db", "devices")
#: calls that translate a value marked elsewhere with N_() — (file, the call as written)
DYNAMIC = {("wsms_tui/printing.py", "_(p)")}  # the printer problems of devices/printer.py


def _calls() -> tuple[set[str], list[str]]:
    """(the literal messages, the calls whose text is not a literal)."""
    messages: set[str] = set()
    bad: list[str] = []
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for fstring in (n for n in ast.walk(tree) if isinstance(n, ast.JoinedStr)):
                bad += [f"{rel}:{c.lineno}: {ast.unparse(c)[:100]} inside an f-string (xgettext does not look there)"
                        for c in ast.walk(fstring)
                        if isinstance(c, ast.Call) and isinstance(c.func, ast.Name) and c.func.id in ("_", "ngettext")]
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in ("_", "N_", "ngettext")):
                    continue
                n = 2 if node.func.id == "ngettext" else 1
                args = node.args[:n]
                if len(args) == n and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                    messages.update(a.value for a in args if isinstance(a, ast.Constant))
                elif (rel, ast.unparse(node)) not in DYNAMIC:
                    bad.append(f"{rel}:{node.lineno}: {ast.unparse(node)[:100]}")
    return messages, bad


def test_every_translated_text_is_a_literal() -> None:
    messages, bad = _calls()
    assert len(messages) > 1000  # the walk found the code
    assert bad == [], "translate literals only (format after _()), or mark the values with N_():\n" + "\n".join(bad)


def _pot_messages(pot: Path) -> set[str]:
    """The msgid and msgid_plural texts of a .pot (C escapes read as Python's)."""
    out: set[str] = set()
    current: list[str] | None = None
    for line in pot.read_text(encoding="utf-8").splitlines() + [""]:
        if line.startswith(("msgid ", "msgid_plural ")):
            if current is not None:
                out.add("".join(current))
            current = [ast.literal_eval(line.split(" ", 1)[1])]
        elif line.startswith('"') and current is not None:
            current.append(ast.literal_eval(line))
        elif current is not None:
            out.add("".join(current))
            current = None
    out.discard("")  # the header
    return out


def test_make_pot_extracts_every_message(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None or shutil.which("make") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("xgettext is missing: `make system-deps` installs gettext")
        pytest.skip("xgettext not installed (make system-deps)")
    pot = tmp_path / "wsms.pot"
    subprocess.run(["make", "--no-print-directory", "pot", f"POT={pot}"], cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    extracted = _pot_messages(pot)
    messages, _bad = _calls()
    assert messages - extracted == set(), "the code translates text xgettext does not extract"
    assert {"paper out", "head too hot"} <= extracted  # marked with N_() in devices/
