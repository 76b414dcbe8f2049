"""The ``wsms`` command line (Typer). Imports Textual only inside the commands that open the TUI.

Every listing takes ``--format table|csv|json``; errors go to stderr as one line that says what
to fix, with a non-zero exit code and no traceback.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from wsms_tui import __version__
from wsms_tui.config import Settings, demo_database_url, load_settings
from wsms_tui.database import Database
from wsms_tui.db.engine import DatabaseUnavailable, RetriesExhausted, make_engine
from wsms_tui.db.migrate import SchemaMismatch, current_revision, head_revision, search_index, upgrade
from wsms_tui.errors import WsmsError
from wsms_tui.i18n import _
from wsms_tui.output import Format, emit
from wsms_tui.security import Actor

T = TypeVar("T")

app = typer.Typer(
    name="wsms",
    help="wsms: warehouse sales management in the terminal. Without a command it opens the TUI.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
user_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
import_app = typer.Typer(help="Import products, locations … from CSV or JSON files.", no_args_is_help=True)
ledger_app = typer.Typer(help="The stock ledger: list entries, or verify quants against it.")
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
receipts_app = typer.Typer(help="Expected deliveries (receipts).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(import_app, name="import")
app.add_typer(ledger_app, name="ledger")
app.add_typer(audit_app, name="audit")
__import__("wsms_tui.cli_devices", fromlist=["register"]).register(app)  # devices, print, printer
__import__("wsms_tui.cli_print", fromlist=["register"]).register(app)  # print queue|reprint|label|serve
__import__("wsms_tui.cli_waves", fromlist=["register"]).register(app)  # import layout, layout, route
__import__("wsms_tui.cli_orders", fromlist=["register"]).register(app)  # orders, channels, exceptions, import orders
__import__("wsms_tui.cli_stocktake", fromlist=["register"]).register(app)  # count
__import__("wsms_tui.cli_packing", fromlist=["register"]).register(app)  # pack, shipments, carriers
__import__("wsms_tui.cli_reports", fromlist=["register"]).register(app)  # report
app.add_typer(receipts_app, name="receipts")

FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, csv or json")]


@dataclasses.dataclass
class Ctx:
    settings: Settings
    db_url_given: bool
    as_user: str | None


def _ctx(ctx: typer.Context) -> Ctx:
    obj = ctx.find_root().obj
    assert isinstance(obj, Ctx)
    return obj


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"wsms: {message}", err=True)
    return typer.Exit(code)


def guarded(fn: Callable[[], T]) -> T:
    """Run a command body; turn our errors into one clear line on stderr and exit code 1."""
    try:
        return fn()
    except (WsmsError, DatabaseUnavailable, SchemaMismatch, RetriesExhausted) as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail(_("interrupted"), 130) from None


def open_db(c: Ctx, *, check: bool = True) -> Database:
    return Database.open(c.settings.database_url, check=check)


def cli_actor(c: Ctx, db: Database) -> Actor:
    """The CLI acts as the built-in system admin, or as ``--as USER`` (PIN from WSMS_PIN or a prompt)."""
    terminal = f"cli:{c.settings.terminal}"[:64]
    if not c.as_user:
        return db.system_actor(terminal)
    from wsms_tui.users import authenticate

    pin = os.environ.get("WSMS_PIN") or typer.prompt(_("PIN for {u}").format(u=c.as_user), hide_input=True)
    return authenticate(db, c.as_user, pin, terminal)


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", help="database URL (else $WSMS_DATABASE_URL, else the "
                                                        "SQLite file in the user data dir)")] = None,
    as_user: Annotated[str | None, typer.Option("--as", help="act as this user (PIN from $WSMS_PIN or a "
                                                             "prompt) instead of the system admin")] = None,
    version: Annotated[bool, typer.Option("--version", help="print the version")] = False,
) -> None:
    if version:
        typer.echo(f"wsms {__version__}")
        raise typer.Exit()
    try:
        settings = load_settings(database_url=db)
    except Exception as exc:  # pydantic ValidationError, TOML syntax errors
        raise fail(_("bad settings (config file or WSMS_* variables): {e}").format(e=exc)) from None
    ctx.obj = Ctx(settings, db is not None or "WSMS_DATABASE_URL" in os.environ, as_user)
    if ctx.invoked_subcommand is None:
        run(ctx, desk=None)


@app.command()
def run(ctx: typer.Context,
        desk: Annotated[str | None, typer.Option(help="open straight at this desk: stock, receiving, orders, "
                                                      "packing, waves, stocktake, reports, admin")] = None) -> None:
    """Open the TUI (the login screen, then the desk menu or --desk)."""
    c = _ctx(ctx)

    def go() -> None:
        database = open_db(c)
        from wsms_tui.app import run_app  # Textual is loaded only here

        run_app(database, c.settings, desk=desk or c.settings.desk)

    guarded(go)


@app.command()
def demo(ctx: typer.Context,
         seed_only: Annotated[bool, typer.Option("--seed-only", help="build the demo, don't open the TUI")] = False,
         scale: Annotated[str, typer.Option(help="small or large (≈1M ledger rows)")] = "small") -> None:
    """Create (once) and open a demo warehouse in its own SQLite file (or in --db)."""
    c = _ctx(ctx)
    if not c.db_url_given:
        c.settings.database_url = demo_database_url()

    def go() -> None:
        from wsms_tui import demo as demo_mod

        engine = make_engine(c.settings.database_url)
        try:
            if current_revision(engine) is None:
                upgrade(engine)
        finally:
            engine.dispose()
        database = open_db(c)
        if not demo_mod.is_demo(database):
            with _progress() as progress:
                summary = demo_mod.build_demo(database, cli_actor(c, database), scale=scale, progress=progress)
            typer.echo(_("demo warehouse built in {db}: {s}").format(db=database.url, s=summary), err=True)
        elif seed_only:
            typer.echo(_("{db} holds a demo already").format(db=database.url), err=True)
        if not seed_only:
            from wsms_tui.app import run_app

            run_app(database, c.settings, desk=c.settings.desk)

    guarded(go)


class _progress:  # noqa: N801 - used as a context manager factory
    """A rich progress bar fed by ``progress(stage, done, total)`` callbacks (on stderr)."""

    def __enter__(self) -> Callable[[str, int, int], None]:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), console=Console(stderr=True), transient=False)
        self.bar.start()
        self.tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in self.tasks:
                self.tasks[stage] = self.bar.add_task(stage, total=total or None)
            self.bar.update(self.tasks[stage], completed=done, total=total or None)

        return update

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()


# ------------------------------------------------------------------ db


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the schema to this wsms's version."""
    c = _ctx(ctx)

    def go() -> None:
        database = open_db(c, check=False)
        before, after = upgrade(database.engine)
        if before == after:
            typer.echo(_("{db}: schema already at {rev}").format(db=database.url, rev=after))
        else:
            typer.echo(_("{db}: schema {a} → {b}").format(db=database.url, a=before or _("empty"), b=after))

    guarded(go)


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Show the schema version of the database and of this wsms."""
    c = _ctx(ctx)

    def go() -> None:
        database = open_db(c, check=False)
        cur, head = current_revision(database.engine), head_revision()
        state = _("up to date") if cur == head else (_("not initialised: run `wsms db upgrade`") if cur is None
                                                     else _("differs: see `wsms db upgrade`"))
        typer.echo(_("database: {url}\nschema: {cur}\nthis wsms: {head}\nstate: {state}").format(
            url=database.url, cur=cur or "-", head=head, state=state))
        if cur != head:
            raise typer.Exit(1)
        searched = (_("indexed") if search_index(database.engine) else _(
            "scans every order (no FTS5 trigram tokenizer in this SQLite, or no pg_trgm in this PostgreSQL; "
            "`wsms db upgrade` makes the index once they are there)"))
        typer.echo(_("customer search: {how}").format(how=searched))

    guarded(go)


# ------------------------------------------------------------------ users


def _read_pin(prompt: bool) -> str:
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line.strip():
            raise WsmsError(_("no PIN on standard input"))
        return line.strip()
    pin = typer.prompt(_("PIN"), hide_input=True, confirmation_prompt=True)
    return str(pin).strip()


@user_app.command("add")
def user_add(ctx: typer.Context, name: str,
             role: Annotated[str, typer.Option(help="admin, supervisor, clerk or finance")],
             full_name: Annotated[str, typer.Option(help="display name")] = "") -> None:
    """Add a user; the PIN is read from standard input or prompted for twice."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui.users import add_user

        database = open_db(c)
        actor = cli_actor(c, database)
        u = add_user(database, actor, name, role, _read_pin(True), full_name)
        typer.echo(_("user {n} added with role {r}").format(n=u.name, r=u.role))

    guarded(go)


@user_app.command("list")
def user_list(ctx: typer.Context, fmt: FormatOpt = Format.table) -> None:
    """List users."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui.users import list_users

        database = open_db(c)
        rows = [dataclasses.asdict(u) for u in list_users(database, cli_actor(c, database))]
        emit(rows, [("name", _("User")), ("full_name", _("Name")), ("role", _("Role")), ("active", _("Active"))],
             fmt, title=_("Users"))

    guarded(go)


@user_app.command("disable")
def user_disable(ctx: typer.Context, name: str) -> None:
    """Disable a user: they can no longer log in (not yourself, not the last active admin)."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui.users import set_active

        database = open_db(c)
        actor = cli_actor(c, database)
        u = set_active(database, actor, name, False)
        typer.echo(_("user {n} disabled").format(n=u.name))

    guarded(go)


@user_app.command("enable")
def user_enable(ctx: typer.Context, name: str) -> None:
    """Enable a disabled user again."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui.users import set_active

        database = open_db(c)
        actor = cli_actor(c, database)
        u = set_active(database, actor, name, True)
        typer.echo(_("user {n} enabled").format(n=u.name))

    guarded(go)


@user_app.command("pin")
def user_pin(ctx: typer.Context, name: str) -> None:
    """Give a user a new PIN, read from standard input or prompted for twice; lifts a login lockout."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui.users import set_pin

        database = open_db(c)
        actor = cli_actor(c, database)
        u = set_pin(database, actor, name, _read_pin(True))
        typer.echo(_("user {n} has a new PIN").format(n=u.name))

    guarded(go)


@user_app.command("role")
def user_role(ctx: typer.Context, name: str,
              role: Annotated[str, typer.Argument(help="admin, supervisor, clerk or finance")]) -> None:
    """Change a user's role (the last active admin stays admin)."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui.users import set_role

        database = open_db(c)
        actor = cli_actor(c, database)
        u = set_role(database, actor, name, role)
        typer.echo(_("user {n} now has role {r}").format(n=u.name, r=u.role))

    guarded(go)


# ------------------------------------------------------------------ imports


def _run_import(ctx: typer.Context, kind: str, file: Path, skip_bad_rows: bool, reject_file: Path | None) -> None:
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui import catalog

        database = open_db(c)
        actor = cli_actor(c, database)
        from wsms_tui import receiving

        fn = {"products": catalog.import_products, "locations": catalog.import_locations,
              "receipts": receiving.import_receipts}[kind]
        with _progress() as progress:
            report = fn(database, actor, file, skip_bad_rows=skip_bad_rows, reject_path=reject_file,
                        progress=progress)
        typer.echo(_("{file}: {c} created, {u} updated, {r} rejected").format(
            file=file.name, c=report.created, u=report.updated, r=len({e.line for e in report.errors})))
        for e in report.errors[:50]:
            typer.echo(f"  {e}", err=True)
        if report.reject_file:
            typer.echo(_("bad rows written to {f}").format(f=report.reject_file), err=True)

    guarded(go)


FileArg = Annotated[Path, typer.Argument(help="CSV (header row, UTF-8) or JSON file")]
SkipOpt = Annotated[bool, typer.Option("--skip-bad-rows", help="import the good rows; bad rows go to a reject file")]
RejectOpt = Annotated[Path | None, typer.Option("--reject-file", help="where bad rows go (default FILE.rejects.csv)")]


@import_app.command("products")
def import_products_cmd(ctx: typer.Context, file: FileArg, skip_bad_rows: SkipOpt = False,
                        reject_file: RejectOpt = None) -> None:
    """Import products: sku,name,gtin,uom,tracking,unit_cost[,category,weight_kg,volume_l,shelf_life_days]."""
    _run_import(ctx, "products", file, skip_bad_rows, reject_file)


@import_app.command("locations")
def import_locations_cmd(ctx: typer.Context, file: FileArg, skip_bad_rows: SkipOpt = False,
                         reject_file: RejectOpt = None) -> None:
    """Import locations: warehouse,code,usage,aisle,bay,level,x,y[,name,zone,barcode,capacity,allow_negative]."""
    _run_import(ctx, "locations", file, skip_bad_rows, reject_file)


@import_app.command("receipts")
def import_receipts_cmd(ctx: typer.Context, file: FileArg, skip_bad_rows: SkipOpt = False,
                        reject_file: RejectOpt = None) -> None:
    """Import expected deliveries: reference,supplier,expected_date,sku,qty[,lot,expiry] (a gtin column may
    stand in for sku; one row per line; optional warehouse, blind, tolerance_pct). JSON: receipts with a
    "lines" array."""
    _run_import(ctx, "receipts", file, skip_bad_rows, reject_file)


@receipts_app.command("list")
def receipts_list(ctx: typer.Context,
                  status: Annotated[str, typer.Option(help="active (open or receiving), open, receiving, closed, "
                                                           "cancelled")] = "active",
                  fmt: FormatOpt = Format.table) -> None:
    """List receipts."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui import receiving

        database = open_db(c)
        rows = [dataclasses.asdict(r) for r in receiving.list_receipts(database, cli_actor(c, database),
                                                                       status=status)]
        emit(rows, [("reference", _("Receipt")), ("supplier", _("Supplier")), ("warehouse", _("Wh")),
                    ("expected_date", _("Expected")), ("status", _("Status")), ("lines", _("Lines")),
                    ("expected_qty", _("Exp qty")), ("received_qty", _("Received"))], fmt, title=_("Receipts"),
             numeric=frozenset({"lines", "expected_qty", "received_qty"}))

    guarded(go)


@receipts_app.command("show")
def receipts_show(ctx: typer.Context, reference: str, fmt: FormatOpt = Format.table) -> None:
    """Show a receipt's lines: expected and received."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui import receiving

        database = open_db(c)
        view = receiving.receipt_detail(database, cli_actor(c, database), reference)
        s = view.summary
        emit([dataclasses.asdict(ln) for ln in view.lines],
             [("line_no", "#"), ("sku", "SKU"), ("name", _("Name")), ("expected_qty", _("Expected")),
              ("received_qty", _("Received")), ("lot_no", _("Lot")), ("expiry", _("Expiry"))], fmt,
             title=f"{s.reference} · {s.supplier} · {s.warehouse} · {s.status}",
             numeric=frozenset({"line_no", "expected_qty", "received_qty"}))

    guarded(go)


@receipts_app.command("close")
def receipts_close(ctx: typer.Context, reference: str, fmt: FormatOpt = Format.table) -> None:
    """Close a receipt and print its discrepancy list (lines received short or over)."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui import receiving

        database = open_db(c)
        diffs = receiving.close_receipt(database, cli_actor(c, database), reference)
        emit([dataclasses.asdict(d) | {"difference": d.difference} for d in diffs],
             [("line_no", "#"), ("sku", "SKU"), ("expected_qty", _("Expected")), ("received_qty", _("Received")),
              ("difference", _("Difference"))], fmt, title=_("{r} closed: discrepancies").format(r=reference),
             numeric=frozenset({"line_no", "expected_qty", "received_qty", "difference"}))

    guarded(go)


# ------------------------------------------------------------------ stock & ledger


@app.command()
def stock(ctx: typer.Context,
          sku: Annotated[str | None, typer.Option(help="only this SKU")] = None,
          location: Annotated[str | None, typer.Option(help="only this location code")] = None,
          lot: Annotated[str | None, typer.Option(help="only this lot or serial")] = None,
          warehouse: Annotated[str | None, typer.Option(help="only this warehouse code")] = None,
          fmt: FormatOpt = Format.table) -> None:
    """Stock on hand and reserved by product, location and lot."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui import stock as st

        database = open_db(c)
        actor = cli_actor(c, database)
        f = st.StockFilter(sku=sku, location=location, lot=lot, warehouse=warehouse)

        def rows() -> Iterator[dict[str, Any]]:
            after = None
            while True:
                page = st.stock_page(database, actor, f, limit=1000, after=after)
                for r in page:
                    yield {"sku": r.sku, "name": r.name, "warehouse": r.warehouse, "location": r.location,
                           "lot": r.lot, "expiry": r.expiry, "on_hand": r.on_hand, "reserved": r.reserved}
                if len(page) < 1000:
                    return
                after = page[-1].key()

        emit(rows(), [("sku", "SKU"), ("name", _("Name")), ("warehouse", _("Wh")), ("location", _("Location")),
                      ("lot", _("Lot")), ("expiry", _("Expiry")), ("on_hand", _("On hand")),
                      ("reserved", _("Reserved"))], fmt, title=_("Stock"),
             numeric=frozenset({"on_hand", "reserved"}))

    guarded(go)


@ledger_app.callback(invoke_without_command=True)
def ledger_list(ctx: typer.Context,
                sku: Annotated[str | None, typer.Option(help="only this SKU")] = None,
                limit: Annotated[int, typer.Option(help="newest N entries (0 = all)")] = 100,
                fmt: FormatOpt = Format.table) -> None:
    """List ledger entries, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui import stock as st

        database = open_db(c)
        actor = cli_actor(c, database)

        def rows() -> Iterator[dict[str, Any]]:
            before, left = None, limit or None
            while True:
                page = st.ledger_page(database, actor, sku=sku, limit=min(1000, left or 1000), before_id=before)
                for r in page:
                    yield dataclasses.asdict(r)
                if left is not None:
                    left -= len(page)
                if not page or len(page) < 1000 or (left is not None and left <= 0):
                    return
                before = page[-1].id

        emit(rows(), [("id", "#"), ("at", _("At")), ("kind", _("Kind")), ("sku", "SKU"), ("qty", _("Qty")),
                      ("from_location", _("From")), ("to_location", _("To")), ("lot", _("Lot")),
                      ("doc_ref", _("Doc")), ("reason", _("Reason")), ("actor", _("User")),
                      ("terminal", _("Terminal")), ("op_id", _("Op id")), ("reverses_id", _("Reverses"))],
             fmt, title=_("Ledger"), numeric=frozenset({"id", "qty"}))

    guarded(go)


@ledger_app.command("verify")
def ledger_verify(ctx: typer.Context) -> None:
    """Rebuild every quant from the ledger and compare; check the invariants. Exit 1 on any problem."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui.admin import ledger_summary
        from wsms_tui.stock import verify_ledger

        database = open_db(c)
        report = verify_ledger(database, cli_actor(c, database))
        for p in report.problems:
            typer.echo(p, err=True)
        if not report.ok:
            raise fail(_("ledger verify: {s}").format(s=ledger_summary(report)))
        typer.echo(_("ledger verify: {s}").format(s=ledger_summary(report)))

    guarded(go)


@audit_app.command("verify")
def audit_verify(ctx: typer.Context) -> None:
    """Check the audit hash chain; name every edited, inserted or deleted event. Exit 1 on any problem."""
    c = _ctx(ctx)

    def go() -> None:
        from wsms_tui.admin import audit_summary, verify_audit

        database = open_db(c)
        report = verify_audit(database, cli_actor(c, database))
        for p in report.problems:
            typer.echo(p, err=True)
        if not report.ok:
            raise fail(_("audit verify: {s}").format(s=audit_summary(report)))
        typer.echo(_("audit verify: {s}").format(s=audit_summary(report)))

    guarded(go)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
