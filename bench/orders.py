"""Order benchmarks, each next to a raw-driver baseline measured in the same run.

    .venv/bin/python -m bench.orders [--quick | --tiny] [--pg] [--no-sqlite] [--json PATH]
                                     [--only allocate|import|queue]

1. import 100k order lines (≈33k orders of 3 lines, our CSV) through ``order_import.import_orders``
   (checks, address validation, digests, timeline rows; allocation off) vs ``csv`` + the raw driver
   inserting the same orders and lines (multi-row INSERT on SQLite, COPY on PostgreSQL) — the floor
   (target: ≤ 1 s on SQLite and within 10× of the floor); both run three times, the medians are compared;
2. allocate 10k orders × 3 lines through ``allocation.allocate`` (priority order, warehouse choice,
   FEFO, locks, allocation + reservation journal + quant + line + status + timeline + ticket rows)
   vs the raw driver doing a first-fit of the same lines to quants and writing the allocation,
   reservation, quant, line and order rows with executemany (target ≤ 1 s SQLite, ≤ 3 s PostgreSQL);
3. the order queue: a filtered keyset page over the imported orders (target ≤ 100 ms) vs the raw
   driver's same SELECT;
4. the Orders desk over 50k orders: what one Enter in its scan field costs (``orders.order_queue_head``:
   the first keyset page of 200 and the count, capped at 10,000) for each filter the desk offers — status,
   channel, priority, express, date range, phone, SKU, customer substring, ref, and a combination — the
   worst of them against the target (≤ 100 ms; each filter's time is logged and kept in the JSON), vs the
   raw driver's COUNT + page for the customer-substring search as a plain scan. PostgreSQL runs it right
   after the import, before any ANALYZE (the planner has no statistics: its worst case).

Results also go to ``bench/results/orders.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.run import RESULTS, Backend, Figure, log, pg_available, render
from wsms_tui import orders
from wsms_tui.allocation import allocate
from wsms_tui.database import Database
from wsms_tui.db.models import LedgerEntry, Location, Lot, Product, Quant, Warehouse
from wsms_tui.order_import import import_orders
from wsms_tui.security import Actor
from wsms_tui.stock import verify_ledger

SCALE = 10**6


@dataclass(frozen=True)
class Sizes:
    name: str
    import_lines: int
    alloc_orders: int
    products: int
    bins: int
    queue_orders: int = 50_000


SIZES = {
    "full": Sizes("full", 100_000, 10_000, 2_000, 400, 50_000),
    "quick": Sizes("quick", 20_000, 2_000, 500, 100, 10_000),
    "tiny": Sizes("tiny", 600, 200, 60, 20, 300),
}

CITIES = [("上海", "200120", "CN", "13812345678"), ("New York", "10001", "US", "+1 212 555 0100"),
          ("Berlin", "10115", "DE", "+49 30 1234567"), ("Paris", "75001", "FR", "+33 1 23 45 67 89")]


def _seed(db: Database, actor: Actor, sizes: Sizes) -> None:
    """Two warehouses, products (a fifth lot-tracked), bins, and stock received through ledger rows."""
    rng = random.Random(3)

    def work(s: Any) -> None:
        whs = []
        for code in ("W1", "W2"):
            w = Warehouse(code=code, name=code)
            s.add(w)
            s.flush()
            whs.append(w.id)
        s.execute(insert(Location), [
            {"code": f"{'AB'[i % 2]}-{i:05d}", "name": "", "warehouse_id": whs[i % 2], "usage": "internal",
             "allow_negative": False, "active": True, "zone": "", "aisle": "", "bay": "", "level": ""}
            for i in range(sizes.bins)])
        s.execute(insert(Product), [{"sku": f"S{i:05d}", "name": f"Product {i}", "uom": "unit",
                                     "tracking": "lot" if i % 5 == 0 else "none", "active": True, "category": ""}
                                    for i in range(sizes.products)])
        from sqlalchemy import select

        pids = dict(s.execute(select(Product.sku, Product.id)).all())
        tracked = {pid for sku, pid in pids.items() if int(sku[1:]) % 5 == 0}
        bins = s.execute(select(Location.id, Location.warehouse_id).where(Location.usage == "internal")).all()
        supplier = s.execute(select(Location.id).where(Location.code == "VIRT/SUPPLIER")).scalar_one()
        lots = [{"product_id": pid, "lot_no": f"L{k}", "expiry": date.today() + timedelta(days=30 * (k + 1)),
                 "is_serial": False} for pid in sorted(tracked) for k in range(2)]
        s.execute(insert(Lot), lots)
        lot_ids: dict[int, list[int]] = {}
        for lid, pid in s.execute(select(Lot.id, Lot.product_id)).all():
            lot_ids.setdefault(pid, []).append(lid)
        now = datetime.now(UTC)
        entries, quants, sup = [], [], {}
        n = 0
        for pid in pids.values():
            for wh in whs:
                for _k in range(2):
                    loc = rng.choice([b.id for b in bins if b.warehouse_id == wh][:50])
                    lot = rng.choice(lot_ids[pid]) if pid in tracked else None
                    q = rng.randint(4, 12) * SCALE
                    key = (pid, loc, lot)
                    n += 1
                    entries.append({"op_id": f"seed-{n}", "at": now, "kind": "receive", "actor_id": actor.user_id,
                                    "terminal": "", "product_id": pid, "qty": q, "from_location_id": supplier,
                                    "to_location_id": loc, "lot_id": lot, "doc_ref": "", "reason": ""})
                    quants.append((key, q))
                    sup[(pid, lot)] = sup.get((pid, lot), 0) - q
        qt = orders.raw_table(Quant)
        s.execute(insert(orders.raw_table(LedgerEntry)), entries)
        merged: dict[tuple[int, int, int | None], int] = {}
        for k, q in quants:
            merged[k] = merged.get(k, 0) + q
        s.execute(insert(qt), [{"product_id": p, "location_id": loc, "lot_id": lot, "package_id": None,
                                "on_hand": q, "reserved": 0} for (p, loc, lot), q in merged.items()]
                  + [{"product_id": p, "location_id": supplier, "lot_id": lot, "package_id": None, "on_hand": q,
                      "reserved": 0} for (p, lot), q in sup.items()])

    db.write(work)
    orders.save_channel(db, actor, "SHOP", rank=10)
    orders.save_channel(db, actor, "MARKET", rank=20, allow_split=True)


def _order_file(path: Path, n_lines: int, products: int, prefix: str) -> None:
    rng = random.Random(11)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["channel_ref", "order_date", "customer", "phone", "address", "city", "postcode", "country",
                    "priority", "sku", "qty", "promised_date"])
        i = 0
        o = 0
        while i < n_lines:
            o += 1
            city, pc, country, phone = CITIES[o % len(CITIES)]
            prio = "express" if o % 17 == 0 else ("high" if o % 7 == 0 else "")
            promised = (date(2026, 12, 1) + timedelta(days=o % 20)).isoformat() if o % 3 == 0 else ""
            for sku in rng.sample(range(products), 3):
                if i >= n_lines:
                    break
                w.writerow([f"{prefix}{o:07d}", "2026-11-20", f"Customer {o}", phone, f"{o} Main Street", city, pc,
                            country, prio, f"S{sku:05d}", rng.choice((1, 1, 1, 2, 3)), promised])
                i += 1


# ------------------------------------------------------------------ 1. import


def _raw_insert(be: Backend, cur: Any, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    """The driver's fastest way to insert many rows: on SQLite multi-row VALUES of up to 5,000 values a
    statement (faster than executemany, and an FTS index kept by triggers flushes once per statement instead
    of once per row; SQLite compiles a statement of the bound-variable limit, 250k on Debian, slower than it
    runs cached 5,000-value ones); COPY on PostgreSQL."""
    k = len(rows[0])
    if be.kind != "sqlite":
        with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row(row)
        return
    one = f"({', '.join(['?'] * k)})"
    per = max(1, min(5000, cur.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)) // k)
    for i in range(0, len(rows), per):
        part = rows[i:i + per]
        cur.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([one] * len(part))}",
                    [v for row in part for v in row])


def _raw_import(be: Backend, url: str, path: Path) -> float:
    """The floor: parse the CSV, insert orders and lines with the driver's fastest bulk insert in one
    transaction."""
    con = be.raw(url)
    cur = con.cursor()
    ph = be.ph
    cur.execute("SELECT id FROM sales_channel WHERE name = 'SHOP'")
    cid = cur.fetchone()[0]
    t0 = time.perf_counter()
    skus = dict(cur.execute("SELECT sku, id FROM product").fetchall()) if be.kind == "sqlite" else None
    if skus is None:
        cur.execute("SELECT sku, id FROM product")
        skus = dict(cur.fetchall())
    groups: dict[str, list[list[str]]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            groups.setdefault(row[0], []).append(row)
    now = datetime.now(UTC).isoformat()
    be.begin(con)
    _raw_insert(be, cur, "sales_order", "channel_id, external_ref, order_date, customer, email, phone, address, "
                "city, state, postcode, country, priority, express, status, content_hash, created_at, updated_at",
                [(cid, ref, rows[0][1], rows[0][2], "", rows[0][3], rows[0][4], rows[0][5], "", rows[0][6],
                  rows[0][7], 0, False, "new", "", now, now) for ref, rows in groups.items()])
    cur.execute(f"SELECT external_ref, id FROM sales_order WHERE channel_id = {ph}", (cid,))
    ids = dict(cur.fetchall())
    _raw_insert(be, cur, "sales_order_line", "order_id, line_no, product_id, qty, allocated_qty, shipped_qty, status",
                [(ids[ref], n + 1, skus[row[9]], int(row[10]) * SCALE, 0, 0, "open")
                 for ref, rows in groups.items() for n, row in enumerate(rows)])
    con.commit()
    dt = time.perf_counter() - t0
    con.close()
    return dt


def bench_import(be: Backend, sizes: Sizes, base_url: str, runs: int = 3) -> tuple[Figure, str]:
    """The import and its floor, ``runs`` times each on fresh copies of the seeded database, alternating;
    the figure is the median of each (one run on a shared 2-core machine can be off by half)."""
    path = be.workdir / "orders-import.csv"
    _order_file(path, sizes.import_lines, sizes.products, "IM")
    log(f"{be.kind}: import {sizes.import_lines:,} order lines ({runs} runs and {runs} of the floor)")
    times: list[float] = []
    floors: list[float] = []
    url = ""
    for i in range(runs):
        url = be.clone(base_url, f"import-{i}")
        db = Database.open(url)
        actor = db.system_actor("bench")
        t0 = time.perf_counter()
        rep = import_orders(db, actor, path, channel="SHOP", allocate=False)
        times.append(time.perf_counter() - t0)
        assert not rep.errors, rep.errors[:3]
        if i == runs - 1:  # the last copy: an identical re-import changes nothing
            t0 = time.perf_counter()
            again = import_orders(db, actor, path, channel="SHOP", allocate=False)
            again_s = time.perf_counter() - t0
            assert again.created == 0 and again.unchanged == rep.created
        db.dispose()
        floors.append(_raw_import(be, be.clone(base_url, f"import-raw-{i}"), path))
    how = "multi-row INSERT" if be.kind == "sqlite" else "COPY"
    return Figure(be.kind, f"import {sizes.import_lines:,} order lines", "s", statistics.median(times),
                  statistics.median(floors), f"csv + raw driver {how}",
                  {"orders": rep.created, "lines": sizes.import_lines, "reimport_s": round(again_s, 3),
                   "runs_s": [round(t, 3) for t in times], "floor_runs_s": [round(t, 3) for t in floors]}), url


# ------------------------------------------------------------------ 2. allocate


def _raw_allocate(be: Backend, url: str) -> float:
    """The floor: read open lines and free quants, first-fit in Python, write the same kinds of rows."""
    con = be.raw(url)
    cur = con.cursor()
    ph = be.ph
    t0 = time.perf_counter()
    be.begin(con)
    cur.execute("SELECT l.id, l.order_id, l.product_id, l.qty FROM sales_order_line l JOIN sales_order o "
                "ON o.id = l.order_id WHERE o.status = 'new' ORDER BY o.id, l.line_no")
    lines = cur.fetchall()
    lock = "" if be.kind == "sqlite" else " FOR UPDATE OF q"
    cur.execute("SELECT q.id, q.product_id, q.location_id, q.lot_id, q.on_hand - q.reserved, l.warehouse_id "
                "FROM quant q JOIN location l ON l.id = q.location_id WHERE l.usage = 'internal' "
                f"AND q.on_hand > q.reserved ORDER BY q.product_id, q.location_id{lock}")
    free: dict[int, list[list[Any]]] = {}
    for qid, pid, loc, lot, f, wh in cur.fetchall():
        free.setdefault(pid, []).append([qid, loc, lot, f, wh])
    now = datetime.now(UTC).isoformat()
    allocs, res, qd, ld, od = [], [], {}, {}, {}
    for lid, oid, pid, want in lines:
        for q in free.get(pid, ()):
            if want <= 0:
                break
            t = min(q[3], want)
            if t <= 0:
                continue
            q[3] -= t
            want -= t
            allocs.append((oid, lid, pid, q[4], q[1], q[2], t, "active", now))
            res.append((f"raw-{len(res)}", now, 1, "", pid, q[1], q[2], t, f"SO-{oid}"))
            qd[q[0]] = qd.get(q[0], 0) + t
            ld[lid] = ld.get(lid, 0) + t
        od[oid] = "allocated" if want <= 0 and od.get(oid) != "backorder" else "backorder"
    cur.executemany("INSERT INTO allocation (order_id, order_line_id, product_id, warehouse_id, location_id, lot_id, "
                    f"qty, status, created_at) VALUES ({', '.join([ph] * 9)})", allocs)
    cur.executemany("INSERT INTO reservation_entry (op_id, at, actor_id, terminal, product_id, location_id, lot_id, "
                    f"qty, doc_ref) VALUES ({', '.join([ph] * 9)})", res)
    cur.executemany(f"UPDATE quant SET reserved = reserved + {ph} WHERE id = {ph}", [(d, k) for k, d in qd.items()])
    cur.executemany(f"UPDATE sales_order_line SET allocated_qty = allocated_qty + {ph} WHERE id = {ph}",
                    [(d, k) for k, d in ld.items()])
    cur.executemany(f"UPDATE sales_order SET status = {ph} WHERE id = {ph}", [(s, k) for k, s in od.items()])
    cur.executemany("INSERT INTO order_status_event (order_id, at, from_status, to_status, actor_id, note) "
                    f"VALUES ({', '.join([ph] * 6)})", [(k, now, "new", s, 1, "") for k, s in od.items()])
    con.commit()
    dt = time.perf_counter() - t0
    con.close()
    return dt


def bench_allocate(be: Backend, sizes: Sizes, base_url: str) -> list[Figure]:
    path = be.workdir / "orders-alloc.csv"
    _order_file(path, sizes.alloc_orders * 3, sizes.products, "AL")
    url = be.clone(base_url, "alloc")
    db = Database.open(url)
    actor = db.system_actor("bench")
    import_orders(db, actor, path, channel="MARKET", allocate=False)
    db.dispose()
    raw_url = be.clone(url, "alloc-raw")
    db = Database.open(url)
    log(f"{be.kind}: allocate {sizes.alloc_orders:,} orders × 3 lines")
    t0 = time.perf_counter()
    rep = allocate(db, actor)
    dt = time.perf_counter() - t0
    check = verify_ledger(db, actor)
    assert check.ok, check.problems[:5]
    r, a = orders.reservation_totals(db)
    assert r == a, (r, a)
    db.dispose()
    floor = _raw_allocate(be, raw_url)
    return [Figure(be.kind, f"allocate {sizes.alloc_orders:,} orders × 3 lines", "s", dt, floor,
                   "raw driver first-fit + executemany",
                   {"orders": rep.orders, "allocated": rep.allocated, "backordered": rep.backordered,
                    "allocations": rep.allocations})]


# ------------------------------------------------------------------ 3. queue


def bench_queue(be: Backend, url: str) -> Figure:
    db = Database.open(url)
    actor = db.system_actor("bench")
    f = orders.OrderFilter(status=("new",), search="Customer 4242")
    orders.order_page(db, actor, f, limit=200)  # warm
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        orders.order_page(db, actor, orders.OrderFilter(status=("new",), express=False), limit=200)
        orders.order_page(db, actor, f, limit=200)
        times.append(time.perf_counter() - t0)
    db.dispose()
    con = be.raw(url)
    cur = con.cursor()
    raw_times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for cond in ("o.express = false", "lower(o.customer) LIKE '%customer 4242%'"):
            cur.execute(f"SELECT o.id FROM sales_order o WHERE o.status = 'new' AND {cond} ORDER BY o.id DESC "
                        "LIMIT 200")
            ids = ",".join(str(r[0]) for r in cur.fetchall()) or "0"
            cur.execute("SELECT o.id, c.name, o.external_ref, o.customer, o.status, w.code, a.n, a.q "
                        "FROM sales_order o JOIN sales_channel c ON c.id = o.channel_id "
                        "LEFT JOIN warehouse w ON w.id = o.warehouse_id "
                        "LEFT JOIN (SELECT order_id, count(*) AS n, sum(qty) AS q FROM sales_order_line WHERE "
                        f"status = 'open' AND order_id IN ({ids}) GROUP BY order_id) a ON a.order_id = o.id "
                        f"WHERE o.id IN ({ids})")
            cur.fetchall()
        raw_times.append(time.perf_counter() - t0)
    con.close()
    return Figure(be.kind, "order queue: 2 filtered pages", "ms", min(times) * 1000 / 2, min(raw_times) * 1000 / 2,
                  "raw driver, same two SELECTs")


def bench_queue_desk(be: Backend, sizes: Sizes, base_url: str) -> Figure:
    """The Orders desk's cost per Enter (first page + capped count) for each of its filters over ``queue_orders``."""
    n = sizes.queue_orders
    path = be.workdir / "orders-queue.csv"
    rng = random.Random(5)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["channel_ref", "order_date", "customer", "phone", "address", "city", "postcode", "country",
                    "priority", "sku", "qty", "promised_date"])
        for o in range(1, n + 1):
            city, pc, country, _phone = CITIES[o % len(CITIES)]
            phone = {"CN": f"138{o:08d}", "US": f"+1 212 555 {o % 10000:04d}"}.get(country, f"+49 30 {o:07d}")
            day = (date(2026, 10, 1) + timedelta(days=o % 60)).isoformat()
            w.writerow([f"QQ{o:07d}", day, f"Customer {o}", phone, f"{o} Main Street", city, pc, country,
                        "express" if o % 17 == 0 else ("high" if o % 7 == 0 else ""),
                        f"S{rng.randrange(sizes.products):05d}", 1, ""])
    url = be.clone(base_url, "queue")
    db = Database.open(url)
    actor = db.system_actor("bench")
    log(f"{be.kind}: order queue desk over {n:,} orders")
    rep = import_orders(db, actor, path, channel="SHOP", allocate=False)
    assert not rep.errors and rep.created == n, (rep.errors[:3], rep.created)
    probe = n // 2
    filters = {
        "status": orders.OrderFilter(status=("new",)),
        "channel": orders.OrderFilter(channel="SHOP"),
        "priority": orders.OrderFilter(min_priority=1),
        "express": orders.OrderFilter(express=True),
        "dates": orders.OrderFilter(date_from=date(2026, 11, 1), date_to=date(2026, 11, 7)),
        "phone": orders.OrderFilter(search=f"138{probe - probe % 4:08d}"),
        "sku": orders.OrderFilter(search="S00042"),
        "customer": orders.OrderFilter(search=f"customer {probe}"),
        "ref": orders.OrderFilter(search=f"QQ{probe:07d}"),
        "status+channel+dates": orders.OrderFilter(status=("new",), channel="SHOP", date_from=date(2026, 11, 1)),
    }
    per: dict[str, float] = {}
    for name, f in filters.items():
        head = orders.order_queue_head(db, actor, f, limit=200)  # warm
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            orders.order_queue_head(db, actor, f, limit=200)
            times.append(time.perf_counter() - t0)
        per[name] = round(sorted(times)[2] * 1000, 2)
        log(f"{be.kind}:   {name:<22} {per[name]:7.2f} ms  ({head.total:,}{'+' if head.capped else ''} orders)")
    db.dispose()
    con = be.raw(url)
    cur = con.cursor()
    raw_times = []
    like = f"'%customer {probe}%'"
    for _ in range(5):
        t0 = time.perf_counter()
        cur.execute(f"SELECT count(*) FROM sales_order o WHERE lower(o.customer) LIKE {like}")
        cur.fetchall()
        cur.execute(f"SELECT o.id FROM sales_order o WHERE lower(o.customer) LIKE {like} ORDER BY o.id DESC LIMIT 200")
        cur.fetchall()
        raw_times.append(time.perf_counter() - t0)
    con.close()
    worst = max(per, key=lambda k: per[k])
    return Figure(be.kind, f"orders desk over {n:,} orders: worst filter (count + page)", "ms", per[worst],
                  sorted(raw_times)[2] * 1000, "raw driver COUNT + page, customer substring",
                  {"worst": worst, "per_filter_ms": per, "target_ms": 100})


def run_backend(kind: str, sizes: Sizes, workdir: Path, only: str | None = None) -> list[Figure]:
    be = Backend(kind, workdir)
    try:
        base = be.new_url("orders-base")
        db = Database.open(base)
        _seed(db, db.system_actor("bench"), sizes)
        db.dispose()
        if only == "allocate":
            return bench_allocate(be, sizes, base)
        if only == "import":
            return [bench_import(be, sizes, base)[0]]
        if only == "queue":
            return [bench_queue_desk(be, sizes, base)]
        fig, imported = bench_import(be, sizes, base)
        figures = [fig, *bench_allocate(be, sizes, base), bench_queue(be, imported),
                   bench_queue_desk(be, sizes, base)]
    finally:
        be.cleanup()
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.orders", description=__doc__.split("\n\n")[0])
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="smaller sizes")
    group.add_argument("--tiny", action="store_true", help="tiny sizes (smoke run)")
    ap.add_argument("--pg", action="store_true", help="also run on PostgreSQL")
    ap.add_argument("--no-sqlite", action="store_true", help="skip SQLite (with --pg)")
    ap.add_argument("--json", type=Path, default=RESULTS / "orders.json", help="where to write the results")
    ap.add_argument("--only", choices=("allocate", "import", "queue"),
                    help="run only this benchmark (queue: the Orders desk over 50k orders)")
    args = ap.parse_args(argv)
    sizes = SIZES["tiny" if args.tiny else "quick" if args.quick else "full"]
    backends = [] if args.no_sqlite else ["sqlite"]
    pg_version = None
    if args.pg:
        pg_version = pg_available()
        if pg_version is None:
            return 2
        backends.append("postgresql")
    started = time.perf_counter()
    figures: list[Figure] = []
    workdir = Path(tempfile.mkdtemp(prefix="wsms-bench-orders-"))
    try:
        for kind in backends:
            figures += run_backend(kind, sizes, workdir, args.only)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(render(figures))
    result = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "sizes": asdict(sizes),
              "machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "sqlite": sqlite3.sqlite_version, "postgresql": pg_version},
              "seconds": round(time.perf_counter() - started, 1),
              "figures": [asdict(f) | {"ratio": round(f.ratio, 3)} for f in figures]}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nresults: {args.json}  ({result['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
