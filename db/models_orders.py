"""SQLModel tables of the sales-order module: channels, warehouse routes, orders and their lines,
allocations (order line → quant, linked to the reservation journal), the status timeline and
exception tickets.

An ``Allocation`` row with status ``active`` holds ``qty`` of a quant for an order line; the same
quantity is reserved on the quant through a ``reservation_entry`` row whose doc ref is the order's
``SO-<id>``, so ``Σ active allocations = Σ reservations of SO-… doc refs`` and ``ledger verify``
stays exact. Quantities are exact decimals stored as scaled integers (``db.types.Qty``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from wsms_tui.db.types import Qty

ORDER_STATUSES = ("new", "hold", "backorder", "allocated", "picking", "picked", "packed", "shipped", "cancelled")
TICKET_STATUSES = ("open", "waiting", "resolved", "cancelled")


def _ts(**kw: object) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), **kw)  # type: ignore[arg-type]


class SalesChannel(SQLModel, table=True):
    """A source of orders (a shop, a marketplace, a B2B feed): its rank and whether orders may split."""

    __tablename__ = "sales_channel"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    #: lower is served first when orders of equal priority compete for stock
    rank: int = Field(default=100)
    allow_split: bool = Field(default=False)
    drop_folder: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    #: import format used when none is given (``auto`` detects it from the file)
    default_format: str = Field(default="auto", sa_column=Column(String(32), nullable=False, server_default="auto"))
    active: bool = Field(default=True)


class WarehouseRoute(SQLModel, table=True):
    """How near a warehouse is to a destination country (``''`` = anywhere): lower rank ships first."""

    __tablename__ = "warehouse_route"
    __table_args__ = (UniqueConstraint("warehouse_id", "country", name="uq_warehouse_route"),)
    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id", index=True)
    country: str = Field(default="", sa_column=Column(String(2), nullable=False, server_default=""))
    rank: int = Field(default=100)


class SalesOrder(SQLModel, table=True):
    __tablename__ = "sales_order"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_ref", name="uq_sales_order_channel_ref"),
        CheckConstraint("status in ('new','hold','backorder','allocated','picking','picked','packed','shipped',"
                        "'cancelled')",
                        name="ck_sales_order_status"),
        Index("ix_sales_order_status_id", "status", "id"),
        Index("ix_sales_order_external_ref", "external_ref"),
        Index("ix_sales_order_phone", "phone"),
        Index("ix_sales_order_order_date", "order_date"),
        # the channel filter in id order (the queue's keyset pages); the customer substring index is
        # backend-specific and optional, so it lives in migration 0009 only (SQLite: the FTS5 trigram table
        # ``sales_order_search`` and its triggers; PostgreSQL: a pg_trgm GIN index on lower(customer))
        Index("ix_sales_order_channel_id", "channel_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="sales_channel.id")
    external_ref: str = Field(sa_column=Column(String(80), nullable=False))
    order_date: date | None = None
    customer: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    email: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    phone: str = Field(default="", sa_column=Column(String(40), nullable=False, server_default=""))
    address: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    city: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default=""))
    state: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default=""))
    postcode: str = Field(default="", sa_column=Column(String(20), nullable=False, server_default=""))
    country: str = Field(default="", sa_column=Column(String(2), nullable=False, server_default=""))
    #: 0 normal, higher first; express orders go before everything of the same day
    priority: int = Field(default=0)
    express: bool = Field(default=False)
    promised_date: date | None = None
    status: str = Field(default="new", sa_column=Column(String(16), nullable=False, server_default="new"))
    #: the warehouse the order ships from once allocated (NULL while unallocated or when split)
    warehouse_id: int | None = Field(default=None, foreign_key="warehouse.id", index=True)
    #: sha256 of the imported content, so an identical re-import is recognised without a diff
    content_hash: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    updated_at: datetime = Field(sa_column=_ts(nullable=False))


class SalesOrderLine(SQLModel, table=True):
    __tablename__ = "sales_order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_sales_order_line_no"),
        CheckConstraint("qty > 0", name="ck_sales_order_line_qty"),
        CheckConstraint("status in ('open','cancelled')", name="ck_sales_order_line_status"),
        Index("ix_sales_order_line_product", "product_id"),
        {"postgresql_with": {"fillfactor": 50}},  # room for HOT updates of the qty caches (migration 0010)
    )
    id: int | None = Field(default=None, primary_key=True)
    #: no index of its own: uq_sales_order_line_no (order_id, line_no) serves lookups by order (migration 0011)
    order_id: int = Field(foreign_key="sales_order.id")
    line_no: int
    product_id: int = Field(foreign_key="product.id")
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    #: caches of Σ active allocations and Σ shipped for this line
    allocated_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    shipped_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False, server_default="open"))
    substitute_for: int | None = Field(default=None, foreign_key="sales_order_line.id")


class Allocation(SQLModel, table=True):
    """``qty`` of one quant held for one order line (mirrored by a reservation of doc ref ``SO-<order>``)."""

    __table_args__ = (
        CheckConstraint("qty > 0", name="ck_allocation_qty"),
        CheckConstraint("status in ('active','released','shipped')", name="ck_allocation_status"),
        Index("ix_allocation_line_status", "order_line_id", "status"),
        Index("ix_allocation_order", "order_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id")
    order_line_id: int = Field(foreign_key="sales_order_line.id")
    product_id: int = Field(foreign_key="product.id")
    warehouse_id: int = Field(foreign_key="warehouse.id")
    location_id: int = Field(foreign_key="location.id")
    lot_id: int | None = Field(default=None, foreign_key="lot.id")
    package_id: int | None = Field(default=None, foreign_key="package.id")
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    status: str = Field(default="active", sa_column=Column(String(16), nullable=False, server_default="active"))
    created_at: datetime = Field(sa_column=_ts(nullable=False))


class OrderStatusEvent(SQLModel, table=True):
    """One row per status change of an order: the timeline, and the source of fulfilment reports."""

    __tablename__ = "order_status_event"
    __table_args__ = (Index("ix_order_status_event_order", "order_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="sales_order.id")
    at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    from_status: str = Field(default="", sa_column=Column(String(16), nullable=False, server_default=""))
    to_status: str = Field(sa_column=Column(String(16), nullable=False))
    actor_id: int = Field(foreign_key="wsms_user.id")
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class ExceptionTicket(SQLModel, table=True):
    """Something a person must look at: out of stock, bad address, unknown SKU, short pick, damage …"""

    __tablename__ = "exception_ticket"
    __table_args__ = (
        CheckConstraint("status in ('open','waiting','resolved','cancelled')", name="ck_exception_ticket_status"),
        Index("ix_exception_ticket_status_id", "status", "id"),
        Index("ix_exception_ticket_order", "order_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(32), nullable=False))
    order_id: int | None = Field(default=None, foreign_key="sales_order.id")
    order_line_id: int | None = Field(default=None, foreign_key="sales_order_line.id")
    channel_id: int | None = Field(default=None, foreign_key="sales_channel.id")
    external_ref: str = Field(default="", sa_column=Column(String(80), nullable=False, server_default=""))
    message: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    #: the raw data that caused it (import rows as JSON, the scan …)
    raw: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False, server_default="open"))
    assignee_id: int | None = Field(default=None, foreign_key="wsms_user.id")
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    resolution: str = Field(default="", sa_column=Column(String(32), nullable=False, server_default=""))
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    updated_at: datetime = Field(sa_column=_ts(nullable=False))
