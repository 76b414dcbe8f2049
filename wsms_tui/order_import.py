"""Importing orders from every channel: our CSV and JSON, Shopify's and WooCommerce's order exports,
and drop folders watched per channel.

A file is read and checked whole before anything is written; each bad row yields a ``RowError``
(line, column, reason). An order with any bad line is not imported at all (never half an order):
its rows go to a reject file and, when its reference is known, an exception ticket (``unknown_sku``
or ``bad_row``). Good orders import in the same run. An order whose ship-to address fails the
country checks imports on ``hold`` with a ``bad_address`` ticket.

Channel + external reference is unique: re-importing the same order changes nothing; a changed
order is updated while it is not yet being picked, and refused (error + ``change_refused`` ticket)
once the warehouse works on it. New orders are written set-based (``db.bulk.insert_rows``) in one
transaction per chunk of whole orders; imported orders are allocated right after (``allocate=False`` to
skip).
Column mappings of every format are documented in docs/CHANNELS.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from wsms_tui import audit
from wsms_tui.addresses import Address, check_address, country_code, normalise_postcode
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.bulk import insert_rows, paused_gc, stamp
from wsms_tui.db.models import Product
from wsms_tui.db.models_orders import ExceptionTicket, SalesChannel, SalesOrder, SalesOrderLine
from wsms_tui.db.types import QTY_SCALE
from wsms_tui.errors import BadInput
from wsms_tui.i18n import _
from wsms_tui.importing import ImportRejected, ImportReport, Progress, RowError, check_header, read_json
from wsms_tui.orders import (
    OPEN_STATUSES,
    active_allocations,
    channel_id,
    close_tickets,
    doc_ref,
    lock_orders,
    raw,
    raw_table,
    recompute_status,
    release_allocations,
    set_status,
)
from wsms_tui.security import Actor

FORMATS = ("wsms-csv", "wsms-json", "shopify", "woocommerce")
MAX_BYTES = 256 * 1024 * 1024
ORDERS_PER_TRANSACTION = 20_000

WSMS_REQUIRED = ["channel_ref", "order_date", "customer", "phone", "address", "city", "postcode", "country",
                 "priority", "sku", "qty", "promised_date"]
WSMS_OPTIONAL = ["email", "state", "address2", "express"]
ORDER_COLUMNS = ("channel_id", "external_ref", "order_date", "customer", "email", "phone", "address", "city", "state",
                 "postcode", "country", "priority", "express", "promised_date", "status", "content_hash",
                 "created_at", "updated_at")
HEADER_FIELDS = ("order_date", "customer", "email", "phone", "address", "city", "state", "postcode", "country",
                 "priority", "express", "promised_date")


class OrderFileRejected(ImportRejected):
    """The order file itself cannot be read (encoding, size, header, format): nothing was imported."""

    def __init__(self, path: Path, errors: list[RowError]) -> None:
        self.errors = errors
        head = _("{file}: nothing imported, the file itself has a problem").format(file=path.name)
        BadInput.__init__(self, "\n".join([head, *(str(e) for e in errors[:200])]))


@dataclass
class OrderImportReport(ImportReport):
    unchanged: int = 0
    refused: int = 0
    held: int = 0
    skipped: int = 0
    rejected_orders: int = 0
    tickets: int = 0
    format: str = ""
    order_ids: list[int] = field(default_factory=list)
    allocation: Any = None  # allocation.AllocationReport

    def summary(self) -> str:
        return _("{file} ({fmt}): {c} new, {u} updated, {s} unchanged, {h} on hold, {r} refused, "
                 "{x} rejected order(s), {b} bad row(s)").format(
            file=self.file, fmt=self.format, c=self.created, u=self.updated, s=self.unchanged, h=self.held,
            r=self.refused, x=self.rejected_orders, b=len({e.line for e in self.errors}))


class _Row:
    """One source row: ``raw`` (the source columns, for the reject file and tickets), ``norm`` (our field
    names), and the three fields every row needs (``ref``, ``sku``, ``qty``) read once."""

    __slots__ = ("line", "raw", "norm", "ref", "sku", "qty")

    def __init__(self, line: int, raw: dict[str, str], norm: dict[str, str]) -> None:
        self.line, self.raw, self.norm = line, raw, norm
        self.ref, self.sku, self.qty = norm.get("ref", ""), norm.get("sku", ""), norm.get("qty", "")


class _CsvLayout:
    """Where our CSV's columns are, shared by its rows."""

    def __init__(self, header: list[str]) -> None:
        self.header = header
        at = {h: i for i, h in enumerate(header)}
        self.address2 = at.get("address2")
        # the order's columns as read; rows whose cells are equal here agree (the slow check runs otherwise)
        same = [at[f] for f in HEADER_FIELDS if f in at] + ([self.address2] if self.address2 is not None else [])
        self.same = itemgetter(*same)


class _CsvRow(_Row):
    """A row of our CSV kept as its cells: the column dict (``raw`` = ``norm``) is built on first use, which
    for a good file is the first row of each order only."""

    __slots__ = ("cells", "layout", "_d")

    def __init__(self, line: int, cells: list[str], layout: _CsvLayout, ref: str, sku: str, qty: str) -> None:
        self.line, self.cells, self.layout, self._d = line, cells, layout, None
        self.ref, self.sku, self.qty = ref, sku, qty

    def _dict(self) -> dict[str, str]:
        d = self._d
        if d is None:
            d = self._d = dict(zip(self.layout.header, map(str.strip, self.cells), strict=True))
            d["ref"] = d["channel_ref"]  # the same dict serves as raw and normalised row
            if d.get("address2"):
                d["address"] = f"{d.get('address', '')}, {d['address2']}"
        return d

    raw = property(_dict)  # type: ignore[assignment]
    norm = property(_dict)  # type: ignore[assignment]


class _Order:
    __slots__ = ("ref", "rows", "head", "lines", "bad", "unknown_sku", "problems", "digest")

    def __init__(self, ref: str, rows: list[_Row]) -> None:
        self.ref, self.rows = ref, rows
        self.head: dict[str, Any] = {}
        self.lines: list[tuple[int, int, int]] = []  # (file line, product id, raw qty)
        self.bad = self.unknown_sku = False
        self.problems: list[tuple[str, str]] = []  # address
        self.digest = ""


# ------------------------------------------------------------------ reading


def _decode(path: Path, max_bytes: int) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BadInput(_("cannot read {file}: {err}").format(file=path, err=exc.strerror)) from None
    if size > max_bytes:
        raise ImportRejected(path, [RowError(1, "", _(
            "the file is {mb:.0f} MB, more than the {lim:.0f} MB an order import takes at once; split it "
            "(by date or by channel) and import the parts").format(mb=size / 2**20, lim=max_bytes / 2**20))])
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = ""
        for enc in ("gb18030", "cp1252"):
            try:
                data.decode(enc)
                hint = _(" (it looks like {enc}: save it as UTF-8)").format(enc=enc.upper())
                break
            except UnicodeDecodeError:
                continue
        raise ImportRejected(path, [RowError(line, "", _("not UTF-8 text{hint}").format(hint=hint))]) from None
    if "\x00" in text:
        raise ImportRejected(path, [RowError(text.count("\n", 0, text.index("\x00")) + 1, "",
                                             _("contains NUL bytes: not a text file"))])
    if not text.strip():
        raise ImportRejected(path, [RowError(1, "", _("the file is empty"))])
    return text


def _csv(path: Path, text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
        rows = [(reader.line_num, cells) for cells in reader if len(cells) > 1 or (cells and cells[0].strip())]
    except csv.Error as exc:
        raise ImportRejected(path, [RowError(reader.line_num, "", _("broken CSV: {e}").format(e=exc))]) from None
    return header, rows


def detect_format(path: Path, text: str) -> str:
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        return "wsms-json"
    first = text.split("\n", 1)[0].lower()
    if "lineitem sku" in first or "lineitem quantity" in first:
        return "shopify"
    if "item_sku" in first or "line_item_1" in first or "shipping_address_1" in first:
        return "woocommerce"
    if "channel_ref" in first:
        return "wsms-csv"
    raise ImportRejected(path, [RowError(1, "", _(
        "cannot tell the file's format from its header; give --format ({f})").format(f=", ".join(FORMATS)))])


def _zip(header: list[str], cells: list[str]) -> dict[str, str] | None:
    if len(cells) != len(header):
        return None
    return dict(zip(header, map(str.strip, cells), strict=True))


def _read_wsms_csv(path: Path, text: str) -> tuple[list[str], list[_Row], list[RowError]]:
    header, rows = _csv(path, text)
    header = [h.lower() for h in header]
    check_header(path, header, WSMS_REQUIRED, WSMS_OPTIONAL)
    layout = _CsvLayout(header)
    n = len(header)
    i_ref, i_sku, i_qty = header.index("channel_ref"), header.index("sku"), header.index("qty")
    out: list[_Row] = [_CsvRow(line, cells, layout, cells[i_ref].strip(), cells[i_sku].strip(), cells[i_qty].strip())
                       for line, cells in rows if len(cells) == n]
    errors = [RowError(line, "", _("{n} fields, the header has {m}").format(n=len(cells), m=n))
              for line, cells in rows if len(cells) != n]
    return header, out, errors


def _read_wsms_json(path: Path, text: str) -> tuple[list[str], list[_Row], list[RowError]]:
    header, rows = read_json(path, text, WSMS_REQUIRED, WSMS_OPTIONAL, nested="lines")
    out, errors = [], []
    for r in rows:
        if "__error__" in r.raw:
            errors.append(RowError(r.line, "", _("order {n}: a line is not an object").format(n=r.line)))
            continue
        n = dict(r.raw)
        n["ref"] = n.pop("channel_ref", "")
        if n.get("address2"):
            n["address"] = f"{n.get('address', '')}, {n['address2']}"
        out.append(_Row(r.line, r.raw, n))
    return header, out, errors


def _join(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def _read_shopify(path: Path, text: str) -> tuple[list[str], list[_Row], list[RowError]]:
    """Shopify admin → Orders → Export (CSV for Excel or plain CSV): one row per line item; the order's
    own columns are filled on its first row only, so they are carried down by ``Name``."""
    header, rows = _csv(path, text)
    need = ["Name", "Lineitem sku", "Lineitem quantity"]
    missing = [c for c in need if c not in header]
    if missing:
        raise ImportRejected(path, [RowError(1, c, _("missing column (a Shopify order export has it)"))
                                    for c in missing])
    out, errors = [], []
    first: dict[str, dict[str, str]] = {}
    for line, cells in rows:
        r = _zip(header, cells)
        if r is None:
            errors.append(RowError(line, "", _("{n} fields, the header has {m}").format(n=len(cells), m=len(header))))
            continue
        name = r.get("Name", "")
        head = first.setdefault(name, r)

        def g(col: str, head: dict[str, str] = head, r: dict[str, str] = r) -> str:
            return r.get(col, "") or head.get(col, "")

        if g("Lineitem requires shipping").lower() == "false":
            continue  # gift cards, services: nothing for the warehouse
        method = g("Shipping Method").lower()
        tags = g("Tags").lower()
        n = {
            "ref": name,
            "order_date": g("Created at")[:10],
            "customer": g("Shipping Name") or g("Billing Name"),
            "email": g("Email"),
            "phone": g("Shipping Phone") or g("Phone") or g("Billing Phone"),
            "address": g("Shipping Street") or _join(g("Shipping Address1"), g("Shipping Address2")),
            "city": g("Shipping City"),
            "state": g("Shipping Province"),
            "postcode": g("Shipping Zip").lstrip("'"),
            "country": g("Shipping Country"),
            "priority": "express" if ("express" in method or "express" in tags) else
                        ("high" if "priority" in tags else ""),
            "promised_date": "",
            "sku": r.get("Lineitem sku", ""),
            "qty": r.get("Lineitem quantity", ""),
            "cancelled": "1" if g("Cancelled at") else "",
        }
        out.append(_Row(line, r, n))
    return header, out, errors


def _read_woocommerce(path: Path, text: str) -> tuple[list[str], list[_Row], list[RowError]]:
    """WooCommerce order exports: one row per item (``item_sku``, ``item_quantity`` — the Customer/Order
    CSV Export layout) or one row per order with ``line_item_N`` cells ``name:…|sku:…|quantity:…`` (the
    Order Export & Import plugin layout)."""
    header, rows = _csv(path, text)
    header = [h.lower() for h in header]
    per_item = "item_sku" in header
    ref_col = "order_number" if "order_number" in header else "order_id"
    if ref_col not in header or not (per_item or any(h.startswith("line_item_") for h in header)):
        raise ImportRejected(path, [RowError(1, "", _(
            "not a WooCommerce order export: it needs order_number (or order_id) and item_sku/item_quantity "
            "or line_item_1 … columns"))])
    item_cols = [h for h in header if h.startswith("line_item_")]
    out, errors = [], []
    for line, cells in rows:
        r = _zip(header, cells)
        if r is None:
            errors.append(RowError(line, "", _("{n} fields, the header has {m}").format(n=len(cells), m=len(header))))
            continue
        method = (r.get("shipping_method", "") or r.get("shipping_method_title", "")).lower()
        base = {
            "ref": r.get(ref_col, "") or r.get("order_id", ""),
            "order_date": r.get("order_date", "")[:10],
            "customer": r.get("shipping_full_name", "") or _join(r.get("shipping_first_name", ""),
                                                                 r.get("shipping_last_name", "")).replace(", ", " "),
            "email": r.get("billing_email", ""),
            "phone": r.get("shipping_phone", "") or r.get("billing_phone", ""),
            "address": _join(r.get("shipping_address_1", ""), r.get("shipping_address_2", "")),
            "city": r.get("shipping_city", ""),
            "state": r.get("shipping_state", ""),
            "postcode": r.get("shipping_postcode", ""),
            "country": r.get("shipping_country", ""),
            "priority": "express" if "express" in method else "",
            "promised_date": "",
            "cancelled": "1" if r.get("status", "").lower() in ("cancelled", "refunded", "failed") else "",
        }
        if per_item:
            out.append(_Row(line, r, {**base, "sku": r.get("item_sku", ""), "qty": r.get("item_quantity", "")}))
            continue
        for col in item_cols:
            cell = r.get(col, "")
            if not cell:
                continue
            parts = dict(p.split(":", 1) for p in cell.split("|") if ":" in p)
            out.append(_Row(line, r, {**base, "sku": parts.get("sku", "").strip(),
                                      "qty": parts.get("quantity", "").strip(), "__col__": col}))
    return header, out, errors


READERS: dict[str, Callable[[Path, str], tuple[list[str], list[_Row], list[RowError]]]] = {
    "wsms-csv": _read_wsms_csv, "wsms-json": _read_wsms_json, "shopify": _read_shopify,
    "woocommerce": _read_woocommerce,
}

#: our field → the column named in error messages, per format
COLUMNS = {
    "shopify": {"ref": "Name", "sku": "Lineitem sku", "qty": "Lineitem quantity", "order_date": "Created at",
                "customer": "Shipping Name", "address": "Shipping Address1", "city": "Shipping City",
                "postcode": "Shipping Zip", "country": "Shipping Country", "phone": "Shipping Phone"},
    "woocommerce": {"ref": "order_number", "sku": "item_sku", "qty": "item_quantity", "customer": "shipping_*_name",
                    "address": "shipping_address_1", "city": "shipping_city", "postcode": "shipping_postcode",
                    "country": "shipping_country", "phone": "billing_phone"},
    "wsms-csv": {"ref": "channel_ref"}, "wsms-json": {"ref": "channel_ref"},
}


# ------------------------------------------------------------------ checking


class _Bad(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column, self.reason = column, reason


@lru_cache(maxsize=4096)  # a file has few distinct dates, priorities and countries
def _date(v: str, col: str) -> date | None:
    if not v:
        return None
    try:
        return date.fromisoformat(v[:10].replace("/", "-"))
    except ValueError:
        raise _Bad(col, _("{v!r} is not a date (YYYY-MM-DD)").format(v=v)) from None


@lru_cache(maxsize=256)
def _priority(v: str, express: str) -> tuple[int, bool]:
    t = v.strip().lower()
    ex = express.strip().lower() in ("1", "true", "yes", "y")
    if t in ("", "normal", "standard", "0"):
        return 0, ex
    if t in ("high", "urgent", "priority"):
        return 1, ex
    if t == "express":
        return 1, True
    if t.isdigit() and len(t) == 1:
        return int(t), ex
    raise _Bad("priority", _("{v!r}: use normal, high, express or a digit 0–9").format(v=v))


_country_code = lru_cache(maxsize=1024)(country_code)
_QUANTUM = Decimal(1).scaleb(-QTY_SCALE)


def _qty(v: str) -> int:
    if v.isdigit() and len(v) < 10:
        if int(v) == 0:
            raise _Bad("qty", _("quantity 0: leave the line out, or order at least one"))
        return int(v) * 10**QTY_SCALE
    if not v:
        raise _Bad("qty", _("required"))
    try:
        d = Decimal(v)
    except InvalidOperation:
        raise _Bad("qty", _("{v!r} is not a number").format(v=v)) from None
    if not d.is_finite():
        raise _Bad("qty", _("{v!r} is not a number").format(v=v))
    if d < 0:
        raise _Bad("qty", _("negative quantity {v}: an order line needs a quantity above zero (returns are "
                            "not imported as orders)").format(v=v))
    if d == 0:
        raise _Bad("qty", _("quantity 0: leave the line out, or order at least one"))
    if d != d.quantize(_QUANTUM):
        raise _Bad("qty", _("more than {n} decimal places").format(n=QTY_SCALE))
    if d >= 10**9:
        raise _Bad("qty", _("{v} is too large for one order line").format(v=v))
    return int(d.scaleb(QTY_SCALE))


def _check_ref(ref: str) -> str:
    if not ref:
        raise _Bad("ref", _("required: the channel's order number"))
    if len(ref) > 80 or not ref.isprintable():
        raise _Bad("ref", _("an order reference is up to 80 printable characters"))
    return ref


def _head(n: dict[str, str]) -> dict[str, Any]:
    prio, express = _priority(n.get("priority", ""), n.get("express", ""))
    country = _country_code(n.get("country", ""))
    return {
        "order_date": _date(n.get("order_date", ""), "order_date"),
        "customer": n.get("customer", "")[:200],
        "email": n.get("email", "")[:200],
        "phone": n.get("phone", "")[:40],
        "address": n.get("address", ""),
        "city": n.get("city", "")[:100],
        "state": n.get("state", "")[:100],
        "postcode": normalise_postcode(country, n.get("postcode", ""))[:20],
        "country": country[:2] if len(country) <= 2 else country,
        "priority": prio,
        "express": express,
        "promised_date": _date(n.get("promised_date", ""), "promised_date"),
        "cancelled": bool(n.get("cancelled")),
    }


def _digest(h: dict[str, Any], lines: list[tuple[int, int, int]]) -> str:
    """The content digest stored with an order: sha256 of ``repr((sorted(h.items()), sorted((product, qty), …)))``
    for the head ``_head`` builds, written out key by key (the same text, twice as fast; stored digests of
    earlier imports stay valid — a test compares both forms)."""
    body = (f"([('address', {h['address']!r}), ('cancelled', {h['cancelled']!r}), ('city', {h['city']!r}), "
            f"('country', {h['country']!r}), ('customer', {h['customer']!r}), ('email', {h['email']!r}), "
            f"('express', {h['express']!r}), ('order_date', {h['order_date']!r}), ('phone', {h['phone']!r}), "
            f"('postcode', {h['postcode']!r}), ('priority', {h['priority']!r}), "
            f"('promised_date', {h['promised_date']!r}), ('state', {h['state']!r})], "
            f"{sorted([(p, q) for _l, p, q in lines])!r})")
    return hashlib.sha256(body.encode()).hexdigest()


def _address_problems(h: dict[str, Any], seen: dict[tuple[Any, ...], list[tuple[str, str]]]) -> list[tuple[str, str]]:
    """``check_address`` of an order's head, remembered per distinct input (names and streets only count as
    given or missing)."""
    key = (not h["customer"].strip(), not h["address"].strip(), not h["city"].strip(), h["country"], h["postcode"],
           h["phone"], h["state"])
    found = seen.get(key)
    if found is None:
        found = seen[key] = check_address(Address(h["customer"], h["address"], h["city"], h["postcode"],
                                                  h["country"], h["phone"], h["state"]))
    return list(found) if found else []


def _group(fmt: str, rows: list[_Row], skus: dict[str, int], errors: list[RowError]) -> list[_Order]:
    cols = COLUMNS.get(fmt, {})

    def err(line: int, col: str, reason: str) -> None:
        errors.append(RowError(line, cols.get(col, col), reason))

    orders: dict[str, _Order] = {}
    get = orders.get
    for row in rows:
        o = get(row.ref)
        if o is None:
            orders[row.ref] = _Order(row.ref, [row])
        else:
            o.rows.append(row)
    # our formats repeat the order's columns on every line: they must agree (compared in C, fast)
    same = None
    if fmt.startswith("wsms") and rows:
        present = [f for f in HEADER_FIELDS if f in rows[0].norm]
        same = itemgetter(*present) if len(present) > 1 else None
    cells_same = rows[0].layout.same if same is not None and isinstance(rows[0], _CsvRow) else None
    qtys: dict[str, int] = {}
    addresses: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
    out = []
    for o in orders.values():
        try:
            _check_ref(o.ref)
        except _Bad as b:
            for row in o.rows:
                err(row.line, b.column, b.reason)
            continue
        first = o.rows[0]
        key0 = cells_same(first.cells) if cells_same is not None else None  # type: ignore[attr-defined]
        seen: dict[int, int] = {}
        erred: list[int] = []
        lines = o.lines
        for row in o.rows:
            try:
                if row is first:
                    o.head = _head(row.norm)
                elif same is not None and (key0 is None or cells_same(row.cells) != key0) \
                        and same(row.norm) != same(first.norm):  # type: ignore[attr-defined, misc]
                    n, f0 = row.norm, first.norm
                    f = next(f for f in HEADER_FIELDS if n.get(f, "") != f0.get(f, ""))
                    raise _Bad(f, _("differs from the first line of order {r} (line {n})").format(
                        r=o.ref, n=first.line))
                qty = qtys.get(row.qty)
                if qty is None:
                    qty = qtys[row.qty] = _qty(row.qty)
                sku = row.sku
                if not sku:
                    raise _Bad("sku", _("required"))
                pid = skus.get(sku)
                if pid is None:
                    o.unknown_sku = True
                    raise _Bad("sku", _("no product with SKU {s}: add it (wsms import products) and import the "
                                        "order again").format(s=sku))
                if pid in seen:
                    raise _Bad("sku", _("SKU {s} is on line {n} of this order already (a duplicate line?); merge "
                                        "them into one line").format(s=sku, n=seen[pid]))
                seen[pid] = row.line
                lines.append((row.line, pid, qty))
            except _Bad as b:
                err(row.line, b.column, b.reason)
                erred.append(row.line)
                o.bad = True
        if o.bad:
            for row in o.rows:
                if row.line not in erred:
                    err(row.line, "ref", _("order {r} has bad lines and is not imported").format(r=o.ref))
            out.append(o)
            continue
        h = o.head
        o.problems = _address_problems(h, addresses)
        if any(f == "country" for f, _r in o.problems):
            h["country"] = ""  # keep the column to two letters; the ticket has the raw value
        o.digest = _digest(h, o.lines)
        out.append(o)
    return out


# ------------------------------------------------------------------ writing


_DERIVED = frozenset({"ref", "__col__"})  # keys we add to a row, not the file's columns


def _raw_json(path: Path, fmt: str, o: _Order, errors: list[RowError] | None = None) -> str:
    mine = {r.line for r in o.rows}
    body: dict[str, Any] = {"file": path.name, "format": fmt,
                            "rows": [{"line": r.line, **{k: v for k, v in r.raw.items() if k not in _DERIVED}}
                                     for r in o.rows[:200]]}
    if errors:
        body["errors"] = [str(e) for e in errors if e.line in mine][:200]
    return json.dumps(body, ensure_ascii=False, default=str)[:60_000]


def _ticket(s: Session, code: str, *, channel: int, ref: str, order_id: int | None, message: str, raw_: str,
            at: datetime) -> bool:
    """Open a ticket unless the same one is open already (then refresh it). True if new."""
    t = ExceptionTicket
    q = select(t.id).where(t.code == code, t.channel_id == channel, t.external_ref == ref,
                           t.status.in_(("open", "waiting")))  # type: ignore[attr-defined]
    tid = s.execute(q).scalar()
    if tid is not None:
        s.execute(update(t).where(t.id == tid).values(message=message, raw=raw_, updated_at=at, order_id=order_id))
        return False
    s.execute(insert(t).values(code=code, order_id=order_id, channel_id=channel, external_ref=ref, message=message,
                               raw=raw_, status="open", notes="", resolution="", created_at=at, updated_at=at))
    return True


def _address_message(o: _Order) -> str:
    return _("ship-to address of {r} needs fixing: {p}").format(
        r=o.ref, p="; ".join(f"{f}: {why}" for f, why in o.problems))


_order_values = itemgetter(*ORDER_COLUMNS[2:14])  # order_date … promised_date from an order's head


def _write_chunk(s: Session, actor: Actor, path: Path, fmt: str, cid: int, chunk: list[_Order],
                 errors: list[RowError], report: OrderImportReport) -> None:
    at = audit.utcnow()
    conn = s.connection()
    sqlite = conn.dialect.name == "sqlite"
    # the orders of this chunk already known, in one statement with the references as one parameter
    refs = [o.ref for o in chunk]
    if sqlite:
        found = conn.exec_driver_sql(
            "SELECT o.id, o.external_ref, o.status, o.content_hash FROM json_each(?) AS j CROSS JOIN sales_order AS o "
            "ON o.channel_id = ? AND o.external_ref = j.value", (json.dumps(refs), cid))
    else:
        found = conn.exec_driver_sql("SELECT id, external_ref, status, content_hash FROM sales_order "
                                     "WHERE channel_id = %s AND external_ref = ANY(%s)", (cid, refs))
    existing: dict[str, Any] = {r.external_ref: r for r in found}
    new_orders = [o for o in chunk if not o.bad and o.ref not in existing and not o.head["cancelled"]]
    report.skipped += sum(1 for o in chunk if not o.bad and o.ref not in existing and o.head["cancelled"])
    created_ids: list[int] = []
    if new_orders:
        ts = stamp(s, at)
        ph = "?" if sqlite else "%s"
        before = conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM sales_order").scalar_one()
        insert_rows(s, "sales_order", ORDER_COLUMNS, [
            (cid, o.ref, *_order_values(o.head), "hold" if o.problems else "new", o.digest, ts, ts)
            for o in new_orders])
        mine = dict(conn.exec_driver_sql(f"SELECT external_ref, id FROM sales_order WHERE channel_id = {ph} "
                                         f"AND id > {ph}", (cid, before)).all())
        created_ids = [mine[o.ref] for o in new_orders]
        insert_rows(s, "sales_order_line", ("order_id", "line_no", "product_id", "qty", "allocated_qty",
                                            "shipped_qty", "status"),
                    [(oid, n + 1, pid, q, 0, 0, "open")
                     for oid, o in zip(created_ids, new_orders, strict=True) for n, (_l, pid, q) in enumerate(o.lines)])
        note = _("imported from {f}").format(f=path.name)
        insert_rows(s, "order_status_event", ("order_id", "at", "from_status", "to_status", "actor_id", "note"),
                    [(oid, ts, "", "hold" if o.problems else "new", actor.user_id, note)
                     for oid, o in zip(created_ids, new_orders, strict=True)])
        for oid, o in zip(created_ids, new_orders, strict=True):
            if o.problems:
                report.held += 1
                report.tickets += _ticket(s, "bad_address", channel=cid, ref=o.ref, order_id=oid,
                                          message=_address_message(o), raw_=_raw_json(path, fmt, o), at=at)
        report.created += len(created_ids)
        report.order_ids += [oid for oid, o in zip(created_ids, new_orders, strict=True) if not o.problems]
    for o in chunk:
        if o.bad:
            report.rejected_orders += 1
            code = "unknown_sku" if o.unknown_sku else "bad_row"
            msg = _("order {r} from {f} was not imported: it has bad lines").format(r=o.ref, f=path.name)
            report.tickets += _ticket(s, code, channel=cid, ref=o.ref, order_id=existing[o.ref].id
                                      if o.ref in existing else None, message=msg,
                                      raw_=_raw_json(path, fmt, o, errors), at=at)
            continue
        ex = existing.get(o.ref)
        if ex is None:
            continue
        if ex.content_hash == o.digest:
            report.unchanged += 1
            continue
        _update_order(s, actor, path, fmt, cid, ex.id, o, errors, report, at)


def _update_order(s: Session, actor: Actor, path: Path, fmt: str, cid: int, oid: int, o: _Order, errors: list[RowError],
                  report: OrderImportReport, at: datetime) -> None:
    row = lock_orders(s, [oid])[oid]
    why = None
    if row.status not in OPEN_STATUSES:
        why = (_("order {r} ({so}) is {st}: the warehouse is working on it, so this change is refused; call the "
                 "warehouse to change it").format(r=o.ref, so=doc_ref(oid), st=row.status)
               if row.status != "cancelled" else
               _("order {r} ({so}) was cancelled: import it under a new reference").format(r=o.ref, so=doc_ref(oid)))
    else:
        from wsms_tui.order_exceptions import booked_boxes  # imports this module lazily in turn

        boxes = booked_boxes(s, oid)
        if boxes:  # labelled and known to the carrier: nothing may change under them
            why = _("order {r} ({so}) has {b} booked with the carrier at the packing bench, so this change is "
                    "refused; call the warehouse: they void the boxes (or ship them), then import the change "
                    "again").format(r=o.ref, so=doc_ref(oid), b=boxes)
    if why is not None:
        for r in o.rows:
            errors.append(RowError(r.line, COLUMNS.get(fmt, {}).get("ref", "ref"), why))
        report.refused += 1
        report.tickets += _ticket(s, "change_refused", channel=cid, ref=o.ref, order_id=oid, message=why,
                                  raw_=_raw_json(path, fmt, o), at=at)
        return
    note = _("changed by import of {f}").format(f=path.name)
    if o.head["cancelled"]:
        release_allocations(s, actor, active_allocations(s, oid), reason="cancelled by channel")
        s.execute(update(SalesOrderLine).where(SalesOrderLine.order_id == oid, SalesOrderLine.status == "open")
                  .values(status="cancelled"))
        set_status(s, actor, oid, row.status, "cancelled", _("cancelled in the channel ({f})").format(f=path.name))
        close_tickets(s, oid, "cancelled")
        report.updated += 1
        return
    h = o.head
    s.execute(update(SalesOrder).where(SalesOrder.id == oid).values(
        order_date=h["order_date"], customer=h["customer"], email=h["email"], phone=h["phone"],
        address=h["address"], city=h["city"], state=h["state"], postcode=h["postcode"], country=h["country"],
        priority=h["priority"], express=h["express"], promised_date=h["promised_date"], content_hash=o.digest,
        updated_at=at))
    lt = SalesOrderLine
    old = {r.product_id: r for r in s.execute(select(lt.id, lt.product_id, raw(lt.qty), lt.line_no)
                                              .where(lt.order_id == oid, lt.status == "open"))}
    new = {pid: q for _l, pid, q in o.lines}
    changed = [r.id for pid, r in old.items() if pid not in new or new[pid] != r[2]]
    if changed:
        release_allocations(s, actor, active_allocations(s, oid, changed), reason="order changed")
    lr = raw_table(SalesOrderLine)
    for pid, r in old.items():
        if pid not in new:
            s.execute(update(lt).where(lt.id == r.id).values(status="cancelled"))
        elif new[pid] != r[2]:
            s.execute(update(lr).where(lr.c.id == r.id).values(qty=new[pid]))
    next_no = (s.execute(select(lt.line_no).where(lt.order_id == oid).order_by(lt.line_no.desc())).scalars()  # type: ignore[attr-defined]
               .first() or 0) + 1
    for pid, q in new.items():
        if pid not in old:
            s.execute(insert(lr).values(order_id=oid, line_no=next_no, product_id=pid, qty=q, allocated_qty=0,
                                        shipped_qty=0, status="open"))
            next_no += 1
    if o.problems:
        set_status(s, actor, oid, row.status, "hold", note)
        report.held += 1
        report.tickets += _ticket(s, "bad_address", channel=cid, ref=o.ref, order_id=oid,
                                  message=_address_message(o), raw_=_raw_json(path, fmt, o), at=at)
    else:
        if row.status == "hold":
            set_status(s, actor, oid, "hold", "new", note)
            close_tickets(s, oid, "fixed by import", ["bad_address"])
        else:
            recompute_status(s, actor, oid, note)
        report.order_ids.append(oid)
    report.updated += 1


def _write_rejects(path: Path, header: list[str], rows: list[_Row], errors: list[RowError]) -> Path:
    by_line: dict[int, list[str]] = {}
    for e in errors:
        by_line.setdefault(e.line, []).append(f"{e.column}: {e.reason}" if e.column else e.reason)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["line", *header, "error"])
        written = set()
        for row in rows:
            if row.line in by_line and row.line not in written:
                written.add(row.line)
                w.writerow([row.line, *[row.raw.get(h, "") for h in header], "; ".join(by_line[row.line])])
        for line, why in sorted(by_line.items()):
            if line not in written:  # rows that could not even be read
                w.writerow([line, *([""] * len(header)), "; ".join(why)])
    return path


def import_orders(db: Database, actor: Actor, path: Path, *, channel: str, fmt: str | None = None,
                  reject_path: Path | None = None, allocate: bool = True, max_bytes: int = MAX_BYTES,
                  progress: Progress | None = None) -> OrderImportReport:
    """Import an order file for ``channel``; see the module docstring for what happens to each order."""
    require(db, actor, "orders.import", f"file:{path.name}")
    cid, ch_format = db.read(lambda s: (channel_id(s, channel), s.execute(
        select(SalesChannel.default_format).where(SalesChannel.name == channel.strip())).scalar_one()))
    if fmt is not None and fmt != "auto" and fmt not in FORMATS:
        raise BadInput(_("format is one of: auto, {f}").format(f=", ".join(FORMATS)))
    report = _import_file(db, actor, path, channel, cid, fmt, ch_format, reject_path, max_bytes, progress)
    if allocate and report.order_ids and actor.can("orders.allocate"):
        from wsms_tui.allocation import allocate as run_allocation

        report.allocation = run_allocation(db, actor, report.order_ids)
    return report


@paused_gc()  # checking builds a few hundred thousand small objects that all live until the end
def _import_file(db: Database, actor: Actor, path: Path, channel: str, cid: int, fmt: str | None, ch_format: str,
                 reject_path: Path | None, max_bytes: int, progress: Progress | None) -> OrderImportReport:
    """Read, check and write the file (its rows and orders are freed before the collector runs again)."""
    try:
        text = _decode(path, max_bytes)
        fmt = fmt if fmt and fmt != "auto" else (ch_format if ch_format != "auto" else detect_format(path, text))
        header, rows, errors = READERS[fmt](path, text)
    except ImportRejected as exc:
        raise OrderFileRejected(path, exc.errors) from None
    report = OrderImportReport("orders", path.name, rows=len(rows), format=fmt)
    if progress:
        progress("check", 0, len(rows))
    skus = db.read(lambda s: dict(s.execute(select(Product.sku, Product.id).where(Product.active == True))  # noqa: E712
                                  .all()))
    orders = _group(fmt, rows, skus, errors)
    if progress:
        progress("check", len(rows), len(rows))
    digest = hashlib.sha256(text.encode()).hexdigest()
    for i in range(0, len(orders), ORDERS_PER_TRANSACTION):
        chunk = orders[i:i + ORDERS_PER_TRANSACTION]
        mark = (report.created, report.updated, report.unchanged, report.refused, report.held, report.skipped,
                report.rejected_orders, report.tickets, len(report.order_ids), len(errors))

        def work(s: Session, chunk: list[_Order] = chunk, mark: tuple[int, ...] = mark) -> None:
            # a retry (or a twin import that won the race) starts from the same counters
            (report.created, report.updated, report.unchanged, report.refused, report.held, report.skipped,
             report.rejected_orders, report.tickets) = mark[:8]
            del report.order_ids[mark[8]:]
            del errors[mark[9]:]
            _write_chunk(s, actor, path, fmt, cid, chunk, errors, report)
            audit.record(s, actor, "orders.import", f"file:{path.name}", {
                "sha256": digest, "channel": channel, "format": fmt, "orders": len(chunk),
                "created": report.created, "updated": report.updated, "rejected": report.rejected_orders})

        try:
            db.write(work)
        except IntegrityError:  # the same orders were imported concurrently: now they exist
            db.write(work)
        if progress:
            progress("write", min(i + ORDERS_PER_TRANSACTION, len(orders)), len(orders))
    errors.sort(key=lambda e: e.line)
    report.errors = errors
    if errors:
        target = reject_path or path.with_name(path.stem + ".rejects.csv")
        report.reject_file = str(_write_rejects(target, header, rows, errors))
    return report


# ------------------------------------------------------------------ drop folders


@dataclass(frozen=True)
class DropResult:
    channel: str
    file: str
    outcome: str  # done | rejected
    moved_to: str
    report_file: str
    summary: str


SKIP_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".swp")


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return folder / f"{stamp}-{name}"


def watch_once(db: Database, actor: Actor, *, channels: list[str] | None = None,
               settle_seconds: float = 1.0) -> list[DropResult]:
    """Import every settled file in the channels' drop folders, then move it to ``done/`` (imported,
    maybe with some rows rejected) or ``rejected/`` (nothing imported), with ``<file>.report.txt``
    beside it and bad rows in ``rejected/<file>.rejects.csv``."""
    require(db, actor, "orders.import", "drop-folders")
    chans = db.read(lambda s: s.execute(select(SalesChannel.name, SalesChannel.drop_folder).where(
        SalesChannel.drop_folder.is_not(None), SalesChannel.active == True)  # type: ignore[union-attr]  # noqa: E712
        .order_by(SalesChannel.rank, SalesChannel.name)).all())
    results = []
    now = time.time()
    for name, folder in chans:
        if channels and name not in channels:
            continue
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        done, rejected = root / "done", root / "rejected"
        for f in sorted(p for p in root.iterdir() if p.is_file()):
            if f.name.startswith(".") or f.name.endswith(SKIP_SUFFIXES):
                continue
            try:
                if now - f.stat().st_mtime < settle_seconds:
                    continue  # still being written
            except OSError:
                continue
            done.mkdir(exist_ok=True)
            rejected.mkdir(exist_ok=True)
            rejects = _free_name(rejected, f.stem + ".rejects.csv")
            try:
                rep = import_orders(db, actor, f, channel=name, reject_path=rejects)
                outcome = "done"
                lines = [rep.summary(), *(str(e) for e in rep.errors[:500])]
                if rep.reject_file:
                    lines.append(_("bad rows: {f}").format(f=rep.reject_file))
                if rep.allocation is not None:
                    a = rep.allocation
                    lines.append(_("allocated {a} order(s), {b} backordered").format(a=a.allocated, b=a.backordered))
                summary = rep.summary()
            except ImportRejected as exc:
                outcome = "rejected"
                lines = [str(exc)]
                summary = str(exc).splitlines()[0]
            except BadInput as exc:
                outcome = "rejected"
                lines = [str(exc)]
                summary = str(exc)
            dest = _free_name(done if outcome == "done" else rejected, f.name)
            shutil.move(str(f), dest)
            report_file = dest.with_name(dest.name + ".report.txt")
            report_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
            results.append(DropResult(name, f.name, outcome, str(dest), str(report_file), summary))
    return results


def watch(db: Database, actor: Actor, *, interval: float = 2.0, channels: list[str] | None = None,
          on_result: Callable[[DropResult], None] | None = None, should_stop: Callable[[], bool] | None = None,
          settle_seconds: float = 1.0) -> None:
    """Poll the drop folders every ``interval`` seconds until ``should_stop()`` (or Ctrl+C)."""
    while not (should_stop and should_stop()):
        for r in watch_once(db, actor, channels=channels, settle_seconds=settle_seconds):
            if on_result:
                on_result(r)
        time.sleep(interval)
