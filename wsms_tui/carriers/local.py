"""A rule-based local carrier (own vans, a courier without an API): wsms issues its tracking numbers.

Rules: a box over ``max_kg`` is refused (split it); the service is ``small`` up to 2 kg, ``parcel`` above;
the routing code on the label is the destination country and the first three characters of the postcode.
Tracking numbers have the UPU S10 shape — two letters, eight digits, a mod-11 check digit, two letters —
and the eight digits come from the box's SSCC serial, so they are unique as SSCCs are, and booking the same
box again returns the same number (idempotent without any state of its own). Cancelling a booking has
nothing to call.
"""

from __future__ import annotations

from decimal import Decimal

from wsms_tui.carriers.base import CarrierError, CarrierLabel, ShipmentRequest, TrackingInfo
from wsms_tui.i18n import _

S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_check_digit(digits: str) -> int:
    """The UPU S10 check digit of eight digits."""
    total = sum(int(d) * w for d, w in zip(digits, S10_WEIGHTS, strict=True))
    c = 11 - total % 11
    return 0 if c == 10 else 5 if c == 11 else c


def s10(prefix: str, digits: str, suffix: str) -> str:
    return f"{prefix}{digits}{s10_check_digit(digits)}{suffix}"


def is_valid_s10(code: str) -> bool:
    return (len(code) == 13 and code[:2].isalpha() and code[11:].isalpha() and code[2:11].isdigit()
            and s10_check_digit(code[2:10]) == int(code[10]))


class LocalCarrier:
    needs_waybill = False

    def __init__(self, name: str = "local", *, prefix: str = "LX", suffix: str = "CN",
                 max_kg: Decimal = Decimal("31.5")) -> None:
        if len(prefix) != 2 or len(suffix) != 2 or not (prefix + suffix).isalpha():
            raise CarrierError(_("carrier {c}: tracking prefix and suffix are two letters each").format(c=name))
        self.name = name
        self.prefix = prefix.upper()
        self.suffix = suffix.upper()
        self.max_kg = max_kg

    def create_shipment(self, request: ShipmentRequest) -> CarrierLabel:
        ref = request.reference
        if len(ref) != 18 or not ref.isdigit():
            raise CarrierError(_("carrier {c} books boxes by their SSCC, not {r!r}").format(c=self.name, r=ref))
        if request.weight_kg <= 0:
            raise CarrierError(_("weigh the box first"))
        if request.weight_kg > self.max_kg:
            raise CarrierError(_("carrier {c} takes boxes up to {m} kg, not {w} kg: split the box").format(
                c=self.name, m=self.max_kg, w=request.weight_kg))
        service = request.service or ("small" if request.weight_kg <= 2 else "parcel")
        to = request.ship_to
        route = f"{to.country}-{''.join(c for c in to.postcode if c.isalnum())[:3].upper() or '000'}"
        return CarrierLabel(self.name, s10(self.prefix, ref[-9:-1], self.suffix), service, {"route": route})

    def cancel_shipment(self, tracking: str, reference: str) -> None:
        """Nothing external to tell: the tracking number was issued here, and a voided box's SSCC (and so its
        number) is never used again."""

    def track(self, tracking: str) -> TrackingInfo:
        if not is_valid_s10(tracking):
            raise CarrierError(_("{t!r} is not a tracking number of carrier {c}").format(t=tracking, c=self.name))
        return TrackingInfo(self.name, tracking, _("label issued; the van driver scans it at pick-up"))
