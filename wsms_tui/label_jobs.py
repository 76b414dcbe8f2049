"""Labels from the desks: build a label from what the database knows (GTIN, lot, expiry,
location code, a fresh SSCC), show its text preview, then queue it in the print spool.

``make_*`` functions return a ``labels.Label`` without printing anything (the desk previews it);
``printing.queue_label`` puts it in the spool. SSCCs come from one counter per database, taken
under a row lock so two desks never print the same SSCC; each SSCC becomes a Package (LPN).
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlmodel import Session

from wsms_tui import audit, labels
from wsms_tui.authz import require
from wsms_tui.barcodes import make_sscc
from wsms_tui.database import Database
from wsms_tui.db.models import Location, Lot, Meta, Package, Product, ProductBarcode
from wsms_tui.errors import BadInput, NotFound
from wsms_tui.i18n import _
from wsms_tui.ledger import to_qty
from wsms_tui.security import Actor

SSCC_COUNTER = "sscc_next_serial"


def make_product_label(db: Database, actor: Actor, *, sku: str, lot: str | None = None, count: object = None,
                       dpi: int = 203, copies: int = 1) -> labels.Label:
    """A product/lot label with the product's GTIN (the unit barcode), lot and expiry from the database."""
    require(db, actor, "stock.view")

    def work(s: Session) -> labels.Label:
        prod = s.execute(select(Product.id, Product.sku, Product.name, Product.tracking)
                         .where(Product.sku == sku)).first()
        if prod is None:
            raise NotFound(_("no product with SKU {sku}").format(sku=sku))
        gtin = s.execute(select(ProductBarcode.code).where(ProductBarcode.product_id == prod.id,
                                                           ProductBarcode.kind == "gtin")
                         .order_by(ProductBarcode.id).limit(1)).scalar()
        if gtin is None:
            gtin = s.execute(select(ProductBarcode.code).where(ProductBarcode.product_id == prod.id)
                             .order_by(ProductBarcode.pack_qty, ProductBarcode.id).limit(1)).scalar()
        if gtin is None or not gtin.isdigit():
            raise BadInput(_("{sku} has no GTIN: a GS1 label needs one").format(sku=sku))
        expiry = None
        if lot:
            row = s.execute(select(Lot.expiry).where(Lot.product_id == prod.id, Lot.lot_no == lot)).first()
            if row is None:
                raise NotFound(_("no lot {lot} of {sku}").format(lot=lot, sku=sku))
            expiry = row.expiry
        n = None
        if count not in (None, ""):
            q = to_qty(count)
            if q <= 0 or q != q.to_integral_value():
                raise BadInput(_("a label count is a whole number above zero"))
            n = int(q)
        serial = lot if prod.tracking == "serial" else None
        return labels.product_label(sku=prod.sku, name=prod.name, gtin=gtin,
                                    lot=None if serial else lot, serial=serial, expiry=expiry, count=n,
                                    dpi=dpi, copies=copies)

    return db.read(work)


def make_location_label(db: Database, actor: Actor, code: str, *, dpi: int = 203, copies: int = 1) -> labels.Label:
    require(db, actor, "stock.view")
    row = db.read(lambda s: s.execute(select(Location.code, Location.name)
                                      .where((Location.code == code) | (Location.barcode == code))).first())
    if row is None:
        raise NotFound(_("no location {code}").format(code=code))
    return labels.location_label(row.code, caption=row.name if row.name != row.code else "", dpi=dpi, copies=copies)


def next_sscc(db: Database, actor: Actor, company_prefix: str) -> str:
    """Take the next SSCC of this database (extension digit 0), record it as a Package, audit it."""
    require(db, actor, "print.label")
    if not company_prefix.isdigit() or not 6 <= len(company_prefix) <= 12:
        raise BadInput(_("the GS1 company prefix is 6 to 12 digits, not {p!r}").format(p=company_prefix))

    def work(s: Session) -> str:
        from wsms_tui.ledger import _insert_ignore

        _insert_ignore(s, Meta, {"key": SSCC_COUNTER, "value": "1"})
        current = s.execute(select(Meta.value).where(Meta.key == SSCC_COUNTER).with_for_update()).scalar_one()
        serial = int(current)
        if len(str(serial)) > 16 - len(company_prefix):
            raise BadInput(_("SSCC serial numbers for prefix {p} are used up").format(p=company_prefix))
        s.execute(update(Meta).where(Meta.key == SSCC_COUNTER).values(value=str(serial + 1)))
        sscc = make_sscc(company_prefix, serial)
        s.execute(insert(Package).values(code=sscc))
        audit.record(s, actor, "label.sscc", f"package:{sscc}", {"sscc": sscc})
        return sscc

    return db.write(work)


def make_lpn_label(db: Database, actor: Actor, *, company_prefix: str, contents: str = "", reference: str = "",
                   dpi: int = 203) -> labels.Label:
    """A new LPN/pallet label with a fresh SSCC (the SSCC is taken now, even if the label is dropped)."""
    sscc = next_sscc(db, actor, company_prefix)
    return labels.lpn_label(sscc, contents=contents, reference=reference, dpi=dpi)
