"""The Waves screen (Ctrl+W from the Picking desk): plan, release and look at waves.

The upper table lists the waves (newest first: status, orders, lines, tours, travel next to FCFS, picks
left); the lower one the highlighted wave's tours (orders, lines, route metres, the stops in order). Ctrl+N
plans a wave of the released orders of the warehouse that has the most (``waves.plan`` with its defaults;
``wsms waves plan`` takes every option), Ctrl+L twice releases the highlighted planned wave, ↑ ↓ move, a
scanned or typed wave number (``W12``) jumps to it, Esc goes back to picking. No SQL here: one service
call per action.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Label, Static

from wsms_tui import waves
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import desk_keys, key_label
from wsms_tui.screens.base import DeskContext, DeskScreen, make_scan_input
from wsms_tui.screens.widgets.cells import cell
from wsms_tui.screens.widgets.status_bar import StatusBar

SCREEN_KEYS = ("waves.plan", "waves.release", "waves.close")


def _bindings() -> list[BindingType]:
    keys: list[BindingType] = [Binding(k.key, k.action, k.description, id=k.id, show=False)
                               for k in desk_keys("waves") if k.id in SCREEN_KEYS]
    keys += [Binding("down", "cursor(1)", show=False), Binding("up", "cursor(-1)", show=False)]
    return keys


class WavesScreen(DeskScreen):
    """Waves: plan, release, show."""

    CSS_PATH = "waves.tcss"
    BINDINGS = _bindings()
    desk_name = "waves"

    WAVE_COLUMNS = ("wave", "status", "orders", "lines", "tours", "travel", "fcfs", "saving", "left")
    TOUR_COLUMNS = ("tour", "orders", "lines", "length", "stops")

    def __init__(self, ctx: DeskContext) -> None:
        super().__init__(ctx)
        self._release_armed: int | None = None

    def desk_title(self) -> str:
        return _("wsms · Waves")

    def compose(self) -> ComposeResult:
        yield Static(self.desk_title(), id="desk-title")
        with Horizontal(id="scan-row"):
            yield Label(_("Wave ›"))
            yield make_scan_input(self.ctx.settings, self.ctx.gs_substitutes, placeholder=_("scan or type a wave"))
        yield Static("", id="wv-help")
        yield Static("", id="wv-message")
        yield self._table("wv-waves")
        yield self._table("wv-tours")
        yield StatusBar(self.ctx.status)

    @staticmethod
    def _table(id: str) -> DataTable[Text]:
        table: DataTable[Text] = DataTable(id=id, cursor_type="row", zebra_stripes=True)
        table.can_focus = False
        return table

    def on_mount(self) -> None:
        heads = {"wave": _("Wave"), "status": _("Status"), "orders": _("Orders"), "lines": _("Lines"),
                 "tours": _("Tours"), "travel": _("Travel m"), "fcfs": _("FCFS m"), "saving": _("Saved"),
                 "left": _("Left"), "tour": _("Tour"), "length": _("Route m"), "stops": _("Stops in order")}
        right = {"orders", "lines", "tours", "travel", "fcfs", "saving", "left", "length"}
        for table_id, cols in (("wv-waves", self.WAVE_COLUMNS), ("wv-tours", self.TOUR_COLUMNS)):
            table = self.query_one(f"#{table_id}", DataTable)
            for key in cols:
                table.add_column(Text(heads[key], justify="right" if key in right else "left"), key=key)
        keys = {k.id: self.ctx.key_display.get(k.id) or key_label(k.key) for k in desk_keys("waves")}
        self.query_one("#wv-help", Static).update(Text(
            _("{plan} plan · {rel} release (twice) · ↑ ↓ a wave · {back} back").format(
                plan=keys["waves.plan"], rel=keys["waves.release"], back=keys["waves.close"]),
            no_wrap=True, overflow="ellipsis"))
        self.reload()

    def show_message(self, message: str, level: str = "info") -> None:
        line = self.query_one("#wv-message", Static)
        line.update(Text(message, no_wrap=True, overflow="ellipsis"))
        line.set_class(level == "error", "error")
        line.set_class(level == "ok", "ok")
        if level == "error":
            self.app.bell()

    def reload(self, select: int | None = None) -> None:
        try:
            rows = waves.list_waves(self.ctx.db, self.ctx.actor, limit=200)
        except WsmsError as exc:
            self.show_message(str(exc), "error")
            rows = []
        table = self.query_one("#wv-waves", DataTable)
        table.clear()
        for w in rows:
            table.add_row(cell(w.ref), cell(w.status), cell(w.orders, right=True), cell(w.lines, right=True),
                          cell(w.tours, right=True), cell(f"{w.travel:.0f}", right=True),
                          cell(f"{w.fcfs_travel:.0f}", right=True), cell(f"{w.saving_pct:.1f}%", right=True),
                          cell(w.left, right=True), key=str(w.id))
        if select is not None:
            for i, w in enumerate(rows):
                if w.id == select:
                    table.move_cursor(row=i)
        if not rows:
            self.show_message(_("no waves yet: plan one"), "info")
        self.show_tours()

    def current_wave(self) -> int | None:
        table = self.query_one("#wv-waves", DataTable)
        if table.row_count == 0:
            return None
        return int(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def show_tours(self) -> None:
        table = self.query_one("#wv-tours", DataTable)
        table.clear()
        wid = self.current_wave()
        if wid is None:
            return
        try:
            view = waves.show(self.ctx.db, self.ctx.actor, wid)
        except WsmsError as exc:
            self.show_message(str(exc), "error")
            return
        for t in view.tours:
            table.add_row(cell(t.ref), cell(len(t.orders), right=True), cell(t.n_lines, right=True),
                          cell(f"{t.length:.1f}", right=True), cell(" → ".join(s.location for s in t.stops)),
                          key=t.ref)

    def action_cursor(self, step: int) -> None:
        table = self.query_one("#wv-waves", DataTable)
        (table.action_cursor_down if step > 0 else table.action_cursor_up)()
        self._release_armed = None
        self.show_tours()

    def action_plan(self) -> None:
        self._release_armed = None
        try:
            res = waves.plan(self.ctx.db, self.ctx.actor)
        except WsmsError as exc:
            self.show_message(str(exc), "error")
            return
        self.show_message(res.message, "ok" if res.wave_id else "info")
        if res.wave_id:
            self.reload(select=res.wave_id)

    def action_release(self) -> None:
        wid = self.current_wave()
        if wid is None:
            self.show_message(_("no wave to release"), "error")
            return
        if self._release_armed != wid:
            self._release_armed = wid
            key = self.ctx.key_display.get("waves.release") or key_label("ctrl+l")
            self.show_message(_("{key} again releases {w}: its orders go to picking").format(
                key=key, w=waves.wave_ref(wid)))
            return
        self._release_armed = None
        try:
            res = waves.release(self.ctx.db, self.ctx.actor, wid)
        except WsmsError as exc:
            self.show_message(str(exc), "error")
            return
        self.show_message(res.message, "ok")
        self.reload(select=wid)

    def action_close(self) -> None:
        self.dismiss(None)

    def handle_scan(self, value: str, raw: str) -> None:
        try:
            wid = waves.parse_wave_id(value)
        except WsmsError as exc:
            self.show_message(str(exc), "error")
            return
        self.reload(select=wid)
        if self.current_wave() != wid:
            self.show_message(_("no wave {w}").format(w=waves.wave_ref(wid)), "error")

    def help_rows(self) -> list[tuple[str, str]]:
        return [(self.ctx.key_display.get(k.id) or key_label(k.key), k.description)
                for k in desk_keys("waves") if k.id in SCREEN_KEYS]
