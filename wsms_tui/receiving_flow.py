"""The receiving desk's scan flow as a plain state machine (no Textual): the screen feeds it
each scan and renders the ``FlowView`` it returns; tests drive it the same way.

receipt → product (GTIN / GS1 / SKU; GS1 fills lot, expiry, count) → lot → expiry (only when the
product is tracked and the scan did not carry them) → location (the putaway suggestion is shown;
a typed number changes the quantity first) → posted, back to product. Over-receipt asks for a
supervisor's name and PIN. ``u`` or ``%CMD:UNDO`` undoes the clerk's last line, ``%CMD:DONE``
closes the receipt with its discrepancy list, ``%CMD:CANCEL`` drops the line being scanned.
Every refused scan rings the bell, says why, and is audited with its raw text.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from wsms_tui import receiving, users
from wsms_tui.barcodes import (
    LOCATION_PREFIX,
    Interpretation,
    interpret,
    normalize_gtin,
    printable,
    swallowed_element,
)
from wsms_tui.database import Database
from wsms_tui.db.models import Lot, Product, ProductBarcode, Tracking
from wsms_tui.errors import PermissionDenied, WsmsError
from wsms_tui.i18n import _
from wsms_tui.scanlog import record_rejected_scan
from wsms_tui.security import Actor

COMMAND_PREFIX = "%CMD:"
UNDO_WORDS = frozenset({"u", "U", f"{COMMAND_PREFIX}UNDO"})
#: the confirmation of a scan refused as ambiguous (compared lower-cased)
OK_WORDS = frozenset({"ok", "yes", f"{COMMAND_PREFIX}OK".lower()})


@dataclass(frozen=True)
class LineDraft:
    """The line being scanned: what is known so far."""

    sku: str
    name: str
    tracking: str
    qty: Decimal
    lot: str | None = None
    expiry: date | None = None
    suggestion: str | None = None
    suggestion_reason: str = ""
    raw_product_scan: str = ""
    op_id: str = ""


@dataclass(frozen=True)
class ReceivedLine:
    """The line this clerk received last in this session (what a product label is printed for)."""

    receipt: str
    line_no: int
    sku: str
    qty: Decimal
    lot: str | None
    location: str
    op_id: str  # the ledger op id: unique per received line (a label's idempotency key builds on it)


@dataclass(frozen=True)
class FlowView:
    step: str  # receipt | product | lot | expiry | location | supervisor_user | supervisor_pin | closed
    prompt: str
    message: str = ""
    level: str = "info"  # info | ok | error
    bell: bool = False
    secret: bool = False  # the screen masks the next input (a PIN)
    receipt: receiving.ReceiptView | None = None
    draft: LineDraft | None = None
    discrepancies: list[receiving.Discrepancy] = field(default_factory=list)


@dataclass(frozen=True)
class _ProductHit:
    sku: str
    name: str
    tracking: str
    pack_qty: Decimal


def _find_product(db: Database, code: str, gtin: str | None = None) -> _ProductHit | None:
    """A product by SKU ``code`` or by one of its barcodes (``gtin``, else ``code`` when it is a GTIN; a case
    barcode brings its pack quantity)."""
    gtin = gtin or normalize_gtin(code)

    def work(s):  # type: ignore[no-untyped-def]
        row = s.execute(select(Product.sku, Product.name, Product.tracking).where(Product.sku == code)).first()
        if row is not None:
            return _ProductHit(row.sku, row.name, row.tracking, Decimal(1))
        if gtin is None:
            return None
        row = s.execute(select(Product.sku, Product.name, Product.tracking, ProductBarcode.pack_qty)
                        .join(ProductBarcode, ProductBarcode.product_id == Product.id)
                        .where(ProductBarcode.code == gtin)).first()
        return _ProductHit(row.sku, row.name, row.tracking, row.pack_qty) if row else None

    return db.read(work)


def _lot_expiry(db: Database, sku: str, lot: str) -> date | None:
    return db.read(lambda s: s.execute(select(Lot.expiry).join(Product, Product.id == Lot.product_id)
                                       .where(Product.sku == sku, Lot.lot_no == lot)).scalar())


def parse_expiry(text: str) -> date | None:
    """``2027-03-01``, ``20270301`` or GS1-style ``270301`` (day 00 = end of month is not used here)."""
    t = text.strip()
    for pattern, build in (
        (r"^(\d{4})-(\d{2})-(\d{2})$", lambda m: date(int(m[1]), int(m[2]), int(m[3]))),
        (r"^(\d{4})(\d{2})(\d{2})$", lambda m: date(int(m[1]), int(m[2]), int(m[3]))),
        (r"^(\d{2})(\d{2})(\d{2})$", lambda m: date(2000 + int(m[1]), int(m[2]), int(m[3]))),
    ):
        m = re.match(pattern, t)
        if m:
            try:
                return build(m)
            except ValueError:
                return None
    return None


def _as_qty(text: str) -> Decimal | None:
    t = text.strip()
    if not re.fullmatch(r"\d{1,6}(\.\d{1,6})?", t):
        return None
    try:
        q = Decimal(t)
    except InvalidOperation:
        return None
    return q if q > 0 else None


def _with_received(detail: receiving.ReceiptView, line_no: int, received: Decimal) -> receiving.ReceiptView:
    """``detail`` after this desk received on line ``line_no`` (now ``received`` in all)."""
    lines = [replace(ln, received_qty=received) if ln.line_no == line_no else ln for ln in detail.lines]
    total = sum((ln.received_qty for ln in lines), Decimal(0))
    status = "receiving" if detail.summary.status == "open" else detail.summary.status
    return receiving.ReceiptView(replace(detail.summary, received_qty=total, status=status), lines)


class ReceivingFlow:
    """One clerk's receiving session at one terminal."""

    def __init__(self, db: Database, actor: Actor, *, new_op_id: Callable[[], str] | None = None) -> None:
        self.db = db
        self.actor = actor
        self._new_op_id = new_op_id or (lambda: f"rcv:{uuid.uuid4().hex}")
        self.receipt: str | None = None
        self.draft: LineDraft | None = None
        self._detail: receiving.ReceiptView | None = None  # the open receipt as last read
        self._refresh_off = False  # refresh refused (the user lost the right): no more refreshes
        #: the line received last in this session (None after an undo or before the first line)
        self.last_received: ReceivedLine | None = None
        self._step = "receipt"
        self._supervisor: str | None = None
        #: (step, scan) refused as probably missing a GS separator: ``ok`` as the next scan takes it as it is
        self._ambiguous: tuple[str, str] | None = None
        self._view = FlowView("receipt", _("Scan or choose a receipt"))

    # -- public ------------------------------------------------------------------------------

    @property
    def view(self) -> FlowView:
        return self._view

    def open_receipt(self, reference: str) -> FlowView:
        try:
            detail = receiving.receipt_detail(self.db, self.actor, reference)
        except WsmsError as exc:
            return self._reject(reference, str(exc))
        if detail.summary.status in ("closed", "cancelled"):
            return self._reject(reference, _("receipt {r} is {s}").format(r=reference, s=detail.summary.status))
        self.receipt, self.draft, self._detail = detail.summary.reference, None, detail
        return self._show("product", message=_("Receipt {r} from {s}").format(
            r=self.receipt, s=detail.summary.supplier), level="ok")

    def feed(self, text: str, raw: str | None = None) -> FlowView:
        """One scan or typed entry at the current step."""
        raw = text if raw is None else raw
        value = printable(text).strip()
        if not value:
            return self._show(self._step)
        pending, self._ambiguous = self._ambiguous, None  # any other scan drops a pending confirmation
        if pending is not None and value.lower() in OK_WORDS and pending[0] == self._step:
            if self._step == "product":
                return self._on_product(pending[1], pending[1], as_is=True)
            return self._on_lot(pending[1], pending[1], as_is=True)
        if value.upper() == f"{COMMAND_PREFIX}CANCEL":
            self.draft, self._supervisor = None, None
            return self._show("product" if self.receipt else "receipt", message=_("line cancelled"))
        if self._step == "receipt":
            return self.open_receipt(value)
        if value in UNDO_WORDS and self._step in ("product", "location", "lot", "expiry"):
            return self.undo()
        if value.upper() == f"{COMMAND_PREFIX}DONE":
            return self.close()
        handler = {
            "product": self._on_product,
            "lot": self._on_lot,
            "expiry": self._on_expiry,
            "location": self._on_location,
            "supervisor_user": self._on_supervisor_user,
            "supervisor_pin": self._on_supervisor_pin,
            "closed": lambda v, r: self.open_receipt(v),
        }[self._step]
        return handler(value, raw)

    def undo(self) -> FlowView:
        if not self.receipt:
            return self._reject("u", _("open a receipt first"))
        try:
            res = receiving.undo_last(self.db, self.actor, receipt=self.receipt, op_id=self._new_op_id())
        except WsmsError as exc:
            return self._show(self._step, message=str(exc), level="error", bell=True)
        self.draft, self._detail = None, None  # re-read: the undo changed a line
        self.last_received = None
        return self._show("product", message=_(
            "undone: {q} × {sku} back out of {loc} (line {n}: {got} received)").format(
            q=res.move.qty, sku=res.move.sku, loc=res.move.from_location, n=res.line_no, got=res.received_qty),
            level="ok")

    def refresh(self) -> FlowView | None:
        """Read the open receipt again, for what other desks received on it meanwhile (this desk's own posts
        patch the view at once). Only while the desk waits for a product scan; None when nothing changed or
        the read failed (a refresh is never an error on the desk)."""
        if self.receipt is None or self._step != "product" or self.draft is not None or self._refresh_off:
            return None
        try:
            detail = receiving.receipt_detail(self.db, self.actor, self.receipt)
        except PermissionDenied as exc:  # disabled meanwhile: say it once, and stop asking (each ask is audited)
            self._refresh_off = True
            return self._show(self._step, message=str(exc), level="error", bell=True)
        except Exception:  # noqa: BLE001 - the next refresh or scan tries again
            return None
        if detail == self._detail:
            return None
        self._detail = detail
        self._view = replace(self._view, receipt=detail, bell=False)
        return self._view

    def close(self) -> FlowView:
        if not self.receipt:
            return self._reject("DONE", _("open a receipt first"))
        try:
            diffs = receiving.close_receipt(self.db, self.actor, self.receipt)
        except WsmsError as exc:
            return self._show(self._step, message=str(exc), level="error", bell=True)
        ref, self.draft, self._detail = self.receipt, None, None
        msg = (_("{r} closed: {n} line(s) differ").format(r=ref, n=len(diffs)) if diffs
               else _("{r} closed: everything received as expected").format(r=ref))
        self._view = FlowView("closed", _("Scan the next receipt"), msg, "ok",
                              receipt=receiving.receipt_detail(self.db, self.actor, ref), discrepancies=diffs)
        self._step = "closed"
        return self._view

    # -- steps -------------------------------------------------------------------------------

    def _swallowed(self, it: Interpretation, value: str, raw: str) -> FlowView | None:
        """Refuse a GS1 scan whose lot/serial probably swallowed a further element (a missing GS); it is kept
        so that ``ok`` (or ``%CMD:OK``) next takes it as it is — a date-coded lot can look like that too. A
        rescan of the same code, from a scanner that drops GS, is refused again."""
        why = swallowed_element(it)
        if why is None:
            return None
        self._ambiguous = (self._step, value)
        return self._reject(raw, why + _(" — or type ok (scan %CMD:OK) to take it as it is"))

    def _on_product(self, value: str, raw: str, *, as_is: bool = False) -> FlowView:
        it = interpret(value)
        if it.kind == "invalid":
            # what barcodes.interpret can tell is wrong (a check digit, a broken GS1 string) is refused with
            # its reason — unless it is one of our SKUs that merely looks like a barcode
            hit = _find_product(self.db, value)
            if hit is None:
                return self._reject(raw, it.reason or _("{v!r} is not a product barcode or SKU").format(v=value[:40]))
        else:
            refused = None if as_is else self._swallowed(it, value, raw)
            if refused is not None:
                return refused
            hit = _find_product(self.db, value, it.gtin)
        if hit is None:
            if it.kind == "location":
                why = _("{loc} is a location label: scan a product first").format(loc=it.location)
            elif it.gtin:
                why = _("GTIN {g} is no product of ours").format(g=it.gtin)
            else:
                why = _("{v!r} is not a product barcode or SKU").format(v=value[:40])
            return self._reject(raw, why)
        lines = self._receipt_view().lines
        if not any(ln.sku == hit.sku for ln in lines):
            return self._reject(raw, _("{sku} {name} is not on receipt {r}").format(
                sku=hit.sku, name=hit.name, r=self.receipt))
        gs1 = it.kind == "gs1"
        qty = Decimal(it.count) if gs1 and it.count else hit.pack_qty
        lot = (it.serial or it.lot) if gs1 else None
        if hit.tracking == Tracking.SERIAL:
            lot = (it.serial if gs1 else None) or None
            qty = Decimal(1)
        expiry = it.expiry if gs1 else None
        if hit.tracking != Tracking.NONE and lot is None:
            line_lots = [ln.lot_no for ln in lines if ln.sku == hit.sku and ln.lot_no]
            if hit.tracking == Tracking.LOT and len(set(line_lots)) == 1:
                lot = line_lots[0]
        if hit.tracking == Tracking.NONE:
            lot, expiry = None, None
        self.draft = LineDraft(hit.sku, hit.name, hit.tracking, qty, lot, expiry, raw_product_scan=raw,
                               op_id=self._new_op_id())
        return self._next_missing()

    def _on_lot(self, value: str, raw: str, *, as_is: bool = False) -> FlowView:
        assert self.draft is not None
        it = interpret(value)
        gs1 = it.kind == "gs1"  # a GS1 label scanned for its lot: the same reading and guard as a product scan
        refused = self._swallowed(it, value, raw) if gs1 and not as_is else None
        if refused is not None:
            return refused
        lot = (it.serial or it.lot) if gs1 else value
        if not lot or len(lot) > 64:
            return self._reject(raw, _("not a lot or serial number"))
        self.draft = replace(self.draft, lot=lot, expiry=self.draft.expiry or (it.expiry if gs1 else None))
        return self._next_missing()

    def _on_expiry(self, value: str, raw: str) -> FlowView:
        assert self.draft is not None
        if value in ("-", "0"):
            self.draft = replace(self.draft, expiry=None)
            return self._next_missing(skip_expiry=True)
        d = parse_expiry(value)
        if d is None:
            return self._reject(raw, _("{v!r} is not a date: YYYY-MM-DD, YYYYMMDD or YYMMDD (- for none)").format(
                v=value[:20]))
        self.draft = replace(self.draft, expiry=d)
        return self._next_missing()

    def _on_location(self, value: str, raw: str) -> FlowView:
        assert self.draft is not None
        if value.upper().startswith(LOCATION_PREFIX):  # a location label: %LOC:CODE:C, its check character verified
            it = interpret(value)
            if it.kind != "location" or not it.location:
                return self._reject(raw, it.reason or _("bad location label"))
            return self._post(it.location, raw, approved_by=None)
        qty = _as_qty(value)
        if qty is not None and not self._is_location(value):
            if self.draft.tracking == Tracking.SERIAL and qty != 1:
                return self._reject(raw, _("a serial number is one unit"))
            self.draft = replace(self.draft, qty=qty)
            return self._suggest(_("quantity {q}").format(q=qty))
        return self._post(value, raw, approved_by=None)

    def _on_supervisor_user(self, value: str, raw: str) -> FlowView:
        self._supervisor = value
        return self._show("supervisor_pin", prompt=_("PIN of {u}").format(u=value), secret=True)

    def _on_supervisor_pin(self, value: str, raw: str) -> FlowView:
        if self._supervisor is None or self.draft is None:  # never expected: ask for the supervisor again
            return self._ask_supervisor(_("name the supervisor first"))
        try:
            sup = users.authenticate(self.db, self._supervisor, value, self.actor.terminal)
        except WsmsError as exc:
            self._supervisor = None
            return self._ask_supervisor(str(exc))
        self._supervisor = None
        if not receiving.may_approve_over_receipt(sup):
            # a clerk's own name and PIN: refused here (never posted), and audited with the name only
            why = _("{name} is not a supervisor: over-receipt needs a supervisor's name and PIN (Esc cancels "
                    "the line)").format(name=sup.name)
            record_rejected_scan(self.db, self.actor, desk="receiving", raw=sup.name, reason=why)
            return self._ask_supervisor(why)
        return self._post(self._pending_location, self.draft.raw_product_scan, approved_by=sup)

    # -- helpers -----------------------------------------------------------------------------

    _pending_location: str = ""

    def _ask_supervisor(self, message: str) -> FlowView:
        """Back to asking for a supervisor's name, the refusal in red (the line waits; Esc cancels it)."""
        return self._show("supervisor_user", prompt=_("Supervisor user (over-receipt)"), message=message,
                          level="error", bell=True)

    def _is_location(self, value: str) -> bool:
        from wsms_tui.ledger import location_ref

        try:
            self.db.read(lambda s: location_ref(s, value))
            return True
        except WsmsError:
            return False

    def _next_missing(self, skip_expiry: bool = False) -> FlowView:
        d = self.draft
        assert d is not None
        if d.tracking != Tracking.NONE and not d.lot:
            what = _("serial number") if d.tracking == Tracking.SERIAL else _("lot")
            return self._show("lot", prompt=_("Scan the {what} of {sku}").format(what=what, sku=d.sku))
        if d.tracking == Tracking.LOT and d.expiry is None and not skip_expiry:
            known = _lot_expiry(self.db, d.sku, d.lot or "")
            if known is None:
                return self._show("expiry", prompt=_("Expiry of lot {lot} (YYYY-MM-DD, - for none)").format(
                    lot=d.lot))
            self.draft = replace(d, expiry=known)
        return self._suggest("")

    def _suggest(self, message: str) -> FlowView:
        d = self.draft
        assert d is not None and self.receipt is not None
        try:
            sug = receiving.suggest_putaway(self.db, self.actor, receipt=self.receipt, product=d.sku, qty=d.qty)
            self.draft = replace(d, suggestion=sug.location, suggestion_reason=sug.reason)
        except WsmsError:
            self.draft = replace(d, suggestion=None, suggestion_reason="")
        where = self.draft.suggestion or _("any bin")
        return self._show("location", prompt=_("{q} × {sku} → {loc}: scan the location (a number changes the "
                                               "quantity)").format(q=self.draft.qty, sku=d.sku, loc=where),
                          message=message)

    def _post(self, location: str, raw: str, approved_by: Actor | None) -> FlowView:
        d = self.draft
        assert d is not None and self.receipt is not None
        try:
            res = receiving.receive_line(
                self.db, self.actor, receipt=self.receipt, product=d.sku, qty=d.qty, location=location,
                op_id=d.op_id, lot=d.lot, expiry=d.expiry, raw_scan=f"{d.raw_product_scan}|{raw}"[:2000],
                approved_by=approved_by)
        except receiving.OverReceipt as exc:
            self._pending_location = location
            return self._ask_supervisor(str(exc))
        except WsmsError as exc:
            if self._step in ("supervisor_user", "supervisor_pin"):
                # refused after the supervisor's PIN: back to the location step with the line kept (audited
                # with the location, never with the PIN that was typed last)
                record_rejected_scan(self.db, self.actor, desk="receiving", raw=location, reason=str(exc))
                self._suggest("")
                return self._show("location", message=str(exc), level="error", bell=True)
            return self._reject(raw, str(exc), keep_step=True)
        self.draft = None
        self._detail = _with_received(self._receipt_view(), res.line_no, res.received_qty)
        self.last_received = ReceivedLine(res.receipt, res.line_no, res.move.sku, res.move.qty, res.move.lot_no,
                                          res.move.to_location, res.move.op_id)
        exp = "" if res.expected_qty is None else f"/{res.expected_qty}"
        return self._show("product", message=_("✓ {q} × {sku} into {loc} (line {n}: {got}{exp})").format(
            q=res.move.qty, sku=res.move.sku, loc=res.move.to_location, n=res.line_no, got=res.received_qty,
            exp=exp), level="ok")

    def _show(self, step: str, *, prompt: str | None = None, message: str = "", level: str = "info",
              bell: bool = False, secret: bool = False) -> FlowView:
        """Move to ``step`` and describe it; steps with a fixed prompt need none."""
        fixed = {
            "receipt": _("Scan or choose a receipt"),
            "product": _("Scan a product (u = undo last line)"),
            "closed": _("Scan the next receipt"),
        }
        self._step = step
        detail = self._receipt_view() if self.receipt else None
        self._view = FlowView(step, prompt or fixed.get(step, self._view.prompt), message, level, bell, secret,
                              detail, self.draft)
        return self._view

    def _receipt_view(self) -> receiving.ReceiptView:
        """The open receipt as last read (re-read when another receipt is open or after an undo);
        this desk's own posts patch it, so a scan costs no extra read."""
        assert self.receipt is not None
        if self._detail is None or self._detail.summary.reference != self.receipt:
            self._detail = receiving.receipt_detail(self.db, self.actor, self.receipt)
        return self._detail

    def _reject(self, raw: str, reason: str, *, keep_step: bool = True) -> FlowView:
        record_rejected_scan(self.db, self.actor, desk="receiving", raw=raw, reason=reason)
        self._view = replace(self._view, message=reason, level="error", bell=True, secret=False)
        return self._view
