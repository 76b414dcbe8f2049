"""SQLModel tables of the packing bench and shipping: shipments, their boxes (packages) and what is in them.

A ``shipment`` is what one order sends with one carrier at one confirmation; it holds one or more
``shipment_box`` rows, each a physical box: its own SSCC (a ``package`` / LPN row), box type with
dimensions and tare, weight, the carrier's tracking number and label data, and the print job of its
label. ``shipment_item`` rows say which order line (product, lot, qty) went into which box — the
packing bench writes them from scans; confirming the shipment moves exactly those quantities to
``VIRT/CUSTOMER`` in the ledger. Weights and quantities are exact decimals stored as scaled BIGINTs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from wsms_tui.db.types import Qty

SHIPMENT_STATUSES = ("open", "shipped", "cancelled")
BOX_STATUSES = ("packed", "shipped", "cancelled")


def _ts(**kw: object) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), **kw)  # type: ignore[arg-type]


class Shipment(SQLModel, table=True):
    """One order's boxes going out with one carrier (open while packing, shipped on confirmation)."""

    __table_args__ = (
        CheckConstraint("status in ('open','shipped','cancelled')", name="ck_shipment_status"),
        Index("ix_shipment_order", "order_id", "status"),
        Index("ix_shipment_status_id", "status", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id")
    carrier: str = Field(sa_column=Column(String(64), nullable=False))
    service: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False, server_default="open"))
    actor_id: int = Field(foreign_key="wsms_user.id")
    terminal: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    #: the confirmation's operation id (a replayed confirmation posts once)
    ship_op_id: str | None = Field(default=None, sa_column=Column(String(80), unique=True, nullable=True))
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    shipped_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ShipmentBox(SQLModel, table=True):
    """One box of a shipment: SSCC (its LPN), box type, weight, tracking number, label job."""

    __tablename__ = "shipment_box"
    __table_args__ = (
        CheckConstraint("status in ('packed','shipped','cancelled')", name="ck_shipment_box_status"),
        UniqueConstraint("shipment_id", "box_no", name="uq_shipment_box_no"),
        Index("ix_shipment_box_order", "order_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipment.id", index=True)
    order_id: int = Field(foreign_key="sales_order.id")
    box_no: int
    package_id: int = Field(foreign_key="package.id")
    sscc: str = Field(sa_column=Column(String(18), unique=True, nullable=False))
    #: the box type as chosen (copied, so changing the settings later does not rewrite history)
    box_type: str = Field(sa_column=Column(String(32), nullable=False))
    length_mm: int = Field(default=0)
    width_mm: int = Field(default=0)
    height_mm: int = Field(default=0)
    tare_kg: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    weight_kg: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    tracking: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default="", index=True))
    #: what the carrier returned for the label (JSON)
    label_data: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    print_job_id: int | None = Field(default=None, foreign_key="print_job.id")
    status: str = Field(default="packed", sa_column=Column(String(16), nullable=False, server_default="packed"))
    #: the packing operation id (closing the same box twice writes it once)
    op_id: str = Field(sa_column=Column(String(80), unique=True, nullable=False))
    created_at: datetime = Field(sa_column=_ts(nullable=False))


class ShipmentItem(SQLModel, table=True):
    """``qty`` of an order line's product (and lot) packed in a box."""

    __tablename__ = "shipment_item"
    __table_args__ = (
        CheckConstraint("qty > 0", name="ck_shipment_item_qty"),
        Index("ix_shipment_item_line", "order_line_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    box_id: int = Field(foreign_key="shipment_box.id", index=True)
    order_line_id: int = Field(foreign_key="sales_order_line.id")
    product_id: int = Field(foreign_key="product.id")
    lot_id: int | None = Field(default=None, foreign_key="lot.id")
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    #: the raw scans that packed it (evidence), newline-separated
    scans: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
