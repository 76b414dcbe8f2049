"""A writer process for tests/test_crash.py: posts receipts until it is killed.

Run as ``python -m tests.crash_worker URL PREFIX``. After each ``receive`` returns (its
transaction committed) it prints the op_id on stdout and flushes: a printed op_id is an
acknowledgement the database must keep, whatever happens next.
"""

from __future__ import annotations

import itertools
import sys
from typing import Any

from wsms_tui import ledger
from wsms_tui.database import Database


def operation(prefix: str, i: int) -> dict[str, Any]:
    """The i-th receipt the writer posts (the test re-sends one to check it replays)."""
    op = {"op_id": f"{prefix}-{i}", "location": "A-01" if i % 2 else "A-02"}
    if i % 3:
        return {**op, "product": "P1", "qty": 1}
    return {**op, "product": "LOT1", "qty": 2, "lot": f"L{i % 5}"}


def main() -> int:
    url, prefix = sys.argv[1], sys.argv[2]
    db = Database.open(url)
    actor = db.system_actor("crash-writer")
    for i in itertools.count():
        op = operation(prefix, i)
        ledger.receive(db, actor, **op)
        sys.stdout.write(op["op_id"] + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
