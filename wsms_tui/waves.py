"""Wave planning: choose releasable orders, batch them into pick tours by real route distance, release
a plan as pick tasks in route order, show it.

* ``plan`` takes the orders that are ``allocated`` in one warehouse and not in a planned or released
  wave, filtered by carrier (``carrier_cutoff``: which carrier takes a warehouse's orders to a country,
  and its daily cutoff), cutoff time and zone, sorted by cutoff, express, priority, promised date and
  id (``max_orders`` keeps the first N). Their active allocations are the pick lines; the warehouse's
  layout router (``layout.router_for``) gives real route distances to ``batching.plan_batches``
  (Clarke–Wright savings by default), grouped by (carrier, cutoff) so a cart never mixes collections.
  The plan is stored (``wave``, ``pick_tour`` with its route, ``wave_order`` with each order's tote)
  next to the travel of first-come-first-served batches and of FCFS walked in location-name order.
* ``release`` locks the wave, then its orders (ascending id); orders no longer ``allocated`` are
  dropped from the wave. Each tour is routed again over its orders' *current* allocations (stock may
  have been re-allocated since planning) and one ``pick_task`` per allocation row is written in route
  order; orders become ``picking``; the packing staging location exists from then on; pick faces the
  wave would draw below their minimum get replenishment tasks (``replenishment``).
* ``show`` lists a wave's tours with the ordered locations, each leg and the running distance.

The packing staging location of a warehouse (where confirmed picks go and packing takes them from) is
its first active internal location in zone ``PACK``; if it has none, ``<WAREHOUSE>-PACK`` (zone PACK, no
aisle, so never on a pick path) is created under the warehouse's root location (``packing_location``).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, union, update
from sqlmodel import Session

from wsms_tui import audit
from wsms_tui.authz import require
from wsms_tui.batching import Capacity, Line, Order, name_sorted_travel, plan_batches
from wsms_tui.database import Database
from wsms_tui.db.models import Location, LocationUsage, Product, User, Warehouse
from wsms_tui.db.models_orders import Allocation, SalesOrder, SalesOrderLine
from wsms_tui.db.models_shipping import ShipmentBox
from wsms_tui.db.models_waves import CarrierCutoff, PickTask, PickTour, Wave, WaveOrder
from wsms_tui.errors import BadInput, NotFound
from wsms_tui.i18n import _
from wsms_tui.orders import doc_ref, from_raw, lock_orders, raw, set_status
from wsms_tui.routing import DEPOT, Router
from wsms_tui.security import Actor

RELEASABLE = ("allocated",)
PACK_ZONE = "PACK"
DEFAULT_CAPACITY = Capacity(lines=30, volume=120.0, weight=80.0, orders=8)
ACTIVE_WAVES = ("planned", "released")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def wave_ref(wave_id: int) -> str:
    return f"W{wave_id}"


def tour_ref(wave_id: int, number: int) -> str:
    """How a tour is named on screen and scanned at the picking desk: ``W12-3``."""
    return f"W{wave_id}-{number}"


def parse_wave_id(ref: str | int) -> int:
    if isinstance(ref, int):
        return ref
    t = ref.strip().upper()
    t = t[1:] if t.startswith("W") else t
    if not t.isdigit():
        raise BadInput(_("{r!r} is not a wave: give its number, e.g. 12 or W12").format(r=ref))
    return int(t)


def check_time(text: str) -> str:
    m = _TIME.match(text.strip())
    if m is None:
        raise BadInput(_("{t!r} is not a time of day: use HH:MM, e.g. 14:30").format(t=text))
    return f"{int(m[1]):02d}:{m[2]}"


# ------------------------------------------------------------------ the packing staging location


def packing_location(s: Session, actor: Actor, warehouse_id: int) -> int:
    """The warehouse's packing staging location (see the module doc), created if missing."""
    loc = s.execute(select(Location.id).where(
        Location.warehouse_id == warehouse_id, Location.usage == LocationUsage.INTERNAL.value,
        Location.zone == PACK_ZONE, Location.active == True).order_by(Location.id).limit(1)).scalar()  # noqa: E712
    if loc is not None:
        return int(loc)
    wh = s.execute(select(Warehouse.code).where(Warehouse.id == warehouse_id)).scalar_one()
    code = f"{wh}-PACK"
    clash = s.execute(select(Location.id, Location.zone).where(Location.code == code)).first()
    if clash is not None:
        raise BadInput(_("location {c} exists but is not in zone {z}: put it in zone {z} or give the warehouse "
                         "another internal location in zone {z} for packing").format(c=code, z=PACK_ZONE))
    root = s.execute(select(Location.id).where(Location.warehouse_id == warehouse_id,
                                               Location.usage == LocationUsage.VIEW.value,
                                               Location.parent_id.is_(None)).order_by(Location.id).limit(1)).scalar()  # type: ignore[union-attr]
    new_id = s.execute(insert(Location).values(
        code=code, name=_("Packing staging"), warehouse_id=warehouse_id, parent_id=root,
        usage=LocationUsage.INTERNAL.value, zone=PACK_ZONE, aisle="", bay="", level="", allow_negative=False,
        active=True).returning(Location.id)).scalar_one()
    audit.record(s, actor, "waves.staging_created", f"location:{code}", {"warehouse": wh, "zone": PACK_ZONE})
    return int(new_id)


# ------------------------------------------------------------------ carriers and cutoffs


@dataclass(frozen=True)
class CutoffRow:
    warehouse: str
    country: str
    carrier: str
    cutoff: str


def set_cutoff(db: Database, actor: Actor, warehouse: str, carrier: str, cutoff: str, *,
               country: str = "") -> CutoffRow:
    """The carrier that takes ``warehouse``'s orders to ``country`` ('' = anywhere) and its daily cutoff."""
    require(db, actor, "waves.plan", f"warehouse:{warehouse}")
    t = check_time(cutoff)
    country = country.strip().upper()
    carrier = carrier.strip()
    if country and len(country) != 2:
        raise BadInput(_("country is an ISO 3166 two-letter code, or empty for anywhere"))
    if not carrier or len(carrier) > 32:
        raise BadInput(_("a carrier name is 1 to 32 characters"))

    def work(s: Session) -> CutoffRow:
        wid = _warehouse_id(s, warehouse)
        cc = CarrierCutoff
        cid = s.execute(select(cc.id).where(cc.warehouse_id == wid, cc.country == country,
                                            cc.carrier == carrier)).scalar()
        if cid is None:
            s.execute(insert(CarrierCutoff).values(warehouse_id=wid, country=country, carrier=carrier, cutoff=t))
        else:
            s.execute(update(CarrierCutoff).where(CarrierCutoff.id == cid).values(cutoff=t))
        audit.record(s, actor, "waves.cutoff", f"warehouse:{warehouse}", {"carrier": carrier, "country": country,
                                                                          "cutoff": t})
        return CutoffRow(warehouse, country, carrier, t)

    return db.write(work)


def _carriers(s: Session, warehouse_id: int) -> dict[str, tuple[str, str]]:
    """country ('' = anywhere) -> (carrier, cutoff): the earliest cutoff per destination."""
    out: dict[str, tuple[str, str]] = {}
    for country, carrier, cutoff in s.execute(select(CarrierCutoff.country, CarrierCutoff.carrier, CarrierCutoff.cutoff)
                                              .where(CarrierCutoff.warehouse_id == warehouse_id)
                                              .order_by(CarrierCutoff.cutoff, CarrierCutoff.carrier)):
        out.setdefault(country, (carrier, cutoff))
    return out


def _warehouse_id(s: Session, code: str) -> int:
    wid = s.execute(select(Warehouse.id).where(Warehouse.code == code)).scalar()
    if wid is None:
        raise NotFound(_("no warehouse {w}").format(w=code))
    return int(wid)


# ------------------------------------------------------------------ plan


@dataclass(frozen=True)
class Stop:
    seq: int
    location: str
    leg: float  # metres from the previous stop (the depot for the first)
    cumulative: float


@dataclass(frozen=True)
class TourSummary:
    number: int
    ref: str
    status: str
    orders: tuple[str, ...]
    totes: tuple[str, ...]
    n_lines: int
    volume: float
    weight: float
    length: float
    exact: bool
    method: str
    stops: tuple[Stop, ...]
    back: float  # the last stop back to the depot
    picker: str | None = None
    left: int = 0  # pick tasks not yet done (released waves)


@dataclass(frozen=True)
class PlanResult:
    wave_id: int | None
    warehouse: str
    message: str
    orders: int = 0
    lines: int = 0
    tours: tuple[TourSummary, ...] = ()
    travel: float = 0.0
    fcfs_travel: float = 0.0
    name_travel: float = 0.0
    saving_pct: float = 0.0
    skipped: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return wave_ref(self.wave_id) if self.wave_id else ""


@dataclass
class _Cand:
    id: int
    country: str
    express: bool
    priority: int
    promised: date | None
    carrier: str = ""
    cutoff: str = ""
    lines: list[tuple[int, str, int, float, float]] = field(default_factory=list)  # alloc, loc, raw qty, vol, kg


def _in_active_wave(s: Session) -> Any:
    return (select(WaveOrder.order_id).join(Wave, Wave.id == WaveOrder.wave_id)
            .where(Wave.status.in_(ACTIVE_WAVES), WaveOrder.dropped == False))  # type: ignore[attr-defined]  # noqa: E712


def _not_plannable(s: Session) -> Any:
    """Orders a new wave may not take: already in a planned/released wave, or already being packed
    at the bench (single-order pick & pack has boxed part of them; a voided box does not count)."""
    return union(_in_active_wave(s), select(ShipmentBox.order_id).where(ShipmentBox.status != "cancelled"))


def _releasable_by_warehouse(s: Session) -> list[tuple[str, int, int]]:
    rows = s.execute(select(Warehouse.code, Warehouse.id, func.count())
                     .join(SalesOrder, SalesOrder.warehouse_id == Warehouse.id)
                     .where(SalesOrder.status.in_(RELEASABLE), SalesOrder.id.not_in(_not_plannable(s)))  # type: ignore[union-attr, attr-defined]
                     .group_by(Warehouse.code, Warehouse.id)).all()
    return sorted(((c, int(i), int(n)) for c, i, n in rows), key=lambda r: (-r[2], r[0]))


def _stops(router: Router, codes: Sequence[str]) -> tuple[list[Stop], float]:
    out, prev, cum = [], DEPOT, 0.0
    for i, c in enumerate(codes):
        p = router.point(c)
        leg = router.distance(prev, p)
        cum += leg
        out.append(Stop(i + 1, c, round(leg, 3), round(cum, 3)))
        prev = p
    return out, round(router.distance(prev, DEPOT), 3) if codes else 0.0


def plan(db: Database, actor: Actor, *, warehouse: str | None = None, cutoff: str | None = None,
         carrier: str | None = None, max_orders: int | None = None, zone: str | None = None,
         capacity: Capacity = DEFAULT_CAPACITY, method: str = "savings") -> PlanResult:
    """Plan a wave of releasable orders (see the module doc). With none to plan, says so (no wave)."""
    require(db, actor, "waves.plan", f"warehouse:{warehouse or '*'}")
    until = check_time(cutoff) if cutoff else None
    if max_orders is not None and max_orders < 1:
        raise BadInput(_("--max-orders must be at least 1"))

    def load(s: Session) -> tuple[str, int, list[_Cand], Router | None]:
        counts = _releasable_by_warehouse(s)
        if warehouse is None:
            if not counts:
                return "", 0, [], None
            wh, wid = counts[0][0], counts[0][1]
        else:
            wh, wid = warehouse, _warehouse_id(s, warehouse)
        carriers = _carriers(s, wid)
        so = SalesOrder
        rows = s.execute(select(so.id, so.country, so.express, so.priority, so.promised_date)
                         .where(so.status.in_(RELEASABLE), so.warehouse_id == wid,  # type: ignore[attr-defined]
                                so.id.not_in(_not_plannable(s)))).all()  # type: ignore[union-attr]
        cands: dict[int, _Cand] = {}
        for oid, country, express, priority, promised in rows:
            c = _Cand(oid, country or "", bool(express), priority or 0, promised)
            c.carrier, c.cutoff = carriers.get(c.country) or carriers.get("") or ("", "")
            if carrier is not None and c.carrier != carrier:
                continue
            if until is not None and (not c.cutoff or c.cutoff > until):
                continue
            cands[oid] = c
        if not cands:
            return wh, wid, [], None
        zones: dict[int, set[str]] = defaultdict(set)
        ids = sorted(cands)
        for i in range(0, len(ids), 5000):
            part = ids[i:i + 5000]
            for aid, oid, code, z, q, vol, kg in s.execute(
                    select(Allocation.id, Allocation.order_id, Location.code, Location.zone, raw(Allocation.qty),
                           raw(Product.volume_l), raw(Product.weight_kg))
                    .join(Location, Location.id == Allocation.location_id)
                    .join(Product, Product.id == Allocation.product_id)
                    .where(Allocation.order_id.in_(part), Allocation.status == "active")  # type: ignore[attr-defined]
                    .order_by(Allocation.order_id, Allocation.id)):
                units = q / 1e6
                cands[oid].lines.append((aid, code, q, units * (vol or 0) / 1e6, units * (kg or 0) / 1e6))
                zones[oid].add(z)
        chosen = [c for c in cands.values() if c.lines and (not zone or zones[c.id] == {zone})]
        router = None
        if chosen:
            from wsms_tui.layout import router_for

            router = router_for(s, wh)
        return wh, wid, chosen, router

    wh, wid, chosen, router = db.read(load)
    what = _describe(carrier, until, zone)
    if not chosen:
        where = wh or _("any warehouse")
        return PlanResult(None, wh, _("no releasable orders in {w}{what}: nothing to plan (orders must be "
                                      "allocated and not in a wave)").format(w=where, what=what))
    assert router is not None
    chosen.sort(key=lambda c: (c.cutoff or "99:99", not c.express, -c.priority, c.promised or date.max, c.id))
    if max_orders is not None:
        chosen = chosen[:max_orders]
    skipped, orders = [], []
    for seq, c in enumerate(chosen):
        bad = sorted({code for _a, code, *_r in c.lines if code not in router.points})
        if bad:
            skipped.append(_("{o}: no position in the layout for {locs}").format(o=doc_ref(c.id), locs=", ".join(bad)))
            continue
        cut = datetime(2000, 1, 1, int(c.cutoff[:2]), int(c.cutoff[3:])) if c.cutoff else None
        orders.append(Order(doc_ref(c.id), tuple(Line(code, q / 1e6, v, w, str(aid)) for aid, code, q, v, w in c.lines),
                            carrier=c.carrier, cutoff=cut, priority=(1000 if c.express else 0) + c.priority, seq=seq))
    if not orders:
        return PlanResult(None, wh, _("no routable orders in {w}{what}").format(w=wh, what=what),
                          skipped=tuple(skipped))
    bp = plan_batches(orders, router, capacity, method=method, group_by=lambda o: (o.carrier, o.cutoff))
    name_travel = name_sorted_travel(orders, router, capacity)
    by_id = {o.id: o for o in orders}

    def write(s: Session) -> PlanResult:
        ids = sorted(int(o.id[3:]) for o in orders)
        locked = lock_orders(s, ids)
        taken = set(s.execute(_in_active_wave(s).where(WaveOrder.order_id.in_(ids))).scalars())  # type: ignore[attr-defined]
        gone = {doc_ref(i) for i in ids if locked[i].status not in RELEASABLE or i in taken}
        at = audit.utcnow()
        wave_id = s.execute(insert(Wave).values(
            warehouse_id=wid, status="planned", method=method, carrier=carrier or "", cutoff=until or "",
            zone=zone or "", cap_lines=capacity.lines, cap_orders=capacity.orders, cap_volume=capacity.volume,
            cap_weight=capacity.weight, n_orders=0, n_lines=0, travel_m=0.0, fcfs_travel_m=bp.fcfs_travel,
            name_travel_m=name_travel, created_at=at, created_by=actor.user_id).returning(Wave.id)).scalar_one()
        tours, n_orders, n_lines, travel = [], 0, 0, 0.0
        for t in bp.tours:
            keep = [o for o in t.orders if o not in gone]
            if not keep:
                continue
            codes = t.stops if len(keep) == len(t.orders) else router.route(
                [by_id[o].lines[i].location for o, i in t.lines if o in keep]).stops
            length = t.length if len(keep) == len(t.orders) else router.route_length(codes)
            stops, back = _stops(router, codes)
            number = len(tours) + 1
            lines = [(o, i) for o, i in t.lines if o in keep]
            tid = s.execute(insert(PickTour).values(
                wave_id=wave_id, number=number, status="planned", length_m=round(length, 3), exact=t.exact,
                method=t.method, n_lines=len(lines), volume=round(t.volume, 3), weight=round(t.weight, 3),
                stops=json.dumps([[st.location, st.leg] for st in stops]), picker_id=None).returning(PickTour.id)
            ).scalar_one()
            totes = [f"T{k + 1}" for k in range(len(keep))]
            s.execute(insert(WaveOrder), [{"wave_id": wave_id, "order_id": int(o[3:]), "tour_id": tid, "tote": tote,
                                           "dropped": False} for o, tote in zip(keep, totes, strict=True)])
            tours.append(TourSummary(number, tour_ref(wave_id, number), "planned", tuple(keep), tuple(totes),
                                     len(lines), t.volume, t.weight, round(length, 3), t.exact, t.method,
                                     tuple(stops), back))
            n_orders += len(keep)
            n_lines += len(lines)
            travel += length
        s.execute(update(Wave).where(Wave.id == wave_id).values(n_orders=n_orders, n_lines=n_lines,
                                                                 travel_m=round(travel, 3)))
        pct = 100.0 * (bp.fcfs_travel - travel) / bp.fcfs_travel if bp.fcfs_travel > 0 else 0.0
        audit.record(s, actor, "waves.plan", f"wave:{wave_id}", {
            "warehouse": wh, "orders": n_orders, "lines": n_lines, "tours": len(tours), "travel_m": round(travel, 1),
            "fcfs_travel_m": round(bp.fcfs_travel, 1), "method": method, "carrier": carrier, "cutoff": until,
            "zone": zone, "dropped": sorted(gone)}, at=at)
        msg = _("wave {w}: {o} orders, {l} lines in {t} tours, {m:.0f} m ({p:.1f}% less than FCFS {f:.0f} m)").format(
            w=wave_ref(wave_id), o=n_orders, l=n_lines, t=len(tours), m=travel, p=pct, f=bp.fcfs_travel)
        return PlanResult(wave_id, wh, msg, n_orders, n_lines, tuple(tours), round(travel, 3),
                          round(bp.fcfs_travel, 3), round(name_travel, 3), round(pct, 2),
                          tuple(skipped + [_("{o}: changed while planning").format(o=o) for o in sorted(gone)]))

    return db.write(write)


def _describe(carrier: str | None, until: str | None, zone: str | None) -> str:
    parts = []
    if carrier:
        parts.append(_("for carrier {c}").format(c=carrier))
    if until:
        parts.append(_("with a cutoff by {t}").format(t=until))
    if zone:
        parts.append(_("in zone {z}").format(z=zone))
    return (" " + " ".join(parts)) if parts else ""


# ------------------------------------------------------------------ release


@dataclass(frozen=True)
class ReleaseResult:
    wave_id: int
    ref: str
    orders: int
    tasks: int
    tours: int
    dropped: tuple[str, ...]
    replenishments: int
    message: str
    replayed: bool = False


def release(db: Database, actor: Actor, ref: str | int) -> ReleaseResult:
    """Turn a planned wave into pick tasks in route order; its orders become ``picking``."""
    wave_id = parse_wave_id(ref)
    require(db, actor, "waves.release", f"wave:{wave_id}")

    def work(s: Session) -> ReleaseResult:
        w = s.execute(select(Wave.__table__).where(Wave.id == wave_id).with_for_update()).first()  # type: ignore[attr-defined]
        if w is None:
            raise NotFound(_("no wave {w}").format(w=wave_ref(wave_id)))
        if w.status != "planned":
            if w.status in ("released", "done"):
                n = s.execute(select(func.count()).where(PickTask.wave_id == wave_id)).scalar_one()
                return ReleaseResult(wave_id, wave_ref(wave_id), w.n_orders, int(n), 0, (), 0,
                                     _("wave {w} was released already").format(w=wave_ref(wave_id)), replayed=True)
            raise BadInput(_("wave {w} is {st}: only a planned wave can be released").format(
                w=wave_ref(wave_id), st=w.status))
        members = s.execute(select(WaveOrder.order_id, WaveOrder.tour_id, WaveOrder.tote)
                            .where(WaveOrder.wave_id == wave_id, WaveOrder.dropped == False)).all()  # noqa: E712
        locked = lock_orders(s, [m.order_id for m in members])
        keep = {m.order_id: m for m in members if locked[m.order_id].status in RELEASABLE
                and locked[m.order_id].warehouse_id == w.warehouse_id}
        dropped = sorted(m.order_id for m in members if m.order_id not in keep)
        if dropped:
            s.execute(update(WaveOrder).where(WaveOrder.wave_id == wave_id, WaveOrder.order_id.in_(dropped))  # type: ignore[attr-defined]
                      .values(dropped=True))
        wh = s.execute(select(Warehouse.code).where(Warehouse.id == w.warehouse_id)).scalar_one()
        from wsms_tui.layout import router_for

        router = router_for(s, wh)
        lt = SalesOrderLine
        allocs = s.execute(
            select(Allocation.id, Allocation.order_id, Allocation.order_line_id, Allocation.product_id,
                   Allocation.location_id, Allocation.lot_id, raw(Allocation.qty), Location.code, lt.line_no)
            .join(Location, Location.id == Allocation.location_id).join(lt, lt.id == Allocation.order_line_id)
            .where(Allocation.order_id.in_(list(keep) or [0]), Allocation.status == "active")  # type: ignore[attr-defined]
            .order_by(Allocation.order_id, Allocation.id)).all()
        by_tour: dict[int, list[Any]] = defaultdict(list)
        for a in allocs:
            by_tour[keep[a.order_id].tour_id].append(a)
        at = audit.utcnow()
        tasks, n_tours = [], 0
        for tid, rows in sorted(by_tour.items()):
            codes = sorted({a.code for a in rows if a.code in router.points})
            route = router.route(codes) if codes else None
            order_of = {c: i for i, c in enumerate(route.stops)} if route else {}
            tote_no = {o: int(m.tote[1:]) if m.tote[1:].isdigit() else 0 for o, m in keep.items()}
            rows.sort(key=lambda a: (order_of.get(a.code, len(order_of)), a.code, tote_no.get(a.order_id, 0),
                                     a.line_no, a.id))
            for seq, a in enumerate(rows):
                tasks.append({"wave_id": wave_id, "tour_id": tid, "seq": seq + 1, "order_id": a.order_id,
                              "order_line_id": a.order_line_id, "allocation_id": a.id, "product_id": a.product_id,
                              "location_id": a.location_id, "lot_id": a.lot_id, "qty": from_raw(a[6]),
                              "picked_qty": 0, "short_qty": 0, "tote": keep[a.order_id].tote, "status": "open"})
            stops, _back = _stops(router, route.stops) if route else ([], 0.0)
            s.execute(update(PickTour).where(PickTour.id == tid).values(
                status="open", length_m=round(route.length, 3) if route else 0.0,
                exact=route.exact if route else True, method=route.method if route else "",
                n_lines=len(rows), stops=json.dumps([[st.location, st.leg] for st in stops])))
            n_tours += 1
        empty = set(s.execute(select(PickTour.id).where(PickTour.wave_id == wave_id)).scalars()) - set(by_tour)
        if empty:
            s.execute(update(PickTour).where(PickTour.id.in_(empty)).values(status="cancelled"))  # type: ignore[union-attr]
        if tasks:
            s.execute(insert(PickTask), tasks)
        for oid in sorted(keep):
            set_status(s, actor, oid, locked[oid].status, "picking", _("wave {w}").format(w=wave_ref(wave_id)), at=at)
        if tasks:
            packing_location(s, actor, w.warehouse_id)
        s.execute(update(Wave).where(Wave.id == wave_id).values(
            status="released" if tasks else "cancelled", released_at=at, n_orders=len(keep), n_lines=len(tasks)))
        from wsms_tui import replenishment

        made = replenishment.check_in_session(s, actor, w.warehouse_id, wave_id=wave_id) if tasks else []
        audit.record(s, actor, "waves.release", f"wave:{wave_id}", {
            "orders": len(keep), "tasks": len(tasks), "tours": n_tours, "dropped": [doc_ref(o) for o in dropped],
            "replenishments": len(made)}, at=at)
        msg = _("wave {w} released: {t} pick tasks in {n} tours for {o} orders").format(
            w=wave_ref(wave_id), t=len(tasks), n=n_tours, o=len(keep))
        if dropped:
            msg += " · " + _("{n} order(s) dropped (no longer allocated)").format(n=len(dropped))
        if made:
            msg += " · " + _("{n} replenishment task(s)").format(n=len(made))
        return ReleaseResult(wave_id, wave_ref(wave_id), len(keep), len(tasks), n_tours,
                             tuple(doc_ref(o) for o in dropped), len(made), msg)

    return db.write(work)


def cancel(db: Database, actor: Actor, ref: str | int) -> None:
    """Drop a planned (not yet released) wave: its orders can be planned again."""
    wave_id = parse_wave_id(ref)
    require(db, actor, "waves.plan", f"wave:{wave_id}")

    def work(s: Session) -> None:
        st = s.execute(select(Wave.status).where(Wave.id == wave_id).with_for_update()).scalar()
        if st is None:
            raise NotFound(_("no wave {w}").format(w=wave_ref(wave_id)))
        if st != "planned":
            raise BadInput(_("wave {w} is {st}: only a planned wave can be cancelled").format(
                w=wave_ref(wave_id), st=st))
        s.execute(update(Wave).where(Wave.id == wave_id).values(status="cancelled"))
        s.execute(update(PickTour).where(PickTour.wave_id == wave_id).values(status="cancelled"))
        audit.record(s, actor, "waves.cancel", f"wave:{wave_id}", {})

    db.write(work)


# ------------------------------------------------------------------ show


@dataclass(frozen=True)
class WaveRow:
    id: int
    ref: str
    warehouse: str
    status: str
    orders: int
    lines: int
    tours: int
    travel: float
    fcfs_travel: float
    name_travel: float
    created_at: datetime
    left: int  # pick tasks not yet done

    @property
    def saving_pct(self) -> float:
        return round(100.0 * (self.fcfs_travel - self.travel) / self.fcfs_travel, 2) if self.fcfs_travel else 0.0


@dataclass(frozen=True)
class WaveView:
    wave: WaveRow
    carrier: str
    cutoff: str
    zone: str
    method: str
    tours: tuple[TourSummary, ...]


def _wave_rows(s: Session, where: Any, limit: int | None = None) -> list[WaveRow]:
    tours = (select(PickTour.wave_id, func.count().label("n")).where(PickTour.status != "cancelled")
             .group_by(PickTour.wave_id).subquery())
    left = (select(PickTask.wave_id, func.count().label("n")).where(PickTask.status.in_(("open", "skipped")))  # type: ignore[attr-defined]
            .group_by(PickTask.wave_id).subquery())
    q = (select(Wave.id, Warehouse.code, Wave.status, Wave.n_orders, Wave.n_lines, tours.c.n, Wave.travel_m,
                Wave.fcfs_travel_m, Wave.name_travel_m, Wave.created_at, left.c.n)
         .join(Warehouse, Warehouse.id == Wave.warehouse_id).outerjoin(tours, tours.c.wave_id == Wave.id)
         .outerjoin(left, left.c.wave_id == Wave.id).where(where).order_by(Wave.id.desc()))  # type: ignore[union-attr]
    if limit:
        q = q.limit(limit)
    return [WaveRow(r[0], wave_ref(r[0]), r[1], r[2], r[3], r[4], int(r[5] or 0), r[6], r[7], r[8],
                    audit.as_utc(r[9]), int(r[10] or 0)) for r in s.execute(q).all()]


def list_waves(db: Database, actor: Actor, *, status: Sequence[str] | None = None, limit: int = 100) -> list[WaveRow]:
    """Waves, newest first."""
    require(db, actor, "waves.view")
    return db.read(lambda s: _wave_rows(s, Wave.status.in_(status) if status else and_(True), limit))  # type: ignore[attr-defined]


def show(db: Database, actor: Actor, ref: str | int) -> WaveView:
    """A wave with its tours: orders and totes, the route's stops in order with each leg and the total."""
    wave_id = parse_wave_id(ref)
    require(db, actor, "waves.view", f"wave:{wave_id}")

    def work(s: Session) -> WaveView:
        rows = _wave_rows(s, Wave.id == wave_id)
        if not rows:
            raise NotFound(_("no wave {w}").format(w=wave_ref(wave_id)))
        w = s.execute(select(Wave.carrier, Wave.cutoff, Wave.zone, Wave.method).where(Wave.id == wave_id)).one()
        members: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for tid, oid, tote in s.execute(select(WaveOrder.tour_id, WaveOrder.order_id, WaveOrder.tote)
                                        .where(WaveOrder.wave_id == wave_id, WaveOrder.dropped == False)  # noqa: E712
                                        .order_by(WaveOrder.id)):
            members[tid].append((doc_ref(oid), tote))
        left = dict(s.execute(select(PickTask.tour_id, func.count()).where(
            PickTask.wave_id == wave_id, PickTask.status.in_(("open", "skipped"))).group_by(PickTask.tour_id)).all())  # type: ignore[attr-defined]
        tours = []
        for t, picker in s.execute(select(PickTour, User.name).outerjoin(User, User.id == PickTour.picker_id)
                                   .where(PickTour.wave_id == wave_id, PickTour.status != "cancelled")
                                   .order_by(PickTour.number)).all():
            stops, cum = [], 0.0
            for i, (code, leg) in enumerate(json.loads(t.stops or "[]")):
                cum += leg
                stops.append(Stop(i + 1, code, leg, round(cum, 3)))
            ms = members.get(t.id, [])
            tours.append(TourSummary(t.number, tour_ref(wave_id, t.number), t.status, tuple(o for o, _t in ms),
                                     tuple(tt for _o, tt in ms), t.n_lines, t.volume, t.weight, t.length_m, t.exact,
                                     t.method, tuple(stops), round(t.length_m - cum, 3), picker,
                                     int(left.get(t.id, 0))))
        return WaveView(rows[0], w.carrier, w.cutoff, w.zone, w.method, tuple(tours))

    return db.read(work)
