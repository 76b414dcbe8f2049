"""Barcode helpers: GTIN check digits and normalisation, GS1 element strings via biip.

A scanner's text is interpreted here (never in devices/): a plain GTIN/EAN/UPC, a GS1 element
string carrying GTIN + lot + expiry + count, or an internal code (SKU, location, lot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

GS = "\x1d"


def printable(text: str) -> str:
    """Drop control characters (keeping GS, the GS1 separator): what a lookup may compare."""
    return "".join(c for c in text if c == GS or (c.isprintable() and c != "\x7f"))


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits of ``body`` (without the check digit)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    return code.isdigit() and len(code) in (8, 12, 13, 14) and gs1_check_digit(code[:-1]) == int(code[-1])


def normalize_gtin(code: str) -> str | None:
    """A valid GTIN-8/12/13/14 as 14 digits, or None when it is not one."""
    code = code.strip()
    return code.zfill(14) if is_valid_gtin(code) else None


@dataclass(frozen=True)
class Gs1Data:
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    count: int | None = None
    sscc: str | None = None


def parse_gs1(text: str) -> Gs1Data | None:
    """Parse a GS1 element string (with FNC1 as GS, or parenthesised AIs); None if it is not one."""
    from biip import ParseConfig, parse  # local: biip is only needed when a scan looks like GS1
    from biip.gs1_messages import GS1Message

    raw = text.strip()
    if not raw or not (raw.startswith("(") or raw.startswith("]") or (raw[:2].isdigit() and len(raw) > 14)):
        return None
    try:
        if raw.startswith("("):
            msg = GS1Message.parse_hri(raw)
        else:
            msg = parse(raw, config=ParseConfig(separator_chars=[GS])).gs1_message
    except Exception:  # biip raises ParseError subclasses and ValueError on malformed data
        return None
    if msg is None:
        return None
    values: dict[str, object] = {}
    for es in msg.element_strings:
        ai = es.ai.ai
        if ai == "01" and es.gtin is not None:
            values["gtin"] = es.gtin.value.zfill(14)
        elif ai == "00" and es.sscc is not None:
            values["sscc"] = es.sscc.value
        elif ai == "10":
            values["lot"] = es.value
        elif ai == "21":
            values["serial"] = es.value
        elif ai == "17" and es.date is not None:
            values["expiry"] = es.date
        elif ai in ("30", "37"):
            values["count"] = int(es.value)
    return Gs1Data(**values) if values else None  # type: ignore[arg-type]
