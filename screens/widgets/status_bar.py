"""The status bar at the bottom of every desk: a message line and who/where/which devices.

The printer part follows the App's ``printer_state`` (``PrinterState``: text and whether it is a fault)
when the App has one: every bar on every screen shows the same printer state, updated as the print
worker reports it. A fault (paper out, head open, paused, offline) is shown in red at the *front* of
the line, so it is never cut off on a narrow terminal.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from wsms_tui.i18n import _
from wsms_tui.screens.widgets.cells import show_text


@dataclass(frozen=True)
class StatusInfo:
    """What the bar shows besides the message; plain strings, prepared by the App."""

    user: str = "—"
    role: str = "—"
    warehouse: str = "—"
    database: str = "—"
    scanner: str = "keyboard"
    printer: str = "none"


@dataclass(frozen=True)
class ExceptionNoticeText:
    """The supervisors' notice (``3 open exception(s)``; "" = none), shown in yellow at the front of the bar."""

    text: str


@dataclass(frozen=True)
class PrinterState:
    """The printer part of the bar: ``text`` (e.g. ``dock1 paper out``), ``fault`` shows it in red."""

    text: str
    fault: bool = False


class StatusBar(Widget):
    """Two lines docked at the bottom: the message (red for errors), then user, role, warehouse, db, devices."""

    DEFAULT_CSS = """
    StatusBar {
        dock: bottom;
        height: 2;
        width: 1fr;
    }
    StatusBar > #status-message {
        height: 1;
        width: 1fr;
        padding: 0 1;
    }
    StatusBar > #status-message.error {
        color: $text-error;
        background: $error-muted;
        text-style: bold;
    }
    StatusBar > #status-info {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    message: reactive[str] = reactive("")
    error: reactive[bool] = reactive(False)

    def __init__(self, info: StatusInfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.info = info
        self.printer: PrinterState | None = None  # None: ``info.printer`` as given
        self.alerts = ""  # products at or below their reorder point, from the App's ``reorder_alerts``
        self.notice = ""  # open exception tickets (supervisors), from the App's ``exception_notice``

    def compose(self) -> ComposeResult:
        yield Static(id="status-message")
        yield Static(self._info_text(), id="status-info")

    def _info_text(self) -> Text:
        i = self.info
        printer = self.printer or PrinterState(i.printer)
        parts = [
            f"{i.user} ({i.role})",
            i.warehouse,
            i.database,
            _("scanner: {state}").format(state=i.scanner),
        ]
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.alerts:
            text.append(self.alerts, style="bold yellow")
            text.append(" │ ")
        if self.notice:
            text.append(f"⚠ {self.notice}", style="bold yellow")
            text.append(" │ ")
        if printer.fault:
            text.append(_("printer: {state}").format(state=printer.text), style="bold red")
            text.append(" │ " + " │ ".join(parts))
        else:
            text.append(" │ ".join([*parts, _("printer: {state}").format(state=printer.text)]))
        return text

    def set_printer(self, state: PrinterState | None) -> None:
        """Show ``state`` as the printer part (None: back to ``info.printer``)."""
        if state == self.printer:
            return
        self.printer = state
        if self.is_mounted:
            show_text(self.query_one("#status-info", Static), self._info_text())

    def set_notice(self, notice: ExceptionNoticeText | None) -> None:
        """Show the open-exceptions notice (an empty text hides it)."""
        text = notice.text if notice is not None else ""
        if text == self.notice:
            return
        self.notice = text
        for info in self.query("#status-info").results(Static):  # composed (also during on_mount)
            show_text(info, self._info_text())

    def set_alerts(self, count: int | None) -> None:
        """Show the reorder alert (``reorder: 12``); None or 0 hides it."""
        text = _("reorder: {n}").format(n=count) if count else ""
        if text == self.alerts:
            return
        self.alerts = text
        if self.is_mounted:
            show_text(self.query_one("#status-info", Static), self._info_text())

    def printer_text(self) -> str:
        """The printer part as shown now (for tests and screen readers)."""
        return (self.printer or PrinterState(self.info.printer)).text

    def show(self, message: str, *, error: bool = False) -> None:
        """Put ``message`` on the message line (red when ``error``)."""
        self.message = message
        self.error = error

    def watch_message(self) -> None:
        self._refresh_message()

    def watch_error(self) -> None:
        self._refresh_message()

    def _refresh_message(self) -> None:
        if not self.is_mounted:
            return
        line = self.query_one("#status-message", Static)
        show_text(line, Text(self.message, no_wrap=True, overflow="ellipsis"))
        line.set_class(self.error, "error")

    def on_mount(self) -> None:
        self._refresh_message()
        if hasattr(type(self.app), "printer_state"):  # the WsmsApp (a test app may have none)
            self.watch(self.app, "printer_state", self.set_printer, init=True)
        if hasattr(type(self.app), "reorder_alerts"):
            self.watch(self.app, "reorder_alerts", self.set_alerts, init=True)
        if hasattr(type(self.app), "exception_notice"):
            self.watch(self.app, "exception_notice", self.set_notice, init=True)
