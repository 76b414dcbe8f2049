"""The print queue (F11 from every desk): the spool's jobs, newest first, and what a person may do with them.

Rows are keyset pages of ``printing.list_jobs`` (``before_id`` = the last loaded id; the next page loads
when the cursor reaches the last row). Columns: id, time (local), kind, printer, status (``HELD`` = a
serialized label whose print is uncertain, waiting for a person), attempts, user, and the reason or last
error. Keys (ids in ``wsms_tui.keys.print_keys``): Ctrl+R reprint with a reason (asked, required), Ctrl+Y a
held label did print (close it without printing), Ctrl+X cancel a queued or held job, Esc/F11 back. Every
refusal comes from the ``printing`` services and is shown in red with the bell; the screen holds no SQL.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from wsms_tui import printing
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import key_label, print_keys
from wsms_tui.screens.base import DeskContext, key_bindings
from wsms_tui.screens.messages import LabelQueued
from wsms_tui.screens.reason_prompt import ReasonPrompt
from wsms_tui.screens.widgets.status_bar import StatusBar

PAGE = 100
COLUMNS = ("id", "time", "kind", "printer", "status", "tries", "user", "note")
UNFINISHED = ("queued", "printing")


#: a job's status as the queue shows it (the values of print_job.status)
STATUS_TEXT = {"queued": _("queued"), "printing": _("printing"), "printed": _("printed"), "failed": _("failed"),
               "cancelled": _("cancelled")}


def status_cell(status: str) -> Text:
    if status == "needs_decision":
        return Text(_("HELD"), style="bold red")
    style = {"printed": "green", "failed": "red", "cancelled": "dim", "printing": "bold"}.get(status, "")
    return Text(STATUS_TEXT.get(status, status), style=style)


def time_cell(job: printing.JobInfo) -> Text:
    return Text(job.created_at.astimezone().strftime("%m-%d %H:%M"))


def note_of(job: printing.JobInfo) -> str:
    parts = []
    if job.reprint_of is not None:
        parts.append(_("reprint of {id}").format(id=job.reprint_of))
    if job.reason:
        parts.append(job.reason)
    if job.last_error:
        parts.append(job.last_error)
    return "; ".join(parts)


def _bindings() -> list[BindingType]:
    return key_bindings([k for k in print_keys() if k.id.startswith("print_queue.")],
                        cursor=("down", "pagedown"))


class PrintQueueScreen(Screen[None]):
    """The print jobs of every printer (or one), with reprint / mark printed / cancel."""

    CSS_PATH = "print_queue.tcss"
    BINDINGS = _bindings()
    AUTO_FOCUS = "DataTable"

    def __init__(self, ctx: DeskContext, *, printer: str | None = None, page_size: int = PAGE) -> None:
        super().__init__()
        self.ctx = ctx
        self.printer = printer
        self.page_size = page_size
        self.jobs: dict[int, printing.JobInfo] = {}
        self.exhausted = False

    def compose(self) -> ComposeResult:
        title = _("wsms · Print queue") + (f" · {self.printer}" if self.printer else "")
        yield Static(title, id="pq-title")
        yield Static("", id="pq-message")
        table: DataTable[Text] = DataTable(id="pq-jobs", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static(self._hint(), id="pq-hint")
        yield StatusBar(self.ctx.status)

    def _hint(self) -> Text:
        shown = {k.id: self.ctx.key_display.get(k.id) or key_label(k.key) for k in print_keys()}
        back = self.ctx.key_display.get("print_queue") or key_label("f11")
        return Text(_("{r} reprint · {y} held label did print · {x} cancel · {esc}/{back} back").format(
            r=shown["print_queue.reprint"], y=shown["print_queue.mark_printed"], x=shown["print_queue.cancel"],
            esc=shown["print_queue.close"], back=back), no_wrap=True, overflow="ellipsis")

    def on_mount(self) -> None:
        headers = {"id": _("Job"), "time": _("Time"), "kind": _("Kind"), "printer": _("Printer"),
                   "status": _("Status"), "tries": _("Tries"), "user": _("User"), "note": _("Reason / error")}
        widths = {"id": 4, "time": 11, "kind": 8, "printer": 7, "status": 9, "tries": 5, "user": 7}
        # the note takes what is left of the width (no horizontal scrolling); the message line shows it whole
        widths["note"] = max(12, self.app.size.width - sum(widths.values()) - 2 * len(COLUMNS) - 2)
        table = self.query_one(DataTable)
        for key in COLUMNS:
            right = key in ("id", "tries")
            table.add_column(Text(headers[key], justify="right" if right else "left"), key=key, width=widths.get(key))
        self.reload()

    # -- data --------------------------------------------------------------------------------

    def reload(self, *, keep: int | None = None) -> None:
        """Load the first page again (after an action or a printer status change); keep the cursor on ``keep``."""
        table = self.query_one(DataTable)
        if keep is None and table.row_count:
            keep = self.selected_id()
        table.clear()
        self.jobs = {}
        self.exhausted = False
        self.load_more()
        if keep is not None and keep in self.jobs:
            table.move_cursor(row=table.get_row_index(str(keep)))

    def load_more(self) -> None:
        if self.exhausted:
            return
        before = min(self.jobs) if self.jobs else None
        try:
            page = printing.list_jobs(self.ctx.db, self.ctx.actor, printer=self.printer, limit=self.page_size,
                                      before_id=before)
        except WsmsError as exc:
            self.say(str(exc), error=True)
            return
        table = self.query_one(DataTable)
        for job in page:
            self.jobs[job.id] = job
            table.add_row(Text(str(job.id), justify="right"), time_cell(job), Text(job.kind), Text(job.printer),
                          status_cell(job.status), Text(str(job.attempts), justify="right"), Text(job.user),
                          Text(note_of(job), no_wrap=True, overflow="ellipsis"), key=str(job.id))
        self.exhausted = len(page) < self.page_size
        if not self.jobs:
            self.say(_("no print jobs yet"))

    @on(DataTable.RowHighlighted)
    def show_note(self, message: DataTable.RowHighlighted) -> None:
        """The highlighted job's whole reason / last error on the message line (the column may cut it)."""
        job = self.jobs.get(int(str(message.row_key.value))) if message.row_key.value is not None else None
        line = self.query_one("#pq-message", Static)
        if job is not None and not line.has_class("error") and not line.has_class("ok"):
            note = note_of(job)
            line.update(Text(_("job {id}: {note}").format(id=job.id, note=note) if note else "",
                             no_wrap=True, overflow="ellipsis"))

    def selected_id(self) -> int | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return int(str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def selected(self) -> printing.JobInfo | None:
        jid = self.selected_id()
        return self.jobs.get(jid) if jid is not None else None

    # -- messages ----------------------------------------------------------------------------

    def say(self, message: str, *, error: bool = False, ok: bool = False) -> None:
        line = self.query_one("#pq-message", Static)
        line.update(Text(message, no_wrap=True, overflow="ellipsis"))
        line.set_class(error, "error")
        line.set_class(ok, "ok")
        if error:
            self.app.bell()

    # -- keys --------------------------------------------------------------------------------

    def action_cursor(self, where: str) -> None:
        table = self.query_one(DataTable)
        if where == "down":
            if table.cursor_row >= table.row_count - 1:
                self.load_more()
            table.action_cursor_down()
        else:
            if table.cursor_row + table.size.height >= table.row_count - 1:
                self.load_more()
            table.action_page_down()

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_reprint(self) -> None:
        job = self._pick()
        if job is None:
            return
        if job.status in UNFINISHED:
            self.say(_("job {id} has not finished printing yet").format(id=job.id), error=True)
            return
        question = _("Why print job {id} ({kind}) again?").format(id=job.id, kind=job.kind)
        self._ask(question, True, lambda reason: printing.reprint(self.ctx.db, self.ctx.actor, job.id,
                                                                  reason=reason),
                  lambda new: _("job {id} reprinted as job {new} on {p}").format(id=job.id, new=new.id,
                                                                                 p=new.printer), queued=True)

    def action_mark_printed(self) -> None:
        job = self._pick()
        if job is None:
            return
        if job.status != "needs_decision":
            self.say(_("job {id} is {st}, not waiting for a decision").format(id=job.id, st=job.status), error=True)
            return
        self._ask(_("Job {id}: you saw this label print? A note (optional)").format(id=job.id), False,
                  lambda note: printing.mark_printed(self.ctx.db, self.ctx.actor, job.id, reason=note),
                  lambda done: _("job {id} closed as printed").format(id=done.id))

    def action_cancel_job(self) -> None:
        job = self._pick()
        if job is None:
            return
        if job.status in printing.FINAL:
            self.say(_("job {id} is {st} already").format(id=job.id, st=job.status), error=True)
            return
        self._ask(_("Cancel job {id}? Why (optional)").format(id=job.id), False,
                  lambda note: printing.cancel(self.ctx.db, self.ctx.actor, job.id, reason=note),
                  lambda done: _("job {id} cancelled").format(id=done.id))

    def _pick(self) -> printing.JobInfo | None:
        job = self.selected()
        if job is None:
            self.say(_("no job chosen"), error=True)
        return job

    def _ask(self, question: str, required: bool, act: Callable[[str], printing.JobInfo],
             done: Callable[[printing.JobInfo], str], *, queued: bool = False) -> None:
        def answered(reason: str | None) -> None:
            if reason is None:
                self.say(_("nothing done"))
                return
            try:
                result = act(reason)
            except WsmsError as exc:
                self.say(str(exc), error=True)
                return
            if queued:
                self.app.post_message(LabelQueued(result))
            self.reload(keep=result.id)
            self.say(done(result), ok=True)

        self.app.push_screen(ReasonPrompt(question, required=required), answered)
