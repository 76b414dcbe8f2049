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
from typing import Any, Literal

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
    """How keyboard-wedge scans are framed (prefix/suffix are reliable over SSH; a terminator — CR, LF or
    Tab — always ends a scan; ``timing``/``max_interkey_ms`` frame a scanner that sends none by its speed).

    ``gs_substitutes``: what a wedge scanner types instead of GS (0x1D), mapped back to GS.
    ``url``: an optional serial/USB-CDC scanner (a pyserial URL: ``/dev/ttyACM0``, ``rfc2217://host:port``);
    the TUI reads it in a thread and hands its scans to the desk on screen.
    ``evdev``: an optional keyboard-wedge scanner attached to the machine running wsms, by its input device
    (Linux, ``/dev/input/by-id/…-event-kbd``; the ``evdev`` extra): grabbed (``evdev_grab``) so its keys reach
    wsms only, read in a thread like the serial scanner."""

    url: str = ""
    evdev: str = ""
    evdev_grab: bool = True
    prefix: str = ""
    suffix: str = ""
    gs_substitutes: list[str] = Field(default_factory=lambda: ["<GS>"])
    #: framing by inter-key timing (a scanner that sends no suffix): "auto" uses it at a local terminal
    #: only (not over SSH, where network jitter breaks timing), "on" always, "off" never
    timing: Literal["auto", "on", "off"] = "auto"
    max_interkey_ms: int = 40


class PrinterConfig(BaseModel):
    """A label printer by name: a pyserial URL (``socket://host:9100``, ``/dev/ttyUSB0``,
    ``rfc2217://…``), ``file:///path`` or ``lp://QUEUE``, and its resolution."""

    url: str
    dpi: int = 203


class CarrierConfig(BaseModel):
    """A carrier by name (``[packing.carriers.NAME]``): ``kind`` is ``local`` (rule-based, issues tracking
    numbers), ``manual`` (type or scan the waybill) or ``http`` (a carrier's web API at ``url``; the API key is
    read from the environment variable named by ``api_key_env``, never from the file)."""

    kind: str = "local"
    url: str = ""
    api_key_env: str = ""
    timeout_s: float = 10.0
    #: local carrier: the two letters before and after its tracking numbers (UPU S10 shape)
    tracking_prefix: str = "LX"
    tracking_suffix: str = "CN"
    #: local carrier: the heaviest box it takes, in kg
    max_kg: str = "31.5"


class BoxTypeConfig(BaseModel):
    """A box type of the packing bench (``[packing.boxes.CODE]``): outer dimensions, tare and the most it holds."""

    name: str = ""
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    tare_kg: str = "0"
    max_kg: str = "30"


def _default_boxes() -> dict[str, BoxTypeConfig]:
    return {"S": BoxTypeConfig(name="small", length_mm=250, width_mm=180, height_mm=100, tare_kg="0.15", max_kg="5"),
            "M": BoxTypeConfig(name="medium", length_mm=400, width_mm=300, height_mm=200, tare_kg="0.4",
                               max_kg="15"),
            "L": BoxTypeConfig(name="large", length_mm=600, width_mm=400, height_mm=400, tare_kg="0.9",
                               max_kg="30")}


def _default_carriers() -> dict[str, CarrierConfig]:
    return {"local": CarrierConfig(kind="local"), "manual": CarrierConfig(kind="manual")}


class PackingSettings(BaseModel):
    """The packing bench (``[packing]``): box types, carriers, the default carrier and one per channel."""

    boxes: dict[str, BoxTypeConfig] = Field(default_factory=_default_boxes)
    carriers: dict[str, CarrierConfig] = Field(default_factory=_default_carriers)
    #: the carrier an order ships with unless its channel has one in ``channel_carriers``
    carrier: str = "local"
    channel_carriers: dict[str, str] = Field(default_factory=dict)
    #: the sender line printed on shipping labels
    ship_from: str = "wsms warehouse"


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


class ReportRates(BaseModel):
    """Cost-per-order rates (``[reports.rates]``), in the currency of unit costs; unset = not configured.

    The cost-per-order report refuses to guess: a rate it needs that is unset is named in its message
    (set it to 0 to leave that cost out)."""

    storage_per_unit_day: str | None = None
    handling_per_order: str | None = None
    handling_per_line: str | None = None
    handling_per_unit: str | None = None
    packaging_per_order: str | None = None
    carrier_per_order: str | None = None
    carrier_per_kg: str | None = None


class ReportSettings(BaseModel):
    """Report defaults (``[reports]``): classes, reorder policy, forecast horizon, cost rates."""

    #: reorder: cycle service level (z from the normal quantile), supplier lead time, cover after arrival
    service_level: str = "0.95"
    lead_time_days: int = 7
    cover_days: int = 28
    #: forecast: weeks ahead and weeks of history
    forecast_weeks: int = 8
    history_weeks: int = 52
    abc_a_pct: str = "80"
    abc_b_pct: str = "95"
    #: XYZ: coefficient of variation of weekly demand up to x_cv is X, up to y_cv Y, else Z
    xyz_x_cv: str = "0.5"
    xyz_y_cv: str = "1.0"
    #: slow and dead stock: no sale for dead_days is dead; more than slow_days of supply is slow
    dead_days: int = 90
    slow_days: int = 180
    #: expiring lots: expiry within this many days (already expired included)
    expiry_days: int = 30
    rates: ReportRates = Field(default_factory=ReportRates)


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
    #: the packing bench: box types, carriers (default and per channel), the sender on shipping labels
    packing: PackingSettings = Field(default_factory=PackingSettings)
    #: this desk's label printer: a name from ``[printers]`` or a URL ("" = none)
    printer: str = ""
    #: run the print spool worker for ``printer`` inside this desk's process
    spool_in_desk: bool = True
    #: your GS1 company prefix, for the SSCCs of LPN/pallet labels (GS1's documentation prefix by default)
    gs1_company_prefix: str = "0614141"
    #: stocktake defaults: tolerances, blind, cycle-count frequencies per ABC class
    stocktake: StocktakeSettings = Field(default_factory=StocktakeSettings)
    #: report defaults: ABC/XYZ limits, reorder policy, forecast horizon, cost-per-order rates
    reports: ReportSettings = Field(default_factory=ReportSettings)
    #: log the user out after this many minutes without a key or a scan (0: never), for shared terminals
    idle_logout_minutes: float = Field(default=0, ge=0)

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
