"""The Receiving desk (F3): a screen over ``wsms_tui.receiving_flow.ReceivingFlow``.

Every scan goes to ``flow.feed(value, raw)`` and the returned ``FlowView`` is rendered: the prompt
(the current step), the message (red with the terminal bell when refused, green when posted), and
the body — the active receipts (no receipt open: pick one with ↑ ↓ and Enter on an empty scan
field, or scan/type its reference), the open receipt's lines with the line being scanned and its
putaway suggestion, or the discrepancy list after close. A supervisor PIN (``view.secret``) is
masked in the scan field. The screen holds no SQL and no receiving rules: the flow and the
``receiving`` services decide, the screen renders.

Scans are handled one at a time in arrival order: the scan field posts one ``Scanned`` message per
scan, and ``handle_scan`` calls the flow synchronously (a few ms), so a burst is processed in order.
Keys (ids in ``wsms_tui.keys.desk_keys``, remappable): Ctrl+Z undo, Ctrl+D close (press twice),
Esc on an empty field cancels the line being scanned. ``u`` and the command barcodes
``%CMD:UNDO`` / ``%CMD:DONE`` / ``%CMD:CANCEL`` are scans like any other.

Labels (``screens/print_dialog.py``: preview first, Enter prints): Ctrl+L or the command barcode
``%CMD:PRINT`` — a product/lot label for the line just received (its qty as the count, its lot or
serial); Ctrl+O — a location label for the next location scanned or typed (or the one in the scan
field); Ctrl+N — an LPN/pallet label with a fresh SSCC for the open receipt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from uuid import uuid4

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Label, Static

from wsms_tui import label_jobs, labels, printing, receiving
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import desk_keys, key_label
from wsms_tui.receiving_flow import FlowView, LineDraft, ReceivingFlow
from wsms_tui.screens.base import DeskContext, FlowDeskScreen, desk_label, key_bindings
from wsms_tui.screens.print_dialog import PrintDialog, PrintRequest
from wsms_tui.screens.widgets.cells import cell, date_str, qty_str, show_text
from wsms_tui.screens.widgets.scan_input import ConfirmingScanInput
from wsms_tui.screens.widgets.status_bar import StatusBar
from wsms_tui.screens.widgets.tables import DeskTable

HIDDEN = "·"  # an expected quantity hidden from a clerk (blind receipt)
PIN_MASK = "•"
CLOSE_COMMAND = "%CMD:DONE"
CANCEL_COMMAND = "%CMD:CANCEL"
PRINT_COMMAND = "%CMD:PRINT"


def qty_cell(value: Decimal | None) -> Text:
    """A right-aligned quantity; ``·`` when hidden (blind receiving)."""
    if value is None:
        return Text(HIDDEN, justify="right", style="dim")
    return Text(qty_str(value), justify="right")


def _bindings() -> list[BindingType]:
    return key_bindings(desk_keys("receiving"))


class ReceivingScreen(FlowDeskScreen):
    """Receive deliveries by scanning: receipt → product → (lot, expiry) → location."""

    prompt_line_id = "rcv-prompt"
    message_line_id = "rcv-message"
    failure_text = _("receiving failed: {e}")

    CSS_PATH = "receiving.tcss"
    BINDINGS = _bindings()
    desk_name = "receiving"

    #: seconds between reads of the open receipt for other desks' posts (while this desk waits for a scan)
    refresh_s = 5.0

    LIST_COLUMNS = ("reference", "supplier", "due", "status", "lines", "expected", "received")
    LINE_COLUMNS = ("line", "sku", "name", "expected", "received", "lot", "expiry")
    DIFF_COLUMNS = ("line", "sku", "name", "expected", "received", "difference")

    def __init__(self, ctx: DeskContext, flow: ReceivingFlow | None = None) -> None:
        super().__init__(ctx)
        self.flow = flow or ReceivingFlow(ctx.db, ctx.actor)
        self.view: FlowView = self.flow.view
        self._lines_of: str | None = None  # the receipt whose lines fill the lines table
        self._shown_lines: dict[str, receiving.ReceiptLineView] = {}  # line key -> the line as shown
        self._close_armed = False
        self._location_label_armed = False  # Ctrl+O: the next scan is the location to label

    def desk_title(self) -> str:
        return _("wsms · Receiving")

    # -- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(self.desk_title(), id="desk-title")
        with Horizontal(id="scan-row"):
            yield Label(_("Scan ›"))
            yield ConfirmingScanInput(
                placeholder=_("scan a receipt, a product or a location"),
                prefix=self.ctx.settings.scanner.prefix, suffix=self.ctx.settings.scanner.suffix,
                gs_substitutes=self.ctx.gs_substitutes, id="scan")
        yield Static("", id="rcv-prompt")
        yield Static("", id="rcv-message")
        with ContentSwitcher(initial="rcv-list", id="rcv-body"):
            with Vertical(id="rcv-list"):
                yield self._table("rcv-receipts")
            with Vertical(id="rcv-open"):
                yield Static("", id="rcv-header")
                yield self._table("rcv-lines")
                yield Static("", id="rcv-draft")
            with Vertical(id="rcv-closed"):
                yield Static("", id="rcv-closed-title")
                yield self._table("rcv-diffs")
        yield StatusBar(self.ctx.status)

    @staticmethod
    def _table(id: str) -> DataTable[Text]:
        table: DataTable[Text] = DeskTable(id=id, cursor_type="row", zebra_stripes=True)
        table.can_focus = False  # the scan field keeps the focus; arrows are screen bindings
        return table

    def on_mount(self) -> None:
        headers = {
            "reference": _("Receipt"), "supplier": _("Supplier"), "due": _("Due"), "status": _("Status"),
            "lines": _("Lines"), "expected": _("Expected"), "received": _("Received"), "line": _("#"),
            "sku": _("SKU"), "name": _("Name"), "lot": _("Lot"), "expiry": _("Expiry"),
            "difference": _("Diff."),
        }
        right = {"lines", "expected", "received", "line", "difference"}
        widths = {"supplier": 18, "name": 18, "lot": 12}
        for table_id, columns in (("rcv-receipts", self.LIST_COLUMNS), ("rcv-lines", self.LINE_COLUMNS),
                                  ("rcv-diffs", self.DIFF_COLUMNS)):
            table = self.query_one(f"#{table_id}", DataTable)
            for key in columns:
                label = Text(headers[key], justify="right" if key in right else "left")
                table.add_column(label, key=key, width=widths.get(key))
        self.query_one("#rcv-draft", Static).border_title = _("Current line")
        self.render_view(self.view)
        self.set_interval(self.refresh_s, self.refresh_receipt, name="receipt-refresh")

    def unsaved(self) -> str:
        d = self.flow.draft
        if d is not None:
            return _("{desk}: {q} × {sku} scanned, not put away yet").format(desk=desk_label(self), q=d.qty, sku=d.sku)
        return super().unsaved()

    def refresh_receipt(self) -> None:
        """Other desks' posts on the open receipt: read it again in a thread while this desk is idle (a scan
        that arrives meanwhile waits its turn, as behind any flow call in a thread)."""
        if (self._flow_worker is not None or self.flow.receipt is None or self.scan_input.buffer
                or self._close_armed or self._location_label_armed):  # a question on screen stays as it is
            return
        self.run_flow_in_thread(self.flow.refresh, name="receipt-refresh", done=self._refreshed)

    def _refreshed(self, view: FlowView | None) -> None:
        if view is None:  # nothing new
            return
        if view.bell or view.receipt is None:  # the refresh was refused (the account was disabled): say it
            self.render_view(view)
            return
        self.view = view
        self.show_receipt(view.receipt, view.draft)  # the lines and header only: prompt and message stay

    # -- input -------------------------------------------------------------------------------

    @property
    def scan_input(self) -> ConfirmingScanInput:
        return self.query_one(ConfirmingScanInput)

    def handle_scan(self, value: str, raw: str) -> None:
        """A scan from the scan field (or a serial scanner): one step of the flow."""
        self._close_armed = False
        if self._location_label_armed:
            self._location_label_armed = False
            show_text(self.query_one("#rcv-prompt", Static), Text(self.view.prompt, no_wrap=True, overflow="ellipsis"))
            self.print_location_label(value)
            return
        if value.strip().upper() == PRINT_COMMAND:
            self.action_print_product()
            return
        self.run_flow(lambda: self.flow.feed(value, raw))

    @on(ConfirmingScanInput.Confirmed)
    def take_highlighted_receipt(self, message: ConfirmingScanInput.Confirmed) -> None:
        message.stop()
        if self.view.step not in ("receipt", "closed") or self.query_one(ContentSwitcher).current != "rcv-list":
            return
        reference = self.highlighted_key("rcv-receipts")
        if reference is not None:
            self.run_flow(lambda: self.flow.open_receipt(reference))

    def error_view(self, message: str) -> FlowView:
        return replace(self.flow.view, message=message, level="error", bell=True, secret=False)

    # -- actions (keys) ----------------------------------------------------------------------

    def action_undo(self) -> None:
        """Undo the clerk's last line on this receipt (like scanning ``u``)."""
        self._close_armed = False
        self.run_flow(self.flow.undo)

    def action_close_receipt(self) -> None:
        """Close the open receipt; the first press asks, the second closes."""
        if self.flow.receipt is None or self.view.step == "closed":
            self._close_armed = False
            self.app.bell()
            return
        if not self._close_armed:
            self._close_armed = True
            key = self.ctx.key_display.get("receiving.close") or key_label("ctrl+d")
            self.show_message(_("{key} again closes {r}: what is short goes on the discrepancy list").format(
                key=key, r=self.flow.receipt), "info")
            return
        self._close_armed = False
        self.run_flow(lambda: self.flow.feed(CLOSE_COMMAND))

    def action_cancel_line(self) -> None:
        """Drop the line being scanned; after close, go back to the list of receipts."""
        self._close_armed = False
        if self._location_label_armed:
            self._location_label_armed = False
            self.render_view(self.view)
            self.show_message(_("no location label"), "info")
            return
        if self.view.step == "closed":
            self.show_list()
            return
        if self.flow.receipt is None:
            return
        self.run_flow(lambda: self.flow.feed(CANCEL_COMMAND))

    # -- labels ------------------------------------------------------------------------------

    def _printer_dpi(self) -> int:
        name = self.ctx.settings.printer
        return printing.resolve_printer(self.ctx.settings, name).dpi if name else 203

    def open_print_dialog(self, title: str, make: Callable[[int], labels.Label], key: str) -> None:
        """Make the label (a service call), then preview it in the print dialog."""
        self._close_armed = False
        try:
            label = make(self._printer_dpi())
        except WsmsError as exc:
            self.app.bell()
            self.show_message(str(exc), "error")
            return
        request = PrintRequest(title, label, self.ctx.settings.printer, key)
        self.app.push_screen(PrintDialog(self.ctx.db, self.ctx.actor, request, self.ctx.key_display),
                             self._printed)

    def _printed(self, job: printing.JobInfo | None) -> None:
        if job is None:
            self.show_message(_("label not printed"), "info")
        elif job.status == "queued":
            self.show_message(_("label queued: job {id} on {p}").format(id=job.id, p=job.printer), "ok")
        else:
            self.show_message(_("that label is job {id} already ({st}); print it again from the print queue "
                                "with a reason").format(id=job.id, st=job.status), "info")

    def action_print_product(self) -> None:
        """A product/lot label for the line just received: its quantity as the count, its lot or serial."""
        line = self.flow.last_received
        if line is None:
            self.app.bell()
            self.show_message(_("receive a line first: the label is for the line just received"), "error")
            return
        count = int(line.qty) if line.qty == line.qty.to_integral_value() else None
        title = _("Product label: {sku}{lot} × {q} (line {n} of {r})").format(
            sku=line.sku, lot=f" {line.lot}" if line.lot else "", q=qty_str(line.qty), n=line.line_no, r=line.receipt)
        self.open_print_dialog(title, lambda dpi: label_jobs.make_product_label(
            self.ctx.db, self.ctx.actor, sku=line.sku, lot=line.lot, count=count, dpi=dpi),
            f"rcv-label:{line.op_id}")

    def action_print_location(self) -> None:
        """A location label: the code in the scan field, else the next location scanned or typed."""
        typed = self.scan_input.buffer.strip()
        if typed:
            self.scan_input.clear()
            self.print_location_label(typed)
            return
        self._location_label_armed = True
        back = self.ctx.key_display.get("receiving.cancel") or key_label("escape")
        show_text(self.query_one("#rcv-prompt", Static), Text(
            _("Location label: scan or type the location ({key}: never mind)").format(key=back),
            no_wrap=True, overflow="ellipsis"))

    def print_location_label(self, code: str) -> None:
        from wsms_tui.barcodes import interpret

        scanned = interpret(code)
        where = scanned.location if scanned.kind == "location" and scanned.location else code.strip()
        self.open_print_dialog(_("Location label: {code}").format(code=where),
                               lambda dpi: label_jobs.make_location_label(self.ctx.db, self.ctx.actor, where, dpi=dpi),
                               f"loc-label:{where}:{uuid4().hex[:12]}")

    def action_print_lpn(self) -> None:
        """An LPN/pallet label with a fresh SSCC for the open receipt (the SSCC is taken now)."""
        receipt = self.flow.receipt
        if receipt is None:
            self.app.bell()
            self.show_message(_("open a receipt first: the pallet label is for its goods"), "error")
            return
        line = self.flow.last_received
        contents = (f"{qty_str(line.qty)} × {line.sku}" + (f" {line.lot}" if line.lot else "")
                    if line is not None and line.receipt == receipt else "")
        key = f"lpn:{uuid4().hex}"
        self.open_print_dialog(_("Pallet label (new SSCC) for {r}").format(r=receipt),
                               lambda dpi: label_jobs.make_lpn_label(
                                   self.ctx.db, self.ctx.actor, company_prefix=self.ctx.settings.gs1_company_prefix,
                                   contents=contents, reference=receipt, dpi=dpi), key)

    def help_rows(self) -> list[tuple[str, str]]:
        """This desk's rows for F1: its own keys (as remapped) and how to pick a receipt."""
        rows = [(self.ctx.key_display.get(k.id) or key_label(k.key), k.description) for k in desk_keys("receiving")]
        rows.append((_("↑ ↓ Enter"), _("pick a receipt from the list")))
        return rows

    def visible_table(self) -> DataTable[Text]:
        current = self.query_one(ContentSwitcher).current
        table_id = {"rcv-open": "rcv-lines", "rcv-closed": "rcv-diffs"}.get(current or "", "rcv-receipts")
        return self.query_one(f"#{table_id}", DataTable)

    # -- rendering ---------------------------------------------------------------------------

    def render_view(self, view: FlowView) -> None:
        """Show ``view``: prompt, message (bell when refused), the PIN mask, and the body for its step."""
        self.show_step(view)
        scan = self.scan_input
        scan.mask = PIN_MASK if view.secret else None
        scan.refresh()
        if view.step == "closed":
            self.show_closed(view)
        elif view.receipt is None:
            self.show_list()
        else:
            self.show_receipt(view.receipt, view.draft)

    def show_list(self) -> None:
        """The active receipts (``receiving.list_receipts``)."""
        switcher = self.query_one(ContentSwitcher)
        table = self.query_one("#rcv-receipts", DataTable)
        if switcher.current == "rcv-list" and table.row_count:
            return  # already shown: a refused scan does not reload it
        try:
            receipts = receiving.list_receipts(self.ctx.db, self.ctx.actor)
        except WsmsError as exc:
            self.show_message(str(exc), "error")
            receipts = []
        table.clear()
        for r in receipts:
            table.add_row(cell(r.reference), cell(r.supplier), cell(date_str(r.expected_date)), cell(r.status),
                          qty_cell(Decimal(r.lines)), qty_cell(r.expected_qty), qty_cell(r.received_qty),
                          key=r.reference)
        switcher.current = "rcv-list"
        self._lines_of = None
        if not receipts:
            self.show_message(_("no receipts to receive: import them with `wsms import receipts FILE`"), "info")

    def show_receipt(self, detail: receiving.ReceiptView, draft: LineDraft | None) -> None:
        s = detail.summary
        got = qty_str(s.received_qty)
        amount = (_("received {got}").format(got=got) if s.expected_qty is None
                  else _("received {got} of {exp}").format(got=got, exp=qty_str(s.expected_qty)))
        header = " · ".join(p for p in (s.reference, s.supplier, s.warehouse, date_str(s.expected_date), s.status,
                                        amount, _("blind") if s.blind else "") if p)
        show_text(self.query_one("#rcv-header", Static), Text(header, style="bold", no_wrap=True, overflow="ellipsis"))
        table = self.query_one("#rcv-lines", DataTable)
        keys = [str(ln.line_no) for ln in detail.lines]
        if self._lines_of != s.reference or [k.value for k in table.rows] != keys:
            table.clear()
            self._shown_lines = {}
            for ln in detail.lines:
                table.add_row(*self._line_cells(ln), key=str(ln.line_no))
                self._shown_lines[str(ln.line_no)] = ln
            self._lines_of = s.reference
        else:  # the same lines: update only the cells that changed (keeps the cursor; a scan is one line)
            for ln in detail.lines:
                key = str(ln.line_no)
                before = self._shown_lines.get(key)
                if before == ln:
                    continue
                old_cells = self._line_cells(before) if before is not None else ()
                for i, (col, value) in enumerate(zip(self.LINE_COLUMNS, self._line_cells(ln), strict=True)):
                    if i >= len(old_cells) or old_cells[i].plain != value.plain:
                        table.update_cell(key, col, value)
                self._shown_lines[key] = ln
        if draft is not None:
            for i, ln in enumerate(detail.lines):
                if ln.sku == draft.sku and (not draft.lot or not ln.lot_no or ln.lot_no == draft.lot):
                    table.move_cursor(row=i)
                    break
        show_text(self.query_one("#rcv-draft", Static), self._draft_text(draft))
        self.query_one(ContentSwitcher).current = "rcv-open"

    @staticmethod
    def _line_cells(ln: receiving.ReceiptLineView) -> tuple[Text, ...]:
        return (qty_cell(Decimal(ln.line_no)), cell(ln.sku), cell(ln.name), qty_cell(ln.expected_qty),
                qty_cell(ln.received_qty), cell(ln.lot_no), cell(date_str(ln.expiry)))

    @staticmethod
    def _draft_text(d: LineDraft | None) -> Text:
        if d is None:
            return Text(_("no line in progress: scan a product"), style="dim")
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{d.sku} ", style="bold")
        text.append(d.name)
        text.append("  " + _("qty {q}").format(q=qty_str(d.qty)), style="bold")
        text.append("\n")
        if d.tracking == "none":
            text.append(_("no lot or expiry (not tracked)"), style="dim")
        elif d.tracking == "serial":
            text.append(_("serial {s}").format(s=d.lot or "?"))
        else:
            text.append(_("lot {lot}  expiry {e}").format(lot=d.lot or "?", e=date_str(d.expiry) or "—"))
        text.append("\n")
        if d.suggestion:
            text.append(_("put away → "))
            text.append(d.suggestion, style="bold")
            if d.suggestion_reason:
                text.append(f"  ({d.suggestion_reason})", style="dim")
        elif d.tracking != "none" and not d.lot:
            text.append(_("put away: once the lot or serial is scanned"), style="dim")
        else:
            text.append(_("put away → any bin"))
        return text

    def show_closed(self, view: FlowView) -> None:
        """The discrepancy list of the receipt just closed."""
        names = {ln.line_no: ln.name for ln in view.receipt.lines} if view.receipt else {}
        ref = view.receipt.summary.reference if view.receipt else ""
        back = self.ctx.key_display.get("receiving.cancel") or key_label("escape")
        title = (_("Discrepancies of {r} (received − expected); {key}: the receipt list").format(r=ref, key=back)
                 if view.discrepancies else _("{r}: no discrepancies; {key}: the receipt list").format(r=ref, key=back))
        show_text(self.query_one("#rcv-closed-title", Static), Text(title, style="bold", no_wrap=True,
                                                                        overflow="ellipsis"))
        table = self.query_one("#rcv-diffs", DataTable)
        table.clear()
        for d in view.discrepancies:
            diff = d.difference
            sign = "+" if diff > 0 else ""
            table.add_row(qty_cell(Decimal(d.line_no)), cell(d.sku), cell(names.get(d.line_no, "")),
                          qty_cell(d.expected_qty), qty_cell(d.received_qty),
                          Text(sign + qty_str(diff), justify="right", style="red" if diff < 0 else "yellow"),
                          key=str(d.line_no))
        self.query_one(ContentSwitcher).current = "rcv-closed"
        self._lines_of = None
