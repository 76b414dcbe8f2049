"""SQLModel tables of wave picking and replenishment: carrier cutoffs, waves, their orders and pick
tours, pick tasks (one per allocation row, in route order), replenishment rules (min/max per pick
face) and replenishment tasks (reserve → pick face).

A ``pick_task`` points at the ``allocation`` it picks; a confirmed pick moves the units to the
warehouse's packing staging location and the allocation follows them (``wsms_tui.picking``).
Quantities are exact decimals stored as scaled integers (``db.types.Qty``, BIGINT).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, DateTime, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from wsms_tui.db.types import Qty

WAVE_STATUSES = ("planned", "released", "done", "cancelled")
TASK_STATUSES = ("open", "skipped", "picked", "short", "cancelled")


def _ts(**kw: object) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), **kw)  # type: ignore[arg-type]


class CarrierCutoff(SQLModel, table=True):
    """Which carrier takes a warehouse's orders to a country ('' = anywhere) and its daily cutoff."""

    __tablename__ = "carrier_cutoff"
    __table_args__ = (UniqueConstraint("warehouse_id", "country", "carrier", name="uq_carrier_cutoff"),)
    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id", index=True)
    country: str = Field(default="", sa_column=Column(String(2), nullable=False, server_default=""))
    carrier: str = Field(sa_column=Column(String(32), nullable=False))
    #: local time of day the carrier collects, ``HH:MM``
    cutoff: str = Field(sa_column=Column(String(5), nullable=False))


class Wave(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("status in ('planned','released','done','cancelled')", name="ck_wave_status"),
        Index("ix_wave_status_id", "status", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id", index=True)
    status: str = Field(default="planned", sa_column=Column(String(16), nullable=False, server_default="planned"))
    method: str = Field(default="savings", sa_column=Column(String(16), nullable=False, server_default="savings"))
    carrier: str = Field(default="", sa_column=Column(String(32), nullable=False, server_default=""))
    cutoff: str = Field(default="", sa_column=Column(String(5), nullable=False, server_default=""))
    zone: str = Field(default="", sa_column=Column(String(32), nullable=False, server_default=""))
    cap_lines: int | None = None
    cap_orders: int | None = None
    cap_volume: float | None = None
    cap_weight: float | None = None
    n_orders: int = 0
    n_lines: int = 0
    travel_m: float = 0.0
    fcfs_travel_m: float = 0.0
    name_travel_m: float = 0.0
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    created_by: int = Field(foreign_key="wsms_user.id")
    released_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class PickTour(SQLModel, table=True):
    """One cart's tour of a wave: its orders (one tote each), its route and who picks it."""

    __tablename__ = "pick_tour"
    __table_args__ = (
        UniqueConstraint("wave_id", "number", name="uq_pick_tour_number"),
        CheckConstraint("status in ('planned','open','picking','done','cancelled')", name="ck_pick_tour_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(foreign_key="wave.id", index=True)
    number: int
    status: str = Field(default="planned", sa_column=Column(String(16), nullable=False, server_default="planned"))
    length_m: float = 0.0
    exact: bool = True
    method: str = Field(default="", sa_column=Column(String(24), nullable=False, server_default=""))
    n_lines: int = 0
    volume: float = 0.0
    weight: float = 0.0
    #: the route: JSON list of [location code, metres from the previous stop]
    stops: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))
    picker_id: int | None = Field(default=None, foreign_key="wsms_user.id")


class WaveOrder(SQLModel, table=True):
    __tablename__ = "wave_order"
    __table_args__ = (
        UniqueConstraint("wave_id", "order_id", name="uq_wave_order"),
        Index("ix_wave_order_order", "order_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(foreign_key="wave.id")
    order_id: int = Field(foreign_key="sales_order.id")
    tour_id: int | None = Field(default=None, foreign_key="pick_tour.id")
    tote: str = Field(default="", sa_column=Column(String(32), nullable=False, server_default=""))
    #: in the wave, or dropped at release (no longer allocated / changed since planning)
    dropped: bool = False


class PickTask(SQLModel, table=True):
    """Pick ``qty`` of one allocation at its location into a tote; ``seq`` is the route order."""

    __tablename__ = "pick_task"
    __table_args__ = (
        CheckConstraint("qty > 0", name="ck_pick_task_qty"),
        CheckConstraint("status in ('open','skipped','picked','short','cancelled')", name="ck_pick_task_status"),
        Index("ix_pick_task_tour_seq", "tour_id", "seq"),
        Index("ix_pick_task_order", "order_id"),
        Index("ix_pick_task_location_status", "location_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(foreign_key="wave.id", index=True)
    tour_id: int = Field(foreign_key="pick_tour.id")
    seq: int
    order_id: int = Field(foreign_key="sales_order.id")
    order_line_id: int = Field(foreign_key="sales_order_line.id")
    allocation_id: int = Field(foreign_key="allocation.id")
    product_id: int = Field(foreign_key="product.id")
    location_id: int = Field(foreign_key="location.id")
    lot_id: int | None = Field(default=None, foreign_key="lot.id")
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    picked_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    short_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    tote: str = Field(default="", sa_column=Column(String(32), nullable=False, server_default=""))
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False, server_default="open"))
    picker_id: int | None = Field(default=None, foreign_key="wsms_user.id")
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class ReplenRule(SQLModel, table=True):
    """A pick face of a product: refill it from reserve when it drops below ``min_qty``, up to ``max_qty``."""

    __tablename__ = "replen_rule"
    __table_args__ = (
        UniqueConstraint("location_id", "product_id", name="uq_replen_rule"),
        CheckConstraint("min_qty >= 0 and max_qty > min_qty", name="ck_replen_rule_minmax"),
    )
    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id", index=True)
    location_id: int = Field(foreign_key="location.id")
    product_id: int = Field(foreign_key="product.id", index=True)
    min_qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    max_qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    active: bool = True


class ReplenTask(SQLModel, table=True):
    """Move ``qty`` of a product (lot) from a reserve location to a pick face."""

    __tablename__ = "replen_task"
    __table_args__ = (
        CheckConstraint("qty > 0", name="ck_replen_task_qty"),
        CheckConstraint("status in ('open','done','cancelled')", name="ck_replen_task_status"),
        Index("ix_replen_task_status_id", "status", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    warehouse_id: int = Field(foreign_key="warehouse.id", index=True)
    rule_id: int | None = Field(default=None, foreign_key="replen_rule.id")
    wave_id: int | None = Field(default=None, foreign_key="wave.id")
    product_id: int = Field(foreign_key="product.id")
    from_location_id: int = Field(foreign_key="location.id")
    to_location_id: int = Field(foreign_key="location.id")
    lot_id: int | None = Field(default=None, foreign_key="lot.id")
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    moved_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    #: ``below_min`` (the face dropped under its minimum) or ``wave`` (a released wave needs it)
    reason: str = Field(default="below_min", sa_column=Column(String(16), nullable=False, server_default="below_min"))
    status: str = Field(default="open", sa_column=Column(String(16), nullable=False, server_default="open"))
    created_at: datetime = Field(sa_column=_ts(nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    done_by: int | None = Field(default=None, foreign_key="wsms_user.id")
