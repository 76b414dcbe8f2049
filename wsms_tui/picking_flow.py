"""The picking desk's scan flow as a plain state machine (no Textual): the screen feeds it each scan and
renders the ``PickView`` it returns; tests drive it the same way.

tour (scan ``W12-3`` or take one from the list) → for each pick task in route order: the location label
(``%LOC:CODE:C``: its check character verifies it; another location rings the bell and posts nothing) →
the item (a GTIN, a GS1 string, the SKU, or for a lot/serial-tracked product its lot; a GTIN alone asks for
the lot next) → the quantity: each item scan counts its units (a case its pack quantity, GS1 its count), a
typed number says how many; when the count reaches what is left the pick is confirmed (so a one-unit line
takes two scans) → the next task. ``%CMD:SHORT`` confirms what was counted and reports the rest short (a
ticket; what is missing is re-allocated from another location as a new pick on this tour); ``%CMD:SKIP``
leaves the task for later (it comes back after the others); ``%TOTE:NAME`` puts this order's picks from now
on into another tote (cluster picking: one tote per order on the cart). The view carries a running count of
lines and metres left (the route from here through the picks left and back to the depot).

Replenishment runs on the same flow (``%CMD:REPLEN``): from-location label → item → to-location label
(a typed number first moves less than the task); ``%CMD:CANCEL`` goes back. Every refused scan rings the
bell, says why and is audited with its raw text (``scanlog``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from wsms_tui import picking, replenishment
from wsms_tui.barcodes import Interpretation, interpret, normalize_gtin, printable
from wsms_tui.database import Database
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.picking import TaskView, TourInfo
from wsms_tui.replenishment import ReplenTaskView
from wsms_tui.routing import DEPOT, Router
from wsms_tui.scanlog import record_rejected_scan
from wsms_tui.security import Actor

TOTE_PREFIX = "%TOTE:"
_QTY = re.compile(r"^\d{1,6}(\.\d{1,6})?$")


@dataclass(frozen=True)
class PickView:
    step: str  # tour | location | item | lot | qty | r_from | r_item | r_to
    prompt: str
    message: str = ""
    level: str = "info"  # info | ok | error
    bell: bool = False
    tour: TourInfo | None = None
    task: TaskView | None = None
    counted: Decimal = Decimal(0)
    lines_left: int = 0
    meters_left: float = 0.0
    tours: tuple[TourInfo, ...] = ()
    tasks: tuple[TaskView, ...] = ()
    replen: ReplenTaskView | None = None
    replen_qty: Decimal = Decimal(0)
    replen_left: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _Hit:
    units: Decimal
    lot: str | None  # the lot/serial the scan carried, if any


class PickingFlow:
    """One picker's session at one terminal."""

    def __init__(self, db: Database, actor: Actor, *, new_op_id: Callable[[], str] | None = None) -> None:
        self.db = db
        self.actor = actor
        self._new_op_id = new_op_id or (lambda: f"pick:{uuid.uuid4().hex[:24]}")
        self.tour: TourInfo | None = None
        self.tasks: list[TaskView] = []
        self.task: TaskView | None = None
        self.counted = Decimal(0)
        self._pending: _Hit | None = None  # a GTIN scan of a tracked product waiting for its lot
        self.position: str | None = None  # the location of the last confirmed pick
        self._routers: dict[str, Router | None] = {}
        self.rtask: ReplenTaskView | None = None
        self.r_qty = Decimal(0)
        self._r_return = "tour"
        self._step = "tour"
        self._view = self._show("tour")

    @property
    def view(self) -> PickView:
        return self._view

    @property
    def step(self) -> str:
        return self._step

    # -- public ------------------------------------------------------------------------------

    def refresh(self) -> PickView:
        """Read the tour (or the list of tours) again, e.g. after a wave was released elsewhere."""
        if self.tour is not None:
            self._load_tasks()
        return self._show(self._step)

    def tours(self) -> list[TourInfo]:
        return picking.list_tours(self.db, self.actor)

    def feed(self, text: str, raw: str | None = None) -> PickView:
        """One scan or typed entry at the current step."""
        raw = text if raw is None else raw
        value = printable(text).strip()
        if not value:
            return self._show(self._step)
        if value.upper().startswith(TOTE_PREFIX):
            return self.tote(value[len(TOTE_PREFIX):], raw)
        it = interpret(value)
        if it.kind == "command":
            cmd = it.command or ""
            actions: dict[str, Callable[[], PickView]] = {
                "SHORT": self.short, "SKIP": self.skip, "REPLEN": self.replenish, "CANCEL": self.back,
                "PICK": self.back, "NEXT": self.next_tour}
            if cmd in actions:
                return actions[cmd]()
            return self._reject(raw, _("{c} means nothing at the picking desk").format(c=value))
        handler = {"tour": self._on_tour, "location": self._on_location, "item": self._on_item, "lot": self._on_lot,
                   "qty": self._on_item, "r_from": self._on_r_from, "r_item": self._on_r_item,
                   "r_to": self._on_r_to}[self._step]
        return handler(value, raw, it)

    def open_tour(self, ref: str, raw: str | None = None) -> PickView:
        try:
            self.tour = picking.start_tour(self.db, self.actor, ref)
        except WsmsError as exc:
            return self._reject(raw or ref, str(exc))
        self.position = None
        self._load_tasks()
        msg = _("tour {r}: {n} picks, {o} orders").format(r=self.tour.ref, n=self.tour.left, o=self.tour.orders)
        return self._next_task(msg, "ok")

    def next_tour(self) -> PickView:
        """Take the first tour nobody else is picking."""
        mine = [t for t in self.tours() if t.picker in (None, self.actor.name)]
        if not mine:
            return self._reject("%CMD:NEXT", _("no tour to pick: release a wave first"))
        return self.open_tour(mine[0].ref)

    def short(self) -> PickView:
        if self.task is None or self._step not in ("item", "lot", "qty"):
            return self._reject("%CMD:SHORT", _("scan the location first: a short pick is reported at the bin"))
        task = self.task
        notes = []
        if self.counted > 0:
            res = self._confirm(self.counted, "%CMD:SHORT")
            if res is None:
                return self._view
            notes.append(_("{q} picked").format(q=res.task.picked))
        try:
            sr = picking.short_pick(self.db, self.actor, task.id, op_id=self._new_op_id())
        except WsmsError as exc:
            return self._show(self._step, message=str(exc), level="error", bell=True)
        notes.append(_("{q} × {sku} short at {loc}: ticket raised").format(q=sr.short, sku=task.sku, loc=task.location))
        if sr.reallocated:
            notes.append(_("{q} re-allocated from {locs}").format(
                q=sr.reallocated_qty, locs=", ".join(t.location for t in sr.reallocated)))
        else:
            notes.append(_("no other stock here"))
        if sr.order_status == "picked":
            notes.append(_("{o} picked").format(o=task.order_ref))
        self.position = task.location
        self._load_tasks()
        return self._next_task(" · ".join(notes), "ok")

    def skip(self) -> PickView:
        if self.task is None:
            return self._reject("%CMD:SKIP", _("no pick to skip"))
        try:
            picking.skip_task(self.db, self.actor, self.task.id)
        except WsmsError as exc:
            return self._show(self._step, message=str(exc), level="error", bell=True)
        sku, loc = self.task.sku, self.task.location
        self._load_tasks()
        return self._next_task(_("skipped {sku} at {loc}: it comes back at the end").format(sku=sku, loc=loc), "info")

    def tote(self, name: str, raw: str = "") -> PickView:
        if self.task is None:
            return self._reject(raw or name, _("take a tour first: a tote is for an order's picks"))
        try:
            t = picking.set_tote(self.db, self.actor, self.task.id, name)
        except WsmsError as exc:
            return self._reject(raw or name, str(exc))
        self._load_tasks()
        self.task = next((x for x in self.tasks if x.id == t.id), t)
        return self._show(self._step, message=_("{o} goes into tote {t} from now on").format(o=t.order_ref, t=t.tote),
                          level="ok")

    def replenish(self) -> PickView:
        """Work the open replenishment tasks (of this tour's warehouse), then come back."""
        wh = self.tour.warehouse if self.tour else None
        try:
            todo = replenishment.tasks(self.db, self.actor, warehouse=wh)
        except WsmsError as exc:
            return self._reject("%CMD:REPLEN", str(exc))
        if not todo:
            return self._show(self._step, message=_("no replenishment to do"), level="info")
        if not self._step.startswith("r_"):
            self._r_return = self._step if self._step in ("tour", "location") else "location"
        self.rtask, self.r_qty = todo[0], todo[0].left
        return self._show("r_from", message=_("{n} replenishment task(s)").format(n=len(todo)))

    def back(self) -> PickView:
        if self._step.startswith("r_"):
            self.rtask = None
            step = self._r_return if self.task is not None or self._r_return == "tour" else "tour"
            return self._show(step, message=_("back to picking"))
        if self.tour is not None:
            ref = self.tour.ref
            self.tour, self.task, self.tasks, self.counted, self._pending = None, None, [], Decimal(0), None
            return self._show("tour", message=_("left tour {r}: it stays yours to finish").format(r=ref))
        return self._show("tour")

    # -- picking steps -----------------------------------------------------------------------

    def _on_tour(self, value: str, raw: str, it: Interpretation) -> PickView:
        return self.open_tour(value, raw)

    def _on_location(self, value: str, raw: str, it: Interpretation) -> PickView:
        assert self.task is not None
        if it.kind == "location":
            if it.location != self.task.location:
                return self._reject(raw, _("wrong location {got}: go to {want}").format(
                    got=it.location, want=self.task.location))
            return self._show("item", message=_("at {loc}").format(loc=self.task.location), level="ok")
        if it.kind == "invalid" and value.upper().startswith("%LOC:"):
            return self._reject(raw, it.reason or _("bad location label"))
        return self._reject(raw, _("scan the location label of {loc} first").format(loc=self.task.location))

    def _on_item(self, value: str, raw: str, it: Interpretation) -> PickView:
        task = self.task
        assert task is not None
        if it.kind == "location" or (it.kind == "invalid" and value.upper().startswith("%LOC:")):
            if it.location == task.location:
                return self._show(self._step, message=_("at {loc}").format(loc=task.location))
            return self._reject(raw, (it.reason or _("wrong location {got}: you are at {want}").format(
                got=it.location, want=task.location)))
        if self._step == "qty" and _QTY.match(value):
            q = Decimal(value)
            if q <= 0 or q > task.left:
                return self._reject(raw, _("type between 1 and {left}").format(left=task.left))
            return self._after_confirm(self._confirm(q, raw))
        hit, why = _match(it, value, task.sku, task.tracking, task.lot, task.barcodes)
        if hit is None:
            return self._reject(raw, why or _("wrong item: this pick is {sku} {name}").format(
                sku=task.sku, name=task.name))
        if task.tracking != "none" and hit.lot is None:
            self._pending = hit
            what = _("serial number") if task.tracking == "serial" else _("lot")
            return self._show("lot", prompt=_("Scan the {what} {lot} of {sku}").format(what=what, lot=task.lot,
                                                                                       sku=task.sku))
        return self._count(hit.units, raw)

    def _on_lot(self, value: str, raw: str, it: Interpretation) -> PickView:
        task = self.task
        assert task is not None
        lot = (it.serial or it.lot) if it.kind == "gs1" else value
        if lot != task.lot:
            return self._reject(raw, _("wrong lot {got}: this pick is lot {want}").format(got=lot, want=task.lot))
        units = self._pending.units if self._pending else Decimal(1)
        self._pending = None
        return self._count(units, raw)

    def _count(self, units: Decimal, raw: str) -> PickView:
        task = self.task
        assert task is not None
        if self.counted + units > task.left:
            return self._reject(raw, _("that makes {n}: only {left} to pick here").format(
                n=self.counted + units, left=task.left))
        self.counted += units
        if self.counted == task.left:
            return self._after_confirm(self._confirm(self.counted, raw))
        return self._show("qty", message=_("{c} of {left} counted").format(c=self.counted, left=task.left), level="ok")

    def _confirm(self, q: Decimal, raw: str) -> picking.PickResult | None:
        task = self.task
        assert task is not None
        try:
            res = picking.confirm_pick(self.db, self.actor, task.id, q, op_id=self._new_op_id(), raw_scan=raw)
        except WsmsError as exc:
            self.counted = Decimal(0)
            self._show(self._step, message=str(exc), level="error", bell=True)
            return None
        self.counted = Decimal(0)
        self.position = task.location
        return res

    def _after_confirm(self, res: picking.PickResult | None) -> PickView:
        if res is None:
            return self._view
        t = res.task
        msg = _("✓ {q} × {sku} → tote {tote}").format(q=t.picked, sku=t.sku, tote=t.tote)
        if res.order_status == "picked":
            msg += " · " + _("{o} picked").format(o=t.order_ref)
        if res.replenishments:
            msg += " · " + _("{loc} needs replenishing").format(loc=t.location)
        self._load_tasks()
        if t.left > 0 and t.status == "open":
            self.task = next((x for x in self.tasks if x.id == t.id), t)
            return self._show("item", message=msg + " · " + _("{left} left here").format(left=t.left), level="ok")
        return self._next_task(msg, "ok")

    # -- replenishment steps -----------------------------------------------------------------

    def _on_r_from(self, value: str, raw: str, it: Interpretation) -> PickView:
        r = self.rtask
        assert r is not None
        if it.kind != "location":
            return self._reject(raw, it.reason if it.kind == "invalid" and value.upper().startswith("%LOC:")
                                else _("scan the location label of {loc}").format(loc=r.from_location))
        if it.location != r.from_location:
            return self._reject(raw, _("wrong location {got}: take it from {want}").format(
                got=it.location, want=r.from_location))
        return self._show("r_item", message=_("at {loc}").format(loc=r.from_location), level="ok")

    def _on_r_item(self, value: str, raw: str, it: Interpretation) -> PickView:
        r = self.rtask
        assert r is not None
        codes = picking.product_codes(self.db, self.actor, r.sku)
        hit, why = _match(it, value, r.sku, r.tracking, r.lot, codes)
        if hit is None:
            return self._reject(raw, why or _("wrong item: this is a replenishment of {sku}").format(sku=r.sku))
        if r.tracking != "none" and hit.lot is None:
            return self._reject(raw, _("scan the lot {lot} (or its GS1 label): the move is of that lot").format(
                lot=r.lot))
        return self._show("r_to", message=_("{q} × {sku}: take them to {loc}").format(q=self.r_qty, sku=r.sku,
                                                                                       loc=r.to_location), level="ok")

    def _on_r_to(self, value: str, raw: str, it: Interpretation) -> PickView:
        r = self.rtask
        assert r is not None
        if _QTY.match(value):
            q = Decimal(value)
            if q <= 0 or q > r.left:
                return self._reject(raw, _("type between 1 and {left}").format(left=r.left))
            self.r_qty = q
            return self._show("r_to", message=_("{q} to move").format(q=q))
        if it.kind != "location":
            return self._reject(raw, it.reason if it.kind == "invalid" and value.upper().startswith("%LOC:")
                                else _("scan the location label of {loc}").format(loc=r.to_location))
        if it.location != r.to_location:
            return self._reject(raw, _("wrong location {got}: this goes to {want}").format(
                got=it.location, want=r.to_location))
        try:
            done = replenishment.confirm(self.db, self.actor, r.id, qty=self.r_qty, op_id=self._new_op_id(),
                                         raw_scan=raw)
        except WsmsError as exc:
            return self._show("r_to", message=str(exc), level="error", bell=True)
        msg = _("✓ {q} × {sku} {src} → {dst}").format(q=self.r_qty, sku=r.sku, src=r.from_location, dst=r.to_location)
        if done.status == "open":
            self.rtask, self.r_qty = done, done.left
            return self._show("r_from", message=msg, level="ok")
        wh = self.tour.warehouse if self.tour else None
        todo = replenishment.tasks(self.db, self.actor, warehouse=wh)
        if todo:
            self.rtask, self.r_qty = todo[0], todo[0].left
            return self._show("r_from", message=msg, level="ok")
        self.rtask = None
        step = self._r_return if self.task is not None or self._r_return == "tour" else "tour"
        return self._show(step, message=msg + " · " + _("replenishment done"), level="ok")

    # -- helpers -----------------------------------------------------------------------------

    def _load_tasks(self) -> None:
        if self.tour is None:
            self.tasks = []
            return
        self.tasks = picking.tour_tasks(self.db, self.actor, self.tour.id)

    def _remaining(self) -> list[TaskView]:
        open_ = [t for t in self.tasks if t.status == "open"]
        return open_ + [t for t in self.tasks if t.status == "skipped"]

    def _next_task(self, message: str, level: str) -> PickView:
        self.counted, self._pending = Decimal(0), None
        left = self._remaining()
        if not left:
            ref = self.tour.ref if self.tour else ""
            done = sum(1 for t in self.tasks if t.status == "picked")
            short = sum(1 for t in self.tasks if t.status == "short")
            self.tour, self.task, self.tasks = None, None, []
            return self._show("tour", message=(message + " · " if message else "") + _(
                "tour {r} done: {p} picked, {s} short").format(r=ref, p=done, s=short), level=level)
        self.task = left[0]
        return self._show("location", message=message, level=level)

    def _router(self) -> Router | None:
        wh = self.tour.warehouse if self.tour else None
        if wh is None:
            return None
        if wh not in self._routers:
            from wsms_tui.layout import load_router

            try:
                self._routers[wh] = load_router(self.db, self.actor, wh)
            except WsmsError:
                self._routers[wh] = None
        return self._routers[wh]

    def meters_left(self) -> float:
        router = self._router()
        if router is None:
            return 0.0
        pts = [router.points[t.location] for t in self._remaining() if t.location in router.points]
        here = router.points.get(self.position or "", DEPOT)
        total, prev = 0.0, here
        for p in pts:
            total += router.distance(prev, p)
            prev = p
        return total + router.distance(prev, DEPOT)

    def _prompt(self, step: str) -> str:
        t, r = self.task, self.rtask
        if step == "tour":
            return _("Scan a tour (W<wave>-<tour>) or choose one")
        if step == "location" and t:
            return _("Go to {loc}: scan its location label").format(loc=t.location)
        if step == "item" and t:
            what = _("the item or its lot") if t.tracking != "none" else _("the item")
            return _("Pick {q} × {sku} at {loc}: scan {what}").format(q=t.left, sku=t.sku, loc=t.location, what=what)
        if step == "qty" and t:
            return _("{c} of {q} × {sku}: scan the next or type how many").format(c=self.counted, q=t.left, sku=t.sku)
        if step == "lot" and t:
            return _("Scan the lot {lot} of {sku}").format(lot=t.lot, sku=t.sku)
        if step == "r_from" and r:
            return _("Replenish: go to {loc}, scan its label").format(loc=r.from_location)
        if step == "r_item" and r:
            return _("Replenish {q} × {sku} from {loc}: scan the item").format(q=self.r_qty, sku=r.sku,
                                                                                loc=r.from_location)
        if step == "r_to" and r:
            return _("Take {q} × {sku} to {loc}: scan its label (a number moves less)").format(
                q=self.r_qty, sku=r.sku, loc=r.to_location)
        return self._view.prompt if hasattr(self, "_view") else ""

    def _show(self, step: str, *, prompt: str | None = None, message: str = "", level: str = "info",
              bell: bool = False) -> PickView:
        self._step = step
        tours: tuple[TourInfo, ...] = ()
        if step == "tour":
            try:
                tours = tuple(self.tours())
            except WsmsError:
                tours = ()
        in_tour = self.tour is not None
        self._view = PickView(
            step, prompt or self._prompt(step), message, level, bell, self.tour, self.task if in_tour else None,
            self.counted, len(self._remaining()) if in_tour else 0, round(self.meters_left(), 1) if in_tour else 0.0,
            tours, tuple(self.tasks), self.rtask if step.startswith("r_") else None, self.r_qty)
        return self._view

    def _reject(self, raw: str, reason: str) -> PickView:
        record_rejected_scan(self.db, self.actor, desk="picking", raw=raw, reason=reason)
        self._view = replace(self._view, message=reason, level="error", bell=True)
        return self._view


def _match(it: Interpretation, value: str, sku: str, tracking: str, lot: str | None,
           barcodes: tuple[tuple[str, Decimal], ...]) -> tuple[_Hit | None, str | None]:
    """Is this scan the expected product (and lot)? (hit, None) or (None, why not / None for "wrong item")."""
    codes = dict(barcodes)
    if it.kind == "invalid":
        return None, it.reason
    if it.kind == "gs1":
        if it.gtin is None or it.gtin not in codes:
            return None, None
        seen = it.serial or it.lot
        if tracking != "none" and seen is not None and seen != lot:
            return None, _("wrong lot {got}: this pick is lot {want}").format(got=seen, want=lot)
        units = Decimal(it.count) if it.count else codes[it.gtin]
        return _Hit(units if tracking != "serial" else Decimal(1), seen if tracking != "none" else "-"), None
    if it.kind == "gtin":
        g = normalize_gtin(value) or it.gtin
        if g not in codes:
            return None, None
        return _Hit(codes[g], None if tracking != "none" else "-"), None
    if value == sku:
        return _Hit(Decimal(1), None if tracking != "none" else "-"), None
    if value in codes:  # an internal barcode
        return _Hit(codes[value], None if tracking != "none" else "-"), None
    if tracking != "none" and lot is not None and value == lot:
        return _Hit(Decimal(1), lot), None
    return None, None
