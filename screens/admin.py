"""The Admin desk (F9): users, devices and integrity checks, for admins and supervisors.

Three views, Ctrl+N for the next (or type ``users``, ``devices``, ``checks``):

- users: every user with role and state. Ctrl+A adds one (``NAME ROLE [full name]``, then the PIN twice,
  masked), Ctrl+X disables or enables the highlighted one (press twice), Ctrl+K sets a new PIN, Ctrl+R
  changes the role. Typed instead: ``add NAME ROLE [full name]``, ``disable NAME``, ``enable NAME``,
  ``pin NAME``, ``role NAME ROLE``.
- devices: this desk's scanner settings and every named printer with its unfinished spool jobs; Ctrl+T
  asks each printer its ``~HS`` status (in a thread: an unplugged printer never freezes the desk).
- checks: ``ledger verify`` and ``audit verify`` run in a thread when the view opens (Ctrl+T again).

The services decide (``wsms_tui.users``, ``wsms_tui.admin``): a clerk sees the refusal in red, a
supervisor may list but not change users. Anything else typed or scanned opens the Stock desk with
that code, as on every desk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual import work
from textual.widget import Widget
from textual.widgets import DataTable, Static

from wsms_tui import admin, users
from wsms_tui.authz import require
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import desk_keys
from wsms_tui.screens.base import DeskContext, DeskScreen, key_bindings
from wsms_tui.screens.pin_prompt import PinPrompt
from wsms_tui.screens.reason_prompt import ReasonPrompt
from wsms_tui.screens.widgets.cells import show_text

VIEWS = ("users", "devices", "checks")
ROLES = ", ".join(users.ROLE_NAMES)


class AdminScreen(DeskScreen):
    """Users, devices and checks."""

    CSS_PATH = "admin.tcss"
    desk_name = "admin"
    BINDINGS = key_bindings(desk_keys("admin"))

    def __init__(self, ctx: DeskContext, *, view: str = "users") -> None:
        super().__init__(ctx)
        self.view = view
        self.users: list[users.UserInfo] = []
        self.devices: admin.Devices | None = None
        self.probed: dict[str, tuple[str, bool]] = {}
        self.checks: list[admin.Check] | None = None
        self._armed: str | None = None  # Ctrl+X pressed once for this user

    def desk_title(self) -> str:
        return _("wsms · Admin")

    def compose_body(self) -> Iterable[Widget]:
        yield Static("", id="adm-views")
        table: DataTable[str | Text] = DataTable(id="adm-table", cursor_type="row", zebra_stripes=True)
        table.can_focus = False  # the scan field keeps the focus
        yield table
        yield Static("", id="adm-notes")
        yield Static("", id="adm-message")

    @property
    def table(self) -> DataTable[str | Text]:
        return self.query_one("#adm-table", DataTable)

    def help_rows(self) -> list[tuple[str, str]]:
        rows = getattr(self.app, "desk_key_rows", None)
        own = rows("admin") if callable(rows) else []
        return [*own, (_("type"), _("users · devices · checks · add NAME ROLE · disable/enable/pin NAME · "
                                    "role NAME ROLE"))]

    def key(self, binding_id: str) -> str:
        return self.ctx.key_display.get(binding_id, binding_id)

    def on_mount(self) -> None:
        self.show_view(self.view)

    # -- messages ------------------------------------------------------------------------------

    def message(self, text: str, level: str = "") -> None:
        line = self.query_one("#adm-message", Static)
        show_text(line, Text(text, no_wrap=True, overflow="ellipsis"))
        line.set_class(level == "error", "error")
        line.set_class(level == "ok", "ok")
        if level == "error":
            self.app.bell()

    def attempt(self, step: Callable[[], Any], done: Callable[[Any], str]) -> None:
        """Run a service call; its success message in green, or its refusal in red (never raises)."""
        try:
            result = step()
        except WsmsError as exc:
            self.message(str(exc), "error")
            return
        except Exception as exc:  # noqa: BLE001 - a desk shows the failure and keeps running
            self.message(_("the admin desk failed: {e}").format(e=exc), "error")
            return
        self.load_users()
        self.message(done(result), "ok")

    # -- views ---------------------------------------------------------------------------------

    def show_view(self, view: str) -> None:
        self.view = view
        self._armed = None
        names = {"users": _("users"), "devices": _("devices"), "checks": _("checks")}
        line = Text(no_wrap=True, overflow="ellipsis")
        for v in VIEWS:
            line.append(f" {names[v]} ", style="reverse bold" if v == view else "dim")
        line.append("  " + _("{k}: next view").format(k=self.key("admin.view")), style="dim")
        show_text(self.query_one("#adm-views", Static), line)
        self.query_one("#adm-notes", Static).update("")
        self.message("")
        if view == "users":
            self.load_users()
        elif view == "devices":
            self.load_devices()
        else:
            self.start_checks()

    def action_next_view(self) -> None:
        self.show_view(VIEWS[(VIEWS.index(self.view) + 1) % len(VIEWS)])

    def action_refresh(self) -> None:
        if self.view == "devices":
            self.start_probe()
        elif self.view == "checks":
            self.start_checks()
        else:
            self.load_users()

    def action_cursor(self, where: str) -> None:
        actions = {"down": self.table.action_cursor_down, "up": self.table.action_cursor_up,
                   "page_down": self.table.action_page_down, "page_up": self.table.action_page_up}
        actions[where]()

    # -- users ---------------------------------------------------------------------------------

    def load_users(self) -> None:
        if self.view != "users":
            return
        table = self.table
        keep = self.highlighted_user()
        table.clear(columns=True)
        table.add_columns(_("user"), _("name"), _("role"), _("state"))
        try:
            self.users = users.list_users(self.ctx.db, self.ctx.actor)
        except WsmsError as exc:
            self.users = []
            self.message(str(exc), "error")
            return
        for u in self.users:
            state = Text(_("active"), style="green") if u.active else Text(_("disabled"), style="red")
            table.add_row(u.name, u.full_name, u.role, state, key=u.name)
        if keep is not None and any(u.name == keep for u in self.users):
            table.move_cursor(row=table.get_row_index(keep))
        show_text(self.query_one("#adm-notes", Static), Text(_(
            "{a} add · {x} disable/enable · {k} PIN · {r} role").format(
            a=self.key("admin.add"), x=self.key("admin.toggle"), k=self.key("admin.pin"),
            r=self.key("admin.role")), style="dim", no_wrap=True, overflow="ellipsis"))

    def highlighted_user(self) -> str | None:
        if self.view != "users" or self.table.row_count == 0:
            return None
        return str(self.table.coordinate_to_cell_key(self.table.cursor_coordinate).row_key.value)

    def user(self, name: str) -> users.UserInfo | None:
        return next((u for u in self.users if u.name == name), None)

    def _need_user(self) -> str | None:
        if self.view != "users":
            self.message(_("this key works in the users view ({k})").format(k=self.key("admin.view")), "error")
            return None
        name = self.highlighted_user()
        if name is None:
            self.message(_("no user to work on"), "error")
        return name

    def action_add_user(self) -> None:
        if self.view != "users":
            self.show_view("users")

        def answered(answer: str | None) -> None:
            if answer:
                self.add_user(answer)

        self.app.push_screen(ReasonPrompt(_("New user: NAME ROLE [full name] (roles: {r})").format(r=ROLES)),
                             answered)

    def add_user(self, spec: str) -> None:
        parts = spec.split(maxsplit=2)
        if len(parts) < 2:
            self.message(_("give a name and a role: add NAME ROLE [full name] (roles: {r})").format(r=ROLES),
                         "error")
            return
        name, role, full = parts[0], parts[1].lower(), parts[2] if len(parts) > 2 else ""
        if role not in users.ROLE_NAMES:
            self.message(_("role must be one of: {roles}").format(roles=ROLES), "error")
            return
        try:  # ask for no PIN the service would refuse anyway (the refusal is audited like the service's)
            require(self.ctx.db, self.ctx.actor, "user.add", f"user:{name}")
        except WsmsError as exc:
            self.message(str(exc), "error")
            return

        def pin_given(pin: str | None) -> None:
            if pin is None:
                self.message(_("no user added"))
                return
            self.attempt(lambda: users.add_user(self.ctx.db, self.ctx.actor, name, role, pin, full),
                         lambda u: _("user {n} added as {r}").format(n=u.name, r=u.role))

        self.app.push_screen(PinPrompt(_("PIN for the new user {n}").format(n=name)), pin_given)

    def action_toggle_user(self) -> None:
        name = self._need_user()
        if name is not None:
            self.toggle(name)

    def toggle(self, name: str, active: bool | None = None) -> None:
        """Disable or enable ``name``; from the key (``active`` None) only on a second press."""
        u = self.user(name)
        if u is None:
            self.message(_("no user {n}").format(n=name), "error")
            return
        want = (not u.active) if active is None else active
        if active is None and self._armed != name:
            self._armed = name
            self.message(_("press {k} again to {what} {n}").format(
                k=self.key("admin.toggle"), what=_("disable") if u.active else _("enable"), n=name))
            return
        self._armed = None
        self.attempt(lambda: users.set_active(self.ctx.db, self.ctx.actor, name, want),
                     lambda r: (_("{n} is disabled: they cannot log in") if not r.active else
                                _("{n} is enabled again")).format(n=r.name))

    def action_set_pin(self) -> None:
        name = self._need_user()
        if name is not None:
            self.set_pin(name)

    def set_pin(self, name: str) -> None:
        if self.user(name) is None:
            self.message(_("no user {n}").format(n=name), "error")
            return

        def pin_given(pin: str | None) -> None:
            if pin is None:
                self.message(_("PIN of {n} not changed").format(n=name))
                return
            self.attempt(lambda: users.set_pin(self.ctx.db, self.ctx.actor, name, pin),
                         lambda r: _("new PIN set for {n}").format(n=r.name))

        self.app.push_screen(PinPrompt(_("New PIN for {n}").format(n=name)), pin_given)

    def action_set_role(self) -> None:
        name = self._need_user()
        if name is None:
            return

        def answered(answer: str | None) -> None:
            if answer:
                self.set_role(name, answer)

        self.app.push_screen(ReasonPrompt(_("New role for {n} ({r})").format(n=name, r=ROLES)), answered)

    def set_role(self, name: str, role: str) -> None:
        self.attempt(lambda: users.set_role(self.ctx.db, self.ctx.actor, name, role.strip().lower()),
                     lambda r: _("{n} is now {r}").format(n=r.name, r=r.role))

    # -- devices -------------------------------------------------------------------------------

    def load_devices(self) -> None:
        try:
            self.devices = admin.devices(self.ctx.db, self.ctx.actor, self.ctx.settings)
        except WsmsError as exc:
            self.message(str(exc), "error")
            return
        self.draw_devices()
        if not self.devices.printers:
            self.message(_("no printers configured: add [printers.NAME] url = … to the settings file"))
        else:
            self.message(_("{k}: ask every printer its status").format(k=self.key("admin.refresh")))

    def draw_devices(self) -> None:
        if self.view != "devices" or self.devices is None:
            return
        table = self.table
        table.clear(columns=True)
        table.add_columns(_("printer"), _("url"), _("dpi"), _("jobs"), _("held"), _("status"))
        for p in self.devices.printers:
            said = self.probed.get(p.name)
            status = (Text(said[0], style="green" if said[1] else "red") if said else Text("—", style="dim"))
            name = p.name + (" *" if p.this_desk else "")
            table.add_row(name, p.url, str(p.dpi), str(p.queued),
                          Text(str(p.held), style="bold red") if p.held else "0", status, key=p.name)
        notes = Text(no_wrap=False)
        for what, value in self.devices.scanner:
            notes.append(f"{what}: ", style="bold")
            notes.append(f"{value}\n")
        self.query_one("#adm-notes", Static).update(notes)

    def start_probe(self) -> None:
        if self.devices is None or not self.devices.printers:
            self.load_devices()
            return
        # this desk's printer while its own print worker holds it: the worker's state, not a second
        # connection (on a serial port it could read the ~HS answer meant for the worker's job)
        state = getattr(self.app, "printer_state", None) if getattr(self.app, "spool", None) is not None else None
        mine = {p.name: (_("{s} (this desk's print worker)").format(s=state.text), not state.fault)
                for p in self.devices.printers if p.this_desk and state is not None}
        self.probed.update(mine)
        ask = [(p.name, p.url) for p in self.devices.printers if p.name not in mine]
        if not ask:
            self.probe_done(mine)
            return
        self.message(_("asking {n} printer(s) …").format(n=len(ask)))
        self._probe(ask, mine)

    @work(thread=True, exclusive=True, group="admin-probe")
    def _probe(self, printers: list[tuple[str, str]], known: dict[str, tuple[str, bool]]) -> None:
        said = {**known, **{name: admin.probe_printer(url) for name, url in printers}}
        self.app.call_from_thread(self.probe_done, said)

    def probe_done(self, said: dict[str, tuple[str, bool]]) -> None:
        self.probed.update(said)
        self.draw_devices()
        bad = [n for n, (_w, ok) in said.items() if not ok]
        if bad:
            self.message(_("not ready: {p}").format(p=", ".join(bad)), "error")
        else:
            self.message(_("every printer is ready"), "ok")

    # -- checks --------------------------------------------------------------------------------

    def start_checks(self) -> None:
        table = self.table
        table.clear(columns=True)
        table.add_columns(_("check"), _("result"))
        self.message(_("checking the ledger and the audit chain …"))
        self._check()

    @work(thread=True, exclusive=True, group="admin-checks")
    def _check(self) -> None:
        try:
            checks = admin.run_checks(self.ctx.db, self.ctx.actor)
        except Exception as exc:  # noqa: BLE001 - shown in red; the desk keeps running
            self.app.call_from_thread(self.message, _("the checks failed: {e}").format(e=exc), "error")
            return
        self.app.call_from_thread(self.checks_done, checks)

    def checks_done(self, checks: list[admin.Check]) -> None:
        self.checks = checks
        if self.view != "checks":
            return
        table = self.table
        table.clear(columns=True)  # columns sized with their rows in one go
        table.add_columns(_("check"), _("result"))
        names = {"ledger": _("ledger verify"), "audit": _("audit verify")}
        for c in checks:
            style = "green" if c.ok else "dim" if c.ok is None else "bold red"
            table.add_row(names.get(c.name, c.name), Text(c.summary, style=style))
            for p in c.problems[:200]:
                table.add_row("", Text(p, style="red"))
        failed = [names.get(c.name, c.name) for c in checks if c.ok is False]
        if failed:
            self.message(_("problems found by {c}").format(c=", ".join(failed)), "error")
        elif all(c.ok for c in checks):
            self.message(_("the ledger and the audit chain are consistent"), "ok")
        else:
            self.message(_("some checks need another role (see the table)"))

    # -- typed commands ------------------------------------------------------------------------

    def handle_scan(self, value: str, raw: str) -> None:
        words = value.split()
        if not words:
            return
        head, n = words[0].lower(), len(words)
        if head in VIEWS and n == 1:
            self.show_view(head)
            return
        user_commands: dict[tuple[str, int], Callable[[], None]] = {
            ("disable", 2): lambda: self.toggle(words[1], False),
            ("enable", 2): lambda: self.toggle(words[1], True),
            ("pin", 2): lambda: self.set_pin(words[1]),
            ("role", 3): lambda: self.set_role(words[1], words[2]),
        }
        command = (lambda: self.add_user(value.split(maxsplit=1)[1])) if head == "add" and n >= 3 \
            else user_commands.get((head, n))
        if command is None:
            super().handle_scan(value, raw)
            return
        if self.view != "users":
            self.show_view("users")
        command()
