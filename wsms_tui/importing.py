"""Reading import files: CSV (UTF-8, header row) or JSON (an array of objects), validated row by row.

Shared by every importer (products, locations, receipts, orders). A file is validated completely
before anything is written; each bad row yields one ``RowError`` (line, column, reason). Without
``skip_bad_rows`` any bad row rejects the file (``ImportRejected``); with it, bad rows go to a
reject file: the original columns plus ``error``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from wsms_tui.errors import BadInput
from wsms_tui.i18n import _

Progress = Callable[[str, int, int], None]
CHUNK = 5000


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        if self.column:
            return _("line {line}, column {col}: {reason}").format(line=self.line, col=self.column, reason=self.reason)
        return _("line {line}: {reason}").format(line=self.line, reason=self.reason)


class ImportRejected(BadInput):
    """The file has bad rows and nothing was written; ``errors`` lists them."""

    def __init__(self, path: Path, errors: list[RowError]) -> None:
        self.errors = errors
        head = _("{file}: {n} bad row(s), nothing imported (fix them, or use --skip-bad-rows)").format(
            file=path.name, n=len({e.line for e in errors}))
        super().__init__("\n".join([head, *(str(e) for e in errors[:200])]))


@dataclass
class ImportReport:
    kind: str
    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    reject_file: str | None = None


@dataclass
class Row:
    line: int
    raw: dict[str, str]


# ---------------------------------------------------------------- reading files


def read_rows(path: Path, required: list[str], optional: list[str],
              nested: str | None = None) -> tuple[list[str], list[Row]]:
    """Decode a CSV/JSON file into rows; file-level problems raise ``ImportRejected`` at line 1."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(_("cannot read {file}: {err}").format(file=path, err=exc.strerror)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ImportRejected(path, [RowError(line, "", _("not UTF-8 text (save the file as UTF-8)"))]) from None
    if "\x00" in text:
        raise ImportRejected(path, [RowError(text.count("\n", 0, text.index("\x00")) + 1, "",
                                             _("contains NUL bytes: not a text file"))])
    if path.suffix.lower() == ".json":
        return read_json(path, text, required, optional, nested)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ImportRejected(path, [RowError(1, "", _("the file is empty"))]) from None
    check_header(path, header, required, optional)
    rows: list[Row] = []
    try:
        for raw in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in raw):
                continue
            if len(raw) != len(header):
                rows.append(Row(line, {"__error__": _("{n} fields, the header has {m}").format(
                    n=len(raw), m=len(header))}))
                continue
            rows.append(Row(line, {h: v.strip() for h, v in zip(header, raw, strict=True)}))
    except csv.Error as exc:
        raise ImportRejected(path, [RowError(reader.line_num, "", _("broken CSV: {e}").format(e=exc))]) from None
    return header, rows


def read_json(path: Path, text: str, required: list[str], optional: list[str],
              nested: str | None = None) -> tuple[list[str], list[Row]]:
    """A JSON array of flat objects; or of documents with a ``nested`` list (e.g. receipts with
    ``lines``), flattened to one row per nested item carrying the document's fields."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(path, [RowError(exc.lineno, "", _("broken JSON: {e}").format(e=exc.msg))]) from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ImportRejected(path, [RowError(1, "", _("JSON must be an array of objects"))])
    flat: list[tuple[int, dict[str, Any]]] = []
    for i, item in enumerate(items):
        subs = item.get(nested) if nested else None
        if nested and isinstance(subs, list):
            head = {k: v for k, v in item.items() if k != nested}
            for sub in subs:
                flat.append((i + 1, {**head, **sub} if isinstance(sub, dict) else {**head, "__error__": "bad line"}))
        else:
            flat.append((i + 1, item))
    header = list(dict.fromkeys(k.lower() for _i, item in flat for k in item if k != "__error__"))
    check_header(path, header, required, [*optional, *required], partial_ok=True)
    rows = [Row(n, {k.lower(): "" if v is None else str(v).strip() for k, v in item.items()}) for n, item in flat]
    return header, rows


def check_header(path: Path, header: list[str], required: list[str], optional: list[str],
                  partial_ok: bool = False) -> None:
    errors = []
    known = set(required) | set(optional)
    for h in header:
        if h not in known:
            errors.append(RowError(1, h, _("unknown column (expected: {cols})").format(cols=", ".join(required))))
    if len(set(header)) != len(header):
        errors.append(RowError(1, "", _("a column appears twice")))
    if not partial_ok:
        for r in required:
            if r not in header:
                errors.append(RowError(1, r, _("missing column")))
    if errors:
        raise ImportRejected(path, errors)


# ---------------------------------------------------------------- field parsers


class FieldError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        self.column, self.reason = column, reason


def req(raw: dict[str, str], col: str, max_len: int) -> str:
    v = raw.get(col, "")
    if not v:
        raise FieldError(col, _("required"))
    if len(v) > max_len:
        raise FieldError(col, _("longer than {n} characters").format(n=max_len))
    return v


def opt_decimal(raw: dict[str, str], col: str, scale: int, *, minimum: Decimal | None = Decimal(0)) -> Decimal | None:
    v = raw.get(col, "")
    if not v:
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        raise FieldError(col, _("{v!r} is not a number").format(v=v)) from None
    if not d.is_finite():
        raise FieldError(col, _("{v!r} is not a number").format(v=v))
    if minimum is not None and d < minimum:
        raise FieldError(col, _("must not be negative"))
    if d != d.quantize(Decimal(1).scaleb(-scale)):
        raise FieldError(col, _("more than {n} decimal places").format(n=scale))
    if abs(d) >= Decimal(10) ** (18 - scale):
        raise FieldError(col, _("too large"))
    return d


def opt_float(raw: dict[str, str], col: str) -> float | None:
    v = raw.get(col, "")
    if not v:
        return None
    try:
        f = float(v)
    except ValueError:
        raise FieldError(col, _("{v!r} is not a number").format(v=v)) from None
    if f != f or f in (float("inf"), float("-inf")):
        raise FieldError(col, _("{v!r} is not a number").format(v=v))
    return f


def opt_int(raw: dict[str, str], col: str) -> int | None:
    v = raw.get(col, "")
    if not v:
        return None
    if not v.isdigit():
        raise FieldError(col, _("{v!r} is not a whole number").format(v=v))
    return int(v)


def code(raw: dict[str, str], col: str, max_len: int = 64) -> str:
    v = req(raw, col, max_len)
    if any(c.isspace() for c in v) or not v.isprintable():
        raise FieldError(col, _("must not contain spaces or control characters"))
    return v


def validate(rows: Iterable[Row], parse: Callable[[dict[str, str]], dict[str, Any]],
              errors: list[RowError]) -> list[tuple[Row, dict[str, Any]]]:
    good = []
    for row in rows:
        if "__error__" in row.raw:
            errors.append(RowError(row.line, "", row.raw["__error__"]))
            continue
        try:
            good.append((row, parse(row.raw)))
        except FieldError as fe:
            errors.append(RowError(row.line, fe.column, fe.reason))
    return good


def write_rejects(path: Path, header: list[str], rows: list[Row], errors: list[RowError]) -> Path:
    by_line: dict[int, list[str]] = {}
    for e in errors:
        by_line.setdefault(e.line, []).append(f"{e.column}: {e.reason}" if e.column else e.reason)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*header, "error"])
        for row in rows:
            if row.line in by_line:
                w.writerow([row.raw.get(h, "") for h in header] + ["; ".join(by_line[row.line])])
    return path


def finish(path: Path, header: list[str], rows: list[Row], errors: list[RowError], skip_bad_rows: bool,
            reject_path: Path | None, report: ImportReport) -> set[int]:
    """Raise if bad rows and not skipping; else write the reject file. Returns the bad line numbers."""
    errors.sort(key=lambda e: e.line)
    report.errors = errors
    bad = {e.line for e in errors}
    if errors and not skip_bad_rows:
        raise ImportRejected(path, errors)
    if errors:
        target = reject_path or path.with_name(path.stem + ".rejects.csv")
        report.reject_file = str(write_rejects(target, header, rows, errors))
    return bad


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
