"""The packing bench's scan flow as a plain state machine (no Textual): the screen feeds it each scan and
renders the ``PackView`` it returns; tests drive it the same way.

order (scan an order ref, tote, LPN or a box label) → items (every unit is scanned: a wrong item or an
extra unit is refused with the bell and nothing is posted; a serial-tracked item asks for its serial) →
``%CMD:DONE`` closes the box → box type (scan or type ``S``/``M``/``L`` …) → waybill (only for a carrier
that needs one) → weight (typed kg; Enter on nothing or ``%CMD:WEIGH`` reads a scale, when one is plugged
in) → the box is booked with the carrier, written and its label queued → more items for the next box, or,
all packed, confirm: scan the label of a box (or ``%CMD:DONE``) and the order ships. ``%CMD:UNDO`` takes
the last unit out of the box being packed, ``%CMD:CANCEL`` empties it (or leaves the order when empty).
``void(reason)`` voids a booked box of the order (the last one closed here, or the SSCC given): the carrier
cancels it and its units are to pack again.
Shipping what is packed while units are still to pack is a partial shipment (``finish(partial=True)``).

Nothing is written until a box closes: the box being packed lives here, with its operation id and SSCC
fixed when it closes, so a retry after a carrier error or a repeated scan books and writes it once.

Booking is the one step that can block for long (an HTTP carrier waits up to its timeout). With
``defer_booking`` (the screen sets it) a weight does not book at once: the flow answers with the step
``book`` ("booking with <carrier>…") and the caller runs ``book()`` — the carrier call and the database
work of the box — off the UI thread, feeding nothing else until it returns. Without it (scripts, tests)
``feed`` books at once, as one call.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from wsms_tui import carriers, packing, printing
from wsms_tui.barcodes import interpret, printable
from wsms_tui.config import Settings
from wsms_tui.database import Database
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.packing import BoxItem, BoxType, BoxView, ItemMatch, PackOrder
from wsms_tui.scanlog import record_rejected_scan
from wsms_tui.security import Actor

COMMAND_PREFIX = "%CMD:"
DESK = "packing"


@dataclass(frozen=True)
class BoxLine:
    """One row of the box being packed: a line (and lot) and how many units are in the box."""

    line_id: int
    line_no: int
    sku: str
    name: str
    lot: str | None
    lot_id: int | None
    qty: Decimal


@dataclass(frozen=True)
class PackView:
    step: str  # order | item | serial | box | waybill | weight | book | confirm
    prompt: str
    message: str = ""
    level: str = "info"  # info | ok | error
    bell: bool = False
    order: PackOrder | None = None
    box: tuple[BoxLine, ...] = ()
    box_type: BoxType | None = None
    carrier: str = ""
    last_box: BoxView | None = None
    shipped: packing.ShipResult | None = None
    boxes: tuple[BoxView, ...] = field(default=())


class PackingFlow:
    """One clerk's packing session at one bench."""

    def __init__(self, db: Database, actor: Actor, settings: Settings, *, scale: packing.Scale | None = None,
                 new_op_id: Callable[[], str] | None = None, printer: str | None = None,
                 defer_booking: bool = False) -> None:
        self.db = db
        #: a weight leaves the box at the step ``book`` for the caller to run ``book()`` (off the UI thread)
        self.defer_booking = defer_booking
        self.actor = actor
        self.settings = settings
        self.scale = scale
        self.printer = settings.printer if printer is None else printer
        self._new_op_id = new_op_id or (lambda: f"pack:{uuid.uuid4().hex}")
        self.order: PackOrder | None = None
        self.carrier = ""
        self._units: list[tuple[ItemMatch, str]] = []  # the box being packed, one entry per scan
        self._pending_serial: ItemMatch | None = None
        self._box_type: BoxType | None = None
        self._waybill = ""
        self._box_op: str | None = None
        self._box_sscc: str | None = None
        self._weight: Decimal | None = None  # the box's weight while it waits to be booked
        self._last_box: BoxView | None = None
        self._step = "order"
        self._view = PackView("order", _("Scan an order, tote or LPN"))

    # -- public ------------------------------------------------------------------------------

    @property
    def view(self) -> PackView:
        return self._view

    @property
    def booking(self) -> bool:
        """A closed, weighed box waits for ``book()`` (only with ``defer_booking``)."""
        return self._step == "book"

    def feed(self, text: str, raw: str | None = None) -> PackView:
        """One scan or typed entry at the current step."""
        raw = text if raw is None else raw
        if self._step == "book":  # the caller feeds nothing while a box is being booked; never lose the box
            return self._fail(_("box is being booked with {c}: wait for it, then scan again").format(c=self.carrier))
        value = printable(text).strip()
        command = value.upper()[len(COMMAND_PREFIX):] if value.upper().startswith(COMMAND_PREFIX) else ""
        if not value:
            if self._step == "weight":
                return self._weigh_from_scale(raw)
            return self._show(self._step)
        if command == "CANCEL":
            return self.cancel()
        if command == "UNDO":
            return self.undo()
        if self._step == "order":
            return self.open(value, raw)
        if command == "DONE":
            if self._step == "item":
                return self.close_box() if self._units else self.finish()
            if self._step == "confirm":
                return self.finish()
        if command == "WEIGH" and self._step == "weight":
            return self._weigh_from_scale(raw)
        handler = {"item": self._on_item, "serial": self._on_serial, "box": self._on_box, "waybill": self._on_waybill,
                   "weight": self._on_weight, "confirm": self._on_confirm}[self._step]
        return handler(value, raw)

    def open(self, code: str, raw: str | None = None) -> PackView:
        if self._units:
            return self._reject(raw or code, _("finish or cancel the box being packed first"))
        try:
            po = packing.open_order(self.db, self.actor, code)
        except WsmsError as exc:
            return self._reject(raw or code, str(exc))
        self.order, self._last_box = po, None
        self.carrier = carriers.carrier_for(self.settings, po.channel)
        self._reset_box()
        msg = _("{r} ({ch} {ext}) for {c}: {n} to pack").format(r=po.ref, ch=po.channel, ext=po.external_ref,
                                                                c=po.customer, n=_qty(po.to_pack))
        return self._next(msg, "ok")

    def undo(self) -> PackView:
        if self._pending_serial is not None:
            self._pending_serial = None
            return self._show("item", message=_("serial scan dropped"))
        if not self._units or self._step not in ("item", "box", "waybill", "weight"):
            return self._reject("%CMD:UNDO", _("nothing in the box to take out"))
        match, _raw = self._units.pop()
        self._box_type, self._waybill = None, ""
        return self._show("item", message=_("took 1 × {sku} out of the box").format(sku=match.sku), level="ok")

    def cancel(self) -> PackView:
        """Empty the box being packed; with an empty box, leave the order (nothing was written for it)."""
        if self._units or self._pending_serial is not None:
            n = len(self._units)
            self._reset_box()
            return self._show("item", message=_("box emptied: {n} scan(s) dropped, nothing was posted").format(n=n))
        if self.order is not None:
            ref, self.order = self.order.ref, None
            self._reset_box()
            return self._show("order", message=_("left {r}").format(r=ref))
        return self._show("order")

    def close_box(self) -> PackView:
        """Done scanning this box: ask for the box type."""
        if self._step not in ("item", "box", "waybill", "weight"):
            return self._reject("%CMD:DONE", _("scan the items of a box first"))
        if not self._units:
            return self._reject("%CMD:DONE", _("the box is empty: scan the items first"))
        return self._show("box", prompt=self._box_prompt())

    def finish(self, *, partial: bool = False) -> PackView:
        """Ship the packed boxes of the order (all packed; or ``partial``)."""
        po = self.order
        if po is None:
            return self._reject("%CMD:DONE", _("scan an order first"))
        if self._units:
            return self._reject("%CMD:DONE", _("close the box being packed first (or empty it)"))
        if not po.open_boxes:
            return self._reject("%CMD:DONE", _("nothing of {r} is packed yet").format(r=po.ref))
        if po.to_pack > 0 and not partial:
            return self._reject("%CMD:DONE", _("{n} unit(s) still to pack: pack them, or ship partially").format(
                n=_qty(po.to_pack)))
        try:
            res = packing.ship(self.db, self.actor, po.ref, op_id=self._new_op_id()[:60], partial=partial)
        except WsmsError as exc:
            return self._fail(str(exc))
        self.order, self._last_box = None, None
        self._reset_box()
        msg = _("✓ {r} shipped: {b} box(es), {q} unit(s), tracking {t}").format(
            r=res.ref, b=res.boxes, q=_qty(res.shipped), t=", ".join(res.trackings))
        if res.partial:
            msg = _("✓ {r} partly shipped: {b} box(es), {q} unit(s); the rest waits ({st})").format(
                r=res.ref, b=res.boxes, q=_qty(res.shipped), st=res.status)
        self._step = "order"
        self._view = PackView("order", _("Scan the next order, tote or LPN"), msg, "ok", shipped=res)
        return self._view

    def reprint(self, reason: str, box: str | None = None) -> PackView:
        """Print a box's label again (the last box closed here, or the SSCC given), with a reason."""
        target = box or (self._last_box.sscc if self._last_box else None)
        if target is None and self.order is not None and self.order.open_boxes:
            target = self.order.open_boxes[-1].sscc
        if target is None:
            return self._reject("reprint", _("no box to reprint: scan the order or the box label"))
        try:
            job = packing.print_label(self.db, self.actor, self.settings, target, reason=reason,
                                      printer=self.printer, dpi=self._dpi())
        except WsmsError as exc:
            return self._fail(str(exc))
        return self._show(self._step, message=_("label of box {s} queued again: job {j}").format(s=target, j=job.id),
                          level="ok")

    def units_in_box(self) -> int:
        """Scans in the box being packed (held here until the box closes)."""
        return len(self._units)

    def void_target(self, box: str | None = None) -> BoxView | None:
        """The box ``void`` would void: the one given (SSCC or tracking, of the open order), else the last box
        closed here while it is still booked, else the order's last booked box; None when there is none."""
        po = self.order
        if po is None:
            return None
        if box is not None:
            return next((b for b in po.open_boxes if box in (b.sscc, b.tracking)), None)
        if self._last_box is not None:
            last = next((b for b in po.open_boxes if b.id == self._last_box.id), None)
            if last is not None:
                return last
        return po.open_boxes[-1] if po.open_boxes else None

    def void(self, reason: str, box: str | None = None) -> PackView:
        """Void a booked box of the open order (``void_target``) with a reason: the carrier cancels it, its units
        are to pack again (the order back from ``packed``). Not while a box is being closed."""
        if self.order is None:
            return self._fail(_("no booked box to void: scan the order first"))
        if self._step not in ("item", "confirm"):
            return self._fail(_("finish closing the box first (or Esc to empty it), then void"))
        target = self.void_target(box)
        if target is None:
            return self._fail(_("{r} has no booked box to void").format(r=self.order.ref) if box is None
                              else _("{b} is no booked box of {r}").format(b=box[:40], r=self.order.ref))
        try:
            res = packing.void_box(self.db, self.actor, self.settings, target.id, reason=reason)
        except WsmsError as exc:
            return self._fail(str(exc))
        if self._last_box is not None and self._last_box.id == target.id:
            self._last_box = None
        self.order = packing.pack_order(self.db, self.actor, self.order.ref)
        if res.already:
            msg = _("box {n} (SSCC {s}) was void already").format(n=target.box_no, s=target.sscc)
        else:
            msg = _("✓ box {n} voided: {c} {t} cancelled, {q} unit(s) to pack again · order {st}").format(
                n=target.box_no, c=target.carrier, t=target.tracking,
                q=_qty(sum((i.qty for i in target.items), Decimal(0))), st=res.order_status)
            if res.label_cancelled:
                msg += " · " + _("its label will not print")
        return self._next(msg, "ok")

    # -- steps -------------------------------------------------------------------------------

    def _on_item(self, value: str, raw: str) -> PackView:
        po = self.order
        assert po is not None
        seen = interpret(value)
        if seen.kind == "invalid":
            return self._reject(raw, seen.reason or _("not a barcode we can read"))
        if seen.kind == "sscc" or (seen.kind == "gs1" and seen.sscc and not seen.gtin):
            return self._reject(raw, _("that is a box label: scan the items, or DONE to close the box"))
        try:
            match = packing.match_item(self.db, self.actor, po.id, value)
        except WsmsError as exc:
            return self._reject(raw, str(exc))
        if match.tracking == "serial" and not match.lot:
            self._pending_serial = match
            return self._show("serial", prompt=_("Scan the serial number of {sku}").format(sku=match.sku))
        return self._add(match, raw)

    def _on_serial(self, value: str, raw: str) -> PackView:
        pending = self._pending_serial
        assert pending is not None and self.order is not None
        seen = interpret(value)
        serial = seen.serial or seen.lot or value
        try:
            match = packing.match_item(self.db, self.actor, self.order.id, pending.sku, lot=serial)
        except WsmsError as exc:
            return self._reject(raw, str(exc))
        self._pending_serial = None
        self._step = "item"
        return self._add(match, raw)

    def _add(self, match: ItemMatch, raw: str) -> PackView:
        po = self.order
        assert po is not None
        line = next(ln for ln in po.lines if ln.line_id == match.line_id)
        in_box = sum((m.qty for m, _r in self._units if m.line_id == match.line_id), Decimal(0))
        if match.lot_id is not None and any(m.lot_id == match.lot_id and m.tracking == "serial"
                                            for m, _r in self._units):
            return self._reject(raw, _("serial {s} is in the box already").format(s=match.lot))
        if in_box + match.qty > line.to_pack:
            return self._reject(raw, _("extra unit: line {n} ({sku}) has {left} to pack and {b} in this box "
                                       "already").format(n=line.line_no, sku=line.sku, left=_qty(line.to_pack),
                                                         b=_qty(in_box)))
        if self._box_op is None:
            self._box_op = self._new_op_id()
        self._units.append((match, raw))
        left = line.to_pack - in_box - match.qty
        return self._show("item", message=_("✓ {q} × {sku} (line {n}: {left} left to pack)").format(
            q=_qty(match.qty), sku=match.sku, n=line.line_no, left=_qty(left)), level="ok")

    def _on_box(self, value: str, raw: str) -> PackView:
        try:
            self._box_type = packing.box_type(self.settings, value)
        except WsmsError as exc:
            return self._reject(raw, str(exc), prompt=self._box_prompt())
        try:
            needs = carriers.carrier(self.settings, self.carrier).needs_waybill
        except WsmsError as exc:
            return self._fail(str(exc))
        if needs and not self._waybill:
            return self._show("waybill", prompt=_("Scan the waybill of {c}").format(c=self.carrier))
        return self._weight_prompt()

    def _on_waybill(self, value: str, raw: str) -> PackView:
        self._waybill = value
        return self._weight_prompt()

    def _on_weight(self, value: str, raw: str) -> PackView:
        try:
            weight = packing.parse_weight(value)
        except WsmsError as exc:
            return self._reject(raw, str(exc))
        return self._weighed(weight)

    def _weigh_from_scale(self, raw: str) -> PackView:
        if self.scale is None:
            return self._reject(raw or "%CMD:WEIGH", _("no scale here: type the weight in kg"))
        try:
            weight = self.scale.read_kg()
        except Exception as exc:  # noqa: BLE001 - a device failure is a message, not a crash
            return self._reject(raw or "%CMD:WEIGH", _("the scale failed: {e}; type the weight").format(e=exc))
        if weight is None or weight <= 0:
            return self._reject(raw or "%CMD:WEIGH", _("the scale shows no stable weight: try again or type it"))
        return self._weighed(weight)

    def _weighed(self, weight: Decimal) -> PackView:
        """The box has its weight: book it now, or (``defer_booking``) leave it at the step ``book``."""
        if not self.defer_booking:
            return self._write_box(weight)
        assert self._box_type is not None
        self._weight = weight
        return self._show("book", prompt=_("Booking box {c} {w} kg with {car}…").format(
            c=self._box_type.code, w=weight, car=self.carrier),
            message=_("booking with {c}…").format(c=self.carrier))

    def book(self) -> PackView:
        """Book the weighed box with the carrier, write it and queue its label (the step ``book``). It blocks
        up to the carrier's timeout: the screen runs it in a thread and feeds nothing else meanwhile. A
        failure leaves the box as scanned at the weight step (nothing written; the retry books the same SSCC)."""
        if self._step != "book" or self._weight is None:
            return self._fail(_("no box waits to be booked"))
        weight, self._weight = self._weight, None
        try:
            return self._write_box(weight)
        finally:
            if self._step == "book":  # an unexpected failure: back to the weight, the box as scanned
                self._weight_prompt()

    def _write_box(self, weight: Decimal) -> PackView:
        po = self.order
        assert po is not None and self._box_type is not None and self._box_op is not None
        items: dict[tuple[int, int | None], BoxItem] = {}
        for m, r in self._units:
            key = (m.line_id, m.lot_id)
            had = items.get(key)
            items[key] = BoxItem(m.line_id, (had.qty if had else Decimal(0)) + m.qty, m.lot_id,
                                 ((had.scans + "\n") if had else "") + r[:200])
        try:
            if self._box_sscc is None:
                self._box_sscc = packing.take_sscc(self.db, self.actor, self.settings)
            res = packing.close_box(self.db, self.actor, self.settings, po.ref, items=list(items.values()),
                                    box=self._box_type.code, weight=weight, op_id=self._box_op, carrier=self.carrier,
                                    waybill=self._waybill, sscc=self._box_sscc, printer=self.printer, dpi=self._dpi())
        except WsmsError as exc:  # nothing written: the box stays as scanned, try again
            self._step = "weight"
            return self._fail(str(exc), prompt=_("Weight of box {c} in kg (type it, Enter reads the scale)").format(
                c=self._box_type.code))
        self._last_box = res.box
        self._reset_box()
        self.order = packing.pack_order(self.db, self.actor, po.ref)
        printed = (_("label job {j}").format(j=res.job.id) if res.job is not None else res.print_error)
        msg = _("✓ box {n} {c} {w} kg, {car} {t} · {p}").format(
            n=res.box.box_no, c=res.box.box_type, w=res.box.weight_kg, car=res.box.carrier, t=res.box.tracking,
            p=printed)
        return self._next(msg, "ok" if res.job is not None else "error", bell=res.job is None)

    def _on_confirm(self, value: str, raw: str) -> PackView:
        po = self.order
        assert po is not None
        seen = interpret(value)
        sscc = seen.sscc if seen.kind in ("sscc", "gs1") else None
        if sscc and any(b.sscc == sscc for b in po.open_boxes):
            return self.finish()
        if any(b.tracking == value for b in po.open_boxes):
            return self.finish()
        return self._reject(raw, _("everything is packed: scan a box label of {r} (or DONE) to ship").format(r=po.ref))

    # -- helpers -----------------------------------------------------------------------------

    def _dpi(self) -> int:
        if not self.printer:
            return 203
        try:
            return printing.resolve_printer(self.settings, self.printer).dpi
        except WsmsError:
            return 203

    def _reset_box(self) -> None:
        self._units = []
        self._pending_serial = None
        self._box_type = None
        self._waybill = ""
        self._box_op = None
        self._box_sscc = None
        self._weight = None

    def _box_prompt(self) -> str:
        codes = ", ".join(bt.code for bt in packing.box_types(self.settings))
        return _("Box type ({codes})").format(codes=codes)

    def _weight_prompt(self) -> PackView:
        assert self._box_type is not None
        return self._show("weight", prompt=_("Weight of box {c} in kg (type it, Enter reads the scale)").format(
            c=self._box_type.code))

    def _next(self, message: str, level: str, *, bell: bool = False) -> PackView:
        """After opening an order or closing a box: more items, or confirm."""
        po = self.order
        assert po is not None
        if po.to_pack <= 0 and po.open_boxes:
            return self._show("confirm", prompt=_("All packed: scan a box label (or DONE) to ship {r}").format(
                r=po.ref), message=message, level=level, bell=bell)
        return self._show("item", message=message, level=level, bell=bell)

    def _box_lines(self) -> tuple[BoxLine, ...]:
        rows: dict[tuple[int, int | None], BoxLine] = {}
        for m, _r in self._units:
            key = (m.line_id, m.lot_id)
            had = rows.get(key)
            rows[key] = BoxLine(m.line_id, m.line_no, m.sku, m.name, m.lot, m.lot_id,
                                (had.qty if had else Decimal(0)) + m.qty)
        return tuple(rows.values())

    def _show(self, step: str, *, prompt: str | None = None, message: str = "", level: str = "info",
              bell: bool = False) -> PackView:
        fixed = {
            "order": _("Scan an order, tote or LPN"),
            "item": _("Scan the items (DONE closes the box)"),
        }
        self._step = step
        self._view = PackView(step, prompt or fixed.get(step, self._view.prompt), message, level, bell, self.order,
                              self._box_lines(), self._box_type, self.carrier, self._last_box)
        return self._view

    def _reject(self, raw: str, reason: str, *, prompt: str | None = None) -> PackView:
        """A refused scan: the bell, a red line, an audit record; nothing posted, the step stays."""
        record_rejected_scan(self.db, self.actor, desk=DESK, raw=raw, reason=reason)
        self._view = replace(self._show(self._step, prompt=prompt), message=reason, level="error", bell=True)
        return self._view

    def _fail(self, reason: str, *, prompt: str | None = None) -> PackView:
        self._view = replace(self._show(self._step, prompt=prompt), message=reason, level="error", bell=True)
        return self._view


def _qty(q: Decimal) -> str:
    return format(q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize(), "f")

