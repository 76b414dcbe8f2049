"""Layout files: parsing with named errors; import and positions on both backends; the CLI; the demo layouts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from wsms_tui import demo, layout
from wsms_tui.cli import app
from wsms_tui.database import Database
from wsms_tui.db.models import Location, Warehouse
from wsms_tui.db.models_layout import Layout, LayoutAisle, LayoutBlock
from wsms_tui.errors import NotFound
from wsms_tui.layout import LayoutRejected, parse_layout
from wsms_tui.security import Actor

runner = CliRunner()

GOOD_TOML = """
warehouse = "W7"
name = "test hall"
aisle_width = 2.0
rack_depth = 0.5
bay_width = 1.0
cross_aisle_width = 2.0

[depot]
x = 0.0
cross_aisle = "front"

[[blocks]]
name = "front"
bays = [1, 4]
aisles = ["A01..A03"]

[[blocks]]
name = "back"
bays = [5, 10]
numbering = "odd-even"
aisles = ["A01", "A02", { name = "A03", x = 9.0, open_back = false }]
"""


def base(**over: object) -> dict:
    d = {"warehouse": "W7", "aisle_width": 2.0, "rack_depth": 0.5, "bay_width": 1.0,
         "blocks": [{"name": "main", "bays": [1, 4], "aisles": ["A01", "A02"]}]}
    d.update(over)
    return d


def problems(data: dict) -> str:
    with pytest.raises(LayoutRejected) as exc:
        parse_layout(data, "t.json")
    return str(exc.value)


# ------------------------------------------------------------------------------------------ parsing


def test_a_good_layout_places_bays(tmp_path: Path) -> None:
    f = tmp_path / "hall.toml"
    f.write_text(GOOD_TOML, encoding="utf-8")
    spec = layout.parse_layout_file(f)
    assert [a.name for a in spec.blocks[0].aisles] == ["A01", "A02", "A03"]
    assert [a.x for a in spec.blocks[0].aisles] == [1.5, 4.5, 7.5]  # x0 = pitch/2, pitch = 2 + 2×0.5
    assert spec.blocks[1].slots == 3 and spec.block_length(0) == 2.0 + 4 * 1.0
    p = spec.position("A02", "03")
    assert p is not None and (p.block, p.aisle, p.side, p.along) == (0, 1, "both", 1.0 + 2.5)
    q = spec.position("A01", "6")
    assert q is not None and (q.block_name, q.side, q.along, q.y) == ("back", "right", 1.5, 6.0 + 1.5)
    assert spec.position("A01", "11") is None and spec.position("B9", "1") is None
    assert spec.blocks[1].aisles[2].open_back is False
    # the JSON form round-trips
    assert parse_layout(json.loads(json.dumps(spec.to_dict()))) == spec


def test_overlapping_aisles_are_named() -> None:
    msg = problems(base(blocks=[{"name": "main", "bays": [1, 4],
                                 "aisles": [{"name": "A01", "x": 1.0}, {"name": "A02", "x": 2.5}]}]))
    assert "A01" in msg and "A02" in msg and "overlap" in msg


def test_bad_files_are_named_by_key(tmp_path: Path) -> None:
    assert "aisle A01 is listed twice" in problems(base(blocks=[{"bays": [1, 2], "aisles": ["A01", "A01"]}]))
    assert "aisle_width" in problems(base(aisle_width=-1))
    assert "unknown key colour" in problems(base(colour="red"))
    assert "bays must be" in problems(base(blocks=[{"name": "b", "bays": [3], "aisles": ["A"]}]))
    assert "numbering" in problems(base(blocks=[{"bays": [1, 2], "numbering": "zigzag", "aisles": ["A"]}]))
    assert "cross_aisle" in problems(base(depot={"x": 0, "cross_aisle": 7}))
    assert "warehouse" in problems({k: v for k, v in base().items() if k != "warehouse"})
    two = problems(base(blocks=[{"name": "p", "bays": [1, 5], "aisles": ["A01"]},
                                {"name": "q", "bays": [4, 9], "aisles": ["A01"]}]))
    assert "A01" in two and "p" in two and "q" in two
    f = tmp_path / "broken.toml"
    f.write_text("warehouse = \n", encoding="utf-8")
    with pytest.raises(LayoutRejected, match="broken TOML"):
        layout.parse_layout_file(f)
    j = tmp_path / "broken.json"
    j.write_text("{\"warehouse\": ", encoding="utf-8")
    with pytest.raises(LayoutRejected, match="broken JSON"):
        layout.parse_layout_file(j)


def test_check_fit_names_outside_and_unreachable_locations() -> None:
    spec = parse_layout(base(blocks=[{"name": "main", "bays": [1, 4], "aisles": [
        "A01", {"name": "A02", "open_front": False, "open_back": False}]}]))
    positions, no_aisle, probs = layout.check_fit(spec, [
        ("OK-1", "A01", "2"), ("FAR", "A09", "1"), ("DEEP", "A01", "7"), ("ODD", "A01", "x"),
        ("WALLED", "A02", "1"), ("DOCK", "", "")])
    assert set(positions) == {"OK-1"} and no_aisle == 1
    text = "\n".join(probs)
    assert "FAR (aisle A09 is not in the layout)" in text
    assert "DEEP (bay 7 is outside aisle A01 (bays 1–4))" in text
    assert "ODD" in text and "WALLED (aisle A02 is closed at both ends)" in text


def test_the_demo_layouts_place_every_demo_bin() -> None:
    for scale in ("tiny", "small", "large"):
        bins = demo._plan_bins(demo.SCALES[scale])
        for w, code in enumerate(("SH1", "LA1")):
            mine = [b for b in bins if b.wh == w]
            aisles = max(b.aisle for b in mine)
            bays = max(b.bay for b in mine)
            spec = layout.demo_layout(code, aisles, bays)
            positions, _n, probs = layout.check_fit(spec, [(b.code, f"A{b.aisle:02d}", f"{b.bay:02d}") for b in mine])
            assert not probs and len(positions) == len(mine)
            assert len(spec.blocks) == (2 if code == "LA1" else 1)


# ------------------------------------------------------------------------------------------ database


def _seed_w7(db: Database, extra: list[tuple[str, str, str]] = ()) -> None:  # type: ignore[assignment]
    def work(s):  # type: ignore[no-untyped-def]
        w = Warehouse(code="W7", name="W7")
        s.add(w)
        s.flush()
        rows = [(f"W7-{a}-{b:02d}", a, f"{b:02d}") for a in ("A01", "A02", "A03") for b in range(1, 11)]
        for code, aisle, bay in [*rows, *extra]:
            s.add(Location(code=code, usage="internal", warehouse_id=w.id, aisle=aisle, bay=bay, level="1"))
        s.add(Location(code="W7-DOCK", usage="internal", warehouse_id=w.id))

    db.write(work)


def test_import_layout_places_every_location_and_routes(db: Database, admin: Actor, tmp_path: Path) -> None:
    _seed_w7(db)
    f = tmp_path / "w7.toml"
    f.write_text(GOOD_TOML, encoding="utf-8")
    report = layout.import_layout(db, admin, f)
    assert (report.warehouse, report.blocks, report.aisles, report.placed, report.unplaced, report.replaced) == (
        "W7", 2, 6, 30, 1, False)
    positions = {p.location: p for p in layout.location_positions(db, admin, "W7")}
    assert len(positions) == 30
    assert (positions["W7-A02-03"].block, positions["W7-A02-03"].along) == ("front", 3.5)
    assert (positions["W7-A01-06"].block, positions["W7-A01-06"].side) == ("back", "right")
    # stored as rows, read back equal
    assert layout.load_layout(db, admin, "W7") == layout.parse_layout_file(f)
    view = layout.route_locations(db, admin, ["W7-A03-10", "W7-A01-01", "W7-A02-05"])
    assert view.warehouse == "W7" and sorted(s.location for s in view.stops) == ["W7-A01-01", "W7-A02-05",
                                                                                  "W7-A03-10"]
    assert abs(view.stops[-1].cumulative + view.return_leg - view.route.length) < 1e-6
    assert view.route.exact
    # importing again replaces the layout, nothing piles up
    assert layout.import_layout(db, admin, f).replaced

    def counts(s):  # type: ignore[no-untyped-def]
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()
                     for m in (Layout, LayoutBlock, LayoutAisle))

    assert db.read(counts) == (1, 2, 6)


def test_import_layout_refuses_misfits_and_writes_nothing(db: Database, admin: Actor, tmp_path: Path) -> None:
    _seed_w7(db, [("W7-X-01", "X", "01"), ("W7-A03-10b", "A03", "99")])
    f = tmp_path / "w7.json"
    data = parse_layout(json.loads(json.dumps(layout.parse_layout(
        __import__("tomllib").loads(GOOD_TOML)).to_dict()))).to_dict()
    data["blocks"][0]["aisles"][1] = {"name": "A02", "x": 4.5, "open_front": False, "open_back": False}
    f.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(LayoutRejected) as exc:
        layout.import_layout(db, admin, f)
    msg = str(exc.value)
    assert "W7-X-01" in msg and "W7-A03-10b" in msg and "outside the layout" in msg
    assert "W7-A02-01" in msg and "cannot reach" in msg
    assert db.read(lambda s: s.execute(select(func.count()).select_from(Layout)).scalar_one()) == 0
    with pytest.raises(NotFound, match="no layout"):
        layout.route_locations(db, admin, ["W7-A01-01"])


def test_import_layout_for_an_unknown_warehouse(db: Database, admin: Actor, tmp_path: Path) -> None:
    f = tmp_path / "w7.toml"
    f.write_text(GOOD_TOML, encoding="utf-8")
    with pytest.raises(NotFound, match="W7"):
        layout.import_layout(db, admin, f)


def test_cli_import_layout_and_route(db_url: str, tmp_path: Path) -> None:
    database = Database.open(db_url)
    _seed_w7(database)
    database.dispose()
    f = tmp_path / "w7.toml"
    f.write_text(GOOD_TOML, encoding="utf-8")
    r = runner.invoke(app, ["--db", db_url, "import", "layout", str(f)])
    assert r.exit_code == 0, r.output
    assert "30 storage locations placed" in r.stdout
    r = runner.invoke(app, ["--db", db_url, "route", "W7-A03-10", "W7-A01-01", "W7-A02-05", "--format", "json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [row["seq"] for row in rows] == [1, 2, 3]
    assert rows[0]["method"] == "held-karp" and rows[0]["exact"] is True
    opt = rows[0]["route_length"]
    r = runner.invoke(app, ["--db", db_url, "route", "W7-A03-10", "W7-A01-01", "W7-A02-05", "--method", "sshape",
                            "-f", "csv"])
    assert r.exit_code == 0 and "sshape" in r.stdout
    r = runner.invoke(app, ["--db", db_url, "route", "W7-A03-10", "W7-NOPE"])
    assert r.exit_code == 1 and "W7-NOPE" in r.output
    r = runner.invoke(app, ["--db", db_url, "route", "W7-DOCK"])
    assert r.exit_code == 1 and "no position" in r.output
    r = runner.invoke(app, ["--db", db_url, "layout", "show", "W7", "-f", "json"])
    assert r.exit_code == 0 and len(json.loads(r.stdout)) == 30
    table = runner.invoke(app, ["--db", db_url, "route", "W7-A01-01", "W7-A02-05", "W7-A03-10"]).stdout
    assert "depot" in table and "exact" in table
    assert opt > 0
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD_TOML.replace('aisles = ["A01..A03"]', 'aisles = [{name = "A01", x = 1.0}, '
                                     '{name = "A02", x = 2.0}]'), encoding="utf-8")
    r = runner.invoke(app, ["--db", db_url, "import", "layout", str(bad)])
    assert r.exit_code == 1 and "A01 and A02 overlap" in r.output
