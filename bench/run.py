"""wsms benchmarks, each printed next to a raw-driver baseline measured in the same run.

    .venv/bin/python -m bench.run [--quick | --tiny] [--pg] [--no-sqlite] [--json PATH]

1. import 100k products through ``catalog.import_products`` (falls back to the bulk Core insert the
   importer uses when that service is absent) vs csv + raw driver ``executemany`` of the same rows;
2. 1,000 single receive transactions through ``ledger.receive`` (each its own transaction with its
   audit event) on the large demo: p50/p95 vs a raw driver doing the minimal equivalent per
   transaction (insert the ledger row, upsert both quants, commit; SQLite in WAL, synchronous=FULL);
3. ``stock.verify_ledger`` over the large demo vs one raw SQL GROUP BY over the same ledger;
4. building the large demo vs the raw driver inserting the same ledger rows into a copy of the
   demo emptied of its ledger (SQLite: executemany; PostgreSQL: COPY).

SQLite always (unless ``--no-sqlite``); ``--pg`` also PostgreSQL (creates and drops its own databases
through ``WSMS_BENCH_PG_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
``--quick`` uses smaller sizes; ``--tiny`` is the smoke run of the test suite. Results also go to
``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from wsms_tui import demo, ledger, stock
from wsms_tui.barcodes import gs1_check_digit
from wsms_tui.database import Database
from wsms_tui.db.engine import make_engine
from wsms_tui.db.migrate import upgrade
from wsms_tui.db.models import Location, Product, ProductBarcode
from wsms_tui.security import Actor

RESULTS = Path(__file__).with_name("results")
PG_ADMIN_URL = os.environ.get("WSMS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Sizes:
    name: str
    products: int
    receives: int
    demo_scale: str
    repeats: int


SIZES = {
    "full": Sizes("full", 100_000, 1_000, "large", 3),
    "quick": Sizes("quick", 10_000, 200, "small", 1),
    "tiny": Sizes("tiny", 500, 25, "tiny", 1),
}


@dataclass
class Figure:
    backend: str
    name: str
    unit: str
    value: float
    baseline: float
    baseline_name: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")


def log(msg: str) -> None:
    print(f"  … {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ databases


class Backend:
    """Creates fresh migrated databases of one kind and gives raw driver connections to them."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        self.workdir = workdir
        self.created: list[str] = []

    def new_url(self, label: str) -> str:
        if self.kind == "sqlite":
            url = f"sqlite:///{self.workdir / f'{label}-{uuid.uuid4().hex[:6]}.db'}"
        else:
            name = f"wsms_bench_{label}_{uuid.uuid4().hex[:8]}"
            with self._admin() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            self.created.append(name)
            url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        return url

    def clone(self, url: str, label: str) -> str:
        """A copy of a database (its engine must be disposed)."""
        if self.kind == "sqlite":
            src = Path(make_url(url).database or "")
            dst = self.workdir / f"{label}-{uuid.uuid4().hex[:6]}.db"
            with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
                a.backup(b)
            return f"sqlite:///{dst}"
        name = f"wsms_bench_{label}_{uuid.uuid4().hex[:8]}"
        with self._admin() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(url).database}"'))
        self.created.append(name)
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    @contextmanager
    def _admin(self) -> Iterator[Any]:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            engine.dispose()

    def raw(self, url: str) -> Any:
        """A raw driver connection: sqlite3 (WAL, synchronous=FULL, FKs on) or psycopg (autocommit off)."""
        if self.kind == "sqlite":
            con = sqlite3.connect(make_url(url).database or "", isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=10000"):
                con.execute(f"PRAGMA {pragma}")
            return con
        import psycopg

        u = make_url(url)
        return psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, dbname=u.database)

    def begin(self, con: Any, immediate: bool = True) -> None:
        if self.kind == "sqlite":
            con.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @property
    def ph(self) -> str:
        return "?" if self.kind == "sqlite" else "%s"

    def cleanup(self) -> None:
        if self.kind == "postgresql" and self.created:
            with self._admin() as conn:
                for name in self.created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
        engine.dispose()
        return str(version)
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        print(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}", file=sys.stderr)
        return None


# ------------------------------------------------------------------------------------ 1. import


def _product_csv(path: Path, n: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["sku", "name", "gtin", "uom", "tracking", "unit_cost", "category"])
        for i in range(n):
            body = f"{690 + i % 6}{i:09d}"
            gtin = body + str(gs1_check_digit(body))
            w.writerow([f"B{i:06d}", f"商品 {i} Product {i}", gtin, "unit", ("none", "lot", "serial")[i % 3],
                        f"{rng.randint(100, 99999) / 100:.2f}", "Bench"])


def bench_import(be: Backend, sizes: Sizes) -> Figure:
    path = be.workdir / "products.csv"
    if not path.exists():
        _product_csv(path, sizes.products)
    url = be.new_url("import")
    db = Database.open(url)
    actor = db.system_actor("bench")
    t0 = time.perf_counter()
    try:
        from wsms_tui.catalog import import_products

        report = import_products(db, actor, path)
        how = "catalog.import_products"
        assert report.created == sizes.products, report
    except ImportError:  # the importer's bulk Core path, for a tree without the catalog service
        how = "Core insert() executemany"
        _core_import(db, path)
    value = time.perf_counter() - t0
    count = db.read(lambda s: s.execute(text("SELECT count(*) FROM product_barcode")).scalar_one())
    assert count == sizes.products
    db.dispose()

    url2 = be.new_url("import-raw")
    con = be.raw(url2)
    ph = be.ph
    t0 = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    be.begin(con)
    cur = con.cursor()
    cur.executemany(
        f"INSERT INTO product (sku, name, uom, tracking, unit_cost, category, active) "
        f"VALUES ({ph}, {ph}, {ph}, {ph}, {ph}, {ph}, {ph})",
        [(r[0], r[1], r[3], r[4], int(Decimal(r[5]) * 10_000), r[6], True) for r in rows])
    cur.execute("SELECT sku, id FROM product")
    ids = dict(cur.fetchall())
    cur.executemany(f"INSERT INTO product_barcode (product_id, code, kind, pack_qty) VALUES ({ph}, {ph}, {ph}, {ph})",
                    [(ids[r[0]], r[2].zfill(14), "gtin", 1_000_000) for r in rows])
    con.commit() if be.kind == "postgresql" else con.execute("COMMIT")
    baseline = time.perf_counter() - t0
    con.close()
    return Figure(be.kind, f"import {sizes.products:,} products (+GTINs)", "s", value, baseline,
                  "csv + raw executemany", {"via": how, "rows_per_s": round(sizes.products / value)})


def _core_import(db: Database, path: Path) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))

    def work(s: Any) -> None:
        for i in range(0, len(rows), 5000):
            s.execute(insert(Product), [{"sku": r["sku"], "name": r["name"], "uom": r["uom"], "tracking": r["tracking"],
                                         "unit_cost": Decimal(r["unit_cost"]), "category": r["category"],
                                         "active": True} for r in rows[i:i + 5000]])
        ids = dict(s.execute(select(Product.sku, Product.id)).all())
        for i in range(0, len(rows), 5000):
            s.execute(insert(ProductBarcode), [{"product_id": ids[r["sku"]], "code": r["gtin"].zfill(14),
                                                "kind": "gtin", "pack_qty": Decimal(1)} for r in rows[i:i + 5000]])

    db.write(work)


# ------------------------------------------------------------------------------------ 4. demo


def bench_demo(be: Backend, sizes: Sizes) -> tuple[Figure, str]:
    url = be.new_url("demo")
    db = Database.open(url)
    actor = db.system_actor("bench")
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 5 or done == total == 0:
            log(f"demo {stage} {done:,}/{total:,}")
            last[0] = now

    t0 = time.perf_counter()
    summary = demo.build_demo(db, actor, scale=sizes.demo_scale, progress=progress)
    value = time.perf_counter() - t0
    db.dispose()

    # baseline: a copy of the demo emptied of its ledger, then the raw driver inserts the same rows
    copy = be.clone(url, "demo-raw")
    con = be.raw(copy)
    cur = con.cursor()
    cols = demo.LEDGER_COLS
    cur.execute(f"SELECT {', '.join(cols)} FROM ledger_entry ORDER BY id")
    rows = cur.fetchall()
    be.begin(con)
    cur.execute("DELETE FROM ledger_entry" if be.kind == "sqlite" else "TRUNCATE ledger_entry CASCADE")
    con.commit() if be.kind == "postgresql" else con.execute("COMMIT")
    if be.kind == "sqlite":
        con.execute("PRAGMA cache_size=-262144")  # what the demo builder gives itself
    t0 = time.perf_counter()
    be.begin(con)
    if be.kind == "sqlite":
        con.executemany(f"INSERT INTO ledger_entry ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", rows)
        con.execute("COMMIT")
        how = "raw sqlite3 executemany"
    else:
        with cur.copy(f"COPY ledger_entry ({', '.join(cols)}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)
        con.commit()
        how = "raw psycopg COPY"
    baseline = time.perf_counter() - t0
    con.close()
    fig = Figure(be.kind, f"build demo ({sizes.demo_scale}: {summary.ledger_entries:,} ledger rows)", "s", value,
                 baseline, f"{how} of the ledger rows",
                 {"ledger_rows": summary.ledger_entries, "products": summary.products, "locations": summary.locations,
                  "lots": summary.lots, "quants": summary.quants})
    return fig, url


# ------------------------------------------------------------------------------------ 3. verify

RAW_GROUP_BY = (
    "SELECT p, l, t, k, sum(q) FROM ("
    " SELECT product_id AS p, to_location_id AS l, lot_id AS t, package_id AS k, qty AS q FROM ledger_entry"
    " UNION ALL"
    " SELECT product_id, from_location_id, lot_id, package_id, -qty FROM ledger_entry) m"
    " GROUP BY p, l, t, k"
)


def bench_verify(be: Backend, sizes: Sizes, url: str) -> Figure:
    db = Database.open(url)
    actor = db.system_actor("bench")
    times = []
    for _ in range(sizes.repeats):
        t0 = time.perf_counter()
        report = stock.verify_ledger(db, actor)
        times.append(time.perf_counter() - t0)
        assert report.ok, report.problems[:3]
    db.dispose()
    con = be.raw(url)
    base = []
    for _ in range(sizes.repeats):
        t0 = time.perf_counter()
        cur = con.cursor()
        cur.execute(RAW_GROUP_BY)
        groups = len(cur.fetchall())
        base.append(time.perf_counter() - t0)
        if be.kind == "postgresql":
            con.rollback()
    con.close()
    return Figure(be.kind, f"ledger verify ({report.entries:,} rows, {report.quants:,} quants)", "s",
                  statistics.median(times), statistics.median(base), "raw GROUP BY fetchall",
                  {"groups": groups, "runs": sizes.repeats})


# ------------------------------------------------------------------------------------ 2. receive


def _targets(db: Database) -> tuple[list[str], list[str]]:
    def work(s: Any) -> tuple[list[str], list[str]]:
        skus = s.execute(select(Product.sku).where(Product.tracking == "none").order_by(Product.id)).scalars().all()
        bins = s.execute(select(Location.code).where(Location.usage == "internal").order_by(Location.id)
                         ).scalars().all()
        return list(skus), list(bins)

    return db.read(work)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_receive(be: Backend, sizes: Sizes, url: str) -> list[Figure]:
    db = Database.open(url)
    actor: Actor = db.system_actor("bench")
    skus, bins = _targets(db)
    rng = random.Random(3)
    plan = [(skus[rng.randrange(len(skus))], bins[rng.randrange(len(bins))], rng.randint(1, 48))
            for _ in range(sizes.receives)]
    run = uuid.uuid4().hex[:6]
    times = []
    for i, (sku, loc, qty) in enumerate(plan):
        t0 = time.perf_counter()
        ledger.receive(db, actor, product=sku, qty=qty, location=loc, op_id=f"bench-{run}-{i}")
        times.append(time.perf_counter() - t0)
    ids = dict(db.read(lambda s: s.execute(select(Product.sku, Product.id)).all()))
    locs = dict(db.read(lambda s: s.execute(select(Location.code, Location.id)).all()))
    supplier = locs[ledger.SUPPLIER]
    db.dispose()

    con = be.raw(url)
    cur = con.cursor()
    ph = be.ph
    ins = (f"INSERT INTO ledger_entry (op_id, at, kind, actor_id, terminal, product_id, qty, from_location_id, "
           f"to_location_id, doc_ref, reason) VALUES ({', '.join([ph] * 11)})")
    ups = (f"INSERT INTO quant (product_id, location_id, lot_id, package_id, on_hand, reserved) "
           f"VALUES ({ph}, {ph}, NULL, NULL, {ph}, 0) "
           f"ON CONFLICT (product_id, location_id, (coalesce(lot_id, 0)), (coalesce(package_id, 0))) "
           f"DO UPDATE SET on_hand = quant.on_hand + excluded.on_hand")
    base = []
    for i, (sku, loc, qty) in enumerate(plan):
        pid, lid, q = ids[sku], locs[loc], qty * 1_000_000
        at: Any = datetime.now(UTC)
        if be.kind == "sqlite":
            at = at.replace(tzinfo=None).isoformat(" ", "microseconds")
        t0 = time.perf_counter()
        be.begin(con)
        cur.execute(ins, (f"raw-{run}-{i}", at, "receive", actor.user_id, "bench", pid, q, supplier, lid, "", ""))
        cur.execute(ups, (pid, supplier, -q))
        cur.execute(ups, (pid, lid, q))
        con.commit() if be.kind == "postgresql" else con.execute("COMMIT")
        base.append(time.perf_counter() - t0)
    con.close()
    db = Database.open(url)
    report = stock.verify_ledger(db, db.system_actor("bench"))  # the raw rows kept the books straight too
    db.dispose()
    assert report.ok, report.problems[:3]
    n = sizes.receives
    extra = {"transactions": n, "mean_ms": round(statistics.mean(times) * 1000, 2),
             "baseline_mean_ms": round(statistics.mean(base) * 1000, 2)}
    return [
        Figure(be.kind, f"receive, {n:,} single transactions: p50", "ms", _pct(times, 0.5) * 1000,
               _pct(base, 0.5) * 1000, "raw insert + 2 quant upserts + commit", extra),
        Figure(be.kind, f"receive, {n:,} single transactions: p95", "ms", _pct(times, 0.95) * 1000,
               _pct(base, 0.95) * 1000, "raw insert + 2 quant upserts + commit", extra),
    ]


# ------------------------------------------------------------------------------------ main


def run_backend(kind: str, sizes: Sizes, workdir: Path, progress: Callable[[str], None]) -> list[Figure]:
    be = Backend(kind, workdir)
    figures: list[Figure] = []
    try:
        progress(f"{kind}: import {sizes.products:,} products")
        figures.append(bench_import(be, sizes))
        progress(f"{kind}: build the {sizes.demo_scale} demo")
        fig, demo_url = bench_demo(be, sizes)
        figures.append(fig)
        progress(f"{kind}: ledger verify")
        figures.append(bench_verify(be, sizes, demo_url))
        progress(f"{kind}: {sizes.receives:,} receives")
        figures[1:1] = bench_receive(be, sizes, demo_url)
    finally:
        be.cleanup()
    return figures


def render(figures: list[Figure]) -> str:
    head = ("backend", "benchmark", "wsms", "baseline", "×", "baseline is")
    rows = [(f.backend, f.name, f"{f.value:,.3f} {f.unit}" if f.unit == "s" else f"{f.value:,.2f} {f.unit}",
             f"{f.baseline:,.3f} {f.unit}" if f.unit == "s" else f"{f.baseline:,.2f} {f.unit}", f"{f.ratio:.2f}",
             f.baseline_name) for f in figures]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(str(c).ljust(w) if i in (0, 1, 5) else str(c).rjust(w)
                     for i, (c, w) in enumerate(zip(r, widths, strict=True))) for r in [head, *rows]]
    return "\n".join([out[0], line, *out[1:]])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    group.add_argument("--tiny", action="store_true", help="tiny sizes (the test suite's smoke test)")
    ap.add_argument("--pg", action="store_true", help="also run on PostgreSQL")
    ap.add_argument("--no-sqlite", action="store_true", help="skip SQLite (with --pg)")
    ap.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="where to write the results")
    args = ap.parse_args(argv)
    sizes = SIZES["tiny" if args.tiny else "quick" if args.quick else "full"]
    backends = ([] if args.no_sqlite else ["sqlite"])
    pg_version = None
    if args.pg:
        pg_version = pg_available()
        if pg_version is None:
            return 2
        backends.append("postgresql")
    started = time.perf_counter()
    figures: list[Figure] = []
    workdir = Path(tempfile.mkdtemp(prefix="wsms-bench-"))
    try:
        for kind in backends:
            figures += run_backend(kind, sizes, workdir, log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(render(figures))
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sizes": asdict(sizes),
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count(), "sqlite": sqlite3.sqlite_version, "postgresql": pg_version},
        "seconds": round(time.perf_counter() - started, 1),
        "figures": [asdict(f) | {"ratio": round(f.ratio, 3)} for f in figures],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nresults: {args.json}  ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
