"""The Picking desk (F6): an RF-style screen over ``wsms_tui.picking_flow.PickingFlow`` at 80×24.

Every scan goes to ``flow.feed(value, raw)`` and the returned ``PickView`` is drawn: the prompt, the
message (red with the terminal bell when refused, green when posted) and the body — the tours to pick
(↑ ↓ and Enter on the empty scan field takes the highlighted one, or scan its ``W12-3``), the current
pick as a card (location, SKU, name, quantity, lot, tote, order) with the lines and metres left and the
tour's next picks, or the current replenishment (from → to). The screen holds no SQL and no picking
rules. Keys (ids in ``wsms_tui.keys.desk_keys("waves")``, remappable): Ctrl+E short pick, Ctrl+K skip,
Ctrl+R replenishment, Ctrl+W the Waves screen (plan, release, show), Esc back.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import ContentSwitcher, DataTable, Label, Static

from wsms_tui.i18n import _
from wsms_tui.keys import desk_keys, key_label
from wsms_tui.picking_flow import PickingFlow, PickView
from wsms_tui.screens.base import DeskContext, FlowDeskScreen, key_bindings
from wsms_tui.screens.widgets.cells import cell, qty_str
from wsms_tui.screens.widgets.scan_input import ConfirmingScanInput
from wsms_tui.screens.widgets.status_bar import StatusBar

DESK_KEYS = ("waves.short", "waves.skip", "waves.replenish", "waves.waves", "waves.back")


def _bindings() -> list[BindingType]:
    return key_bindings([k for k in desk_keys("waves") if k.id in DESK_KEYS], cursor=("down", "up"))


class PickingScreen(FlowDeskScreen):
    """Pick tours by scanning: location → item → quantity; short, skip, totes, replenishment."""

    prompt_line_id = "pk-prompt"
    message_line_id = "pk-message"
    failure_text = _("picking failed: {e}")

    CSS_PATH = "picking.tcss"
    BINDINGS = _bindings()
    desk_name = "waves"

    TOUR_COLUMNS = ("tour", "warehouse", "left", "orders", "length", "picker")
    NEXT_COLUMNS = ("seq", "location", "sku", "qty", "tote", "status")

    def __init__(self, ctx: DeskContext, flow: PickingFlow | None = None) -> None:
        super().__init__(ctx)
        self.flow = flow or PickingFlow(ctx.db, ctx.actor)
        self.view: PickView = self.flow.view

    def desk_title(self) -> str:
        return _("wsms · Picking")

    def compose(self) -> ComposeResult:
        yield Static(self.desk_title(), id="desk-title")
        with Horizontal(id="scan-row"):
            yield Label(_("Scan ›"))
            yield ConfirmingScanInput(placeholder=_("scan a tour, a location label or an item"),
                                prefix=self.ctx.settings.scanner.prefix, suffix=self.ctx.settings.scanner.suffix,
                                gs_substitutes=self.ctx.gs_substitutes, id="scan")
        yield Static("", id="pk-prompt")
        yield Static("", id="pk-message")
        with ContentSwitcher(initial="pk-tours", id="pk-body"):
            with Vertical(id="pk-tours"):
                yield self._table("pk-tour-table")
            with Vertical(id="pk-task"):
                yield Static("", id="pk-card")
                yield Static("", id="pk-left")
                yield self._table("pk-next")
            with Vertical(id="pk-replen"):
                yield Static("", id="pk-rcard")
        yield StatusBar(self.ctx.status)

    @staticmethod
    def _table(id: str) -> DataTable[Text]:
        table: DataTable[Text] = DataTable(id=id, cursor_type="row", zebra_stripes=True)
        table.can_focus = False
        return table

    def on_mount(self) -> None:
        heads = {"tour": _("Tour"), "warehouse": _("Whs"), "left": _("Picks left"), "orders": _("Orders"),
                 "length": _("Route m"), "picker": _("Picker"), "seq": "#", "location": _("Location"),
                 "sku": _("SKU"), "qty": _("Qty"), "tote": _("Tote"), "status": _("Status")}
        right = {"left", "orders", "length", "seq", "qty"}
        for table_id, cols in (("pk-tour-table", self.TOUR_COLUMNS), ("pk-next", self.NEXT_COLUMNS)):
            table = self.query_one(f"#{table_id}", DataTable)
            for key in cols:
                table.add_column(Text(heads[key], justify="right" if key in right else "left"), key=key)
        self.query_one("#pk-card", Static).border_title = _("Pick")
        self.query_one("#pk-rcard", Static).border_title = _("Replenish")
        self.render_view(self.view)

    # -- input -------------------------------------------------------------------------------

    @on(ConfirmingScanInput.Confirmed)
    def take_highlighted_tour(self, message: ConfirmingScanInput.Confirmed) -> None:
        message.stop()
        ref = self.highlighted_key("pk-tour-table") if self.view.step == "tour" else None
        if ref is not None:
            self.run_flow(lambda: self.flow.open_tour(ref))

    def action_short(self) -> None:
        self.run_flow(self.flow.short)

    def action_skip(self) -> None:
        self.run_flow(self.flow.skip)

    def action_replenish(self) -> None:
        self.run_flow(self.flow.replenish)

    def action_back(self) -> None:
        self.run_flow(self.flow.back)

    def action_waves(self) -> None:
        from wsms_tui.screens.waves import WavesScreen

        self.app.push_screen(WavesScreen(self.ctx), lambda _r: self.run_flow(self.flow.refresh))

    def action_cursor(self, where: str) -> None:
        table = self.query_one("#pk-tour-table" if self.view.step == "tour" else "#pk-next", DataTable)
        (table.action_cursor_down if where == "down" else table.action_cursor_up)()

    def help_rows(self) -> list[tuple[str, str]]:
        rows = [(self.ctx.key_display.get(k.id) or key_label(k.key), k.description)
                for k in desk_keys("waves") if k.id in DESK_KEYS]
        rows.append((_("↑ ↓ Enter"), _("take a tour from the list")))
        rows.append(("%TOTE:NAME", _("this order goes on in another tote")))
        return rows

    # -- rendering ---------------------------------------------------------------------------

    def render_view(self, view: PickView) -> None:
        self.show_step(view)
        switcher = self.query_one(ContentSwitcher)
        if view.step.startswith("r_") and view.replen is not None:
            self.show_replen(view)
            switcher.current = "pk-replen"
        elif view.task is not None:
            self.show_task(view)
            switcher.current = "pk-task"
        else:
            self.show_tours(view)
            switcher.current = "pk-tours"

    def show_tours(self, view: PickView) -> None:
        table = self.query_one("#pk-tour-table", DataTable)
        keys = [t.ref for t in view.tours]
        if [k.value for k in table.rows] == keys and view.level == "error":
            return  # a refused scan does not reload the list
        table.clear()
        for t in view.tours:
            table.add_row(cell(t.ref), cell(t.warehouse), cell(str(t.left), right=True),
                          cell(str(t.orders), right=True), cell(f"{t.length:.0f}", right=True),
                          cell(t.picker or "—"), key=t.ref)
        if not view.tours and view.level != "error":
            self.query_one("#pk-prompt", Static).update(Text(
                _("No tour to pick: plan and release a wave (Ctrl+W)"), no_wrap=True, overflow="ellipsis"))

    def show_task(self, view: PickView) -> None:
        t = view.task
        assert t is not None
        card = Text(no_wrap=True, overflow="ellipsis")
        card.append(_("Location "), style="dim")
        card.append(f"{t.location:<14}", style="bold reverse" if view.step == "location" else "bold")
        card.append(_("  Tote "), style="dim")
        card.append(t.tote or "—", style="bold")
        card.append("\n" + _("SKU      "), style="dim")
        card.append(t.sku, style="bold reverse" if view.step in ("item", "qty") else "bold")
        card.append("  " + t.name)
        card.append("\n" + _("Quantity "), style="dim")
        card.append(qty_str(t.left), style="bold")
        if view.counted:
            card.append("  " + _("counted {c}").format(c=qty_str(view.counted)), style="bold green")
        if t.lot:
            card.append("  " + (_("serial ") if t.tracking == "serial" else _("lot ")), style="dim")
            card.append(t.lot, style="bold reverse" if view.step == "lot" else "bold")
        card.append("\n" + _("Order    "), style="dim")
        card.append(_("{o} line {n}").format(o=t.order_ref, n=t.line_no))
        self.query_one("#pk-card", Static).update(card)
        tour = view.tour.ref if view.tour else ""
        self.query_one("#pk-left", Static).update(Text(
            _("{tour}: {n} line(s) left · {m:.1f} m to walk").format(tour=tour, n=view.lines_left, m=view.meters_left),
            no_wrap=True, overflow="ellipsis"))
        table = self.query_one("#pk-next", DataTable)
        table.clear()
        rest = [x for x in view.tasks if x.status in ("open", "skipped") and x.id != t.id]
        rest.sort(key=lambda x: (x.status == "skipped", x.seq))
        for x in rest:
            table.add_row(cell(str(x.seq), right=True), cell(x.location), cell(x.sku),
                          cell(qty_str(x.left), right=True), cell(x.tote),
                          cell(_("skipped") if x.status == "skipped" else ""), key=str(x.id))

    def show_replen(self, view: PickView) -> None:
        r = view.replen
        assert r is not None
        card = Text(no_wrap=True, overflow="ellipsis")
        card.append(_("From     "), style="dim")
        card.append(r.from_location, style="bold reverse" if view.step == "r_from" else "bold")
        card.append("\n" + _("SKU      "), style="dim")
        card.append(r.sku, style="bold reverse" if view.step == "r_item" else "bold")
        card.append("  " + r.name)
        card.append("\n" + _("Quantity "), style="dim")
        card.append(qty_str(view.replen_qty), style="bold")
        if r.lot:
            card.append("  " + _("lot ") + r.lot, style="bold")
        card.append("\n" + _("To       "), style="dim")
        card.append(r.to_location, style="bold reverse" if view.step == "r_to" else "bold")
        card.append("  " + (_("(a released wave needs it)") if r.reason == "wave" else _("(below its minimum)")),
                    style="dim")
        self.query_one("#pk-rcard", Static).update(card)
