"""The manual carrier: the clerk types or scans the carrier's waybill number (a pre-printed waybill)."""

from __future__ import annotations

import re

from wsms_tui.carriers.base import CarrierError, CarrierLabel, ShipmentRequest, TrackingInfo
from wsms_tui.i18n import _

WAYBILL = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{5,39}")


class ManualCarrier:
    """Any carrier without an integration: its waybill number becomes the tracking number."""

    needs_waybill = True

    def __init__(self, name: str = "manual") -> None:
        self.name = name

    def create_shipment(self, request: ShipmentRequest) -> CarrierLabel:
        waybill = request.waybill.strip()
        if not waybill:
            raise CarrierError(_("carrier {c}: type or scan the waybill number").format(c=self.name))
        if not WAYBILL.fullmatch(waybill):
            raise CarrierError(_("{w!r} is not a waybill number (6 to 40 letters, digits or -)").format(w=waybill[:40]))
        return CarrierLabel(self.name, waybill.upper(), request.service or "manual", {})

    def cancel_shipment(self, tracking: str, reference: str) -> None:
        """Nothing to call: the clerk voids the waybill with the carrier (or throws the pre-printed one away)."""

    def track(self, tracking: str) -> TrackingInfo:
        return TrackingInfo(self.name, tracking, _("not tracked: look it up on the carrier's own site"))
