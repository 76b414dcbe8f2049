"""The Simplified Chinese catalog (docs/ARCHITECTURE.md "Language"): complete, compiled, faithful to the
placeholders and keys of its English messages, and chosen per process with ``WSMS_LANGUAGE``.

A new English message without a zh_CN translation fails ``test_every_message_has_a_chinese_translation`` on
purpose: ``make catalog`` merges it into the .po, translate it there and commit the .po and the .mo.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.test_i18n import ROOT, _calls

PO = ROOT / "wsms_tui" / "locale" / "zh_CN" / "LC_MESSAGES" / "wsms.po"
MO = PO.with_suffix(".mo")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: what a translation must carry over unchanged: str.format fields (with their specs), barcode commands,
#: key names and CLI commands in backticks
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
TOKENS = re.compile(r"%[A-Z]+:[A-Z]*|(?<![A-Za-z0-9])(?:Ctrl\+[A-Za-z0-9]+|F\d{1,2})(?![A-Za-z0-9])|`[^`]+`")


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if IN_CI:
            pytest.fail(f"{tool} is missing: `make system-deps` installs gettext and tmux")
        pytest.skip(f"{tool} not installed (make system-deps)")


def _entries(po: Path) -> list[dict[str, object]]:
    """Every entry of a .po but the header: msgid, msgid_plural, msgstr (msgstr[0] for plurals), flags."""
    entries: list[dict[str, object]] = []
    for block in re.split(r"\n\s*\n", po.read_text(encoding="utf-8")):
        entry: dict[str, object] = {"msgid": None, "msgid_plural": None, "msgstr": "", "flags": set(),
                                    "obsolete": False}
        field = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"] = {f.strip() for f in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith(("msgid ", "msgid_plural ", "msgstr ", "msgstr[0] ")):
                key, value = line.split(" ", 1)
                field = "msgstr" if key.startswith("msgstr") else key
                if key.startswith("msgstr[") and key != "msgstr[0]":
                    field = None
                    continue
                entry[field] = ast.literal_eval(value)
            elif line.startswith("msgstr["):
                field = None
            elif line.startswith('"') and field is not None:
                entry[field] = str(entry[field]) + ast.literal_eval(line)
        if entry["msgid"] and not entry["obsolete"]:
            entries.append(entry)
    return entries


def _catalog(mo: Path) -> dict[object, str]:
    with mo.open("rb") as f:
        return dict(gettext.GNUTranslations(f)._catalog)  # type: ignore[attr-defined]


def test_the_committed_mo_is_built_from_the_po(tmp_path: Path) -> None:
    """msgfmt --check passes on the .po, and the .mo next to it holds exactly what the .po compiles to (a .po
    edited without `make catalog` leaves a stale .mo)."""
    _need("msgfmt")
    built = tmp_path / "wsms.mo"
    p = subprocess.run(["msgfmt", "--check", "-o", str(built), str(PO)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert MO.is_file(), "compile the catalog: make catalog"
    assert _catalog(MO) == _catalog(built), "the .mo is stale: run `make catalog` and commit the .mo"


def test_the_header_is_chinese_with_one_plural_form() -> None:
    header = _catalog(MO)[""]
    assert "Language: zh_CN" in header and "charset=UTF-8" in header
    assert "Plural-Forms: nplurals=1; plural=0;" in header


def test_every_message_has_a_chinese_translation() -> None:
    """Every message the code translates now (the literals of _(), ngettext() and N_()) has a non-empty,
    non-fuzzy zh_CN translation."""
    messages, _bad = _calls()
    done = {}
    for e in _entries(PO):
        if e["msgstr"] and "fuzzy" not in e["flags"]:  # type: ignore[operator]
            done[e["msgid"]] = e["msgstr"]
            if e["msgid_plural"]:
                done[e["msgid_plural"]] = e["msgstr"]
    missing = sorted(messages - done.keys())
    assert missing == [], (f"{len(missing)} message(s) without a zh_CN translation: run `make catalog`, translate "
                           "them in wsms_tui/locale/zh_CN/LC_MESSAGES/wsms.po, run `make catalog` again:\n"
                           + "\n".join(missing[:40]))


def test_translations_keep_placeholders_keys_and_commands() -> None:
    bad = []
    entries = _entries(PO)
    assert len(entries) > 1000
    for e in entries:
        msgid, msgstr = str(e["msgid"]), str(e["msgstr"])
        if not msgstr:
            continue
        for pattern in (PLACEHOLDER, TOKENS):
            want, got = Counter(pattern.findall(msgid)), Counter(pattern.findall(msgstr))
            if want != got:
                bad.append(f"{msgid!r} -> {msgstr!r}: {sorted(want.elements())} vs {sorted(got.elements())}")
    assert bad == [], "a translation changed a placeholder, key or command:\n" + "\n".join(bad)


def test_the_patterns_see_what_they_guard() -> None:
    assert PLACEHOLDER.findall("{n} of {q:,} at {m:.1f} m, {p!r}") == ["{n}", "{q:,}", "{m:.1f}", "{p!r}"]
    assert TOKENS.findall("按F1或Ctrl+X，扫 %CMD:UNDO，`wsms db upgrade`") == ["F1", "Ctrl+X", "%CMD:UNDO",
                                                                           "`wsms db upgrade`"]


def _cli(env_language: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WSMS_LANGUAGE", "LANGUAGE", "LC_ALL", "LC_MESSAGES",
                                                            "LANG")}
    env.update({"WSMS_CONFIG": "/nonexistent/wsms.toml", "COLUMNS": "100", **env_language})
    return subprocess.run([sys.executable, "-m", "wsms_tui", *args], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)


def test_the_cli_speaks_chinese_with_wsms_language_zh_cn(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'zh.db'}"
    up = _cli({"WSMS_LANGUAGE": "zh_CN"}, "--db", db, "db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert "数据库结构" in up.stdout, up.stdout
    zh = _cli({"WSMS_LANGUAGE": "zh_CN"}, "--db", db, "db", "status")
    assert zh.returncode == 0, zh.stderr
    assert "数据库：" in zh.stdout and "状态：已是最新" in zh.stdout, zh.stdout
    en = _cli({"WSMS_LANGUAGE": "en"}, "--db", db, "db", "status")
    assert "database: " in en.stdout and "state: up to date" in en.stdout, en.stdout
    assert not re.search(r"[\u4e00-\u9fff]", en.stdout)
    helped = _cli({"WSMS_LANGUAGE": "zh_CN"}, "--help")
    assert helped.returncode == 0 and "报表" in helped.stdout, helped.stdout


def test_wsms_language_wins_over_the_locale(tmp_path: Path) -> None:
    """Over SSH the server's locale is not the user's: WSMS_LANGUAGE decides; without it gettext's own
    variables do (LANGUAGE first)."""
    db = f"sqlite:///{tmp_path / 'zh.db'}"
    _cli({"WSMS_LANGUAGE": "en"}, "--db", db, "db", "upgrade")
    en = _cli({"WSMS_LANGUAGE": "en", "LANGUAGE": "zh_CN", "LANG": "zh_CN.UTF-8"}, "--db", db, "db", "status")
    assert "state: up to date" in en.stdout, en.stdout
    zh = _cli({"WSMS_LANGUAGE": "zh-CN", "LANG": "en_US.UTF-8"}, "--db", db, "db", "status")
    assert "状态：已是最新" in zh.stdout, zh.stdout
    by_locale = _cli({"LANGUAGE": "zh_CN", "LANG": "C.UTF-8"}, "--db", db, "db", "status")
    assert "状态：已是最新" in by_locale.stdout, by_locale.stdout


def test_the_tests_themselves_run_in_english() -> None:
    """tests/conftest.py sets WSMS_LANGUAGE=en before wsms_tui is imported, whatever the machine's locale."""
    from wsms_tui import i18n

    assert os.environ.get("WSMS_LANGUAGE") == "en"
    assert not isinstance(i18n._translation, gettext.GNUTranslations)
    assert i18n._("wsms · log in") == "wsms · log in"


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")
def test_the_login_screen_in_chinese_at_80x24(tmp_path: Path) -> None:
    """The TUI in a real terminal (tmux, 80×24) with WSMS_LANGUAGE=zh_CN: the login screen is Chinese, every
    line fits in 80 cells (CJK characters are two wide) and the prompts are whole."""
    _need("tmux")
    from tests.sshd import Tmux

    db = f"sqlite:///{tmp_path / 'zh.db'}"
    assert _cli({"WSMS_LANGUAGE": "en"}, "--db", db, "db", "upgrade").returncode == 0
    env = ["env", "WSMS_LANGUAGE=zh_CN", "LANG=C.UTF-8", "TERM=xterm-256color", "TEXTUAL_ANIMATIONS=none",
           "WSMS_CONFIG=/nonexistent/wsms.toml", f"WSMS_DATABASE_URL={db}", f"PYTHONPATH={ROOT}"]
    t = Tmux("zh", tmp_path)
    t.start([*env, sys.executable, "-m", "wsms_tui", "run"])
    try:
        screen = t.wait_for("wsms · 登录", timeout=60)
        time.sleep(0.5)
        screen = t.screen()
        lines = screen.splitlines()
        assert "用户" in screen and "输入用户名后按 Enter" in screen and "PIN" in screen, screen
        assert "未登录" in screen and "扫码枪：键盘" in screen, screen
        assert "log in" not in screen and "User" not in screen, screen
        assert len(lines) <= 24 and max(cell_len(line) for line in lines) <= 80, screen
    finally:
        t.kill()
