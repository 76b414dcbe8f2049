"""Hypothesis drives the Receiving desk's flow (``ReceivingFlow.feed``, what the screen calls for every scan)
with sequences of good scans, near-misses and garbage, on both backends: every scan gets a view (never an
exception: no "receiving failed"), a refusal always says why, and whatever was posted is a receipt of a
product on the receipt into a real location, with the ledger consistent with its history."""

from __future__ import annotations

import string
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.test_receiving_flow import GS, GTIN_P1, setup
from wsms_tui import stock
from wsms_tui.database import Database
from wsms_tui.db.models import LedgerEntry, Location, Product
from wsms_tui.receiving_flow import ReceivingFlow
from wsms_tui.security import Actor

GOOD = ["PO-1", GTIN_P1, "14006381333938", "0109506000134352" + f"10LOT-A{GS}17270301", "01095060001343521710",
        "A-01", "A-02", "1", "3", "12", "u", "%CMD:UNDO", "%CMD:CANCEL", "%CMD:DONE", "P1", "LOT1", "SER1",
        "L-9", "2027-03-01", "S-1", "S-2", "0104006381333931" + "37" + "5"]
one = (st.sampled_from(GOOD) | st.text(string.digits + GS + "%:-", max_size=40) | st.text(max_size=60)
       | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
#: single scans, and whole lines (a product, then a location) so that sequences do reach posting
scans = st.lists(one.map(lambda v: [v]) | st.sampled_from([[GTIN_P1, "A-01"], ["14006381333938", "A-02"]]),
                 min_size=1, max_size=6).map(lambda parts: [v for part in parts for v in part])
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def test_any_scans_get_a_view_and_post_only_what_the_receipt_allows(db: Database, admin: Actor,
                                                                   tmp_path: Path) -> None:
    flow, _clerk = setup(db, admin, tmp_path)
    assert flow.feed("PO-1").level == "ok"
    receipt_skus = {"P1", "LOT1", "SER1"}

    @FUZZ
    @given(scans)
    def run(values: list[str]) -> None:
        f: ReceivingFlow = flow
        for value in ["%CMD:CANCEL", *values]:  # each example starts on a clean line
            view = f.feed(value, value)
            assert view.level in ("info", "ok", "error"), view
            if view.level == "error":
                assert view.message and "failed" not in view.message, view

    run()

    def posted(s):  # type: ignore[no-untyped-def]
        return s.execute(select(LedgerEntry.kind, Product.sku, Location.code)
                         .join(Product, Product.id == LedgerEntry.product_id)
                         .join(Location, Location.id == LedgerEntry.to_location_id)).all()

    rows = db.read(posted)
    assert {kind for kind, _sku, _loc in rows} <= {"receive", "reverse"}, rows
    assert any(kind == "receive" for kind, _sku, _loc in rows)  # the sequences did reach posting
    for kind, sku, loc in rows:
        assert sku in receipt_skus, (kind, sku, loc)
        if kind == "receive":
            assert loc in ("A-01", "A-02", "A-03"), (sku, loc)
    assert stock.verify_ledger(db, admin).ok
