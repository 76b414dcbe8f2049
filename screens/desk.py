"""A placeholder for desks that are not built yet: says so plainly, keeps the scan field and status bar."""

from __future__ import annotations

from collections.abc import Iterable

from textual.widget import Widget
from textual.widgets import Static

from wsms_tui.i18n import _
from wsms_tui.keys import Desk
from wsms_tui.screens.base import DeskContext, DeskScreen


class PlaceholderDeskScreen(DeskScreen):
    """Stands in for ``desk`` until it is built; a scan here opens the Stock desk with that code."""

    CSS_PATH = "desk.tcss"

    def __init__(self, ctx: DeskContext, desk: Desk) -> None:
        super().__init__(ctx)
        self.desk = desk
        self.desk_name = desk.name

    def desk_title(self) -> str:
        return _("wsms · {desk}").format(desk=self.desk.title)

    def compose_body(self) -> Iterable[Widget]:
        yield Static(_("The {desk} desk is not built yet.").format(desk=self.desk.title), id="desk-not-built")
        yield Static(_("Scan or type a code to look it up on the Stock desk ({key}).").format(
            key=self.ctx.key_display.get("desk.stock", "F2")), id="desk-hint")
