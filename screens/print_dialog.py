"""The print dialog: a label's text preview and the target printer; Enter (or F12) queues it, Esc does not.

Any desk opens it with a ``PrintRequest`` (a ready ``labels.Label``, the printer, an idempotency key
fixed when the request was made). Confirming calls ``printing.queue_label`` once; a second Enter, a
replayed confirm or a second dialog for the same request returns the job already queued, never a
second label. The dialog dismisses with the ``JobInfo`` (or None when cancelled) and posts
``LabelQueued`` so the App wakes its print worker.

A scan arriving while the dialog is open (printable keys, then the scanner's Enter) is not used: the
bell rings, a red line says so, and the Enter that ends the scan does *not* confirm the print.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from wsms_tui import printing
from wsms_tui.database import Database
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import key_label, print_keys
from wsms_tui.labels import Label
from wsms_tui.screens.messages import LabelQueued
from wsms_tui.security import Actor

CONFIRM_KEYS = frozenset({"enter", "ctrl+m"})


@dataclass(frozen=True)
class PrintRequest:
    """What to print where: ``title`` for a person, the label, the printer (name or URL; "" = none)."""

    title: str
    label: Label
    printer: str
    idempotency_key: str


def _bindings() -> list[BindingType]:
    specs = {k.id: k for k in print_keys()}
    return [Binding(specs[i].key, specs[i].action, specs[i].description, id=i, show=False)
            for i in ("print.confirm", "print.cancel")]


class PrintDialog(ModalScreen["printing.JobInfo | None"]):
    """Preview a label, then queue it on the printer (or not)."""

    CSS_PATH = "print_dialog.tcss"
    BINDINGS = _bindings()

    def __init__(self, db: Database, actor: Actor, request: PrintRequest,
                 key_display: dict[str, str] | None = None) -> None:
        super().__init__()
        self.db = db
        self.actor = actor
        self.request = request
        self.key_display = key_display or {}
        self.job: printing.JobInfo | None = None
        self._typed = False  # printable keys arrived: the next Enter ends a scan, it does not confirm

    def compose(self) -> ComposeResult:
        r = self.request
        confirm = self.key_display.get("print.confirm") or key_label("f12")
        cancel = self.key_display.get("print.cancel") or key_label("escape")
        with Vertical(id="print-box"):
            yield Static(Text(r.title, style="bold", no_wrap=True, overflow="ellipsis"), id="print-title")
            printer = r.printer or _("none configured (set `printer` in config.toml)")
            yield Static(Text(_("Printer: {p}").format(p=printer) + ("  · " + _("serialized: never reprinted "
                                                                            "without a person")
                                                                   if r.label.serialized else ""),
                              no_wrap=True, overflow="ellipsis"), id="print-printer")
            with VerticalScroll(id="print-preview"):
                yield Static(Text(r.label.preview()), id="print-preview-text")
            yield Static("", id="print-message")
            yield Static(Text(_("Enter/{confirm}: print · {cancel}: cancel").format(confirm=confirm, cancel=cancel),
                              no_wrap=True, overflow="ellipsis"), id="print-hint")

    def on_mount(self) -> None:
        self.query_one("#print-preview").border_title = _("Preview")

    def say(self, message: str, *, error: bool = False) -> None:
        line = self.query_one("#print-message", Static)
        line.update(Text(message, no_wrap=True, overflow="ellipsis"))
        line.set_class(error, "error")

    def on_key(self, event: events.Key) -> None:
        """Enter confirms; printable keys (a scan) are refused, and the Enter that ends them is eaten."""
        if event.key in CONFIRM_KEYS:
            event.stop()
            event.prevent_default()
            if self._typed:
                self._typed = False
                return
            self.action_confirm()
            return
        if event.is_printable:
            event.stop()
            event.prevent_default()
            if not self._typed:
                self.app.bell()
                self.say(_("a scan is not used while the print dialog is open: Enter prints, Esc cancels"),
                         error=True)
            self._typed = True

    def action_confirm(self) -> None:
        """Queue the label (once: the idempotency key makes a repeat return the same job)."""
        if self.job is not None:
            return
        r = self.request
        if not r.printer:
            self.app.bell()
            self.say(_("no printer for this desk: set `printer` in config.toml"), error=True)
            return
        try:
            self.job = printing.queue_label(self.db, self.actor, printer=r.printer, label=r.label,
                                            idempotency_key=r.idempotency_key)
        except WsmsError as exc:
            self.app.bell()
            self.say(str(exc), error=True)
            return
        except Exception as exc:  # noqa: BLE001 - a dialog shows the failure and stays open
            self.app.bell()
            self.say(_("printing failed: {e}").format(e=exc), error=True)
            return
        self.app.post_message(LabelQueued(self.job))
        self.dismiss(self.job)

    def action_cancel(self) -> None:
        self.dismiss(None)
