"""Settings: one typed object from the TOML config file plus ``WSMS_*`` environment variables.

Order of precedence: command-line options > environment (``WSMS_DATABASE_URL``, ``WSMS_TERMINAL`` …)
> the config file (``$WSMS_CONFIG`` or ``config.toml`` in the platform config dir) > defaults.
The ``[keys]`` table remaps key bindings by their id (see ``wsms_tui.keys``).
"""

from __future__ import annotations

import getpass
import os
import socket
from pathlib import Path
from typing import Any

from platformdirs import user_config_path, user_data_path
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

APP_NAME = "wsms"


def config_file() -> Path:
    env = os.environ.get("WSMS_CONFIG")
    return Path(env).expanduser() if env else user_config_path(APP_NAME) / "config.toml"


def data_dir() -> Path:
    return user_data_path(APP_NAME)


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'wsms.db'}"


def demo_database_url() -> str:
    return f"sqlite:///{data_dir() / 'demo.db'}"


def default_terminal() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry (containers)
        user = "user"
    return f"{user}@{socket.gethostname()}"[:64]


class ScannerSettings(BaseModel):
    """How keyboard-wedge scans are framed (prefix/suffix are reliable over SSH).

    ``gs_substitutes``: what a wedge scanner types instead of GS (0x1D), mapped back to GS.
    ``url``: an optional serial/USB-CDC scanner (a pyserial URL: ``/dev/ttyACM0``, ``rfc2217://host:port``);
    the TUI reads it in a thread and hands its scans to the desk on screen."""

    url: str = ""
    prefix: str = ""
    suffix: str = ""
    gs_substitutes: list[str] = Field(default_factory=lambda: ["<GS>"])
    max_interkey_ms: int = 40


class PrinterConfig(BaseModel):
    """A label printer by name: a pyserial URL (``socket://host:9100``, ``/dev/ttyUSB0``,
    ``rfc2217://…``), ``file:///path`` or ``lp://QUEUE``, and its resolution."""

    url: str
    dpi: int = 203


class StocktakeSettings(BaseModel):
    """Count defaults (``[stocktake]``): recount tolerances and the cycle-count rules; a count's own options win.

    A counted line is within tolerance when |variance| ≤ max(``tol_qty``, ``tol_pct`` % of expected) and,
    when ``tol_value`` is set, |variance| × unit cost ≤ ``tol_value``; beyond it another counter recounts."""

    tol_qty: str = "0"
    tol_pct: str = "0"
    tol_value: str | None = None
    blind: bool = True
    cycle_days_a: int = 30
    cycle_days_b: int = 91
    cycle_days_c: int = 365
    abc_a_pct: str = "80"
    abc_b_pct: str = "95"
    sales_days: int = 365


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WSMS_", env_nested_delimiter="__", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    terminal: str = Field(default_factory=default_terminal)
    desk: str | None = None
    theme: str = "textual-dark"
    #: binding id -> key(s), e.g. ``desk.stock = "f2,ctrl+s"``
    keys: dict[str, str] = Field(default_factory=dict)
    scanner: ScannerSettings = Field(default_factory=ScannerSettings)
    #: named printers, e.g. ``[printers.dock1] url = "socket://10.0.0.5:9100"``
    printers: dict[str, PrinterConfig] = Field(default_factory=dict)
    #: this desk's label printer: a name from ``[printers]`` or a URL ("" = none)
    printer: str = ""
    #: run the print spool worker for ``printer`` inside this desk's process
    spool_in_desk: bool = True
    #: your GS1 company prefix, for the SSCCs of LPN/pallet labels (GS1's documentation prefix by default)
    gs1_company_prefix: str = "0614141"
    #: stocktake defaults: tolerances, blind, cycle-count frequencies per ABC class
    stocktake: StocktakeSettings = Field(default_factory=StocktakeSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file()))


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; ``overrides`` (from command-line options) win over everything."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
