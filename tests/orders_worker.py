"""A worker process for tests/test_orders_concurrency.py: one desk importing, allocating, packing and
shipping (at the packing bench: boxes with SSCCs, the local carrier, confirm), shipping without packing
and cancelling orders that compete with the other desks for scarce stock.

Run as ``python -m tests.orders_worker URL WORKER_NO SEED WORKDIR``; prints ``ready``, waits for a
line on stdin (the start signal), works, and prints one JSON line with what it did and every error
that is not a clean refusal.
"""

from __future__ import annotations

import json
import random
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from tests.orders_seed import NY, SH, line, order_csv
from wsms_tui import orders, packing
from wsms_tui.allocation import allocate
from wsms_tui.carriers import CarrierError
from wsms_tui.config import PackingSettings, Settings
from wsms_tui.database import Database
from wsms_tui.errors import BadInput, InsufficientStock
from wsms_tui.order_import import import_orders
from wsms_tui.security import Actor


def shared_file(workdir: Path, no: int) -> Path:
    """The same orders every desk imports at once (each from its own copy; they must exist once)."""
    return order_csv(workdir / f"shared-{no}.csv", *[line(f"SH-{i}", "P1", 1 + i % 2) for i in range(6)])


SETTINGS = Settings.model_construct(packing=PackingSettings(), printer="", printers={}, gs1_company_prefix="0614141")


def pack_and_ship(db: Database, actor: Actor, ref: str, op: str, rnd: random.Random) -> int:
    """Pack what the order holds into one or two boxes at the bench, then confirm; returns the boxes shipped."""
    po = packing.open_order(db, actor, ref)
    items = [packing.BoxItem(ln.line_id, ln.to_pack) for ln in po.lines if ln.to_pack > 0]
    boxes = [items[:1], items[1:]] if len(items) > 1 and rnd.random() < 0.5 else [items]
    closed = 0
    try:
        for n, box in enumerate(b for b in boxes if b):
            packing.close_box(db, actor, SETTINGS, ref, items=box, box="M", weight="1.5", op_id=f"{op}-box{n}")
            closed += 1
    except (BadInput, InsufficientStock):
        if not closed:
            raise
    res = packing.ship(db, actor, ref, op_id=f"{op}-ship", partial=True)
    return res.boxes


def desk(db: Database, actor: Actor, no: int, rnd: random.Random, workdir: Path, out: dict[str, Any]) -> None:
    rows = []
    for i in range(12):
        ref = f"D{no}-{i}"
        head, prio = rnd.choice([SH, NY]), rnd.choice(["", "", "high", "express"])
        for sku in rnd.sample(["P1", "P2", "LOT1"], rnd.randint(1, 2)):
            rows.append(line(ref, sku, rnd.randint(1, 3), head=head, priority=prio))
    mine = order_csv(workdir / f"desk{no}.csv", *rows)
    channel = "MARKET" if no % 2 else "SHOP"
    shared = shared_file(workdir, no)
    for step in range(4):
        r = import_orders(db, actor, shared, channel="SHOP")
        out["shared_created"] += r.created
        if step == 0:
            r = import_orders(db, actor, mine, channel=channel)
            out["created"] += r.created
            out["errors"] += [str(e) for e in r.errors]
        a = allocate(db, actor)
        out["allocations"] += a.allocations
        for i in rnd.sample(range(12), 5):
            ref = f"{channel}:D{no}-{i}"
            try:
                r = rnd.random()
                if r < 0.25:
                    orders.ship_order(db, actor, ref, op_id=f"ship-{no}-{i}")
                    out["shipped"] += 1
                elif r < 0.6:  # 40 % cancel, as before: released stock is allocated again
                    out["boxes"] += pack_and_ship(db, actor, ref, f"pack-{no}-{step}-{i}", rnd)
                    out["packed"] += 1
                else:
                    orders.cancel_order(db, actor, ref, reason="test")
                    out["cancelled"] += 1
            except (BadInput, InsufficientStock, CarrierError):
                out["refused"] += 1
        time.sleep(rnd.uniform(0, 0.01))


def main() -> int:
    url, no, seed, workdir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    db = Database.open(url)
    actor = db.system_actor(f"desk-{no}")
    out: dict[str, Any] = {"worker": no, "created": 0, "shared_created": 0, "allocations": 0, "shipped": 0,
                           "packed": 0, "boxes": 0, "cancelled": 0, "refused": 0, "errors": []}
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    try:
        desk(db, actor, no, random.Random(seed), workdir, out)
    except Exception as exc:  # noqa: BLE001 - everything that reaches the caller is reported
        out["errors"].append(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    out["seconds"] = round(time.perf_counter() - started, 3)
    db.dispose()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
