"""SQLModel tables of wsms: warehouses, locations, products, lots, packages, the ledger,
quants, reservations, users and the audit chain.

The ledger (``LedgerEntry``) is the single source of truth and is append-only; quants are a
cache of it updated in the same transaction. Quantities are exact decimals in the product's
base unit (see ``db.types``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlmodel import Field, SQLModel

from wsms_tui.db.types import Money, Qty


class LocationUsage(StrEnum):
    INTERNAL = "internal"
    VIEW = "view"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    INVENTORY_LOSS = "inventory_loss"
    SCRAP = "scrap"
    TRANSIT = "transit"


VIRTUAL_USAGES = frozenset(
    {LocationUsage.SUPPLIER, LocationUsage.CUSTOMER, LocationUsage.INVENTORY_LOSS, LocationUsage.SCRAP}
)


class Tracking(StrEnum):
    NONE = "none"
    LOT = "lot"
    SERIAL = "serial"


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    CLERK = "clerk"
    FINANCE = "finance"


def _ts(**kw: object) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), **kw)  # type: ignore[arg-type]


class Warehouse(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    address: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class Location(SQLModel, table=True):
    """A node of a warehouse's location tree; virtual locations have no warehouse."""

    __table_args__ = (
        CheckConstraint(
            "usage in ('internal','view','supplier','customer','inventory_loss','scrap','transit')",
            name="ck_location_usage",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    name: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    warehouse_id: int | None = Field(default=None, foreign_key="warehouse.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="location.id", index=True)
    usage: str = Field(sa_column=Column(String(16), nullable=False))
    barcode: str | None = Field(default=None, sa_column=Column(String(64), unique=True, nullable=True))
    zone: str = Field(default="", sa_column=Column(String(32), nullable=False, server_default=""))
    aisle: str = Field(default="", sa_column=Column(String(16), nullable=False, server_default=""))
    bay: str = Field(default="", sa_column=Column(String(16), nullable=False, server_default=""))
    level: str = Field(default="", sa_column=Column(String(16), nullable=False, server_default=""))
    x: float | None = None
    y: float | None = None
    capacity: Decimal | None = Field(default=None, sa_column=Column(Qty(), nullable=True))
    count_frequency_days: int | None = None
    allow_negative: bool = Field(default=False)
    active: bool = Field(default=True)


class Product(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("tracking in ('none','lot','serial')", name="ck_product_tracking"),
    )
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(300), nullable=False))
    uom: str = Field(default="unit", sa_column=Column(String(16), nullable=False, server_default="unit"))
    tracking: str = Field(default="none", sa_column=Column(String(8), nullable=False, server_default="none"))
    shelf_life_days: int | None = None
    weight_kg: Decimal | None = Field(default=None, sa_column=Column(Qty(), nullable=True))
    volume_l: Decimal | None = Field(default=None, sa_column=Column(Qty(), nullable=True))
    unit_cost: Decimal = Field(default=Decimal(0), sa_column=Column(Money(), nullable=False, server_default="0"))
    category: str = Field(default="", sa_column=Column(String(100), nullable=False, server_default=""))
    active: bool = Field(default=True)


class ProductBarcode(SQLModel, table=True):
    """A barcode of a product: a GTIN (stored as 14 digits) or an internal code, with pack qty."""

    __tablename__ = "product_barcode"
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    code: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    kind: str = Field(default="gtin", sa_column=Column(String(16), nullable=False, server_default="gtin"))
    pack_qty: Decimal = Field(default=Decimal(1), sa_column=Column(Qty(), nullable=False, server_default="1000000"))


class Lot(SQLModel, table=True):
    """A lot or a serial number (a serial is a lot whose quantity never exceeds one)."""

    __table_args__ = (UniqueConstraint("product_id", "lot_no", name="uq_lot_product_lot_no"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    lot_no: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    expiry: date | None = None
    is_serial: bool = Field(default=False)


class Package(SQLModel, table=True):
    """A package / LPN (licence plate), identified by an SSCC or an internal code; nests."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    parent_id: int | None = Field(default=None, foreign_key="package.id")


class User(SQLModel, table=True):
    __tablename__ = "wsms_user"
    __table_args__ = (
        CheckConstraint("role in ('admin','supervisor','clerk','finance')", name="ck_user_role"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    full_name: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    pin_hash: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    active: bool = Field(default=True)
    is_system: bool = Field(default=False)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts(nullable=False, server_default=func.now()))


class LedgerEntry(SQLModel, table=True):
    """One stock movement: ``qty`` of a product from one location to another. Append-only."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint("qty > 0", name="ck_ledger_qty_positive"),
        CheckConstraint("from_location_id <> to_location_id", name="ck_ledger_distinct_locations"),
        Index("ix_ledger_product_at", "product_id", "at"),
    )
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    op_id: str = Field(sa_column=Column(String(80), unique=True, nullable=False))
    at: datetime = Field(sa_column=_ts(nullable=False, index=True))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    actor_id: int = Field(foreign_key="wsms_user.id")
    terminal: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    product_id: int = Field(foreign_key="product.id")
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    from_location_id: int = Field(foreign_key="location.id", index=True)
    to_location_id: int = Field(foreign_key="location.id", index=True)
    lot_id: int | None = Field(default=None, foreign_key="lot.id", index=True)
    package_id: int | None = Field(default=None, foreign_key="package.id")
    doc_ref: str = Field(default="", sa_column=Column(String(80), nullable=False, server_default=""))
    reason: str = Field(default="", sa_column=Column(String(32), nullable=False, server_default=""))
    unit_cost: Decimal | None = Field(default=None, sa_column=Column(Money(), nullable=True))
    raw_scan: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    reverses_id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey("ledger_entry.id"),
                         unique=True, nullable=True),
    )


class ReservationEntry(SQLModel, table=True):
    """Append-only reservation journal: +qty reserves, -qty releases. Quant.reserved caches Σ."""

    __tablename__ = "reservation_entry"
    __table_args__ = (CheckConstraint("qty <> 0", name="ck_reservation_qty_nonzero"),)
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    op_id: str = Field(sa_column=Column(String(80), unique=True, nullable=False))
    at: datetime = Field(sa_column=_ts(nullable=False))
    actor_id: int = Field(foreign_key="wsms_user.id")
    terminal: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    product_id: int = Field(foreign_key="product.id")
    location_id: int = Field(foreign_key="location.id")
    lot_id: int | None = Field(default=None, foreign_key="lot.id")
    package_id: int | None = Field(default=None, foreign_key="package.id")
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    doc_ref: str = Field(default="", sa_column=Column(String(80), nullable=False, server_default="", index=True))


class Quant(SQLModel, table=True):
    """Stock of one product at one location (and lot, package): a cache of the ledger."""

    __table_args__ = (
        Index(
            "uq_quant_key",
            "product_id",
            "location_id",
            text("coalesce(lot_id, 0)"),
            text("coalesce(package_id, 0)"),
            unique=True,
        ),
        Index("ix_quant_location", "location_id"),
        CheckConstraint("reserved >= 0", name="ck_quant_reserved_nonneg"),
        {"postgresql_with": {"fillfactor": 50}},  # room for HOT updates of on_hand/reserved (migration 0010)
    )
    id: int | None = Field(default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                          primary_key=True, autoincrement=True))
    product_id: int = Field(foreign_key="product.id")
    location_id: int = Field(foreign_key="location.id")
    lot_id: int | None = Field(default=None, foreign_key="lot.id")
    package_id: int | None = Field(default=None, foreign_key="package.id")
    on_hand: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    reserved: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))


class AuditEvent(SQLModel, table=True):
    """One state change, hash-chained to the previous event (``wsms audit verify``)."""

    __tablename__ = "audit_event"
    seq: int = Field(sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                      autoincrement=False))
    at: datetime = Field(sa_column=_ts(nullable=False))
    actor: str = Field(sa_column=Column(String(64), nullable=False))
    terminal: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    action: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    object: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    payload: str = Field(default="{}", sa_column=Column(Text, nullable=False, server_default="{}"))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))


class AuditHead(SQLModel, table=True):
    """The single row holding the chain's tip; locking it serialises audit writers."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    hash: str = Field(default="0" * 64, sa_column=Column(String(64), nullable=False))


class Meta(SQLModel, table=True):
    """Small key/value facts about this database (e.g. that it is a demo, its demo logins)."""

    __tablename__ = "wsms_meta"
    key: str = Field(sa_column=Column(String(64), primary_key=True))
    value: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class Receipt(SQLModel, table=True):
    """An expected delivery from a supplier; lines are received by scanning."""

    __table_args__ = (
        CheckConstraint("status in ('open','receiving','closed','cancelled')", name="ck_receipt_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    supplier: str = Field(sa_column=Column(String(200), nullable=False))
    warehouse_id: int = Field(foreign_key="warehouse.id", index=True)
    expected_date: date | None = None
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False, server_default="open"))
    blind: bool = Field(default=False)
    #: over-receipt allowed without a supervisor, in percent of the expected quantity
    tolerance_pct: Decimal = Field(default=Decimal(0), sa_column=Column(Money(), nullable=False, server_default="0"))
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ReceiptLine(SQLModel, table=True):
    __tablename__ = "receipt_line"
    __table_args__ = (UniqueConstraint("receipt_id", "line_no", name="uq_receipt_line_no"),)
    id: int | None = Field(default=None, primary_key=True)
    receipt_id: int = Field(foreign_key="receipt.id", index=True)
    line_no: int
    product_id: int = Field(foreign_key="product.id", index=True)
    expected_qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    #: cache of Σ receive entries (minus their reversals) posted against this line
    received_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    lot_no: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    expiry: date | None = None


class ReceiptPost(SQLModel, table=True):
    """Which ledger entry received (or undid) how much on which receipt line."""

    __tablename__ = "receipt_post"
    id: int | None = Field(default=None, primary_key=True)
    receipt_line_id: int = Field(foreign_key="receipt_line.id", index=True)
    ledger_entry_id: int = Field(sa_column=Column(BigInteger().with_variant(Integer, "sqlite"),
                                                  ForeignKey("ledger_entry.id"), unique=True, nullable=False))
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))  # signed


class PutawayRule(SQLModel, table=True):
    """Where received goods should go: a product or a category → a zone or a fixed pick face."""

    __tablename__ = "putaway_rule"
    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="product.id")
    category: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    zone: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    location_id: int | None = Field(default=None, foreign_key="location.id")
    priority: int = Field(default=100)


class PrintJob(SQLModel, table=True):
    """A label in the persistent print spool: printed exactly once, reprints recorded with a reason."""

    __tablename__ = "print_job"
    __table_args__ = (
        CheckConstraint("status in ('queued','printing','printed','failed','needs_decision','cancelled')",
                        name="ck_print_job_status"),
        Index("ix_print_job_printer_status", "printer", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    printer: str = Field(sa_column=Column(String(200), nullable=False))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    preview: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    idempotency_key: str = Field(sa_column=Column(String(120), unique=True, nullable=False))
    serialized: bool = Field(default=False)
    status: str = Field(default="queued", sa_column=Column(String(16), nullable=False, server_default="queued"))
    attempts: int = Field(default=0)
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    reprint_of: int | None = Field(default=None, foreign_key="print_job.id")
    reason: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    actor_id: int = Field(foreign_key="wsms_user.id")
    terminal: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    printed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
