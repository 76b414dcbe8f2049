"""The Orders desk (F4): the order queue, paged from SQL, with filters and search in the scan field, and an
order's detail (lines, allocations, status timeline).

The queue is ``orders.order_page`` one keyset page at a time (``before_id`` = the last loaded id), loaded
when the cursor reaches the last loaded row, so 50,000 orders never load at once; the first page and the
count come in one read from ``orders.order_queue_head`` (counted up to ``orders.COUNT_CAP``, beyond that
shown as "10,000+"). The scan field takes filter words and search text (``status:allocated channel:SHOP
wh:W1 prio:1 express from:… to:…`` + an order ref, customer, phone, SKU, or a scanned GTIN), parsed by
``order_queue.parse_query``. Enter on the empty field opens the highlighted order; Esc goes back / clears.
Keys (ids in ``keys.desk_keys("orders")``): Ctrl+A allocate, Ctrl+X cancel with a reason, Ctrl+T next
status filter, Ctrl+E the exception tickets. No SQL here: one service call per action.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import ContentSwitcher, DataTable, Label, Static

from wsms_tui import order_queue, orders
from wsms_tui.allocation import allocate
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import desk_keys, key_label
from wsms_tui.orders import OrderDetail, OrderFilter, OrderRow
from wsms_tui.screens.base import DeskContext, DeskScreen, key_bindings
from wsms_tui.screens.reason_prompt import ReasonPrompt
from wsms_tui.screens.widgets.cells import cell, date_str, qty_str
from wsms_tui.screens.widgets.scan_input import ConfirmingScanInput
from wsms_tui.screens.widgets.status_bar import StatusBar

qty = qty_str  # the names this module's callers use
day = date_str


def num(value: Decimal | int) -> Text:
    return Text(qty_str(Decimal(value)), justify="right")


def table_bindings(desk: str) -> list[BindingType]:
    return key_bindings(desk_keys(desk))


class OrdersScreen(DeskScreen):
    """The order queue and an order's detail."""

    CSS_PATH = "orders.tcss"
    BINDINGS = table_bindings("orders")
    desk_name = "orders"
    COLUMNS = ("ref", "channel", "ext", "date", "customer", "status", "prio", "wh", "qty", "alloc")

    def __init__(self, ctx: DeskContext) -> None:
        super().__init__(ctx)
        self.filter = OrderFilter()
        self.before_id: int | None = None
        self.exhausted = True
        self.total = 0
        #: more than ``total`` orders match (the count stopped at ``orders.COUNT_CAP``)
        self.capped = False
        self.detail: OrderDetail | None = None

    def desk_title(self) -> str:
        return _("wsms · Orders")

    def compose(self) -> ComposeResult:
        yield Static(self.desk_title(), id="desk-title")
        with Horizontal(id="scan-row"):
            yield Label(_("Find ›"))
            yield ConfirmingScanInput(
                placeholder=_("order, customer, phone, SKU · status: channel: wh: prio: from: to:"),
                prefix=self.ctx.settings.scanner.prefix, suffix=self.ctx.settings.scanner.suffix,
                gs_substitutes=self.ctx.gs_substitutes, id="scan")
        yield Static("", id="ord-filter")
        with ContentSwitcher(initial="ord-list", id="ord-body"):
            with Vertical(id="ord-list"):
                table: DataTable[Text] = DataTable(id="ord-table", cursor_type="row", zebra_stripes=True)
                table.can_focus = False
                yield table
            with Vertical(id="ord-detail"):
                yield Static("", id="ord-head")
                lines: DataTable[Text] = DataTable(id="ord-lines", cursor_type="row", zebra_stripes=True)
                lines.can_focus = False
                yield lines
                with VerticalScroll(id="ord-more"):
                    yield Static("", id="ord-history")
        yield StatusBar(self.ctx.status)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#ord-table", DataTable)

    def on_mount(self) -> None:
        heads = {"ref": _("Order"), "channel": _("Chan."), "ext": _("Ref"), "date": _("Date"),
                 "customer": _("Customer"), "status": _("Status"), "prio": _("P"), "wh": _("WH"),
                 "lines": _("Ln"), "qty": _("Qty"), "alloc": _("Held")}
        widths = {"ref": 6, "channel": 6, "ext": 7, "date": 10, "customer": 10, "status": 9, "prio": 1, "wh": 2,
                  "qty": 3, "alloc": 4}
        for key in self.COLUMNS:
            right = key in ("prio", "qty", "alloc")
            self.table.add_column(Text(heads[key], justify="right" if right else "left"), key=key, width=widths[key])
        lines = self.query_one("#ord-lines", DataTable)
        for key, head, w in (("no", "#", 2), ("sku", _("SKU"), 8), ("name", _("Name"), 20), ("qty", _("Qty"), 5),
                             ("alloc", _("Held"), 5), ("shipped", _("Sent"), 5), ("short", _("Short"), 5),
                             ("status", _("Line"), 9)):
            right = key in ("no", "qty", "alloc", "shipped", "short")
            lines.add_column(Text(head, justify="right" if right else "left"), key=key, width=w)
        self.apply(OrderFilter())

    # -- the queue ---------------------------------------------------------------------------

    def apply(self, f: OrderFilter) -> None:
        """Show the first page of orders for ``f`` and how many there are (one read: a page that is not
        full is the whole answer; a long list is counted up to ``orders.COUNT_CAP`` and shown as "10,000+")."""
        self.filter = f
        self.before_id = None
        self.exhausted = False
        self.table.clear()
        try:
            head = orders.order_queue_head(self.ctx.db, self.ctx.actor, f, limit=self.ctx.page_size)
        except WsmsError as exc:
            self.say(str(exc), error=True)
            self.exhausted = True
            return
        self.total, self.capped = head.total, head.capped
        self.add_rows(head.rows)
        self.show_filter()
        self.query_one(ContentSwitcher).current = "ord-list"
        self.detail = None

    def show_filter(self) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        n = format(self.total, ",") + ("+" if self.capped else "")
        text.append(_("{n} order(s)").format(n=n), style="bold")
        text.append(" · " + order_queue.describe(self.filter))
        text.append(_(" · loaded {n}").format(n=self.table.row_count), style="dim")
        self.query_one("#ord-filter", Static).update(text)

    def load_page(self) -> int:
        if self.exhausted:
            return 0
        try:
            rows = orders.order_page(self.ctx.db, self.ctx.actor, self.filter, limit=self.ctx.page_size,
                                     before_id=self.before_id)
        except WsmsError as exc:
            self.say(str(exc), error=True)
            self.exhausted = True
            return 0
        return self.add_rows(rows)

    def add_rows(self, rows: Sequence[OrderRow]) -> int:
        """Append a keyset page; a short page is the last one."""
        for r in rows:
            self.add_row(r)
        if len(rows) < self.ctx.page_size:
            self.exhausted = True
        if rows:
            self.before_id = rows[-1].id
        return len(rows)

    def add_row(self, r: OrderRow) -> None:
        status = Text(r.status, style={"hold": "red", "backorder": "yellow", "shipped": "green",
                                       "cancelled": "dim"}.get(r.status, ""))
        prio = "E" if r.express else (str(r.priority) if r.priority else "")
        self.table.add_row(cell(r.ref), cell(r.channel), cell(r.external_ref), cell(day(r.order_date)),
                           cell(r.customer), status, Text(prio, justify="right"), cell(r.warehouse or ""),
                           num(r.qty), num(r.allocated), key=str(r.id))

    @on(DataTable.RowHighlighted, "#ord-table")
    def more_when_at_end(self, event: DataTable.RowHighlighted) -> None:
        if not self.exhausted and event.cursor_row >= self.table.row_count - 1:
            self.load_page()
            self.show_filter()

    def action_cursor(self, where: str) -> None:
        table = self.table if self.detail is None else self.query_one("#ord-lines", DataTable)
        if self.detail is not None and where in ("page_down", "page_up"):
            scroll = self.query_one("#ord-more", VerticalScroll)
            (scroll.scroll_page_down if where == "page_down" else scroll.scroll_page_up)()
            return
        {"down": table.action_cursor_down, "up": table.action_cursor_up,
         "page_down": table.action_page_down, "page_up": table.action_page_up}[where]()

    def highlighted_id(self) -> int | None:
        if self.detail is not None:
            return self.detail.order.id
        if self.table.row_count == 0:
            return None
        return int(str(self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value))

    # -- input -------------------------------------------------------------------------------

    def handle_scan(self, value: str, raw: str) -> None:
        """Filter words and search text; a single hit opens that order."""
        try:
            f = order_queue.parse_query(self.ctx.db, self.ctx.actor, value, self.filter)
        except WsmsError as exc:
            self.app.bell()
            self.say(str(exc), error=True)
            return
        self.apply(f)
        if f.search and self.total == 1 and self.table.row_count == 1:
            self.open_order(self.highlighted_id())
        else:
            self.say("" if self.total else _("no order matches"), error=not self.total)

    @on(ConfirmingScanInput.Confirmed)
    def open_highlighted(self, message: ConfirmingScanInput.Confirmed) -> None:
        message.stop()
        if self.detail is None:
            self.open_order(self.highlighted_id())

    def open_order(self, order_id: int | None) -> None:
        if order_id is None:
            self.app.bell()
            return
        try:
            self.detail = orders.order_detail(self.ctx.db, self.ctx.actor, order_id)
        except WsmsError as exc:
            self.say(str(exc), error=True)
            return
        self.render_detail(self.detail)

    def render_detail(self, d: OrderDetail) -> None:
        o = d.order
        head = Text(no_wrap=False)
        head.append(f"{o.ref} ", style="bold")
        head.append(f"{o.channel}:{o.external_ref} · {o.status} · {day(o.order_date)}")
        if o.express or o.priority:
            head.append(" · " + (_("express") if o.express else _("priority {p}").format(p=o.priority)))
        if o.warehouse:
            head.append(f" · {o.warehouse}")
        head.append("\n" + " · ".join(p for p in (o.customer, o.phone, d.address, f"{d.postcode} {d.city}".strip(),
                                                  o.country) if p))
        self.query_one("#ord-head", Static).update(head)
        lines = self.query_one("#ord-lines", DataTable)
        lines.clear()
        for ln in d.lines:
            lines.add_row(num(ln.line_no), cell(ln.sku), cell(ln.name), num(ln.qty), num(ln.allocated),
                          num(ln.shipped), num(ln.backordered), cell(ln.status), key=str(ln.line_no))
        more = Text()
        if d.allocations:
            more.append(_("Allocations") + "\n", style="bold")
            for a in d.allocations:
                lot = f" {a.lot}" if a.lot else ""
                more.append(f"  {a.line_no} {a.sku}{lot} {qty(a.qty)} @ {a.warehouse} {a.location} ({a.status})\n")
        more.append(_("Timeline") + "\n", style="bold")
        for e in d.timeline:
            more.append(f"  {e.at:%Y-%m-%d %H:%M} {e.from_status or '·'} → {e.to_status} {e.actor}")
            more.append(f"  {e.note}\n" if e.note else "\n", style="dim")
        if d.open_tickets:
            more.append(_("Open tickets: {t} ({key})").format(
                t=", ".join(f"#{t}" for t in d.open_tickets),
                key=self.ctx.key_display.get("orders.exceptions") or key_label("ctrl+e")), style="yellow")
        self.query_one("#ord-history", Static).update(more)
        self.query_one(ContentSwitcher).current = "ord-detail"

    # -- actions -----------------------------------------------------------------------------

    def action_back(self) -> None:
        if self.detail is not None:
            self.detail = None
            self.query_one(ContentSwitcher).current = "ord-list"
            self.reload()
            return
        if self.filter != OrderFilter():
            self.apply(OrderFilter())
            self.say(_("filter cleared"))

    def reload(self) -> None:
        """The same filter again (after an action changed orders); the cursor stays where it was."""
        row = self.table.cursor_row
        self.apply(self.filter)
        while row >= self.table.row_count and self.load_page():
            pass
        if self.table.row_count:
            self.table.move_cursor(row=min(row, self.table.row_count - 1))

    def action_next_status(self) -> None:
        self.apply(order_queue.next_status(self.filter))

    def _act(self, fn: Callable[[], Any], done: Callable[[Any], str]) -> None:
        try:
            result = fn()
        except WsmsError as exc:
            self.app.bell()
            self.say(str(exc), error=True)
            return
        self.say(done(result))
        if self.detail is not None:
            self.open_order(self.detail.order.id)
        else:
            self.reload()

    def action_allocate(self) -> None:
        oid = self.highlighted_id()
        if oid is None:
            self.app.bell()
            return
        self._act(lambda: allocate(self.ctx.db, self.ctx.actor, [oid]),
                  lambda r: _("{ref}: {a} allocated, {b} backordered").format(ref=orders.doc_ref(oid), a=r.allocated,
                                                                              b=r.backordered))

    def action_cancel_order(self) -> None:
        oid = self.highlighted_id()
        if oid is None:
            self.app.bell()
            return

        def answered(reason: str | None) -> None:
            if reason:
                self._act(lambda: orders.cancel_order(self.ctx.db, self.ctx.actor, oid, reason=reason),
                          lambda r: _("{ref} cancelled: {q} released").format(ref=r.ref, q=qty(r.released)))

        self.app.push_screen(ReasonPrompt(_("Cancel {ref}: why?").format(ref=orders.doc_ref(oid))), answered)

    def action_exceptions(self) -> None:
        from wsms_tui.screens.exceptions import ExceptionsScreen

        order = self.detail.order.ref if self.detail is not None else None
        self.app.push_screen(ExceptionsScreen(self.ctx, order=order), lambda _r: self.reload_after_exceptions())

    def reload_after_exceptions(self) -> None:
        if self.detail is not None:
            self.open_order(self.detail.order.id)
        else:
            self.reload()

    def help_rows(self) -> list[tuple[str, str]]:
        rows = [(self.ctx.key_display.get(k.id) or key_label(k.key), k.description) for k in desk_keys("orders")]
        rows.append((_("Enter"), _("open the highlighted order")))
        rows.append((_("type"), _("status: channel: wh: prio: from: to: express + search")))
        return rows
