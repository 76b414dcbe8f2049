"""The Stocktake desk (F7): a screen over ``wsms_tui.stocktake_flow.CountFlow``.

Every scan goes to ``flow.feed(value, raw)`` and the returned ``CountView`` is rendered: the prompt, the
message (red with the bell when refused, green when counted) and the body — the open counts (pick one
with ↑ ↓ and Enter on an empty scan field, or scan its reference), the count's locations in walking
order with their state, or what has been counted at the current location. Blind: no expected quantity
ever reaches this screen. The screen holds no SQL and no counting rules.

Keys (ids in ``wsms_tui.keys.desk_keys("stocktake")``, remappable): Ctrl+E location empty, Ctrl+D done
with the location, Esc back, Ctrl+R the review screen (supervisors: expected, counted, recount, value;
approve or reject). ``%CMD:EMPTY`` / ``%CMD:DONE`` / ``%CMD:CANCEL`` are scans like any other.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Label, Static

from wsms_tui import stocktake
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import desk_keys, key_label
from wsms_tui.screens.base import DeskContext, FlowDeskScreen, key_bindings
from wsms_tui.screens.stocktake_review import CountReviewScreen, qty_cell
from wsms_tui.screens.widgets.cells import cell
from wsms_tui.screens.widgets.scan_input import ConfirmingScanInput
from wsms_tui.screens.widgets.status_bar import StatusBar
from wsms_tui.stocktake_flow import CountFlow, CountView

DESK_KEY_IDS = ("stocktake.empty", "stocktake.done", "stocktake.undo", "stocktake.back", "stocktake.review")


def status_text(status: str) -> Text:
    styles = {"pending": "", "recount": "yellow", "counted": "green", "approved": "dim green", "rejected": "dim"}
    names = {"pending": _("to count"), "recount": _("recount"), "counted": _("counted"), "approved": _("approved"),
             "rejected": _("rejected")}
    return Text(names.get(status, status), style=styles.get(status, ""), no_wrap=True)




def _bindings() -> list[BindingType]:
    return key_bindings([k for k in desk_keys("stocktake") if k.id in DESK_KEY_IDS])


class StocktakeScreen(FlowDeskScreen):
    """Count by scanning: count → location → items (→ lot) → next location."""

    prompt_line_id = "st-prompt"
    message_line_id = "st-message"
    failure_text = _("counting failed: {e}")

    CSS_PATH = "stocktake.tcss"
    BINDINGS = _bindings()
    desk_name = "stocktake"

    COUNT_COLUMNS = ("ref", "kind", "scope", "locations", "todo", "recount", "counted")
    LOC_COLUMNS = ("location", "status", "abc", "by")
    LINE_COLUMNS = ("sku", "name", "lot", "counted")

    def __init__(self, ctx: DeskContext, flow: CountFlow | None = None) -> None:
        super().__init__(ctx)
        self.flow = flow or CountFlow(ctx.db, ctx.actor)
        self.view: CountView = self.flow.view

    def desk_title(self) -> str:
        return _("wsms · Stocktake")

    def compose(self) -> ComposeResult:
        yield Static(self.desk_title(), id="desk-title")
        with Horizontal(id="scan-row"):
            yield Label(_("Scan ›"))
            yield ConfirmingScanInput(placeholder=_("scan a count, a location or an item"),
                                 prefix=self.ctx.settings.scanner.prefix, suffix=self.ctx.settings.scanner.suffix,
                                 gs_substitutes=self.ctx.gs_substitutes, id="scan")
        yield Static("", id="st-prompt")
        yield Static("", id="st-message")
        with ContentSwitcher(initial="st-list", id="st-body"):
            with Vertical(id="st-list"):
                yield self._table("st-counts")
            with Vertical(id="st-count"):
                yield Static("", id="st-header")
                yield self._table("st-locations")
            with Vertical(id="st-location"):
                yield Static("", id="st-loc-header")
                yield self._table("st-lines")
        yield StatusBar(self.ctx.status)

    @staticmethod
    def _table(id: str) -> DataTable[Text]:
        table: DataTable[Text] = DataTable(id=id, cursor_type="row", zebra_stripes=True)
        table.can_focus = False
        return table

    def on_mount(self) -> None:
        headers = {"ref": _("Count"), "kind": _("Kind"), "scope": _("Scope"), "locations": _("Locs"),
                   "todo": _("To do"), "recount": _("Recount"), "counted": _("Counted"), "location": _("Location"),
                   "status": _("Status"), "abc": _("ABC"), "by": _("Counted by"), "sku": _("SKU"), "name": _("Name"),
                   "lot": _("Lot/serial")}
        right = {"locations", "todo", "recount", "counted"}
        widths = {"scope": 22, "name": 28, "lot": 14, "location": 14, "status": 10}
        for table_id, columns in (("st-counts", self.COUNT_COLUMNS), ("st-locations", self.LOC_COLUMNS),
                                  ("st-lines", self.LINE_COLUMNS)):
            table = self.query_one(f"#{table_id}", DataTable)
            for key in columns:
                table.add_column(Text(headers[key], justify="right" if key in right else "left"), key=key,
                                 width=widths.get(key))
        self.render_view(self.view)

    # -- input -------------------------------------------------------------------------------

    @on(ConfirmingScanInput.Confirmed)
    def take_highlighted_count(self, message: ConfirmingScanInput.Confirmed) -> None:
        message.stop()
        ref = self.highlighted_key("st-counts") if self.view.step == "count" else None
        if ref is not None:
            self.run_flow(lambda: self.flow.open_count(ref))

    # -- actions -----------------------------------------------------------------------------

    def action_location_empty(self) -> None:
        self.run_flow(self.flow.empty)

    def action_location_done(self) -> None:
        self.run_flow(self.flow.finish)

    def action_undo(self) -> None:
        self.run_flow(self.flow.undo)

    def action_back(self) -> None:
        self.run_flow(self.flow.cancel)

    def action_review(self) -> None:
        """Open the review screen of the current (or highlighted) count; supervisors approve there."""
        ref = self.flow.ref
        if ref is None:
            table = self.query_one("#st-counts", DataTable)
            if table.row_count:
                ref = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if ref is None:
            self.app.bell()
            return
        if not self.ctx.actor.can("count.review"):
            self.app.bell()
            self.show_message(_("the review is for supervisors: counts are blind for {role}").format(
                role=str(self.ctx.actor.role)), "error")
            return
        self.app.push_screen(CountReviewScreen(self.ctx, ref), lambda _result: self.refresh_view())

    def refresh_view(self) -> None:
        self.run_flow(lambda: self.flow.view if self.flow.ref is None else self.flow.feed(""))

    def help_rows(self) -> list[tuple[str, str]]:
        rows = [(self.ctx.key_display.get(k.id) or key_label(k.key), k.description)
                for k in desk_keys("stocktake") if k.id in DESK_KEY_IDS]
        rows.append((_("↑ ↓ Enter"), _("pick a count from the list")))
        rows.append((_("a number"), _("how many the last scan was")))
        return rows

    def visible_table(self) -> DataTable[Text]:
        current = self.query_one(ContentSwitcher).current
        table_id = {"st-count": "st-locations", "st-location": "st-lines"}.get(current or "", "st-counts")
        return self.query_one(f"#{table_id}", DataTable)

    # -- rendering ---------------------------------------------------------------------------

    def render_view(self, view: CountView) -> None:
        self.show_step(view)
        if view.count is None:
            self.show_counts()
        elif view.location is None:
            self.show_count(view.count)
        else:
            self.show_location(view)

    def show_counts(self) -> None:
        table = self.query_one("#st-counts", DataTable)
        try:
            counts = stocktake.list_counts(self.ctx.db, self.ctx.actor)
        except WsmsError as exc:
            self.show_message(str(exc), "error")
            counts = []
        table.clear()
        for c in counts:
            table.add_row(cell(c.ref), cell(c.kind), cell(c.scope), qty_cell(Decimal(c.locations)),
                          qty_cell(Decimal(c.pending)), qty_cell(Decimal(c.recount)), qty_cell(Decimal(c.counted)),
                          key=c.ref)
        self.query_one(ContentSwitcher).current = "st-list"
        if not counts and not self.view.message:
            self.show_message(_("no open counts: a supervisor plans them (`wsms count plan …`)"), "info")

    def show_count(self, c: stocktake.CountSummary) -> None:
        done = c.counted + c.approved + c.rejected
        header = " · ".join(p for p in (c.ref, c.kind, c.scope, _("{d}/{n} counted").format(d=done, n=c.locations),
                                        _("{r} to recount").format(r=c.recount) if c.recount else "",
                                        _("blind") if c.blind else "") if p)
        self.query_one("#st-header", Static).update(Text(header, style="bold", no_wrap=True, overflow="ellipsis"))
        table = self.query_one("#st-locations", DataTable)
        try:
            locs = stocktake.count_locations(self.ctx.db, self.ctx.actor, c.ref, limit=self.ctx.page_size)
        except WsmsError as exc:
            self.show_message(str(exc), "error")
            locs = []
        table.clear()
        first_todo = None
        for i, loc in enumerate(locs):
            by = loc.recount_by or loc.counted_by or ""
            table.add_row(cell(loc.location), status_text(loc.status), cell(loc.abc), cell(by), key=loc.location)
            if first_todo is None and loc.status in ("pending", "recount"):
                first_todo = i
        if first_todo is not None:
            table.move_cursor(row=first_todo)
        self.query_one(ContentSwitcher).current = "st-count"

    def show_location(self, view: CountView) -> None:
        c = view.count
        assert c is not None
        what = _("recount") if view.round == 2 else _("count")
        pending = _("  waiting for the lot/serial of {sku}").format(sku=view.pending) if view.pending else ""
        header = f"{c.ref} · {view.location} · {what}{pending}"
        self.query_one("#st-loc-header", Static).update(Text(header, style="bold", no_wrap=True,
                                                             overflow="ellipsis"))
        table = self.query_one("#st-lines", DataTable)
        table.clear()
        for i, ln in enumerate(view.lines):
            name = Text(ln.name, no_wrap=True, overflow="ellipsis")
            if ln.unexpected:
                name.append(" ⚑", style="yellow")
            table.add_row(cell(ln.sku), name, cell(ln.lot), qty_cell(ln.counted), key=str(i))
        if view.lines:
            table.move_cursor(row=len(view.lines) - 1)
        self.query_one(ContentSwitcher).current = "st-location"
