"""The count review (from the Stocktake desk, Ctrl+R): what a supervisor decides on.

Each line with a variance (or waiting for its recount, or flagged as never stocked there): location and
state, SKU/lot, expected at count time, counted, recount, variance and its value, who counted. The
header holds the count's accuracy (a sample's 95 % Wilson interval). Ctrl+A approves every counted
location (press twice; the adjustments are posted to the ledger), Ctrl+X rejects the highlighted one,
Esc goes back. The services check the role: a clerk never gets here, and an approval by anyone without
``count.approve`` is refused and audited by ``stocktake.approve`` itself.
"""

from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from wsms_tui import stocktake
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import desk_keys, key_label
from wsms_tui.screens.base import DeskContext, key_bindings
from wsms_tui.screens.widgets.cells import cell, qty_str
from wsms_tui.screens.widgets.status_bar import StatusBar

REVIEW_KEY_IDS = ("stocktake.approve", "stocktake.reject", "stocktake.review_close")
#: lines the review table holds (in walking order); the CLI lists them all
REVIEW_ROWS = 2000


def qty_cell(value: Decimal | None, *, signed: bool = False) -> Text:
    if value is None:
        return Text("", justify="right")
    text = qty_str(value)
    if signed and value > 0:
        text = "+" + text
    style = ("red" if value < 0 else "yellow" if value > 0 else "") if signed else ""
    return Text(text, justify="right", style=style, no_wrap=True)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def _bindings() -> list[BindingType]:
    return key_bindings([k for k in desk_keys("stocktake") if k.id in REVIEW_KEY_IDS], cursor=())


class CountReviewScreen(Screen[None]):
    """Review a count's variances; approve or reject them."""

    CSS_PATH = "stocktake_review.tcss"
    BINDINGS = _bindings()
    COLUMNS = ("location", "status", "item", "expected", "counted", "recount", "variance", "value")

    def __init__(self, ctx: DeskContext, ref: str) -> None:
        super().__init__()
        self.ctx = ctx
        self.ref = ref
        self._approve_armed = False

    def compose(self) -> ComposeResult:
        yield Static(_("wsms · Stocktake review · {ref}").format(ref=self.ref), id="rv-title")
        yield Static("", id="rv-header")
        yield Static("", id="rv-message")
        table: DataTable[Text] = DataTable(id="rv-lines", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(self._hint(), id="rv-hint")
        yield StatusBar(self.ctx.status)

    def _key(self, binding_id: str) -> str:
        spec = next(k for k in desk_keys("stocktake") if k.id == binding_id)
        return self.ctx.key_display.get(binding_id) or key_label(spec.key)

    def _hint(self) -> Text:
        return Text(_("{a} approve all counted (twice) · {x} reject location · {esc} back").format(
            a=self._key("stocktake.approve"), x=self._key("stocktake.reject"), esc=self._key("stocktake.review_close")),
            style="dim", no_wrap=True, overflow="ellipsis")

    def on_mount(self) -> None:
        headers = {"location": _("Location"), "status": _("State"), "item": _("SKU / lot"), "expected": _("Exp."),
                   "counted": _("Count"), "recount": _("Recnt"), "variance": _("Var."), "value": _("Value")}
        widths = {"location": 10, "status": 8, "item": 14}
        right = {"expected", "counted", "recount", "variance", "value"}
        table = self.query_one(DataTable)
        for key in self.COLUMNS:
            table.add_column(Text(headers[key], justify="right" if key in right else "left"), key=key,
                             width=widths.get(key))
        self.load()

    def load(self) -> None:
        """(Re)load the count's summary, accuracy and review lines from the services."""
        try:
            summary = stocktake.count_summary(self.ctx.db, self.ctx.actor, self.ref)
            acc = stocktake.accuracy(self.ctx.db, self.ctx.actor, self.ref)
            lines = stocktake.review(self.ctx.db, self.ctx.actor, self.ref, limit=REVIEW_ROWS + 1)
        except WsmsError as exc:
            self.say(str(exc), "error")
            return
        done = summary.counted + summary.approved + summary.rejected
        parts = [summary.kind, summary.scope, summary.status,
                 _("{d}/{n} counted, {r} to recount").format(d=done, n=summary.locations, r=summary.recount)]
        header = Text(" · ".join(p for p in parts if p), style="bold", no_wrap=True, overflow="ellipsis")
        header.append("\n")
        accuracy = _("accuracy {a} of {n} locations, value {v}").format(
            a=pct(acc.location_accuracy), n=acc.locations_counted, v=pct(acc.value_accuracy))
        if acc.ci_low is not None and acc.ci_high is not None:
            accuracy += "  " + _("(95 % CI {lo}–{hi}, Wilson)").format(lo=pct(acc.ci_low), hi=pct(acc.ci_high))
        header.append(accuracy)
        self.query_one("#rv-header", Static).update(header)
        more = len(lines) > REVIEW_ROWS
        lines = lines[:REVIEW_ROWS]
        table = self.query_one(DataTable)
        table.clear()
        for i, ln in enumerate(lines):
            item = f"{ln.sku}/{ln.lot}" if ln.lot else ln.sku
            if ln.unexpected:
                item += " ⚑"
            table.add_row(cell(ln.location), cell(ln.status), cell(item), qty_cell(ln.recount_expected or ln.expected),
                          qty_cell(ln.counted), qty_cell(ln.recount), qty_cell(ln.variance, signed=True),
                          qty_cell(ln.value, signed=True), key=f"{ln.location}\t{i}")
        if not lines:
            self.say(_("no variances to review in {ref}").format(ref=self.ref), "info")
        elif more:
            self.say(_("the first {n:,} lines are shown; `wsms count review {ref}` lists them all (approving "
                       "approves every counted location)").format(n=REVIEW_ROWS, ref=self.ref), "info")

    def say(self, message: str, level: str) -> None:
        line = self.query_one("#rv-message", Static)
        line.update(Text(message, no_wrap=True, overflow="ellipsis"))
        line.set_class(level == "error", "error")
        line.set_class(level == "ok", "ok")
        if level == "error":
            self.app.bell()

    def action_approve(self) -> None:
        if not self._approve_armed:
            self._approve_armed = True
            self.say(_("{key} again approves every counted location of {ref} and posts the adjustments").format(
                key=self._key("stocktake.approve"), ref=self.ref), "info")
            return
        self._approve_armed = False
        try:
            d = stocktake.approve(self.ctx.db, self.ctx.actor, self.ref)
        except WsmsError as exc:
            self.say(str(exc), "error")
            return
        self.load()
        msg = _("approved {n} location(s), {e} adjustment(s) posted").format(n=d.locations, e=d.entries)
        if d.held:
            msg += " · " + _("held: {h}").format(h="; ".join(d.held))
        if d.closed:
            msg += " · " + _("count closed")
        self.say(msg, "error" if d.held else "ok")

    def action_reject(self) -> None:
        self._approve_armed = False
        table = self.query_one(DataTable)
        if table.row_count == 0:
            self.app.bell()
            return
        location = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value).split("\t")[0]
        try:
            stocktake.reject(self.ctx.db, self.ctx.actor, self.ref, locations=[location],
                             reason=_("rejected on the review screen"))
        except WsmsError as exc:
            self.say(str(exc), "error")
            return
        self.load()
        self.say(_("{loc} rejected: nothing posted").format(loc=location), "ok")

    def action_close_review(self) -> None:
        self.dismiss(None)
