"""A worker process for tests/test_concurrency.py: hammers one database with ledger calls.

Run as ``python -m tests.concurrency_worker MODE URL WORKER_NO SEED``. It opens the database,
prints ``ready``, waits for a line on stdin (the start signal, so all workers start together),
works, and prints one JSON line: what it did, and every error that is not a clean refusal.
"""

from __future__ import annotations

import json
import random
import sys
import time
import traceback
from decimal import Decimal
from typing import Any

from wsms_tui import ledger
from wsms_tui.database import Database
from wsms_tui.errors import InsufficientStock
from wsms_tui.security import Actor

PRODUCT = "P1"


def ship_last_units(db: Database, actor: Actor, no: int, rnd: random.Random, out: dict[str, Any]) -> None:
    """Ten tries to get 1–3 units out to a customer: directly, after a reservation, or via another bin."""
    for i in range(10):
        q = Decimal(rnd.randint(1, 3))
        how = rnd.choice(["ship", "reserve", "transfer"])
        op = f"w{no}-{i}"
        try:
            if how == "reserve":
                ledger.reserve(db, actor, product=PRODUCT, location="A-01", qty=q, op_id=f"{op}-res")
                out["reserved"] += int(q)
                time.sleep(rnd.uniform(0, 0.005))  # hold it a moment: others must not take it meanwhile
                ledger.unreserve(db, actor, product=PRODUCT, location="A-01", qty=q, op_id=f"{op}-unres")
                src = "A-01"
            elif how == "transfer":
                ledger.transfer(db, actor, product=PRODUCT, qty=q, from_location="A-01", to_location="A-02",
                                op_id=f"{op}-tr")
                src = "A-02"
            else:
                src = "A-01"
            ledger.post_move(db, actor, product=PRODUCT, qty=q, from_location=src, to_location=ledger.CUSTOMER,
                             op_id=f"{op}-ship", kind="ship")
            out["shipped"] += int(q)
        except InsufficientStock:
            out["refused"] += 1


def cross_transfers(db: Database, actor: Actor, no: int, rnd: random.Random, out: dict[str, Any]) -> None:
    """Even workers move A-01 → A-02, odd ones A-02 → A-01: the same two quants in opposite order."""
    src, dst = ("A-01", "A-02") if no % 2 == 0 else ("A-02", "A-01")
    for i in range(25):
        q = Decimal(rnd.randint(1, 2))
        try:
            ledger.transfer(db, actor, product=PRODUCT, qty=q, from_location=src, to_location=dst,
                            op_id=f"w{no}-x{i}")
            out["moved"] += int(q)
        except InsufficientStock:
            out["refused"] += 1


def same_op_ids(db: Database, actor: Actor, no: int, rnd: random.Random, out: dict[str, Any]) -> None:
    """Every worker sends the same operations (a scan re-sent from several desks at once)."""
    for i in range(15):
        r = ledger.receive(db, actor, product=PRODUCT, qty=1, location="A-01", op_id=f"dup-{i}")
        out["first" if not r.replayed else "replayed"] += 1
        out["entries"].append(r.entry_id)


MODES = {"ship": ship_last_units, "cross": cross_transfers, "dup": same_op_ids}


def main() -> int:
    mode, url, no, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    db = Database.open(url)
    actor = db.system_actor(f"worker-{no}")
    out: dict[str, Any] = {"worker": no, "shipped": 0, "reserved": 0, "refused": 0, "moved": 0, "first": 0,
                           "replayed": 0, "entries": [], "errors": []}
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    try:
        MODES[mode](db, actor, no, random.Random(seed), out)
    except Exception as exc:  # noqa: BLE001 - everything that reaches the caller is reported
        out["errors"].append(f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    out["seconds"] = round(time.perf_counter() - started, 3)
    db.dispose()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
