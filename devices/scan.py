"""The one record every scanner source produces, whatever its transport."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Scan:
    """One framed scan: the raw bytes as received, the AIM symbology id if the scanner sent one
    (e.g. ``]C1`` for GS1-128), where it came from (``keyboard``, a serial URL …) and when."""

    raw: bytes
    source: str
    symbology: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def text(self) -> str:
        """The scan as text; undecodable bytes become U+FFFD so nothing is silently dropped."""
        return self.raw.decode("utf-8", errors="replace")

    @classmethod
    def from_text(cls, text: str, source: str, symbology: str | None = None) -> Scan:
        aim = symbology
        if aim is None:
            found, text = split_aim_id(text)
            aim = found or None
        return cls(text.encode("utf-8"), source, aim)


def is_aim_id(text: str) -> bool:
    """``text`` starts with an AIM symbology identifier: ``]``, an ASCII letter (the symbology: ``C`` Code 128,
    ``d`` DataMatrix, ``E`` EAN/UPC, ``Q`` QR …) and an ASCII letter or digit (the modifier)."""
    return (len(text) >= 3 and text[0] == "]" and text[1].isascii() and text[1].isalpha()
            and text[2].isascii() and text[2].isalnum())


def split_aim_id(text: str) -> tuple[str, str]:
    """``("]C1", rest)`` when ``text`` starts with an AIM symbology identifier, else ``("", text)``."""
    if is_aim_id(text):
        return text[:3], text[3:]
    return "", text
