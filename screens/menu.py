"""The desk menu: every desk with its key, shown after login."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from wsms_tui.i18n import _
from wsms_tui.keys import DESKS
from wsms_tui.screens.base import DeskScreen


class MenuScreen(DeskScreen):
    """Lists the desks and their keys; a scan here opens the Stock desk with that code."""

    CSS_PATH = "menu.tcss"
    desk_name = "menu"

    def desk_title(self) -> str:
        return _("wsms · desks")

    def compose_body(self) -> Iterable[Widget]:
        yield Static(self.desk_table(), id="menu-desks")
        yield Static(_("Press a desk's key, or scan a code to look it up on the Stock desk."), id="menu-hint")

    def desk_table(self) -> Table:
        table = Table(box=None, padding=(0, 2, 0, 0), show_header=True, header_style="bold")
        table.add_column(_("key"), no_wrap=True)
        table.add_column(_("desk"), no_wrap=True)
        table.add_column(_("what for"), overflow="ellipsis", no_wrap=True)
        keys = self.ctx.key_display
        table.add_row(Text(keys.get("help", "F1"), style="bold"), _("Help"), _("the keys on this terminal"))
        for desk in DESKS:
            what = desk.description if desk.built else _("not built yet")
            table.add_row(Text(keys.get(desk.binding_id, desk.key.upper()), style="bold"), desk.title,
                          Text(what, style="" if desk.built else "dim"))
        table.add_row(Text(keys.get("quit", "Ctrl+Q"), style="bold"), _("Quit"), "")
        return table
