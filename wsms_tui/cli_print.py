"""``wsms print queue|reprint|mark-printed|cancel|label …|serve``: the print spool from a shell.

Added to the ``print`` group of ``cli_devices`` by ``register(app)`` (one line in ``cli.py``). Thin
wrappers over ``printing`` and ``label_jobs``; the shared CLI helpers (context, database, actor, error
handling) come from ``wsms_tui.cli`` when a command runs. ``wsms print serve`` runs the spool workers
in the foreground for printers shared by several desks (``spool_in_desk = false`` on those desks).
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from typing import Annotated, Any

import typer

from wsms_tui.i18n import _
from wsms_tui.output import Format, emit

label_app = typer.Typer(help="Make a label (product, location, LPN), preview it, queue it.", no_args_is_help=True)

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json")]
PrinterOpt = Annotated[str | None, typer.Option("--printer", "-p", help="a printer name from [printers] or a "
                                                                        "URL (default: the `printer` setting)")]
PreviewOpt = Annotated[bool, typer.Option("--preview", help="show the label's text preview; queue nothing")]
KeyOpt = Annotated[str | None, typer.Option("--key", help="idempotency key: the same key never queues twice "
                                                          "(default: a new one)")]


def _base() -> Any:
    from wsms_tui import cli

    return cli


def _session(ctx: typer.Context) -> tuple[Any, Any, Any]:
    """(settings, database, actor) for this command."""
    cli = _base()
    c = cli._ctx(ctx)
    database = cli.open_db(c)
    return c.settings, database, cli.cli_actor(c, database)


def _run(fn: Any) -> Any:
    return _base().guarded(fn)


def _job_row(j: Any) -> dict[str, object]:
    return {"id": j.id, "created_at": j.created_at.isoformat(timespec="seconds"), "kind": j.kind,
            "printer": j.printer, "status": j.status, "attempts": j.attempts, "user": j.user,
            "reprint_of": j.reprint_of if j.reprint_of is not None else "", "reason": j.reason,
            "last_error": j.last_error,
            "printed_at": j.printed_at.isoformat(timespec="seconds") if j.printed_at else ""}


JOB_COLUMNS = [("id", _("Job")), ("created_at", _("Queued")), ("kind", _("Kind")), ("printer", _("Printer")),
               ("status", _("Status")), ("attempts", _("Tries")), ("user", _("User")),
               ("reprint_of", _("Reprint of")), ("reason", _("Reason")), ("last_error", _("Last error"))]


def queue_cmd(ctx: typer.Context, printer: Annotated[str | None, typer.Option("--printer", "-p")] = None,
              status: Annotated[str | None, typer.Option("--status", "-s", help="queued, printing, printed, failed, "
                                                                                "needs_decision, cancelled")] = None,
              limit: Annotated[int, typer.Option(help="at most this many jobs (newest first)")] = 200,
              before: Annotated[int | None, typer.Option(help="jobs older than this job id (the next page)")] = None,
              fmt: FormatOpt = Format.table) -> None:
    """List print jobs, newest first (one keyset page)."""

    def go() -> None:
        from wsms_tui import printing

        _s, database, actor = _session(ctx)
        jobs = printing.list_jobs(database, actor, printer=printer, status=status, limit=limit, before_id=before)
        emit([_job_row(j) for j in jobs], JOB_COLUMNS, fmt, title=_("Print jobs"))

    _run(go)


def reprint_cmd(ctx: typer.Context, job_id: Annotated[int, typer.Argument(help="the job to print again")],
                reason: Annotated[str, typer.Option("--reason", "-r", help="why (recorded and audited)")],
                fmt: FormatOpt = Format.table) -> None:
    """Print a finished or held job's label again as a new job, with the reason recorded."""

    def go() -> None:
        from wsms_tui import printing

        _s, database, actor = _session(ctx)
        job = printing.reprint(database, actor, job_id, reason=reason)
        emit([_job_row(job)], JOB_COLUMNS, fmt, title=_("Reprint queued"))

    _run(go)


def mark_printed_cmd(ctx: typer.Context, job_id: Annotated[int, typer.Argument(help="a held job")],
                     reason: Annotated[str, typer.Option("--reason", "-r", help="what you saw")] = "") -> None:
    """A held (uncertain) label did print: close it without printing it again."""

    def go() -> None:
        from wsms_tui import printing

        _s, database, actor = _session(ctx)
        job = printing.mark_printed(database, actor, job_id, reason=reason)
        typer.echo(_("job {id}: {st}").format(id=job.id, st=job.status))

    _run(go)


def cancel_cmd(ctx: typer.Context, job_id: Annotated[int, typer.Argument(help="a queued or held job")],
               reason: Annotated[str, typer.Option("--reason", "-r")] = "") -> None:
    """Cancel a job that has not printed."""

    def go() -> None:
        from wsms_tui import printing

        _s, database, actor = _session(ctx)
        job = printing.cancel(database, actor, job_id, reason=reason)
        typer.echo(_("job {id}: {st}").format(id=job.id, st=job.status))

    _run(go)


def _queue_or_preview(ctx: typer.Context, printer: str | None, preview: bool, key: str | None, key_base: str,
                      make: Any) -> None:
    """Resolve the printer (for its dpi), make the label, then preview it or queue it."""
    from wsms_tui import printing
    from wsms_tui.errors import BadInput

    settings, database, actor = _session(ctx)
    name = printer or settings.printer
    if not name and not preview:
        raise BadInput(_("which printer? --printer NAME or URL (or set `printer` in config.toml)"))
    dpi = printing.resolve_printer(settings, name).dpi if name else 203
    label = make(settings, database, actor, dpi)
    if preview:
        typer.echo(label.preview())
        return
    job = printing.queue_label(database, actor, printer=name, label=label,
                               idempotency_key=key or f"cli:{key_base}:{uuid.uuid4().hex}")
    if job.status != "queued":
        typer.echo(_("job {id} is {st} already (same --key)").format(id=job.id, st=job.status))
        return
    typer.echo(_("queued as job {id} on {p}: printed by that printer's spool (a desk with spool_in_desk, or "
                 "`wsms print serve {p}`)").format(id=job.id, p=name))


@label_app.command("product")
def label_product(ctx: typer.Context, sku: Annotated[str, typer.Argument(help="the product's SKU")],
                  lot: Annotated[str | None, typer.Option("--lot", help="lot (or serial) number")] = None,
                  count: Annotated[int | None, typer.Option("--count", help="units in the case (AI 37)")] = None,
                  printer: PrinterOpt = None, preview: PreviewOpt = False, key: KeyOpt = None) -> None:
    """A product/lot label: GS1-128 and GS1 DataMatrix with the GTIN, lot, expiry and count."""

    def make(settings: Any, database: Any, actor: Any, dpi: int) -> Any:
        from wsms_tui import label_jobs

        return label_jobs.make_product_label(database, actor, sku=sku, lot=lot, count=count, dpi=dpi)

    _run(lambda: _queue_or_preview(ctx, printer, preview, key, f"product:{sku}", make))


@label_app.command("location")
def label_location(ctx: typer.Context, code: Annotated[str, typer.Argument(help="the location code")],
                   printer: PrinterOpt = None, preview: PreviewOpt = False, key: KeyOpt = None) -> None:
    """A location label: the code and a Code 128 of %LOC:CODE:C (check character)."""

    def make(settings: Any, database: Any, actor: Any, dpi: int) -> Any:
        from wsms_tui import label_jobs

        return label_jobs.make_location_label(database, actor, code, dpi=dpi)

    _run(lambda: _queue_or_preview(ctx, printer, preview, key, f"location:{code}", make))


@label_app.command("lpn")
def label_lpn(ctx: typer.Context,
              contents: Annotated[str, typer.Option("--contents", help="what is on the pallet (printed)")] = "",
              reference: Annotated[str, typer.Option("--reference", help="a receipt or order reference")] = "",
              company_prefix: Annotated[str | None, typer.Option(
                  "--company-prefix", help="GS1 company prefix (default: the gs1_company_prefix setting)")] = None,
              printer: PrinterOpt = None, preview: PreviewOpt = False, key: KeyOpt = None) -> None:
    """An LPN/pallet label with a new SSCC (AI 00). The SSCC is taken even with --preview."""

    def make(settings: Any, database: Any, actor: Any, dpi: int) -> Any:
        from wsms_tui import label_jobs

        return label_jobs.make_lpn_label(database, actor, company_prefix=company_prefix or settings.gs1_company_prefix,
                                         contents=contents, reference=reference, dpi=dpi)

    _run(lambda: _queue_or_preview(ctx, printer, preview, key, "lpn", make))


def serve_cmd(ctx: typer.Context,
              printers: Annotated[list[str] | None, typer.Argument(
                  help="printer names or URLs (default: every printer in [printers], else `printer`)")] = None,
              seconds: Annotated[float, typer.Option(help="stop after this many seconds (0 = until Ctrl+C)")] = 0,
              until_empty: Annotated[bool, typer.Option(
                  "--until-empty", help="stop once these printers have no queued or printing job")] = False,
              status_timeout: Annotated[float, typer.Option(help="seconds to wait for a ~HS answer")] = 2.0) -> None:
    """Run the spool workers of shared printers in the foreground; Ctrl+C (or SIGTERM) stops cleanly."""

    def go() -> None:
        from wsms_tui import printing
        from wsms_tui.devices.spool import WorkerStatus
        from wsms_tui.errors import BadInput

        settings, database, actor = _session(ctx)
        names = list(printers or []) or sorted(settings.printers) or ([settings.printer] if settings.printer else [])
        if not names:
            raise BadInput(_("no printers to serve: name them, or configure [printers] in config.toml"))
        configs = {n: printing.resolve_printer(settings, n) for n in names}
        lock = threading.Lock()

        def reporter(name: str) -> Any:
            def report(status: WorkerStatus) -> None:
                text, fault = printing.printer_state_text(name, status)
                with lock:
                    typer.echo(("! " if fault else "") + text + (f" ({status.detail})" if status.detail else ""),
                               err=True)
            return report

        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_a: stop.set())
        runners = []
        try:
            for n in names:
                runners.append(printing.SpoolRunner(database, actor, n, configs[n], on_status=reporter(n),
                                                    status_timeout=status_timeout, idle_poll=0.5).start())
            typer.echo(_("serving {p}; Ctrl+C ends").format(p=", ".join(names)), err=True)
            deadline = time.monotonic() + seconds if seconds else None
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                if until_empty and not any(printing.list_jobs(database, actor, printer=n, status=st, limit=1)
                                           for n in names for st in ("queued", "printing")):
                    break
                stop.wait(0.2)
        except KeyboardInterrupt:
            pass
        finally:
            for r in runners:
                r.worker.stop()
            for r in runners:
                r.stop(timeout=5)
        typer.echo(_("stopped; labels printed: {d}").format(
            d=", ".join(f"{n}={r.worker.printed}" for n, r in zip(names, runners, strict=False))), err=True)

    _run(go)


def register(app: typer.Typer) -> None:
    """Add the spool commands to ``wsms print`` (created by ``cli_devices``)."""
    print_group = next(g.typer_instance for g in app.registered_groups if g.name == "print")
    print_group.command("queue")(queue_cmd)
    print_group.command("reprint")(reprint_cmd)
    print_group.command("mark-printed")(mark_printed_cmd)
    print_group.command("cancel")(cancel_cmd)
    print_group.command("serve")(serve_cmd)
    print_group.add_typer(label_app, name="label")
