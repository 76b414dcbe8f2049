"""The Stock desk: scan or type a SKU, GTIN, GS1 string, lot or location; see its stock, paged from SQL.

Rows come from ``wsms_tui.stock.stock_page`` one keyset page at a time (``after=row.key()``); the
next page is loaded when the cursor reaches the last loaded row, so a million quants never load
at once. Totals come from ``stock_totals`` (SQL aggregates). Arrow and page keys move the table
cursor while the scan field keeps the focus, so a scan is accepted at any time.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from wsms_tui import stock
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.screens.base import DeskContext, DeskScreen
from wsms_tui.stock import StockFilter, StockRow


def qty_text(value: Decimal) -> Text:
    return Text(format(value, ","), justify="right")


class StockScreen(DeskScreen):
    """Stock lookup with a paged table of quants and SQL totals."""

    CSS_PATH = "stock.tcss"
    desk_name = "stock"
    BINDINGS = [
        Binding("down", "cursor('down')", show=False),
        Binding("up", "cursor('up')", show=False),
        Binding("pagedown", "cursor('page_down')", show=False),
        Binding("pageup", "cursor('page_up')", show=False),
    ]
    #: available = on hand - reserved is in the totals line; seven columns fit 80 columns
    COLUMNS = ("sku", "name", "location", "lot", "expiry", "on_hand", "reserved")
    WIDTHS = {"sku": 9, "name": 12, "location": 12, "lot": 6, "expiry": 10, "on_hand": 7, "reserved": 5}

    def __init__(self, ctx: DeskContext) -> None:
        super().__init__(ctx)
        self.filter = StockFilter()
        self.after: tuple[str, str, int] | None = None
        self.exhausted = True
        self.total_rows = 0
        self.code: str | None = None

    def desk_title(self) -> str:
        return _("wsms · Stock")

    def compose_body(self) -> Iterable[Widget]:
        yield Static("", id="stock-title")
        table: DataTable[str | Text] = DataTable(id="stock-table", cursor_type="row", zebra_stripes=True)
        table.can_focus = False  # the scan field keeps the focus; arrows are screen bindings
        yield table
        yield Static("", id="stock-totals")

    @property
    def table(self) -> DataTable[str | Text]:
        return self.query_one("#stock-table", DataTable)

    def on_mount(self) -> None:
        headers = {
            "sku": _("SKU"), "name": _("Name"), "location": _("Location"), "lot": _("Lot"),
            "expiry": _("Expiry"), "on_hand": _("On hand"), "reserved": _("Res."),
        }
        # fixed widths so that on hand and reserved stay on an 80-column screen; long
        # names are cut with an ellipsis (the full name is in the title line of a product lookup)
        for key in self.COLUMNS:
            label = Text(headers[key], justify="right") if key in ("on_hand", "reserved") \
                else headers[key]
            self.table.add_column(label, key=key, width=self.WIDTHS[key])
        if self.code is None:
            self.show(_("All stock"), StockFilter())
        else:
            self.lookup(self.code)

    # -- actions -----------------------------------------------------------------------------

    def handle_scan(self, value: str, raw: str) -> None:
        self.lookup(value)

    def lookup(self, code: str) -> None:
        """Resolve ``code`` with ``stock.lookup`` and show its stock."""
        self.code = code
        if not self.is_mounted:
            return
        try:
            found = stock.lookup(self.ctx.db, self.ctx.actor, code)
        except WsmsError as exc:
            self.say(str(exc), error=True)
            return
        except Exception as exc:  # noqa: BLE001 - a desk shows the failure and keeps running
            self.say(_("lookup failed: {e}").format(e=exc), error=True)
            return
        self.show(found.title, found.filter)
        if found.kind == "none":
            self.say(found.title, error=True)
        else:
            self.say("")

    def show(self, title: str, f: StockFilter) -> None:
        """Show the first page of stock for ``f`` under ``title``, with totals."""
        self.filter = f
        self.after = None
        self.exhausted = False
        self.table.clear()
        self.query_one("#stock-title", Static).update(Text(title, style="bold", no_wrap=True, overflow="ellipsis"))
        try:
            rows, on_hand, reserved = stock.stock_totals(self.ctx.db, self.ctx.actor, f)
        except WsmsError as exc:
            self.say(str(exc), error=True)
            self.exhausted = True
            return
        self.total_rows = rows
        self.query_one("#stock-totals", Static).update(Text(
            _("{rows} rows · on hand {on_hand} · reserved {reserved} · available {available}").format(
                rows=format(rows, ","), on_hand=format(on_hand, ","), reserved=format(reserved, ","),
                available=format(on_hand - reserved, ",")),
            no_wrap=True, overflow="ellipsis"))
        self.load_page()

    def load_page(self) -> int:
        """Append the next keyset page; returns how many rows came."""
        if self.exhausted:
            return 0
        size = self.ctx.page_size
        try:
            rows = stock.stock_page(self.ctx.db, self.ctx.actor, self.filter, limit=size, after=self.after)
        except WsmsError as exc:
            self.say(str(exc), error=True)
            self.exhausted = True
            return 0
        for row in rows:
            self.add_row(row)
        if len(rows) < size:
            self.exhausted = True
        if rows:
            self.after = rows[-1].key()
        return len(rows)

    def add_row(self, row: StockRow) -> None:
        self.table.add_row(
            row.sku, row.name, row.location, row.lot or "", row.expiry.isoformat() if row.expiry else "",
            qty_text(row.on_hand), qty_text(row.reserved),
            key=str(row.quant_id),
        )

    def action_cursor(self, where: str) -> None:
        """Move the table cursor (``down``, ``up``, ``page_down``, ``page_up``) from the scan field."""
        actions = {"down": self.table.action_cursor_down, "up": self.table.action_cursor_up,
                   "page_down": self.table.action_page_down, "page_up": self.table.action_page_up}
        actions[where]()

    @on(DataTable.RowHighlighted, "#stock-table")
    def more_when_at_end(self, event: DataTable.RowHighlighted) -> None:
        if not self.exhausted and event.cursor_row >= self.table.row_count - 1:
            self.load_page()
