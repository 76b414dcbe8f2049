"""Stocktake benchmarks on the large demo (≈1M ledger rows), each next to a baseline from the same run.

    .venv/bin/python -m bench.stocktake [--tiny] [--pg] [--no-sqlite] [--json PATH] [--rebuild]

1. the daily cycle-count list (``stocktake.cycle_list``: sales value per product from the ledger → ABC →
   class per location → last approved count → due, most overdue first) over every stock location —
   target ≤ 1 s; baseline: the same SQL statement through the raw driver (the service's own cost is the
   difference), and the bare sales aggregate over the ledger (the floor any ABC list pays);
2. approving a full count of every stock location (≈5,600 at large scale; target for 5,000: ≤ 5 s) after a
   count sheet and a recount sheet with ~5 % of lines off — ``stocktake.approve`` (set-based: lines marked,
   quants locked and checked, ledger rows by INSERT … SELECT, quants by UPDATE … FROM, one audit event);
   baseline: the raw driver posting the same adjustments with the three bare statements (insert the ledger
   rows, update the location and loss quants) in one transaction, on a copy taken before approval.
   ``stock.verify_ledger`` must be clean afterwards.

The large demo is built once (~20 s on SQLite) and cached in the temp dir (``wsms-bench-stocktake-large.db``;
PostgreSQL: a template database ``wsms_bench_stocktake_large``); ``--rebuild`` builds it again.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url

from wsms_tui import demo, stock, stocktake
from wsms_tui.database import Database
from wsms_tui.db.engine import make_engine
from wsms_tui.db.migrate import upgrade
from wsms_tui.db.models import Location, Lot, Product, Quant
from wsms_tui.security import Actor
from wsms_tui.users import add_user, authenticate

PG_ADMIN_URL = os.environ.get("WSMS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGETS = {"cycle list": 1.0, "approve full count": 5.0}


@dataclass
class Figure:
    backend: str
    name: str
    seconds: float
    baseline: float
    baseline_name: str
    target: float
    extra: dict[str, Any]


def log(msg: str) -> None:
    print(f"  … {msg}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


# ------------------------------------------------------------------------------ databases


class Backend:
    def __init__(self, kind: str, scale: str, rebuild: bool, cache_dir: Path | None = None) -> None:
        self.kind, self.scale, self.rebuild = kind, scale, rebuild
        self.cache_dir = cache_dir or Path(tempfile.gettempdir())
        self.created: list[str] = []
        self.work = Path(tempfile.mkdtemp(prefix="wsms-bench-stocktake-"))

    def _admin(self) -> Any:
        return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def _pg_url(self, name: str) -> str:
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def demo_copy(self) -> str:
        """A fresh copy of the cached demo (built first when missing)."""
        if self.kind == "sqlite":
            cache = self.cache_dir / f"wsms-bench-stocktake-{self.scale}.db"
            if self.rebuild or not cache.exists():
                cache.unlink(missing_ok=True)
                self._build(f"sqlite:///{cache}")
            path = self.work / f"demo-{uuid.uuid4().hex[:6]}.db"
            shutil.copy(cache, path)
            return f"sqlite:///{path}"
        tmpl = f"wsms_bench_stocktake_{self.scale}"
        admin = self._admin()
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": tmpl}).scalar()
            if exists and self.rebuild:
                conn.execute(text(f'DROP DATABASE "{tmpl}" WITH (FORCE)'))
                exists = None
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{tmpl}"'))
        if not exists:
            try:
                self._build(self._pg_url(tmpl))
            except BaseException:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{tmpl}" WITH (FORCE)'))
                raise
        name = f"wsms_bench_st_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{tmpl}"'))
        admin.dispose()
        self.created.append(name)
        return self._pg_url(name)

    def clone(self, url: str) -> str:
        if self.kind == "sqlite":
            src = Path(make_url(url).database or "")
            path = self.work / f"copy-{uuid.uuid4().hex[:6]}.db"
            shutil.copy(src, path)
            return f"sqlite:///{path}"
        name = f"wsms_bench_st_{uuid.uuid4().hex[:8]}"
        admin = self._admin()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(url).database}"'))
        admin.dispose()
        self.created.append(name)
        return self._pg_url(name)

    def _build(self, url: str) -> None:
        log(f"building the {self.scale} demo ({self.kind}), cached for later runs")
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        db = Database.open(url)
        t, summary = timed(lambda: demo.build_demo(db, db.system_actor("bench"), scale=self.scale))
        log(f"demo built in {t:.1f} s: {summary.ledger_entries:,} ledger rows, {summary.locations:,} locations")
        db.dispose()
        if self.kind == "sqlite":
            engine = make_engine(url)
            engine.dispose()

    def cleanup(self) -> None:
        if self.created:
            admin = self._admin()
            with admin.connect() as conn:
                for name in self.created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(self.work, ignore_errors=True)


def raw_connect(url: str) -> Any:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        con = sqlite3.connect(u.database or "", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        return con
    import psycopg

    return psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432, user=u.username, dbname=u.database,
                           password=u.password)


def compiled(stmt: Any, kind: str) -> tuple[str, Any]:
    """SQL text and parameters of a statement for the raw driver (qmark for sqlite3, pyformat for psycopg)."""
    kw = {"render_postcompile": True}
    if kind == "sqlite":
        c = stmt.compile(dialect=sqlite_dialect.dialect(paramstyle="qmark"), compile_kwargs=kw)
        return str(c), tuple(c.params[k] for k in c.positiontup)
    c = stmt.compile(dialect=postgresql.dialect(paramstyle="pyformat"), compile_kwargs=kw)
    return str(c), dict(c.params)


# ------------------------------------------------------------------------------ figures


def bench_cycle_list(be: Backend, url: str, admin: Actor, repeats: int) -> Figure:
    db = Database.open(url)
    day = demo.DEFAULT_TODAY
    policy = stocktake.DEFAULT_POLICY
    stocktake.cycle_list(db, admin, day=day)  # warm the caches, like a desk that has been running
    best, rows = min((timed(lambda: stocktake.cycle_list(db, admin, day=day)) for _ in range(repeats)),
                     key=lambda r: r[0])
    stmt = db.read(lambda s: stocktake._due_query(s, warehouse_id=None, day=day, policy=policy, limit=None))
    sql, params = compiled(stmt, be.kind)
    con = raw_connect(url)
    cur = con.cursor()

    def raw_same() -> int:
        cur.execute(sql, params)
        return len(cur.fetchall())

    def raw_aggregate() -> int:
        cur.execute("SELECT product_id, SUM(qty) FROM ledger_entry WHERE to_location_id = "
                    "(SELECT id FROM location WHERE code = 'VIRT/CUSTOMER') AND kind IN ('ship', 'move') "
                    "GROUP BY product_id")
        return len(cur.fetchall())

    raw_same()
    base_same = min(timed(raw_same)[0] for _ in range(repeats))
    base_agg = min(timed(raw_aggregate)[0] for _ in range(repeats))
    con.close()
    classes = stocktake.abc_classes(db, admin, day=day)
    db.dispose()
    return Figure(be.kind, "cycle list", best, base_same, "same SQL, raw driver", TARGETS["cycle list"],
                  {"due_today": len(rows), "abc_locations": classes, "bare_sales_aggregate_s": round(base_agg, 4)})


def _sheet_rows(db: Database, ref: str, rng: random.Random) -> list[tuple[str, str, str | None, Decimal]]:
    """What a counter finds: the system quantity for ~95 % of lines, a few units off for the rest, and now
    and then an item missing altogether."""

    def work(s: Any) -> list[tuple[str, str, str | None, Decimal]]:
        from wsms_tui.db.models_stocktake import CountLocation, CountSession

        q = (select(Location.code, Product.sku, Lot.lot_no, Product.tracking, Quant.on_hand)
             .join(CountLocation, CountLocation.location_id == Location.id)
             .join(CountSession, CountSession.id == CountLocation.session_id)
             .outerjoin(Quant, (Quant.location_id == Location.id) & (Quant.on_hand > 0))
             .outerjoin(Product, Product.id == Quant.product_id).outerjoin(Lot, Lot.id == Quant.lot_id)
             .where(CountSession.ref == ref).order_by(CountLocation.seq))
        out: list[tuple[str, str, str | None, Decimal]] = []
        for code, sku, lot, tracking, qty in s.execute(q):
            if sku is None:
                out.append((code, "", None, Decimal(0)))
                continue
            r = rng.random()
            if r < 0.01:
                continue  # not found
            if r < 0.05 and tracking != "serial" and qty == qty.to_integral_value():
                qty = max(Decimal(0), qty + rng.choice((-3, -2, -1, 1, 2)))
            out.append((code, sku, lot, qty))
        return out

    return db.read(work)


def bench_approve(be: Backend, url: str, admin: Actor) -> Figure:
    db = Database.open(url)
    add_user(db, admin, "counter1", "clerk", "1111")
    add_user(db, admin, "counter2", "clerk", "2222")
    c1 = authenticate(db, "counter1", "1111", "bench")
    c2 = authenticate(db, "counter2", "2222", "bench")
    t_plan, plan = timed(lambda: stocktake.plan_full(db, admin, warehouse=None))
    log(f"planned {plan.ref}: {plan.locations:,} locations in {t_plan:.2f} s")
    rows = _sheet_rows(db, plan.ref, random.Random(6))
    t_sheet, sheet = timed(lambda: stocktake.count_sheet(db, c1, plan.ref, rows))
    log(f"count sheet: {sheet.lines:,} lines in {t_sheet:.2f} s, {sheet.recount:,} locations to recount")
    recount_locs = {v.location for v in stocktake.count_locations(db, admin, plan.ref, status="recount",
                                                                  limit=100_000)}
    recount_rows = [r for r in rows if r[0] in recount_locs]
    t_re, _ = timed(lambda: stocktake.count_sheet(db, c2, plan.ref, recount_rows))
    log(f"recount sheet: {len(recount_locs):,} locations in {t_re:.2f} s")
    db.dispose()
    base_url = be.clone(url)  # the same state, for the raw-driver baseline

    db = Database.open(url)
    t_approve, decision = timed(lambda: stocktake.approve(db, admin, plan.ref))
    report = stock.verify_ledger(db, admin)
    if not report.ok:
        raise SystemExit(f"ledger verify failed after approval: {report.problems[:5]}")
    acc = stocktake.accuracy(db, admin, plan.ref)
    db.dispose()
    log(f"approved {decision.locations:,} locations, {decision.entries:,} ledger entries in {t_approve:.2f} s; "
        f"ledger verify OK")

    base_db = Database.open(base_url)

    def statements(s: Any) -> list[tuple[str, Any]]:
        sid = s.execute(text("SELECT id FROM count_session WHERE ref = :r"), {"r": plan.ref}).scalar_one()
        loss = s.execute(text("SELECT id FROM location WHERE code = 'VIRT/LOSS'")).scalar_one()
        return [(sid, loss)]  # type: ignore[list-item]

    (sid, loss), = base_db.read(statements)
    base_db.dispose()
    now = "2026-11-02 10:00:00.000000" if be.kind == "sqlite" else "2026-11-02 10:00:00+00"
    cond = f"session_id = {sid} AND variance <> 0"
    raw = [
        f"INSERT INTO ledger_entry (op_id, at, kind, actor_id, terminal, product_id, qty, from_location_id, "
        f"to_location_id, lot_id, package_id, doc_ref, reason) SELECT 'raw:' || count_line.id, '{now}', 'adjust', "
        f"{admin.user_id}, 'bench', product_id, abs(variance), "
        f"CASE WHEN variance > 0 THEN {loss} ELSE location_id END, "
        f"CASE WHEN variance > 0 THEN location_id ELSE {loss} END, lot_id, NULL, '{plan.ref}', 'count' "
        f"FROM count_line WHERE {cond}",
        f"UPDATE quant SET on_hand = quant.on_hand + d.v FROM (SELECT product_id, location_id, lot_id, variance AS v "
        f"FROM count_line WHERE {cond}) d WHERE quant.product_id = d.product_id AND quant.location_id = d.location_id "
        f"AND coalesce(quant.lot_id, 0) = coalesce(d.lot_id, 0) AND quant.package_id IS NULL",
        f"UPDATE quant SET on_hand = quant.on_hand - d.v FROM (SELECT product_id, lot_id, SUM(variance) AS v "
        f"FROM count_line WHERE {cond} GROUP BY product_id, lot_id) d WHERE quant.product_id = d.product_id "
        f"AND quant.location_id = {loss} AND coalesce(quant.lot_id, 0) = coalesce(d.lot_id, 0) "
        f"AND quant.package_id IS NULL",
    ]
    con = raw_connect(base_url)

    def run_raw() -> None:
        cur = con.cursor()
        if be.kind == "sqlite":
            cur.execute("BEGIN IMMEDIATE")
        for sql in raw:
            cur.execute(sql)
        con.commit() if be.kind != "sqlite" else cur.execute("COMMIT")

    t_raw, _ = timed(run_raw)
    con.close()
    return Figure(be.kind, "approve full count", t_approve, t_raw, "3 bare statements, raw driver",
                  TARGETS["approve full count"],
                  {"locations": decision.locations, "entries": decision.entries, "held": len(decision.held),
                   "sheet_lines": sheet.lines, "sheet_s": round(t_sheet, 3), "recounted": len(recount_locs),
                   "location_accuracy": round(acc.location_accuracy or 0, 4),
                   "value_accuracy": round(acc.value_accuracy or 0, 4)})


def render(figures: list[Figure]) -> str:
    lines = [f"{'backend':<11}{'benchmark':<21}{'seconds':>9}{'target':>8}{'':>6}{'baseline':>10}  baseline is",
             "-" * 96]
    for f in figures:
        ok = "ok" if f.seconds <= f.target else "SLOW"
        lines.append(f"{f.backend:<11}{f.name:<21}{f.seconds:>9.3f}{f.target:>8.1f}{ok:>6}{f.baseline:>10.3f}  "
                     f"{f.baseline_name}")
        lines.append(f"{'':<11}{'':<21}  {json.dumps(f.extra, ensure_ascii=False)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="the tiny demo (a smoke run; figures mean nothing)")
    ap.add_argument("--pg", action="store_true", help="also PostgreSQL (WSMS_BENCH_PG_URL)")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--rebuild", action="store_true", help="build the cached demo again")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--cache-dir", type=Path, help="where the SQLite demo is cached (default: the temp dir)")
    args = ap.parse_args(argv)
    scale = "tiny" if args.tiny else "large"
    kinds = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.pg else [])
    figures: list[Figure] = []
    for kind in kinds:
        be = Backend(kind, scale, args.rebuild, args.cache_dir)
        try:
            url = be.demo_copy()
            db = Database.open(url)
            admin = db.system_actor("bench")
            db.dispose()
            figures.append(bench_cycle_list(be, url, admin, 1 if args.tiny else 3))
            figures.append(bench_approve(be, url, admin))
        finally:
            be.cleanup()
    print(f"wsms stocktake benchmarks ({scale} demo)")
    print(render(figures))
    if args.json:
        args.json.write_text(json.dumps({"scale": scale, "figures": [asdict(f) for f in figures]}, indent=2),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
