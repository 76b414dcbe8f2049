"""Tables of the reports module: the daily stock-flow snapshot and the saved reorder points.

``stock_daily`` is a cache of the ledger, one row per (product, warehouse, UTC day) with the quantities
that crossed the warehouse's boundary that day: in (receipts, found stock, transfers from another
warehouse, returns), out (sales, losses, transfers to another warehouse), of which sold to and returned
from customers, and the number of sales lines. Stock at the end of any day is a running sum of in − out,
so long histories aggregate over ~400k narrow rows instead of a million ledger rows. It holds every
ledger entry up to ``stock_daily_state.ledger_id``; reports add the newer entries from the ledger
directly, and ``wsms report rebuild-snapshots`` rebuilds it from the ledger at any time.

``reorder_point`` keeps the reorder points of the last reorder run (per product, and warehouse or NULL
for all warehouses), so the status bar can count products at or below them with one cheap query.
Quantities are scaled integers (``db.types.Qty``); ``day`` is days since 1970-01-01 (UTC).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from wsms_tui.db.types import Qty


def _ts(nullable: bool) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


class StockDaily(SQLModel, table=True):
    """Quantities of one product crossing one warehouse's boundary on one UTC day (a ledger cache)."""

    __tablename__ = "stock_daily"
    product_id: int = Field(sa_column=Column(Integer, ForeignKey("product.id"), primary_key=True))
    warehouse_id: int = Field(sa_column=Column(Integer, ForeignKey("warehouse.id"), primary_key=True))
    #: days since 1970-01-01, UTC
    day: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    qty_in: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    qty_out: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    #: of qty_out: moved to a customer location; of qty_in: moved back from one
    qty_sold: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    qty_returned: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    sales_lines: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class StockDailyState(SQLModel, table=True):
    """The single row saying how far ``stock_daily`` has folded the ledger in."""

    __tablename__ = "stock_daily_state"
    id: int = Field(default=1, primary_key=True)
    ledger_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    rebuilt_at: datetime | None = Field(default=None, sa_column=_ts(True))
    refreshed_at: datetime | None = Field(default=None, sa_column=_ts(True))


class ReorderPoint(SQLModel, table=True):
    """A product's reorder point from the last reorder run (warehouse NULL: all warehouses together)."""

    __tablename__ = "reorder_point"
    __table_args__ = (
        Index("uq_reorder_point_key", "product_id", text("coalesce(warehouse_id, 0)"), unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")
    warehouse_id: int | None = Field(default=None, foreign_key="warehouse.id")
    reorder_point: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    safety_stock: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    order_up_to: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    method: str = Field(default="", sa_column=Column(String(16), nullable=False, server_default=""))
    computed_at: datetime = Field(sa_column=_ts(False))
