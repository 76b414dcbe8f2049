"""The Stocktake desk's scan flow as a plain state machine (no Textual): the screen feeds it each scan
and renders the ``CountView`` it returns; tests drive it the same way.

count → location (``%LOC:CODE:C`` label, or its code typed) → items: each product scan counts one (a
case barcode its pack quantity; GS1 carries lot/serial and count), a typed number right after a scan
says how many that scan was → lot/serial (only when a tracked product's scan did not carry it) → the
next location finishes this one (what was not scanned counts 0); ``%CMD:EMPTY`` marks a location with
nothing in it, ``%CMD:DONE`` finishes it, ``%CMD:CANCEL`` drops a product waiting for its lot, ``%CMD:UNDO``
takes the last scan at this location back (again: the one before it), until the location is finished.

Blind: nothing the flow returns carries an expected quantity. Every refused scan rings the bell, says
why, and is recorded for the supervisor (``count_issue`` and the audit log).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation

from wsms_tui import stocktake
from wsms_tui.barcodes import interpret, printable
from wsms_tui.database import Database
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.scanlog import record_rejected_scan
from wsms_tui.security import Actor

QTY_RE = re.compile(r"\d{1,6}(\.\d{1,6})?")


@dataclass(frozen=True)
class LastScan:
    """The last product scan, so a typed number can say how many it was."""

    sku: str
    lot: str | None
    qty: Decimal


@dataclass(frozen=True)
class CountView:
    step: str  # count | location | item | lot
    prompt: str
    message: str = ""
    level: str = "info"  # info | ok | error
    bell: bool = False
    count: stocktake.CountSummary | None = None
    location: str | None = None
    round: int = 1
    lines: list[stocktake.CountedLine] = field(default_factory=list)
    pending: str | None = None  # a tracked product waiting for its lot/serial


class CountFlow:
    """One counter's session at one terminal."""

    def __init__(self, db: Database, actor: Actor, *, new_op_id: Callable[[], str] | None = None) -> None:
        self.db = db
        self.actor = actor
        self._new_op_id = new_op_id or (lambda: f"cnt:{uuid.uuid4().hex}")
        self.ref: str | None = None
        self.location: str | None = None
        self.round = 1
        self.lines: list[stocktake.CountedLine] = []
        #: this location's scans, oldest first (a typed number changes the last one); UNDO takes them back
        self.scans: list[LastScan] = []
        self._pending: stocktake.Resolved | None = None
        self._pending_qty = Decimal(1)
        self._pending_raw = ""
        self._step = "count"
        self._view = CountView("count", _("Scan or choose a count"))

    @property
    def view(self) -> CountView:
        return self._view

    @property
    def last(self) -> LastScan | None:
        """The last scan at this location still counted (a typed number says how many it was)."""
        return self.scans[-1] if self.scans else None

    # -- public ------------------------------------------------------------------------------

    def open_count(self, ref: str) -> CountView:
        try:
            summary = stocktake.count_summary(self.db, self.actor, ref)
        except WsmsError as exc:
            return self._reject(ref, str(exc))
        if summary.status != "open":
            return self._reject(ref, _("count {ref} is {status}").format(ref=summary.ref, status=summary.status))
        self.ref, self.location, self.lines, self.scans, self._pending = summary.ref, None, [], [], None
        return self._show("location", message=_("Count {ref}: {scope}").format(ref=summary.ref, scope=summary.scope),
                          level="ok")

    def feed(self, text: str, raw: str | None = None) -> CountView:
        """One scan or typed entry at the current step."""
        raw = text if raw is None else raw
        value = printable(text).strip()
        if not value:
            return self._show(self._step)
        if self._step == "count":
            return self.open_count(value)
        scan = interpret(value)
        if scan.kind == "invalid":
            return self._reject(raw, _("bad scan: {why}").format(why=scan.reason), record=True)
        if scan.kind == "command":
            return self._command(scan.command or "", raw)
        if self._step == "lot":
            lot = scan.serial or scan.lot if scan.kind == "gs1" else value
            return self._count_pending(lot or value, raw)
        if scan.kind == "location":
            return self._on_location(scan.location or value, raw)
        if scan.kind in ("gs1", "gtin"):
            hit = stocktake.resolve(self.db, self.actor, scan.gtin or value, gtin=scan.gtin)
            return self._on_product(hit, raw, lot=scan.serial or scan.lot, count=scan.count)
        hit = stocktake.resolve(self.db, self.actor, value)
        if hit.kind == "location":
            return self._on_location(hit.code, raw)
        if hit.kind == "product":
            return self._on_product(hit, raw, lot=None, count=None)
        if QTY_RE.fullmatch(value) and self._step == "item":
            return self._typed_qty(value, raw)
        return self._reject(raw, _("{v!r} is no location, product or quantity").format(v=value[:40]), record=True)

    def finish(self) -> CountView:
        """Done with this location: whatever was not scanned here counts 0."""
        if self.ref is None or self.location is None:
            return self._reject("DONE", _("scan a location first"))
        try:
            done = stocktake.finish_location(self.db, self.actor, self.ref, self.location, raw="%CMD:DONE")
        except WsmsError as exc:
            return self._show(self._step, message=str(exc), level="error", bell=True)
        return self._after_finish(done)

    def empty(self) -> CountView:
        """The location holds nothing at all."""
        if self.ref is None or self.location is None:
            return self._reject("EMPTY", _("scan the empty location first"))
        try:
            done = stocktake.finish_location(self.db, self.actor, self.ref, self.location, empty=True,
                                             raw="%CMD:EMPTY")
        except WsmsError as exc:
            return self._show(self._step, message=str(exc), level="error", bell=True)
        return self._after_finish(done, empty=True)

    def undo(self, raw: str = "%CMD:UNDO") -> CountView:
        """Take the last scan at this location back: its line counts that many less (a typed number after
        it: the number typed). Again takes back the one before; a finished location is not changed here."""
        if self._pending is not None:
            return self.cancel()
        top = self.last
        if self.ref is None or self.location is None or top is None:
            return self._reject(raw, _("nothing to undo: no scan at this location yet"))
        try:  # taken off the locked line: another counter's scans of it meanwhile stay counted
            res = stocktake.count_item(self.db, self.actor, self.ref, location=self.location, product=top.sku,
                                       qty=top.qty, lot=top.lot, mode="take", op_id=self._new_op_id(),
                                       raw_scan=raw)
        except WsmsError as exc:
            return self._error(str(exc))
        self.scans.pop()
        self._refresh_lines()
        lot_txt = f" {res.lot}" if res.lot else ""
        return self._show("item", message=_("undone: {q} × {sku}{lot} taken back, {n} counted").format(
            q=top.qty, sku=res.sku, lot=lot_txt, n=res.counted), level="ok")

    def cancel(self) -> CountView:
        """Drop a product waiting for its lot; with none waiting, leave the location (nothing is finished)."""
        if self._pending is not None:
            self._pending = None
            return self._show("item", message=_("item dropped"))
        if self.location is not None:
            left, self.location, self.lines, self.scans = self.location, None, [], []
            return self._show("location", message=_("left {loc} without finishing it").format(loc=left))
        if self.ref is not None:
            self.ref = None
            return self._show("count", message=_("back to the list of counts"))
        return self._show(self._step)

    # -- steps -------------------------------------------------------------------------------

    def _command(self, name: str, raw: str) -> CountView:
        if name == "CANCEL":
            return self.cancel()
        if name == "EMPTY":
            return self.empty()
        if name == "DONE":
            return self.finish()
        if name == "UNDO":
            return self.undo(raw)
        return self._reject(raw, _("the command {c} does nothing at the count desk").format(c=name))

    def _on_location(self, code: str, raw: str) -> CountView:
        """A location scan: check it may be counted (a refusal keeps the current location as it is), then
        finish the current location when something was counted there, and start the new one."""
        assert self.ref is not None
        try:
            state = stocktake.start_location(self.db, self.actor, self.ref, code, raw=raw)
        except WsmsError as exc:
            return self._error(str(exc))
        note = ""
        if self.location is not None and state.location != self.location:
            if self.lines:
                try:
                    done = stocktake.finish_location(self.db, self.actor, self.ref, self.location, raw=raw)
                except WsmsError as exc:
                    return self._error(str(exc))
                note = self._done_text(done) + " · "
            else:
                note = _("{loc} left uncounted (scan EMPTY there if it is empty)").format(loc=self.location) + " · "
        self.location, self.round, self.lines, self.scans, self._pending = state.location, state.round, state.lines, \
            [], None
        what = _("recount") if state.round == 2 else _("count")
        return self._show("item", message=note + _("{loc}: {what} what is there").format(loc=state.location,
                                                                                        what=what), level="ok")

    def _on_product(self, hit: stocktake.Resolved, raw: str, *, lot: str | None, count: int | None) -> CountView:
        if self.location is None:
            return self._reject(raw, _("scan the location first, then its items"))
        if hit.kind != "product":
            return self._reject(raw, _("{code} is no product of ours").format(code=hit.code[:40]), record=True)
        qty = Decimal(count) if count else hit.pack_qty
        if hit.tracking == "serial":
            qty = Decimal(1)
        if hit.tracking != "none" and not lot:
            self._pending, self._pending_qty, self._pending_raw = hit, qty, raw
            what = _("serial number") if hit.tracking == "serial" else _("lot")
            return self._show("lot", prompt=_("Scan the {what} of {sku}").format(what=what, sku=hit.sku))
        if hit.tracking == "none" and lot:
            lot = None
        return self._count(hit.sku, lot, qty, "add", raw)

    def _count_pending(self, lot: str, raw: str) -> CountView:
        hit = self._pending
        assert hit is not None
        if len(lot) > 64:
            return self._reject(raw, _("not a lot or serial number"), record=True)
        return self._count(hit.sku, lot, self._pending_qty, "add", f"{self._pending_raw}|{raw}")

    def _typed_qty(self, value: str, raw: str) -> CountView:
        last = self.last
        if last is None:
            return self._reject(raw, _("scan an item first, then type how many there are"))
        try:
            typed = Decimal(value)
        except InvalidOperation:
            return self._reject(raw, _("{v!r} is not a quantity").format(v=value))
        # the difference to what that scan counted, added to (or taken off) the locked line, so another
        # counter's scans of the same line meanwhile stay counted
        delta = typed - last.qty
        if delta == 0:
            return self._show("item", message=_("✓ {sku}: that scan was {q} already").format(sku=last.sku, q=typed),
                              level="ok")
        view = self._count(last.sku, last.lot, abs(delta), "add" if delta > 0 else "take", raw, typed=typed)
        return view

    def _count(self, sku: str, lot: str | None, qty: Decimal, mode: str, raw: str,
               typed: Decimal | None = None) -> CountView:
        assert self.ref is not None and self.location is not None
        try:
            res = stocktake.count_item(self.db, self.actor, self.ref, location=self.location, product=sku, qty=qty,
                                       lot=lot, mode=mode, op_id=self._new_op_id(), raw_scan=raw)
        except WsmsError as exc:
            self._pending = None
            self._step = "item"
            return self._error(str(exc))
        self._pending = None
        if typed is None or not self.scans:
            self.scans.append(LastScan(res.sku, res.lot, res.qty))
        else:  # a typed number: how many the last scan was
            self.scans[-1] = LastScan(res.sku, res.lot, typed)
        self._refresh_lines()
        lot_txt = f" {res.lot}" if res.lot else ""
        flag = "  " + _("(never stocked here: flagged for review)") if res.unexpected else ""
        msg = (_("✓ {sku}{lot}: {n} counted (this scan {q})").format(sku=res.sku, lot=lot_txt, n=res.counted,
                                                                     q=typed if typed is not None else res.qty)
               + flag)
        return self._show("item", message=msg, level="ok")

    # -- helpers -----------------------------------------------------------------------------

    def _refresh_lines(self) -> None:
        if self.ref is None or self.location is None:
            self.lines = []
            return
        self.lines = stocktake.location_state(self.db, self.actor, self.ref, self.location).lines

    def _done_text(self, done: stocktake.LocationDone) -> str:
        text = _("{loc} done ({n} line(s))").format(loc=done.location, n=done.lines)
        if done.needs_recount:
            text += ", " + _("another counter will recount it")
        return text

    def _after_finish(self, done: stocktake.LocationDone, *, empty: bool = False) -> CountView:
        self.location, self.lines, self.scans, self._pending = None, [], [], None
        msg = _("{loc} counted empty").format(loc=done.location) if empty else self._done_text(done)
        if empty and done.needs_recount:
            msg += ", " + _("another counter will recount it")
        return self._show("location", message=msg, level="ok")

    def _show(self, step: str, *, prompt: str | None = None, message: str = "", level: str = "info",
              bell: bool = False) -> CountView:
        fixed = {
            "count": _("Scan or choose a count"),
            "location": _("Scan a location"),
            "item": _("Scan items at {loc} (a number: how many the last scan was)").format(loc=self.location),
        }
        self._step = step
        summary = None
        if self.ref is not None:
            try:
                summary = stocktake.count_summary(self.db, self.actor, self.ref)
            except WsmsError:
                summary = None
        self._view = CountView(step, prompt or fixed.get(step, self._view.prompt), message, level, bell, summary,
                               self.location, self.round, list(self.lines),
                               self._pending.sku if self._pending is not None else None)
        return self._view

    def _error(self, reason: str) -> CountView:
        return self._show(self._step, message=reason, level="error", bell=True)

    def _reject(self, raw: str, reason: str, *, record: bool = False) -> CountView:
        """Refuse a scan: bell and message; kept for review (count issue) or at least in the audit log."""
        if record and self.ref is not None:
            stocktake.record_issue(self.db, self.actor, self.ref, kind="bad_scan", message=reason, raw=raw,
                                   location=self.location)
        else:
            record_rejected_scan(self.db, self.actor, desk="stocktake", raw=raw, reason=reason)
        self._view = replace(self._show(self._step), message=reason, level="error", bell=True)
        return self._view
