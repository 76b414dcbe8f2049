"""Report benchmarks on the large demo (≈1M ledger rows), each next to a baseline measured in the same run.

    .venv/bin/python -m bench.reports [--tiny] [--pg] [--no-sqlite] [--json PATH] [--rebuild] [--repeat N]

1. ``turnover`` by product over the demo's year (target ≤ 0.3 s) and 2. ``abc`` over the same year (≤ 0.3 s).
   Baselines: the naive way — one GROUP BY over the raw ledger through the raw driver (sales per product
   for ABC; signed flows per product for turnover, which still lacks the stock-level integral) — and the
   floor of our way: the bare aggregate over the daily snapshot through the raw driver.
3. ``forecast`` and 4. ``reorder`` for the ≈2,000 products with sales (target ≤ 5 s each). Baseline: the weekly
   demand query alone (raw driver), i.e. what is left is the forecasting in Python.
5. ``reorder_alert_count`` (the status bar's poll) and the one-off snapshot rebuild from the ledger.

Times are the best of ``--repeat`` runs (default 3) after one warm-up. The large demo is built once (~25 s on
SQLite) and cached in the temp dir (``wsms-bench-reports-large.db``; PostgreSQL: database
``wsms_bench_reports_large``); ``--rebuild`` builds it again. ``--tiny`` is the smoke run of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from wsms_tui import demo
from wsms_tui.database import Database
from wsms_tui.db.engine import make_engine
from wsms_tui.db.migrate import upgrade
from wsms_tui.db.models_reports import StockDailyState
from wsms_tui.reports import ReportParams, reorder_alert_count, run_report, snapshot
from wsms_tui.reports.base import day_number

PG_ADMIN_URL = os.environ.get("WSMS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGETS = {"turnover": 0.3, "abc": 0.3, "forecast": 5.0, "reorder": 5.0, "alert count": 0.1}


@dataclass
class Figure:
    backend: str
    name: str
    seconds: float
    baseline: float
    baseline_name: str
    target: float | None
    extra: dict[str, Any]


def log(msg: str) -> None:
    print(f"  … {msg}", file=sys.stderr, flush=True)


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    out = fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def open_demo(kind: str, scale: str, rebuild: bool) -> tuple[Database, Callable[[str], Callable[[], Any]]]:
    """The cached demo database and a raw-driver runner ``raw(sql)() -> rows``."""
    if kind == "sqlite":
        path = Path(tempfile.gettempdir()) / f"wsms-bench-reports-{scale}.db"
        if rebuild or scale == "tiny":
            for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                p.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        name = f"wsms_bench_reports_{scale}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists and (rebuild or scale == "tiny"):
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
                exists = None
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    db = Database.open(url)
    if not demo.is_demo(db):
        log(f"building the {scale} demo on {kind} (once; cached)")
        t = time.perf_counter()
        demo.build_demo(db, db.system_actor("bench"), scale=scale)
        log(f"built in {time.perf_counter() - t:.1f} s")
    if kind == "sqlite":
        conn = sqlite3.connect(str(path))

        def raw_sqlite(sql: str) -> Callable[[], Any]:
            return lambda: conn.execute(sql).fetchall()

        return db, raw_sqlite
    import psycopg

    pg = psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                         autocommit=True)

    def raw_pg(sql: str) -> Callable[[], Any]:
        return lambda: pg.execute(sql).fetchall()

    return db, raw_pg


def run(kind: str, scale: str, rebuild: bool, repeat: int) -> list[Figure]:
    db, raw = open_demo(kind, scale, rebuild)
    admin = db.system_actor("bench")
    today = demo.DEFAULT_TODAY
    now = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    year = ReportParams(now=now, date_from=today - timedelta(days=364), date_to=today)
    figs: list[Figure] = []
    mark = db.read(lambda s: s.execute(select(StockDailyState.ledger_id)).scalar()) or 0
    entries = db.read(lambda s: s.execute(text("SELECT count(*) FROM ledger_entry")).scalar_one())
    t = time.perf_counter()
    info = snapshot.rebuild(db, admin)
    rebuild_s = time.perf_counter() - t
    naive_s, _ = best(raw("SELECT product_id, sum(qty) FROM ledger_entry GROUP BY product_id"), 1)
    figs.append(Figure(kind, "snapshot rebuild", round(rebuild_s, 3), round(naive_s, 3),
                       "one GROUP BY over the ledger (raw)", None,
                       {"ledger_entries": entries, "snapshot_rows": info.rows, "mark_before": mark}))
    d0, d1 = day_number(year.date_from), day_number(year.date_to)  # type: ignore[arg-type]
    customer = "(SELECT id FROM location WHERE code = 'VIRT/CUSTOMER')"
    since = f"'{year.date_from.isoformat()}'" if kind == "sqlite" else f"timestamptz '{year.date_from}'"  # type: ignore[union-attr]
    naive_abc = (f"SELECT product_id, sum(qty) FROM ledger_entry WHERE to_location_id = {customer} "
                 f"AND at >= {since} GROUP BY product_id")
    naive_turn = "SELECT product_id, sum(qty) FROM ledger_entry GROUP BY product_id"
    floor_abc = (f"SELECT product_id, sum(qty_sold - qty_returned) FROM stock_daily WHERE day BETWEEN {d0} AND {d1} "
                 f"GROUP BY product_id")
    floor_turn = (f"SELECT product_id, sum((qty_in - qty_out) * CASE WHEN day < {d0} THEN {d1 - d0 + 1} "
                  f"ELSE {d1 + 1} - day END), sum(qty_in - qty_out), sum(CASE WHEN day >= {d0} THEN qty_sold "
                  f"- qty_returned ELSE 0 END) FROM stock_daily WHERE day <= {d1} GROUP BY product_id")
    for name, naive_sql, floor_sql in (("turnover", naive_turn, floor_turn), ("abc", naive_abc, floor_abc)):
        secs, result = best(lambda n=name: run_report(db, admin, n, year), repeat)
        naive, _ = best(raw(naive_sql), repeat)
        floor, _ = best(raw(floor_sql), repeat)
        figs.append(Figure(kind, name, round(secs, 3), round(naive, 3), "naive GROUP BY over the ledger (raw)",
                           TARGETS[name], {"rows": len(result.rows), "snapshot_floor_raw_s": round(floor, 3)}))
    weekly = (f"SELECT product_id, ({d1} - day) / 7, sum(qty_sold - qty_returned) FROM stock_daily "
              f"WHERE day BETWEEN {d1 - 52 * 7 + 1} AND {d1} GROUP BY 1, 2")
    floor, _ = best(raw(weekly), repeat)
    for name in ("forecast", "reorder"):
        p = ReportParams(now=now, date_to=today, save=name == "reorder")
        secs, result = best(lambda n=name, p=p: run_report(db, admin, n, p), repeat)
        figs.append(Figure(kind, name, round(secs, 3), round(floor, 3), "weekly demand query alone (raw)",
                           TARGETS[name], {"rows": len(result.rows), "notes": list(result.notes[-1:])}))
    secs, count = best(lambda: reorder_alert_count(db, admin), repeat)
    floor_alert, _ = best(raw("SELECT count(*) FROM reorder_point"), repeat)
    figs.append(Figure(kind, "alert count", round(secs, 4), round(floor_alert, 4), "count(*) of reorder points (raw)",
                       TARGETS["alert count"], {"alerts": count}))
    db.dispose()
    return figs


def main(argv: list[str] | None = None) -> list[Figure]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiny", action="store_true", help="the tiny demo (smoke test)")
    ap.add_argument("--pg", action="store_true", help="also PostgreSQL")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--rebuild", action="store_true", help="build the cached demo again")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, help="also write the figures here")
    a = ap.parse_args(argv)
    scale = "tiny" if a.tiny else "large"
    kinds = ([] if a.no_sqlite else ["sqlite"]) + (["postgresql"] if a.pg else [])
    figs: list[Figure] = []
    for kind in kinds:
        figs += run(kind, scale, a.rebuild, 1 if a.tiny else a.repeat)
    print(f"{'backend':<11}{'measure':<18}{'seconds':>9}{'target':>8}  {'baseline':>9}  baseline is")
    for f in figs:
        target = f"≤{f.target}" if f.target is not None else ""
        ok = "" if f.target is None else (" ok" if f.seconds <= f.target else " SLOW")
        print(f"{f.backend:<11}{f.name:<18}{f.seconds:>9.3f}{target:>8}{ok:<5}{f.baseline:>9.3f}  {f.baseline_name}"
              f"  {json.dumps(f.extra, ensure_ascii=False)}")
    if a.json:
        a.json.write_text(json.dumps({"scale": scale, "when": datetime.now(UTC).isoformat(),
                                      "figures": [asdict(f) for f in figs]}, indent=2, ensure_ascii=False, default=str))
    return figs


if __name__ == "__main__":
    main()

