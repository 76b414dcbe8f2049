"""The carrier adapter interface: book a box with a carrier (→ tracking number + label data), cancel a booking
(a box voided at the bench before it left) and track it.

An adapter is a small class with a ``name``, ``needs_waybill`` and three methods; it knows nothing about
the database (the packing services call it *outside* any transaction and write what it returns in one
transaction afterwards, so a carrier that fails or times out leaves nothing half-written). Every request
carries ``reference`` — the box's SSCC — which adapters pass on as an idempotency key: asking twice for
the same box returns the same booking, and cancelling a booking twice is no error. Errors are
``CarrierError`` with a message for a person.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, runtime_checkable

from wsms_tui.errors import WsmsError


class CarrierError(WsmsError):
    """The carrier refused, failed or did not answer; the message says what to do."""


@dataclass(frozen=True)
class ShipTo:
    name: str
    address: str
    city: str
    postcode: str
    country: str
    state: str = ""
    phone: str = ""
    email: str = ""

    def one_line(self) -> str:
        place = " ".join(p for p in (self.postcode, self.city) if p)
        return ", ".join(p for p in (self.address, place, self.state, self.country) if p)


@dataclass(frozen=True)
class ShipmentRequest:
    """One box to book: who it goes to, how heavy and big it is, and our reference (the SSCC)."""

    reference: str
    order_ref: str
    ship_to: ShipTo
    weight_kg: Decimal
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    box_no: int = 1
    service: str = ""
    #: the waybill number typed or scanned at the bench (manual carrier)
    waybill: str = ""


@dataclass(frozen=True)
class CarrierLabel:
    """What a booking returns: the tracking number, the service, and data the label shows (routing …)."""

    carrier: str
    tracking: str
    service: str = ""
    label_data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TrackingEvent:
    at: str
    status: str
    where: str = ""


@dataclass(frozen=True)
class TrackingInfo:
    carrier: str
    tracking: str
    status: str
    events: tuple[TrackingEvent, ...] = ()


@runtime_checkable
class Carrier(Protocol):
    """What every carrier adapter provides."""

    name: str
    #: True when the bench must type or scan the carrier's own waybill number
    needs_waybill: bool

    def create_shipment(self, request: ShipmentRequest) -> CarrierLabel:
        """Book one box; raise ``CarrierError`` with a message for a person when it cannot."""
        ...

    def cancel_shipment(self, tracking: str, reference: str) -> None:
        """Cancel the booking of one box (``reference``: its SSCC, the key it was booked with); cancelling a
        cancelled booking is fine. Raise ``CarrierError`` with a message for a person when the carrier refuses
        (e.g. the box was collected already) or cannot be reached."""
        ...

    def track(self, tracking: str) -> TrackingInfo:
        """Where the box is now."""
        ...
