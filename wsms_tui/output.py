"""Listing output for the CLI: rich tables, CSV or JSON (an array of objects with snake_case keys).

Rows arrive as an iterable of dicts (possibly page by page from SQL) and are streamed for CSV and
JSON, so large listings never sit in memory as a whole.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


Column = tuple[str, str]  # key, heading


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return format(v, "f")
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def emit(rows: Iterable[dict[str, Any]], columns: list[Column], fmt: Format, *, title: str | None = None,
         out: TextIO | None = None, numeric: frozenset[str] = frozenset()) -> int:
    """Write ``rows`` in ``fmt``; returns the number of rows written."""
    out = out or sys.stdout
    n = 0
    if fmt == Format.json:
        out.write("[")
        for row in rows:
            out.write(("," if n else "") + "\n  " + json.dumps({k: _plain(row.get(k)) for k, _h in columns},
                                                              ensure_ascii=False))
            n += 1
        out.write("\n]\n" if n else "]\n")
        return n
    if fmt == Format.csv:
        w = csv.writer(out, lineterminator="\n")
        w.writerow([k for k, _h in columns])
        for row in rows:
            w.writerow(["" if row.get(k) is None else _plain(row.get(k)) for k, _h in columns])
            n += 1
        return n
    table = Table(title=title, show_lines=False, header_style="bold")
    for k, h in columns:
        table.add_column(h, justify="right" if k in numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*["" if row.get(k) is None else str(_plain(row.get(k))) for k, _h in columns])
        n += 1
    # On a terminal the table fits its width; piped into a file or a pager it keeps whole lines.
    width = None if out.isatty() else 400
    Console(file=out, soft_wrap=False, width=width).print(table)
    return n
