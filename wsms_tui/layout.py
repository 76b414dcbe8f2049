"""Warehouse layouts: reading a layout file, placing every storage location, routing from the database.

A layout (format in docs/LAYOUT.md) describes one warehouse as blocks of parallel aisles between
cross aisles, with bay numbering and widths, and the depot. A storage location (an internal
location with an ``aisle``) gets its position from its aisle name and bay number: block, aisle,
side, the distance along the aisle and x/y — derived here from the stored layout, never stored per
location, so a location imported after the layout is placed too.

``import_layout`` validates everything before writing (one transaction): the file itself (names
the key at fault), overlapping aisles, bay ranges of one aisle claimed by two blocks, storage
locations outside the layout and locations the depot cannot reach; each problem is named.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlmodel import Session

from wsms_tui import audit
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import Location, LocationUsage, Warehouse
from wsms_tui.db.models_layout import Layout, LayoutAisle, LayoutBlock
from wsms_tui.errors import BadInput, NotFound
from wsms_tui.i18n import _
from wsms_tui.importing import file_digest
from wsms_tui.routing import Aisle, Block, Geometry, Point, Route, Router
from wsms_tui.security import Actor

NUMBERINGS = ("sequential", "odd-even")
MAX_NAMED = 20  # problems of one kind named in full before "… and N more"


class LayoutRejected(BadInput):
    """The layout file (or its fit with the warehouse's locations) has problems; nothing was written."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        head = _("{src}: {n} problem(s), layout not imported").format(src=source, n=len(problems))
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]))


# ------------------------------------------------------------------------------------------ the spec


@dataclass(frozen=True)
class AisleSpec:
    name: str
    x: float
    open_front: bool = True
    open_back: bool = True


@dataclass(frozen=True)
class BlockSpec:
    name: str
    first_bay: int
    last_bay: int
    numbering: str
    bay_width: float
    aisles: tuple[AisleSpec, ...]  # left to right

    @property
    def slots(self) -> int:
        """Bay positions along one aisle (two bays share a position with odd/even numbering)."""
        n = self.last_bay - self.first_bay + 1
        return n if self.numbering == "sequential" else (n + 1) // 2


@dataclass(frozen=True)
class Position:
    """Where a storage location is: in the layout's coordinates (front cross aisle at y = 0)."""

    block: int
    block_name: str
    aisle: int
    aisle_name: str
    side: str  # left | right | both (sequential numbering: the bay number is on both faces)
    along: float  # metres from the aisle's front end (the centre line of the block's front cross aisle)
    x: float
    y: float

    @property
    def point(self) -> Point:
        return Point(self.block, self.aisle, self.along)


@dataclass(frozen=True)
class LayoutSpec:
    warehouse: str
    name: str
    aisle_width: float
    rack_depth: float
    bay_width: float
    cross_aisle_width: float
    depot_x: float
    depot_cross: int
    blocks: tuple[BlockSpec, ...]  # front to back

    def block_length(self, k: int) -> float:
        """Between the centre lines of block k's front and back cross aisles."""
        b = self.blocks[k]
        return self.cross_aisle_width + b.slots * b.bay_width

    def geometry(self) -> Geometry:
        return Geometry(tuple(Block(b.name, tuple(Aisle(a.name, a.x, a.open_front, a.open_back) for a in b.aisles),
                                    self.block_length(k)) for k, b in enumerate(self.blocks)),
                        self.depot_x, self.depot_cross)

    def _index(self) -> dict[str, list[tuple[int, int]]]:
        idx: dict[str, list[tuple[int, int]]] = {}
        for k, b in enumerate(self.blocks):
            for i, a in enumerate(b.aisles):
                idx.setdefault(a.name, []).append((k, i))
        return idx

    def locator(self) -> Locator:
        return Locator(self)

    def position(self, aisle: str, bay: str) -> Position | None:
        return Locator(self).position(aisle, bay)

    def to_dict(self) -> dict[str, Any]:
        """The layout in file form (JSON-able)."""
        cross: int | str = ("front" if self.depot_cross == 0 else
                            "back" if self.depot_cross == len(self.blocks) else self.depot_cross)
        return {
            "warehouse": self.warehouse, "name": self.name, "aisle_width": self.aisle_width,
            "rack_depth": self.rack_depth, "bay_width": self.bay_width, "cross_aisle_width": self.cross_aisle_width,
            "depot": {"x": self.depot_x, "cross_aisle": cross},
            "blocks": [{"name": b.name, "bays": [b.first_bay, b.last_bay], "numbering": b.numbering,
                        "bay_width": b.bay_width,
                        "aisles": [{"name": a.name, "x": a.x, "open_front": a.open_front, "open_back": a.open_back}
                                   for a in b.aisles]} for b in self.blocks],
        }


class Locator:
    """Aisle name + bay number → ``Position`` for one layout (dictionary lookups only)."""

    def __init__(self, spec: LayoutSpec) -> None:
        self.spec = spec
        self._by_aisle = spec._index()
        self._cross_y = [0.0]
        for k in range(len(spec.blocks)):
            self._cross_y.append(self._cross_y[-1] + spec.block_length(k))

    def why_not(self, aisle: str, bay: str) -> str | None:
        """None when the location is in the layout, else the reason it is not."""
        places = self._by_aisle.get(aisle)
        if not places:
            return _("aisle {a} is not in the layout").format(a=aisle)
        n = _bay_number(bay)
        if n is None:
            return _("bay {b!r} is not a whole number").format(b=bay)
        if not any(self.spec.blocks[k].first_bay <= n <= self.spec.blocks[k].last_bay for k, _i in places):
            ranges = ", ".join(f"{self.spec.blocks[k].first_bay}–{self.spec.blocks[k].last_bay}" for k, _i in places)
            return _("bay {b} is outside aisle {a} (bays {r})").format(b=n, a=aisle, r=ranges)
        return None

    def position(self, aisle: str, bay: str) -> Position | None:
        places = self._by_aisle.get(aisle)
        n = _bay_number(bay)
        if not places or n is None:
            return None
        for k, i in places:
            b = self.spec.blocks[k]
            if b.first_bay <= n <= b.last_bay:
                rel = n - b.first_bay
                if b.numbering == "sequential":
                    slot, side = rel, "both"
                else:
                    slot, side = rel // 2, ("left" if rel % 2 == 0 else "right")
                along = self.spec.cross_aisle_width / 2 + (slot + 0.5) * b.bay_width
                a = b.aisles[i]
                return Position(k, b.name, i, a.name, side, along, a.x, self._cross_y[k] + along)
        return None


def _bay_number(bay: str) -> int | None:
    b = bay.strip()
    return int(b) if b.isdigit() else None


# ------------------------------------------------------------------------------------------ reading files


def read_layout_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(_("cannot read {file}: {err}").format(file=path, err=exc.strerror)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LayoutRejected(path.name, [_("not UTF-8 text (save the file as UTF-8)")]) from None
    is_json = path.suffix.lower() == ".json" or (path.suffix.lower() != ".toml" and text.lstrip().startswith("{"))
    try:
        data = json.loads(text) if is_json else tomllib.loads(text)
    except json.JSONDecodeError as exc:
        raise LayoutRejected(path.name, [_("broken JSON at line {n}: {e}").format(n=exc.lineno, e=exc.msg)]) from None
    except tomllib.TOMLDecodeError as exc:
        raise LayoutRejected(path.name, [_("broken TOML: {e}").format(e=exc)]) from None
    if not isinstance(data, dict):
        raise LayoutRejected(path.name, [_("the layout must be an object (a TOML document or a JSON object)")])
    return data


_RANGE = re.compile(r"^(?P<prefix>.*?)(?P<a>\d+)\s*\.\.\s*(?P=prefix)(?P<b>\d+)$")


def _expand(name: str) -> list[str]:
    """``A01..A08`` → A01, A02, …, A08 (zero padding kept); anything else is one name."""
    m = _RANGE.match(name.strip())
    if not m:
        return [name.strip()]
    a, b = m.group("a"), m.group("b")
    width = len(a) if a.startswith("0") or len(a) == len(b) else 0
    lo, hi = int(a), int(b)
    step = 1 if hi >= lo else -1
    return [f"{m.group('prefix')}{n:0{width}d}" for n in range(lo, hi + step, step)]


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, msg: str) -> None:
        self.items.append(f"{where}: {msg}" if where else msg)


def _num(d: dict[str, Any], key: str, where: str, p: _Problems, default: float | None = None, *,
         positive: bool = False) -> float:
    v = d.get(key, default)
    if v is None:
        p.add(where, _("{k} is required").format(k=key))
        return 0.0
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        p.add(where, _("{k} must be a number, not {v!r}").format(k=key, v=v))
        return 0.0
    if v < 0 or (positive and v == 0):
        p.add(where, _("{k} must be greater than 0").format(k=key) if positive else
              _("{k} must not be negative").format(k=key))
    return float(v)


def _bool(d: dict[str, Any], key: str, where: str, p: _Problems, default: bool) -> bool:
    v = d.get(key, default)
    if not isinstance(v, bool):
        p.add(where, _("{k} must be true or false").format(k=key))
        return default
    return v


def parse_layout(data: dict[str, Any], source: str = "layout") -> LayoutSpec:
    """Validate a layout document (already decoded from JSON/TOML) into a ``LayoutSpec``."""
    p = _Problems()
    known = {"warehouse", "name", "aisle_width", "rack_depth", "bay_width", "cross_aisle_width", "depot", "blocks"}
    for k in data:
        if k not in known:
            p.add("", _("unknown key {k} (expected: {ks})").format(k=k, ks=", ".join(sorted(known))))
    wh = data.get("warehouse")
    if not isinstance(wh, str) or not wh.strip():
        p.add("", _("warehouse (the warehouse code) is required"))
        wh = ""
    name = data.get("name", "")
    if not isinstance(name, str):
        p.add("", _("name must be text"))
        name = ""
    aisle_w = _num(data, "aisle_width", "", p, positive=True)
    rack_d = _num(data, "rack_depth", "", p, 1.0)
    bay_w = _num(data, "bay_width", "", p, positive=True)
    cross_w = _num(data, "cross_aisle_width", "", p, 2.0)
    pitch = aisle_w + 2 * rack_d
    raw_blocks = data.get("blocks")
    if not isinstance(raw_blocks, list) or not raw_blocks:
        p.add("", _("blocks must be a non-empty list ([[blocks]] in TOML)"))
        raw_blocks = []
    blocks: list[BlockSpec] = []
    for bi, rb in enumerate(raw_blocks):
        where = f"blocks[{bi}]"
        if not isinstance(rb, dict):
            p.add(where, _("must be a table/object"))
            continue
        for k in rb:
            if k not in {"name", "bays", "numbering", "bay_width", "x0", "aisle_pitch", "aisles"}:
                p.add(where, _("unknown key {k}").format(k=k))
        bname = rb.get("name", f"B{bi + 1}")
        if not isinstance(bname, str) or not bname or len(bname) > 32:
            p.add(where, _("name must be text of 1–32 characters"))
            bname = f"B{bi + 1}"
        where = f"block {bname}"
        bays = rb.get("bays")
        first = last = 1
        if (not isinstance(bays, list) or len(bays) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                     for v in bays)):
            p.add(where, _("bays must be [first, last] bay numbers, e.g. [1, 25]"))
        else:
            first, last = bays
            if first < 0 or last < first:
                p.add(where, _("bays [{a}, {b}]: the last bay must not be below the first").format(a=first, b=last))
                last = max(first, last)
        numbering = rb.get("numbering", "sequential")
        if numbering not in NUMBERINGS:
            p.add(where, _("numbering must be sequential or odd-even"))
            numbering = "sequential"
        bw = _num(rb, "bay_width", where, p, bay_w or 1.0, positive=True)
        step = _num(rb, "aisle_pitch", where, p, pitch, positive=True)
        x0 = _num(rb, "x0", where, p, pitch / 2)
        raw_aisles = rb.get("aisles")
        if isinstance(raw_aisles, str):
            raw_aisles = [raw_aisles]
        if not isinstance(raw_aisles, list) or not raw_aisles:
            p.add(where, _("aisles must be a non-empty list of names or {name = …, x = …} tables"))
            raw_aisles = []
        aisles: list[AisleSpec] = []
        seen: set[str] = set()
        for ai, ra in enumerate(raw_aisles):
            awhere = f"{where}, aisles[{ai}]"
            entries: list[tuple[str, dict[str, Any]]]
            if isinstance(ra, str):
                entries = [(n, {}) for n in _expand(ra)]
            elif isinstance(ra, dict):
                an = ra.get("name")
                if not isinstance(an, str) or not an.strip():
                    p.add(awhere, _("name is required"))
                    continue
                for k in ra:
                    if k not in {"name", "x", "open_front", "open_back"}:
                        p.add(awhere, _("unknown key {k}").format(k=k))
                entries = [(an.strip(), ra)]
            else:
                p.add(awhere, _("must be an aisle name or a table"))
                continue
            for an, extra in entries:
                if len(an) > 16 or any(c.isspace() for c in an):
                    p.add(awhere, _("aisle name {a!r} must be 1–16 characters without spaces").format(a=an))
                    continue
                if an in seen:
                    p.add(where, _("aisle {a} is listed twice").format(a=an))
                    continue
                seen.add(an)
                x = x0 + len(aisles) * step
                if "x" in extra:
                    x = _num(extra, "x", f"{where}, aisle {an}", p)
                aisles.append(AisleSpec(an, x, _bool(extra, "open_front", f"{where}, aisle {an}", p, True),
                                        _bool(extra, "open_back", f"{where}, aisle {an}", p, True)))
        aisles.sort(key=lambda a: a.x)
        for a1, a2 in zip(aisles, aisles[1:], strict=False):
            if a2.x - a1.x < pitch - 1e-6:
                p.add(where, _("aisles {a} and {b} overlap: their centre lines are {d:g} m apart, an aisle with its "
                               "racks needs {w:g} m (aisle_width + 2 × rack_depth)").format(
                    a=a1.name, b=a2.name, d=round(a2.x - a1.x, 3), w=round(pitch, 3)))
        blocks.append(BlockSpec(bname, first, last, numbering, bw, tuple(aisles)))
    names = [b.name for b in blocks]
    for n in sorted({n for n in names if names.count(n) > 1}):
        p.add("", _("block {b} is listed twice").format(b=n))
    claimed: dict[str, list[tuple[int, int, str]]] = {}
    for b in blocks:
        for a in b.aisles:
            for f, la, other in claimed.get(a.name, []):
                if f <= b.last_bay and b.first_bay <= la:
                    p.add("", _("aisle {a}: bays {f1}–{l1} of block {b1} overlap bays {f2}–{l2} of block {b2}").format(
                        a=a.name, f1=f, l1=la, b1=other, f2=b.first_bay, l2=b.last_bay, b2=b.name))
            claimed.setdefault(a.name, []).append((b.first_bay, b.last_bay, b.name))
    depot = data.get("depot", {})
    depot_x, depot_cross = 0.0, 0
    if not isinstance(depot, dict):
        p.add("", _("depot must be a table/object with x and cross_aisle"))
    else:
        for k in depot:
            if k not in {"x", "cross_aisle"}:
                p.add("depot", _("unknown key {k}").format(k=k))
        dx = depot.get("x", 0.0)
        if isinstance(dx, bool) or not isinstance(dx, int | float) or not math.isfinite(dx):
            p.add("depot", _("x must be a number"))
        else:
            depot_x = float(dx)
        ca = depot.get("cross_aisle", "front")
        if ca == "front":
            depot_cross = 0
        elif ca == "back":
            depot_cross = len(blocks)
        elif isinstance(ca, int) and not isinstance(ca, bool) and 0 <= ca <= len(blocks):
            depot_cross = ca
        else:
            p.add("depot", _("cross_aisle must be front, back or a number from 0 (front) to {n} (back)").format(
                n=len(blocks)))
    if p.items:
        raise LayoutRejected(source, p.items)
    return LayoutSpec(wh.strip(), name, aisle_w, rack_d, bay_w, cross_w, depot_x, depot_cross, tuple(blocks))


def parse_layout_file(path: Path) -> LayoutSpec:
    return parse_layout(read_layout_file(path), path.name)


# ------------------------------------------------------------------------------------------ database


@dataclass(frozen=True)
class LayoutReport:
    warehouse: str
    blocks: int
    aisles: int
    placed: int  # storage locations with a position
    unplaced: int  # internal locations without an aisle (not routable: docks, staging …)
    replaced: bool


def _storage_locations(s: Session, warehouse_id: int) -> list[tuple[str, str, str]]:
    """(code, aisle, bay) of the warehouse's internal locations that name an aisle."""
    rows = s.execute(select(Location.code, Location.aisle, Location.bay)
                     .where(Location.warehouse_id == warehouse_id, Location.usage == LocationUsage.INTERNAL.value,
                            Location.active == True)  # noqa: E712
                     .order_by(Location.code)).all()
    return [(c, a or "", b or "") for c, a, b in rows]


def check_fit(spec: LayoutSpec, locations: Iterable[tuple[str, str, str]]
              ) -> tuple[dict[str, Position], int, list[str]]:
    """Place locations (code, aisle, bay): (positions, without an aisle, problems naming the misfits)."""
    loc = spec.locator()
    router = Router(spec.geometry())
    positions: dict[str, Position] = {}
    outside: list[str] = []
    unreachable: list[str] = []
    no_aisle = 0
    for code, aisle, bay in locations:
        if not aisle.strip():
            no_aisle += 1
            continue
        pos = loc.position(aisle.strip(), bay)
        if pos is None:
            outside.append(f"{code} ({loc.why_not(aisle.strip(), bay)})")
            continue
        if not router.reachable(pos.point):
            a = spec.blocks[pos.block].aisles[pos.aisle]
            why = (_("aisle {a} is closed at both ends").format(a=a.name) if not (a.open_front or a.open_back)
                   else _("no walkable path from the depot to block {b}").format(b=pos.block_name))
            unreachable.append(f"{code} ({why})")
            continue
        positions[code] = pos
    problems = []
    for label, items in ((_("locations outside the layout"), outside),
                         (_("locations the depot cannot reach"), unreachable)):
        if items:
            more = _(" … and {n} more").format(n=len(items) - MAX_NAMED) if len(items) > MAX_NAMED else ""
            problems.append(f"{label} ({len(items)}): " + "; ".join(items[:MAX_NAMED]) + more)
    return positions, no_aisle, problems


def _warehouse_id(s: Session, code: str) -> int:
    wid = s.execute(select(Warehouse.id).where(Warehouse.code == code)).scalar()
    if wid is None:
        raise NotFound(_("warehouse {w} does not exist (import its locations first)").format(w=code))
    return int(wid)


def save_layout(s: Session, actor: Actor, spec: LayoutSpec, *, source: str, digest: str = "") -> LayoutReport:
    """Check the layout against the warehouse's locations and store it (replacing the old one), audited."""
    wid = _warehouse_id(s, spec.warehouse)
    positions, no_aisle, problems = check_fit(spec, _storage_locations(s, wid))
    if problems:
        raise LayoutRejected(source, problems)
    old = s.execute(select(Layout.id).where(Layout.warehouse_id == wid)).scalar()
    if old is not None:
        block_ids = select(LayoutBlock.id).where(LayoutBlock.layout_id == old)
        s.execute(delete(LayoutAisle).where(LayoutAisle.block_id.in_(block_ids)))  # type: ignore[attr-defined]
        s.execute(delete(LayoutBlock).where(LayoutBlock.layout_id == old))
        s.execute(delete(Layout).where(Layout.id == old))
    lid = s.execute(insert(Layout).values(
        warehouse_id=wid, name=spec.name, aisle_width=spec.aisle_width, rack_depth=spec.rack_depth,
        bay_width=spec.bay_width, cross_aisle_width=spec.cross_aisle_width, depot_x=spec.depot_x,
        depot_cross=spec.depot_cross, source_sha256=digest, imported_at=audit.utcnow(),
    ).returning(Layout.id)).scalar_one()
    for k, b in enumerate(spec.blocks):
        bid = s.execute(insert(LayoutBlock).values(
            layout_id=lid, idx=k, name=b.name, first_bay=b.first_bay, last_bay=b.last_bay, numbering=b.numbering,
            bay_width=b.bay_width).returning(LayoutBlock.id)).scalar_one()
        s.execute(insert(LayoutAisle), [{"block_id": bid, "idx": i, "name": a.name, "x": a.x,
                                         "open_front": a.open_front, "open_back": a.open_back}
                                        for i, a in enumerate(b.aisles)])
    report = LayoutReport(spec.warehouse, len(spec.blocks), sum(len(b.aisles) for b in spec.blocks), len(positions),
                          no_aisle, old is not None)
    audit.record(s, actor, "layout.import", f"warehouse:{spec.warehouse}", {
        "source": source, "sha256": digest, "blocks": report.blocks, "aisles": report.aisles,
        "placed": report.placed, "replaced": report.replaced})
    return report


def import_layout(db: Database, actor: Actor, path: Path) -> LayoutReport:
    """``wsms import layout FILE``: a JSON or TOML layout for one warehouse, replacing its previous one."""
    require(db, actor, "catalog.import", f"file:{path.name}")
    spec = parse_layout_file(path)
    digest = file_digest(path)
    return db.write(lambda s: save_layout(s, actor, spec, source=path.name, digest=digest))


def _load(s: Session, warehouse: str) -> LayoutSpec | None:
    wid = _warehouse_id(s, warehouse)
    lay = s.execute(select(Layout).where(Layout.warehouse_id == wid)).scalars().first()
    if lay is None:
        return None
    blocks = []
    for b in s.execute(select(LayoutBlock).where(LayoutBlock.layout_id == lay.id)
                       .order_by(LayoutBlock.idx)).scalars().all():  # type: ignore[arg-type]
        aisles = s.execute(select(LayoutAisle).where(LayoutAisle.block_id == b.id)
                           .order_by(LayoutAisle.idx)).scalars().all()  # type: ignore[arg-type]
        blocks.append(BlockSpec(b.name, b.first_bay, b.last_bay, b.numbering, b.bay_width,
                                tuple(AisleSpec(a.name, a.x, a.open_front, a.open_back) for a in aisles)))
    return LayoutSpec(warehouse, lay.name, lay.aisle_width, lay.rack_depth, lay.bay_width, lay.cross_aisle_width,
                      lay.depot_x, lay.depot_cross, tuple(blocks))


def load_layout(db: Database, actor: Actor, warehouse: str) -> LayoutSpec:
    require(db, actor, "stock.view")
    spec = db.read(lambda s: _load(s, warehouse))
    if spec is None:
        raise NotFound(_("warehouse {w} has no layout: `wsms import layout FILE`").format(w=warehouse))
    return spec


@dataclass(frozen=True)
class LocationPosition:
    location: str
    block: str
    aisle: str
    side: str
    along: float
    x: float
    y: float


def location_positions(db: Database, actor: Actor, warehouse: str) -> list[LocationPosition]:
    """Every storage location of ``warehouse`` with its position in the layout."""
    require(db, actor, "stock.view")

    def work(s: Session) -> list[LocationPosition]:
        _spec, positions = placed(s, warehouse)
        return [LocationPosition(code, p.block_name, p.aisle_name, p.side, round(p.along, 3), round(p.x, 3),
                                 round(p.y, 3)) for code, p in positions.items()]

    return db.read(work)


def placed(s: Session, warehouse: str) -> tuple[LayoutSpec, dict[str, Position]]:
    """The layout of ``warehouse`` and the position of each of its storage locations (in a transaction)."""
    spec = _load(s, warehouse)
    if spec is None:
        raise NotFound(_("warehouse {w} has no layout: `wsms import layout FILE`").format(w=warehouse))
    loc = spec.locator()
    out = {}
    for code, aisle, bay in _storage_locations(s, _warehouse_id(s, warehouse)):
        pos = loc.position(aisle.strip(), bay) if aisle.strip() else None
        if pos is not None:
            out[code] = pos
    return spec, out


def router_for(s: Session, warehouse: str) -> Router:
    """A router over ``warehouse``'s layout knowing every placed storage location (inside a transaction)."""
    spec, positions = placed(s, warehouse)
    return Router(spec.geometry(), {c: p.point for c, p in positions.items()})


def load_router(db: Database, actor: Actor, warehouse: str) -> Router:
    require(db, actor, "stock.view")
    return db.read(lambda s: router_for(s, warehouse))


# ------------------------------------------------------------------------------------------ route a list


@dataclass(frozen=True)
class RouteStop:
    seq: int
    location: str
    block: str
    aisle: str
    side: str
    along: float
    leg: float  # metres from the previous stop (the depot for the first)
    cumulative: float


@dataclass(frozen=True)
class RouteView:
    warehouse: str
    route: Route
    stops: tuple[RouteStop, ...]
    return_leg: float


def route_locations(db: Database, actor: Actor, codes: Sequence[str], *, warehouse: str | None = None,
                    method: str = "optimal") -> RouteView:
    """Route a pick list of location codes (``wsms route``)."""
    require(db, actor, "stock.view")
    if not codes:
        raise BadInput(_("give at least one location"))

    def work(s: Session) -> RouteView:
        wh = warehouse
        rows = s.execute(select(Location.code, Warehouse.code).join(Warehouse, Location.warehouse_id == Warehouse.id)
                         .where(Location.code.in_(list(codes)))).all()  # type: ignore[attr-defined]
        found = dict(rows)
        missing = [c for c in codes if c not in found]
        if missing:
            raise NotFound(_("unknown location(s): {c}").format(c=", ".join(missing)))
        whs = sorted(set(found.values()))
        if wh is None:
            if len(whs) > 1:
                raise BadInput(_("the locations are in several warehouses ({w}): route one warehouse at a time").format(
                    w=", ".join(whs)))
            wh = whs[0]
        elif whs != [wh]:
            others = [c for c in codes if found[c] != wh]
            raise BadInput(_("not in warehouse {w}: {c}").format(w=wh, c=", ".join(others)))
        spec, positions = placed(s, wh)
        router = Router(spec.geometry(), {c: p.point for c, p in positions.items()})
        outside = [c for c in codes if c not in router.points]
        if outside:
            raise BadInput(_("no position in the layout of {w}: {c}").format(w=wh, c=", ".join(outside)))
        r = router.route(codes, method)
        stops = []
        cum = 0.0
        leg_i = 0
        prev_point = None
        for i, c in enumerate(r.stops):
            p = router.points[c]
            if p != prev_point:
                leg = r.legs[leg_i]
                leg_i += 1
            else:
                leg = 0.0
            prev_point = p
            cum += leg
            pos = positions[c]
            stops.append(RouteStop(i + 1, c, pos.block_name, pos.aisle_name, pos.side, round(pos.along, 3),
                                   round(leg, 3), round(cum, 3)))
        return RouteView(wh, r, tuple(stops), round(r.legs[-1], 3) if r.legs else 0.0)

    return db.read(work)


# ------------------------------------------------------------------------------------------ the demo


def demo_layout(warehouse: str, aisles: int, bays: int) -> LayoutSpec:
    """The layout of a demo warehouse with aisles ``A01``… of bays ``1..bays`` (see ``wsms_tui.demo``).

    SH1: one block, depot at the front-left corner. LA1: two blocks (a middle cross aisle splits the
    bays in half), depot at the middle of the front cross aisle. Aisle pitch 3.2 m, bays 1.3 m wide.
    """
    names = tuple(AisleSpec(f"A{a + 1:02d}", round(1.6 + a * 3.2, 2)) for a in range(aisles))
    if warehouse == "LA1" and bays >= 2:
        half = bays // 2
        blocks = (BlockSpec("front", 1, half, "sequential", 1.3, names),
                  BlockSpec("back", half + 1, bays, "sequential", 1.3, names))
        depot_x = round(1.6 + (aisles - 1) * 3.2 / 2, 2)
    else:
        blocks = (BlockSpec("main", 1, bays, "sequential", 1.3, names),)
        depot_x = 0.0
    return LayoutSpec(warehouse, f"{warehouse} demo layout", 2.0, 0.6, 1.3, 3.0, depot_x, 0, blocks)


def install_demo_layouts(db: Database, actor: Actor) -> list[LayoutReport]:
    """Give each demo warehouse its layout, sized from its locations (called at the end of a demo build)."""
    require(db, actor, "catalog.import")

    def work(s: Session) -> list[LayoutReport]:
        out = []
        for code in ("SH1", "LA1"):
            wid = s.execute(select(Warehouse.id).where(Warehouse.code == code)).scalar()
            if wid is None:
                continue
            locs = _storage_locations(s, int(wid))
            aisle_names = {a for _c, a, _b in locs if a}
            bays = [int(b) for _c, _a, b in locs if b.isdigit()]
            if not aisle_names or not bays:
                continue
            spec = demo_layout(code, len(aisle_names), max(bays))
            out.append(save_layout(s, actor, spec, source="demo"))
        return out

    return db.write(work)
