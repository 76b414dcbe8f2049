"""The Reports desk (F8): choose a report, a warehouse and a period; read it as a sortable table with a chart.

Every report of ``wsms_tui.reports`` is here; the screen only asks ``run_report`` (in a thread worker: a report
over a million movements takes a few hundred milliseconds) and draws the ``ReportResult`` it gets back. Keys
(non-printable; the scan field takes typed commands): Ctrl+N / Ctrl+B next / previous report, Ctrl+W next
warehouse, Ctrl+T next period (the report's default, 30, 90, 365 days), Ctrl+S sort by the next column, Ctrl+R
reverse the sort, Ctrl+G chart on/off. Typed into the field: a report name (``abc``), a warehouse code or
``all``, a number of days (``90``), a period (``2026-01-01..2026-03-31``), a grouping (``by category``);
Enter on the empty field runs the report again. The clock is the App's ``report_clock`` when it has one
(snapshots fix it), else the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import DataTable, Static

from wsms_tui import reports
from wsms_tui.errors import BadInput, WsmsError
from wsms_tui.i18n import _
from wsms_tui.keys import desk_keys
from wsms_tui.reports.base import ReportParams, ReportResult
from wsms_tui.reports.render import cell, chart_lines
from wsms_tui.screens.base import DeskContext, DeskScreen

PERIODS: tuple[int | None, ...] = (None, 30, 90, 365)


class ReportsScreen(DeskScreen):
    """Reports as rich tables, sortable, with a terminal chart."""

    CSS_PATH = "reports.tcss"
    desk_name = "reports"
    BINDINGS = [
        *(Binding(k.key, k.action, k.description, id=k.id, show=False) for k in desk_keys("reports")),
        Binding("down", "cursor('down')", show=False),
        Binding("up", "cursor('up')", show=False),
        Binding("pagedown", "cursor('page_down')", show=False),
        Binding("pageup", "cursor('page_up')", show=False),
    ]

    def __init__(self, ctx: DeskContext, *, report: str = "stock") -> None:
        super().__init__(ctx)
        self.names = [spec.name for spec in reports.list_reports()]
        self.report = reports.get_report(report).name
        self.warehouse: str | None = None
        self.days: int | None = None
        self.date_from: date | None = None
        self.date_to: date | None = None
        self.by: str | None = None
        self.result: ReportResult | None = None
        self.sort_key: str | None = None
        self.sort_reverse = False
        self.show_chart = True
        self.warehouses: list[str] = []

    def desk_title(self) -> str:
        return _("wsms · Reports")

    def compose_body(self) -> Iterable[Widget]:
        yield Static("", id="rep-choice")
        yield Static("", id="rep-header")
        table: DataTable[str | Text] = DataTable(id="rep-table", cursor_type="row", zebra_stripes=True)
        table.can_focus = False  # the scan field keeps the focus
        yield table
        yield Static("", id="rep-chart")
        yield Static("", id="rep-notes")

    @property
    def table(self) -> DataTable[str | Text]:
        return self.query_one("#rep-table", DataTable)

    def help_rows(self) -> list[tuple[str, str]]:
        rows = getattr(self.app, "desk_key_rows", None)
        own = rows("reports") if callable(rows) else []
        return [*own, (_("type"), _("report name, warehouse, days, from..to, by …"))]

    def on_mount(self) -> None:
        self.call_after_refresh(self.run_report)

    # -- the clock and the parameters ------------------------------------------------------------

    def clock(self) -> datetime:
        fixed: Callable[[], datetime] | None = getattr(self.app, "report_clock", None)
        return fixed() if fixed else datetime.now().astimezone()

    def params(self) -> ReportParams:
        now = self.clock()
        start, end = self.date_from, self.date_to
        if self.days and start is None:
            end = end or now.date()
            start = end - timedelta(days=self.days - 1)
        return ReportParams(warehouse=self.warehouse, date_from=start, date_to=end, by=self.by, now=now,
                            settings=self.ctx.settings.reports, save=False)

    def choice_text(self) -> Text:
        spec = reports.get_report(self.report)
        period = (_("{a}..{b}").format(a=self.date_from or "…", b=self.date_to or "…")
                  if self.date_from or self.date_to else
                  _("last {n} days").format(n=self.days) if self.days else _("default period"))
        parts = [f"[{self.names.index(self.report) + 1}/{len(self.names)}] {spec.name}",
                 _("wh {w}").format(w=self.warehouse or _("all")), period]
        if self.by:
            parts.append(_("by {b}").format(b=self.by))
        return Text(" · ".join(parts), style="bold", no_wrap=True, overflow="ellipsis")

    # -- running -----------------------------------------------------------------------------

    def run_report(self) -> None:
        """Run the chosen report in a worker; the result (or its message) is drawn when it comes back."""
        if not self.is_mounted:
            return
        self.query_one("#rep-choice", Static).update(self.choice_text())
        self.say(_("running {r} …").format(r=self.report))
        self._run(self.report, self.params())

    @work(thread=True, exclusive=True, group="report")
    def _run(self, name: str, params: ReportParams) -> None:
        try:
            result = reports.run_report(self.ctx.db, self.ctx.actor, name, params)
        except WsmsError as exc:
            self.app.call_from_thread(self.show_error, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a desk shows the failure and keeps running
            self.app.call_from_thread(self.show_error, _("the report failed: {e}").format(e=exc))
            return
        self.app.call_from_thread(self.show_result, result)

    def show_error(self, message: str) -> None:
        self.result = None
        self.table.clear(columns=True)
        self.query_one("#rep-header", Static).update(Text(message, style="bold red"))
        self.query_one("#rep-chart", Static).update("")
        self.query_one("#rep-notes", Static).update("")
        self.say(message, error=True)

    def show_result(self, result: ReportResult) -> None:
        self.result = result
        if self.sort_key not in {c.key for c in result.columns}:
            self.sort_key, self.sort_reverse = None, False
        when = result.computed_at.strftime("%Y-%m-%d %H:%M UTC")
        line = " · ".join((result.period, result.warehouse, _("computed {t}").format(t=when)))
        self.query_one("#rep-header", Static).update(Text.assemble(
            (result.title, "bold"), "\n", (line, "dim"), no_wrap=True, overflow="ellipsis"))
        self.fill_table()
        self.draw_chart()
        self.query_one("#rep-notes", Static).update(Text(" ".join(result.notes[-1:]), style="dim", no_wrap=True,
                                                         overflow="ellipsis"))
        self.say(_("{n} rows").format(n=len(result.rows)))

    def fill_table(self) -> None:
        result = self.result
        table = self.table
        table.clear(columns=True)
        if result is None:
            return
        cols = [c for c in result.columns if c.brief]
        for c in cols:
            arrow = (" ▼" if self.sort_reverse else " ▲") if c.key == self.sort_key else ""
            label = c.title + arrow
            table.add_column(Text(label, justify="right") if c.numeric else label, key=c.key)
        rows = result.rows
        if self.sort_key is not None:
            key = self.sort_key

            def order(r: dict[str, Any]) -> tuple[int, Any]:
                v = r.get(key)
                return (1, "") if v is None else (0, v if not isinstance(v, str) else v.lower())

            rows = sorted(rows, key=order, reverse=self.sort_reverse)
        for i, r in enumerate(rows):
            table.add_row(*[Text(cell(r.get(c.key)), justify="right" if c.numeric else "left") for c in cols],
                          key=str(i))

    def draw_chart(self) -> None:
        chart = self.query_one("#rep-chart", Static)
        result = self.result
        chart.display = bool(self.show_chart and result and result.charts)
        if result and result.charts and self.show_chart:
            lines = chart_lines(result.charts[0], width=max(30, self.size.width - 4))
            chart.update(Text("\n".join(lines[:8]), no_wrap=True, overflow="ellipsis"))

    # -- keys and typed commands -------------------------------------------------------------

    def handle_scan(self, value: str, raw: str) -> None:
        text = value.strip()
        if not text:
            self.run_report()
            return
        try:
            self.apply_command(text)
        except WsmsError as exc:
            self.say(str(exc), error=True)
            return
        self.run_report()

    def apply_command(self, text: str) -> None:
        """A typed choice: report name, warehouse code or ``all``, days, ``from..to``, ``by X``."""
        low = text.lower()
        if low.startswith("by "):
            self.by = low[3:].strip() or None
            return
        if ".." in text:
            a, _sep, b = text.partition("..")
            try:
                self.date_from = date.fromisoformat(a.strip()) if a.strip() else None
                self.date_to = date.fromisoformat(b.strip()) if b.strip() else None
            except ValueError:
                raise BadInput(_("a period is FROM..TO with dates like 2026-01-31")) from None
            self.days = None
            return
        if low.isdigit():
            self.days, self.date_from, self.date_to = int(low), None, None
            return
        if low == "all":
            self.warehouse = None
            return
        try:
            spec = reports.get_report(low)
        except WsmsError:
            spec = None
        if spec is not None:
            if spec.name != self.report:
                self.by = None
            self.report = spec.name
            return
        self.warehouse = text.upper()

    def action_next_report(self, step: int = 1) -> None:
        i = self.names.index(self.report)
        self.report = self.names[(i + step) % len(self.names)]
        self.by = None
        self.run_report()

    def action_prev_report(self) -> None:
        self.action_next_report(-1)

    def action_next_warehouse(self) -> None:
        if not self.warehouses:
            self.warehouses = reports.warehouse_codes(self.ctx.db, self.ctx.actor)
        choices: list[str | None] = [None, *self.warehouses]
        i = choices.index(self.warehouse) if self.warehouse in choices else 0
        self.warehouse = choices[(i + 1) % len(choices)]
        self.run_report()

    def action_next_period(self) -> None:
        i = PERIODS.index(self.days) if self.days in PERIODS else 0
        self.days, self.date_from, self.date_to = PERIODS[(i + 1) % len(PERIODS)], None, None
        self.run_report()

    def action_sort(self) -> None:
        if self.result is None:
            return
        keys = [c.key for c in self.result.columns if c.brief]
        i = keys.index(self.sort_key) if self.sort_key in keys else -1
        self.sort_key = keys[(i + 1) % len(keys)]
        self.sort_reverse = self.result.column(self.sort_key).numeric  # numbers: biggest first
        self.fill_table()

    def action_reverse(self) -> None:
        if self.result is None or self.sort_key is None:
            return
        self.sort_reverse = not self.sort_reverse
        self.fill_table()

    def action_chart(self) -> None:
        self.show_chart = not self.show_chart
        self.draw_chart()

    @on(DataTable.HeaderSelected, "#rep-table")
    def header_clicked(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key = key
            self.sort_reverse = bool(self.result and self.result.column(key).numeric)
        self.fill_table()

    def action_cursor(self, where: str) -> None:
        actions = {"down": self.table.action_cursor_down, "up": self.table.action_cursor_up,
                   "page_down": self.table.action_page_down, "page_up": self.table.action_page_up}
        actions[where]()

