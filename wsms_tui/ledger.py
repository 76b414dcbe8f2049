"""The stock ledger services: post a move, receive, transfer, adjust, reserve/unreserve, reverse.

Each public function is one short transaction: check the actor's permission, look up the
operation id (an operation applied twice posts once and returns the first result), lock the
quants it touches in a fixed order (product, location, lot, package), re-check availability
inside the lock, append the ledger (or reservation) row, update the quants, append the audit
event. Invariants enforced here:

* every move is from one location to another, so Σ on_hand of a product over all locations is 0;
* no negative on_hand in a non-virtual location unless that location allows it;
* 0 ≤ reserved ≤ on_hand;
* a serial number is in stock in at most one unit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from sqlalchemy import and_, func, insert, or_, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from wsms_tui import audit
from wsms_tui.authz import require
from wsms_tui.database import Database
from wsms_tui.db.models import (
    VIRTUAL_USAGES,
    LedgerEntry,
    Location,
    LocationUsage,
    Lot,
    Package,
    Product,
    Quant,
    ReservationEntry,
    Tracking,
)
from wsms_tui.db.types import Qty, plain
from wsms_tui.errors import BadInput, InsufficientStock, NotFound, OpIdConflict
from wsms_tui.i18n import _
from wsms_tui.security import Actor

SUPPLIER = "VIRT/SUPPLIER"
CUSTOMER = "VIRT/CUSTOMER"
LOSS = "VIRT/LOSS"
SCRAP = "VIRT/SCRAP"

ADJUST_REASONS = {
    "count": "stocktake count difference",
    "damage": "damaged goods",
    "expired": "expired goods",
    "found": "stock found",
    "lost": "stock lost",
    "theft": "theft",
    "correction": "data entry correction",
}

Ref = int | str
T = TypeVar("T")


@dataclass(frozen=True)
class MoveResult:
    entry_id: int
    op_id: str
    kind: str
    sku: str
    qty: Decimal
    from_location: str
    to_location: str
    lot_no: str | None
    at: datetime
    reverses_id: int | None
    replayed: bool = False


@dataclass(frozen=True)
class ReservationResult:
    entry_id: int
    op_id: str
    sku: str
    location: str
    lot_no: str | None
    qty: Decimal  # signed: + reserved, - released
    reserved_now: Decimal
    replayed: bool = False


@dataclass(frozen=True)
class _Loc:
    id: int
    code: str
    usage: str
    allow_negative: bool

    @property
    def holds_stock(self) -> bool:
        """Non-virtual: stock here must stay ≥ 0 (unless allowed) and may be reserved."""
        return self.usage not in VIRTUAL_USAGES


@dataclass(frozen=True)
class _Prod:
    id: int
    sku: str
    tracking: str


def to_qty(value: object, what: str = "quantity") -> Decimal:
    try:
        q = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise BadInput(_("{what} {value!r} is not a number").format(what=what, value=value)) from exc
    if not q.is_finite():
        raise BadInput(_("{what} {value!r} is not a number").format(what=what, value=value))
    if q != q.quantize(Decimal("0.000001")):
        raise BadInput(_("{what} {value} has more than 6 decimal places").format(what=what, value=value))
    return q


def product_ref(s: Session, ref: Ref) -> _Prod:
    col = Product.id if isinstance(ref, int) else Product.sku
    row = s.execute(select(Product.id, Product.sku, Product.tracking).where(col == ref)).first()
    if row is None:
        raise NotFound(_("no product with SKU {ref}").format(ref=ref))
    return _Prod(row.id, row.sku, row.tracking)


def location_ref(s: Session, ref: Ref) -> _Loc:
    cond = Location.id == ref if isinstance(ref, int) else or_(Location.code == ref, Location.barcode == ref)
    row = s.execute(
        select(Location.id, Location.code, Location.usage, Location.allow_negative, Location.active).where(cond)
    ).first()
    if row is None:
        raise NotFound(_("no location {ref}").format(ref=ref))
    if row.usage == LocationUsage.VIEW:
        raise BadInput(_("{code} is a group of locations, not a place for stock").format(code=row.code))
    if not row.active:
        raise BadInput(_("location {code} is archived").format(code=row.code))
    return _Loc(row.id, row.code, row.usage, bool(row.allow_negative))


def _insert_ignore(s: Session, table: type, values: dict[str, object]) -> None:
    stmt = (postgresql.insert(table) if s.get_bind().dialect.name == "postgresql" else sqlite.insert(table))
    s.execute(stmt.values(**values).on_conflict_do_nothing())


def _lot(
    s: Session, prod: _Prod, lot_no: str | None, *, expiry: date | None, create: bool
) -> tuple[int | None, str | None]:
    if prod.tracking == Tracking.NONE:
        if lot_no:
            raise BadInput(_("{sku} is not lot- or serial-tracked; leave the lot empty").format(sku=prod.sku))
        return None, None
    if not lot_no:
        what = _("serial number") if prod.tracking == Tracking.SERIAL else _("lot")
        raise BadInput(_("{sku} is tracked: scan or enter its {what}").format(sku=prod.sku, what=what))
    lot_no = lot_no.strip()
    if create:
        _insert_ignore(s, Lot, {"product_id": prod.id, "lot_no": lot_no, "expiry": expiry,
                                "is_serial": prod.tracking == Tracking.SERIAL})
    row = s.execute(select(Lot.id, Lot.expiry).where(Lot.product_id == prod.id, Lot.lot_no == lot_no)).first()
    if row is None:
        raise NotFound(_("no lot {lot} of {sku}").format(lot=lot_no, sku=prod.sku))
    if create and expiry is not None and row.expiry is not None and row.expiry != expiry:
        raise BadInput(_("lot {lot} of {sku} has expiry {old}, not {new}").format(
            lot=lot_no, sku=prod.sku, old=row.expiry, new=expiry))
    return row.id, lot_no


def lot_no_of(s: Session, lot_id: int | None) -> str | None:
    return s.execute(select(Lot.lot_no).where(Lot.id == lot_id)).scalar() if lot_id else None


def _package(s: Session, code: str | None) -> int | None:
    if not code:
        return None
    _insert_ignore(s, Package, {"code": code})
    return s.execute(select(Package.id).where(Package.code == code)).scalar_one()


@dataclass
class _QuantRow:
    id: int
    on_hand: Decimal
    reserved: Decimal


QuantKey = tuple[int, int, int | None, int | None]  # product, location, lot, package


def _key_sort(k: QuantKey) -> tuple[int, int, int, int]:
    return (k[0], k[1], k[2] or 0, k[3] or 0)


def lock_quants(s: Session, keys: list[QuantKey]) -> dict[QuantKey, _QuantRow]:
    """Create missing quants and lock all of them, always in (product, location, lot, package) order."""
    ordered = sorted(set(keys), key=_key_sort)
    for p, loc, lot, pkg in ordered:
        _insert_ignore(s, Quant, {"product_id": p, "location_id": loc, "lot_id": lot, "package_id": pkg,
                                  "on_hand": Decimal(0), "reserved": Decimal(0)})
    conds = [
        and_(Quant.product_id == p, Quant.location_id == loc,
             func.coalesce(Quant.lot_id, 0) == (lot or 0), func.coalesce(Quant.package_id, 0) == (pkg or 0))
        for p, loc, lot, pkg in ordered
    ]
    rows = s.execute(
        select(Quant.id, Quant.product_id, Quant.location_id, Quant.lot_id, Quant.package_id, Quant.on_hand,
               Quant.reserved)
        .where(or_(*conds))
        .order_by(Quant.product_id, Quant.location_id, func.coalesce(Quant.lot_id, 0),
                  func.coalesce(Quant.package_id, 0))
        .with_for_update()
    ).all()
    out = {(r.product_id, r.location_id, r.lot_id, r.package_id): _QuantRow(r.id, r.on_hand, r.reserved)
           for r in rows}
    assert len(out) == len(ordered), "quant rows missing after insert"
    return out


def _set_quant(s: Session, q: _QuantRow) -> None:
    s.execute(update(Quant).where(Quant.id == q.id).values(on_hand=q.on_hand, reserved=q.reserved))


def _result_from_entry(s: Session, e: LedgerEntry, *, replayed: bool) -> MoveResult:
    sku = s.execute(select(Product.sku).where(Product.id == e.product_id)).scalar_one()
    codes = dict(s.execute(select(Location.id, Location.code)
                           .where(Location.id.in_([e.from_location_id, e.to_location_id]))).all())  # type: ignore[union-attr]
    lot_no = (s.execute(select(Lot.lot_no).where(Lot.id == e.lot_id)).scalar_one() if e.lot_id else None)
    assert e.id is not None
    # SQLite hands back naive datetimes: a replay must answer the same aware UTC time as the first post
    at = e.at.replace(tzinfo=UTC) if e.at.tzinfo is None else e.at.astimezone(UTC)
    return MoveResult(e.id, e.op_id, e.kind, sku, e.qty, codes[e.from_location_id], codes[e.to_location_id],
                      lot_no, at, e.reverses_id, replayed)


def _existing_entry(s: Session, op_id: str) -> LedgerEntry | None:
    return s.execute(select(LedgerEntry).where(LedgerEntry.op_id == op_id)).scalars().first()


def _check_op_id(op_id: str) -> str:
    op_id = (op_id or "").strip()
    if not op_id or len(op_id) > 80:
        raise BadInput(_("every operation needs an operation id of 1 to 80 characters"))
    return op_id


def post_in_session(
    s: Session,
    actor: Actor,
    *,
    kind: str,
    product: Ref,
    qty: Decimal,
    from_location: Ref,
    to_location: Ref,
    lot: str | None,
    expiry: date | None,
    package: str | None,
    op_id: str,
    doc_ref: str,
    reason: str,
    unit_cost: Decimal | None,
    raw_scan: str | None,
    reverses_id: int | None = None,
    create_lot: bool = False,
) -> MoveResult:
    prod = product_ref(s, product)
    src = location_ref(s, from_location)
    dst = location_ref(s, to_location)
    lot_id, lot_no = _lot(s, prod, lot, expiry=expiry, create=create_lot)
    pkg_id = _package(s, package)

    existing = _existing_entry(s, op_id)
    if existing is not None:
        same = (existing.product_id == prod.id and existing.qty == qty and existing.from_location_id == src.id
                and existing.to_location_id == dst.id and existing.lot_id == lot_id)
        if not same:
            raise OpIdConflict(_("operation {op} was already used for a different move").format(op=op_id))
        return _result_from_entry(s, existing, replayed=True)

    if qty <= 0:
        raise BadInput(_("quantity must be more than zero, not {qty}").format(qty=qty))
    if src.id == dst.id:
        raise BadInput(_("from and to are the same location {code}").format(code=src.code))
    if prod.tracking == Tracking.SERIAL and qty != 1:
        raise BadInput(_("{sku} is serial-tracked: move one unit per serial number").format(sku=prod.sku))

    if prod.tracking == Tracking.SERIAL:
        # one serial, one writer: its moves touch different quants, so lock the lot itself first
        # (lock order: lot, quants, audit head — the same in every transaction)
        s.execute(select(Lot.id).where(Lot.id == lot_id).with_for_update())
    kfrom: QuantKey = (prod.id, src.id, lot_id, pkg_id)
    kto: QuantKey = (prod.id, dst.id, lot_id, pkg_id)
    quants = lock_quants(s, [kfrom, kto])
    qf, qt = quants[kfrom], quants[kto]
    qf.on_hand -= qty
    qt.on_hand += qty
    if src.holds_stock:
        if qf.on_hand < 0 and not src.allow_negative:
            avail = qf.on_hand + qty - qf.reserved
            raise InsufficientStock(_("only {avail} of {sku} available at {loc}, not {qty}").format(
                avail=plain(max(avail, Decimal(0))), sku=prod.sku, loc=src.code, qty=qty))
        if qf.reserved > 0 and qf.reserved > qf.on_hand:
            raise InsufficientStock(_("{res} of {sku} at {loc} are reserved; only {avail} can move").format(
                res=qf.reserved, sku=prod.sku, loc=src.code,
                avail=plain(max(qf.on_hand + qty - qf.reserved, Decimal(0)))))
    if prod.tracking == Tracking.SERIAL and dst.holds_stock:
        in_stock = s.execute(
            select(type_coerce(func.sum(Quant.on_hand), Qty())).join(Location, Location.id == Quant.location_id)
            .where(Quant.lot_id == lot_id, Location.usage.notin_([u.value for u in VIRTUAL_USAGES]),  # type: ignore[attr-defined]
                   Quant.location_id != src.id)
        ).scalar_one()
        # qt.on_hand: a bin must never hold two units of one serial, even when a bin allowing negative
        # stock makes the sum over all stock locations look like one
        if (in_stock or 0) + qty > 1 or qt.on_hand > 1:
            raise BadInput(_("serial {lot} of {sku} is already in stock").format(lot=lot_no, sku=prod.sku))
    _set_quant(s, qf)
    _set_quant(s, qt)

    at = audit.utcnow()
    entry_id = s.execute(insert(LedgerEntry).values(
        op_id=op_id, at=at, kind=kind, actor_id=actor.user_id, terminal=actor.terminal, product_id=prod.id, qty=qty,
        from_location_id=src.id, to_location_id=dst.id, lot_id=lot_id, package_id=pkg_id, doc_ref=doc_ref,
        reason=reason, unit_cost=unit_cost, raw_scan=raw_scan, reverses_id=reverses_id,
    ).returning(LedgerEntry.id)).scalar_one()
    audit.record(s, actor, f"ledger.{kind}", f"ledger_entry:{entry_id}", {
        "op_id": op_id, "sku": prod.sku, "qty": str(qty), "from": src.code, "to": dst.code,
        "lot": lot_no, "doc_ref": doc_ref, "reason": reason, "reverses": reverses_id,
    }, at=at)
    return MoveResult(entry_id, op_id, kind, prod.sku, qty, src.code, dst.code, lot_no, at, reverses_id)


def write_once(db: Database, fn: Callable[[Session], T]) -> T:
    """Run a posting transaction; if a concurrent twin with the same op_id won the race (unique
    violation), run it again: the second run finds the first result and replays it."""
    try:
        return db.write(fn)
    except IntegrityError:
        return db.write(fn)


def post_move(
    db: Database,
    actor: Actor,
    *,
    product: Ref,
    qty: object,
    from_location: Ref,
    to_location: Ref,
    op_id: str,
    lot: str | None = None,
    expiry: date | None = None,
    package: str | None = None,
    doc_ref: str = "",
    reason: str = "",
    unit_cost: Decimal | None = None,
    raw_scan: str | None = None,
    kind: str = "move",
    permission: str = "move.post",
    create_lot: bool = False,
) -> MoveResult:
    """Post one move between any two locations (the primitive the other services use)."""
    require(db, actor, permission, f"product:{product}")
    q = to_qty(qty)
    op = _check_op_id(op_id)
    return write_once(db, lambda s: post_in_session(
        s, actor, kind=kind, product=product, qty=q, from_location=from_location, to_location=to_location,
        lot=lot, expiry=expiry, package=package, op_id=op, doc_ref=doc_ref, reason=reason,
        unit_cost=unit_cost, raw_scan=raw_scan, create_lot=create_lot))


def receive(db: Database, actor: Actor, *, product: Ref, qty: object, location: Ref, op_id: str,
            lot: str | None = None, expiry: date | None = None, package: str | None = None,
            doc_ref: str = "", unit_cost: Decimal | None = None, raw_scan: str | None = None) -> MoveResult:
    """Goods in: supplier → an internal location; creates the lot if it is new."""
    return post_move(db, actor, product=product, qty=qty, from_location=SUPPLIER, to_location=location,
                     op_id=op_id, lot=lot, expiry=expiry, package=package, doc_ref=doc_ref,
                     unit_cost=unit_cost, raw_scan=raw_scan, kind="receive", permission="move.receive",
                     create_lot=True)


def transfer(db: Database, actor: Actor, *, product: Ref, qty: object, from_location: Ref, to_location: Ref,
             op_id: str, lot: str | None = None, package: str | None = None, doc_ref: str = "",
             raw_scan: str | None = None) -> MoveResult:
    """Move stock between two internal locations."""
    def check(s: Session) -> None:
        for ref in (from_location, to_location):
            if not location_ref(s, ref).holds_stock:
                raise BadInput(_("a transfer is between stock locations; {ref} is virtual").format(ref=ref))
    db.read(check)
    return post_move(db, actor, product=product, qty=qty, from_location=from_location, to_location=to_location,
                     op_id=op_id, lot=lot, package=package, doc_ref=doc_ref, raw_scan=raw_scan,
                     kind="transfer", permission="move.transfer")


def adjust(db: Database, actor: Actor, *, product: Ref, location: Ref, delta: object, reason: str, op_id: str,
           lot: str | None = None, expiry: date | None = None, doc_ref: str = "") -> MoveResult:
    """Correct stock by ``delta`` (±) against the inventory-loss location, with a reason code."""
    if reason not in ADJUST_REASONS:
        raise BadInput(_("reason must be one of: {codes}").format(codes=", ".join(sorted(ADJUST_REASONS))))
    d = to_qty(delta, "adjustment")
    if d == 0:
        raise BadInput(_("an adjustment of zero changes nothing"))
    src, dst = (LOSS, location) if d > 0 else (location, LOSS)
    return post_move(db, actor, product=product, qty=abs(d), from_location=src, to_location=dst, op_id=op_id,
                     lot=lot, expiry=expiry, doc_ref=doc_ref, reason=reason, kind="adjust",
                     permission="move.adjust", create_lot=d > 0)


def reverse(db: Database, actor: Actor, entry_id: int, *, op_id: str, reason: str = "undo") -> MoveResult:
    """Undo a ledger entry with a compensating entry (never an edit). Clerks undo only their own."""
    require(db, actor, "move.reverse", f"ledger_entry:{entry_id}")
    op = _check_op_id(op_id)

    owner = db.read(lambda s: s.execute(select(LedgerEntry.actor_id).where(LedgerEntry.id == entry_id)).scalar())
    if owner is not None and owner != actor.user_id:
        require(db, actor, "move.reverse_any", f"ledger_entry:{entry_id}")

    def work(s: Session) -> MoveResult:
        existing = _existing_entry(s, op)
        if existing is not None:
            if existing.reverses_id != entry_id:
                raise OpIdConflict(_("operation {op} was already used for a different move").format(op=op))
            return _result_from_entry(s, existing, replayed=True)
        orig = s.get(LedgerEntry, entry_id)
        if orig is None:
            raise NotFound(_("no ledger entry {id}").format(id=entry_id))
        if orig.reverses_id is not None:
            raise BadInput(_("entry {id} is itself a reversal; post a new move instead").format(id=entry_id))
        done = s.execute(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry_id)).scalar()
        if done is not None:
            raise BadInput(_("entry {id} was already reversed by entry {by}").format(id=entry_id, by=done))
        lot_no = s.execute(select(Lot.lot_no).where(Lot.id == orig.lot_id)).scalar() if orig.lot_id else None
        pkg = s.execute(select(Package.code).where(Package.id == orig.package_id)).scalar() if orig.package_id else None
        return post_in_session(
            s, actor, kind="reverse", product=orig.product_id, qty=orig.qty, from_location=orig.to_location_id,
            to_location=orig.from_location_id, lot=lot_no, expiry=None, package=pkg, op_id=op,
            doc_ref=orig.doc_ref, reason=reason, unit_cost=orig.unit_cost, raw_scan=None, reverses_id=entry_id)

    return write_once(db, work)


def _reserve_in_session(s: Session, actor: Actor, *, product: Ref, location: Ref, qty: Decimal,
                        lot: str | None, package: str | None, op_id: str, doc_ref: str) -> ReservationResult:
    prod = product_ref(s, product)
    loc = location_ref(s, location)
    lot_id, lot_no = _lot(s, prod, lot, expiry=None, create=False)
    pkg_id = None
    if package:
        pkg_id = s.execute(select(Package.id).where(Package.code == package)).scalar()
        if pkg_id is None:
            raise NotFound(_("no package {code}").format(code=package))
    existing = s.execute(select(ReservationEntry).where(ReservationEntry.op_id == op_id)).scalars().first()
    key: QuantKey = (prod.id, loc.id, lot_id, pkg_id)
    if existing is not None:
        if (existing.product_id, existing.location_id, existing.lot_id, existing.qty) != (prod.id, loc.id, lot_id, qty):
            raise OpIdConflict(_("operation {op} was already used for a different reservation").format(op=op_id))
        now = s.execute(select(Quant.reserved).where(Quant.product_id == prod.id, Quant.location_id == loc.id,
                                                    func.coalesce(Quant.lot_id, 0) == (lot_id or 0),
                                                    func.coalesce(Quant.package_id, 0) == (pkg_id or 0))).scalar()
        assert existing.id is not None
        return ReservationResult(existing.id, op_id, prod.sku, loc.code, lot_no, qty, now or Decimal(0), True)
    if not loc.holds_stock:
        raise BadInput(_("stock can be reserved only in stock locations, not {loc}").format(loc=loc.code))
    q = lock_quants(s, [key])[key]
    if qty > 0:
        avail = q.on_hand - q.reserved
        if qty > avail:
            raise InsufficientStock(_("only {avail} of {sku} free to reserve at {loc}, not {qty}").format(
                avail=plain(max(avail, Decimal(0))), sku=prod.sku, loc=loc.code, qty=qty))
    elif -qty > q.reserved:
        raise BadInput(_("only {res} of {sku} reserved at {loc}; cannot release {qty}").format(
            res=q.reserved, sku=prod.sku, loc=loc.code, qty=-qty))
    q.reserved += qty
    _set_quant(s, q)
    at = audit.utcnow()
    res = s.execute(insert(ReservationEntry).values(
        op_id=op_id, at=at, actor_id=actor.user_id, terminal=actor.terminal, product_id=prod.id,
        location_id=loc.id, lot_id=lot_id, package_id=pkg_id, qty=qty, doc_ref=doc_ref,
    ).returning(ReservationEntry.id))
    rid = res.scalar_one()
    audit.record(s, actor, "ledger.reserve" if qty > 0 else "ledger.unreserve", f"reservation_entry:{rid}",
                 {"op_id": op_id, "sku": prod.sku, "qty": str(qty), "location": loc.code, "lot": lot_no,
                  "doc_ref": doc_ref}, at=at)
    return ReservationResult(rid, op_id, prod.sku, loc.code, lot_no, qty, q.reserved)


def reserve(db: Database, actor: Actor, *, product: Ref, location: Ref, qty: object, op_id: str,
            lot: str | None = None, package: str | None = None, doc_ref: str = "") -> ReservationResult:
    """Hold ``qty`` of free stock at a location for a document (an order, a task)."""
    require(db, actor, "move.reserve", f"product:{product}")
    q = to_qty(qty)
    if q <= 0:
        raise BadInput(_("quantity must be more than zero, not {qty}").format(qty=q))
    op = _check_op_id(op_id)
    return write_once(db, lambda s: _reserve_in_session(s, actor, product=product, location=location, qty=q,
                                                  lot=lot, package=package, op_id=op, doc_ref=doc_ref))


def unreserve(db: Database, actor: Actor, *, product: Ref, location: Ref, qty: object, op_id: str,
              lot: str | None = None, package: str | None = None, doc_ref: str = "") -> ReservationResult:
    """Release ``qty`` of a reservation."""
    require(db, actor, "move.unreserve", f"product:{product}")
    q = to_qty(qty)
    if q <= 0:
        raise BadInput(_("quantity must be more than zero, not {qty}").format(qty=q))
    op = _check_op_id(op_id)
    return write_once(db, lambda s: _reserve_in_session(s, actor, product=product, location=location, qty=-q,
                                                  lot=lot, package=package, op_id=op, doc_ref=doc_ref))
