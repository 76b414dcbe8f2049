"""The login screen: user name and PIN; on a demo database, the demo users and their PINs."""

from __future__ import annotations

from rich.table import Table
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Label, Static

from wsms_tui.config import Settings
from wsms_tui.database import Database
from wsms_tui.errors import LoginFailed, WsmsError
from wsms_tui.i18n import _
from wsms_tui.screens.messages import LoggedIn
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

    def compose(self) -> ComposeResult:
        yield Static(_("wsms · log in"), id="login-title")
        with Vertical(id="login-form"):
            with Horizontal(classes="login-row"):
                yield Label(_("User"))
                yield Input(id="login-user", max_length=64, compact=True)
            with Horizontal(classes="login-row"):
                yield Label(_("PIN"))
                yield Input(id="login-pin", password=True, max_length=32, compact=True)
            yield Static("", id="login-error")
        if self.demo_logins:
            yield Static(self._demo_table(), id="login-demo")
        yield StatusBar(self.status)

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = False  # no blinking over SSH, and still snapshots

    def _demo_table(self) -> Table:
        table = Table(title=_("Demo database: log in as"), title_justify="left", box=None,
                      padding=(0, 2, 0, 0), header_style="bold")
        table.add_column(_("user"))
        table.add_column(_("role"))
        table.add_column(_("PIN"))
        for d in self.demo_logins:
            table.add_row(d.name, d.role, d.pin)
        return table

    @on(Input.Submitted, "#login-user")
    def user_entered(self) -> None:
        self.query_one("#login-pin", Input).focus()

    @on(Input.Submitted, "#login-pin")
    def pin_entered(self) -> None:
        self.try_login()

    def try_login(self) -> None:
        user = self.query_one("#login-user", Input)
        pin = self.query_one("#login-pin", Input)
        if not user.value.strip():
            self.show_error(_("type your user name"))
            user.focus()
            return
        try:
            actor = authenticate(self.db, user.value, pin.value, self.settings.terminal)
        except LoginFailed as exc:
            self.show_error(str(exc))
            pin.value = ""
            pin.focus()
            return
        except WsmsError as exc:
            self.show_error(str(exc))
            return
        self.show_error("")
        pin.value = ""
        self.post_message(LoggedIn(actor))

    def show_error(self, message: str) -> None:
        self.query_one("#login-error", Static).update(message)
