"""``wsms pack …`` (scripted packing), ``wsms shipments list|show|track|reprint|void`` and ``wsms carriers
list|boxes``.

Thin wrappers over ``wsms_tui.packing`` and ``wsms_tui.carriers``; registered on the main app by
``register(app)``. ``wsms pack ORDER --item SKU:QTY … --box M --weight 1.2`` closes one box (SSCC, carrier
booking, label to ``--printer`` or the configured printer); ``--ship`` then confirms (``--partial`` when units
are still to pack); ``wsms pack ORDER --ship`` alone confirms what is packed. ``wsms shipments void CODE --reason
TEXT`` voids a booked box that has not left (the carrier cancels it, its units are to pack again).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from wsms_tui.i18n import _
from wsms_tui.output import Format, emit

shipments_app = typer.Typer(help="Shipments: list, show, track, reprint a box label, void a booked box.",
                            no_args_is_help=True)
carriers_app = typer.Typer(help="Carriers and box types of the packing bench.", no_args_is_help=True)

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json")]


def _base() -> Any:
    from wsms_tui import cli

    return cli


def _session(ctx: typer.Context) -> tuple[Any, Any, Any]:
    """(database, actor, settings) for this command."""
    cli = _base()
    c = cli._ctx(ctx)
    database = cli.open_db(c)
    return database, cli.cli_actor(c, database), c.settings


def pack_cmd(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="the order: SO-12, CHANNEL:REF or the channel's ref")],
    item: Annotated[list[str] | None, typer.Option("--item", "-i", help="SKU, GTIN or GS1 code, :QTY and :LOT "
                                                                         "optional (repeat for each item)")] = None,
    box: Annotated[str | None, typer.Option(help="box type (see `wsms carriers boxes`)")] = None,
    weight: Annotated[str | None, typer.Option(help="the box's weight in kg (or 800g)")] = None,
    carrier: Annotated[str | None, typer.Option(help="carrier (default: the channel's, else the default)")] = None,
    waybill: Annotated[str, typer.Option(help="the waybill number (manual carrier)")] = "",
    printer: Annotated[str | None, typer.Option(help="print the label here (name or URL; default: `printer`)")] = None,
    ship: Annotated[bool, typer.Option("--ship", help="confirm the shipment after packing")] = False,
    partial: Annotated[bool, typer.Option("--partial", help="ship what is packed though units are left")] = False,
    op_id: Annotated[str | None, typer.Option("--op-id", help="operation id (a repeat packs the box once)")] = None,
) -> None:
    """Pack one box of an order (and/or confirm its shipment) from a script."""

    def go() -> None:
        from wsms_tui import packing
        from wsms_tui.errors import BadInput

        database, actor, settings = _session(ctx)
        po = packing.open_order(database, actor, order) if item else packing.pack_order(database, actor, order)
        op = op_id or packing.new_op_id("cli-pack")
        if item:
            if not box or not weight:
                raise BadInput(_("a box needs --box and --weight"))
            items: dict[tuple[int, int | None], Decimal] = {}
            for spec in item:
                code, _sep, rest = spec.partition(":")
                q_text, _sep2, lot = rest.partition(":")
                m = packing.match_item(database, actor, po.id, code, lot=lot or None)
                q = Decimal(q_text) if q_text else m.qty
                items[(m.line_id, m.lot_id)] = items.get((m.line_id, m.lot_id), Decimal(0)) + q
            res = packing.close_box(database, actor, settings, po.ref,
                                    items=[packing.BoxItem(k[0], q, k[1]) for k, q in items.items()], box=box,
                                    weight=weight, op_id=op, carrier=carrier, waybill=waybill, printer=printer)
            b = res.box
            typer.echo(_("{r}: box {n} {t} {w} kg · SSCC {s} · {c} {tr} · order {st}{again}").format(
                r=po.ref, n=b.box_no, t=b.box_type, w=b.weight_kg, s=b.sscc, c=b.carrier, tr=b.tracking,
                st=res.order_status, again=_(" (already packed)") if res.replayed else ""))
            typer.echo(_("label: job {j}").format(j=res.job.id) if res.job else _("label: {e}").format(
                e=res.print_error), err=res.job is None)
        if ship:
            out = packing.ship(database, actor, po.ref, op_id=f"{op}-ship"[:60], partial=partial)
            typer.echo(_("{r} {st}: {b} box(es), {q} unit(s), tracking {t}").format(
                r=out.ref, st=out.status, b=out.boxes, q=out.shipped, t=", ".join(out.trackings)))
        if not item and not ship:
            raise BadInput(_("say what to do: --item … --box … --weight … to pack a box, --ship to confirm"))

    _base().guarded(go)


@shipments_app.command("list")
def shipments_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="open, shipped or cancelled")] = None,
    order: Annotated[str | None, typer.Option(help="only this order's")] = None,
    limit: Annotated[int, typer.Option(help="newest N")] = 200,
    fmt: FormatOpt = Format.table,
) -> None:
    """Shipments, newest first."""

    def go() -> None:
        from wsms_tui import packing

        database, actor, _s = _session(ctx)
        rows = packing.list_shipments(database, actor, status=status, order=order, limit=limit)
        emit(({"id": r.id, "order": r.order_ref, "channel": r.channel, "ref": r.external_ref, "carrier": r.carrier,
               "service": r.service, "status": r.status, "boxes": r.boxes, "kg": r.weight_kg,
               "tracking": " ".join(r.trackings), "by": r.user,
               "shipped": r.shipped_at.strftime("%Y-%m-%d %H:%M") if r.shipped_at else ""} for r in rows),
             [("id", "#"), ("order", _("Order")), ("channel", _("Channel")), ("ref", _("Ref")),
              ("carrier", _("Carrier")), ("service", _("Service")), ("status", _("Status")), ("boxes", _("Boxes")),
              ("kg", "kg"), ("tracking", _("Tracking")), ("by", _("By")), ("shipped", _("Shipped"))],
             fmt, numeric=frozenset({"id", "boxes", "kg"}))

    _base().guarded(go)


@shipments_app.command("show")
def shipments_show(ctx: typer.Context,
                   code: Annotated[str, typer.Argument(help="shipment id, a box's SSCC or tracking number")],
                   fmt: FormatOpt = Format.table) -> None:
    """A shipment's boxes and what is in them."""

    def go() -> None:
        from wsms_tui import packing

        database, actor, _s = _session(ctx)
        d = packing.shipment_detail(database, actor, code)
        r = d.shipment
        if fmt == Format.table:
            typer.echo(f"#{r.id} {r.order_ref} ({r.channel}:{r.external_ref}) · {r.carrier} {r.service} · {r.status}")
            typer.echo(f"{d.ship_to.name} · {d.ship_to.one_line()}")
        emit(({"box": b.box_no, "sscc": b.sscc, "type": b.box_type, "kg": b.weight_kg, "tracking": b.tracking,
               "status": b.status, "label_job": b.print_job_id or "",
               "items": ", ".join(f"{i.qty} × {i.sku}" + (f" {i.lot}" if i.lot else "") for i in b.items)}
              for b in d.boxes),
             [("box", _("Box")), ("sscc", "SSCC"), ("type", _("Type")), ("kg", "kg"), ("tracking", _("Tracking")),
              ("status", _("Status")), ("label_job", _("Label")), ("items", _("Items"))], fmt,
             numeric=frozenset({"box", "kg"}))

    _base().guarded(go)


@shipments_app.command("track")
def shipments_track(ctx: typer.Context, code: Annotated[str, typer.Argument(help="tracking number or SSCC")]) -> None:
    """Ask the box's carrier where it is."""

    def go() -> None:
        from wsms_tui import packing

        database, actor, settings = _session(ctx)
        info = packing.track(database, actor, settings, code)
        typer.echo(f"{info.carrier} {info.tracking}: {info.status}")
        for e in info.events:
            typer.echo(f"  {e.at} {e.status} {e.where}".rstrip())

    _base().guarded(go)


@shipments_app.command("reprint")
def shipments_reprint(ctx: typer.Context, code: Annotated[str, typer.Argument(help="the box's SSCC or tracking")],
                      reason: Annotated[str, typer.Option(help="why it is printed again")] = "",
                      printer: Annotated[str | None, typer.Option(help="name or URL (first print only)")] = None
                      ) -> None:
    """Print a box's shipping label again, with a reason (or for the first time, when it was never printed)."""

    def go() -> None:
        from wsms_tui import packing

        database, actor, settings = _session(ctx)
        job = packing.print_label(database, actor, settings, code, reason=reason, printer=printer)
        typer.echo(_("label queued: job {j} on {p}").format(j=job.id, p=job.printer))

    _base().guarded(go)


@shipments_app.command("void")
def shipments_void(ctx: typer.Context, code: Annotated[str, typer.Argument(help="the box's SSCC or tracking")],
                   reason: Annotated[str, typer.Option(help="why it is voided (3 to 200 characters)")] = "") -> None:
    """Void a booked box that has not left: the carrier cancels the booking, the box's units are to pack again,
    the order goes back from packed, a label still waiting to print is cancelled."""

    def go() -> None:
        from wsms_tui import packing

        database, actor, settings = _session(ctx)
        res = packing.void_box(database, actor, settings, code, reason=reason)
        b = res.box
        if res.already:
            typer.echo(_("box {n} of {r} (SSCC {s}) was void already; nothing changed").format(
                n=b.box_no, r=res.order_ref, s=b.sscc))
            return
        units = sum((i.qty for i in b.items), Decimal(0))
        typer.echo(_("{r}: box {n} voided · SSCC {s} · {c} {t} cancelled · {q} unit(s) to pack again · order "
                     "{st}").format(r=res.order_ref, n=b.box_no, s=b.sscc, c=b.carrier, t=b.tracking, q=units,
                                    st=res.order_status))
        if res.shipment_cancelled:
            typer.echo(_("shipment #{i} cancelled: the next box may go with any carrier").format(i=b.shipment_id))
        if res.label_cancelled:
            typer.echo(_("label: job {j} cancelled").format(j=b.print_job_id))

    _base().guarded(go)


@carriers_app.command("list")
def carriers_list(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """The configured carriers, the default and the channels that use each."""

    def go() -> None:
        from wsms_tui import carriers

        settings = _base()._ctx(ctx).settings
        emit(({"name": c.name, "kind": c.kind, "default": "✓" if c.default else "", "channels": " ".join(c.channels),
               "detail": c.detail} for c in carriers.list_carriers(settings)),
             [("name", _("Carrier")), ("kind", _("Kind")), ("default", _("Default")), ("channels", _("Channels")),
              ("detail", _("Detail"))], fmt)

    _base().guarded(go)


@carriers_app.command("boxes")
def carriers_boxes(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """The box types of the packing bench ([packing.boxes.CODE])."""

    def go() -> None:
        from wsms_tui import packing

        settings = _base()._ctx(ctx).settings
        emit(({"code": b.code, "name": b.name, "mm": f"{b.length_mm}×{b.width_mm}×{b.height_mm}", "tare": b.tare_kg,
               "max": b.max_kg} for b in packing.box_types(settings)),
             [("code", _("Box")), ("name", _("Name")), ("mm", "mm"), ("tare", _("Tare kg")), ("max", _("Max kg"))],
             fmt, numeric=frozenset({"tare", "max"}))

    _base().guarded(go)


def register(app: typer.Typer) -> None:
    """Add ``pack``, ``shipments`` and ``carriers`` to the main app."""
    app.command("pack")(pack_cmd)
    app.add_typer(shipments_app, name="shipments")
    app.add_typer(carriers_app, name="carriers")



