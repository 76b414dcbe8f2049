"""Help (F1): the keys as bound on this terminal right now, after any remap from the settings."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wsms_tui.i18n import _


class HelpScreen(ModalScreen[None]):
    """A modal list of (keys, what they do); Escape, F1 or Enter closes it."""

    CSS_PATH = "help.tcss"
    BINDINGS = [
        Binding("escape", "dismiss_help", show=False),
        Binding("enter", "dismiss_help", show=False),
    ]

    def __init__(self, keys: list[tuple[str, str]], close_keys: tuple[str, ...] = ("f1",)) -> None:
        super().__init__()
        self.keys = keys
        self.close_keys = close_keys

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(_("Keys"), id="help-title")
            with VerticalScroll(id="help-scroll"):  # a desk with many keys scrolls (↑ ↓) at 80×24
                yield Static(self.key_table(), id="help-keys")
            yield Static(_("Esc closes this help · ↑ ↓ scroll"), id="help-hint")

    def key_table(self) -> Table:
        table = Table(box=None, padding=(0, 2, 0, 0), show_header=False)
        table.add_column(no_wrap=True)
        table.add_column()
        for keys, what in self.keys:
            table.add_row(Text(keys, style="bold"), what)
        return table

    def on_key(self, event: events.Key) -> None:
        if event.key in self.close_keys:
            event.stop()
            self.dismiss(None)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
