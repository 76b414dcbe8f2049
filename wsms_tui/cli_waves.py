"""``wsms import layout``, ``wsms layout show`` and ``wsms route``: layouts and pick paths from a shell;
``wsms waves plan|release|show|list|cancel|cutoff|tours|replen-rule|replenish``: wave planning, its tours and
replenishment.

Registered by ``wsms_tui.cli`` with one ``register(app)`` call; the shared helpers of the CLI (context,
error handling, database) are imported lazily inside the commands, after ``cli`` has finished loading.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from wsms_tui.i18n import _
from wsms_tui.output import Format, emit

layout_app = typer.Typer(help="Warehouse layouts: blocks, aisles, bays and the depot, for pick paths.",
                         no_args_is_help=True)

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json")]


def import_layout_cmd(ctx: typer.Context,
                      file: Annotated[Path, typer.Argument(help="layout file, JSON or TOML (docs/LAYOUT.md)")]) -> None:
    """Import a warehouse layout (JSON or TOML): blocks of aisles, bays, widths, the depot. Replaces the old one."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import layout

        database = cli.open_db(c)
        report = layout.import_layout(database, cli.cli_actor(c, database), file)
        typer.echo(_("{file}: layout of {w} {how}: {b} block(s), {a} aisle(s); {p} storage locations placed").format(
            file=file.name, w=report.warehouse, how=_("replaced") if report.replaced else _("created"),
            b=report.blocks, a=report.aisles, p=report.placed))
        if report.unplaced:
            typer.echo(_("{n} internal location(s) without an aisle are not on any pick path").format(
                n=report.unplaced), err=True)

    cli.guarded(go)


@layout_app.command("show")
def layout_show(ctx: typer.Context, warehouse: Annotated[str, typer.Argument(help="warehouse code")],
                fmt: FormatOpt = Format.table) -> None:
    """Every storage location of a warehouse with its position: block, aisle, side, metres along the aisle, x/y."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import layout

        database = cli.open_db(c)
        rows = [dataclasses.asdict(p) for p in layout.location_positions(database, cli.cli_actor(c, database),
                                                                          warehouse)]
        emit(rows, [("location", _("Location")), ("block", _("Block")), ("aisle", _("Aisle")), ("side", _("Side")),
                    ("along", _("Along m")), ("x", "x"), ("y", "y")], fmt,
             title=_("Layout positions of {w}").format(w=warehouse), numeric=frozenset({"along", "x", "y"}))

    cli.guarded(go)


def route_cmd(ctx: typer.Context,
              locations: Annotated[list[str], typer.Argument(help="location codes to visit")],
              warehouse: Annotated[str | None, typer.Option(help="warehouse code (default: theirs)")] = None,
              method: Annotated[str, typer.Option(help="optimal, sshape, largest-gap or name (sorted by code)")]
              = "optimal",
              fmt: FormatOpt = Format.table) -> None:
    """Route a pick list from the depot and back: the stops in order and the length (a debugging aid)."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import layout

        database = cli.open_db(c)
        view = layout.route_locations(database, cli.cli_actor(c, database), locations, warehouse=warehouse,
                                      method=method)
        r = view.route
        extra = {"route_length": round(r.length, 3), "method": r.method, "exact": r.exact}
        rows = [dataclasses.asdict(s) | extra for s in view.stops]
        cols = [("seq", "#"), ("location", _("Location")), ("block", _("Block")), ("aisle", _("Aisle")),
                ("side", _("Side")), ("along", _("Along m")), ("leg", _("Leg m")), ("cumulative", _("Total m"))]
        if fmt == Format.table:
            back = round(view.stops[-1].cumulative + view.return_leg, 3) if view.stops else 0.0
            rows.append({"seq": "", "location": _("↩ depot"), "leg": view.return_leg, "cumulative": back})
            title = _("{w}: {n} stops, {m:.1f} m · {method} ({kind})").format(
                w=view.warehouse, n=len(view.stops), m=r.length, method=r.method,
                kind=_("exact") if r.exact else _("heuristic"))
            emit(rows, cols, fmt, title=title, numeric=frozenset({"seq", "along", "leg", "cumulative"}))
        else:
            emit(rows, cols + [("route_length", "route_length"), ("method", "method"), ("exact", "exact")], fmt)

    cli.guarded(go)


waves_app = typer.Typer(help="Waves: plan pick tours from released orders, release them as pick tasks, show routes; "
                             "replenishment of pick faces.", no_args_is_help=True)


@waves_app.command("plan")
def waves_plan(ctx: typer.Context,
               cutoff: Annotated[str | None, typer.Option(help="only orders whose carrier collects by HH:MM")] = None,
               carrier: Annotated[str | None, typer.Option(help="only orders of this carrier")] = None,
               max_orders: Annotated[int | None, typer.Option("--max-orders", help="at most N orders (most urgent "
                                                                                    "first)")] = None,
               warehouse: Annotated[str | None, typer.Option(help="warehouse code (default: the one with the most "
                                                                  "releasable orders)")] = None,
               zone: Annotated[str | None, typer.Option(help="only orders picked wholly in this zone")] = None,
               method: Annotated[str, typer.Option(help="savings, seed or fcfs")] = "savings",
               max_lines: Annotated[int, typer.Option("--max-lines", help="lines per cart")] = 30,
               totes: Annotated[int, typer.Option(help="totes (orders) per cart")] = 8,
               volume: Annotated[float, typer.Option(help="litres per cart")] = 120.0,
               weight: Annotated[float, typer.Option(help="kg per cart")] = 80.0,
               fmt: FormatOpt = Format.table) -> None:
    """Plan a wave: choose released orders by carrier cutoff, priority and zone; batch them into cart tours by
    real route distance; print the tours with the plan's travel next to first-come-first-served batches."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import waves
        from wsms_tui.batching import Capacity

        database = cli.open_db(c)
        res = waves.plan(database, cli.cli_actor(c, database), warehouse=warehouse, cutoff=cutoff, carrier=carrier,
                         max_orders=max_orders, zone=zone, method=method,
                         capacity=Capacity(lines=max_lines, orders=totes, volume=volume, weight=weight))
        for why in res.skipped:
            typer.echo(_("skipped: {why}").format(why=why), err=True)
        if res.wave_id is None:
            typer.echo(res.message)
            return
        if fmt == Format.table:
            typer.echo(res.message)
            typer.echo(_("travel {m:.1f} m · FCFS batches {f:.1f} m · FCFS in location-name order {n:.1f} m").format(
                m=res.travel, f=res.fcfs_travel, n=res.name_travel))
        rows = [{"wave": res.ref, "tour": t.ref, "orders": len(t.orders), "lines": t.n_lines,
                 "volume_l": round(t.volume, 1), "weight_kg": round(t.weight, 1), "length_m": round(t.length, 1),
                 "stops": len(t.stops), "method": t.method, "exact": t.exact} for t in res.tours]
        emit(rows, [("wave", _("Wave")), ("tour", _("Tour")), ("orders", _("Orders")), ("lines", _("Lines")),
                    ("volume_l", _("L")), ("weight_kg", _("kg")), ("length_m", _("Route m")), ("stops", _("Stops")),
                    ("method", _("Router")), ("exact", _("Exact"))], fmt,
             numeric=frozenset({"orders", "lines", "volume_l", "weight_kg", "length_m", "stops"}))

    cli.guarded(go)


@waves_app.command("release")
def waves_release(ctx: typer.Context, wave: Annotated[str, typer.Argument(help="wave number, e.g. 12 or W12")]) -> None:
    """Release a planned wave: pick tasks in route order, its orders go to picking."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import waves

        database = cli.open_db(c)
        res = waves.release(database, cli.cli_actor(c, database), wave)
        typer.echo(res.message)

    cli.guarded(go)


@waves_app.command("cancel")
def waves_cancel(ctx: typer.Context, wave: Annotated[str, typer.Argument(help="wave number, e.g. 12 or W12")]) -> None:
    """Drop a planned wave (not released yet): its orders can be planned again."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import waves

        database = cli.open_db(c)
        waves.cancel(database, cli.cli_actor(c, database), wave)
        typer.echo(_("wave {w} cancelled").format(w=wave))

    cli.guarded(go)


@waves_app.command("show")
def waves_show(ctx: typer.Context, wave: Annotated[str, typer.Argument(help="wave number, e.g. 12 or W12")],
               fmt: FormatOpt = Format.table) -> None:
    """A wave's tours with the locations in visiting order, each leg and the running distance."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        import json

        from wsms_tui import waves

        database = cli.open_db(c)
        view = waves.show(database, cli.cli_actor(c, database), wave)
        w = view.wave
        if fmt == Format.json:
            doc = [{"wave": w.ref, "warehouse": w.warehouse, "status": w.status, "tour": t.ref, "number": t.number,
                    "tour_status": t.status, "orders": list(t.orders), "totes": list(t.totes), "lines": t.n_lines,
                    "length_m": t.length, "exact": t.exact, "method": t.method, "picker": t.picker, "left": t.left,
                    "return_leg_m": t.back,
                    "stops": [{"seq": s.seq, "location": s.location, "leg_m": s.leg, "cumulative_m": s.cumulative}
                              for s in t.stops]} for t in view.tours]
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
            return
        rows = [{"tour": t.ref, "seq": s.seq, "location": s.location, "leg_m": s.leg, "cumulative_m": s.cumulative,
                 "tour_m": t.length} for t in view.tours for s in t.stops]
        title = _("{w} · {wh} · {st}: {o} orders, {l} lines, {n} tours, {m:.1f} m (FCFS {f:.1f} m)").format(
            w=w.ref, wh=w.warehouse, st=w.status, o=w.orders, l=w.lines, n=w.tours, m=w.travel, f=w.fcfs_travel)
        emit(rows, [("tour", _("Tour")), ("seq", "#"), ("location", _("Location")), ("leg_m", _("Leg m")),
                    ("cumulative_m", _("Total m")), ("tour_m", _("Tour m"))], fmt, title=title,
             numeric=frozenset({"seq", "leg_m", "cumulative_m", "tour_m"}))

    cli.guarded(go)


@waves_app.command("list")
def waves_list(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """Waves, newest first: status, orders, lines, tours, travel next to FCFS, picks left."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import waves

        database = cli.open_db(c)
        rows = [{"wave": w.ref, "warehouse": w.warehouse, "status": w.status, "orders": w.orders, "lines": w.lines,
                 "tours": w.tours, "travel_m": round(w.travel, 1), "fcfs_m": round(w.fcfs_travel, 1),
                 "saving_pct": w.saving_pct, "left": w.left, "created_at": w.created_at}
                for w in waves.list_waves(database, cli.cli_actor(c, database))]
        emit(rows, [("wave", _("Wave")), ("warehouse", _("Warehouse")), ("status", _("Status")),
                    ("orders", _("Orders")), ("lines", _("Lines")), ("tours", _("Tours")), ("travel_m", _("Travel m")),
                    ("fcfs_m", _("FCFS m")), ("saving_pct", _("Saving %")), ("left", _("Left")),
                    ("created_at", _("Planned"))], fmt,
             numeric=frozenset({"orders", "lines", "tours", "travel_m", "fcfs_m", "saving_pct", "left"}))

    cli.guarded(go)


@waves_app.command("cutoff")
def waves_cutoff(ctx: typer.Context, warehouse: Annotated[str, typer.Argument(help="warehouse code")],
                 carrier: Annotated[str, typer.Argument(help="carrier name")],
                 time: Annotated[str, typer.Argument(help="daily cutoff HH:MM")],
                 country: Annotated[str, typer.Option(help="destination country ('' = anywhere)")] = "") -> None:
    """Which carrier takes a warehouse's orders to a country, and when it collects (for --cutoff/--carrier)."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import waves

        database = cli.open_db(c)
        row = waves.set_cutoff(database, cli.cli_actor(c, database), warehouse, carrier, time, country=country)
        typer.echo(_("{w}: {c} collects at {t} for {to}").format(w=row.warehouse, c=row.carrier, t=row.cutoff,
                                                                  to=row.country or _("anywhere")))

    cli.guarded(go)


@waves_app.command("replen-rule")
def waves_replen_rule(ctx: typer.Context, location: Annotated[str, typer.Argument(help="the pick face")],
                      sku: Annotated[str, typer.Argument(help="its product")],
                      min_qty: Annotated[str, typer.Option("--min", help="replenish below this")],
                      max_qty: Annotated[str, typer.Option("--max", help="fill up to this")]) -> None:
    """Make a location the pick face of a product with a min/max."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import replenishment

        database = cli.open_db(c)
        r = replenishment.set_rule(database, cli.cli_actor(c, database), location, sku, min_qty=min_qty,
                                   max_qty=max_qty)
        typer.echo(_("{loc} is the pick face of {sku}: min {lo}, max {hi} (on hand {oh})").format(
            loc=r.location, sku=r.sku, lo=r.min_qty, hi=r.max_qty, oh=r.on_hand))

    cli.guarded(go)


@waves_app.command("replenish")
def waves_replenish(ctx: typer.Context,
                    warehouse: Annotated[str | None, typer.Option(help="warehouse code (default: all)")] = None,
                    fmt: FormatOpt = Format.table) -> None:
    """Create the replenishment tasks pick faces below their minimum need; list the open ones (FEFO sources)."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        from wsms_tui import replenishment

        database = cli.open_db(c)
        actor = cli.cli_actor(c, database)
        made = replenishment.check(database, actor, warehouse)
        if fmt == Format.table:
            typer.echo(_("{n} new replenishment task(s)").format(n=len(made)))
        rows = [{"task": t.id, "warehouse": t.warehouse, "sku": t.sku, "lot": t.lot, "expiry": t.expiry,
                 "from": t.from_location, "to": t.to_location, "qty": t.left, "reason": t.reason}
                for t in replenishment.tasks(database, actor, warehouse=warehouse)]
        emit(rows, [("task", "#"), ("warehouse", _("Warehouse")), ("sku", "SKU"), ("lot", _("Lot")),
                    ("expiry", _("Expiry")), ("from", _("From")), ("to", _("To")), ("qty", _("Qty")),
                    ("reason", _("Why"))], fmt, numeric=frozenset({"task", "qty"}))

    cli.guarded(go)


def register(app: typer.Typer) -> None:
    """Add ``import layout`` (on the existing ``import`` group), ``layout show``, ``route`` and ``waves``."""
    for group in app.registered_groups:
        if group.name == "import" and group.typer_instance is not None:
            group.typer_instance.command("layout")(import_layout_cmd)
            break
    app.add_typer(layout_app, name="layout")
    app.command("route")(route_cmd)
    app.add_typer(waves_app, name="waves")
