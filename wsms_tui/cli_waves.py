"""``wsms import layout``, ``wsms layout show`` and ``wsms route``: layouts and pick paths from a shell.

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


def register(app: typer.Typer) -> None:
    """Add ``import layout`` (on the existing ``import`` group), ``layout show`` and ``route``."""
    for group in app.registered_groups:
        if group.name == "import" and group.typer_instance is not None:
            group.typer_instance.command("layout")(import_layout_cmd)
            break
    app.add_typer(layout_app, name="layout")
    app.command("route")(route_cmd)
