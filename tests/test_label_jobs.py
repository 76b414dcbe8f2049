"""Labels built from the database: product/lot, location, LPN with fresh SSCCs (both backends)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.helpers import make_actor, seed_basic
from wsms_tui import label_jobs, ledger
from wsms_tui.barcodes import interpret, is_valid_sscc
from wsms_tui.database import Database
from wsms_tui.errors import BadInput
from wsms_tui.security import Actor


def test_product_location_and_lpn_labels(db: Database, admin: Actor) -> None:
    seed_basic(db)
    clerk = make_actor(db, "clerk")
    lab = label_jobs.make_product_label(db, clerk, sku="P1", count=12)
    assert lab.barcodes[0].data.startswith("0104006381333931") and "苹果 Apple" in lab.preview()
    ledger.receive(db, admin, product="LOT1", qty=1, location="A-01", op_id="r", lot="L-5", expiry=date(2027, 5, 1))
    with pytest.raises(BadInput, match="no GTIN"):
        label_jobs.make_product_label(db, clerk, sku="LOT1", lot="L-5")
    loc = label_jobs.make_location_label(db, clerk, "A-02")
    assert interpret(loc.barcodes[0].data).location == "A-02"
    a = label_jobs.make_lpn_label(db, clerk, company_prefix="0614141")
    b = label_jobs.make_lpn_label(db, clerk, company_prefix="0614141")
    ssccs = [x.barcodes[0].data[2:] for x in (a, b)]
    assert ssccs[0] != ssccs[1] and all(is_valid_sscc(s) for s in ssccs) and a.serialized
    with pytest.raises(BadInput, match="company prefix"):
        label_jobs.make_lpn_label(db, clerk, company_prefix="12")
