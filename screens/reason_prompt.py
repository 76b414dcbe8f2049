"""A small modal that asks for a reason (a reprint, a cancel …): typed or scanned, Enter submits, Esc cancels.

The field is a ``ScanInput`` like every other field of wsms (a reason may be scanned from a reason-code
sheet). ``required`` refuses an answer shorter than three characters with a red line.
"""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from wsms_tui.i18n import _
from wsms_tui.screens.widgets.scan_input import ScanInput

MIN_REASON = 3


class ReasonInput(ScanInput):
    """The prompt's field: Enter on an empty field answers "" (ScanInput ignores an empty Enter)."""

    def on_key(self, event: events.Key) -> None:
        if event.key in ("enter", "ctrl+m") and not self.buffer:
            event.prevent_default()
            event.stop()
            self.post_message(self.Scanned(self, "", ""))
        # any other key: ScanInput.on_key (the base class handler) runs next


class ReasonPrompt(ModalScreen[str | None]):
    """Ask ``question``; dismiss with the answer (stripped) or None."""

    CSS_PATH = "reason_prompt.tcss"
    AUTO_FOCUS = "ScanInput"
    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, question: str, *, required: bool = True) -> None:
        super().__init__()
        self.question = question
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box"):
            yield Static(Text(self.question, style="bold"), id="reason-question")
            yield ReasonInput(placeholder=_("type the reason, then Enter") if self.required
                            else _("a note (optional), then Enter"), id="reason-input")
            yield Static("", id="reason-message")
            yield Static(_("Enter: done · Esc: cancel"), id="reason-hint")

    @on(ScanInput.Scanned)
    def answered(self, message: ScanInput.Scanned) -> None:
        message.stop()
        answer = message.value.strip()
        if self.required and len(answer) < MIN_REASON:
            self.app.bell()
            line = self.query_one("#reason-message", Static)
            line.update(_("a reason is required (at least {n} characters)").format(n=MIN_REASON))
            line.add_class("error")
            return
        self.dismiss(answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
