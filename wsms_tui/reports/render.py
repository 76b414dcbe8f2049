"""Report output without Textual: terminal charts (unicode blocks), rich tables, CSV/JSON rows, xlsx files.

Charts are plain text lines so the CLI prints them and the Reports desk shows them in a ``Static``: a bar
chart (one bar per label, eighth-block precision) and a line chart (a column per point, several rows high).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.table import Table
from rich.text import Text

from wsms_tui.i18n import _
from wsms_tui.reports.base import Chart, ReportResult

EIGHTHS = " ▏▎▍▌▋▊▉"
LEVELS = " ▁▂▃▄▅▆▇█"


def _num(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.2f}"


def bar_chart(chart: Chart, width: int = 60) -> list[str]:
    """One line per label: label, bar, value."""
    if not chart.values:
        return []
    label_w = min(22, max(cell_len(x) for x in chart.labels))
    value_w = max(len(_num(v)) for v in chart.values) + len(chart.unit)
    bar_w = max(8, width - label_w - value_w - 3)
    top = max((abs(v) for v in chart.values), default=0) or 1
    lines = [chart.title]
    for label, v in zip(chart.labels, chart.values, strict=True):
        eighths = round(abs(v) / top * bar_w * 8)
        bar = "█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")
        shown = set_cell_size(label, label_w)
        lines.append(f"{shown} {bar:<{bar_w}} {_num(v)}{chart.unit}")
    return lines


def line_chart(chart: Chart, width: int = 60, height: int = 6) -> list[str]:
    """A trend: the values resampled to at most ``width`` columns, drawn ``height`` rows high."""
    values = list(chart.values)
    if not values:
        return []
    if len(values) > width:  # average into width buckets
        step = len(values) / width
        values = [sum(values[int(i * step):max(int(i * step) + 1, int((i + 1) * step))])
                  / max(1, len(values[int(i * step):max(int(i * step) + 1, int((i + 1) * step))]))
                  for i in range(width)]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1
    cells = [round((v - lo) / span * height * 8) for v in values]
    rows = []
    for r in range(height - 1, -1, -1):
        row = ""
        for c in cells:
            fill = c - r * 8
            row += "█" if fill >= 8 else (LEVELS[fill] if fill > 0 else " ")
        rows.append(row)
    axis_w = max(len(_num(hi)), len(_num(lo)))
    out = [chart.title]
    for i, row in enumerate(rows):
        tick = _num(hi) if i == 0 else _num(lo) if i == len(rows) - 1 else ""
        out.append(f"{tick:>{axis_w}}{chart.unit} │{row}")
    first, last = chart.labels[0], chart.labels[-1]
    pad = max(1, len(values) - len(first) - len(last))
    out.append(" " * (axis_w + len(chart.unit)) + " └" + first + " " * pad + last)
    return out


def chart_lines(chart: Chart, width: int = 60) -> list[str]:
    return line_chart(chart, width) if chart.kind == "line" else bar_chart(chart, width)


def cell(v: Any) -> str:
    """A value as text in a table cell."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if isinstance(v, Decimal):
        return format(v, ",f") if abs(v) >= 1000 else format(v, "f")
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    return str(v)


def rich_table(result: ReportResult, *, brief: bool = True) -> Table:
    table = Table(title=result.title, caption=result.header(), header_style="bold", show_lines=False)
    cols = [c for c in result.columns if c.brief or not brief]
    for c in cols:
        table.add_column(c.title, justify="right" if c.numeric else "left", overflow="fold")
    for row in result.rows:
        table.add_row(*[Text(cell(row.get(c.key))) for c in cols])
    return table


def plain_rows(result: ReportResult) -> list[dict[str, Any]]:
    """Rows for CSV/JSON: every column, in column order (Decimals as text by ``output.emit``)."""
    return [{c.key: row.get(c.key) for c in result.columns} for row in result.rows]


NUMBER_FORMATS = {"money": "#,##0.00", "qty": "#,##0.######", "pct": "0.0#", "ratio": "0.00#", "int": "0",
                  "days": "0.#", "hours": "0.0", "date": "yyyy-mm-dd"}


def write_xlsx(result: ReportResult, path: Path) -> Path:
    """The report as an xlsx workbook: title, period, warehouse and computation time, the table, the notes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = result.name[:31]
    ws.append([result.title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([_("Period"), result.period])
    ws.append([_("Warehouse"), result.warehouse])
    ws.append([_("Computed at"), result.computed_at.replace(tzinfo=None), "UTC"])
    ws["B4"].number_format = "yyyy-mm-dd hh:mm:ss"
    ws.append([])
    ws.append([c.title for c in result.columns])
    header_row = ws.max_row
    for i in range(1, len(result.columns) + 1):
        ws.cell(row=header_row, column=i).font = Font(bold=True)
    for row in result.rows:
        values = []
        for c in result.columns:
            v = row.get(c.key)
            if isinstance(v, Decimal):
                v = float(v)
            values.append(v)
        ws.append(values)
        r = ws.max_row
        for i, c in enumerate(result.columns, start=1):
            fmt = NUMBER_FORMATS.get(c.type)
            if fmt:
                ws.cell(row=r, column=i).number_format = fmt
    if result.notes:
        ws.append([])
        for note in result.notes:
            ws.append([note])
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    for i, c in enumerate(result.columns, start=1):
        ws.column_dimensions[ws.cell(row=header_row, column=i).column_letter].width = max(8, min(40, len(c.title) + 4))
    wb.save(path)
    return path
