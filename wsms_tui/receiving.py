"""Receiving: expected deliveries (receipts), receiving lines by scan, over-receipt approval,
undo, closing with a discrepancy list, and putaway suggestions.

Each received line is one transaction: the ledger receive entry (supplier → bin, with the
receipt reference as its document), the receipt line's received quantity and a ``ReceiptPost``
linking the two, and the audit event. Undo is a compensating ledger entry plus a negative post.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, func, insert, or_, select, type_coerce, update
from sqlmodel import Session

from wsms_tui import audit, ledger
from wsms_tui.authz import require
from wsms_tui.barcodes import normalize_gtin
from wsms_tui.database import Database
from wsms_tui.db.models import (
    LedgerEntry,
    Location,
    LocationUsage,
    Product,
    ProductBarcode,
    PutawayRule,
    Quant,
    Receipt,
    ReceiptLine,
    ReceiptPost,
    Role,
    Warehouse,
)
from wsms_tui.db.types import QTY_SCALE
from wsms_tui.errors import BadInput, NotFound, WsmsError
from wsms_tui.i18n import _
from wsms_tui.importing import (
    FieldError,
    ImportRejected,
    ImportReport,
    Progress,
    RowError,
    code,
    file_digest,
    finish,
    opt_decimal,
    read_rows,
    req,
    validate,
)
from wsms_tui.security import Actor


class OverReceipt(WsmsError):
    """More than expected (beyond the receipt's tolerance): a supervisor must approve."""


# ------------------------------------------------------------------ views


@dataclass(frozen=True)
class ReceiptSummary:
    reference: str
    supplier: str
    warehouse: str
    expected_date: date | None
    status: str
    blind: bool
    lines: int
    expected_qty: Decimal | None  # None when blind for this actor
    received_qty: Decimal


@dataclass(frozen=True)
class ReceiptLineView:
    line_no: int
    sku: str
    name: str
    tracking: str
    expected_qty: Decimal | None  # None when blind for this actor
    received_qty: Decimal
    lot_no: str | None
    expiry: date | None


@dataclass(frozen=True)
class ReceiptView:
    summary: ReceiptSummary
    lines: list[ReceiptLineView]


@dataclass(frozen=True)
class Discrepancy:
    line_no: int
    sku: str
    expected_qty: Decimal
    received_qty: Decimal

    @property
    def difference(self) -> Decimal:
        return self.received_qty - self.expected_qty


@dataclass(frozen=True)
class ReceiveResult:
    move: ledger.MoveResult
    receipt: str
    line_no: int
    received_qty: Decimal
    expected_qty: Decimal | None
    over_receipt_approved_by: str | None = None


@dataclass(frozen=True)
class PutawaySuggestion:
    location: str
    reason: str


def _hide_expected(actor: Actor, blind: bool) -> bool:
    """Blind receipts hide expected quantities from clerks (office roles still see them)."""
    return blind and actor.role == Role.CLERK


def may_approve_over_receipt(actor: Actor) -> bool:
    """Who may approve an over-receipt with their PIN at the desk: a supervisor or an admin."""
    return actor.role in (Role.SUPERVISOR, Role.ADMIN)


def _receipt(s: Session, reference: str) -> Receipt:
    r = s.execute(select(Receipt).where(Receipt.reference == reference.strip())).scalars().first()
    if r is None:
        raise NotFound(_("no receipt {ref}").format(ref=reference))
    return r


def list_receipts(db: Database, actor: Actor, *, status: str | None = "active",
                  warehouse: str | None = None, limit: int = 200) -> list[ReceiptSummary]:
    """Receipts, newest expected first; ``status='active'`` means open or receiving."""
    require(db, actor, "stock.view")

    def work(s: Session) -> list[ReceiptSummary]:
        agg = (select(ReceiptLine.receipt_id, func.count().label("n"),
                      func.sum(ReceiptLine.expected_qty).label("exp"),
                      func.sum(ReceiptLine.received_qty).label("rec"))
               .group_by(ReceiptLine.receipt_id).subquery())
        q = (select(Receipt.reference, Receipt.supplier, Warehouse.code, Receipt.expected_date, Receipt.status,
                    Receipt.blind, agg.c.n, agg.c.exp, agg.c.rec)
             .join(Warehouse, Warehouse.id == Receipt.warehouse_id)
             .outerjoin(agg, agg.c.receipt_id == Receipt.id))
        if status == "active":
            q = q.where(Receipt.status.in_(["open", "receiving"]))  # type: ignore[attr-defined]
        elif status:
            q = q.where(Receipt.status == status)
        if warehouse:
            q = q.where(Warehouse.code == warehouse)
        q = q.order_by(Receipt.expected_date.desc(), Receipt.reference).limit(limit)  # type: ignore[union-attr]
        out = []
        for ref, sup, wh, exp_date, st, blind, n, exp, rec in s.execute(q):
            out.append(ReceiptSummary(ref, sup, wh, exp_date, st, bool(blind), int(n or 0),
                                      None if _hide_expected(actor, blind) else Decimal(exp or 0),
                                      Decimal(rec or 0)))
        return out

    return db.read(work)


def _lines(s: Session, receipt_id: int, product_id: int | None = None) -> list[tuple[ReceiptLine, Product]]:
    """The receipt's lines with their products, in line order (only ``product_id``'s when given)."""
    stmt = (select(ReceiptLine, Product).join(Product, Product.id == ReceiptLine.product_id)
            .where(ReceiptLine.receipt_id == receipt_id).order_by(ReceiptLine.line_no))  # type: ignore[arg-type]
    if product_id is not None:
        stmt = stmt.where(ReceiptLine.product_id == product_id)
    return list(s.execute(stmt).all())  # type: ignore[arg-type]


def receipt_detail(db: Database, actor: Actor, reference: str) -> ReceiptView:
    require(db, actor, "stock.view")

    def work(s: Session) -> ReceiptView:
        r = _receipt(s, reference)
        hide = _hide_expected(actor, r.blind)
        wh = s.execute(select(Warehouse.code).where(Warehouse.id == r.warehouse_id)).scalar_one()
        lines = [ReceiptLineView(ln.line_no, p.sku, p.name, p.tracking, None if hide else ln.expected_qty,
                                 ln.received_qty, ln.lot_no, ln.expiry) for ln, p in _lines(s, r.id or 0)]
        summary = ReceiptSummary(r.reference, r.supplier, wh, r.expected_date, r.status, r.blind, len(lines),
                                 None if hide else sum((ln.expected_qty or 0 for ln in lines), Decimal(0)),
                                 sum((ln.received_qty for ln in lines), Decimal(0)))
        return ReceiptView(summary, lines)

    return db.read(work)


# ------------------------------------------------------------------ receiving


def _pick_line(lines: list[tuple[ReceiptLine, Product]], product_id: int, lot: str | None) -> ReceiptLine | None:
    mine = [ln for ln, p in lines if p.id == product_id]
    if not mine:
        return None
    if lot:
        for ln in mine:
            if ln.lot_no == lot:
                return ln
    for ln in mine:
        if ln.received_qty < ln.expected_qty and (not ln.lot_no or not lot):
            return ln
    for ln in mine:
        if ln.received_qty < ln.expected_qty:
            return ln
    return mine[-1]


def receive_line(db: Database, actor: Actor, *, receipt: str, product: int | str, qty: object, location: str,
                 op_id: str, lot: str | None = None, expiry: date | None = None, raw_scan: str | None = None,
                 approved_by: Actor | None = None) -> ReceiveResult:
    """Receive ``qty`` of a product on a receipt into ``location`` (one transaction).

    Beyond the receipt's tolerance it raises ``OverReceipt`` unless ``approved_by`` is a supervisor
    or admin (who logged in with their PIN at the desk)."""
    require(db, actor, "move.receive", f"receipt:{receipt}")
    q = ledger.to_qty(qty)
    if q <= 0:
        raise BadInput(_("quantity must be more than zero, not {qty}").format(qty=q))
    if approved_by is not None and not may_approve_over_receipt(approved_by):
        raise BadInput(_("{name} is not a supervisor: over-receipt needs a supervisor's PIN").format(
            name=approved_by.name))

    def work(s: Session) -> ReceiveResult:
        r = _receipt(s, receipt)
        existing = s.execute(select(LedgerEntry.id).where(LedgerEntry.op_id == op_id)).scalar()
        if r.status in ("closed", "cancelled") and existing is None:
            raise BadInput(_("receipt {ref} is {status}").format(ref=r.reference, status=r.status))
        prod = ledger.product_ref(s, product)
        lines = _lines(s, r.id or 0, prod.id)  # the checks below only look at this product's lines
        line = _pick_line(lines, prod.id, lot)
        if line is None:
            raise BadInput(_("{sku} is not on receipt {ref}").format(sku=prod.sku, ref=r.reference))
        lot_no = lot or line.lot_no
        if ledger.location_ref(s, location).usage != LocationUsage.INTERNAL:
            raise BadInput(_("receive into a bin, not {loc}").format(loc=location))
        if existing is None:
            limit = line.expected_qty * (1 + r.tolerance_pct / 100)
            total_for_product = sum((ln.received_qty for ln, p in lines if p.id == prod.id), Decimal(0)) + q
            limit_all = sum((ln.expected_qty for ln, p in lines if p.id == prod.id), Decimal(0)) \
                * (1 + r.tolerance_pct / 100)
            over = line.received_qty + q > limit and total_for_product > limit_all
            if over and approved_by is None:
                if r.blind:  # a blind receipt never tells the desk what is expected, not even here
                    raise OverReceipt(_("{sku}: {got} would exceed what is expected on {ref}; a supervisor must "
                                        "approve").format(sku=prod.sku, got=total_for_product, ref=r.reference))
                raise OverReceipt(_("{sku}: {got} would exceed the expected {exp} on {ref}; a supervisor must "
                                    "approve").format(sku=prod.sku, got=total_for_product,
                                                      exp=sum((ln.expected_qty for ln, p in lines if p.id == prod.id),
                                                              Decimal(0)), ref=r.reference))
        else:
            over = False
        move = ledger.post_in_session(
            s, actor, kind="receive", product=prod.id, qty=q, from_location=ledger.SUPPLIER, to_location=location,
            lot=lot_no, expiry=expiry or line.expiry, package=None, op_id=op_id, doc_ref=r.reference, reason="",
            unit_cost=None, raw_scan=raw_scan, create_lot=True)
        if move.replayed:
            return ReceiveResult(move, r.reference, line.line_no, line.received_qty,
                                 None if _hide_expected(actor, r.blind) else line.expected_qty)
        new_qty = line.received_qty + q
        waiting[0] = backorders_waiting(s, [prod.id])  # checked here: no extra transaction when none wait
        s.execute(update(ReceiptLine).where(ReceiptLine.id == line.id).values(received_qty=new_qty))
        s.execute(insert(ReceiptPost).values(receipt_line_id=line.id, ledger_entry_id=move.entry_id, qty=q))
        if r.status == "open":
            s.execute(update(Receipt).where(Receipt.id == r.id).values(status="receiving"))
        if over and approved_by is not None:
            audit.record(s, approved_by, "receiving.over_receipt_approved", f"receipt:{r.id}",
                         {"sku": prod.sku, "line": line.line_no, "qty": str(q), "clerk": actor.name,
                          "terminal": actor.terminal})
        return ReceiveResult(move, r.reference, line.line_no, new_qty,
                             None if _hide_expected(actor, r.blind) else line.expected_qty,
                             approved_by.name if over and approved_by else None)

    waiting = [False]
    result = ledger.write_once(db, work)
    if not result.move.replayed and waiting[0]:
        _stock_arrived(db, actor, result.move.sku)
    return result


def backorders_waiting(s: Session, product_ids: list[int]) -> bool:
    from wsms_tui.allocation import backorders_waiting as waiting_in_session

    return waiting_in_session(s, product_ids)


def _stock_arrived(db: Database, actor: Actor, sku: str) -> None:
    """Hand new stock to backordered orders (their own transaction; the receipt is committed already,
    so a busy database only delays that to the next allocation run)."""
    from contextlib import suppress

    from wsms_tui.allocation import allocate_arrivals
    from wsms_tui.db.engine import RetriesExhausted

    with suppress(WsmsError, RetriesExhausted):
        allocate_arrivals(db, actor, [sku])


def undo_last(db: Database, actor: Actor, *, receipt: str, op_id: str) -> ReceiveResult:
    """Undo the actor's last received line on a receipt with a compensating ledger entry."""
    require(db, actor, "move.reverse", f"receipt:{receipt}")

    def work(s: Session) -> ReceiveResult:
        r = _receipt(s, receipt)
        if r.status in ("closed", "cancelled"):
            raise BadInput(_("receipt {ref} is {status}").format(ref=r.reference, status=r.status))
        reversed_ids = select(LedgerEntry.reverses_id).where(LedgerEntry.reverses_id.is_not(None))  # type: ignore[union-attr]
        last = s.execute(
            select(ReceiptPost, LedgerEntry, ReceiptLine)
            .join(LedgerEntry, LedgerEntry.id == ReceiptPost.ledger_entry_id)
            .join(ReceiptLine, ReceiptLine.id == ReceiptPost.receipt_line_id)
            .where(ReceiptLine.receipt_id == r.id, ReceiptPost.qty > 0, LedgerEntry.actor_id == actor.user_id,
                   LedgerEntry.id.notin_(reversed_ids))  # type: ignore[union-attr]
            .order_by(LedgerEntry.id.desc()).limit(1)  # type: ignore[union-attr]
        ).first()
        if last is None:
            raise BadInput(_("nothing of yours to undo on {ref}").format(ref=r.reference))
        post, entry, line = last
        lot_no = ledger.lot_no_of(s, entry.lot_id)
        move = ledger.post_in_session(
            s, actor, kind="reverse", product=entry.product_id, qty=entry.qty, from_location=entry.to_location_id,
            to_location=entry.from_location_id, lot=lot_no, expiry=None, package=None, op_id=op_id,
            doc_ref=r.reference, reason="undo", unit_cost=entry.unit_cost, raw_scan=None, reverses_id=entry.id)
        new_qty = line.received_qty - entry.qty
        s.execute(update(ReceiptLine).where(ReceiptLine.id == line.id).values(received_qty=new_qty))
        s.execute(insert(ReceiptPost).values(receipt_line_id=line.id, ledger_entry_id=move.entry_id, qty=-entry.qty))
        return ReceiveResult(move, r.reference, line.line_no, new_qty,
                             None if _hide_expected(actor, r.blind) else line.expected_qty)

    return ledger.write_once(db, work)


def close_receipt(db: Database, actor: Actor, reference: str) -> list[Discrepancy]:
    """Close a receipt; returns the lines whose received quantity differs from the expected one."""
    require(db, actor, "move.receive", f"receipt:{reference}")

    def work(s: Session) -> list[Discrepancy]:
        r = _receipt(s, reference)
        if r.status in ("closed", "cancelled"):
            raise BadInput(_("receipt {ref} is {status} already").format(ref=r.reference, status=r.status))
        diffs = [Discrepancy(ln.line_no, p.sku, ln.expected_qty, ln.received_qty)
                 for ln, p in _lines(s, r.id or 0) if ln.received_qty != ln.expected_qty]
        s.execute(update(Receipt).where(Receipt.id == r.id).values(status="closed", closed_at=audit.utcnow()))
        audit.record(s, actor, "receiving.close", f"receipt:{r.id}", {
            "reference": r.reference,
            "discrepancies": [{"line": d.line_no, "sku": d.sku, "expected": str(d.expected_qty),
                               "received": str(d.received_qty)} for d in diffs]})
        return diffs

    return db.write(work)


# ------------------------------------------------------------------ putaway


def suggest_putaway(db: Database, actor: Actor, *, receipt: str, product: int | str, qty: object) -> PutawaySuggestion:
    """Putaway rules by product, then category → fixed pick face or zone; else the nearest bin
    with room (bins already holding the product first), measured from the warehouse's dock."""
    require(db, actor, "stock.view")
    q = ledger.to_qty(qty)

    def work(s: Session) -> PutawaySuggestion:
        r = _receipt(s, receipt)
        prod = s.execute(select(Product).where(
            Product.id == product if isinstance(product, int) else Product.sku == product)).scalars().first()
        if prod is None:
            raise NotFound(_("no product {p}").format(p=product))
        rules = s.execute(select(PutawayRule).where(
            PutawayRule.warehouse_id == r.warehouse_id,
            or_(PutawayRule.product_id == prod.id, PutawayRule.category == prod.category))
            .order_by((PutawayRule.product_id.is_(None)), PutawayRule.priority, PutawayRule.id)).scalars().all()  # type: ignore[union-attr]
        zone: str | None = None
        for rule in rules:
            if rule.location_id is not None:
                code_ = s.execute(select(Location.code).where(Location.id == rule.location_id)).scalar_one()
                return PutawaySuggestion(code_, _("fixed pick face"))
            if rule.zone:
                zone = rule.zone
                break
        dock = s.execute(select(Location.x, Location.y).where(
            Location.warehouse_id == r.warehouse_id, Location.zone == "DOCK")).first()
        dx, dy = (dock.x or 0.0, dock.y or 0.0) if dock else (0.0, 0.0)
        # room per bin as a correlated sum over its quants (an index lookup per candidate bin), not a
        # GROUP BY over every quant of the database
        used = (select(func.coalesce(type_coerce(func.sum(Quant.on_hand), BigInteger), 0))
                .where(Quant.location_id == Location.id, Quant.on_hand > 0).scalar_subquery())
        room = (Location.capacity.is_(None)  # type: ignore[union-attr]
                | ((Location.capacity - used) >= int(q.scaleb(QTY_SCALE))))
        bins = (select(Location.code)
                .where(Location.warehouse_id == r.warehouse_id, Location.usage == LocationUsage.INTERNAL.value,
                       Location.active == True, Location.zone != "DOCK", room)  # noqa: E712
                .order_by(func.abs(func.coalesce(Location.x, 0) - dx) + func.abs(func.coalesce(Location.y, 0) - dy),
                          Location.code)
                .limit(1))
        holding = bins.where(Location.id.in_(  # type: ignore[union-attr]
            select(Quant.location_id).where(Quant.product_id == prod.id, Quant.on_hand > 0)))

        def best(*where: Any) -> tuple[str, bool] | None:
            """The nearest bin with room that holds the product already, else the nearest with room."""
            for stmt, holds in ((holding, True), (bins, False)):
                found = s.execute(stmt.where(*where)).scalar()
                if found is not None:
                    return found, holds
            return None

        if zone:
            hit = best(Location.zone == zone)
            if hit is not None:
                return PutawaySuggestion(hit[0], _("zone {z} rule").format(z=zone) +
                                         (_(", holds this product") if hit[1] else ""))
        hit = best()
        if hit is None:
            raise NotFound(_("no bin with room for {qty} of {sku}").format(qty=q, sku=prod.sku))
        return PutawaySuggestion(hit[0], _("holds this product") if hit[1] else _("nearest bin with room"))

    return db.read(work)


# ------------------------------------------------------------------ import

RECEIPT_REQUIRED = ["reference", "supplier", "expected_date", "qty"]
#: each line names its product by ``sku`` or ``gtin`` (either column, or both); lot and expiry are optional
RECEIPT_OPTIONAL = ["sku", "gtin", "lot", "expiry", "warehouse", "blind", "tolerance_pct"]


def _opt_date(raw: dict[str, str], col: str) -> date | None:
    v = raw.get(col, "")
    if not v:
        return None
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise FieldError(col, _("{v!r} is not a date (YYYY-MM-DD)").format(v=v)) from None


def _parse_receipt_row(raw: dict[str, str]) -> dict[str, Any]:
    qty = opt_decimal(raw, "qty", QTY_SCALE)
    if qty is None or qty <= 0:
        raise FieldError("qty", _("must be a number above zero"))
    item, item_col = raw.get("sku", ""), "sku"
    if not item and raw.get("gtin", ""):
        item, item_col = raw["gtin"], "gtin"
        if normalize_gtin(item) is None:
            raise FieldError("gtin", _("{v!r} is not a GTIN (8, 12, 13 or 14 digits with a right check digit)").format(
                v=item[:40]))
    if not item:
        raise FieldError("gtin" if "gtin" in raw and "sku" not in raw else "sku", _("give a SKU or a GTIN"))
    blind = (raw.get("blind") or "").lower()
    if blind not in ("", "0", "1", "true", "false", "yes", "no"):
        raise FieldError("blind", _("must be true or false"))
    return {
        "reference": code(raw, "reference"),
        "supplier": req(raw, "supplier", 200),
        "expected_date": _opt_date(raw, "expected_date"),
        "item": item,
        "item_col": item_col,
        "qty": qty,
        "lot": raw.get("lot") or None,
        "expiry": _opt_date(raw, "expiry"),
        "warehouse": raw.get("warehouse") or None,
        "blind": blind in ("1", "true", "yes"),
        "tolerance_pct": opt_decimal(raw, "tolerance_pct", 2) or Decimal(0),
    }


def import_receipts(db: Database, actor: Actor, path: Path, *, skip_bad_rows: bool = False,
                    reject_path: Path | None = None, progress: Progress | None = None) -> ImportReport:
    """Import expected deliveries; rows sharing a reference form one receipt. A receipt with any
    bad line is rejected whole; an existing reference is refused (re-import never duplicates)."""
    require(db, actor, "catalog.import", f"file:{path.name}")
    header, rows = read_rows(path, RECEIPT_REQUIRED, RECEIPT_OPTIONAL, nested="lines")
    if rows and "sku" not in header and "gtin" not in header:
        raise ImportRejected(path, [RowError(1, "sku", _("missing column: give a sku or a gtin column"))])
    report = ImportReport("receipts", path.name, rows=len(rows))
    file_errors: list[RowError] = []
    if progress:
        progress("validate", 0, len(rows))
    parsed = validate(rows, _parse_receipt_row, file_errors)

    def work(s: Session) -> None:
        errors = list(file_errors)
        skus = dict(s.execute(select(Product.sku, Product.id)).all())
        gtins = dict(s.execute(select(ProductBarcode.code, ProductBarcode.product_id)).all())
        warehouses = dict(s.execute(select(Warehouse.code, Warehouse.id)).all())
        existing = set(s.execute(select(Receipt.reference)).scalars())
        groups: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
        for row, p in parsed:
            pid = skus.get(p["item"])
            if pid is None:
                g = normalize_gtin(p["item"])
                pid = gtins.get(g) if g else None
            if pid is None:
                errors.append(RowError(row.line, p["item_col"], _("no product with SKU or GTIN {v}").format(
                    v=p["item"])))
                continue
            p["product_id"] = pid
            if p["reference"] in existing:
                errors.append(RowError(row.line, "reference", _("receipt {r} exists already").format(
                    r=p["reference"])))
                continue
            wh = p["warehouse"]
            if wh is None and len(warehouses) == 1:
                wh = next(iter(warehouses))
            if wh not in warehouses:
                errors.append(RowError(row.line, "warehouse", _("name one of the warehouses: {w}").format(
                    w=", ".join(sorted(warehouses)) or "-")))
                continue
            p["warehouse_id"] = warehouses[wh]
            groups[p["reference"]].append((row.line, p))
        # one receipt = one document: its header fields agree and any bad line rejects all of it
        bad_lines = {e.line for e in errors}
        refs_of_bad = {p["reference"] for row, p in parsed if row.line in bad_lines}
        for ref, items in groups.items():
            first = items[0][1]
            for line, p in items[1:]:
                for f in ("supplier", "expected_date", "warehouse_id", "blind", "tolerance_pct"):
                    if p[f] != first[f]:
                        errors.append(RowError(line, f, _("differs from the first line of receipt {r}").format(r=ref)))
                        refs_of_bad.add(ref)
            if ref in refs_of_bad:
                for line, _p in items:
                    if line not in {e.line for e in errors}:
                        errors.append(RowError(line, "reference", _("receipt {r} has bad lines").format(r=ref)))
        bad = finish(path, header, rows, errors, skip_bad_rows, reject_path, report)
        now = audit.utcnow()
        created = 0
        for ref, items in groups.items():
            if ref in refs_of_bad or any(line in bad for line, _p in items):
                continue
            h = items[0][1]
            rid = s.execute(insert(Receipt).values(
                reference=ref, supplier=h["supplier"], warehouse_id=h["warehouse_id"],
                expected_date=h["expected_date"], status="open", blind=h["blind"],
                tolerance_pct=h["tolerance_pct"], created_at=now).returning(Receipt.id)).scalar_one()
            s.execute(insert(ReceiptLine), [
                {"receipt_id": rid, "line_no": i + 1, "product_id": p["product_id"], "expected_qty": p["qty"],
                 "received_qty": Decimal(0), "lot_no": p["lot"], "expiry": p["expiry"]}
                for i, (_line, p) in enumerate(items)])
            created += 1
        report.created = created
        audit.record(s, actor, "receiving.import", f"file:{path.name}", {
            "sha256": file_digest(path), "receipts": created, "rejected_rows": len(bad)})
        if progress:
            progress("write", len(rows), len(rows))

    db.write(work)
    return report
