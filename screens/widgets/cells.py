"""How the desks put data into table cells: plain text (never markup — a lot may contain
brackets), cut with an ellipsis, quantities without trailing zeros and with thousands separators."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static


def cell(value: object, *, right: bool = False) -> Text:
    return Text("" if value is None else str(value), no_wrap=True, overflow="ellipsis",
                justify="right" if right else "left")


def qty_str(value: Decimal) -> str:
    """``Decimal('12.500000')`` → ``12.5``; ``1234`` → ``1,234``."""
    exact = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    return format(exact, ",")


def date_str(value: date | None) -> str:
    return value.isoformat() if value else ""


def show_text(widget: Static, content: VisualType) -> None:
    """``widget.update(content)``, without a relayout of the screen when the widget's size cannot change
    (a fixed height and a width that is not ``auto``): a desk's prompt or message line changes on every
    scan, and a relayout of a screen with tables costs more than the rest of the redraw."""
    height, width = widget.styles.height, widget.styles.width
    fixed = height is not None and height.is_cells and width is not None and not width.is_auto
    widget.update(content, layout=not fixed)
