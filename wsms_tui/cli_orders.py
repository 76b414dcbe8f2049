"""``wsms orders …``, ``wsms channels …``, ``wsms exceptions …`` and ``wsms import orders``.

Thin wrappers over the order services (``orders``, ``order_import``, ``allocation``,
``order_exceptions``); registered on the main app by ``register(app)``. The shared CLI helpers
(context, database, actor, error handling) are taken from ``wsms_tui.cli`` when a command runs.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from wsms_tui.i18n import _
from wsms_tui.output import Format, emit

orders_app = typer.Typer(help="Sales orders: list, show, allocate, status timeline, cancel, ship.",
                         no_args_is_help=True)
channels_app = typer.Typer(help="Sales channels, warehouse routes and drop folders.", no_args_is_help=True)
exceptions_app = typer.Typer(help="Exception tickets: list and work them.", no_args_is_help=True)

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json")]


def _base() -> Any:
    from wsms_tui import cli

    return cli


def _session(ctx: typer.Context) -> tuple[Any, Any]:
    """(database, actor) for this command."""
    cli = _base()
    c = cli._ctx(ctx)
    database = cli.open_db(c)
    return database, cli.cli_actor(c, database)


def _run(fn: Any) -> Any:
    return _base().guarded(fn)


# ------------------------------------------------------------------ import orders


def import_orders_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="the order file (CSV or JSON)")],
    channel: Annotated[str, typer.Option("--channel", "-c", help="the sales channel the orders come from")],
    fmt: Annotated[str, typer.Option("--format", help="auto, wsms-csv, wsms-json, shopify or woocommerce")] = "auto",
    reject_file: Annotated[Path | None, typer.Option("--reject-file",
                                                     help="where bad rows go (default FILE.rejects.csv)")] = None,
    no_allocate: Annotated[bool, typer.Option("--no-allocate", help="import only; allocate later")] = False,
) -> None:
    """Import orders: our CSV (channel_ref,order_date,customer,phone,address,city,postcode,country,priority,
    sku,qty,promised_date), our JSON (orders with a "lines" array), or a Shopify / WooCommerce order export.
    Good orders import (and are allocated); orders with bad rows go to the reject file and become tickets."""

    def go() -> None:
        from wsms_tui.order_import import import_orders

        database, actor = _session(ctx)
        with _base()._progress() as progress:
            rep = import_orders(database, actor, file, channel=channel, fmt=fmt, reject_path=reject_file,
                                allocate=not no_allocate, progress=progress)
        typer.echo(rep.summary())
        if rep.allocation is not None:
            a = rep.allocation
            typer.echo(_("allocated: {a} order(s) whole, {b} backordered").format(a=a.allocated, b=a.backordered))
        for e in rep.errors[:50]:
            typer.echo(f"  {e}", err=True)
        if len(rep.errors) > 50:
            typer.echo(_("  … {n} more").format(n=len(rep.errors) - 50), err=True)
        if rep.reject_file:
            typer.echo(_("bad rows written to {f}").format(f=rep.reject_file), err=True)

    _run(go)


# ------------------------------------------------------------------ orders

ORDER_COLUMNS = [("ref", _("Order")), ("channel", _("Channel")), ("external_ref", _("Channel ref")),
                 ("order_date", _("Date")), ("customer", _("Customer")), ("country", _("Ctry")),
                 ("priority", _("Prio")), ("express", _("Express")), ("promised_date", _("Promised")),
                 ("status", _("Status")), ("warehouse", _("Wh")), ("lines", _("Lines")), ("qty", _("Qty")),
                 ("allocated", _("Allocated"))]


@orders_app.command("list")
def orders_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="comma-separated: new, hold, backorder, allocated, picking, "
                                                    "packed, shipped, cancelled")] = None,
    channel: Annotated[str | None, typer.Option(help="only this channel")] = None,
    warehouse: Annotated[str | None, typer.Option(help="only this warehouse")] = None,
    express: Annotated[bool | None, typer.Option("--express/--not-express", help="only (not) express")] = None,
    search: Annotated[str | None, typer.Option("--search", "-s", help="order ref, customer, phone or SKU")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="order date from (YYYY-MM-DD)")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="order date to (YYYY-MM-DD)")] = None,
    limit: Annotated[int, typer.Option(help="newest N orders (0 = all)")] = 200,
    fmt: FormatOpt = Format.table,
) -> None:
    """List orders, newest first."""

    def go() -> None:
        from wsms_tui import orders
        from wsms_tui.errors import BadInput

        database, actor = _session(ctx)
        try:
            f = orders.OrderFilter(status=tuple(x.strip() for x in status.split(",")) if status else None,
                                   channel=channel, warehouse=warehouse, express=express, search=search,
                                   date_from=date.fromisoformat(date_from) if date_from else None,
                                   date_to=date.fromisoformat(date_to) if date_to else None)
        except ValueError as exc:
            raise BadInput(_("dates are YYYY-MM-DD: {e}").format(e=exc)) from None

        def rows() -> Iterator[dict[str, Any]]:
            before, left = None, limit or None
            while True:
                page = orders.order_page(database, actor, f, limit=min(1000, left or 1000), before_id=before)
                for r in page:
                    yield dataclasses.asdict(r)
                if left is not None:
                    left -= len(page)
                if len(page) < 1000 or (left is not None and left <= 0):
                    return
                before = page[-1].id

        emit(rows(), ORDER_COLUMNS, fmt, title=_("Orders"), numeric=frozenset({"lines", "qty", "allocated",
                                                                             "priority"}))

    _run(go)


@orders_app.command("show")
def orders_show(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="SO-123, CHANNEL:REF or REF")],
                fmt: FormatOpt = Format.table) -> None:
    """An order's lines and allocations (json: the whole order)."""

    def go() -> None:
        from wsms_tui import orders

        database, actor = _session(ctx)
        d = orders.order_detail(database, actor, ref)
        o = d.order
        if fmt == Format.json:
            import json

            from wsms_tui.output import _plain

            body = dataclasses.asdict(d)
            typer.echo(json.dumps(body, ensure_ascii=False, default=_plain, indent=2))
            return
        title = (f"{o.ref} · {o.channel}:{o.external_ref} · {o.status} · {o.customer} · "
                 f"{d.address}, {d.postcode} {d.city} {o.country}")
        emit([dataclasses.asdict(ln) | {"backordered": ln.backordered} for ln in d.lines],
             [("line_no", "#"), ("sku", "SKU"), ("name", _("Name")), ("qty", _("Qty")),
              ("allocated", _("Allocated")), ("shipped", _("Shipped")), ("backordered", _("Backorder")),
              ("status", _("Status"))], fmt, title=title,
             numeric=frozenset({"line_no", "qty", "allocated", "shipped", "backordered"}))
        if d.allocations:
            emit([dataclasses.asdict(a) for a in d.allocations],
                 [("line_no", "#"), ("sku", "SKU"), ("warehouse", _("Wh")), ("location", _("Location")),
                  ("lot", _("Lot")), ("expiry", _("Expiry")), ("qty", _("Qty")), ("status", _("Status"))], fmt,
                 title=_("Allocations"), numeric=frozenset({"line_no", "qty"}))
        if d.open_tickets and fmt == Format.table:
            typer.echo(_("open exception tickets: {t}").format(t=", ".join(f"#{t}" for t in d.open_tickets)))

    _run(go)


@orders_app.command("status")
def orders_status(ctx: typer.Context, ref: Annotated[str, typer.Argument(help="SO-123, CHANNEL:REF or REF")],
                  fmt: FormatOpt = Format.table) -> None:
    """The order's status timeline: every status change with its time, who and why."""

    def go() -> None:
        from wsms_tui import orders

        database, actor = _session(ctx)
        o, events = orders.order_timeline(database, actor, ref)
        emit([dataclasses.asdict(e) for e in events],
             [("at", _("At (UTC)")), ("from_status", _("From")), ("to_status", _("To")), ("actor", _("By")),
              ("note", _("Note"))], fmt,
             title=_("{ref} ({ch}:{ext}) is {st}").format(ref=o.ref, ch=o.channel, ext=o.external_ref, st=o.status))

    _run(go)


@orders_app.command("allocate")
def orders_allocate(ctx: typer.Context,
                    refs: Annotated[list[str] | None, typer.Argument(help="orders (default: every waiting "
                                                                          "order and backorder)")] = None) -> None:
    """Allocate waiting orders and backorders to stock, highest priority first."""

    def go() -> None:
        from wsms_tui.allocation import allocate

        database, actor = _session(ctx)
        rep = allocate(database, actor, refs or None)
        typer.echo(_("{n} order(s): {a} allocated whole, {b} backordered; {k} allocation(s), {q} units "
                     "reserved").format(n=rep.orders, a=rep.allocated, b=rep.backordered, k=rep.allocations,
                                        q=rep.qty_reserved))

    _run(go)


@orders_app.command("cancel")
def orders_cancel(ctx: typer.Context, ref: str,
                  reason: Annotated[str, typer.Option(help="why (kept in the timeline)")]) -> None:
    """Cancel an order the warehouse has not started; its stock is released."""

    def go() -> None:
        from wsms_tui import orders

        database, actor = _session(ctx)
        r = orders.cancel_order(database, actor, ref, reason=reason)
        typer.echo(_("{ref} cancelled; {q} released").format(ref=r.ref, q=r.released))

    _run(go)


@orders_app.command("ship")
def orders_ship(ctx: typer.Context, ref: str,
                op_id: Annotated[str | None, typer.Option(help="operation id (repeat it to retry safely)")] = None
                ) -> None:
    """Ship a fully allocated order to the customer without the packing bench."""

    def go() -> None:
        from wsms_tui import orders

        database, actor = _session(ctx)
        r = orders.ship_order(database, actor, ref, op_id=op_id or f"ship-{uuid.uuid4().hex[:16]}")
        typer.echo(_("{ref} shipped: {q} units").format(ref=r.ref, q=r.shipped) if not r.replayed
                   else _("{ref} was shipped already").format(ref=r.ref))

    _run(go)


# ------------------------------------------------------------------ channels


@channels_app.command("add")
def channels_add(
    ctx: typer.Context, name: str,
    rank: Annotated[int, typer.Option(help="lower is served first among equal priorities")] = 100,
    split: Annotated[bool, typer.Option("--split/--no-split", help="may its orders ship from several "
                                                                    "warehouses")] = False,
    folder: Annotated[str | None, typer.Option(help="drop folder watched by `wsms channels watch`")] = None,
    fmt: Annotated[str, typer.Option("--format", help="default import format (auto detects)")] = "auto",
) -> None:
    """Add a sales channel, or change one."""

    def go() -> None:
        from wsms_tui import orders

        database, actor = _session(ctx)
        c = orders.save_channel(database, actor, name, rank=rank, allow_split=split, drop_folder=folder,
                                default_format=fmt)
        typer.echo(_("channel {n}: rank {r}, split {s}, folder {f}").format(
            n=c.name, r=c.rank, s=_("yes") if c.allow_split else _("no"), f=c.drop_folder or "-"))

    _run(go)


@channels_app.command("list")
def channels_list(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """List sales channels."""

    def go() -> None:
        from wsms_tui import orders

        database, actor = _session(ctx)
        emit([dataclasses.asdict(c) for c in orders.list_channels(database, actor)],
             [("name", _("Channel")), ("rank", _("Rank")), ("allow_split", _("Split")),
              ("default_format", _("Format")), ("drop_folder", _("Drop folder")), ("open_orders", _("Open"))],
             fmt, title=_("Channels"), numeric=frozenset({"rank", "open_orders"}))

    _run(go)


@channels_app.command("route")
def channels_route(ctx: typer.Context, warehouse: str,
                   rank: Annotated[int, typer.Option(help="lower ships first")],
                   country: Annotated[str, typer.Option(help="destination country (empty = anywhere)")] = "") -> None:
    """Rank a warehouse for a destination country (allocation tries lower ranks first)."""

    def go() -> None:
        from wsms_tui import orders

        database, actor = _session(ctx)
        orders.set_route(database, actor, warehouse, country=country, rank=rank)
        typer.echo(_("{w} → {c}: rank {r}").format(w=warehouse, c=country or _("anywhere"), r=rank))

    _run(go)


@channels_app.command("watch")
def channels_watch(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="import what is there now, then stop")] = False,
    interval: Annotated[float, typer.Option(help="seconds between looks")] = 2.0,
    settle: Annotated[float, typer.Option(help="a file must be this many seconds old (still being written "
                                               "otherwise)")] = 1.0,
    channel: Annotated[list[str] | None, typer.Option("--channel", help="only these channels")] = None,
) -> None:
    """Watch every channel's drop folder: import arriving files, move them to done/ or rejected/ with a
    report beside them. Ctrl+C stops."""

    def go() -> None:
        from wsms_tui.order_import import DropResult, watch, watch_once

        database, actor = _session(ctx)

        def show(r: DropResult) -> None:
            typer.echo(f"[{r.channel}] {r.file} → {r.outcome}: {r.summary}")

        if once:
            results = watch_once(database, actor, channels=channel, settle_seconds=settle)
            for r in results:
                show(r)
            if not results:
                typer.echo(_("no files waiting"), err=True)
            return
        typer.echo(_("watching drop folders every {s}s; Ctrl+C stops").format(s=interval), err=True)
        watch(database, actor, interval=interval, channels=channel, on_result=show, settle_seconds=settle)

    _run(go)


# ------------------------------------------------------------------ exceptions

TICKET_COLUMNS = [("id", "#"), ("code", _("Code")), ("status", _("Status")), ("order_ref", _("Order")),
                  ("channel", _("Channel")), ("external_ref", _("Channel ref")), ("message", _("Message")),
                  ("assignee", _("Assignee")), ("created_at", _("Created"))]


@exceptions_app.command("list")
def exceptions_list(ctx: typer.Context,
                    all_: Annotated[bool, typer.Option("--all", help="closed ones too")] = False,
                    code: Annotated[str | None, typer.Option(help="only this code")] = None,
                    fmt: FormatOpt = Format.table) -> None:
    """Open exception tickets, newest first."""

    def go() -> None:
        from wsms_tui import order_exceptions as ex

        database, actor = _session(ctx)
        rows = ex.ticket_page(database, actor, status=None if all_ else ex.ACTIVE, code=code, limit=1000)
        emit([dataclasses.asdict(r) for r in rows], TICKET_COLUMNS, fmt, title=_("Exceptions"),
             numeric=frozenset({"id"}))

    _run(go)


@exceptions_app.command("show")
def exceptions_show(ctx: typer.Context, ticket: int) -> None:
    """One ticket with its raw data and notes."""

    def go() -> None:
        from wsms_tui import order_exceptions as ex

        database, actor = _session(ctx)
        t = ex.ticket_detail(database, actor, ticket)
        for k, v in dataclasses.asdict(t).items():
            typer.echo(f"{k}: {v}")

    _run(go)


def _ticket_action(ctx: typer.Context, fn_name: str, *args: Any, **kw: Any) -> None:
    def go() -> None:
        from wsms_tui import order_exceptions as ex

        database, actor = _session(ctx)
        r = getattr(ex, fn_name)(database, actor, *args, **kw)
        if r is None:
            typer.echo(_("done"))
        elif hasattr(r, "ref"):
            typer.echo(_("{ref} is {st}").format(ref=r.ref, st=r.status))
        else:
            typer.echo(_("ticket {id} is {st}").format(id=r.id, st=r.status))

    _run(go)


@exceptions_app.command("fix-address")
def exceptions_fix_address(ctx: typer.Context, ref: str,
                           customer: Annotated[str | None, typer.Option()] = None,
                           address: Annotated[str | None, typer.Option()] = None,
                           city: Annotated[str | None, typer.Option()] = None,
                           postcode: Annotated[str | None, typer.Option()] = None,
                           country: Annotated[str | None, typer.Option()] = None,
                           phone: Annotated[str | None, typer.Option()] = None,
                           state: Annotated[str | None, typer.Option()] = None) -> None:
    """Correct an order's ship-to address; a valid one releases its hold and allocates it."""
    _ticket_action(ctx, "fix_address", ref, customer=customer, address=address, city=city, postcode=postcode,
                   country=country, phone=phone, state=state)


@exceptions_app.command("cancel-line")
def exceptions_cancel_line(ctx: typer.Context, ref: str, line: int,
                           reason: Annotated[str, typer.Option(help="why")]) -> None:
    """Cancel one line of an order (its stock is released)."""
    _ticket_action(ctx, "cancel_line", ref, line, reason=reason)


@exceptions_app.command("substitute")
def exceptions_substitute(ctx: typer.Context, ref: str, line: int, sku: str,
                          qty: Annotated[str | None, typer.Option(help="default: the line's open quantity")] = None
                          ) -> None:
    """Replace a line's product with another SKU and allocate it."""
    _ticket_action(ctx, "substitute", ref, line, sku, qty=qty)


@exceptions_app.command("wait")
def exceptions_wait(ctx: typer.Context, ticket: int, note: str = "") -> None:
    """Let an out-of-stock order wait for stock (the ticket closes itself when allocated)."""
    _ticket_action(ctx, "wait_for_stock", ticket, note)


@exceptions_app.command("release")
def exceptions_release(ctx: typer.Context, ticket: int, note: str = "") -> None:
    """Release a held order, or import a rejected order again from its ticket."""
    _ticket_action(ctx, "release", ticket, note)


@exceptions_app.command("assign")
def exceptions_assign(ctx: typer.Context, ticket: int,
                      user: Annotated[str | None, typer.Argument(help="user name (none: unassign)")] = None) -> None:
    """Assign a ticket to a user."""
    _ticket_action(ctx, "assign_ticket", ticket, user)


@exceptions_app.command("note")
def exceptions_note(ctx: typer.Context, ticket: int, text: str) -> None:
    """Add a note to a ticket."""
    _ticket_action(ctx, "add_note", ticket, text)


@exceptions_app.command("close")
def exceptions_close(ctx: typer.Context, ticket: int,
                     resolution: Annotated[str, typer.Option(help="a short word for how")] = "closed") -> None:
    """Close a ticket by hand."""
    _ticket_action(ctx, "close_ticket", ticket, resolution=resolution)


def register(app: typer.Typer) -> None:
    """Add orders, channels, exceptions and ``import orders`` to the main app."""
    app.add_typer(orders_app, name="orders")
    app.add_typer(channels_app, name="channels")
    app.add_typer(exceptions_app, name="exceptions")
    import_group = next(g.typer_instance for g in app.registered_groups if g.name == "import")
    import_group.command("orders")(import_orders_cmd)
