"""Stock and ledger queries: paged listings, scan/typed lookups, and ``ledger verify``.

Listings page in SQL with keyset pagination (never load 100k rows into a widget) and return
plain dataclasses. ``verify_ledger`` rebuilds every quant from the ledger with one GROUP BY.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, func, literal_column, or_, select, tuple_, type_coerce, union_all
from sqlalchemy.orm import aliased
from sqlmodel import Session

from wsms_tui.audit import as_utc
from wsms_tui.authz import require
from wsms_tui.barcodes import normalize_gtin, parse_gs1, printable
from wsms_tui.database import Database
from wsms_tui.db.models import (
    VIRTUAL_USAGES,
    LedgerEntry,
    Location,
    Lot,
    Product,
    ProductBarcode,
    Quant,
    ReservationEntry,
    User,
    Warehouse,
)
from wsms_tui.db.types import QTY_SCALE, plain
from wsms_tui.i18n import _
from wsms_tui.security import Actor

PAGE = 200


@dataclass(frozen=True)
class StockRow:
    sku: str
    name: str
    warehouse: str
    location: str
    lot: str | None
    expiry: date | None
    on_hand: Decimal
    reserved: Decimal
    quant_id: int

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    def key(self) -> tuple[str, str, int]:
        return (self.sku, self.location, self.quant_id)


@dataclass(frozen=True)
class StockFilter:
    """What a listing is restricted to; empty means everything."""

    sku: str | None = None
    location: str | None = None
    lot: str | None = None
    warehouse: str | None = None
    product_ids: tuple[int, ...] | None = None


def _stock_query(f: StockFilter):  # type: ignore[no-untyped-def]
    q = (
        select(Product.sku, Product.name, func.coalesce(Warehouse.code, "").label("warehouse"),
               Location.code.label("location"), Lot.lot_no, Lot.expiry, Quant.on_hand, Quant.reserved,
               Quant.id.label("quant_id"))
        .join(Product, Product.id == Quant.product_id)
        .join(Location, Location.id == Quant.location_id)
        .outerjoin(Warehouse, Warehouse.id == Location.warehouse_id)
        .outerjoin(Lot, Lot.id == Quant.lot_id)
        .where(Location.usage.notin_([u.value for u in VIRTUAL_USAGES]))  # type: ignore[attr-defined]
        .where(or_(Quant.on_hand != 0, Quant.reserved != 0))
    )
    if f.sku:
        q = q.where(Product.sku == f.sku)
    if f.location:
        q = q.where(or_(Location.code == f.location, Location.barcode == f.location))
    if f.lot:
        q = q.where(Lot.lot_no == f.lot)
    if f.warehouse:
        q = q.where(Warehouse.code == f.warehouse)
    if f.product_ids is not None:
        q = q.where(Quant.product_id.in_(f.product_ids))  # type: ignore[union-attr]
    return q


def stock_page(db: Database, actor: Actor, f: StockFilter = StockFilter(), *, limit: int = PAGE,
               after: tuple[str, str, int] | None = None) -> list[StockRow]:
    """One keyset page of stock by (sku, location), after the key of the previous page's last row."""
    require(db, actor, "stock.view")

    def work(s: Session) -> list[StockRow]:
        q = _stock_query(f)
        if after is not None:
            q = q.where(tuple_(Product.sku, Location.code, Quant.id) > tuple_(*after))
        q = q.order_by(Product.sku, Location.code, Quant.id).limit(limit)
        return [StockRow(*r) for r in s.execute(q).all()]

    return db.read(work)


def stock_totals(db: Database, actor: Actor, f: StockFilter = StockFilter()) -> tuple[int, Decimal, Decimal]:
    """(rows, Σ on_hand, Σ reserved) for a filter, computed in SQL."""
    require(db, actor, "stock.view")

    def work(s: Session) -> tuple[int, Decimal, Decimal]:
        sub = _stock_query(f).subquery()
        r = s.execute(select(func.count(), func.coalesce(func.sum(sub.c.on_hand), 0),
                             func.coalesce(func.sum(sub.c.reserved), 0))).one()
        return int(r[0]), Decimal(r[1]), Decimal(r[2])

    return db.read(work)


def _unscale(raw: object) -> Decimal:
    return plain(Decimal(int(raw or 0)).scaleb(-QTY_SCALE))  # type: ignore[call-overload]


@dataclass(frozen=True)
class Lookup:
    """What a typed or scanned code turned out to be, and the stock filter that shows it."""

    kind: str  # product | location | lot | none
    title: str
    filter: StockFilter


def lookup(db: Database, actor: Actor, code: str) -> Lookup:
    """Resolve a SKU, GTIN (plain or GS1), lot number or location code to a stock filter."""
    require(db, actor, "stock.view")
    text = printable(code).strip()
    if not text:
        return Lookup("none", _("Type or scan a SKU, GTIN, lot or location"), StockFilter(product_ids=()))

    def work(s: Session) -> Lookup:
        prod = s.execute(select(Product.id, Product.sku, Product.name).where(Product.sku == text)).first()
        gs1 = parse_gs1(text)
        gtin = normalize_gtin(text) or (gs1.gtin if gs1 else None)
        if prod is None and gtin:
            prod = s.execute(select(Product.id, Product.sku, Product.name)
                             .join(ProductBarcode, ProductBarcode.product_id == Product.id)
                             .where(ProductBarcode.code == gtin)).first()
        if prod is not None:
            lot = gs1.lot if gs1 else None
            return Lookup("product", f"{prod.sku}  {prod.name}", StockFilter(sku=prod.sku, lot=lot))
        loc = s.execute(select(Location.code, Location.name)
                        .where(or_(Location.code == text, Location.barcode == text))).first()
        if loc is not None:
            return Lookup("location", _("Location {code}").format(code=loc.code), StockFilter(location=loc.code))
        lots = s.execute(select(Lot.product_id).where(Lot.lot_no == text)).scalars().all()
        if lots:
            return Lookup("lot", _("Lot {lot}").format(lot=text), StockFilter(lot=text, product_ids=tuple(lots)))
        if gtin:
            return Lookup("none", _("GTIN {gtin} belongs to no product").format(gtin=gtin),
                          StockFilter(product_ids=()))
        return Lookup("none", _("{code!r} is no SKU, GTIN, lot or location").format(code=text[:60]),
                      StockFilter(product_ids=()))

    return db.read(work)


@dataclass(frozen=True)
class LedgerRow:
    id: int
    at: datetime
    kind: str
    sku: str
    qty: Decimal
    from_location: str
    to_location: str
    lot: str | None
    doc_ref: str
    reason: str
    actor: str
    terminal: str
    op_id: str
    reverses_id: int | None


def ledger_page(db: Database, actor: Actor, *, sku: str | None = None, limit: int = PAGE,
                before_id: int | None = None) -> list[LedgerRow]:
    """Newest ledger entries first, one keyset page (``before_id`` = last id of the previous page)."""
    require(db, actor, "ledger.view")
    src, dst = aliased(Location), aliased(Location)

    def work(s: Session) -> list[LedgerRow]:
        q = (select(LedgerEntry.id, LedgerEntry.at, LedgerEntry.kind, Product.sku, LedgerEntry.qty,
                    src.code, dst.code, Lot.lot_no, LedgerEntry.doc_ref, LedgerEntry.reason, User.name,
                    LedgerEntry.terminal, LedgerEntry.op_id, LedgerEntry.reverses_id)
             .join(Product, Product.id == LedgerEntry.product_id)
             .join(src, src.id == LedgerEntry.from_location_id)
             .join(dst, dst.id == LedgerEntry.to_location_id)
             .join(User, User.id == LedgerEntry.actor_id)
             .outerjoin(Lot, Lot.id == LedgerEntry.lot_id))
        if sku:
            q = q.where(Product.sku == sku)
        if before_id is not None:
            q = q.where(LedgerEntry.id < before_id)
        q = q.order_by(LedgerEntry.id.desc()).limit(limit)  # type: ignore[union-attr]
        return [LedgerRow(r[0], as_utc(r[1]), *r[2:]) for r in s.execute(q).all()]

    return db.read(work)


@dataclass
class LedgerReport:
    entries: int = 0
    quants: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_ledger(db: Database, actor: Actor, *, max_problems: int = 200) -> LedgerReport:
    """Rebuild quants from the ledger and reservations; compare; check every invariant."""
    require(db, actor, "ledger.verify")

    def work(s: Session) -> LedgerReport:
        report = LedgerReport()
        raw_qty = literal_column("qty")
        moves = union_all(
            select(LedgerEntry.product_id.label("p"), LedgerEntry.to_location_id.label("l"),
                   LedgerEntry.lot_id.label("t"), LedgerEntry.package_id.label("k"), raw_qty.label("q"))
            .select_from(LedgerEntry.__table__),  # type: ignore[attr-defined]
            select(LedgerEntry.product_id, LedgerEntry.from_location_id, LedgerEntry.lot_id,
                   LedgerEntry.package_id, (-raw_qty).label("q")).select_from(LedgerEntry.__table__),  # type: ignore[attr-defined]
        ).subquery()
        expected: dict[tuple[int, int, int, int], int] = {}
        for p, loc, lot, pkg, q in s.execute(
            select(moves.c.p, moves.c.l, moves.c.t, moves.c.k, func.sum(moves.c.q))
            .group_by(moves.c.p, moves.c.l, moves.c.t, moves.c.k)
        ):
            expected[(p, loc, lot or 0, pkg or 0)] = int(q)
        res = {}
        for p, loc, lot, pkg, q in s.execute(
            select(ReservationEntry.product_id, ReservationEntry.location_id, ReservationEntry.lot_id,
                   ReservationEntry.package_id, func.sum(literal_column("qty")))
            .group_by(ReservationEntry.product_id, ReservationEntry.location_id, ReservationEntry.lot_id,
                      ReservationEntry.package_id)
        ):
            res[(p, loc, lot or 0, pkg or 0)] = int(q)
        report.entries = int(s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one())
        locs = {r.id: r for r in s.execute(select(Location.id, Location.code, Location.usage,
                                                  Location.allow_negative))}
        skus = dict(s.execute(select(Product.id, Product.sku)).all())
        qt = Quant.__table__
        seen: set[tuple[int, int, int, int]] = set()
        per_product: dict[int, int] = defaultdict(int)

        def name(k: tuple[int, int, int, int]) -> str:
            lot = f" lot#{k[2]}" if k[2] else ""
            pkg = f" pkg#{k[3]}" if k[3] else ""
            return f"{skus.get(k[0], k[0])} @ {locs[k[1]].code if k[1] in locs else k[1]}{lot}{pkg}"

        def qty(v: int) -> Decimal:
            return _unscale(v)

        for _qid, p, loc, lot, pkg, on_hand, reserved in s.execute(
            select(qt.c.id, qt.c.product_id, qt.c.location_id, qt.c.lot_id, qt.c.package_id,
                   type_coerce(qt.c.on_hand, BigInteger), type_coerce(qt.c.reserved, BigInteger))
        ):
            report.quants += 1
            k = (p, loc, lot or 0, pkg or 0)
            seen.add(k)
            per_product[p] += on_hand
            want = expected.get(k, 0)
            if on_hand != want:
                report.problems.append(_("{q}: on hand {have} but the ledger says {want}").format(
                    q=name(k), have=qty(on_hand), want=qty(want)))
            if reserved != res.get(k, 0):
                report.problems.append(_("{q}: reserved {have} but reservations say {want}").format(
                    q=name(k), have=qty(reserved), want=qty(res.get(k, 0))))
            if reserved < 0 or (reserved > 0 and reserved > on_hand):
                report.problems.append(_("{q}: reserved {r} is outside 0..on hand {h}").format(
                    q=name(k), r=qty(reserved), h=qty(on_hand)))
            lrow = locs.get(loc)
            if lrow is not None and lrow.usage not in VIRTUAL_USAGES and not lrow.allow_negative and on_hand < 0:
                report.problems.append(_("{q}: negative on hand {h}").format(q=name(k), h=qty(on_hand)))
        for k, want in expected.items():
            if k not in seen and want != 0:
                report.problems.append(_("{q}: the ledger says {want} but there is no quant").format(
                    q=name(k), want=qty(want)))
        for p, total in per_product.items():
            if total != 0:
                report.problems.append(_("{sku}: on hand over all locations sums to {t}, not 0").format(
                    sku=skus.get(p, p), t=qty(total)))
        serial_stock = (
            select(Lot.lot_no, Product.sku, type_coerce(func.sum(Quant.on_hand), BigInteger).label("total"),
                   type_coerce(func.max(Quant.on_hand), BigInteger).label("most"))
            .join(Quant, Quant.lot_id == Lot.id).join(Product, Product.id == Lot.product_id)
            .join(Location, Location.id == Quant.location_id)
            .where(Lot.is_serial == True, Location.usage.notin_([u.value for u in VIRTUAL_USAGES]))  # type: ignore[attr-defined]  # noqa: E712
            .group_by(Lot.lot_no, Product.sku)
        )
        one = 10**QTY_SCALE
        for lot_no, sku, total, most in s.execute(serial_stock):
            if int(total or 0) > one or int(most or 0) > one:
                report.problems.append(_("serial {lot} of {sku} is in stock more than once").format(
                    lot=lot_no, sku=sku))
        del report.problems[max_problems:]
        return report

    return db.read(work)


