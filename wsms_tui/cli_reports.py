"""``wsms report NAME``: every report as a rich table with terminal charts, or CSV, JSON or xlsx.

``wsms report list`` lists the reports; ``wsms report rebuild-snapshots`` rebuilds the daily stock snapshot
from the ledger and ``refresh-snapshots`` folds new ledger entries into it. Registered by ``wsms_tui.cli``
with one ``register(app)`` call; no Textual is loaded. The table format states the period, warehouse and
computation time under the table; CSV and JSON (an array of objects with every column) keep stdout
machine-readable and print that line on stderr; xlsx puts it at the top of the sheet.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from wsms_tui.i18n import _


class ReportFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    xlsx = "xlsx"


SPECIAL = ("list", "rebuild-snapshots", "refresh-snapshots")


def register(app: typer.Typer) -> None:
    app.command("report", help=_("Reports: `wsms report list`, then `wsms report NAME` (turnover, abc, fulfilment, "
                                 "accuracy, forecast, reorder, …)."))(report)


def _day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from wsms_tui.errors import BadInput

        raise BadInput(_("{opt} {v!r} is not a date (YYYY-MM-DD)").format(opt=option, v=value)) from None


def report(ctx: typer.Context,
           name: Annotated[str, typer.Argument(help="the report (`wsms report list`), or rebuild-snapshots")],
           warehouse: Annotated[str | None, typer.Option("--warehouse", "-w", help="only this warehouse")] = None,
           date_from: Annotated[str | None, typer.Option("--from", help="first day (YYYY-MM-DD, UTC)")] = None,
           date_to: Annotated[str | None, typer.Option("--to", help="last day, inclusive (default today)")] = None,
           by: Annotated[str | None, typer.Option("--by", help="grouping, e.g. category, channel, week")] = None,
           weeks: Annotated[int | None, typer.Option("--weeks", help="forecast: weeks ahead")] = None,
           method: Annotated[str | None, typer.Option("--method", help="forecast method (default auto)")] = None,
           service_level: Annotated[str | None, typer.Option("--service-level", help="reorder: e.g. 0.95")] = None,
           lead_days: Annotated[int | None, typer.Option("--lead-days", help="reorder: supplier lead time")] = None,
           within: Annotated[int | None, typer.Option("--within", help="expiring: within this many days")] = None,
           fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="table, csv, json or xlsx")]
           = ReportFormat.table,
           output: Annotated[Path | None, typer.Option("--output", "-o", help="write to this file")] = None,
           wide: Annotated[bool, typer.Option("--wide", help="table: every column")] = False,
           no_save: Annotated[bool, typer.Option("--no-save", help="reorder: don't save the reorder points")]
           = False) -> None:
    """Run a report."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import reports
        from wsms_tui.errors import BadInput
        from wsms_tui.reports.base import ReportParams

        key = name.strip().lower()
        if key == "list":
            _list(fmt, output)
            return
        spec = None if key in SPECIAL else reports.get_report(name)  # unknown names fail before the database
        if fmt == ReportFormat.xlsx and output is None:
            raise BadInput(_("--format xlsx writes a file: add --output FILE.xlsx"))
        database = cli.open_db(c)
        actor = cli.cli_actor(c, database)
        if key in ("rebuild-snapshots", "refresh-snapshots"):
            from wsms_tui.reports import snapshot

            info = (snapshot.rebuild if key == "rebuild-snapshots" else snapshot.refresh)(database, actor)
            typer.echo(_("stock snapshot: {r} rows, ledger folded in up to entry {i} ({n} entries, {s} s)").format(
                r=info.rows, i=info.ledger_id, n=info.folded, s=info.seconds))
            return
        try:
            sl = Decimal(service_level) if service_level is not None else None
        except InvalidOperation:
            raise BadInput(_("--service-level {v!r} is not a number (e.g. 0.95)").format(v=service_level)) from None
        params = ReportParams(warehouse=warehouse, date_from=_day(date_from, "--from"), date_to=_day(date_to, "--to"),
                              by=by, weeks=weeks, method=method, service_level=sl, lead_days=lead_days,
                              within_days=within, save=not no_save, settings=c.settings.reports)
        assert spec is not None
        result = spec.fn(database, actor, params)
        _emit(result, fmt, output, wide)

    cli.guarded(go)


def _list(fmt: ReportFormat, output: Path | None) -> None:
    from wsms_tui import reports
    from wsms_tui.output import Format, emit

    rows = [{"name": s.name, "description": s.description, "by": ", ".join(s.by),
             "default_days": s.period_days} for s in reports.list_reports()]
    out_fmt = Format.table if fmt in (ReportFormat.table, ReportFormat.xlsx) else Format(fmt.value)
    emit(rows, [("name", _("Report")), ("description", _("What it shows")), ("by", "--by"),
                ("default_days", _("Default days"))], out_fmt, title=_("Reports"))


def _emit(result: Any, fmt: ReportFormat, output: Path | None, wide: bool) -> None:
    from rich.console import Console

    from wsms_tui.output import Format, emit
    from wsms_tui.reports import render

    if fmt == ReportFormat.xlsx:
        assert output is not None
        render.write_xlsx(result, output)
        typer.echo(_("{title}: {n} rows written to {f} ({h})").format(title=result.title, n=len(result.rows),
                                                                      f=output, h=result.header()), err=True)
        return
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        if fmt == ReportFormat.table:
            width = None if out.isatty() else 160
            console = Console(file=out, soft_wrap=False, width=width)
            console.print(render.rich_table(result, brief=not wide))
            for chart in result.charts:
                console.print()
                for line in render.chart_lines(chart, min(72, (console.width or 80) - 4)):
                    console.print(line, highlight=False, markup=False)
            for note in result.notes:
                console.print(note, style="dim", highlight=False, markup=False)
            return
        cols = [(col.key, col.key) for col in result.columns]
        emit(render.plain_rows(result), cols, Format(fmt.value), out=out)
        typer.echo(f"{result.title} · {result.header()}", err=True)
    finally:
        if output:
            out.close()
