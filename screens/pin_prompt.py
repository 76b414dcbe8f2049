"""A modal that asks for a new PIN twice, masked: Enter on the first field goes to the second, Enter there
answers; Esc cancels. A PIN of the wrong shape or two PINs that differ get a red line and the bell, and the
prompt stays open. The PIN is typed by hand, so Textual's ``Input`` (password mode) is the field here, not
the scan field."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from wsms_tui.errors import BadInput
from wsms_tui.i18n import _
from wsms_tui.users import check_pin_shape


class PinPrompt(ModalScreen[str | None]):
    """Ask ``question``; dismiss with the PIN (typed twice the same) or None."""

    CSS_PATH = "pin_prompt.tcss"
    AUTO_FOCUS = "#pin-1"
    BINDINGS = [Binding("escape", "cancel", show=False)]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="pin-box"):
            yield Static(Text(self.question, style="bold"), id="pin-question")
            yield Input(password=True, placeholder=_("new PIN (4 to 32 characters)"), id="pin-1")
            yield Input(password=True, placeholder=_("the same PIN again"), id="pin-2")
            yield Static("", id="pin-message")
            yield Static(_("Enter: next / done · Esc: cancel"), id="pin-hint")

    def refuse(self, message: str) -> None:
        self.app.bell()
        line = self.query_one("#pin-message", Static)
        line.update(message)
        line.add_class("error")

    @on(Input.Submitted, "#pin-1")
    def first(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            check_pin_shape(event.value)
        except BadInput as exc:
            self.refuse(str(exc))
            return
        self.query_one("#pin-2", Input).focus()

    @on(Input.Submitted, "#pin-2")
    def second(self, event: Input.Submitted) -> None:
        event.stop()
        pin = self.query_one("#pin-1", Input).value
        try:
            check_pin_shape(pin)
        except BadInput as exc:
            self.refuse(str(exc))
            self.query_one("#pin-1", Input).focus()
            return
        if event.value != pin:
            self.refuse(_("the two PINs differ: type them again"))
            self.query_one("#pin-1", Input).value = ""
            event.input.value = ""
            self.query_one("#pin-1", Input).focus()
            return
        self.dismiss(pin)

    def action_cancel(self) -> None:
        self.dismiss(None)
