"""What the Orders desk and the Exceptions screen type into their scan field, turned into service arguments.

The order queue's scan field takes filter words and search text in one line, e.g.
``status:allocated,backorder channel:SHOP wh:W1 prio:1 express from:2026-11-01 to:2026-11-30 13812345678``:
known ``key:value`` words set filters, anything else is the search (order ref, customer, phone, SKU — a
scanned GTIN or GS1 string is looked up and searched as its SKU). The answers typed into the Exceptions
screen's prompts (``3 customer changed their mind``, ``2 P2 1``, ``postcode=200120; city=上海``) are parsed
here too, so the screens hold no rules.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select

from wsms_tui.authz import require
from wsms_tui.barcodes import normalize_gtin, parse_gs1
from wsms_tui.database import Database
from wsms_tui.db.models import Product, ProductBarcode
from wsms_tui.db.models_orders import ORDER_STATUSES
from wsms_tui.errors import BadInput
from wsms_tui.i18n import _
from wsms_tui.orders import OrderFilter
from wsms_tui.security import Actor

STATUS_CYCLE: tuple[tuple[str, ...] | None, ...] = (
    None, ("new",), ("allocated",), ("picking",), ("picked",), ("packed",), ("backorder",), ("hold",), ("shipped",),
    ("cancelled",))
KEYS = {"status": "status", "st": "status", "channel": "channel", "ch": "channel", "warehouse": "warehouse",
        "wh": "warehouse", "prio": "prio", "priority": "prio", "from": "from", "to": "to", "date": "date"}
ADDRESS_FIELDS = ("customer", "address", "city", "postcode", "country", "phone", "state")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(_("{t!r} is not a date (YYYY-MM-DD)").format(t=text[:20])) from None


def sku_of_code(db: Database, actor: Actor, code: str) -> str | None:
    """The SKU a scanned GTIN / GS1 string stands for (None when it is not a product barcode of ours)."""
    require(db, actor, "orders.view")
    gs1 = parse_gs1(code)
    gtin = normalize_gtin(gs1.gtin if gs1 is not None and gs1.gtin else code)
    if gtin is None:
        return None
    return db.read(lambda s: s.execute(select(Product.sku).join(ProductBarcode, ProductBarcode.product_id == Product.id)
                                       .where(ProductBarcode.code == gtin)).scalar())


def parse_query(db: Database, actor: Actor, text: str, base: OrderFilter | None = None) -> OrderFilter:
    """Filter words and search text → an ``OrderFilter`` (``base`` keeps what the words do not change)."""
    f = OrderFilter() if base is None else replace(base, search=None)
    words: list[str] = []
    values: dict[str, Any] = {}
    for word in text.split():
        key, sep, value = word.partition(":")
        k = KEYS.get(key.lower()) if sep and value else None
        if word.lower() == "express":
            values["express"] = True
        elif k == "status":
            sts = tuple(v.strip().lower() for v in value.split(",") if v.strip())
            bad = [v for v in sts if v not in ORDER_STATUSES]
            if bad:
                raise BadInput(_("no order status {b} (statuses: {k})").format(b=", ".join(bad),
                                                                              k=", ".join(ORDER_STATUSES)))
            values["status"] = sts or None
        elif k == "channel":
            values["channel"] = value
        elif k == "warehouse":
            values["warehouse"] = value
        elif k == "prio":
            if not value.lstrip("-").isdigit():
                raise BadInput(_("prio: takes a whole number"))
            values["min_priority"] = int(value)
        elif k == "from":
            values["date_from"] = _date(value)
        elif k == "to":
            values["date_to"] = _date(value)
        elif k == "date":
            values["date_from"] = values["date_to"] = _date(value)
        else:
            words.append(word)
    search = " ".join(words) or None
    if search:
        sku = sku_of_code(db, actor, search)
        search = sku or search
    return replace(f, search=search, **values)


def describe(f: OrderFilter) -> str:
    """The filter as a short line for the screen."""
    parts = []
    if f.status:
        parts.append("status:" + ",".join(f.status))
    if f.channel:
        parts.append(f"channel:{f.channel}")
    if f.warehouse:
        parts.append(f"wh:{f.warehouse}")
    if f.min_priority is not None:
        parts.append(f"prio:{f.min_priority}")
    if f.express:
        parts.append("express")
    if f.date_from and f.date_from == f.date_to:
        parts.append(f"date:{f.date_from}")
    else:
        if f.date_from:
            parts.append(f"from:{f.date_from}")
        if f.date_to:
            parts.append(f"to:{f.date_to}")
    if f.search:
        parts.append(f"“{f.search}”")
    return " ".join(parts) or _("all orders")


def next_status(f: OrderFilter) -> OrderFilter:
    """The status filter one step further along ``STATUS_CYCLE``."""
    try:
        i = STATUS_CYCLE.index(f.status)
    except ValueError:
        i = 0
    return replace(f, status=STATUS_CYCLE[(i + 1) % len(STATUS_CYCLE)])


def parse_line_reason(text: str) -> tuple[int, str]:
    """``3 customer changed their mind`` → (3, the reason)."""
    m = re.fullmatch(r"\s*(\d{1,4})\s+(.{3,})", text)
    if not m:
        raise BadInput(_("type the line number, then the reason (e.g. 2 customer changed their mind)"))
    return int(m[1]), m[2].strip()


def parse_substitute(text: str) -> tuple[int, str, str | None]:
    """``2 P2`` or ``2 P2 1`` → (line, SKU, qty or None)."""
    parts = text.split()
    if len(parts) not in (2, 3) or not parts[0].isdigit():
        raise BadInput(_("type the line number, the SKU to send instead and, if different, the quantity "
                         "(e.g. 2 P2 1)"))
    return int(parts[0]), parts[1], parts[2] if len(parts) == 3 else None


def parse_address_fix(text: str) -> dict[str, str]:
    """``postcode=200120; city=上海`` → the fields to change (only those named)."""
    out: dict[str, str] = {}
    for part in re.split(r"[;|]", text):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in ADDRESS_FIELDS:
            raise BadInput(_("write field=value; … with fields {f}").format(f=", ".join(ADDRESS_FIELDS)))
        out[key] = value.strip()
    if not out:
        raise BadInput(_("nothing to change: write field=value; …"))
    return out
