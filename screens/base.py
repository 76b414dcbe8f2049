"""What every desk screen shares: the session context, the title line, the scan field, the status bar.

A desk screen composes ``title line / scan row / body / status bar``; the scan field is focused
by default so a scan is accepted at any time. A scan on a desk that does not handle scans itself
opens the Stock desk with that code (``OpenDesk("stock", code)``), so scanning anything anywhere
shows what it is.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Label, Static
from textual.worker import Worker, WorkerState

from wsms_tui.config import Settings
from wsms_tui.database import Database
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import KeySpec, desk_titles
from wsms_tui.screens.messages import OpenDesk
from wsms_tui.screens.widgets.cells import show_text
from wsms_tui.screens.widgets.scan_input import ScanInput
from wsms_tui.screens.widgets.status_bar import StatusBar, StatusInfo
from wsms_tui.security import Actor
from wsms_tui.stock import PAGE

#: keys that move a desk's table cursor from the scan field (the screen's ``action_cursor``)
CURSOR_KEYS = (("down", "down"), ("up", "up"), ("pagedown", "page_down"), ("pageup", "page_up"))


def key_bindings(specs: Iterable[KeySpec], *, cursor: Iterable[str] = ("down", "up", "pagedown", "pageup"),
                 ) -> list[BindingType]:
    """Bindings (with their ids, so the config can remap them) for ``specs``, plus cursor keys."""
    wanted = set(cursor)
    keys: list[BindingType] = [Binding(k.key, k.action, k.description, id=k.id, show=False) for k in specs]
    keys += [Binding(key, f"cursor('{where}')", show=False) for key, where in CURSOR_KEYS if key in wanted]
    return keys


@dataclass(frozen=True)
class DeskContext:
    """The logged-in session every desk screen works with (plain data, no widgets)."""

    db: Database
    settings: Settings
    actor: Actor
    status: StatusInfo
    page_size: int = PAGE
    gs_substitutes: tuple[str, ...] = ()
    #: binding id -> the key(s) as shown to the user, after the keymap from the settings
    key_display: dict[str, str] = field(default_factory=dict)


def scan_interkey_ms(settings: Settings, *, headless: bool) -> float:
    """The scan field's inter-key timing (0 = off) from ``[scanner] timing``: "auto" uses it only at a
    local terminal — not over SSH (``SSH_CONNECTION``/``SSH_TTY`` set), where network jitter breaks
    timing, and not in a headless app."""
    scanner = settings.scanner
    mode = getattr(scanner, "timing", "auto")
    if mode == "off" or scanner.max_interkey_ms <= 0:
        return 0
    if mode == "on":
        return scanner.max_interkey_ms
    over_ssh = bool(os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"))
    return 0 if over_ssh or headless else scanner.max_interkey_ms


def make_scan_input(settings: Settings, gs_substitutes: Iterable[str] = (), *,
                    placeholder: str = "") -> ScanInput:
    """A ScanInput framed by the configured scanner prefix/suffix."""
    return ScanInput(placeholder=placeholder or _("type or scan a SKU, GTIN, lot or location"),
                     prefix=settings.scanner.prefix, suffix=settings.scanner.suffix,
                     gs_substitutes=gs_substitutes, id="scan")


def desk_label(screen: DeskScreen) -> str:
    """The desk's name as the menu shows it (Receiving, Packing …)."""
    return desk_titles().get(screen.desk_name, screen.desk_name)


class DeskScreen(Screen[None]):
    """Base of the desk screens: subclasses set ``desk_name`` and compose their body."""

    AUTO_FOCUS = "ScanInput"
    DEFAULT_CSS = """
    DeskScreen > #desk-title {
        height: 1;
        width: 1fr;
        padding: 0 1;
        background: $primary;
        color: $text;
        text-style: bold;
    }
    DeskScreen > #scan-row {
        height: 1;
        width: 1fr;
        margin: 1 0 0 0;
    }
    DeskScreen > #scan-row > Label {
        width: auto;
        padding: 0 1;
        text-style: bold;
    }
    """

    desk_name: str = ""

    def __init__(self, ctx: DeskContext) -> None:
        super().__init__()
        self.ctx = ctx

    def desk_title(self) -> str:
        return _("wsms · {desk}").format(desk=self.desk_name)

    def compose(self) -> ComposeResult:
        yield Static(self.desk_title(), id="desk-title")
        with Horizontal(id="scan-row"):
            yield Label(_("Scan ›"))
            yield make_scan_input(self.ctx.settings, self.ctx.gs_substitutes)
        yield from self.compose_body()
        yield StatusBar(self.ctx.status)

    def compose_body(self) -> Iterable[Widget]:
        return ()

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    def say(self, message: str, *, error: bool = False) -> None:
        """Show ``message`` on this screen's status line (red when ``error``)."""
        self.status_bar.show(message, error=error)

    @on(events.Mount)
    def _scan_timing(self) -> None:
        """Every scan field of the desk frames scans by inter-key timing as configured."""
        interkey = scan_interkey_ms(self.ctx.settings, headless=self.app.is_headless)
        for scan_input in self.query(ScanInput):
            scan_input.interkey_ms = interkey

    @on(ScanInput.Scanned)
    def _scanned(self, message: ScanInput.Scanned) -> None:
        message.stop()
        self.handle_scan(message.value, message.raw)

    def handle_scan(self, value: str, raw: str) -> None:
        """Default for desks without their own scan flow: show the code on the Stock desk."""
        self.post_message(OpenDesk("stock", value))

    def unsaved(self) -> str:
        """What logging out or quitting would drop on this desk (scans held in memory, not posted yet), for a
        person; "" when nothing. Desks whose scans wait for a later step say so. (A step running in a thread, a
        carrier booking, is not dropped: it ends written whole.)"""
        return ""


class FlowDeskScreen(DeskScreen):
    """A desk whose work is a scan flow (a plain state machine in ``wsms_tui``): every scan or key
    calls the flow once through ``run_flow`` and the returned view is rendered; nothing the flow
    raises reaches the screen. Subclasses set ``flow``, ``message_line_id`` and ``failure_text`` and
    write ``render_view``.

    A flow call that may block for long (a carrier's web API, a device) goes through
    ``run_flow_in_thread`` instead: it runs in a thread worker while the screen keeps drawing and
    answering keys; every scan and flow key that arrives meanwhile waits (``wait_for_flow``) and is run,
    in arrival order, after the blocking call's view is drawn — one flow call at a time, none lost."""

    #: ids of the Statics that show the flow's prompt and its message (red for errors, green for ok)
    prompt_line_id: str = ""
    message_line_id: str = ""
    #: the message for an unexpected failure; ``{e}`` is the error
    failure_text: str = "the desk failed: {e}"
    flow: Any

    def render_view(self, view: Any) -> None:
        raise NotImplementedError

    def error_view(self, message: str) -> Any:
        """The flow's current view with ``message`` as a refusal (bell, red)."""
        return replace(self.flow.view, message=message, level="error", bell=True)

    def flow_view(self, step: Callable[[], Any]) -> Any:
        """Run one flow call; its view, or the refusal view of what it raised (never raises)."""
        try:
            return step()
        except WsmsError as exc:
            return self.error_view(str(exc))
        except Exception as exc:  # noqa: BLE001 - a desk shows the failure and keeps running
            return self.error_view(self.failure_text.format(e=exc))

    def run_flow(self, step: Callable[[], Any]) -> None:
        """Run one flow call and render its view."""
        self.render_view(self.flow_view(step))

    def handle_scan(self, value: str, raw: str) -> None:
        if self.wait_for_flow(partial(self.handle_scan, value, raw)):
            return
        self.run_flow(lambda: self.flow.feed(value, raw))

    # -- a flow call in a thread, and what arrives meanwhile ----------------------------------

    _flow_worker: Worker[Any] | None = None
    _flow_waiting: deque[Callable[[], None]] | None = None
    _flow_done_to: Callable[[Any], None]  # where the running flow call's result goes (``run_flow_in_thread``)

    @property
    def flow_busy(self) -> bool:
        """A flow call is running in a thread (``run_flow_in_thread``)."""
        return self._flow_worker is not None

    def wait_for_flow(self, then: Callable[[], None]) -> bool:
        """While a flow call runs in a thread, keep ``then`` (a scan or a key's action) to run after it, in
        arrival order; True when kept. Call it first thing in every handler that reaches the flow."""
        if self._flow_worker is None:
            return False
        if self._flow_waiting is None:
            self._flow_waiting = deque()
        self._flow_waiting.append(then)
        return True

    def run_flow_in_thread(self, step: Callable[[], Any], *, name: str = "flow",
                           done: Callable[[Any], None] | None = None) -> None:
        """Run one flow call that blocks in a thread worker; what it returns goes to ``done`` (default
        ``flow_done``: render the view) on the UI thread, then the scans and keys that waited run in order. A
        failure is rendered as a refusal either way. Not ``exclusive``: that would cancel a running step and
        drop its view while its thread goes on; the queue keeps one step at a time instead."""
        assert self._flow_worker is None, "one flow call at a time"
        self._flow_done_to = done or self.flow_done
        self._flow_worker = self.run_worker(partial(self.flow_view, step), name=name, group="flow-step",
                                            thread=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._flow_worker or not event.worker.is_finished:
            return
        event.stop()
        self._flow_worker = None
        if event.state == WorkerState.CANCELLED:  # the app is closing: the thread finishes on its own
            return
        if event.state == WorkerState.SUCCESS:
            self._flow_done_to(event.worker.result)
        else:
            self.flow_done(self.error_view(self.failure_text.format(e=event.worker.error)))
        self._run_waiting()

    def flow_done(self, view: Any) -> None:
        """Render the view of a flow call that ran in a thread (a desk may add what follows a step)."""
        self.render_view(view)

    def _run_waiting(self) -> None:
        """The scans and keys that waited, oldest first, until one of them starts another thread."""
        waiting = self._flow_waiting
        while waiting and self._flow_worker is None:
            waiting.popleft()()

    def highlighted_key(self, table_id: str) -> str | None:
        """The row key under the cursor of table ``table_id`` (None when it is empty)."""
        table = self.query_one(f"#{table_id}", DataTable)
        if table.row_count == 0:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def show_step(self, view: Any) -> None:
        """The part of rendering every flow desk shares: keep the view, show its prompt and message,
        ring the bell for a refusal."""
        self.view = view
        prompt = self.query_one(f"#{self.prompt_line_id}", Static)
        show_text(prompt, Text(view.prompt, no_wrap=True, overflow="ellipsis"))
        self.show_message(view.message, view.level)
        if view.bell or view.level == "error":
            self.app.bell()

    def visible_table(self) -> DataTable[Any]:
        raise NotImplementedError

    def action_cursor(self, where: str) -> None:
        """Move the visible table's cursor (``down``, ``up``, ``page_down``, ``page_up``) from the scan field."""
        table = self.visible_table()
        actions = {"down": table.action_cursor_down, "up": table.action_cursor_up,
                   "page_down": table.action_page_down, "page_up": table.action_page_up}
        actions[where]()

    def show_message(self, message: str, level: str) -> None:
        line = self.query_one(f"#{self.message_line_id}", Static)
        show_text(line, Text(message, no_wrap=True, overflow="ellipsis"))
        line.set_class(level == "error", "error")
        line.set_class(level == "ok", "ok")
