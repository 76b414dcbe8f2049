"""Catalog imports: products and locations from CSV (or JSON) files.

A file is validated completely before anything is written. Each bad row yields one message
(line, column, reason). Without ``skip_bad_rows`` a file with any bad row writes nothing; with it,
the good rows are written in one transaction and the bad ones go to a reject file (the original
columns plus ``error``). Writes are bulk Core statements, never one ORM object per row.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from wsms_tui import audit
from wsms_tui.authz import require
from wsms_tui.barcodes import normalize_gtin
from wsms_tui.database import Database
from wsms_tui.db.models import Location, LocationUsage, Product, ProductBarcode, Tracking, Warehouse
from wsms_tui.db.types import MONEY_SCALE, QTY_SCALE
from wsms_tui.i18n import _
from wsms_tui.importing import (
    CHUNK,
    FieldError,
    ImportRejected,
    ImportReport,
    Progress,
    RowError,
    code,
    file_digest,
    finish,
    opt_decimal,
    opt_float,
    opt_int,
    read_rows,
    req,
    validate,
)
from wsms_tui.security import Actor

__all__ = ["ImportRejected", "ImportReport", "RowError", "import_locations", "import_products"]


# ---------------------------------------------------------------- products

PRODUCT_REQUIRED = ["sku", "name", "gtin", "uom", "tracking", "unit_cost"]
PRODUCT_OPTIONAL = ["category", "weight_kg", "volume_l", "shelf_life_days"]


def _parse_product(raw: dict[str, str]) -> dict[str, Any]:
    tracking = (raw.get("tracking") or "none").lower()
    if tracking not in {t.value for t in Tracking}:
        raise FieldError("tracking", _("must be none, lot or serial"))
    gtin_raw = raw.get("gtin", "")
    gtin = None
    if gtin_raw:
        gtin = normalize_gtin(gtin_raw)
        if gtin is None:
            raise FieldError("gtin", _("{v!r} is not a valid GTIN (8, 12, 13 or 14 digits with a correct check "
                                        "digit)").format(v=gtin_raw))
    uom = raw.get("uom") or "unit"
    if len(uom) > 16:
        raise FieldError("uom", _("longer than {n} characters").format(n=16))
    return {
        "sku": code(raw, "sku"),
        "name": req(raw, "name", 300),
        "uom": uom,
        "tracking": tracking,
        "unit_cost": opt_decimal(raw, "unit_cost", MONEY_SCALE) or Decimal(0),
        "category": raw.get("category", "")[:100],
        "weight_kg": opt_decimal(raw, "weight_kg", QTY_SCALE),
        "volume_l": opt_decimal(raw, "volume_l", QTY_SCALE),
        "shelf_life_days": opt_int(raw, "shelf_life_days"),
        "_gtin": gtin,
    }


def import_products(db: Database, actor: Actor, path: Path, *, skip_bad_rows: bool = False,
                    reject_path: Path | None = None, progress: Progress | None = None) -> ImportReport:
    """Create or update products (by SKU) and their GTINs from a file."""
    require(db, actor, "catalog.import", f"file:{path.name}")
    header, rows = read_rows(path, PRODUCT_REQUIRED, PRODUCT_OPTIONAL)
    report = ImportReport("products", path.name, rows=len(rows))
    errors: list[RowError] = []
    file_errors = errors
    if progress:
        progress("validate", 0, len(rows))
    parsed = validate(rows, _parse_product, errors)
    if progress:
        progress("validate", len(rows), len(rows))
    first_sku: dict[str, int] = {}
    first_gtin: dict[str, int] = {}
    for row, p in parsed:
        if p["sku"] in first_sku:
            errors.append(RowError(row.line, "sku", _("duplicate SKU {sku} (first on line {n})").format(
                sku=p["sku"], n=first_sku[p["sku"]])))
        else:
            first_sku[p["sku"]] = row.line
        g = p["_gtin"]
        if g:
            if g in first_gtin:
                errors.append(RowError(row.line, "gtin", _("GTIN {g} also on line {n}").format(g=g, n=first_gtin[g])))
            else:
                first_gtin[g] = row.line

    def work(s: Session) -> None:
        errors = list(file_errors)  # a retried transaction starts again from the file's own errors
        existing = {sku: (pid, tracking) for pid, sku, tracking in s.execute(
            select(Product.id, Product.sku, Product.tracking))}
        barcodes = dict(s.execute(select(ProductBarcode.code, ProductBarcode.product_id)).all())
        for row, p in parsed:
            old = existing.get(p["sku"])
            if old is not None and old[1] != p["tracking"]:
                errors.append(RowError(row.line, "tracking", _("{sku} is tracked as {old}; tracking cannot change "
                                                               "by import").format(sku=p["sku"], old=old[1])))
            g = p["_gtin"]
            if g and g in barcodes and (old is None or barcodes[g] != old[0]):
                errors.append(RowError(row.line, "gtin", _("GTIN {g} belongs to another product").format(g=g)))
        bad = finish(path, header, rows, errors, skip_bad_rows, reject_path, report)
        good = [p for row, p in parsed if row.line not in bad]
        new = [p for p in good if p["sku"] not in existing]
        upd = [p for p in good if p["sku"] in existing]
        total = len(good)
        cols = ["sku", "name", "uom", "tracking", "unit_cost", "category", "weight_kg", "volume_l",
                "shelf_life_days"]
        done = 0
        for i in range(0, len(new), CHUNK):
            chunk = new[i:i + CHUNK]
            s.execute(insert(Product), [{c: p[c] for c in cols} | {"active": True} for p in chunk])
            done += len(chunk)
            if progress:
                progress("write", done, total)
        if upd:
            stmt = (update(Product).where(Product.id == bindparam("pid"))
                    .values({c: bindparam(f"v_{c}") for c in cols if c not in ("sku", "tracking")}))
            for i in range(0, len(upd), CHUNK):
                chunk = upd[i:i + CHUNK]
                s.connection().execute(stmt, [
                    {"pid": existing[p["sku"]][0]} | {f"v_{c}": p[c] for c in cols if c not in ("sku", "tracking")}
                    for p in chunk])
                done += len(chunk)
                if progress:
                    progress("write", done, total)
        want = [p for p in good if p["_gtin"] and p["_gtin"] not in barcodes]
        if want:
            ids = dict(s.execute(select(Product.sku, Product.id)).all())
            for i in range(0, len(want), CHUNK):
                s.execute(insert(ProductBarcode), [
                    {"product_id": ids[p["sku"]], "code": p["_gtin"], "kind": "gtin", "pack_qty": Decimal(1)}
                    for p in want[i:i + CHUNK]])
        report.created, report.updated = len(new), len(upd)
        audit.record(s, actor, "catalog.import_products", f"file:{path.name}", {
            "sha256": file_digest(path), "created": report.created, "updated": report.updated,
            "rejected": len(bad)})

    db.write(work)
    return report


# ---------------------------------------------------------------- locations

LOCATION_REQUIRED = ["warehouse", "code", "usage", "aisle", "bay", "level", "x", "y"]
LOCATION_OPTIONAL = ["name", "zone", "barcode", "capacity", "allow_negative", "count_frequency_days"]
IMPORTABLE_USAGES = {LocationUsage.INTERNAL.value, LocationUsage.VIEW.value, LocationUsage.TRANSIT.value}


def _parse_location(raw: dict[str, str]) -> dict[str, Any]:
    usage = (raw.get("usage") or "internal").lower()
    if usage not in IMPORTABLE_USAGES:
        raise FieldError("usage", _("must be internal, view or transit (virtual locations exist already)"))
    neg = (raw.get("allow_negative") or "").lower()
    if neg not in ("", "0", "1", "true", "false", "yes", "no"):
        raise FieldError("allow_negative", _("must be true or false"))
    barcode = raw.get("barcode") or None
    if barcode and (any(c.isspace() for c in barcode) or len(barcode) > 64):
        raise FieldError("barcode", _("must be at most 64 characters without spaces"))
    return {
        "warehouse": code(raw, "warehouse", 32),
        "code": code(raw, "code"),
        "usage": usage,
        "name": raw.get("name", "")[:200],
        "zone": raw.get("zone", "")[:32],
        "aisle": raw.get("aisle", "")[:16],
        "bay": raw.get("bay", "")[:16],
        "level": raw.get("level", "")[:16],
        "x": opt_float(raw, "x"),
        "y": opt_float(raw, "y"),
        "barcode": barcode,
        "capacity": opt_decimal(raw, "capacity", QTY_SCALE),
        "allow_negative": neg in ("1", "true", "yes"),
        "count_frequency_days": opt_int(raw, "count_frequency_days"),
    }


def import_locations(db: Database, actor: Actor, path: Path, *, skip_bad_rows: bool = False,
                     reject_path: Path | None = None, progress: Progress | None = None) -> ImportReport:
    """Create or update locations (by code); unknown warehouses are created with a root view location."""
    require(db, actor, "catalog.import", f"file:{path.name}")
    header, rows = read_rows(path, LOCATION_REQUIRED, LOCATION_OPTIONAL)
    report = ImportReport("locations", path.name, rows=len(rows))
    errors: list[RowError] = []
    file_errors = errors
    if progress:
        progress("validate", 0, len(rows))
    parsed = validate(rows, _parse_location, errors)
    if progress:
        progress("validate", len(rows), len(rows))
    first: dict[str, int] = {}
    for row, p in parsed:
        if p["code"] in first:
            errors.append(RowError(row.line, "code", _("duplicate location {c} (first on line {n})").format(
                c=p["code"], n=first[p["code"]])))
        else:
            first[p["code"]] = row.line

    def work(s: Session) -> None:
        errors = list(file_errors)
        existing = {code: (lid, usage, wid) for lid, code, usage, wid in s.execute(
            select(Location.id, Location.code, Location.usage, Location.warehouse_id))}
        warehouses = dict(s.execute(select(Warehouse.code, Warehouse.id)).all())
        for row, p in parsed:
            old = existing.get(p["code"])
            if old is not None and old[2] is None:
                errors.append(RowError(row.line, "code", _("{c} is a virtual location").format(c=p["code"])))
            if p["code"] in warehouses and p["code"] not in existing:
                errors.append(RowError(row.line, "code", _("{c} is the code of a warehouse").format(c=p["code"])))
        bad = finish(path, header, rows, errors, skip_bad_rows, reject_path, report)
        good = [p for row, p in parsed if row.line not in bad]
        roots: dict[str, int] = {}
        for wcode in sorted({p["warehouse"] for p in good}):
            if wcode not in warehouses:
                wid = s.execute(insert(Warehouse).values(code=wcode, name=wcode, address="")
                                .returning(Warehouse.id)).scalar_one()
                warehouses[wcode] = wid
                s.execute(insert(Location).values(code=wcode, name=wcode, usage="view", warehouse_id=wid,
                                                  zone="", aisle="", bay="", level="", allow_negative=False,
                                                  active=True))
            root = s.execute(select(Location.id).where(Location.code == wcode)).scalar()
            roots[wcode] = root if root is not None else 0
        fields = ["name", "usage", "zone", "aisle", "bay", "level", "x", "y", "barcode", "capacity",
                  "allow_negative", "count_frequency_days"]
        new = [p for p in good if p["code"] not in existing]
        upd = [p for p in good if p["code"] in existing]
        for i in range(0, len(new), CHUNK):
            s.execute(insert(Location), [
                {f: p[f] for f in fields} | {"code": p["code"], "warehouse_id": warehouses[p["warehouse"]],
                                             "parent_id": roots[p["warehouse"]] or None, "active": True}
                for p in new[i:i + CHUNK]])
            if progress:
                progress("write", min(i + CHUNK, len(new)), len(good))
        if upd:
            stmt = update(Location).where(Location.id == bindparam("lid")).values(
                {f: bindparam(f"v_{f}") for f in fields} | {"warehouse_id": bindparam("v_wid")})
            s.connection().execute(stmt, [
                {"lid": existing[p["code"]][0], "v_wid": warehouses[p["warehouse"]]}
                | {f"v_{f}": p[f] for f in fields} for p in upd])
        report.created, report.updated = len(new), len(upd)
        audit.record(s, actor, "catalog.import_locations", f"file:{path.name}", {
            "sha256": file_digest(path), "created": report.created, "updated": report.updated,
            "rejected": len(bad)})

    db.write(work)
    return report
