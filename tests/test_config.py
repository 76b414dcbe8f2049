"""Settings come from defaults < config.toml < WSMS_* environment < explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from wsms_tui.config import load_settings


def test_toml_env_and_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('database_url = "sqlite:///from-file.db"\nterminal = "bench-3"\n'
                   '[keys]\n"desk.stock" = "f12"\n[scanner]\nprefix = "~"\n', encoding="utf-8")
    monkeypatch.setenv("WSMS_CONFIG", str(cfg))
    monkeypatch.delenv("WSMS_DATABASE_URL", raising=False)
    monkeypatch.delenv("WSMS_TERMINAL", raising=False)
    s = load_settings()
    assert (s.database_url, s.terminal, s.keys, s.scanner.prefix) == (
        "sqlite:///from-file.db", "bench-3", {"desk.stock": "f12"}, "~")
    monkeypatch.setenv("WSMS_DATABASE_URL", "postgresql://x@h/db")
    assert load_settings().database_url == "postgresql://x@h/db"
    assert load_settings(database_url="sqlite:///cli.db").database_url == "sqlite:///cli.db"


def test_defaults_without_a_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WSMS_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.delenv("WSMS_DATABASE_URL", raising=False)
    s = load_settings()
    assert s.database_url.startswith("sqlite:///") and s.database_url.endswith("wsms.db")
    assert s.theme == "textual-dark" and s.keys == {}
