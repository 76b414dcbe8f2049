"""How the desks put data into table cells: plain text (never markup — a lot may contain
brackets), cut with an ellipsis, quantities without trailing zeros and with thousands separators."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rich.text import Text


def cell(value: object, *, right: bool = False) -> Text:
    return Text("" if value is None else str(value), no_wrap=True, overflow="ellipsis",
                justify="right" if right else "left")


def qty_str(value: Decimal) -> str:
    """``Decimal('12.500000')`` → ``12.5``; ``1234`` → ``1,234``."""
    exact = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    return format(exact, ",")


def date_str(value: date | None) -> str:
    return value.isoformat() if value else ""
