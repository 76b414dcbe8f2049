"""Carriers: the adapter interface (``base``), the built-in adapters (``manual``, ``local``, ``http``) and
the choice of carrier for an order (its channel's, else the default from the settings).

``carrier(settings, name)`` builds the adapter named in ``[packing.carriers]``; ``carrier_for(settings,
channel)`` names the one an order of ``channel`` ships with. How to add a real carrier: docs/CARRIERS.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal

from wsms_tui.carriers.base import (
    Carrier,
    CarrierError,
    CarrierLabel,
    ShipmentRequest,
    ShipTo,
    TrackingEvent,
    TrackingInfo,
)
from wsms_tui.carriers.http import HttpCarrier
from wsms_tui.carriers.local import LocalCarrier
from wsms_tui.carriers.manual import ManualCarrier
from wsms_tui.config import CarrierConfig, Settings
from wsms_tui.i18n import _

__all__ = ["Carrier", "CarrierError", "CarrierLabel", "ShipTo", "ShipmentRequest", "TrackingEvent",
           "TrackingInfo", "CarrierInfo", "carrier", "carrier_for", "list_carriers"]

KINDS = ("local", "manual", "http")


@dataclass(frozen=True)
class CarrierInfo:
    name: str
    kind: str
    detail: str
    default: bool
    channels: tuple[str, ...]


def _config(settings: Settings, name: str) -> CarrierConfig:
    found = settings.packing.carriers.get(name)
    if found is None:
        known = ", ".join(sorted(settings.packing.carriers)) or "-"
        raise CarrierError(_("no carrier {n!r} (configured: {k}); add it under [packing.carriers.{n}]").format(
            n=name, k=known))
    return found


def carrier(settings: Settings, name: str) -> Carrier:
    """The adapter for carrier ``name`` as configured."""
    cfg = _config(settings, name)
    if cfg.kind == "local":
        return LocalCarrier(name, prefix=cfg.tracking_prefix, suffix=cfg.tracking_suffix, max_kg=Decimal(cfg.max_kg))
    if cfg.kind == "manual":
        return ManualCarrier(name)
    if cfg.kind == "http":
        key = os.environ.get(cfg.api_key_env, "") if cfg.api_key_env else ""
        if cfg.api_key_env and not key:
            raise CarrierError(_("carrier {n}: set the API key in the environment variable {v}").format(
                n=name, v=cfg.api_key_env))
        return HttpCarrier(name, cfg.url, api_key=key, timeout_s=cfg.timeout_s)
    raise CarrierError(_("carrier {n}: kind is one of {k}, not {x!r}").format(n=name, k=", ".join(KINDS), x=cfg.kind))


def carrier_for(settings: Settings, channel: str | None) -> str:
    """The carrier an order of ``channel`` ships with: the channel's own, else the default."""
    p = settings.packing
    return p.channel_carriers.get(channel or "", p.carrier)


def list_carriers(settings: Settings) -> list[CarrierInfo]:
    p = settings.packing
    out = []
    for name, cfg in sorted(p.carriers.items()):
        detail = {"local": _("tracking {p}…{s}, up to {m} kg").format(p=cfg.tracking_prefix, s=cfg.tracking_suffix,
                                                                     m=cfg.max_kg),
                  "manual": _("type or scan the waybill"),
                  "http": cfg.url}.get(cfg.kind, cfg.kind)
        chans = tuple(sorted(c for c, n in p.channel_carriers.items() if n == name))
        out.append(CarrierInfo(name, cfg.kind, detail, name == p.carrier, chans))
    return out
