"""Stocktake tables: counts (sessions), the locations of a count, count lines, scan entries, issues
and approvals.

A count line keeps, per (location, product, lot), the quantity expected *at the moment it was
counted* (the quant snapshot taken in the counting transaction) next to the quantity counted, for
the first count and for a recount; ``variance`` is the final difference, and approval posts exactly
that against the inventory-loss location. Moves after the count therefore never become variances.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel

from wsms_tui.db.types import Money, Qty


def _ts(nullable: bool) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


def _big_fk(target: str, *, nullable: bool = True, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(BigInteger().with_variant(Integer, "sqlite"), ForeignKey(target), nullable=nullable, index=index)


class CountSession(SQLModel, table=True):
    """One count: full, spot, cycle or sample; blind by default; its tolerances and accuracy figures."""

    __tablename__ = "count_session"
    __table_args__ = (
        CheckConstraint("kind in ('full','spot','cycle','sample')", name="ck_count_session_kind"),
        CheckConstraint("status in ('open','closed','cancelled')", name="ck_count_session_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(sa_column=Column(String(32), unique=True, nullable=False))
    kind: str = Field(sa_column=Column(String(8), nullable=False))
    warehouse_id: int | None = Field(default=None, foreign_key="warehouse.id", index=True)
    scope: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    status: str = Field(default="open", sa_column=Column(String(12), nullable=False, server_default="open"))
    blind: bool = Field(default=True)
    #: a line is within tolerance when |variance| <= max(tol_qty, tol_pct % of expected) and, when
    #: tol_value is set, |variance| x unit cost <= tol_value; beyond it, the location is recounted
    tol_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    tol_pct: Decimal = Field(default=Decimal(0), sa_column=Column(Money(), nullable=False, server_default="0"))
    tol_value: Decimal | None = Field(default=None, sa_column=Column(Money(), nullable=True))
    sample_seed: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    sample_population: int | None = None
    created_by: int = Field(foreign_key="wsms_user.id")
    created_at: datetime = Field(sa_column=_ts(False))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(True))
    # accuracy figures, stored when the count closes (for the reports)
    loc_counted: int | None = None
    loc_accurate: int | None = None
    lines_counted: int | None = None
    lines_accurate: int | None = None
    value_expected: Decimal | None = Field(default=None, sa_column=Column(Money(), nullable=True))
    value_abs_variance: Decimal | None = Field(default=None, sa_column=Column(Money(), nullable=True))
    value_net_variance: Decimal | None = Field(default=None, sa_column=Column(Money(), nullable=True))


class CountLocation(SQLModel, table=True):
    """A location of a count and where it stands: pending → counted (or recount → counted) → approved/rejected."""

    __tablename__ = "count_location"
    __table_args__ = (
        CheckConstraint("status in ('pending','recount','counted','approved','rejected')",
                        name="ck_count_location_status"),
        Index("uq_count_location", "session_id", "location_id", unique=True),
        Index("ix_count_location_loc_status", "location_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="count_session.id")
    location_id: int = Field(foreign_key="location.id")
    seq: int = Field(default=0)
    status: str = Field(default="pending", sa_column=Column(String(12), nullable=False, server_default="pending"))
    abc: str = Field(default="", sa_column=Column(String(1), nullable=False, server_default=""))
    counted_by: int | None = Field(default=None, foreign_key="wsms_user.id")
    counted_at: datetime | None = Field(default=None, sa_column=_ts(True))
    recount_by: int | None = Field(default=None, foreign_key="wsms_user.id")
    recount_at: datetime | None = Field(default=None, sa_column=_ts(True))
    #: set by the first count when a line is beyond tolerance; the final variance flag after that
    has_variance: bool = Field(default=False)
    decided_by: int | None = Field(default=None, foreign_key="wsms_user.id")
    decided_at: datetime | None = Field(default=None, sa_column=_ts(True))
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class CountLine(SQLModel, table=True):
    """What one location holds of one product/lot: expected at count time vs counted, and a recount."""

    __tablename__ = "count_line"
    __table_args__ = (
        Index("uq_count_line_key", "count_location_id", "product_id", text("coalesce(lot_id, 0)"), unique=True),
        Index("ix_count_line_session", "session_id", "location_id"),
        Index("ix_count_line_approval", "approval_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="count_session.id")
    count_location_id: int = Field(foreign_key="count_location.id")
    location_id: int = Field(foreign_key="location.id")
    product_id: int = Field(foreign_key="product.id")
    lot_id: int | None = Field(default=None, foreign_key="lot.id")
    expected_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    counted_qty: Decimal = Field(default=Decimal(0), sa_column=Column(Qty(), nullable=False, server_default="0"))
    counted_at: datetime | None = Field(default=None, sa_column=_ts(True))
    recount_expected: Decimal | None = Field(default=None, sa_column=Column(Qty(), nullable=True))
    recount_qty: Decimal | None = Field(default=None, sa_column=Column(Qty(), nullable=True))
    recount_at: datetime | None = Field(default=None, sa_column=_ts(True))
    #: final counted − expected-at-count-time (recount when there was one); set when the location is done
    variance: Decimal | None = Field(default=None, sa_column=Column(Qty(), nullable=True))
    #: the product was never stocked at this location before it was counted here (flagged for review)
    unexpected: bool = Field(default=False)
    approval_id: int | None = Field(default=None, foreign_key="count_approval.id")
    ledger_entry_id: int | None = Field(default=None, sa_column=_big_fk("ledger_entry.id"))


class CountEntry(SQLModel, table=True):
    """One scan or typed quantity at the count desk (append-only; ``op_id`` makes a scan post once)."""

    __tablename__ = "count_entry"
    id: int | None = Field(default=None, primary_key=True)
    op_id: str = Field(sa_column=Column(String(80), unique=True, nullable=False))
    count_line_id: int = Field(foreign_key="count_line.id", index=True)
    round: int = Field(default=1)
    #: ``add`` adds qty (a scan), ``set`` makes the line's count qty (a typed quantity), ``take`` took qty back
    #: off the line (an undone scan, or a typed number below what the scan counted)
    mode: str = Field(default="add", sa_column=Column(String(4), nullable=False, server_default="add"))
    qty: Decimal = Field(sa_column=Column(Qty(), nullable=False))
    actor_id: int = Field(foreign_key="wsms_user.id")
    terminal: str = Field(default="", sa_column=Column(String(64), nullable=False, server_default=""))
    at: datetime = Field(sa_column=_ts(False))
    raw_scan: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CountIssue(SQLModel, table=True):
    """Bad input at the count desk, kept for the supervisor's review (also in the audit log)."""

    __tablename__ = "count_issue"
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="count_session.id", index=True)
    location_id: int | None = Field(default=None, foreign_key="location.id")
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    message: str = Field(sa_column=Column(Text, nullable=False))
    raw_scan: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    actor_id: int = Field(foreign_key="wsms_user.id")
    at: datetime = Field(sa_column=_ts(False))


class CountApproval(SQLModel, table=True):
    """A supervisor's decision over some locations of a count: approved (adjustments posted) or rejected."""

    __tablename__ = "count_approval"
    __table_args__ = (CheckConstraint("decision in ('approve','reject')", name="ck_count_approval_decision"),)
    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="count_session.id", index=True)
    decision: str = Field(sa_column=Column(String(8), nullable=False))
    actor_id: int = Field(foreign_key="wsms_user.id")
    at: datetime = Field(sa_column=_ts(False))
    locations: int = Field(default=0)
    entries: int = Field(default=0)
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
