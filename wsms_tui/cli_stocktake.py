"""``wsms count …``: plan, list, count sheets, review, approve/reject, accuracy, the daily cycle list.

Registered by ``wsms_tui.cli`` with one ``register(app)`` call; the CLI's shared helpers (context, error
handling, database) are imported lazily inside the commands, after ``cli`` has finished loading.
Blind counts stay blind here too: ``count show`` prints expected quantities only to roles with
``count.review`` (``--as clerk1`` sees the locations and their state, never a quantity).
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from wsms_tui.i18n import _
from wsms_tui.output import Format, emit

count_app = typer.Typer(help="Stocktake: plan full, spot, cycle and sample counts; review and approve them.",
                        no_args_is_help=True)
plan_app = typer.Typer(help="Plan a count: full, spot, cycle or sample.", no_args_is_help=True)
count_app.add_typer(plan_app, name="plan")

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json")]
TolQty = Annotated[str | None, typer.Option("--tol-qty", help="recount when a line is off by more units than this")]
TolPct = Annotated[str | None, typer.Option("--tol-pct", help="… or by more than this % of what was expected")]
TolValue = Annotated[str | None, typer.Option("--tol-value", help="… or by more value (× unit cost) than this")]
NotBlind = Annotated[bool, typer.Option("--not-blind", help="let counters see expected quantities")]
Warehouse = Annotated[str, typer.Option("--warehouse", "-w", help="warehouse code")]
DayOpt = Annotated[str | None, typer.Option("--date", help="the day (YYYY-MM-DD; default today)")]

SUMMARY_COLUMNS = [("ref", _("Count")), ("kind", _("Kind")), ("warehouse", _("Wh")), ("scope", _("Scope")),
                   ("status", _("Status")), ("blind", _("Blind")), ("locations", _("Locs")),
                   ("pending", _("To do")), ("recount", _("Recount")), ("counted", _("Counted")),
                   ("approved", _("Approved")), ("rejected", _("Rejected")), ("created_by", _("By")),
                   ("created_at", _("Created"))]
SUMMARY_NUMERIC = frozenset({"locations", "pending", "recount", "counted", "approved", "rejected"})


def register(app: typer.Typer) -> None:
    app.add_typer(count_app, name="count")


def _run(ctx: typer.Context, body: Callable[[Any, Any, Any], None]) -> None:
    """Open the database, make the actor, run ``body(database, actor, settings)`` with the CLI's error handling."""
    from wsms_tui import cli

    c = cli._ctx(ctx)

    def go() -> None:
        database = cli.open_db(c)
        body(database, cli.cli_actor(c, database), c.settings)

    cli.guarded(go)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        from wsms_tui.errors import BadInput

        raise BadInput(_("--date {v!r} is not a date (YYYY-MM-DD)").format(v=value)) from None


def _policy(settings: Any, *, tol_qty: str | None = None, tol_pct: str | None = None, tol_value: str | None = None,
            not_blind: bool = False) -> Any:
    from wsms_tui.stocktake import Policy

    return Policy.from_settings(settings.stocktake, tol_qty=tol_qty, tol_pct=tol_pct, tol_value=tol_value,
                                blind=False if not_blind else None)


def _emit_summary(summary: Any, fmt: Format) -> None:
    row = dataclasses.asdict(summary)
    emit([row], SUMMARY_COLUMNS + [("skipped", _("Skipped"))], fmt, title=_("Count planned"),
         numeric=SUMMARY_NUMERIC | {"skipped"})


# ------------------------------------------------------------------ plan


@plan_app.command("full")
def plan_full(ctx: typer.Context, warehouse: Warehouse,
              zone: Annotated[str | None, typer.Option(help="only this zone")] = None,
              aisle: Annotated[str | None, typer.Option(help="only this aisle")] = None,
              tol_qty: TolQty = None, tol_pct: TolPct = None, tol_value: TolValue = None, not_blind: NotBlind = False,
              fmt: FormatOpt = Format.table) -> None:
    """Count every stock location of a warehouse (or of a zone or aisle of it)."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        _emit_summary(stocktake.plan_full(db, actor, warehouse=warehouse, zone=zone, aisle=aisle,
                                          policy=_policy(settings, tol_qty=tol_qty, tol_pct=tol_pct,
                                                         tol_value=tol_value, not_blind=not_blind)), fmt)

    _run(ctx, body)


@plan_app.command("spot")
def plan_spot(ctx: typer.Context,
              location: Annotated[list[str] | None, typer.Option("--location", "-l", help="a location (repeat)")]
              = None,
              sku: Annotated[list[str] | None, typer.Option("--sku", "-s", help="every location holding it (repeat)")]
              = None,
              warehouse: Annotated[str | None, typer.Option("--warehouse", "-w", help="only in this warehouse")] = None,
              tol_qty: TolQty = None, tol_pct: TolPct = None, tol_value: TolValue = None, not_blind: NotBlind = False,
              fmt: FormatOpt = Format.table) -> None:
    """Count chosen locations, and every location holding one of the chosen SKUs."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        _emit_summary(stocktake.plan_spot(db, actor, locations=location or (), skus=sku or (), warehouse=warehouse,
                                          policy=_policy(settings, tol_qty=tol_qty, tol_pct=tol_pct,
                                                         tol_value=tol_value, not_blind=not_blind)), fmt)

    _run(ctx, body)


@plan_app.command("cycle")
def plan_cycle(ctx: typer.Context, warehouse: Warehouse, day: DayOpt = None,
               limit: Annotated[int | None, typer.Option(help="at most N locations (default: the daily rate)")] = None,
               tol_qty: TolQty = None, tol_pct: TolPct = None, tol_value: TolValue = None,
               not_blind: NotBlind = False, fmt: FormatOpt = Format.table) -> None:
    """Plan the day's cycle count: the due locations (ABC by sales value), most overdue first."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        _emit_summary(stocktake.plan_cycle(db, actor, warehouse=warehouse, day=_day(day), limit=limit,
                                           policy=_policy(settings, tol_qty=tol_qty, tol_pct=tol_pct,
                                                          tol_value=tol_value, not_blind=not_blind)), fmt)

    _run(ctx, body)


@plan_app.command("sample")
def plan_sample(ctx: typer.Context, warehouse: Warehouse,
                size: Annotated[int, typer.Option(help="how many locations to sample")],
                seed: Annotated[int | None, typer.Option(help="random seed (repeatable samples)")] = None,
                tol_qty: TolQty = None, tol_pct: TolPct = None, tol_value: TolValue = None,
                not_blind: NotBlind = False, fmt: FormatOpt = Format.table) -> None:
    """Count a random sample of locations to estimate inventory accuracy (95 % Wilson interval)."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        _emit_summary(stocktake.plan_sample(db, actor, warehouse=warehouse, size=size, seed=seed,
                                            policy=_policy(settings, tol_qty=tol_qty, tol_pct=tol_pct,
                                                           tol_value=tol_value, not_blind=not_blind)), fmt)

    _run(ctx, body)


# ------------------------------------------------------------------ lists


@count_app.command("list")
def count_list(ctx: typer.Context,
               status: Annotated[str, typer.Option(help="open, closed, cancelled or all")] = "open",
               fmt: FormatOpt = Format.table) -> None:
    """List counts, newest first."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        emit([dataclasses.asdict(c) for c in stocktake.list_counts(db, actor, status=status)], SUMMARY_COLUMNS, fmt,
             title=_("Counts"), numeric=SUMMARY_NUMERIC)

    _run(ctx, body)


@count_app.command("show")
def count_show(ctx: typer.Context, ref: str, fmt: FormatOpt = Format.table) -> None:
    """A count's lines (expected, counted, recount, variance) — or, for a counter on a blind count, its
    locations and their state only."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        summary = stocktake.count_summary(db, actor, ref)
        if actor.can("count.review") or not summary.blind:
            lines = stocktake.review(db, actor, ref, only_variances=False, limit=None,
                                     status=("pending", "recount", "counted", "approved", "rejected"))
            emit([dataclasses.asdict(ln) for ln in lines], _REVIEW_COLUMNS, fmt,
                 title=f"{summary.ref} · {summary.kind} · {summary.scope} · {summary.status}", numeric=_REVIEW_NUMERIC)
            return
        emit([dataclasses.asdict(v) for v in stocktake.count_locations(db, actor, ref, limit=100_000)],
             [("location", _("Location")), ("status", _("Status")), ("abc", "ABC"), ("counted_by", _("Counted by")),
              ("recount_by", _("Recount by"))], fmt,
             title=_("{ref} · blind: expected quantities are for the supervisor").format(ref=summary.ref))

    _run(ctx, body)


_REVIEW_COLUMNS = [("location", _("Location")), ("status", _("Status")), ("sku", "SKU"), ("lot", _("Lot")),
                   ("expected", _("Expected")), ("counted", _("Counted")), ("recount_expected", _("Exp. recount")),
                   ("recount", _("Recount")), ("variance", _("Variance")), ("value", _("Value")),
                   ("counted_by", _("Counted by")), ("recount_by", _("Recount by")), ("unexpected", _("Never here")),
                   ("note", _("Note"))]
_REVIEW_NUMERIC = frozenset({"expected", "counted", "recount_expected", "recount", "variance", "value"})


@count_app.command("review")
def count_review(ctx: typer.Context, ref: str,
                 all_lines: Annotated[bool, typer.Option("--all", help="every line, not only variances")] = False,
                 fmt: FormatOpt = Format.table) -> None:
    """What a supervisor decides on: lines with a variance, waiting for a recount, or never stocked there."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        lines = stocktake.review(db, actor, ref, only_variances=not all_lines, limit=None)
        emit([dataclasses.asdict(ln) for ln in lines], _REVIEW_COLUMNS, fmt, title=_("Review of {ref}").format(ref=ref),
             numeric=_REVIEW_NUMERIC)

    _run(ctx, body)


@count_app.command("issues")
def count_issues(ctx: typer.Context, ref: str, fmt: FormatOpt = Format.table) -> None:
    """Bad scans recorded at the count desk (location not in the count, lot of another product …)."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        emit([dataclasses.asdict(i) for i in stocktake.issues(db, actor, ref)],
             [("at", _("At")), ("location", _("Location")), ("kind", _("Kind")), ("message", _("Message")),
              ("raw_scan", _("Scan")), ("actor", _("User"))], fmt, title=_("Issues of {ref}").format(ref=ref))

    _run(ctx, body)


@count_app.command("cycle-list")
def count_cycle_list(ctx: typer.Context,
                     warehouse: Annotated[str | None, typer.Option("--warehouse", "-w", help="warehouse code")] = None,
                     day: DayOpt = None,
                     limit: Annotated[int | None, typer.Option(help="at most N (default: the daily rate)")] = None,
                     fmt: FormatOpt = Format.table) -> None:
    """The daily cycle-count list: due locations by ABC class and last count, most overdue first."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        rows = stocktake.cycle_list(db, actor, warehouse=warehouse, day=_day(day), limit=limit,
                                    policy=_policy(settings))
        emit([dataclasses.asdict(r) for r in rows],
             [("location", _("Location")), ("warehouse", _("Wh")), ("abc", "ABC"),
              ("frequency_days", _("Every (days)")), ("last_counted", _("Last counted")),
              ("days_since", _("Days since"))], fmt, title=_("Cycle counts due"),
             numeric=frozenset({"frequency_days", "days_since"}))

    _run(ctx, body)


@count_app.command("abc")
def count_abc(ctx: typer.Context,
              warehouse: Annotated[str | None, typer.Option("--warehouse", "-w", help="warehouse code")] = None,
              day: DayOpt = None, fmt: FormatOpt = Format.table) -> None:
    """How many stock locations are in ABC class A, B and C (sales value over the last year)."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        pol = _policy(settings)
        classes = stocktake.abc_classes(db, actor, warehouse=warehouse, day=_day(day), policy=pol)
        emit([{"abc": k, "locations": v, "every_days": pol.days(k)} for k, v in classes.items()],
             [("abc", "ABC"), ("locations", _("Locations")), ("every_days", _("Count every (days)"))], fmt,
             title=_("ABC classes"), numeric=frozenset({"locations", "every_days"}))

    _run(ctx, body)


# ------------------------------------------------------------------ count, decide


@count_app.command("sheet")
def count_sheet(ctx: typer.Context, ref: str,
                file: Annotated[Path, typer.Argument(help="CSV: location,sku,lot,qty (a location with an empty sku "
                                                          "is empty)")]) -> None:
    """Enter a count sheet (totals per location, product and lot) and finish its locations."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake
        from wsms_tui.errors import BadInput

        try:
            with file.open(encoding="utf-8-sig", newline="") as fh:
                reader = csv.DictReader(fh)
                missing = {"location", "sku", "qty"} - set(reader.fieldnames or ())
                if missing:
                    raise BadInput(_("{f}: the header needs location,sku,lot,qty (missing {m})").format(
                        f=file.name, m=", ".join(sorted(missing))))
                rows = [((r.get("location") or "").strip(), (r.get("sku") or "").strip(),
                         (r.get("lot") or "").strip() or None, (r.get("qty") or "0").strip()) for r in reader]
        except OSError as exc:
            raise BadInput(_("cannot read {f}: {e}").format(f=file, e=exc.strerror or exc)) from None
        report = stocktake.count_sheet(db, actor, ref, rows)
        typer.echo(_("{ref}: {n} location(s), {l} line(s) counted; {r} to recount by another counter").format(
            ref=report.ref, n=report.locations, l=report.lines, r=report.recount))

    _run(ctx, body)


@count_app.command("approve")
def count_approve(ctx: typer.Context, ref: str,
                  location: Annotated[list[str] | None, typer.Option("--location", "-l",
                                                                     help="only these locations (repeat)")] = None
                  ) -> None:
    """Approve counted locations: post each variance as a `count` adjustment against VIRT/LOSS."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        d = stocktake.approve(db, actor, ref, locations=location or None)
        typer.echo(_("{ref}: {n} location(s) approved, {e} adjustment(s) posted{closed}").format(
            ref=d.ref, n=d.locations, e=d.entries, closed=_("; count closed") if d.closed else ""))
        for h in d.held:
            typer.echo(_("held: {h}").format(h=h), err=True)

    _run(ctx, body)


@count_app.command("reject")
def count_reject(ctx: typer.Context, ref: str,
                 location: Annotated[list[str], typer.Option("--location", "-l", help="location to reject (repeat)")],
                 reason: Annotated[str, typer.Option(help="why (kept with the decision)")]) -> None:
    """Reject counted locations: nothing is posted."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        d = stocktake.reject(db, actor, ref, locations=location, reason=reason)
        typer.echo(_("{ref}: {n} location(s) rejected{closed}").format(
            ref=d.ref, n=d.locations, closed=_("; count closed") if d.closed else ""))

    _run(ctx, body)


@count_app.command("close")
def count_close(ctx: typer.Context, ref: str) -> None:
    """Close a count early; locations never counted are left out."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        d = stocktake.close_count(db, actor, ref)
        typer.echo(_("{ref} closed: {n} location(s) not counted").format(ref=d.ref, n=d.locations))

    _run(ctx, body)


@count_app.command("accuracy")
def count_accuracy(ctx: typer.Context, ref: str, fmt: FormatOpt = Format.table) -> None:
    """A count's accuracy: locations without variance / counted, value accuracy, a sample's Wilson interval."""
    def body(db: Any, actor: Any, settings: Any) -> None:
        from wsms_tui import stocktake

        a = stocktake.accuracy(db, actor, ref)
        row = dataclasses.asdict(a) | {"location_accuracy": a.location_accuracy, "value_accuracy": a.value_accuracy}
        emit([row], [("ref", _("Count")), ("kind", _("Kind")), ("status", _("Status")),
                     ("locations_counted", _("Locations")), ("locations_accurate", _("Accurate")),
                     ("location_accuracy", _("Accuracy")), ("ci_low", _("95% CI low")), ("ci_high", _("95% CI high")),
                     ("population", _("Population")), ("lines_counted", _("Lines")),
                     ("lines_accurate", _("Lines ok")), ("value_expected", _("Value expected")),
                     ("value_abs_variance", _("|Value variance|")), ("value_net_variance", _("Net value variance")),
                     ("value_accuracy", _("Value accuracy"))], fmt, title=_("Accuracy of {ref}").format(ref=ref),
             numeric=frozenset({"locations_counted", "locations_accurate", "location_accuracy", "ci_low", "ci_high",
                                "lines_counted", "lines_accurate", "value_expected", "value_abs_variance",
                                "value_net_variance", "value_accuracy"}))

    _run(ctx, body)
