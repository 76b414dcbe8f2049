"""The Textual App: login, then the desks on function keys (one Textual mode per desk).

``run_app`` is what ``wsms run [--desk NAME]`` calls; it is the only place Textual is loaded
(services never import this module). The app is deterministic for snapshots: the theme comes
from ``Settings.theme`` (``TEXTUAL_THEME`` is ignored), no clock is shown, and no cursor blinks.

Screens: LoginScreen (pushed on the default mode) -> on ``LoggedIn`` one mode per desk is added
(``menu``, ``stock``, and a placeholder for each desk not built yet) and the app switches to the
desk menu or to the ``desk`` given. Function keys are app bindings with stable ids
(``wsms_tui.keys``), remapped from ``Settings.keys`` with ``App.set_keymap``. A scan on a desk
without its own scan flow opens the Stock desk with that code.

An optional serial scanner (``Settings.scanner.url``) is read by a ``SerialScanner`` thread; each scan
is posted to the App (``WsmsApp.ScannerScan``) and handed, on the UI thread and in arrival order, to
the desk on screen (``DeskScreen.handle_scan``), exactly like a scan typed into its scan field. A wedge
scanner attached to this machine (``Settings.scanner.evdev``, Linux, the ``evdev`` extra) is grabbed and read
by an ``EvdevScanner`` thread the same way; when it cannot be used the desk says why and keeps working.

Printing: with ``Settings.printer`` set and ``spool_in_desk`` on, a ``printing.SpoolRunner`` (one
``PrinterWorker`` thread) prints this desk's spooled labels from login until exit. Its status reaches
the UI thread as one pending ``PrinterStatusChanged`` message at a time (the newest status wins, so a
flood of reports costs one repaint) and is shown on every screen's status bar (``printer_state``).
``LabelQueued`` (posted by the print dialog and the print queue) wakes the worker. F11 opens the print
queue (``screens/print_queue.py``) over the current desk.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any, cast

from sqlalchemy.engine import make_url
from textual import events, on
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer

from wsms_tui import printing, users
from wsms_tui.barcodes import desk_value
from wsms_tui.config import Settings
from wsms_tui.database import Database
from wsms_tui.devices.scan import Scan
from wsms_tui.devices.serial_scanner import CutScan, ScannerState, ScannerStatus, SerialScanner
from wsms_tui.devices.spool import WorkerStatus
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import DESKS, KeySpec, all_desk_keys, desk_by_name, desk_keys, desk_titles, key_label, keys
from wsms_tui.screens.base import DeskContext, DeskScreen
from wsms_tui.screens.desk import PlaceholderDeskScreen
from wsms_tui.screens.help import HelpScreen
from wsms_tui.screens.login import LoginScreen
from wsms_tui.screens.menu import MenuScreen
from wsms_tui.screens.messages import LabelQueued, LoggedIn, OpenDesk
from wsms_tui.screens.print_queue import PrintQueueScreen
from wsms_tui.screens.stock import StockScreen
from wsms_tui.screens.widgets.scan_input import too_long_text
from wsms_tui.screens.widgets.status_bar import ExceptionNoticeText, PrinterState, StatusInfo
from wsms_tui.security import Actor
from wsms_tui.stock import PAGE
from wsms_tui.users import DemoLogin

#: desk -> (module in screens/, screen class): imported when the desk is first opened
DESK_SCREENS: dict[str, tuple[str, str]] = {
    "receiving": ("receiving", "ReceivingScreen"),
    "stocktake": ("stocktake", "StocktakeScreen"),
    "waves": ("picking", "PickingScreen"),
    "orders": ("orders", "OrdersScreen"),
    "packing": ("packing", "PackingScreen"),
    "reports": ("reports", "ReportsScreen"),
    "admin": ("admin", "AdminScreen"),
}

DEFAULT_THEME = "textual-dark"


def short_db_label(url: str) -> str:
    """A short database name for the status bar, never with a password: ``sqlite:demo.db``, ``postgresql://host/db``."""
    try:
        u = make_url(url)
    except Exception:  # noqa: BLE001 - a label must never fail
        return "?"
    if u.get_backend_name() == "sqlite":
        return f"sqlite:{Path(u.database).name if u.database else ':memory:'}"
    host = u.host or "localhost"
    return f"{u.get_backend_name()}://{host}{':' + str(u.port) if u.port else ''}/{u.database or ''}"


def printer_label(name_or_url: str) -> str:
    """A printer as the status bar shows it: its name, or a URL without the scheme (``10.0.0.5:9100``)."""
    return name_or_url.split("://", 1)[1] if "://" in name_or_url else name_or_url


def make_bindings(specs: Iterable[KeySpec]) -> list[BindingType]:
    """Textual bindings for the key table; only ``quit`` (ctrl+q, not printable) has priority."""
    return [Binding(k.key, k.action, k.description, id=k.id, show=False, priority=k.id == "quit")
            for k in specs]


class DeskCommands(Provider):
    """Command palette: open any desk (after login)."""

    def _commands(self) -> list[tuple[str, str, str]]:
        app = self.app
        if not isinstance(app, WsmsApp) or app.actor is None:
            return []
        titles = desk_titles()
        rows = [("menu", _("Desk menu"), _("all desks and their keys"))]
        rows += [(d.name, _("Desk: {title}").format(title=titles[d.name]), d.description) for d in DESKS]
        return rows

    def _open(self, name: str) -> None:
        self.app.post_message(OpenDesk(name))

    async def discover(self) -> Hits:
        for name, title, text in self._commands():
            yield DiscoveryHit(title, partial(self._open, name), help=text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, title, text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._open, name), help=text)


#: the modes a login adds (the desk menu and one per desk) and a logout removes
DESK_MODES = ("menu", *(d.name for d in DESKS))


class WsmsApp(App[None]):
    """The wsms TUI: log in, then the desks on function keys."""

    TITLE = "wsms"
    BINDINGS = [*make_bindings(keys()), Binding("ctrl+c", "help_quit", show=False, system=True)]
    COMMANDS = App.COMMANDS | {DeskCommands}

    class ScannerScan(Message):
        """A scan from the serial scanner (posted from its reader thread)."""

        def __init__(self, scan: Scan) -> None:
            super().__init__()
            self.scan = scan

    class PrinterStatusChanged(Message):
        """The print worker reported a new status (posted from its thread; read the newest on the UI thread)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, WsmsApp.PrinterStatusChanged)

    #: the printer part of every status bar (None: ``StatusInfo.printer`` as composed)
    printer_state: reactive[PrinterState | None] = reactive(None)
    #: products at or below their saved reorder point (roles with report.view; None: no reorder run saved)
    reorder_alerts: reactive[int | None] = reactive(None)
    #: how often the reorder alert is counted (one query, in a thread), seconds
    reorder_poll_s: float = 60.0
    #: the open-exceptions notice on every status bar of a supervisor ("" = none)
    exception_notice: reactive[ExceptionNoticeText] = reactive(ExceptionNoticeText(""))
    #: how often a supervisor's status bar asks for open exception tickets (one indexed COUNT), seconds
    exception_poll_s: float = 30.0
    #: how often a session checks its account is still enabled, with the same role (one indexed read), seconds
    account_poll_s: float = 30.0

    class ScannerStatusChanged(Message):
        """The serial scanner connected, lost its device, or stopped (posted from its reader thread)."""

        def __init__(self, status: ScannerStatus) -> None:
            super().__init__()
            self.status = status

    class ScannerFailed(Message):
        """The evdev scanner stopped: its device could not be opened or went away (from its reader thread)."""

        def __init__(self, why: str) -> None:
            super().__init__()
            self.why = why

    class ScannerBack(Message):
        """The evdev scanner's device is there again (from its reader thread)."""

    def __init__(self, db: Database, settings: Settings, *, desk: str | None = None,
                 demo_logins: list[Any] | None = None, page_size: int = PAGE,
                 gs_substitutes: Iterable[str] | None = None, spool_options: dict[str, float] | None = None) -> None:
        super().__init__()
        self.db = db
        self.settings = settings
        self.start_desk = None if desk in (None, "") else ("menu" if desk == "menu" else desk_by_name(desk).name)
        self.page_size = page_size
        self.gs_substitutes = tuple(settings.scanner.gs_substitutes if gs_substitutes is None else gs_substitutes)
        self.demo = self._demo_logins(demo_logins)
        self.actor: Actor | None = None
        self.ctx: DeskContext | None = None
        self.keymap: dict[str, str] = {k: v for k, v in settings.keys.items() if v}
        self.theme = settings.theme if settings.theme in self.available_themes else DEFAULT_THEME
        self.scanner: SerialScanner | None = None  # when settings.scanner.url is set
        self.evdev_scanner: Any = None  # an EvdevScanner when settings.scanner.evdev is set and usable
        self.spool: printing.SpoolRunner | None = None  # when settings.printer is set and spool_in_desk
        self.spool_options = dict(spool_options or {})  # SpoolRunner timeouts (tests make them short)
        self._spool_lock = threading.Lock()
        self._spool_latest: WorkerStatus | None = None
        self._spool_pending = False
        self._session_timers: list[Timer] = []  # the polls and the idle check of the user logged in
        self._last_input = time.monotonic()  # the last key, click or scanner scan
        self._drop_armed: tuple[str, float] = ("", 0.0)  # (binding, when) F12 or Ctrl+Q last warned of scans

    def _demo_logins(self, given: list[Any] | None) -> list[DemoLogin]:
        if given is None:
            try:
                return users.demo_logins(self.db)
            except Exception:  # noqa: BLE001 - the hint is optional; the login must still work
                return []
        return [d if isinstance(d, DemoLogin) else DemoLogin(**d) for d in given]

    # -- start -------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_keymap(self.keymap)
        # pushed, not returned by get_default_screen: Textual loads a screen's CSS_PATH on push only
        self.push_screen(LoginScreen(self.db, self.settings, self.status_info(None), self.demo))
        self.start_scanner()

    def start_scanner(self) -> None:
        """Start reading the serial scanner and the evdev scanner named in the settings, if any."""
        self.start_evdev_scanner()
        url = self.settings.scanner.url
        if not url or self.scanner is not None:
            return
        self.scanner = SerialScanner(url, on_scan=lambda scan: self.post_message(self.ScannerScan(scan)),
                                     on_status=lambda status: self.post_message(self.ScannerStatusChanged(status)))
        self.scanner.start()

    def start_evdev_scanner(self) -> None:
        path = self.settings.scanner.evdev
        if not path or self.evdev_scanner is not None:
            return
        from wsms_tui.devices.evdev_scanner import EvdevScanner, EvdevUnavailable

        try:
            self.evdev_scanner = EvdevScanner(path, on_scan=lambda scan: self.post_message(self.ScannerScan(scan)),
                                              grab=self.settings.scanner.evdev_grab,
                                              on_error=lambda why: self.post_message(self.ScannerFailed(why)),
                                              on_back=lambda: self.post_message(self.ScannerBack()))
        except EvdevUnavailable as exc:
            self.post_message(self.ScannerFailed(str(exc)))
            return
        self.evdev_scanner.start()

    @on(ScannerFailed)
    def scanner_failed(self, message: ScannerFailed) -> None:
        self.bell()
        self.notify(_("scanner {p}: {why}; the keyboard still works").format(
            p=self.settings.scanner.evdev, why=message.why), severity="error", timeout=30)

    @on(ScannerBack)
    def scanner_back(self, message: ScannerBack) -> None:
        self.notify(_("scanner {p} connected again").format(p=self.settings.scanner.evdev))

    def on_unmount(self) -> None:
        scanner, self.scanner = self.scanner, None
        if scanner is not None:
            scanner.stop()
            scanner.join(2)
        evdev, self.evdev_scanner = self.evdev_scanner, None
        if evdev is not None:
            evdev.stop()
            evdev.join(2)
        self.stop_spool()

    # -- the print spool ---------------------------------------------------------------------

    def start_spool(self, actor: Actor) -> None:
        """Start this desk's print worker (``settings.printer``, when ``spool_in_desk``); once per app."""
        name = self.settings.printer
        if not name or not self.settings.spool_in_desk or self.spool is not None:
            return
        try:
            config = printing.resolve_printer(self.settings, name)
            self.spool = printing.SpoolRunner(self.db, actor, name, config, on_status=self._spool_status,
                                              **self.spool_options).start()
        except (WsmsError, OSError, ValueError) as exc:
            self.printer_state = PrinterState(_("{p} not started: {e}").format(p=name, e=exc), True)

    def stop_spool(self) -> None:
        """Stop the print worker (a job in hand stays queued for the next start); never blocks exit for long."""
        runner, self.spool = self.spool, None
        if runner is not None:
            runner.stop(timeout=3)

    def _spool_status(self, status: WorkerStatus) -> None:
        """On the worker thread: keep the newest status; post one message unless one is pending."""
        with self._spool_lock:
            self._spool_latest = status
            if self._spool_pending:
                return
            self._spool_pending = True
        self.post_message(self.PrinterStatusChanged())

    @on(PrinterStatusChanged)
    def printer_status_changed(self, message: PrinterStatusChanged) -> None:
        with self._spool_lock:
            status, self._spool_pending = self._spool_latest, False
        text, fault = printing.printer_state_text(printer_label(self.settings.printer), status)
        self.printer_state = PrinterState(text, fault)
        if isinstance(self.screen, PrintQueueScreen):
            self.screen.reload()

    @on(LabelQueued)
    def label_queued(self, message: LabelQueued) -> None:
        if self.spool is not None:
            self.spool.wake()

    def action_print_queue(self) -> None:
        """F11: the print queue over the current desk (F11 or Esc again goes back)."""
        if isinstance(self.screen, PrintQueueScreen):
            self.pop_screen()
            return
        if self.ctx is None:
            self.bell()
            return
        self.push_screen(PrintQueueScreen(self.ctx))

    @on(ScannerScan)
    def scanner_scan(self, message: ScannerScan) -> None:
        """A serial scan goes to the desk on screen, like a scan typed into its scan field (its AIM id as the
        field passes it on: ``desk_value``). A scan the reader cut (longer than its limit) is refused like an
        over-long wedge scan, with the bell and a red notification; it never reaches the desk."""
        scan = message.scan
        self._last_input = time.monotonic()
        if isinstance(scan, CutScan):
            self.bell()
            self.notify(too_long_text(len(scan.raw) + scan.dropped), severity="error", title=_("scan refused"))
            return
        text = scan.text
        screen = self.screen
        if isinstance(screen, DeskScreen):
            symbology = scan.symbology or ""
            screen.handle_scan(desk_value(symbology, text), symbology + text)
            return
        self.bell()
        self.notify(_("scan {code} not used: log in, or close this window first").format(code=text[:40]),
                    severity="warning")

    @on(ScannerStatusChanged)
    def scanner_status(self, message: ScannerStatusChanged) -> None:
        state = message.status.state
        if state == ScannerState.WAITING:
            self.notify(_("scanner: {status}").format(status=message.status), severity="warning")
        elif state == ScannerState.CONNECTED and self.scanner is not None and self.scanner.reconnects:
            self.notify(_("scanner connected again"))

    def status_info(self, actor: Actor | None) -> StatusInfo:
        scanner = _("keyboard")
        if self.settings.scanner.prefix or self.settings.scanner.suffix:
            scanner = _("keyboard, framed")
        if self.settings.scanner.url:
            scanner = _("{keyboard} + serial").format(keyboard=scanner)
        if self.settings.scanner.evdev:
            scanner = _("{keyboard} + evdev").format(keyboard=scanner)
        return StatusInfo(
            user=actor.name if actor else _("not logged in"),
            role=str(actor.role) if actor else "—",
            warehouse="—",
            database=short_db_label(self.db.url),
            scanner=scanner,
            printer=self._printer_info(),
        )

    def _printer_info(self) -> str:
        name = self.settings.printer
        if not name:
            return _("none")
        return printer_label(name)  # the state follows once this desk's worker reports (spool_in_desk)

    # -- keys --------------------------------------------------------------------------------

    def keys_for(self, spec: KeySpec) -> str:
        """The key(s) bound to ``spec`` now, remaps included (``f2,ctrl+s``)."""
        return self.keymap.get(spec.id) or spec.key

    def key_display(self) -> dict[str, str]:
        return {spec.id: key_label(self.keys_for(spec)) for spec in (*keys(), *all_desk_keys())}

    def key_rows(self, desk_rows: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
        """(keys, what they do) for the help screen, from the active keymap.

        ``desk_rows`` (a desk screen's ``help_rows()``: its own keys) replace the general rows about
        the scan field and tables, so the list still fits the help box at 80×24."""
        rows = [(key_label(self.keys_for(spec)), spec.description) for spec in keys()]
        rows.append((key_label(self.COMMAND_PALETTE_BINDING), _("Command palette: desks and commands")))
        rows += desk_rows if desk_rows else [
            (_("Enter/Tab"), _("end a typed code")),
            (_("Esc"), _("clear the scan field")),
            (_("↑ ↓ PgUp PgDn"), _("move in a table")),
        ]
        return rows

    def desk_key_rows(self, desk: str) -> list[tuple[str, str]]:
        """The keys desk ``desk`` binds on its own screen, as remapped here."""
        return [(key_label(self.keys_for(spec)), spec.description) for spec in desk_keys(desk)]

    # -- navigation --------------------------------------------------------------------------

    @on(LoggedIn)
    async def logged_in(self, message: LoggedIn) -> None:
        self.actor = message.actor
        self.start_spool(message.actor)
        self.ctx = DeskContext(self.db, self.settings, message.actor, self.status_info(message.actor),
                               page_size=self.page_size, gs_substitutes=self.gs_substitutes,
                               key_display=self.key_display())
        if message.actor.can("report.view"):
            self.poll_reorder_alerts()
            self._session_timers.append(self.set_interval(self.reorder_poll_s, self.poll_reorder_alerts,
                                                          name="reorder-poll"))
        if message.actor.can("exceptions.view"):
            self.poll_exceptions()
            self._session_timers.append(self.set_interval(self.exception_poll_s, self.poll_exceptions,
                                                          name="exception-poll"))
        self._last_input = time.monotonic()
        self._session_timers.append(self.set_interval(self.account_poll_s, self._check_account, name="account"))
        idle_s = self.settings.idle_logout_minutes * 60
        if idle_s > 0:
            self._session_timers.append(self.set_interval(min(30.0, idle_s / 4), self._check_idle, name="idle"))
        for name in DESK_MODES:
            if name in self._modes:
                await self.remove_mode(name)
            self.add_mode(name, partial(self._make_desk_screen, name))
        await self.action_desk(self.start_desk or "menu")

    async def action_logout(self) -> None:
        """F12: log out; when a desk holds scans not posted yet, the first press says what and a second press
        (within 10 s) logs out anyway."""
        if self._confirm_drop("logout", "f12", _("{what}. {key} again logs out and drops it")):
            await self.logout()

    async def action_quit(self) -> None:
        """Ctrl+Q: quit; scans not posted yet are confirmed first, as for F12."""
        if self._confirm_drop("quit", "ctrl+q", _("{what}. {key} again quits and drops it")):
            self.exit()

    def _confirm_drop(self, binding_id: str, default_key: str, text: str) -> bool:
        """True when nothing would be dropped, or this is the second press within 10 s of the warning."""
        held = self.unsaved_work()
        if held and (self._drop_armed[0] != binding_id or time.monotonic() - self._drop_armed[1] > 10):
            self._drop_armed = (binding_id, time.monotonic())
            key = key_label(self.keymap.get(binding_id) or default_key)
            self.notify(text.format(what="; ".join(held), key=key), title=_("not posted yet"), severity="warning")
            return False
        self._drop_armed = ("", 0.0)
        return True

    def unsaved_work(self) -> list[str]:
        """What the open desks hold that logging out would drop (``DeskScreen.unsaved``), one line each."""
        out = []
        for name in DESK_MODES:
            for screen in self._screen_stacks.get(name, []):  # every desk opened since the login
                if isinstance(screen, DeskScreen) and (what := screen.unsaved()):
                    out.append(what)
        return out

    async def logout(self, reason: str = "") -> None:
        """Back to the login screen for the next user (a shift change, a clerk leaving a shared terminal): the
        desks close — what one held unsaved, a line being scanned, is dropped; everything posted stays — the
        status-bar polls stop, and this desk's print worker stops, to start again under the next user."""
        actor = self.actor
        if actor is None:
            self.bell()
            return
        for timer in self._session_timers:
            timer.stop()
        self._session_timers.clear()
        self.actor, self.ctx = None, None
        self.reorder_alerts = None
        self.exception_notice = ExceptionNoticeText("")
        if "login" not in self._modes:  # (the first login screen is on the default mode, which cannot be
            # switched back to); this one is kept for every later logout: it clears its fields at each login
            self.add_mode("login", lambda: LoginScreen(self.db, self.settings, self.status_info(None), self.demo))
        await self.switch_mode("login")
        for name in DESK_MODES:
            if name in self._modes:
                await self.remove_mode(name)
        runner, self.spool = self.spool, None
        if runner is not None:  # a job in hand stays queued for the next worker; never blocks the keys
            self.run_worker(partial(runner.stop, timeout=3), thread=True, group="spool-stop", exit_on_error=False)
        with contextlib.suppress(Exception):  # the audit row is a record; leaving the terminal must always work
            users.logout(self.db, actor, reason)
        if reason:
            self.notify(reason, title=_("logged out"))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._last_input = time.monotonic()  # for the idle logout
        await super().on_event(event)

    def _check_account(self) -> None:
        """An account disabled (or given another role) by an admin ends its open sessions: back to the login
        screen within ``account_poll_s``. (Every service refuses it at once anyway: ``authz.require``.)"""
        actor = self.actor
        if actor is None:
            return

        def check() -> None:  # in a thread: no database round trip on the event loop
            try:
                why = users.account_changed(self.db, actor)
            except Exception:  # noqa: BLE001 - the database is away: the next check asks again
                return
            if why:
                self.call_from_thread(self._account_gone, actor, why)

        self.run_worker(check, thread=True, group="account-check", exit_on_error=False)

    def _account_gone(self, actor: Actor, why: str) -> None:
        if self.actor is actor:  # still that session (not logged out meanwhile)
            self.run_worker(self.logout(why), group="account-logout")

    def _check_idle(self) -> None:
        """Log out after ``idle_logout_minutes`` without input — not while a desk holds scans not posted yet
        (a half-packed box): those would be lost, so the terminal waits for its clerk."""
        minutes = self.settings.idle_logout_minutes
        if self.actor is not None and time.monotonic() - self._last_input >= minutes * 60 \
                and not self.unsaved_work():
            self.run_worker(self.logout(_("{user} logged out after {n:g} min without a key or a scan").format(
                user=self.actor.name, n=minutes)), group="idle-logout")

    def poll_exceptions(self) -> None:
        """Refresh the supervisors' open-exceptions notice (a timer calls this every ``exception_poll_s``)."""
        if self.actor is None:
            return
        from wsms_tui.order_exceptions import open_exception_count

        try:
            notice = open_exception_count(self.db, self.actor)
        except Exception:  # noqa: BLE001 - a notice must never break the desk
            return
        text = _("{n} open exception(s)").format(n=notice.open) if notice.open else ""
        if text != self.exception_notice.text:
            self.exception_notice = ExceptionNoticeText(text)

    def poll_reorder_alerts(self) -> None:
        """Count the products at or below their reorder point (``reports.reorder_alert_count``) in a thread."""
        actor = self.actor
        if actor is None:
            return

        def count() -> None:
            from wsms_tui.reports import reorder_alert_count

            try:
                n = reorder_alert_count(self.db, actor)
            except Exception:  # noqa: BLE001 - an alert must never break the desk
                return
            self.call_from_thread(setattr, self, "reorder_alerts", n)

        self.run_worker(count, thread=True, group="reorder-poll", exit_on_error=False)

    def _make_desk_screen(self, name: str) -> Screen[Any]:
        """The desk's screen; the built desks' modules are imported on first use (fast start-up)."""
        assert self.ctx is not None
        if name == "menu":
            return MenuScreen(self.ctx)
        if name == "stock":
            return StockScreen(self.ctx)
        if name in DESK_SCREENS:
            module, cls = DESK_SCREENS[name]
            screen_class = getattr(importlib.import_module(f"wsms_tui.screens.{module}"), cls)
            return cast(Screen[Any], screen_class(self.ctx))
        return PlaceholderDeskScreen(self.ctx, desk_by_name(name))

    @on(OpenDesk)
    async def open_desk(self, message: OpenDesk) -> None:
        await self.action_desk(message.desk, message.code)

    async def action_desk(self, name: str, code: str | None = None) -> None:
        """Switch to desk ``name`` (or ``menu``); look ``code`` up there if given."""
        if self.actor is None:
            self.bell()
            return
        if self.current_mode != name:
            await self.switch_mode(name)
        screen = self.screen
        if code is not None and isinstance(screen, StockScreen):
            screen.lookup(code)

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)
            return
        help_spec = next(spec for spec in keys() if spec.id == "help")
        help_keys = tuple(k.strip() for k in self.keys_for(help_spec).split(","))
        desk_rows = getattr(self.screen, "help_rows", None)
        self.push_screen(HelpScreen(self.key_rows(desk_rows() if callable(desk_rows) else None),
                                    close_keys=help_keys))


def run_app(db: Database, settings: Settings, desk: str | None = None) -> None:
    """Run the TUI on ``db`` (``wsms run [--desk NAME]``); the login comes first even with a desk."""
    WsmsApp(db, settings, desk=desk).run()
