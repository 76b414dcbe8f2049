"""The login screen: user name and PIN; on a demo database, the demo users and their PINs.

Both fields are ScanInputs (the PIN masked), and the screen, not the focus, decides what a
finished entry is: the first entry is the user, the next the PIN. So ``clerk1⏎1234⏎`` typed or
sent in one burst (a badge scanner, a password manager, a fast typist over SSH) logs in even
when the keys arrive before the focus moved (Textual's stock ``Input`` would glue them together).
"""

from __future__ import annotations

from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Label, Static

from wsms_tui.config import Settings
from wsms_tui.database import Database
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.screens.messages import LoggedIn
from wsms_tui.screens.widgets.scan_input import ScanInput
from wsms_tui.screens.widgets.status_bar import StatusBar, StatusInfo
from wsms_tui.users import DemoLogin, authenticate


class LoginScreen(Screen[None]):
    """Ask for user and PIN; post ``LoggedIn`` on success, show the refusal in red otherwise."""

    CSS_PATH = "login.tcss"
    AUTO_FOCUS = "#login-user"

    def __init__(self, db: Database, settings: Settings, status: StatusInfo,
                 demo_logins: list[DemoLogin] | None = None) -> None:
        super().__init__()
        self.db = db
        self.settings = settings
        self.status = status
        self.demo_logins = demo_logins or []
        self.user_name: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(_("wsms · log in"), id="login-title")
        with Vertical(id="login-form"):
            with Horizontal(classes="login-row"):
                yield Label(_("User"))
                yield ScanInput(id="login-user", placeholder=_("your user name, then Enter"))
            with Horizontal(classes="login-row"):
                yield Label(_("PIN"))
                yield ScanInput(id="login-pin", mask="•")
            yield Static("", id="login-error")
        if self.demo_logins:
            yield Static(_("Demo database: log in as"), id="login-demo-title")
            yield Static(self._demo_table(), id="login-demo")
        yield StatusBar(self.status)

    def _demo_table(self) -> Table:
        table = Table(box=None, padding=(0, 2, 0, 0), header_style="bold")
        table.add_column(_("user"))
        table.add_column(_("role"))
        table.add_column(_("PIN"))
        for d in self.demo_logins:
            table.add_row(d.name, d.role, d.pin)
        return table

    @on(ScanInput.Scanned)
    def entered(self, message: ScanInput.Scanned) -> None:
        """First entry: the user name; next: the PIN (whichever field the keys landed in)."""
        message.stop()
        if self.user_name is None:
            self.user_name = message.value.strip()
            user_field = self.query_one("#login-user", ScanInput)
            pin_field = self.query_one("#login-pin", ScanInput)
            # keys typed fast may already sit in the user field (focus moves later): they are the PIN's
            pin_field.buffer = user_field.buffer + pin_field.buffer
            # show the name without keeping it in the buffer: an Enter that still lands in the user
            # field must finish the PIN, not send the name again
            user_field.buffer = ""
            user_field.placeholder = self.user_name
            pin_field.focus()
        else:
            self.try_login(message.value)

    def try_login(self, pin: str) -> None:
        user_field = self.query_one("#login-user", ScanInput)
        name, self.user_name = self.user_name or "", None
        user_field.clear()
        user_field.placeholder = _("your user name, then Enter")
        self.query_one("#login-pin", ScanInput).clear()
        user_field.focus()
        if not name:
            self.show_error(_("type your user name"))
            return
        try:
            actor = authenticate(self.db, name, pin, self.settings.terminal)
        except WsmsError as exc:  # LoginFailed and any other refusal: say it, stay here
            self.show_error(str(exc))
            return
        self.show_error("")
        self.post_message(LoggedIn(actor))

    def show_error(self, message: str) -> None:
        self.query_one("#login-error", Static).update(message)
