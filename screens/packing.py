"""The Packing bench (F5): a screen over ``wsms_tui.packing_flow.PackingFlow``.

Every scan goes to ``flow.feed(value, raw)`` and the returned ``PackView`` is drawn: the prompt, the message
(red with the bell when refused, green when done), the order (ship-to, lines with what is to pack, packed,
shipped and short), the box being packed and the boxes already closed (SSCC, type, weight, tracking).
Keys (ids in ``keys.desk_keys("packing")``): Ctrl+D closes the box (``%CMD:DONE``), Ctrl+F ships what is
packed (when units are still to pack, the second press ships them as a partial shipment), Ctrl+Z takes the
last unit out, Ctrl+R reprints a box label with a reason, Ctrl+X voids the last booked box of the order (the
first press names it, the second asks why; the carrier's cancel runs in a thread like a booking), Esc empties
the box / leaves the order. The label goes to the desk's printer through the spool (the screen wakes the App's
print worker).

Booking a box with its carrier (an HTTP carrier may take up to its timeout) runs in a thread worker: the
flow stops at the step ``book`` ("booking with <carrier>…"), ``flow.book()`` runs off the UI thread, and
scans and desk keys typed meanwhile wait and are fed to the flow in order once the box is booked (or
refused: a red line with the bell, the box as scanned, ready to weigh again). F1, the desk keys of the App
and quitting answer at once.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Static

from wsms_tui.i18n import _
from wsms_tui.keys import desk_keys, key_label
from wsms_tui.packing_flow import PackingFlow, PackView
from wsms_tui.screens.base import DeskContext, FlowDeskScreen, desk_label, key_bindings, make_scan_input
from wsms_tui.screens.orders import num, qty
from wsms_tui.screens.reason_prompt import ReasonPrompt
from wsms_tui.screens.widgets.cells import cell
from wsms_tui.screens.widgets.status_bar import StatusBar


def _bindings() -> list[BindingType]:
    return key_bindings(desk_keys("packing"), cursor=("down", "up"))


class PackingScreen(FlowDeskScreen):
    """Verify by scan, box, weigh, label, ship."""

    prompt_line_id = "pack-prompt"
    message_line_id = "pack-message"
    failure_text = _("packing failed: {e}")

    CSS_PATH = "packing.tcss"
    BINDINGS = _bindings()
    desk_name = "packing"
    COLUMNS = ("no", "sku", "name", "qty", "box", "packed", "to_pack", "shipped", "short")

    def __init__(self, ctx: DeskContext, flow: PackingFlow | None = None) -> None:
        super().__init__(ctx)
        self.flow = flow or PackingFlow(ctx.db, ctx.actor, ctx.settings)
        self.flow.defer_booking = True  # the carrier is called in a thread (``flow_done`` / ``book``)
        self.view: PackView = self.flow.view
        self._partial_armed = False
        self._void_armed: int | None = None  # the box id the first void key press named

    def desk_title(self) -> str:
        return _("wsms · Packing")

    def compose(self) -> ComposeResult:
        yield Static(self.desk_title(), id="desk-title")
        with Horizontal(id="scan-row"):
            yield Label(_("Scan ›"))
            yield make_scan_input(self.ctx.settings, self.ctx.gs_substitutes,
                                  placeholder=_("scan an order, tote, item, box type or weight"))
        yield Static("", id="pack-prompt")
        yield Static("", id="pack-message")
        yield Static("", id="pack-order")
        table: DataTable[Text] = DataTable(id="pack-lines", cursor_type="row", zebra_stripes=True)
        table.can_focus = False
        yield table
        yield Static("", id="pack-box")
        yield StatusBar(self.ctx.status)

    def on_mount(self) -> None:
        heads = {"no": "#", "sku": _("SKU"), "name": _("Name"), "qty": _("Qty"), "box": _("Box"),
                 "packed": _("Packed"), "to_pack": _("To pack"), "shipped": _("Sent"), "short": _("Short")}
        widths = {"no": 2, "sku": 8, "name": 16, "qty": 5, "box": 5, "packed": 6, "to_pack": 7, "shipped": 5,
                  "short": 5}
        table = self.query_one("#pack-lines", DataTable)
        for key in self.COLUMNS:
            table.add_column(Text(heads[key], justify="left" if key in ("sku", "name") else "right"), key=key,
                             width=widths[key])
        self.query_one("#pack-box", Static).border_title = _("Box")
        self.render_view(self.view)

    # -- input -------------------------------------------------------------------------------

    def handle_scan(self, value: str, raw: str) -> None:
        if self.wait_for_flow(partial(self.handle_scan, value, raw)):
            return
        self._partial_armed = False
        self._void_armed = None
        super().handle_scan(value, raw)

    def render_view(self, view: PackView) -> None:
        self._draw(view)
        if self.flow.booking and not self.flow_busy:  # a weighed box: book it off the UI thread
            self.run_flow_in_thread(self.flow.book, name="book")

    def flow_done(self, view: PackView) -> None:
        super().flow_done(view)
        box = view.last_box
        if box is not None and box.print_job_id is not None:
            self._wake_printer()

    def _wake_printer(self) -> None:
        spool = getattr(self.app, "spool", None)
        if spool is not None:
            spool.wake()

    # -- keys --------------------------------------------------------------------------------

    # every key that reaches the flow waits, in order with the scans, while a box is being booked

    def action_close_box(self) -> None:
        if self.wait_for_flow(self.action_close_box):
            return
        self._partial_armed = False
        self._void_armed = None
        self.run_flow(self.flow.close_box)

    def action_undo(self) -> None:
        if self.wait_for_flow(self.action_undo):
            return
        self._partial_armed = False
        self._void_armed = None
        self.run_flow(self.flow.undo)

    def action_cancel(self) -> None:
        if self.wait_for_flow(self.action_cancel):
            return
        self._partial_armed = False
        self._void_armed = None
        self.run_flow(self.flow.cancel)

    def action_ship(self) -> None:
        """Ship what is packed; with units still to pack, the second press ships a partial shipment."""
        if self.wait_for_flow(self.action_ship):
            return
        self._void_armed = None
        po = self.flow.order
        if po is not None and po.to_pack > 0 and po.open_boxes and not self.flow.view.box:
            if not self._partial_armed:
                self._partial_armed = True
                key = self.ctx.key_display.get("packing.ship") or key_label("ctrl+f")
                self.show_message(_("{n} unit(s) are not packed: {key} again ships the packed boxes now, the rest "
                                    "later").format(n=qty(po.to_pack), key=key), "info")
                return
            self._partial_armed = False
            self.run_flow(lambda: self.flow.finish(partial=True))
            return
        self._partial_armed = False
        self.run_flow(self.flow.finish)

    def action_reprint(self) -> None:
        self._void_armed = None

        def answered(reason: str | None) -> None:
            if self.wait_for_flow(partial(answered, reason)):
                return
            if reason:
                self.run_flow(lambda: self.flow.reprint(reason))
                self._wake_printer()

        self.app.push_screen(ReasonPrompt(_("Reprint the box label: why?")), answered)

    def unsaved(self) -> str:
        n = self.flow.units_in_box()
        if n and self.flow.order is not None and not self.flow_busy:  # (a booking running ends written whole)
            return _("{desk}: {n} unit(s) scanned into the open box of {r}").format(desk=desk_label(self), n=n,
                                                                                   r=self.flow.order.ref)
        return super().unsaved()

    def action_void(self) -> None:
        """Void the order's last booked box: the first press names it, the second asks for the reason."""
        if self.wait_for_flow(self.action_void):
            return
        self._partial_armed = False
        target = self.flow.void_target()
        if target is None or self.flow.view.step not in ("item", "confirm"):
            self._void_armed = None
            self.run_flow(lambda: self.flow.void(""))  # the flow says why not
            return
        if self._void_armed != target.id:
            self._void_armed = target.id
            key = self.ctx.key_display.get("packing.void") or key_label("ctrl+x")
            units = sum((i.qty for i in target.items), Decimal(0))
            self.show_message(_("{key} again voids box {n} (SSCC {s}, {c} {t}): {c} cancels it and its {q} unit(s) "
                                "go back to pack").format(key=key, n=target.box_no, s=target.sscc, c=target.carrier,
                                                          t=target.tracking, q=qty(units)), "info")
            return
        self._void_armed = None
        code = target.sscc

        def answered(reason: str | None) -> None:
            if self.wait_for_flow(partial(answered, reason)):
                return
            if not reason:
                self.show_message(_("box {n} was not voided").format(n=target.box_no), "info")
                return
            self.show_message(_("voiding box {n} with {c}…").format(n=target.box_no, c=target.carrier), "info")
            self.run_flow_in_thread(lambda: self.flow.void(reason, code), name="void")

        self.app.push_screen(ReasonPrompt(_("Void box {n} (SSCC {s}): why?").format(n=target.box_no, s=code)),
                             answered)

    def action_cursor(self, where: str) -> None:
        table = self.query_one("#pack-lines", DataTable)
        (table.action_cursor_down if where == "down" else table.action_cursor_up)()

    def help_rows(self) -> list[tuple[str, str]]:
        rows = [(self.ctx.key_display.get(k.id) or key_label(k.key), k.description) for k in desk_keys("packing")]
        rows.append((_("scan"), _("%CMD:DONE closes the box; a box label confirms")))
        return rows

    # -- rendering ---------------------------------------------------------------------------

    def _draw(self, view: PackView) -> None:
        self.show_step(view)
        po = view.order
        head = self.query_one("#pack-order", Static)
        table = self.query_one("#pack-lines", DataTable)
        table.clear()
        if po is None:
            head.update(Text(_("no order open"), style="dim"))
        else:
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(f"{po.ref} ", style="bold")
            text.append(f"{po.channel}:{po.external_ref} · {po.status} · {view.carrier} · ")
            text.append(f"{po.ship_to.name}, {po.ship_to.one_line()}")
            head.update(text)
            in_box: dict[int, Decimal] = {}
            for b in view.box:
                in_box[b.line_id] = in_box.get(b.line_id, Decimal(0)) + b.qty
            for ln in po.lines:
                if ln.status != "open":
                    continue
                box = in_box.get(ln.line_id, Decimal(0))
                left = ln.to_pack - box
                table.add_row(num(ln.line_no), cell(ln.sku), cell(ln.name), num(ln.qty),
                              Text(qty(box) if box else "", justify="right", style="bold"), num(ln.packed),
                              Text(qty(left), justify="right", style="yellow" if left > 0 else "green"),
                              num(ln.shipped), Text(qty(ln.missing) if ln.missing else "", justify="right",
                                                    style="red"), key=str(ln.line_id))
        self.query_one("#pack-box", Static).update(self._box_text(view))

    @staticmethod
    def _box_text(view: PackView) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if view.box:
            text.append(_("this box: "), style="bold")
            text.append(", ".join(f"{qty(b.qty)} × {b.sku}" + (f" {b.lot}" if b.lot else "") for b in view.box))
            if view.box_type is not None:
                text.append(f" · {view.box_type.describe()}")
        else:
            text.append(_("this box: empty"), style="dim")
        boxes = view.order.boxes if view.order is not None else []
        for b in boxes[-3:]:
            text.append(f"\n{b.box_no}. {b.sscc} {b.box_type} {b.weight_kg} kg {b.carrier} {b.tracking} ")
            text.append(b.status, style="green" if b.status == "shipped" else "")
            if b.print_job_id is None:
                text.append(" " + _("(no label)"), style="red")
        return text
