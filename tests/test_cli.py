"""The wsms CLI end to end (Typer's runner in-process; subprocesses where exit codes/tracebacks matter)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from tests.helpers import seed_basic
from wsms_tui import ledger
from wsms_tui.cli import app
from wsms_tui.database import Database
from wsms_tui.db.engine import make_engine
from wsms_tui.db.migrate import head_revision
from wsms_tui.db.models import Location, Product, ProductBarcode

runner = CliRunner()

GOOD_PRODUCTS = (
    "sku,name,gtin,uom,tracking,unit_cost,category\n"
    "TEA-1,绿茶 Green tea 500ml,6901234567892,unit,none,3.50,drinks\n"
    "MILK-1,牛奶 Milk 1L,,unit,lot,1.20,dairy\n"
    "PHONE-1,Phone X,4006381333931,unit,serial,199.99,electronics\n"
)


def wsms(db_url: str, *args: str, input: str | None = None) -> object:
    return runner.invoke(app, ["--db", db_url, *args], input=input)


def count(db_url: str, model: type) -> int:
    database = Database.open(db_url)
    try:
        return database.read(lambda s: s.execute(select(func.count()).select_from(model)).scalar_one())
    finally:
        database.dispose()


def test_import_products_and_list_stock_in_every_format(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "products.csv"
    f.write_text(GOOD_PRODUCTS, encoding="utf-8")
    r = wsms(db_url, "import", "products", str(f))
    assert r.exit_code == 0, r.output
    assert "3 created" in r.stdout
    assert count(db_url, Product) == 3 and count(db_url, ProductBarcode) == 2
    # re-import updates by SKU, creates nothing
    r = wsms(db_url, "import", "products", str(f))
    assert "0 created, 3 updated" in r.stdout

    database = Database.open(db_url)
    admin = database.system_actor("test")
    locs = tmp_path / "locations.csv"
    locs.write_text("warehouse,code,usage,aisle,bay,level,x,y\nW9,W9-A-01,internal,A,01,1,0,0\n", encoding="utf-8")
    assert wsms(db_url, "import", "locations", str(locs)).exit_code == 0
    ledger.receive(database, admin, product="TEA-1", qty=12, location="W9-A-01", op_id="r1")
    ledger.receive(database, admin, product="MILK-1", qty=3, location="W9-A-01", op_id="r2", lot="L1")
    database.dispose()

    js = json.loads(wsms(db_url, "stock", "--format", "json").stdout)
    assert {(r["sku"], r["location"], r["lot"], r["on_hand"], r["reserved"]) for r in js} == {
        ("TEA-1", "W9-A-01", None, "12", "0"), ("MILK-1", "W9-A-01", "L1", "3", "0")}
    assert set(js[0]) >= {"sku", "location", "lot", "expiry", "on_hand", "reserved"}
    rows = list(csv.DictReader(wsms(db_url, "stock", "--sku", "TEA-1", "-f", "csv").stdout.splitlines()))
    assert rows == [{"sku": "TEA-1", "name": "绿茶 Green tea 500ml", "warehouse": "W9", "location": "W9-A-01",
                     "lot": "", "expiry": "", "on_hand": "12", "reserved": "0"}]
    table = wsms(db_url, "stock", "--location", "W9-A-01").stdout
    assert "绿茶 Green tea 500ml" in table and "MILK-1" in table
    led = json.loads(wsms(db_url, "ledger", "--sku", "TEA-1", "--format", "json").stdout)
    assert [(e["kind"], e["qty"], e["to_location"]) for e in led] == [("receive", "12", "W9-A-01")]
    r = wsms(db_url, "ledger", "verify")
    assert r.exit_code == 0 and "OK" in r.stdout
    r = wsms(db_url, "audit", "verify")
    assert r.exit_code == 0 and "chain intact" in r.stdout


BAD_PRODUCTS = (
    "sku,name,gtin,uom,tracking,unit_cost\n"
    "OK-1,Fine,,unit,none,1\n"                       # line 2: good
    "BAD-2,Bad cost,,unit,none,abc\n"                # line 3: bad number
    "OK-1,Duplicate,,unit,none,1\n"                  # line 4: duplicate SKU
    "BAD-4,Bad gtin,4006381333932,unit,none,1\n"     # line 5: wrong check digit
    "BAD-5,Bad tracking,,unit,fifo,1\n"              # line 6: tracking
    "BAD-6,,,unit,none,-2\n"                         # line 7: no name + negative
    "OK-7,好的,,unit,none,0.5\n"                      # line 8: good
)


def test_bad_rows_reject_the_whole_file_with_one_message_per_row(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(BAD_PRODUCTS, encoding="utf-8")
    r = wsms(db_url, "import", "products", str(f))
    assert r.exit_code == 1
    err = r.stderr
    assert "nothing imported" in err
    for expected in ("line 3, column unit_cost", "line 4, column sku: duplicate SKU OK-1 (first on line 2)",
                     "line 5, column gtin", "line 6, column tracking", "line 7, column name"):
        assert expected in err, err
    assert "Traceback" not in err
    assert count(db_url, Product) == 0


def test_skip_bad_rows_imports_good_ones_and_writes_rejects(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text(BAD_PRODUCTS, encoding="utf-8")
    r = wsms(db_url, "import", "products", str(f), "--skip-bad-rows")
    assert r.exit_code == 0, r.output
    assert "2 created, 0 updated, 5 rejected" in r.stdout
    rejects = list(csv.DictReader((tmp_path / "bad.rejects.csv").open(encoding="utf-8")))
    assert [row["sku"] for row in rejects] == ["BAD-2", "OK-1", "BAD-4", "BAD-5", "BAD-6"]
    assert all(row["error"] for row in rejects)
    assert count(db_url, Product) == 2


@pytest.mark.parametrize("content, message", [
    ("sku,name,gtin,uom,tracking,unit_cost,colour\nA,B,,unit,none,1,red\n", "column colour: unknown column"),
    ("sku,name\nA,B\n", "column gtin: missing column"),
    ("", "the file is empty"),
])
def test_file_level_problems(db_url: str, tmp_path: Path, content: str, message: str) -> None:
    f = tmp_path / "p.csv"
    f.write_text(content, encoding="utf-8")
    r = wsms(db_url, "import", "products", str(f))
    assert r.exit_code == 1 and message in r.stderr
    assert count(db_url, Product) == 0


def test_wrong_encoding_names_the_line(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "gbk.csv"
    f.write_bytes("sku,name,gtin,uom,tracking,unit_cost\nA,ok,,unit,none,1\nB,绿茶,,unit,none,1\n".encode("gbk"))
    r = wsms(db_url, "import", "products", str(f))
    assert r.exit_code == 1 and "line 3: not UTF-8" in r.stderr
    assert count(db_url, Product) == 0


def test_import_locations_validates_usage_and_numbers(db_url: str, tmp_path: Path) -> None:
    f = tmp_path / "l.csv"
    f.write_text("warehouse,code,usage,aisle,bay,level,x,y\n"
                 "W1,W1-A,internal,A,1,1,1.5,2\n"
                 "W1,W1-B,customer,A,2,1,1,2\n"
                 "W1,W1-C,internal,A,3,1,east,2\n", encoding="utf-8")
    r = wsms(db_url, "import", "locations", str(f))
    assert r.exit_code == 1
    assert "line 3, column usage" in r.stderr and "line 4, column x" in r.stderr
    r = wsms(db_url, "import", "locations", str(f), "--skip-bad-rows")
    assert r.exit_code == 0 and "1 created" in r.stdout
    database = Database.open(db_url)
    loc = database.read(lambda s: s.execute(select(Location.x, Location.usage, Location.parent_id)
                                            .where(Location.code == "W1-A")).one())
    database.dispose()
    assert loc.x == 1.5 and loc.usage == "internal" and loc.parent_id is not None


def test_users_add_and_list_and_acting_as_a_clerk(db_url: str) -> None:
    r = wsms(db_url, "user", "add", "li.wei", "--role", "clerk", input="4321\n")
    assert r.exit_code == 0, r.output
    r = wsms(db_url, "user", "add", "x", "--role", "emperor", input="4321\n")
    assert r.exit_code == 1 and "role must be one of" in r.stderr
    r = wsms(db_url, "user", "list", "--format", "json")
    assert json.loads(r.stdout) == [{"name": "li.wei", "full_name": "", "role": "clerk", "active": True}]
    env = {"WSMS_PIN": "4321"}
    r = runner.invoke(app, ["--db", db_url, "--as", "li.wei", "user", "add", "y", "--role", "admin"],
                      input="1234\n", env=env)
    assert r.exit_code == 1 and "may not user.add" in r.stderr


def test_ledger_verify_fails_on_a_tampered_quant(db_url: str) -> None:
    database = Database.open(db_url)
    seed_basic(database)
    ledger.receive(database, database.system_actor(), product="P1", qty=5, location="A-01", op_id="r1")
    database.dispose()
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE quant SET on_hand = on_hand + 1000000 WHERE location_id = "
                          "(SELECT id FROM location WHERE code = 'A-01')"))
    engine.dispose()
    r = wsms(db_url, "ledger", "verify")
    assert r.exit_code == 1
    assert "P1 @ A-01: on hand 6 but the ledger says 5" in r.stderr


def test_unmigrated_and_newer_schema_stop_with_the_fix(tmp_path: Path, db_url: str) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    r = wsms(empty, "stock")
    assert r.exit_code == 1 and "run `wsms db upgrade`" in r.stderr
    r = wsms(empty, "db", "upgrade")
    assert r.exit_code == 0 and head_revision() in r.stdout
    assert wsms(empty, "stock").exit_code == 0
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('ffff9999')"))
    engine.dispose()
    r = wsms(db_url, "stock")
    assert r.exit_code == 1 and "newer than this wsms" in r.stderr
    r = wsms(db_url, "db", "status")
    assert r.exit_code == 1 and "ffff9999" in r.stdout


def test_unreachable_database_is_one_line_without_traceback() -> None:
    env = {**os.environ, "WSMS_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nothing"}
    p = subprocess.run([sys.executable, "-m", "wsms_tui", "stock"], capture_output=True, text=True, env=env,
                       timeout=60)
    assert p.returncode == 1
    assert p.stderr.startswith("wsms: cannot reach the database") and "Traceback" not in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_receipts_import_list_show_close(db_url: str, tmp_path: Path) -> None:
    database = Database.open(db_url)
    seed_basic(database)
    database.dispose()
    f = tmp_path / "r.csv"
    f.write_text("reference,supplier,expected_date,sku,qty,lot,expiry\nPO-7,Acme,2026-12-01,P1,4,,\n",
                 encoding="utf-8")
    r = wsms(db_url, "import", "receipts", str(f))
    assert r.exit_code == 0 and "1 created" in r.stdout, r.output
    assert json.loads(wsms(db_url, "receipts", "list", "-f", "json").stdout)[0]["reference"] == "PO-7"
    lines = json.loads(wsms(db_url, "receipts", "show", "PO-7", "-f", "json").stdout)
    assert [(ln["sku"], ln["expected_qty"], ln["received_qty"]) for ln in lines] == [("P1", "4", "0")]
    diffs = json.loads(wsms(db_url, "receipts", "close", "PO-7", "-f", "json").stdout)
    assert diffs == [{"line_no": 1, "sku": "P1", "expected_qty": "4", "received_qty": "0", "difference": "-4"}]
    r = wsms(db_url, "receipts", "close", "PO-7")
    assert r.exit_code == 1 and "closed already" in r.stderr


def test_the_fast_revision_graph_equals_alembics() -> None:
    from wsms_tui.db.migrate import _script, head_revisions, revision_graph

    script = _script()
    alembic_graph = {r.revision: tuple(r._all_down_revisions) for r in script.walk_revisions()}
    assert revision_graph() == alembic_graph
    assert head_revisions() == frozenset(script.get_heads())
