"""Exception tickets: what raises them, the supervisors' notice, and the actions that work them.

Raised by: import (``unknown_sku``, ``bad_row``, ``bad_address``, ``change_refused``), allocation
(``out_of_stock``), the pick floor and packing bench (``short_pick``, ``damaged`` via
``report_short_pick`` / ``report_damage``). Worked by: fix the address, cancel a line, substitute
a product, wait for stock, release a hold (or retry a rejected order), assign, add a note, close.

``open_exception_count`` is what the status bar polls: cheap (one indexed COUNT) and silent (0)
for roles that do not work exceptions.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlmodel import Session

from wsms_tui import audit, ledger
from wsms_tui.addresses import Address, check_address, country_code, normalise_postcode
from wsms_tui.audit import as_utc
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import Product, User
from wsms_tui.db.models_orders import ExceptionTicket, SalesChannel, SalesOrder, SalesOrderLine
from wsms_tui.db.models_shipping import Shipment, ShipmentBox, ShipmentItem
from wsms_tui.errors import BadInput, InsufficientStock, NotFound
from wsms_tui.i18n import _
from wsms_tui.orders import (
    OPEN_STATUSES,
    OrderChange,
    active_allocations,
    close_tickets,
    doc_ref,
    find_order_id,
    from_raw,
    lock_orders,
    raw,
    recompute_status,
    release_allocations,
    set_status,
    to_raw,
)
from wsms_tui.security import Actor

CODES = {
    "out_of_stock": "not enough stock: backordered",
    "bad_address": "ship-to address incomplete or malformed",
    "unknown_sku": "order names a SKU we do not have",
    "bad_row": "order file row could not be read",
    "change_refused": "channel changed an order the warehouse is working on",
    "short_pick": "picker found less than expected",
    "damaged": "damaged goods found",
    "void_after_ship": "a box was cancelled with its carrier after it shipped",
}
ACTIVE = ("open", "waiting")


@dataclass(frozen=True)
class TicketRow:
    id: int
    code: str
    status: str
    order_ref: str
    channel: str
    external_ref: str
    message: str
    assignee: str | None
    notes: str
    created_at: datetime
    updated_at: datetime
    raw: str = ""


@dataclass(frozen=True)
class ExceptionNotice:
    open: int
    by_code: dict[str, int]

    def __bool__(self) -> bool:
        return self.open > 0


def _rows(s: Session, q) -> list[TicketRow]:  # type: ignore[no-untyped-def]
    t = ExceptionTicket
    q = (q.add_columns(t.id, t.code, t.status, t.order_id, SalesChannel.name, t.external_ref, t.message, User.name,
                       t.notes, t.created_at, t.updated_at, t.raw)
         .outerjoin(SalesChannel, SalesChannel.id == t.channel_id).outerjoin(User, User.id == t.assignee_id))
    return [TicketRow(r[0], r[1], r[2], doc_ref(r[3]) if r[3] else "", r[4] or "", r[5], r[6], r[7], r[8],
                      as_utc(r[9]), as_utc(r[10]), r[11]) for r in s.execute(q).all()]


def _filtered(s: Session, q: Any, status: tuple[str, ...] | None, code: str | None, order: str | None) -> Any:
    """``q`` narrowed to the tickets ``ticket_page`` and ``ticket_count`` list (one filter for both)."""
    t = ExceptionTicket
    if status:
        q = q.where(t.status.in_(status))  # type: ignore[attr-defined]
    if code:
        q = q.where(t.code == code)
    if order:
        q = q.where(t.order_id == find_order_id(s, order))
    return q


def ticket_page(db: Database, actor: Actor, *, status: tuple[str, ...] | None = ACTIVE, code: str | None = None,
                order: str | None = None, limit: int = 200, before_id: int | None = None) -> list[TicketRow]:
    """Tickets newest first, one keyset page; ``status=None`` for all."""
    require(db, actor, "exceptions.view")

    def work(s: Session) -> list[TicketRow]:
        t = ExceptionTicket
        q = _filtered(s, select().select_from(t), status, code, order)
        if before_id is not None:
            q = q.where(t.id < before_id)  # type: ignore[operator]
        return _rows(s, q.order_by(t.id.desc()).limit(limit))  # type: ignore[union-attr]

    return db.read(work)


def ticket_count(db: Database, actor: Actor, *, status: tuple[str, ...] | None = ACTIVE, code: str | None = None,
                 order: str | None = None) -> int:
    """How many tickets ``ticket_page`` would page through (one indexed COUNT)."""
    require(db, actor, "exceptions.view")

    def work(s: Session) -> int:
        q = _filtered(s, select(func.count()).select_from(ExceptionTicket), status, code, order)
        return int(s.execute(q).scalar_one())

    return db.read(work)


def ticket_detail(db: Database, actor: Actor, ticket_id: int) -> TicketRow:
    require(db, actor, "exceptions.view")

    def work(s: Session) -> TicketRow:
        rows = _rows(s, select().select_from(ExceptionTicket).where(ExceptionTicket.id == ticket_id))
        if not rows:
            raise NotFound(_("no exception ticket {id}").format(id=ticket_id))
        return rows[0]

    return db.read(work)


def open_exception_count(db: Database, actor: Actor) -> ExceptionNotice:
    """Open tickets for the supervisors' status bar; an empty notice for roles that don't work them."""
    if not actor.can("exceptions.view"):
        return ExceptionNotice(0, {})

    def work(s: Session) -> ExceptionNotice:
        t = ExceptionTicket
        by = dict(s.execute(select(t.code, func.count()).where(t.status == "open").group_by(t.code)).all())
        return ExceptionNotice(sum(by.values()), by)

    return db.read(work)


def _ticket(s: Session, ticket_id: int) -> ExceptionTicket:
    t = s.execute(select(ExceptionTicket).where(ExceptionTicket.id == ticket_id)).scalars().first()
    if t is None:
        raise NotFound(_("no exception ticket {id}").format(id=ticket_id))
    return t


def _touch(s: Session, ticket_id: int, **values: object) -> None:
    s.execute(update(ExceptionTicket).where(ExceptionTicket.id == ticket_id).values(updated_at=audit.utcnow(),
                                                                                   **values))


def assign_ticket(db: Database, actor: Actor, ticket_id: int, assignee: str | None) -> TicketRow:
    require(db, actor, "exceptions.work", f"ticket:{ticket_id}")

    def work(s: Session) -> None:
        _ticket(s, ticket_id)
        uid = None
        if assignee:
            uid = s.execute(select(User.id).where(User.name == assignee, User.active == True)).scalar()  # noqa: E712
            if uid is None:
                raise NotFound(_("no active user {u}").format(u=assignee))
        _touch(s, ticket_id, assignee_id=uid)
        audit.record(s, actor, "exceptions.assign", f"ticket:{ticket_id}", {"assignee": assignee})

    db.write(work)
    return ticket_detail(db, actor, ticket_id)


def add_note(db: Database, actor: Actor, ticket_id: int, note: str) -> TicketRow:
    require(db, actor, "exceptions.work", f"ticket:{ticket_id}")
    if not note.strip():
        raise BadInput(_("the note is empty"))

    def work(s: Session) -> None:
        t = _ticket(s, ticket_id)
        stamp = audit.utcnow().strftime("%Y-%m-%d %H:%M")
        notes = (t.notes + "\n" if t.notes else "") + f"[{stamp} {actor.name}] {note.strip()}"
        _touch(s, ticket_id, notes=notes[-20_000:])
        audit.record(s, actor, "exceptions.note", f"ticket:{ticket_id}", {"note": note.strip()})

    db.write(work)
    return ticket_detail(db, actor, ticket_id)


def close_ticket(db: Database, actor: Actor, ticket_id: int, *, resolution: str = "closed",
                 note: str = "") -> TicketRow:
    """Close a ticket by hand (the problem was dealt with outside wsms)."""
    require(db, actor, "exceptions.work", f"ticket:{ticket_id}")

    def work(s: Session) -> None:
        t = _ticket(s, ticket_id)
        if t.status not in ACTIVE:
            raise BadInput(_("ticket {id} is {st} already").format(id=ticket_id, st=t.status))
        _touch(s, ticket_id, status="resolved", resolution=resolution[:32])
        audit.record(s, actor, "exceptions.close", f"ticket:{ticket_id}", {"resolution": resolution, "note": note})

    db.write(work)
    return ticket_detail(db, actor, ticket_id)


def wait_for_stock(db: Database, actor: Actor, ticket_id: int, note: str = "") -> TicketRow:
    """Leave the order backordered on purpose: the ticket waits and resolves itself once the order is
    allocated whole (when stock arrives)."""
    require(db, actor, "exceptions.work", f"ticket:{ticket_id}")

    def work(s: Session) -> None:
        t = _ticket(s, ticket_id)
        if t.code != "out_of_stock" or t.status != "open":
            raise BadInput(_("only an open out-of-stock ticket can wait for stock"))
        _touch(s, ticket_id, status="waiting")
        audit.record(s, actor, "exceptions.wait", f"ticket:{ticket_id}", {"note": note})

    db.write(work)
    return ticket_detail(db, actor, ticket_id)


def _allocate(db: Database, actor: Actor, oid: int) -> None:
    if actor.can("orders.allocate"):
        from wsms_tui.allocation import allocate

        allocate(db, actor, [oid])


def fix_address(db: Database, actor: Actor, ref: str | int, *, customer: str | None = None,
                address: str | None = None, city: str | None = None, postcode: str | None = None,
                country: str | None = None, phone: str | None = None, state: str | None = None) -> OrderChange:
    """Correct the ship-to address of an order not yet picked. A valid address releases the hold,
    resolves its ``bad_address`` tickets and allocates the order; an invalid one is refused with the
    problems listed (nothing is changed)."""
    require(db, actor, "exceptions.work", f"order:{ref}")

    def work(s: Session) -> tuple[int, str]:
        oid = find_order_id(s, ref)
        o = lock_orders(s, [oid])[oid]
        if o.status not in OPEN_STATUSES:
            raise BadInput(_("order {r} is {st}: too late to change its address here").format(r=doc_ref(oid),
                                                                                               st=o.status))
        c = country_code(country) if country is not None else o.country
        new = {"customer": customer if customer is not None else o.customer,
               "address": address if address is not None else o.address,
               "city": city if city is not None else o.city,
               "postcode": normalise_postcode(c, postcode) if postcode is not None else o.postcode,
               "country": c, "phone": phone if phone is not None else o.phone,
               "state": state if state is not None else o.state}
        problems = check_address(Address(**new))
        if problems:
            raise BadInput(_("the address still needs fixing: {p}").format(
                p="; ".join(f"{f}: {why}" for f, why in problems)))
        boxed = packed_units(s, oid)
        if boxed and any(new[k] != getattr(o, k) for k in new):
            raise BadInput(_("{r} has {boxes} booked with the carrier to the address on the label, not shipped: a "
                             "booked box is not changed here; {ship}, then fix the address for the rest (or have "
                             "the carrier re-address the box); {void}, then fix the address and pack it "
                             "again").format(r=doc_ref(oid), boxes=_describe_boxes(boxed), ship=_ship_first(boxed),
                                             void=_or_void(boxed)))
        s.execute(update(SalesOrder).where(SalesOrder.id == oid).values(updated_at=audit.utcnow(), **new))
        close_tickets(s, oid, "address fixed", ["bad_address"])
        status = o.status
        if o.status == "hold":
            set_status(s, actor, oid, "hold", "new", _("address fixed"))
            status = "new"
        audit.record(s, actor, "exceptions.fix_address", f"sales_order:{oid}", new)
        return oid, status

    oid, status = db.write(work)
    _allocate(db, actor, oid)
    return OrderChange(doc_ref(oid), _status(db, oid))


def _status(db: Database, oid: int) -> str:
    return db.read(lambda s: s.execute(select(SalesOrder.status).where(SalesOrder.id == oid)).scalar_one())


def _line(s: Session, oid: int, line_no: int) -> SalesOrderLine:
    ln = s.execute(select(SalesOrderLine).where(SalesOrderLine.order_id == oid, SalesOrderLine.line_no == line_no)
                   ).scalars().first()
    if ln is None:
        raise NotFound(_("order {r} has no line {n}").format(r=doc_ref(oid), n=line_no))
    return ln


# ------------------------------------------------------------------ what the packing bench holds


@dataclass(frozen=True)
class PackedUnits:
    """Units of an order line (of one lot, when scanned) in a box of the packing bench that is booked with its
    carrier and labelled but not shipped yet (``shipment_box.status = 'packed'``)."""

    line_id: int
    line_no: int
    sku: str
    lot_id: int | None
    box_id: int
    box_no: int
    sscc: str
    carrier: str
    tracking: str
    qty: int  # raw

    def describe(self) -> str:
        return _("line {n} ({sku}) has {q} unit(s) packed in box {b} (SSCC {s}, {c} {t})").format(
            n=self.line_no, sku=self.sku, q=from_raw(self.qty), b=self.box_no, s=self.sscc, c=self.carrier,
            t=self.tracking).replace(" )", ")")


def packed_units(s: Session, oid: int, line_ids: list[int] | None = None) -> list[PackedUnits]:
    """What of the order (or of these lines) is in booked, not yet shipped boxes, per line, lot and box.

    The bench writes a box only when it is booked with the carrier (the box being packed lives in the bench's
    memory until then), so every such box carries a label: it is never changed behind the bench's back."""
    it, bx, sh, lt = ShipmentItem, ShipmentBox, Shipment, SalesOrderLine
    q = (select(lt.id, lt.line_no, Product.sku, it.lot_id, bx.id, bx.box_no, bx.sscc, sh.carrier, bx.tracking,
                func.sum(raw(it.qty)))
         .select_from(it).join(bx, bx.id == it.box_id).join(sh, sh.id == bx.shipment_id)
         .join(lt, lt.id == it.order_line_id).join(Product, Product.id == lt.product_id)
         .where(bx.order_id == oid, bx.status == "packed")
         .group_by(lt.id, lt.line_no, Product.sku, it.lot_id, bx.id, bx.box_no, bx.sscc, sh.carrier, bx.tracking)
         .order_by(lt.line_no, bx.id, it.lot_id))
    if line_ids is not None:
        q = q.where(it.order_line_id.in_(line_ids))  # type: ignore[attr-defined]
    return [PackedUnits(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], int(r[9])) for r in s.execute(q).all()]


def _describe_packed(rows: list[PackedUnits]) -> str:
    """``line 2 (P2) has 3 unit(s) packed in box 1 (SSCC …, local LX…)``, one entry per line and box (lots summed)."""
    merged: dict[tuple[int, int], PackedUnits] = {}
    for r in rows:
        had = merged.get((r.line_id, r.box_id))
        merged[(r.line_id, r.box_id)] = r if had is None else PackedUnits(
            r.line_id, r.line_no, r.sku, None, r.box_id, r.box_no, r.sscc, r.carrier, r.tracking, had.qty + r.qty)
    return "; ".join(r.describe() for r in merged.values())


def _describe_boxes(rows: list[PackedUnits]) -> str:
    """``box 1 (SSCC …, local LX…), box 2 (…)``: each booked box once."""
    seen: dict[int, PackedUnits] = {}
    for r in rows:
        seen.setdefault(r.box_id, r)
    return ", ".join(_("box {b} (SSCC {s}, {c} {t})").format(b=r.box_no, s=r.sscc, c=r.carrier, t=r.tracking)
                     .replace(" )", ")") for r in seen.values())


def booked_boxes(s: Session, oid: int) -> str:
    """The order's boxes booked at the packing bench and not shipped, for a message (``box 1 (SSCC …, local
    LX…)``); "" when there are none."""
    return _describe_boxes(packed_units(s, oid))


def _ship_first(rows: list[PackedUnits]) -> str:
    one = len({r.box_id for r in rows}) == 1
    return (_("ship it first (a partial shipment at the packing bench)") if one
            else _("ship them first (a partial shipment at the packing bench)"))


def _or_void(rows: list[PackedUnits]) -> str:
    """The other way out: void the box(es) at the bench (the carrier cancels, the units are to pack again)."""
    one = len({r.box_id for r in rows}) == 1
    code = rows[0].sscc if one else "SSCC"
    return (_("or void it at the packing bench (or `wsms shipments void {c} --reason …`): cancelled with the "
              "carrier, its units unpacked").format(c=code) if one
            else _("or void them at the packing bench (or `wsms shipments void {c} --reason …`): cancelled with "
                   "the carrier, their units unpacked").format(c=code))


def refuse_packed(s: Session, oid: int, line_ids: list[int] | None, then: str) -> None:
    """Refuse a change that would take units out of a booked box: ``BadInput`` naming the boxes.

    A booked box is labelled and known to its carrier, so nothing here changes it or what it holds. The ways
    out: ship the packed boxes first (a partial shipment at the packing bench), then do ``then`` to what is
    left; or void the boxes at the bench (``packing.void_box``: cancelled with the carrier, the units are
    unpacked) and change the order as if they had never been packed."""
    rows = packed_units(s, oid, line_ids)
    if rows:
        raise BadInput(_("{what}, booked with the carrier and not shipped: a booked box is not changed here; "
                         "{ship}, then {then}; {void}").format(what=_describe_packed(rows), ship=_ship_first(rows),
                                                             then=then, void=_or_void(rows)))


def _packed_if_all_boxed(s: Session, actor: Actor, oid: int, status: str, note: str) -> str:
    """After a line left the order: when every open line is now in boxes (packed + shipped covers it), the
    order is ``packed``, as if its last box had just closed at the bench."""
    if status != "allocated":
        return status
    per_line: dict[int, int] = {}
    for r in packed_units(s, oid):
        per_line[r.line_id] = per_line.get(r.line_id, 0) + r.qty
    if not per_line:
        return status
    lt = SalesOrderLine
    lines = s.execute(select(lt.id, raw(lt.qty), raw(lt.shipped_qty)).where(lt.order_id == oid,
                                                                            lt.status == "open")).all()
    if lines and all(per_line.get(i, 0) + sh >= q for i, q, sh in lines):
        set_status(s, actor, oid, status, "packed", note)
        return "packed"
    return status


def cancel_line(db: Database, actor: Actor, ref: str | int, line_no: int, *, reason: str) -> OrderChange:
    """Cancel one line of an order not yet picked (its stock is released); the order then ships the
    rest, and an out-of-stock ticket it no longer needs resolves."""
    require(db, actor, "exceptions.work", f"order:{ref}")
    if not reason.strip():
        raise BadInput(_("say why the line is cancelled"))

    def work(s: Session) -> OrderChange:
        oid = find_order_id(s, ref)
        o = lock_orders(s, [oid])[oid]
        if o.status not in OPEN_STATUSES:
            raise BadInput(_("order {r} is {st}: lines can no longer be cancelled here").format(
                r=doc_ref(oid), st=o.status))
        ln = _line(s, oid, line_no)
        if ln.status == "cancelled":
            return OrderChange(doc_ref(oid), o.status, replayed=True)
        refuse_packed(s, oid, [ln.id or 0], _("cancel what is left of line {n}").format(n=line_no))
        released = release_allocations(s, actor, active_allocations(s, oid, [ln.id or 0]), reason="line cancelled")
        s.execute(update(SalesOrderLine).where(SalesOrderLine.id == ln.id).values(status="cancelled"))
        note = _("line {n} cancelled: {r}").format(n=line_no, r=reason)
        st = recompute_status(s, actor, oid, note)
        st = _packed_if_all_boxed(s, actor, oid, st, note)
        if st in ("allocated", "packed", "cancelled", "shipped"):
            close_tickets(s, oid, "line cancelled", ["out_of_stock"])
        audit.record(s, actor, "exceptions.cancel_line", f"sales_order:{oid}", {"line": line_no, "reason": reason})
        return OrderChange(doc_ref(oid), st, released=from_raw(released))

    return db.write(work)


def substitute(db: Database, actor: Actor, ref: str | int, line_no: int, sku: str, *,
               qty: object | None = None) -> OrderChange:
    """Replace a line's product with another (the customer agreed): the old line is cancelled, a new
    line for the rest of the quantity is added and allocated."""
    require(db, actor, "exceptions.work", f"order:{ref}")

    def work(s: Session) -> int:
        oid = find_order_id(s, ref)
        o = lock_orders(s, [oid])[oid]
        if o.status not in OPEN_STATUSES:
            raise BadInput(_("order {r} is {st}: too late to substitute here").format(r=doc_ref(oid), st=o.status))
        ln = _line(s, oid, line_no)
        if ln.status != "open":
            raise BadInput(_("line {n} is {st}").format(n=line_no, st=ln.status))
        refuse_packed(s, oid, [ln.id or 0], _("substitute what is left of line {n}").format(n=line_no))
        prod = ledger.product_ref(s, sku)
        if prod.id == ln.product_id:
            raise BadInput(_("{s} is the product of that line already").format(s=sku))
        other = s.execute(select(SalesOrderLine.line_no).where(
            SalesOrderLine.order_id == oid, SalesOrderLine.product_id == prod.id,
            SalesOrderLine.status == "open")).scalar()
        if other is not None:
            raise BadInput(_("{s} is on line {n} of this order already; change that line's quantity instead").format(
                s=sku, n=other))
        left = ln.qty - ln.shipped_qty
        q = ledger.to_qty(qty) if qty is not None else left
        if q <= 0:
            raise BadInput(_("quantity must be more than zero, not {q}").format(q=q))
        release_allocations(s, actor, active_allocations(s, oid, [ln.id or 0]), reason="substituted")
        s.execute(update(SalesOrderLine).where(SalesOrderLine.id == ln.id).values(status="cancelled"))
        n = (s.execute(select(func.max(SalesOrderLine.line_no)).where(SalesOrderLine.order_id == oid)).scalar() or 0)
        s.execute(insert(SalesOrderLine).values(order_id=oid, line_no=n + 1, product_id=prod.id, qty=q,
                                                allocated_qty=Decimal(0), shipped_qty=Decimal(0), status="open",
                                                substitute_for=ln.id))
        if o.status in ("allocated", "backorder"):
            set_status(s, actor, oid, o.status, "backorder",
                       _("line {n} substituted by {s}").format(n=line_no, s=prod.sku))
        audit.record(s, actor, "exceptions.substitute", f"sales_order:{oid}",
                     {"line": line_no, "sku": prod.sku, "qty": str(q)})
        return oid

    oid = db.write(work)
    _allocate(db, actor, oid)
    return OrderChange(doc_ref(oid), _status(db, oid))


def release(db: Database, actor: Actor, ticket_id: int, note: str = "") -> OrderChange | None:
    """Release what a ticket holds up: an order on hold goes back to the queue and is allocated (a
    supervisor's decision, e.g. the carrier confirmed the address); an order rejected at import is
    imported again from the ticket's rows (after the SKU was added). Returns the order's change."""
    require(db, actor, "exceptions.work", f"ticket:{ticket_id}")
    t = db.read(lambda s: _ticket(s, ticket_id))
    if t.status not in ACTIVE:
        raise BadInput(_("ticket {id} is {st} already").format(id=ticket_id, st=t.status))
    if t.order_id is None and t.code in ("unknown_sku", "bad_row"):
        return _retry_import(db, actor, t)
    if t.order_id is None:
        raise BadInput(_("ticket {id} holds no order; close it instead").format(id=ticket_id))
    oid = t.order_id

    def work(s: Session) -> None:
        o = lock_orders(s, [oid])[oid]
        if o.status == "hold":
            set_status(s, actor, oid, "hold", "new", _("released by {u}: {n}").format(u=actor.name, n=note))
        _touch(s, ticket_id, status="resolved", resolution="released")
        audit.record(s, actor, "exceptions.release", f"ticket:{ticket_id}", {"order": oid, "note": note})

    db.write(work)
    _allocate(db, actor, oid)
    return OrderChange(doc_ref(oid), _status(db, oid))


def _retry_import(db: Database, actor: Actor, t: ExceptionTicket) -> OrderChange | None:
    from wsms_tui.order_import import import_orders

    body = json.loads(t.raw or "{}")
    rows = body.get("rows") or []
    if not rows:
        raise BadInput(_("ticket {id} has no rows to import again").format(id=t.id))
    channel = db.read(lambda s: s.execute(select(SalesChannel.name).where(SalesChannel.id == t.channel_id))
                      .scalar_one())
    fmt = body.get("format") or "wsms-csv"
    header = [k for k in rows[0] if k != "line"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(body.get("file") or "retry").stem + f"-ticket{t.id}.csv")
        if fmt == "wsms-json":
            fmt = "wsms-csv"
            header = [h for h in header if h != "lines"]
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for r in rows:
                w.writerow([r.get(h, "") for h in header])
        rep = import_orders(db, actor, path, channel=channel, fmt=fmt, reject_path=Path(tmp) / "rejects.csv")
    if rep.errors:
        raise BadInput(_("the order still has bad lines: {e}").format(e="; ".join(str(e) for e in rep.errors[:5])))

    def work(s: Session) -> int | None:
        _touch(s, t.id or 0, status="resolved", resolution="imported")
        audit.record(s, actor, "exceptions.release", f"ticket:{t.id}", {"reimported": t.external_ref})
        return s.execute(select(SalesOrder.id).where(SalesOrder.channel_id == t.channel_id,
                                                     SalesOrder.external_ref == t.external_ref)).scalar()

    oid = db.write(work)
    return OrderChange(doc_ref(oid), _status(db, oid)) if oid else None


# ------------------------------------------------------------------ raised from the floor


def _write_off(db: Database, actor: Actor, ref: str | int, line_no: int, qty: object, location: str,
               lot: str | None, op_id: str, code: str, note: str) -> OrderChange:
    q = ledger.to_qty(qty)
    if q <= 0:
        raise BadInput(_("quantity must be more than zero, not {q}").format(q=q))
    target, reason = (ledger.LOSS, "lost") if code == "short_pick" else (ledger.SCRAP, "damage")

    def work(s: Session) -> tuple[int, str]:
        oid = find_order_id(s, ref)
        o = lock_orders(s, [oid])[oid]
        existing = s.execute(select(ledger.LedgerEntry.id).where(ledger.LedgerEntry.op_id == op_id)).scalar()
        if existing is not None:
            return oid, o.status
        ln = _line(s, oid, line_no)
        loc = ledger.location_ref(s, location)
        lot_id = None
        if lot:
            lot_id = s.execute(select(ledger.Lot.id).where(ledger.Lot.product_id == ln.product_id,
                                                           ledger.Lot.lot_no == lot)).scalar()
        allocs = [a for a in active_allocations(s, oid, [ln.id or 0])
                  if a.location_id == loc.id and (lot is None or a.lot_id == lot_id)]
        dst = ledger.location_ref(s, target)
        keys = [(a.product_id, a.location_id, a.lot_id, a.package_id) for a in allocs]
        keys += [(a.product_id, dst.id, a.lot_id, a.package_id) for a in allocs]
        if not allocs:
            raise BadInput(_("line {n} of {r} holds nothing at {loc}").format(n=line_no, r=doc_ref(oid),
                                                                              loc=loc.code))
        ledger.lock_quants(s, keys)
        want = to_raw(q)
        part: dict[int, int] = {}
        for a in allocs:
            t = min(a.qty, want - sum(part.values()))
            if t > 0:
                part[a.id] = t
        if sum(part.values()) < want:
            raise InsufficientStock(_("line {n} holds only {h} at {loc}, not {q}").format(
                n=line_no, h=from_raw(sum(a.qty for a in allocs)), loc=loc.code, q=q))
        _keep_packed_held(s, oid, ln.id or 0, line_no, allocs, part)
        release_allocations(s, actor, allocs, reason=code, partial=part, locked=True)
        for a in allocs:
            if a.id in part:
                ledger.post_in_session(
                    s, actor, kind="adjust", product=a.product_id, qty=from_raw(part[a.id]),
                    from_location=a.location_id, to_location=dst.id, lot=ledger.lot_no_of(s, a.lot_id), expiry=None,
                    package=None, op_id=op_id if len(part) == 1 else f"{op_id}-{a.id}"[:80], doc_ref=doc_ref(oid),
                    reason=reason, unit_cost=None, raw_scan=None)
        msg = (_("short pick on {r} line {n}: {q} missing at {loc}") if code == "short_pick"
               else _("damaged goods on {r} line {n}: {q} at {loc}")).format(r=doc_ref(oid), n=line_no, q=q,
                                                                              loc=loc.code)
        at = audit.utcnow()
        s.execute(insert(ExceptionTicket).values(
            code=code, order_id=oid, order_line_id=ln.id, channel_id=o.channel_id, external_ref=o.external_ref,
            message=msg, raw=json.dumps({"location": loc.code, "lot": lot, "qty": str(q), "note": note,
                                         "by": actor.name}, ensure_ascii=False),
            status="open", notes="", resolution="", created_at=at, updated_at=at))
        st = o.status
        if o.status in OPEN_STATUSES:
            st = recompute_status(s, actor, oid, msg)
        return oid, st

    oid, st = ledger.write_once(db, work)
    if st in ("new", "backorder"):
        _allocate(db, actor, oid)
    return OrderChange(doc_ref(oid), _status(db, oid))


def _keep_packed_held(s: Session, oid: int, line_id: int, line_no: int, allocs: list[Any],
                      part: dict[int, int]) -> None:
    """A write-off may not take units that are in a booked box: what the line still holds afterwards (per lot for
    items packed with a scanned lot) must cover what is packed, or shipping that box would have nothing to send."""
    boxed = packed_units(s, oid, [line_id])
    if not boxed:
        return
    held: dict[int | None, int] = {}
    for a in active_allocations(s, oid, [line_id]):
        held[a.lot_id] = held.get(a.lot_id, 0) + a.qty
    taken: dict[int | None, int] = {}
    for a in allocs:
        taken[a.lot_id] = taken.get(a.lot_id, 0) + part.get(a.id, 0)
    packed: dict[int | None, int] = {}
    for r in boxed:
        packed[r.lot_id] = packed.get(r.lot_id, 0) + r.qty
    short = sum(held.values()) - sum(taken.values()) < sum(packed.values()) or any(
        held.get(lot, 0) - taken.get(lot, 0) < q for lot, q in packed.items() if lot is not None)
    if short:
        left = max(sum(held.values()) - sum(packed.values()), 0)
        raise BadInput(_("{what}, booked with the carrier and not shipped, and line {n} holds {h}: at most {m} can "
                         "be written off; the packed units are in the box").format(
            what=_describe_packed(boxed), n=line_no, h=from_raw(sum(held.values())), m=from_raw(left)))


def report_short_pick(db: Database, actor: Actor, ref: str | int, line_no: int, *, qty: object, location: str,
                      op_id: str, lot: str | None = None, note: str = "") -> OrderChange:
    """The picker found ``qty`` fewer at ``location``: those units are written off to the loss location
    (a count corrects it later), the allocation shrinks, a ``short_pick`` ticket opens, and the line is
    allocated again from other stock when the order is not yet being picked."""
    require(db, actor, "exceptions.report", f"order:{ref}")
    return _write_off(db, actor, ref, line_no, qty, location, lot, op_id, "short_pick", note)


def report_damage(db: Database, actor: Actor, ref: str | int, line_no: int, *, qty: object, location: str,
                  op_id: str, lot: str | None = None, note: str = "") -> OrderChange:
    """Damaged units of an allocation: moved to scrap, a ``damaged`` ticket, re-allocation as above."""
    require(db, actor, "exceptions.report", f"order:{ref}")
    return _write_off(db, actor, ref, line_no, qty, location, lot, op_id, "damaged", note)
