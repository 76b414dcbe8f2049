"""Packing bench and shipping services: open an order to pack, match scanned items to its lines, close a
box (SSCC, box type, weight, carrier booking, shipping label through the spool), confirm the shipment
(the ledger moves the packed units to ``VIRT/CUSTOMER``), reprint a label with a reason, void a booked box
that has not left (cancelled with the carrier, its units back to pack), list shipments.

What may be packed: orders in ``allocated`` (single-order pick & pack) or ``picked`` (after a wave), or
``packed`` / partly packed ones. A line can take at most what is allocated to it and not yet in a box;
allocations always point to where the reserved stock is (after picking: the packing staging location),
so confirming ships from there.

Transactions: a box is one transaction (order lock → box, items, shipment, audit) written *after* the
carrier booking, which runs outside any transaction with the box's SSCC as idempotency key — a carrier
that refuses or times out leaves nothing written. The label is queued afterwards under the key
``ship-label:<SSCC>`` (a repeat returns the same job). Confirming is one transaction in the order
module's lock order: order → quants → audit head. Voiding a box cancels it with the carrier first, outside
any transaction (a refusal leaves nothing written), then marks box, shipment, order status and label job in
one transaction under the order lock. Closing a box writes no ledger rows (stock moves when it ships), so a
void has none to reverse.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from wsms_tui import audit, carriers, label_jobs, labels, ledger, printing
from wsms_tui.audit import as_utc
from wsms_tui.authz import require
from wsms_tui.barcodes import is_valid_sscc, normalize_gtin, parse_gs1
from wsms_tui.config import BoxTypeConfig, Settings
from wsms_tui.database import Database
from wsms_tui.db.models import Lot, Package, Product, ProductBarcode, User
from wsms_tui.db.models import PrintJob as PrintJobRow
from wsms_tui.db.models_orders import (
    Allocation,
    ExceptionTicket,
    OrderStatusEvent,
    SalesChannel,
    SalesOrder,
    SalesOrderLine,
)
from wsms_tui.db.models_shipping import Shipment, ShipmentBox, ShipmentItem
from wsms_tui.db.models_waves import WaveOrder
from wsms_tui.errors import BadInput, NotFound, WsmsError
from wsms_tui.i18n import _
from wsms_tui.orders import (
    active_allocations,
    close_tickets,
    doc_ref,
    find_order_id,
    from_raw,
    lock_orders,
    raw,
    raw_table,
    release_allocations,
    set_status,
    status_events_bulk,
    to_raw,
)
from wsms_tui.security import Actor

#: order statuses the bench packs (``picked`` after a wave; ``allocated`` for single-order pick & pack)
PACKABLE = ("allocated", "picked", "packed")
#: the longest reason a void takes
MAX_VOID_REASON = 200


# ------------------------------------------------------------------ box types and scales


@dataclass(frozen=True)
class BoxType:
    code: str
    name: str
    length_mm: int
    width_mm: int
    height_mm: int
    tare_kg: Decimal
    max_kg: Decimal

    def describe(self) -> str:
        return _("{c} {n} {l}×{w}×{h} mm, tare {t} kg, up to {m} kg").format(
            c=self.code, n=self.name, l=self.length_mm, w=self.width_mm, h=self.height_mm, t=self.tare_kg,
            m=self.max_kg)


def _box(code: str, cfg: BoxTypeConfig) -> BoxType:
    return BoxType(code, cfg.name or code, cfg.length_mm, cfg.width_mm, cfg.height_mm, Decimal(cfg.tare_kg),
                   Decimal(cfg.max_kg))


def box_types(settings: Settings) -> list[BoxType]:
    """The configured box types (``[packing.boxes.CODE]``), by code."""
    return [_box(c, b) for c, b in sorted(settings.packing.boxes.items())]


def box_type(settings: Settings, code: str) -> BoxType:
    key = code.strip()
    for c, b in settings.packing.boxes.items():
        if c.upper() == key.upper():
            return _box(c, b)
    raise BadInput(_("no box type {c!r} (box types: {k})").format(
        c=code[:20], k=", ".join(sorted(settings.packing.boxes)) or "-"))


def parse_weight(text: str) -> Decimal:
    """A typed weight in kg: ``1.25``, ``1,25``, ``1.25kg``, ``800g``."""
    t = text.strip().lower().replace(" ", "").replace(",", ".")
    grams = t.endswith("g") and not t.endswith("kg")
    t = t.removesuffix("kg").removesuffix("g")
    try:
        w = Decimal(t)
    except ArithmeticError:
        raise BadInput(_("{t!r} is not a weight: type kilograms, e.g. 1.25 (or 800g)").format(t=text[:20])) from None
    if not w.is_finite() or w <= 0:
        raise BadInput(_("a weight is more than zero"))
    w = w / 1000 if grams else w
    if w != w.quantize(Decimal("0.001")):
        raise BadInput(_("weigh to the gram (3 decimal places in kg)"))
    return w


class Scale(Protocol):
    """A scale the bench can read (out of scope for now: typed weights; a device plugs in here)."""

    def read_kg(self) -> Decimal | None:
        """The stable weight on the scale in kg, or None when there is none."""
        ...


# ------------------------------------------------------------------ the order at the bench


@dataclass(frozen=True)
class PackLine:
    line_id: int
    line_no: int
    sku: str
    name: str
    tracking: str
    qty: Decimal
    allocated: Decimal  # reserved for the line now (packed-but-not-shipped units included)
    packed: Decimal  # in boxes not shipped yet
    shipped: Decimal
    status: str

    @property
    def to_pack(self) -> Decimal:
        """What can still go in a box (allocated and not yet packed)."""
        return max(self.allocated - self.packed, Decimal(0)) if self.status == "open" else Decimal(0)

    @property
    def missing(self) -> Decimal:
        """Ordered but held nowhere (backordered)."""
        if self.status != "open":
            return Decimal(0)
        return max(self.qty - self.shipped - self.allocated, Decimal(0))


@dataclass(frozen=True)
class BoxItemView:
    sku: str
    lot: str | None
    qty: Decimal


@dataclass(frozen=True)
class BoxView:
    id: int
    shipment_id: int
    box_no: int
    sscc: str
    box_type: str
    weight_kg: Decimal
    carrier: str
    service: str
    tracking: str
    status: str
    print_job_id: int | None
    items: list[BoxItemView] = field(default_factory=list)
    label_data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PackOrder:
    id: int
    ref: str
    channel: str
    external_ref: str
    status: str
    customer: str
    ship_to: carriers.ShipTo
    lines: list[PackLine]
    boxes: list[BoxView]  # every box of the order, shipped ones included

    @property
    def open_boxes(self) -> list[BoxView]:
        return [b for b in self.boxes if b.status == "packed"]

    @property
    def to_pack(self) -> Decimal:
        return sum((ln.to_pack for ln in self.lines), Decimal(0))

    @property
    def fully_packed(self) -> bool:
        """Every open line is in boxes (packed + shipped covers what was ordered)."""
        return all(ln.packed + ln.shipped >= ln.qty for ln in self.lines if ln.status == "open")


def _packed_raw(s: Session, oid: int) -> tuple[dict[int, int], dict[tuple[int, int | None], int]]:
    """Raw qty in unshipped boxes per line, and per (line, lot)."""
    it, bx = ShipmentItem, ShipmentBox
    rows = s.execute(select(it.order_line_id, it.lot_id, func.sum(raw(it.qty)))
                     .join(bx, bx.id == it.box_id).where(bx.order_id == oid, bx.status == "packed")
                     .group_by(it.order_line_id, it.lot_id)).all()
    per_line: dict[int, int] = {}
    per_lot: dict[tuple[int, int | None], int] = {}
    for line_id, lot_id, q in rows:
        per_line[line_id] = per_line.get(line_id, 0) + int(q)
        per_lot[(line_id, lot_id)] = int(q)
    return per_line, per_lot


def _boxes(s: Session, oid: int) -> list[BoxView]:
    bx, sh = ShipmentBox, Shipment
    rows = s.execute(select(bx.id, bx.shipment_id, bx.box_no, bx.sscc, bx.box_type, bx.weight_kg, sh.carrier,
                            sh.service, bx.tracking, bx.status, bx.print_job_id, bx.label_data)
                     .join(sh, sh.id == bx.shipment_id).where(bx.order_id == oid).order_by(bx.id)).all()
    if not rows:
        return []
    it = ShipmentItem
    items: dict[int, list[BoxItemView]] = {}
    for box_id, sku, lot_no, q in s.execute(
            select(it.box_id, Product.sku, Lot.lot_no, it.qty).join(Product, Product.id == it.product_id)
            .outerjoin(Lot, Lot.id == it.lot_id).where(it.box_id.in_([r.id for r in rows]))  # type: ignore[attr-defined]
            .order_by(it.id)).all():
        items.setdefault(box_id, []).append(BoxItemView(sku, lot_no, q))
    return [BoxView(r.id, r.shipment_id, r.box_no, r.sscc, r.box_type, r.weight_kg, r.carrier, r.service, r.tracking,
                    r.status, r.print_job_id, items.get(r.id, []), _json(r.label_data)) for r in rows]


def _json(text: str) -> dict[str, str]:
    try:
        data = json.loads(text or "{}")
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _load(s: Session, oid: int) -> PackOrder:
    o = s.execute(select(SalesOrder, SalesChannel.name).join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
                  .where(SalesOrder.id == oid)).one()
    order, channel = o[0], o[1]
    per_line, _lots = _packed_raw(s, oid)
    lt = SalesOrderLine
    lines = [PackLine(r.id, r.line_no, r.sku, r.name, r.tracking, r.qty, r.allocated_qty,
                      from_raw(per_line.get(r.id, 0)), r.shipped_qty, r.status)
             for r in s.execute(select(lt.id, lt.line_no, Product.sku, Product.name, Product.tracking, lt.qty,
                                       lt.allocated_qty, lt.shipped_qty, lt.status)
                                .join(Product, Product.id == lt.product_id).where(lt.order_id == oid)
                                .order_by(lt.line_no)).all()]
    to = carriers.ShipTo(order.customer, order.address, order.city, order.postcode, order.country, order.state,
                         order.phone, order.email)
    return PackOrder(oid, doc_ref(oid), channel, order.external_ref, order.status, order.customer, to, lines,
                     _boxes(s, oid))


def _order_by_code(s: Session, code: str) -> int:
    """An order by its reference, or by a tote / LPN / box SSCC it is in."""
    text = code.strip()
    try:
        return find_order_id(s, text)
    except NotFound:
        pass
    gs1 = parse_gs1(text)
    if gs1 is not None and gs1.sscc:
        text = gs1.sscc
    box = s.execute(select(ShipmentBox.order_id).where(ShipmentBox.sscc == text)).scalar()
    if box is not None:
        return int(box)
    pkg = s.execute(select(Package.id).where(Package.code == text)).scalar()
    if pkg is not None:
        oids = sorted(set(s.execute(select(Allocation.order_id).where(Allocation.package_id == pkg,
                                                                      Allocation.status == "active")).scalars()))
        if len(oids) == 1:
            return oids[0]
        if len(oids) > 1:
            raise BadInput(_("tote {c} holds several orders ({o}): scan the order").format(
                c=text, o=", ".join(doc_ref(i) for i in oids[:5])))
        raise NotFound(_("tote {c} holds no order's goods").format(c=text))
    # a picking tote (waves): the picked orders, not yet shipped, that went into a tote of that name
    totes = sorted(set(s.execute(
        select(WaveOrder.order_id).join(SalesOrder, SalesOrder.id == WaveOrder.order_id)
        .where(WaveOrder.tote == text, SalesOrder.status.in_(["picking", "picked"]))  # type: ignore[attr-defined]
    ).scalars()))
    if len(totes) == 1:
        return int(totes[0])
    if len(totes) > 1:
        raise BadInput(_("tote {c} holds several orders ({o}): scan the order").format(
            c=text, o=", ".join(doc_ref(i) for i in totes[:5])))
    raise NotFound(_("{c!r} is no order, tote or box").format(c=code[:40]))


def open_order(db: Database, actor: Actor, code: str) -> PackOrder:
    """The order scanned at the bench (by order ref, tote, LPN or box SSCC), ready to pack or refused."""
    require(db, actor, "packing.pack", f"order:{code}")

    def work(s: Session) -> PackOrder:
        return _load(s, _order_by_code(s, code))

    po = db.read(work)
    if po.status == "shipped":
        raise BadInput(_("order {r} has shipped already").format(r=po.ref))
    if po.status not in PACKABLE:
        raise BadInput(_("order {r} is {st}: the bench packs orders that are allocated or picked").format(
            r=po.ref, st=po.status))
    if po.to_pack <= 0 and not po.open_boxes:
        raise BadInput(_("order {r} holds no stock to pack (backordered)").format(r=po.ref))
    return po


def pack_order(db: Database, actor: Actor, ref: str | int) -> PackOrder:
    """The order as the bench shows it (lines, what is packed, its boxes), whatever its status."""
    require(db, actor, "orders.view", f"order:{ref}")
    return db.read(lambda s: _load(s, find_order_id(s, ref)))


# ------------------------------------------------------------------ matching a scan to a line


@dataclass(frozen=True)
class ItemMatch:
    line_id: int
    line_no: int
    sku: str
    name: str
    tracking: str
    qty: Decimal  # units this scan stands for (a case barcode or GS1 count: several)
    lot: str | None
    lot_id: int | None


def match_item(db: Database, actor: Actor, order_id: int, code: str, *, lot: str | None = None) -> ItemMatch:
    """Which line of the order a scanned item belongs to; ``BadInput`` (for a person) when it belongs to none.

    SKU, GTIN (a case barcode brings its pack quantity) or a GS1 string (GTIN with lot / serial / count).
    A lot or serial in the scan (or ``lot``, scanned separately) must be one the order holds."""
    require(db, actor, "packing.pack", f"order:{order_id}")
    gs1 = parse_gs1(code)
    text = gs1.gtin if gs1 is not None and gs1.gtin else code.strip()

    def work(s: Session) -> ItemMatch:
        row = s.execute(select(Product.id, Product.sku, Product.name, Product.tracking)
                        .where(Product.sku == text)).first()
        pack = Decimal(1)
        if row is None:
            gtin = normalize_gtin(text)
            if gtin is not None:
                hit = s.execute(select(Product.id, Product.sku, Product.name, Product.tracking, ProductBarcode.pack_qty)
                                .join(ProductBarcode, ProductBarcode.product_id == Product.id)
                                .where(ProductBarcode.code == gtin)).first()
                if hit is not None:
                    row, pack = hit, hit.pack_qty
        if row is None:
            raise BadInput(_("{c!r} is no product of ours").format(c=code[:40]))
        lt = SalesOrderLine
        line = s.execute(select(lt.id, lt.line_no).where(lt.order_id == order_id, lt.product_id == row.id,
                                                         lt.status == "open").order_by(lt.line_no)).first()
        if line is None:
            raise BadInput(_("wrong item: {sku} {name} is not on order {r}").format(
                sku=row.sku, name=row.name, r=doc_ref(order_id)))
        qty = Decimal(gs1.count) if gs1 is not None and gs1.count else pack
        lot_no = lot or ((gs1.serial or gs1.lot) if gs1 is not None else None)
        if row.tracking == "serial":
            qty = Decimal(1)
        lot_id = None
        if lot_no and row.tracking != "none":
            lot_id = s.execute(select(Lot.id).where(Lot.product_id == row.id, Lot.lot_no == lot_no)).scalar()
            held = {a.lot_id for a in active_allocations(s, order_id, [line.id])}
            if lot_id is None or lot_id not in held:
                raise BadInput(_("lot {lot} of {sku} is not the stock picked for {r}").format(
                    lot=lot_no, sku=row.sku, r=doc_ref(order_id)))
        elif row.tracking == "none":
            lot_no = None
        return ItemMatch(line.id, line.line_no, row.sku, row.name, row.tracking, qty, lot_no, lot_id)

    return db.read(work)


# ------------------------------------------------------------------ closing a box


@dataclass(frozen=True)
class BoxItem:
    """What the bench put in the box: ``qty`` of an order line (of one lot, when scanned)."""

    line_id: int
    qty: Decimal
    lot_id: int | None = None
    scans: str = ""


@dataclass(frozen=True)
class BoxResult:
    box: BoxView
    order_status: str
    job: printing.JobInfo | None
    print_error: str = ""
    replayed: bool = False


def take_sscc(db: Database, actor: Actor, settings: Settings) -> str:
    """A fresh SSCC for the next box (a Package/LPN row); the bench keeps it for retries of the same box."""
    return label_jobs.next_sscc(db, actor, settings.gs1_company_prefix)


def _check_items(s: Session, oid: int, items: Sequence[BoxItem], status: str) -> None:
    if status not in PACKABLE:
        raise BadInput(_("order {r} is {st}: it cannot be packed now").format(r=doc_ref(oid), st=status))
    per_line, per_lot = _packed_raw(s, oid)
    lt = SalesOrderLine
    lines = {r.id: r for r in s.execute(select(lt.id, lt.line_no, lt.status, raw(lt.allocated_qty).label("alloc"),
                                                Product.sku).join(Product, Product.id == lt.product_id)
                                         .where(lt.order_id == oid)).all()}
    want: dict[int, int] = {}
    want_lot: dict[tuple[int, int | None], int] = {}
    for it in items:
        if it.line_id in lines and lines[it.line_id].status == "cancelled":
            ln = lines[it.line_id]  # cancelled or substituted by a supervisor while this box was being packed
            raise BadInput(_("line {n} ({sku}) of {r} was cancelled while this box was being packed: take its units "
                             "out (undo, or empty the box) and put them back").format(n=ln.line_no, sku=ln.sku,
                                                                                      r=doc_ref(oid)))
        if it.line_id not in lines or lines[it.line_id].status != "open":
            raise BadInput(_("that item is on no open line of {r}").format(r=doc_ref(oid)))
        if it.qty <= 0:
            raise BadInput(_("quantity must be more than zero, not {q}").format(q=it.qty))
        want[it.line_id] = want.get(it.line_id, 0) + to_raw(it.qty)
        if it.lot_id is not None:
            want_lot[(it.line_id, it.lot_id)] = want_lot.get((it.line_id, it.lot_id), 0) + to_raw(it.qty)
    for line_id, q in want.items():
        ln = lines[line_id]
        free = ln.alloc - per_line.get(line_id, 0)
        if q > free:
            raise BadInput(_("line {n} ({sku}) has {f} left to pack, not {q}").format(
                n=ln.line_no, sku=ln.sku, f=from_raw(max(free, 0)), q=from_raw(q)))
    if want_lot:
        held: dict[tuple[int, int | None], int] = {}
        for a in active_allocations(s, oid):
            held[(a.line_id, a.lot_id)] = held.get((a.line_id, a.lot_id), 0) + a.qty
        for key, q in want_lot.items():
            if q > held.get(key, 0) - per_lot.get(key, 0):
                raise BadInput(_("line {n}: that lot has {f} left to pack").format(
                    n=lines[key[0]].line_no, f=from_raw(max(held.get(key, 0) - per_lot.get(key, 0), 0))))


def close_box(db: Database, actor: Actor, settings: Settings, ref: str | int, *, items: Sequence[BoxItem],
              box: str, weight: object, op_id: str, carrier: str | None = None, waybill: str = "",
              sscc: str | None = None, printer: str | None = None, dpi: int = 203) -> BoxResult:
    """Close one box of an order: book it with the carrier, write box + items, queue its shipping label.

    ``op_id`` fixes the box (a repeat returns it, nothing twice); ``sscc`` is the one taken for this box by
    ``take_sscc`` (a new one is taken when not given). Printing goes to ``printer`` (default: the desk's)."""
    require(db, actor, "packing.pack", f"order:{ref}")
    op = (op_id or "").strip()
    if not op or len(op) > 80:
        raise BadInput(_("every operation needs an operation id of 1 to 80 characters"))
    if not items:
        raise BadInput(_("the box is empty: scan the items first"))
    bt = box_type(settings, box)
    w = weight if isinstance(weight, Decimal) else parse_weight(str(weight))
    if w < bt.tare_kg:
        raise BadInput(_("{w} kg is less than the empty box {c} ({t} kg): weigh again").format(w=w, c=bt.code,
                                                                                            t=bt.tare_kg))
    if w > bt.max_kg:
        raise BadInput(_("{w} kg is more than box {c} holds ({m} kg): split it").format(w=w, c=bt.code, m=bt.max_kg))

    def existing(s: Session) -> int | None:
        return s.execute(select(ShipmentBox.id).where(ShipmentBox.op_id == op)).scalar()

    def precheck(s: Session) -> tuple[int, str, PackOrder]:
        oid = find_order_id(s, ref)
        po = _load(s, oid)
        _check_items(s, oid, items, po.status)
        return oid, po.status, po

    done = db.read(existing)
    if done is not None:
        return _replay(db, actor, done)
    oid, _status, po = db.read(precheck)
    name = carrier or carriers.carrier_for(settings, po.channel)
    adapter = carriers.carrier(settings, name)
    code = sscc or take_sscc(db, actor, settings)
    if not is_valid_sscc(code):
        raise BadInput(_("SSCC {s!r} is not valid").format(s=code))
    box_no = len([b for b in po.boxes if b.status != "cancelled"]) + 1
    request = carriers.ShipmentRequest(code, po.ref, po.ship_to, w, bt.length_mm, bt.width_mm, bt.height_mm,
                                       box_no, waybill=waybill)
    booked = adapter.create_shipment(request)  # outside any transaction; CarrierError: nothing written

    def write(s: Session) -> tuple[int, str]:
        again = existing(s)
        if again is not None:
            return again, ""
        o = lock_orders(s, [oid])[oid]
        _check_items(s, oid, items, o.status)
        shp = s.execute(select(Shipment.id, Shipment.carrier).where(Shipment.order_id == oid,
                                                                    Shipment.status == "open")).first()
        at = audit.utcnow()
        if shp is not None and shp.carrier != name:
            raise BadInput(_("the open boxes of {r} go with {c}: ship or void them first, or choose {c}").format(
                r=doc_ref(oid), c=shp.carrier))
        sid = shp.id if shp is not None else s.execute(insert(Shipment).values(
            order_id=oid, carrier=name, service=booked.service, status="open", actor_id=actor.user_id,
            terminal=actor.terminal, created_at=at).returning(Shipment.id)).scalar_one()
        n = (s.execute(select(func.max(ShipmentBox.box_no)).where(ShipmentBox.shipment_id == sid)).scalar() or 0) + 1
        pkg = s.execute(select(Package.id).where(Package.code == code)).scalar()
        if pkg is None:
            pkg = s.execute(insert(Package).values(code=code).returning(Package.id)).scalar_one()
        bid = s.execute(insert(ShipmentBox).values(
            shipment_id=sid, order_id=oid, box_no=n, package_id=pkg, sscc=code, box_type=bt.code,
            length_mm=bt.length_mm, width_mm=bt.width_mm, height_mm=bt.height_mm, tare_kg=bt.tare_kg, weight_kg=w,
            tracking=booked.tracking, label_data=json.dumps(booked.label_data, ensure_ascii=False),
            status="packed", op_id=op, created_at=at).returning(ShipmentBox.id)).scalar_one()
        lt = SalesOrderLine
        prods = dict(s.execute(select(lt.id, lt.product_id).where(lt.order_id == oid)).all())
        s.execute(insert(ShipmentItem), [{"box_id": bid, "order_line_id": it.line_id, "product_id": prods[it.line_id],
                                          "lot_id": it.lot_id, "qty": it.qty, "scans": it.scans[:4000]}
                                         for it in items])
        status = o.status
        per_line, _lots = _packed_raw(s, oid)
        lines = s.execute(select(lt.id, raw(lt.qty), raw(lt.shipped_qty)).where(lt.order_id == oid,
                                                                                lt.status == "open")).all()
        if status != "packed" and all(per_line.get(i, 0) + sh >= q for i, q, sh in lines):
            set_status(s, actor, oid, status, "packed", _("{n} box(es) packed").format(n=n))
            status = "packed"
        audit.record(s, actor, "packing.box", f"shipment_box:{bid}", {
            "order": doc_ref(oid), "sscc": code, "box": bt.code, "weight_kg": str(w), "carrier": name,
            "tracking": booked.tracking, "items": [[it.line_id, str(it.qty), it.lot_id] for it in items]}, at=at)
        return bid, status

    bid, status = db.write(write)
    if not status:
        return _replay(db, actor, bid)
    view = _box_view(db, bid)
    job, error = _print(db, actor, settings, view, po, printer, dpi)
    return BoxResult(_box_view(db, bid) if job else view, status, job, error)


def _box_view(db: Database, bid: int) -> BoxView:
    def work(s: Session) -> BoxView:
        oid = s.execute(select(ShipmentBox.order_id).where(ShipmentBox.id == bid)).scalar_one()
        return next(b for b in _boxes(s, oid) if b.id == bid)

    return db.read(work)


def _replay(db: Database, actor: Actor, bid: int) -> BoxResult:
    view = _box_view(db, bid)
    status = db.read(lambda s: s.execute(select(SalesOrder.status).join(ShipmentBox, ShipmentBox.order_id ==
                                                                        SalesOrder.id)
                                         .where(ShipmentBox.id == bid)).scalar_one())
    job = None
    if view.print_job_id is not None:
        job = next((j for j in printing.list_jobs(db, actor, limit=1, before_id=view.print_job_id + 1)
                    if j.id == view.print_job_id), None)
    return BoxResult(view, status, job, replayed=True)


def shipping_label_for(settings: Settings, box: BoxView, order: PackOrder, *, dpi: int = 203) -> labels.Label:
    """The ZPL shipping label of a box: ship-to, order, carrier, tracking, SSCC as GS1-128."""
    boxes = len([b for b in order.boxes if b.status != "cancelled"]) or 1
    route = box.label_data.get("route", "")
    return labels.shipping_label(
        sscc=box.sscc, ship_from=settings.packing.ship_from, ship_to=order.ship_to.name,
        address=order.ship_to.one_line(), carrier=" ".join(p for p in (box.carrier, box.service, route) if p),
        tracking=box.tracking, order=order.ref if not order.external_ref else f"{order.ref} ({order.external_ref})",
        box=f"{box.box_no}/{max(boxes, box.box_no)}", weight=f"{box.weight_kg} kg", dpi=dpi)


def _print(db: Database, actor: Actor, settings: Settings, box: BoxView, po: PackOrder | None,
           printer: str | None, dpi: int) -> tuple[printing.JobInfo | None, str]:
    """Queue a box's label once (key ``ship-label:<SSCC>``) and link the job; (job, why not)."""
    name = settings.printer if printer is None else printer
    if not name:
        return None, _("no printer configured: the label was not printed (print it from the bench later)")
    try:
        order = po if po is not None else db.read(lambda s: _load(s, box_order(s, box.id)))
        order = db.read(lambda s: _load(s, order.id))  # with this box on it (box count)
        label = shipping_label_for(settings, box, order, dpi=dpi)
        job = printing.queue_label(db, actor, printer=name, label=label, idempotency_key=f"ship-label:{box.sscc}")
    except WsmsError as exc:
        return None, str(exc)

    def link(s: Session) -> bool:
        """Link the job to its box (packed, or shipped: a first label printed late) — unless the box was voided
        meanwhile (another bench, the CLI): then the job is cancelled before it prints (the void locks the box
        row, so one of the two always sees the other)."""
        hit = s.execute(update(ShipmentBox).where(ShipmentBox.id == box.id, ShipmentBox.status != "cancelled")
                        .values(print_job_id=job.id)).rowcount
        if not hit:
            _cancel_label_jobs(s, actor, job.id, _("box {n} (SSCC {s}) was voided before its label printed").format(
                n=box.box_no, s=box.sscc))
        return bool(hit)

    if not db.write(link):
        return None, _("box {n} was voided meanwhile: its label is cancelled").format(n=box.box_no)
    return job, ""


def box_order(s: Session, box_id: int) -> int:
    return int(s.execute(select(ShipmentBox.order_id).where(ShipmentBox.id == box_id)).scalar_one())


def _find_box(s: Session, code: str | int) -> int:
    if isinstance(code, int):
        bid = s.execute(select(ShipmentBox.id).where(ShipmentBox.id == code)).scalar()
    else:
        text = code.strip()
        gs1 = parse_gs1(text)
        if gs1 is not None and gs1.sscc:
            text = gs1.sscc
        bid = s.execute(select(ShipmentBox.id).where((ShipmentBox.sscc == text) | (ShipmentBox.tracking == text))
                        .order_by(ShipmentBox.id.desc())).scalar()  # type: ignore[union-attr]
    if bid is None:
        raise NotFound(_("no box {c}").format(c=code))
    return int(bid)


def print_label(db: Database, actor: Actor, settings: Settings, box: str | int, *, reason: str = "",
                printer: str | None = None, dpi: int = 203) -> printing.JobInfo:
    """Print a box's label: the first time (e.g. there was no printer), or again with a reason (recorded)."""
    require(db, actor, "packing.pack", f"box:{box}")
    bid = db.read(lambda s: _find_box(s, box))
    view = _box_view(db, bid)
    if view.status == "cancelled":
        raise BadInput(_("box {s} was cancelled").format(s=view.sscc))
    if view.print_job_id is None:
        job, error = _print(db, actor, settings, view, None, printer, dpi)
        if job is None:
            raise BadInput(error)
        return job
    return printing.reprint(db, actor, view.print_job_id, reason=reason)


# ------------------------------------------------------------------ voiding a booked box


@dataclass(frozen=True)
class VoidResult:
    box: BoxView  # as it is now (``cancelled``)
    order_ref: str
    order_status: str
    shipment_cancelled: bool = False  # it was the shipment's last box: the next box may pick another carrier
    label_cancelled: bool = False  # its label job was still waiting to print
    already: bool = False  # it was void before: nothing was asked or written this time


def void_box(db: Database, actor: Actor, settings: Settings, box: str | int, *, reason: str) -> VoidResult:
    """Void (unpack) a box booked at the bench that has not left: the carrier cancels the booking, the box is
    ``cancelled``, its units are to pack again, the order goes back from ``packed`` to what it was before, a
    label still waiting to print is cancelled. ``box``: SSCC, tracking number or box id.

    The carrier is asked first, outside any transaction (``CarrierError``: nothing written); then one
    transaction under the order lock re-checks the box and writes. A box void already returns ``already``; a
    shipped box is refused (a return). Its SSCC is never used again."""
    require(db, actor, "packing.pack", f"box:{box}")
    why = (reason or "").strip()
    if len(why) < 3:
        raise BadInput(_("say why the box is voided (at least 3 characters)"))
    if len(why) > MAX_VOID_REASON:
        raise BadInput(_("the reason is at most {n} characters").format(n=MAX_VOID_REASON))
    bid = db.read(lambda s: _find_box(s, box))
    view = _box_view(db, bid)
    if view.status == "cancelled":
        return _void_result(db, bid, already=True)
    if view.status == "shipped":
        _refuse_shipped(db, view)
    adapter = carriers.carrier(settings, view.carrier)
    adapter.cancel_shipment(view.tracking, view.sscc)  # outside any transaction; CarrierError: nothing written

    def work(s: Session) -> tuple[bool, bool, bool]:
        oid = box_order(s, bid)
        o = lock_orders(s, [oid])[oid]
        bx = ShipmentBox
        now = s.execute(select(bx.status, bx.shipment_id, bx.print_job_id).where(bx.id == bid)
                        .with_for_update()).one()  # a label being linked meanwhile waits, then sees the void
        if now.status == "cancelled":  # voided meanwhile at another bench
            return False, False, True
        if now.status != "packed":
            raise _ShippedMeanwhile(oid)
        at = audit.utcnow()
        s.execute(update(bx).where(bx.id == bid).values(status="cancelled"))
        left = s.execute(select(func.count()).select_from(bx).where(bx.shipment_id == now.shipment_id,
                                                                    bx.status != "cancelled")).scalar_one()
        shipment_cancelled = False
        if left == 0:
            shipment_cancelled = bool(s.execute(update(Shipment).where(Shipment.id == now.shipment_id,
                                                                       Shipment.status == "open")
                                                .values(status="cancelled")).rowcount)
        note = _("box {n} (SSCC {s}, {c} {t}) voided: {why}").format(n=view.box_no, s=view.sscc, c=view.carrier,
                                                                     t=view.tracking, why=why)
        if o.status == "packed":
            set_status(s, actor, oid, "packed", _status_before_packed(s, oid), note, at=at)
        else:  # the status stays; the timeline still says what happened
            status_events_bulk(s, actor, [(oid, o.status, o.status, note)], at)
        label_cancelled = _cancel_label_jobs(s, actor, now.print_job_id, note)
        audit.record(s, actor, "packing.void", f"shipment_box:{bid}", {
            "order": doc_ref(oid), "sscc": view.sscc, "tracking": view.tracking, "carrier": view.carrier,
            "reason": why, "shipment_cancelled": shipment_cancelled, "label_cancelled": label_cancelled}, at=at)
        return shipment_cancelled, label_cancelled, False

    try:
        shipment_cancelled, label_cancelled, already = db.write(work)
    except _ShippedMeanwhile as gone:
        raise BadInput(_void_after_ship(db, actor, view, gone.order_id, why)) from None
    return _void_result(db, bid, shipment_cancelled=shipment_cancelled, label_cancelled=label_cancelled,
                        already=already)


class _ShippedMeanwhile(Exception):
    def __init__(self, order_id: int) -> None:
        super().__init__(order_id)
        self.order_id = order_id


def _void_after_ship(db: Database, actor: Actor, view: BoxView, oid: int, why: str) -> str:
    """The box shipped between the carrier's cancel and the void's transaction: the parcel left on a cancelled
    booking. Nothing of the void is written; this is recorded (audit ``packing.void_failed`` and an exception
    ticket ``void_after_ship`` for a supervisor) so it is not left to one clerk's screen. Returns the message."""
    msg = _("box {n} of {r} (SSCC {s}) shipped while it was being voided: carrier {c} was asked to cancel {t}; "
            "call them, then handle it as a return").format(n=view.box_no, r=doc_ref(oid), s=view.sscc,
                                                            c=view.carrier, t=view.tracking)

    def record(s: Session) -> None:
        at = audit.utcnow()
        o = s.execute(select(SalesOrder.channel_id, SalesOrder.external_ref).where(SalesOrder.id == oid)).one()
        s.execute(insert(ExceptionTicket).values(
            code="void_after_ship", order_id=oid, channel_id=o.channel_id, external_ref=o.external_ref, message=msg,
            raw=json.dumps({"sscc": view.sscc, "tracking": view.tracking, "carrier": view.carrier, "reason": why,
                            "by": actor.name}, ensure_ascii=False),
            status="open", notes="", resolution="", created_at=at, updated_at=at))
        audit.record(s, actor, "packing.void_failed", f"shipment_box:{view.id}", {
            "order": doc_ref(oid), "sscc": view.sscc, "tracking": view.tracking, "carrier": view.carrier,
            "reason": why}, at=at)

    db.write(record)
    return msg


def _refuse_shipped(db: Database, view: BoxView) -> None:
    def work(s: Session) -> tuple[int, datetime | None]:
        return s.execute(select(Shipment.order_id, Shipment.shipped_at).where(Shipment.id == view.shipment_id)).one()

    oid, shipped_at = db.read(work)
    when = as_utc(shipped_at).strftime("%Y-%m-%d %H:%M") if shipped_at else "?"
    raise BadInput(_("box {n} of {r} (SSCC {s}, {c} {t}) shipped on {d}: it has left; handle it as a return").format(
        n=view.box_no, r=doc_ref(oid), s=view.sscc, c=view.carrier, t=view.tracking, d=when))


def _status_before_packed(s: Session, oid: int) -> str:
    """What the order was when its last box made it ``packed``: ``picked`` after a wave (the stock waits at the
    packing staging location, no second wave), else ``allocated``."""
    ev = OrderStatusEvent
    before = s.execute(select(ev.from_status).where(ev.order_id == oid, ev.to_status == "packed")
                       .order_by(ev.id.desc()).limit(1)).scalar()  # type: ignore[union-attr]
    return "picked" if before == "picked" else "allocated"


def _cancel_label_jobs(s: Session, actor: Actor, job_id: int | None, note: str) -> bool:
    """Cancel the box's label job and reprints of it still waiting in the spool (``printing.cancel_in``: a job
    the worker took meanwhile, or that printed, is left alone); True when the label job itself was."""
    if job_id is None:
        return False
    pj = PrintJobRow
    return job_id in printing.cancel_in(s, actor, (pj.id == job_id) | (pj.reprint_of == job_id), note)


def _void_result(db: Database, bid: int, *, shipment_cancelled: bool = False, label_cancelled: bool = False,
                 already: bool = False) -> VoidResult:
    view = _box_view(db, bid)

    def work(s: Session) -> tuple[int, str]:
        oid = box_order(s, bid)
        return oid, s.execute(select(SalesOrder.status).where(SalesOrder.id == oid)).scalar_one()

    oid, status = db.read(work)
    return VoidResult(view, doc_ref(oid), status, shipment_cancelled, label_cancelled, already)


# ------------------------------------------------------------------ confirming: the shipment


@dataclass(frozen=True)
class ShipResult:
    ref: str
    status: str
    boxes: int
    shipped: Decimal
    trackings: list[str]
    partial: bool
    replayed: bool = False


def ship(db: Database, actor: Actor, ref: str | int, *, op_id: str, partial: bool = False) -> ShipResult:
    """Confirm: every packed box of the order leaves. Per item, the reservation is released and the ledger
    moves the units from where the allocation points to ``VIRT/CUSTOMER``; boxes and the shipment become
    ``shipped``; the order is ``shipped`` — or, with ``partial``, keeps its status for what is still to
    pack (``backorder`` when that is not all held). Unpacked units refuse without ``partial``."""
    require(db, actor, "packing.ship", f"order:{ref}")
    op = (op_id or "").strip()
    if not op or len(op) > 60:
        raise BadInput(_("every operation needs an operation id of 1 to 60 characters"))

    def work(s: Session) -> ShipResult:
        oid = find_order_id(s, ref)
        o = lock_orders(s, [oid])[oid]
        done = s.execute(select(Shipment.id).where(Shipment.ship_op_id == op)).scalar()
        if done is not None:
            n, q, tr = _shipment_totals(s, [done])
            return ShipResult(doc_ref(oid), o.status, n, q, tr, o.status != "shipped", replayed=True)
        if o.status not in PACKABLE:
            raise BadInput(_("order {r} is {st}: nothing to ship from the bench").format(r=doc_ref(oid),
                                                                                         st=o.status))
        bx, it = ShipmentBox, ShipmentItem
        boxes = s.execute(select(bx.id, bx.shipment_id).where(bx.order_id == oid, bx.status == "packed")
                          .order_by(bx.id)).all()
        if not boxes:
            raise BadInput(_("nothing of {r} is packed: close a box first").format(r=doc_ref(oid)))
        items = s.execute(select(it.id, it.order_line_id, it.lot_id, raw(it.qty))
                          .where(it.box_id.in_([b.id for b in boxes])).order_by(it.id)).all()  # type: ignore[attr-defined]
        lt = SalesOrderLine
        lines = s.execute(select(lt.id, lt.line_no, raw(lt.qty), raw(lt.shipped_qty))
                          .where(lt.order_id == oid, lt.status == "open")).all()
        packed: dict[int, int] = {}
        for i in items:
            packed[i.order_line_id] = packed.get(i.order_line_id, 0) + i[3]
        short = sum(max(q - sh - packed.get(lid, 0), 0) for lid, _n, q, sh in lines)
        if short > 0 and not partial:
            raise BadInput(_("{q} unit(s) of {r} are not packed: pack them, or ship what is packed as a partial "
                             "shipment").format(q=from_raw(short), r=doc_ref(oid)))
        # which allocation each packed unit comes from (its lot when one was scanned; oldest first)
        allocs = active_allocations(s, oid)
        left = {a.id: a.qty for a in allocs}
        take: dict[int, int] = {}
        for i in items:
            want = i[3]
            for a in allocs:
                if want <= 0:
                    break
                if a.line_id != i.order_line_id or (i.lot_id is not None and a.lot_id != i.lot_id):
                    continue
                t = min(left[a.id], want)
                if t > 0:
                    left[a.id] -= t
                    take[a.id] = take.get(a.id, 0) + t
                    want -= t
            if want > 0:
                raise BadInput(_("a packed item of {r} is no longer held for it: unpack and scan it again").format(
                    r=doc_ref(oid)))
        used = [a for a in allocs if a.id in take]
        cust = ledger.location_ref(s, ledger.CUSTOMER)
        keys = [(a.product_id, a.location_id, a.lot_id, a.package_id) for a in used]
        keys += [(a.product_id, cust.id, a.lot_id, a.package_id) for a in used]
        ledger.lock_quants(s, keys)  # everything this shipment touches, in the fixed order
        release_allocations(s, actor, used, reason="ship", partial=take, locked=True)
        at = audit.utcnow()
        at_ = raw_table(Allocation)
        ltr = raw_table(SalesOrderLine)
        total = 0
        for a in used:
            q = take[a.id]
            ledger.post_in_session(s, actor, kind="ship", product=a.product_id, qty=from_raw(q),
                                   from_location=a.location_id, to_location=cust.id, lot=ledger.lot_no_of(s, a.lot_id),
                                   expiry=None, package=_pkg_code(s, a.package_id), op_id=f"{op}-{a.id}",
                                   doc_ref=doc_ref(oid), reason="", unit_cost=None, raw_scan=None)
            if q >= a.qty:
                s.execute(update(at_).where(at_.c.id == a.id).values(status="shipped"))
            else:  # the rest stays held; the shipped part is a row of its own
                wid = s.execute(select(Allocation.warehouse_id).where(Allocation.id == a.id)).scalar_one()
                s.execute(insert(at_).values(order_id=oid, order_line_id=a.line_id, product_id=a.product_id,
                                             warehouse_id=wid, location_id=a.location_id, lot_id=a.lot_id,
                                             package_id=a.package_id, qty=q, status="shipped", created_at=at))
            s.execute(update(ltr).where(ltr.c.id == a.line_id).values(shipped_qty=ltr.c.shipped_qty + q))
            total += q
        sids = sorted({b.shipment_id for b in boxes})
        s.execute(update(bx).where(bx.id.in_([b.id for b in boxes])).values(status="shipped"))  # type: ignore[union-attr]
        s.execute(update(Shipment).where(Shipment.id.in_(sids))  # type: ignore[union-attr]
                  .values(status="shipped", shipped_at=at, ship_op_id=op))
        rest = s.execute(select(raw(lt.qty), raw(lt.shipped_qty), raw(lt.allocated_qty))
                         .where(lt.order_id == oid, lt.status == "open")).all()
        if all(sh >= q for q, sh, _a in rest):
            new = "shipped"
            close_tickets(s, oid, "shipped")
        elif all(sh + al >= q for q, sh, al in rest):
            new = "picked" if o.status == "picked" else "allocated"
        else:
            new = "backorder"
        n = len(boxes)
        set_status(s, actor, oid, o.status, new, _("{n} box(es) shipped").format(n=n) if new == "shipped"
                   else _("{n} box(es) shipped, the rest later").format(n=n), at=at)
        _n, _q, trackings = _shipment_totals(s, sids)
        audit.record(s, actor, "packing.ship", f"sales_order:{oid}", {
            "op_id": op, "boxes": n, "qty": str(from_raw(total)), "status": new, "trackings": trackings}, at=at)
        return ShipResult(doc_ref(oid), new, n, from_raw(total), trackings, new != "shipped")

    return ledger.write_once(db, work)


def _pkg_code(s: Session, package_id: int | None) -> str | None:
    return s.execute(select(Package.code).where(Package.id == package_id)).scalar() if package_id else None


def _shipment_totals(s: Session, sids: Sequence[int]) -> tuple[int, Decimal, list[str]]:
    bx, it = ShipmentBox, ShipmentItem
    rows = s.execute(select(bx.id, bx.tracking).where(bx.shipment_id.in_(list(sids)), bx.status != "cancelled")  # type: ignore[attr-defined]
                     .order_by(bx.id)).all()
    q = s.execute(select(func.coalesce(func.sum(raw(it.qty)), 0)).where(
        it.box_id.in_([r.id for r in rows]))).scalar_one()  # type: ignore[attr-defined]
    return len(rows), from_raw(q), [r.tracking for r in rows]


# ------------------------------------------------------------------ shipments: list, show, track


@dataclass(frozen=True)
class ShipmentRow:
    id: int
    order_ref: str
    channel: str
    external_ref: str
    carrier: str
    service: str
    status: str
    boxes: int
    weight_kg: Decimal
    trackings: list[str]
    user: str
    created_at: datetime
    shipped_at: datetime | None


def _shipment_rows(s: Session, q: Any) -> list[ShipmentRow]:
    sh, bx = Shipment, ShipmentBox
    agg = (select(bx.shipment_id, func.count().label("n"), func.sum(raw(bx.weight_kg)).label("w"))
           .where(bx.status != "cancelled").group_by(bx.shipment_id).subquery())  # a voided box is not sent
    rows = s.execute(q.add_columns(sh.id, sh.order_id, SalesChannel.name, SalesOrder.external_ref, sh.carrier,
                                   sh.service, sh.status, agg.c.n, agg.c.w, User.name, sh.created_at,
                                   sh.shipped_at)
                     .join(SalesOrder, SalesOrder.id == sh.order_id)
                     .join(SalesChannel, SalesChannel.id == SalesOrder.channel_id)
                     .join(User, User.id == sh.actor_id).outerjoin(agg, agg.c.shipment_id == sh.id)).all()
    tracks: dict[int, list[str]] = {}
    if rows:
        for sid, tr in s.execute(select(bx.shipment_id, bx.tracking).where(bx.shipment_id.in_([r[0] for r in rows]),  # type: ignore[attr-defined]
                                                                          bx.status != "cancelled")
                                 .order_by(bx.id)).all():
            tracks.setdefault(sid, []).append(tr)
    return [ShipmentRow(r[0], doc_ref(r[1]), r[2], r[3], r[4], r[5], r[6], int(r[7] or 0), from_raw(r[8]),
                        tracks.get(r[0], []), r[9], as_utc(r[10]), as_utc(r[11]) if r[11] else None) for r in rows]


def list_shipments(db: Database, actor: Actor, *, status: str | None = None, order: str | None = None,
                   limit: int = 200, before_id: int | None = None) -> list[ShipmentRow]:
    """Shipments newest first (one keyset page)."""
    require(db, actor, "shipments.view")

    def work(s: Session) -> list[ShipmentRow]:
        q = select().select_from(Shipment)
        if status:
            q = q.where(Shipment.status == status)
        if order:
            q = q.where(Shipment.order_id == find_order_id(s, order))
        if before_id is not None:
            q = q.where(Shipment.id < before_id)  # type: ignore[operator]
        return _shipment_rows(s, q.order_by(Shipment.id.desc()).limit(limit))  # type: ignore[union-attr]

    return db.read(work)


@dataclass(frozen=True)
class ShipmentDetail:
    shipment: ShipmentRow
    boxes: list[BoxView]
    ship_to: carriers.ShipTo


def shipment_detail(db: Database, actor: Actor, code: str | int) -> ShipmentDetail:
    """A shipment by id, or by the SSCC or tracking number of one of its boxes."""
    require(db, actor, "shipments.view")

    def work(s: Session) -> ShipmentDetail:
        if isinstance(code, int) or (isinstance(code, str) and code.isdigit() and len(code) < 12):
            sid = s.execute(select(Shipment.id).where(Shipment.id == int(code))).scalar()
        else:
            sid = s.execute(select(ShipmentBox.shipment_id).where(ShipmentBox.id == _find_box(s, code))).scalar()
        if sid is None:
            raise NotFound(_("no shipment {c}").format(c=code))
        row = _shipment_rows(s, select().select_from(Shipment).where(Shipment.id == sid))[0]
        oid = s.execute(select(Shipment.order_id).where(Shipment.id == sid)).scalar_one()
        po = _load(s, oid)
        return ShipmentDetail(row, [b for b in po.boxes if b.shipment_id == sid], po.ship_to)

    return db.read(work)


def track(db: Database, actor: Actor, settings: Settings, code: str) -> carriers.TrackingInfo:
    """Ask a box's carrier where it is (by tracking number or SSCC)."""
    require(db, actor, "shipments.view")
    detail = shipment_detail(db, actor, code)
    box = next((b for b in detail.boxes if code in (b.sscc, b.tracking)), detail.boxes[0])
    return carriers.carrier(settings, detail.shipment.carrier).track(box.tracking)


def new_op_id(prefix: str = "pack") -> str:
    return f"{prefix}:{uuid.uuid4().hex}"

