"""The Exceptions screen (Ctrl+E on the Orders desk): the open exception tickets and the actions that work them.

Tickets come from ``order_exceptions.ticket_page`` (newest first; the order's only when opened from an
order's detail) one keyset page at a time (``before_id`` = the last loaded id), the next page loaded when
the cursor reaches the last loaded row, like the other desks; the count is ``ticket_count`` (asked only when
the first page is full). The highlighted ticket is shown in full below the list. Each key asks what it needs in a
small prompt (``ReasonPrompt``) and calls one service: fix the address (``postcode=…; city=…``), cancel a
line (``LINE reason``), substitute (``LINE SKU [QTY]``), wait for stock, release, assign (a user name), add
a note, close. Typing an order ref in the scan field shows that order's tickets; an empty search shows all.
The answers are parsed by ``order_queue``; the screen holds no rules and no SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Static

from wsms_tui import order_exceptions, order_queue
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import desk_keys, key_label
from wsms_tui.order_exceptions import TicketRow
from wsms_tui.screens.base import DeskContext, DeskScreen
from wsms_tui.screens.orders import table_bindings
from wsms_tui.screens.reason_prompt import ReasonPrompt
from wsms_tui.screens.widgets.cells import cell
from wsms_tui.screens.widgets.scan_input import ConfirmingScanInput
from wsms_tui.screens.widgets.status_bar import StatusBar


class ExceptionsScreen(DeskScreen):
    """Work the exception tickets."""

    CSS_PATH = "exceptions.tcss"
    BINDINGS = table_bindings("exceptions")
    desk_name = "orders"
    COLUMNS = ("id", "code", "status", "order", "message", "who")

    def __init__(self, ctx: DeskContext, *, order: str | None = None) -> None:
        super().__init__(ctx)
        self.order = order
        self.rows: list[TicketRow] = []
        self.exhausted = True
        self.total = 0

    def desk_title(self) -> str:
        return _("wsms · Orders · Exceptions")

    def compose(self) -> ComposeResult:
        yield Static(self.desk_title(), id="desk-title")
        with Horizontal(id="scan-row"):
            yield Label(_("Order ›"))
            yield ConfirmingScanInput(placeholder=_("an order ref shows its tickets; Enter on nothing shows all"),
                                 prefix=self.ctx.settings.scanner.prefix, suffix=self.ctx.settings.scanner.suffix,
                                 gs_substitutes=self.ctx.gs_substitutes, id="scan")
        yield Static("", id="exc-filter")
        table: DataTable[Text] = DataTable(id="exc-table", cursor_type="row", zebra_stripes=True)
        table.can_focus = False
        yield table
        yield Static("", id="exc-detail")
        yield StatusBar(self.ctx.status)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#exc-table", DataTable)

    def on_mount(self) -> None:
        heads = {"id": "#", "code": _("Code"), "status": _("Status"), "order": _("Order"), "message": _("Message"),
                 "who": _("Assignee")}
        widths = {"id": 4, "code": 12, "status": 7, "order": 7, "message": 30, "who": 8}
        for key in self.COLUMNS:
            self.table.add_column(Text(heads[key], justify="right" if key == "id" else "left"), key=key,
                                  width=widths[key])
        self.query_one("#exc-detail", Static).border_title = _("Ticket")
        self.reload()

    def reload(self, keep: int | None = None) -> None:
        """The first page again (after an action or a new filter); with ``keep``, pages on until that ticket is
        loaded (it may have moved down the list) and puts the cursor on it."""
        self.rows = []
        self.table.clear()
        self.exhausted = False
        self.total = 0
        if self.load_page():
            if self.exhausted:
                self.total = len(self.rows)
            else:
                try:
                    self.total = order_exceptions.ticket_count(self.ctx.db, self.ctx.actor, order=self.order)
                except WsmsError as exc:
                    self.say(str(exc), error=True)
        if keep is not None:
            while (not self.exhausted and self.rows and self.rows[-1].id > keep
                   and all(t.id != keep for t in self.rows)):
                self.load_page()
            for i, t in enumerate(self.rows):
                if t.id == keep:
                    self.table.move_cursor(row=i)
        self.show_filter()
        self.show_current()

    def load_page(self) -> int:
        """Append the next keyset page (older tickets); how many rows came."""
        if self.exhausted:
            return 0
        size = self.ctx.page_size
        try:
            page = order_exceptions.ticket_page(self.ctx.db, self.ctx.actor, order=self.order, limit=size,
                                                before_id=self.rows[-1].id if self.rows else None)
        except WsmsError as exc:
            self.app.bell()
            self.say(str(exc), error=True)
            self.exhausted = True
            return 0
        for t in page:
            self.table.add_row(Text(str(t.id), justify="right"), cell(t.code),
                               Text(t.status, style="yellow" if t.status == "open" else "dim"), cell(t.order_ref),
                               cell(t.message), cell(t.assignee or ""), key=str(t.id))
        self.rows.extend(page)
        self.exhausted = len(page) < size
        return len(page)

    def show_filter(self) -> None:
        what = _("open tickets of {o}").format(o=self.order) if self.order else _("open tickets")
        text = Text(f"{max(self.total, len(self.rows))} {what}", style="bold")
        if len(self.rows) < self.total:
            text.append(_(" · loaded {n}").format(n=len(self.rows)), style="dim")
        self.query_one("#exc-filter", Static).update(text)

    def current(self) -> TicketRow | None:
        if not self.rows:
            return None
        return self.rows[min(self.table.cursor_row, len(self.rows) - 1)]

    @on(DataTable.RowHighlighted, "#exc-table")
    def highlighted(self, event: DataTable.RowHighlighted) -> None:
        if not self.exhausted and event.cursor_row >= self.table.row_count - 1:  # the last loaded row: page on
            self.load_page()
            self.show_filter()
        self.show_current()

    def show_current(self) -> None:
        t = self.current()
        box = self.query_one("#exc-detail", Static)
        if t is None:
            box.update(Text(_("no open tickets"), style="dim"))
            return
        text = Text()
        text.append(f"#{t.id} {t.code} ", style="bold")
        text.append(f"{t.status} · {t.order_ref or t.channel + ':' + t.external_ref} · {t.created_at:%Y-%m-%d %H:%M}")
        if t.assignee:
            text.append(" · " + _("assigned to {u}").format(u=t.assignee))
        text.append("\n" + t.message)
        if t.notes:
            text.append("\n" + t.notes.splitlines()[-1], style="dim")
        box.update(text)

    def action_cursor(self, where: str) -> None:
        {"down": self.table.action_cursor_down, "up": self.table.action_cursor_up,
         "page_down": self.table.action_page_down, "page_up": self.table.action_page_up}[where]()

    def handle_scan(self, value: str, raw: str) -> None:
        self.order = value.strip() or None
        self.reload()

    @on(ConfirmingScanInput.Confirmed)
    def show_all(self, message: ConfirmingScanInput.Confirmed) -> None:
        message.stop()
        self.order = None
        self.reload()

    # -- actions -----------------------------------------------------------------------------

    def _work(self, question: str | None, act: Callable[[TicketRow, str], Any], done: str,
              *, required: bool = True) -> None:
        """Ask ``question`` (if any) about the highlighted ticket, then call ``act(ticket, answer)``."""
        t = self.current()
        if t is None:
            self.app.bell()
            self.say(_("no ticket to work"), error=True)
            return

        def run(answer: str | None) -> None:
            if answer is None:
                return
            try:
                act(t, answer)
            except WsmsError as exc:
                self.app.bell()
                self.say(str(exc), error=True)
                return
            self.say(done.format(id=t.id, order=t.order_ref))
            self.reload(keep=t.id)
            refresh = getattr(self.app, "poll_exceptions", None)
            if callable(refresh):
                refresh()

        if question is None:
            run("")
        else:
            self.app.push_screen(ReasonPrompt(question, required=required), run)

    def _order(self, t: TicketRow) -> str:
        if not t.order_ref:
            raise WsmsError(_("ticket {id} holds no order").format(id=t.id))
        return t.order_ref

    def action_fix_address(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        self._work(_("New address fields (postcode=…; city=…; address=…; phone=…; country=…)"),
                   lambda t, a: order_exceptions.fix_address(db, actor, self._order(t),
                                                             **order_queue.parse_address_fix(a)),
                   _("#{id}: address of {order} fixed"))

    def action_cancel_line(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor

        def act(t: TicketRow, a: str) -> Any:
            line, reason = order_queue.parse_line_reason(a)
            return order_exceptions.cancel_line(db, actor, self._order(t), line, reason=reason)

        self._work(_("Cancel which line, and why? (e.g. 2 customer agreed)"), act,
                   _("#{id}: line of {order} cancelled"))

    def action_substitute(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor

        def act(t: TicketRow, a: str) -> Any:
            line, sku, q = order_queue.parse_substitute(a)
            return order_exceptions.substitute(db, actor, self._order(t), line, sku, qty=q)

        self._work(_("Substitute: line, SKU, quantity if different (e.g. 2 P2 1)"), act,
                   _("#{id}: {order} gets a substitute"))

    def action_wait(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        self._work(_("Wait for stock: a note (optional)"),
                   lambda t, a: order_exceptions.wait_for_stock(db, actor, t.id, a),
                   _("#{id}: waiting for stock"), required=False)

    def action_release(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        self._work(_("Release: why? (e.g. carrier confirmed the address)"),
                   lambda t, a: order_exceptions.release(db, actor, t.id, a), _("#{id}: released"))

    def action_assign(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        self._work(_("Assign to which user? (empty: nobody)"),
                   lambda t, a: order_exceptions.assign_ticket(db, actor, t.id, a or None),
                   _("#{id}: assigned"), required=False)

    def action_note(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        self._work(_("Note"), lambda t, a: order_exceptions.add_note(db, actor, t.id, a), _("#{id}: note added"))

    def action_close_ticket(self) -> None:
        db, actor = self.ctx.db, self.ctx.actor
        self._work(_("Close the ticket: what was done?"),
                   lambda t, a: order_exceptions.close_ticket(db, actor, t.id, note=a), _("#{id}: closed"))

    def action_back(self) -> None:
        self.dismiss(None)

    def help_rows(self) -> list[tuple[str, str]]:
        return [(self.ctx.key_display.get(k.id) or key_label(k.key), k.description) for k in desk_keys("exceptions")]
