"""``wsms count …`` end to end (Typer's runner in-process), on SQLite and PostgreSQL: plan each kind, count
sheets, blind `count show` for a clerk, review, approve refused for a clerk and allowed for a supervisor,
accuracy, the cycle list and ABC classes, settings-driven tolerances, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tests.helpers import seed_basic
from wsms_tui import ledger
from wsms_tui.cli import app
from wsms_tui.database import Database
from wsms_tui.users import add_user

runner = CliRunner()


def seed(db_url: str) -> None:
    db = Database.open(db_url)
    try:
        seed_basic(db)
        admin = db.system_actor("test")
        ledger.receive(db, admin, product="P1", qty=10, location="A-01", op_id="s1")
        ledger.receive(db, admin, product="LOT1", qty=6, location="A-01", lot="L-7", op_id="s2")
        add_user(db, admin, "clerk1", "clerk", "1234")
        add_user(db, admin, "clerk2", "clerk", "5678")
        add_user(db, admin, "boss", "supervisor", "9999")
    finally:
        db.dispose()


def wsms(db_url: str, *args: str, user: str | None = None, pin: str = "") -> object:
    pre = ["--db", db_url] + (["--as", user] if user else [])
    return runner.invoke(app, [*pre, *args], env={"WSMS_PIN": pin} if user else {})


def ok(result: object) -> str:
    assert result.exit_code == 0, (result.output, result.exception)  # type: ignore[attr-defined]
    return result.stdout  # type: ignore[attr-defined,no-any-return]


def test_count_cli_end_to_end(db_url: str, tmp_path: Path) -> None:
    seed(db_url)
    planned = json.loads(ok(wsms(db_url, "count", "plan", "full", "-w", "W1", "-f", "json")))
    ref = planned[0]["ref"]
    assert planned[0]["locations"] == 3 and planned[0]["blind"] is True
    refused = wsms(db_url, "count", "plan", "spot", "-l", "A-01", user="clerk1", pin="1234")
    assert refused.exit_code == 1 and "may not count.plan" in refused.output  # type: ignore[attr-defined]

    sheet = tmp_path / "sheet.csv"
    sheet.write_text("location,sku,lot,qty\nA-01,P1,,8\nA-01,LOT1,L-7,6\nA-02,,,\nA-03,,,\n", encoding="utf-8")
    out = ok(wsms(db_url, "count", "sheet", ref, str(sheet), user="clerk1", pin="1234"))
    assert "3 location(s), 2 line(s) counted; 1 to recount" in out
    # blind for the clerk: locations and state, no quantity at all
    shown = json.loads(ok(wsms(db_url, "count", "show", ref, "-f", "json", user="clerk1", pin="1234")))
    assert shown == [
        {"location": "A-01", "status": "recount", "abc": "", "counted_by": "clerk1", "recount_by": None},
        {"location": "A-02", "status": "counted", "abc": "", "counted_by": "clerk1", "recount_by": None},
        {"location": "A-03", "status": "counted", "abc": "", "counted_by": "clerk1", "recount_by": None}]
    review = wsms(db_url, "count", "review", ref, user="clerk1", pin="1234")
    assert review.exit_code == 1 and "may not count.review" in review.output  # type: ignore[attr-defined]
    same = wsms(db_url, "count", "sheet", ref, str(sheet), user="clerk1", pin="1234")
    assert same.exit_code == 1 and "someone other than clerk1" in same.output  # type: ignore[attr-defined]
    recount = tmp_path / "recount.csv"
    recount.write_text("location,sku,lot,qty\nA-01,P1,,8\nA-01,LOT1,L-7,6\n", encoding="utf-8")
    ok(wsms(db_url, "count", "sheet", ref, str(recount), user="clerk2", pin="5678"))

    lines = json.loads(ok(wsms(db_url, "count", "review", ref, "-f", "json", user="boss", pin="9999")))
    assert [(ln["location"], ln["sku"], ln["expected"], ln["counted"], ln["recount"], ln["variance"], ln["value"])
            for ln in lines] == [("A-01", "P1", "10", "8", "8", "-2", "-2.5")]
    refused = wsms(db_url, "count", "approve", ref, user="clerk1", pin="1234")
    assert refused.exit_code == 1 and "may not count.approve" in refused.output  # type: ignore[attr-defined]
    out = ok(wsms(db_url, "count", "approve", ref, user="boss", pin="9999"))
    assert "3 location(s) approved, 1 adjustment(s) posted; count closed" in out
    acc = json.loads(ok(wsms(db_url, "count", "accuracy", ref, "-f", "json")))[0]
    assert (acc["locations_counted"], acc["locations_accurate"], acc["status"]) == (3, 2, "closed")
    ledger_rows = json.loads(ok(wsms(db_url, "ledger", "--sku", "P1", "-f", "json")))
    assert [(r["kind"], r["qty"], r["from_location"], r["to_location"], r["reason"], r["doc_ref"])
            for r in ledger_rows if r["doc_ref"] == ref] == [("adjust", "2", "A-01", "VIRT/LOSS", "count", ref)]
    assert "ledger verify: OK" in ok(wsms(db_url, "ledger", "verify"))
    listed = json.loads(ok(wsms(db_url, "count", "list", "--status", "all", "-f", "json")))
    assert [(c["ref"], c["status"], c["approved"]) for c in listed] == [(ref, "closed", 3)]


def test_count_cli_cycle_sample_spot_and_errors(db_url: str, tmp_path: Path) -> None:
    seed(db_url)
    abc = json.loads(ok(wsms(db_url, "count", "abc", "-w", "W1", "-f", "json")))
    assert [(r["abc"], r["every_days"]) for r in abc] == [("A", 30), ("B", 91), ("C", 365)]
    due = json.loads(ok(wsms(db_url, "count", "cycle-list", "-w", "W1", "--limit", "5", "-f", "json")))
    assert {d["location"] for d in due} == {"A-01", "A-02", "A-03"}
    cycle = json.loads(ok(wsms(db_url, "count", "plan", "cycle", "-w", "W1", "--limit", "1", "-f", "json")))
    assert (cycle[0]["kind"], cycle[0]["locations"]) == ("cycle", 1)
    sample = json.loads(ok(wsms(db_url, "count", "plan", "sample", "-w", "W1", "--size", "5", "--seed", "3",
                                "--tol-qty", "100", "-f", "json")))
    assert sample[0]["kind"] == "sample" and sample[0]["locations"] == 2
    assert sample[0]["skipped"] == 1  # the one in the cycle count
    spot = wsms(db_url, "count", "plan", "spot", "-s", "P1")
    assert spot.exit_code == 1 and "nothing to count" in spot.output  # type: ignore[attr-defined]
    bad = wsms(db_url, "count", "cycle-list", "--date", "tomorrow")
    assert bad.exit_code == 1 and "not a date" in bad.output  # type: ignore[attr-defined]
    missing = wsms(db_url, "count", "show", "CNT-424242")
    assert missing.exit_code == 1 and "no count CNT-424242" in missing.output  # type: ignore[attr-defined]
    sheet = tmp_path / "bad.csv"
    sheet.write_text("where,what\nA-01,P1\n", encoding="utf-8")
    res = wsms(db_url, "count", "sheet", sample[0]["ref"], str(sheet))
    assert res.exit_code == 1 and "header needs location,sku,lot,qty" in res.output  # type: ignore[attr-defined]
    issues = json.loads(ok(wsms(db_url, "count", "issues", sample[0]["ref"], "-f", "json")))
    assert issues == []
