"""Column types: exact decimals stored as scaled integers on every backend.

SQLite has no exact decimal type (NUMERIC is stored as a float), so quantities and
money are stored as BIGINT counts of 10**-scale units. Sums in SQL stay exact on SQLite
and PostgreSQL alike; Python always sees ``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.types import TypeDecorator

QTY_SCALE = 6
MONEY_SCALE = 4


class ScaledDecimal(TypeDecorator[Decimal]):
    """A Decimal kept as an integer number of 10**-scale units."""

    impl = BigInteger
    cache_ok = True

    def __init__(self, scale: int = QTY_SCALE) -> None:
        super().__init__()
        self.scale = scale

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        try:
            d = Decimal(value) if not isinstance(value, Decimal) else value
            scaled = d.scaleb(self.scale)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise ValueError(f"not a decimal number: {value!r}") from exc
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return plain(Decimal(int(value)).scaleb(-self.scale))

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal


def plain(d: Decimal) -> Decimal:
    """``Decimal('5.000000')`` -> ``Decimal('5')``; ``1.250000`` -> ``1.25`` (never exponent form)."""
    if d == d.to_integral_value():
        return d.quantize(Decimal(1))
    return d.normalize()


def Qty() -> ScaledDecimal:  # noqa: N802 - reads like a type in column declarations
    return ScaledDecimal(QTY_SCALE)


def Money() -> ScaledDecimal:  # noqa: N802
    return ScaledDecimal(MONEY_SCALE)
