"""Warehouse layouts for routing: blocks of parallel aisles between cross aisles, and the depot.

One ``layout`` per warehouse (replaced as a whole by ``wsms import layout``); its blocks are stacked
front to back, each with its aisles left to right. A storage location's position is derived from
its ``aisle`` and ``bay`` and these rows (``wsms_tui.layout``), so it never goes stale.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, String, UniqueConstraint
from sqlmodel import Field, SQLModel


class Layout(SQLModel, table=True):
    __tablename__ = "layout"
    __table_args__ = (
        CheckConstraint("aisle_width > 0 and bay_width > 0 and cross_aisle_width >= 0 and rack_depth >= 0",
                        name="ck_layout_sizes"),
    )
    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id", unique=True)
    name: str = Field(default="", sa_column=Column(String(200), nullable=False, server_default=""))
    aisle_width: float
    rack_depth: float
    bay_width: float
    cross_aisle_width: float
    depot_x: float
    #: the cross aisle the depot is on: 0 = front, number of blocks = back
    depot_cross: int = 0
    source_sha256: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    imported_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class LayoutBlock(SQLModel, table=True):
    __tablename__ = "layout_block"
    __table_args__ = (
        UniqueConstraint("layout_id", "idx", name="uq_layout_block_idx"),
        CheckConstraint("numbering in ('sequential','odd-even')", name="ck_layout_block_numbering"),
        CheckConstraint("last_bay >= first_bay", name="ck_layout_block_bays"),
    )
    id: int | None = Field(default=None, primary_key=True)
    layout_id: int = Field(foreign_key="layout.id", index=True)
    idx: int  # 0 = the front block
    name: str = Field(sa_column=Column(String(32), nullable=False))
    first_bay: int
    last_bay: int
    numbering: str = Field(default="sequential", sa_column=Column(String(16), nullable=False,
                                                                  server_default="sequential"))
    bay_width: float


class LayoutAisle(SQLModel, table=True):
    __tablename__ = "layout_aisle"
    __table_args__ = (
        UniqueConstraint("block_id", "idx", name="uq_layout_aisle_idx"),
        UniqueConstraint("block_id", "name", name="uq_layout_aisle_name"),
    )
    id: int | None = Field(default=None, primary_key=True)
    block_id: int = Field(foreign_key="layout_block.id", index=True)
    idx: int  # left to right
    name: str = Field(sa_column=Column(String(16), nullable=False))
    x: float
    open_front: bool = True
    open_back: bool = True
