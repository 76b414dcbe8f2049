"""The TUI's key table and desk list, as plain data (no Textual import).

The App turns ``KEYS`` into Textual ``Binding``s; the CLI and docs may list them without loading
Textual. Every key has a stable binding id, so ``[keys]`` in the config file (``Settings.keys``:
binding id -> comma-separated keys) remaps it through ``App.set_keymap``. Desk keys are function
keys on purpose: printable keys belong to the scan field (a scan must never trigger a binding).
``desk_keys(name)`` are the keys a desk binds on its own screen (Ctrl+Z undo on Receiving …).
"""

from __future__ import annotations

from dataclasses import dataclass

from wsms_tui.errors import BadInput
from wsms_tui.i18n import _


@dataclass(frozen=True)
class Desk:
    """A desk of the TUI: its name (``wsms run --desk NAME``), F-key and whether it is built yet."""

    name: str
    key: str
    built: bool

    @property
    def binding_id(self) -> str:
        return f"desk.{self.name}"

    @property
    def title(self) -> str:
        return desk_titles()[self.name]

    @property
    def description(self) -> str:
        return desk_descriptions()[self.name]


@dataclass(frozen=True)
class KeySpec:
    """One app-wide key binding: stable id, default key(s), the App action it runs."""

    id: str
    key: str
    action: str
    description: str


DESKS: tuple[Desk, ...] = (
    Desk("stock", "f2", True),
    Desk("receiving", "f3", True),
    Desk("orders", "f4", True),
    Desk("packing", "f5", True),
    Desk("waves", "f6", True),
    Desk("stocktake", "f7", True),
    Desk("reports", "f8", True),
    Desk("admin", "f9", True),
)

#: other names accepted for ``--desk``
DESK_ALIASES = {"picking": "waves", "wave": "waves", "count": "stocktake", "report": "reports"}


def desk_titles() -> dict[str, str]:
    return {
        "stock": _("Stock"),
        "receiving": _("Receiving"),
        "orders": _("Orders"),
        "packing": _("Packing"),
        "waves": _("Waves/Picking"),
        "stocktake": _("Stocktake"),
        "reports": _("Reports"),
        "admin": _("Admin"),
    }


def desk_descriptions() -> dict[str, str]:
    return {
        "stock": _("look up stock by SKU, GTIN, GS1, lot or location"),
        "receiving": _("receive deliveries, lots and expiry, put away"),
        "orders": _("order queue, allocation, exceptions"),
        "packing": _("verify by scan, pack, ship"),
        "waves": _("plan waves, pick by scan"),
        "stocktake": _("count, recount, approve"),
        "reports": _("turnover, ABC, fulfilment, forecast"),
        "admin": _("users, devices, settings"),
    }


def keys() -> tuple[KeySpec, ...]:
    """The app-wide bindings, in the order help lists them."""
    return (
        KeySpec("help", "f1", "help", _("Help: the keys")),
        *(KeySpec(d.binding_id, d.key, f"desk('{d.name}')", d.title) for d in DESKS),
        KeySpec("menu", "f10", "desk('menu')", _("Desk menu")),
        KeySpec("print_queue", "f11", "print_queue", _("Print queue (reprint, held labels)")),
        KeySpec("logout", "f12", "logout", _("Log out: the next user logs in here")),
        KeySpec("quit", "ctrl+q", "quit", _("Quit")),
    )


def desk_keys(desk: str | None) -> tuple[KeySpec, ...]:
    """The keys one desk binds on its own screen (F1 lists them there); their ids remap like the app's.

    The action is the screen's (``action_undo`` …). Never printable keys: those belong to the scan field
    (``u`` for undo is a scan the receiving flow understands)."""
    if desk == "receiving":
        return (
            KeySpec("receiving.undo", "ctrl+z", "undo", _("undo the last line (or scan u)")),
            KeySpec("receiving.close", "ctrl+d", "close_receipt", _("close the receipt (press twice)")),
            KeySpec("receiving.cancel", "escape", "cancel_line", _("cancel the line being scanned")),
            KeySpec("receiving.print_product", "ctrl+l", "print_product",
                    _("label of the line just received (%CMD:PRINT)")),
            KeySpec("receiving.print_location", "ctrl+o", "print_location",
                    _("location label (then scan the location)")),
            KeySpec("receiving.print_lpn", "ctrl+n", "print_lpn", _("LPN/pallet label with a new SSCC")),
        )
    if desk == "waves":
        return (
            KeySpec("waves.short", "ctrl+e", "short", _("short pick: the rest is not there (or scan %CMD:SHORT)")),
            KeySpec("waves.skip", "ctrl+k", "skip", _("skip this pick, come back later (or scan %CMD:SKIP)")),
            KeySpec("waves.replenish", "ctrl+r", "replenish", _("replenishment tasks (or scan %CMD:REPLEN)")),
            KeySpec("waves.waves", "ctrl+w", "waves", _("Waves: plan, release, show")),
            KeySpec("waves.back", "escape", "back", _("back: leave the tour or replenishment")),
            KeySpec("waves.plan", "ctrl+n", "plan", _("Waves: plan a wave of released orders")),
            KeySpec("waves.release", "ctrl+l", "release", _("Waves: release the highlighted wave (twice)")),
            KeySpec("waves.close", "escape", "close", _("Waves: back to picking")),
        )
    if desk == "stocktake":
        return (
            KeySpec("stocktake.empty", "ctrl+e", "location_empty", _("the location is empty (or scan EMPTY)")),
            KeySpec("stocktake.done", "ctrl+d", "location_done", _("done with this location (or scan DONE)")),
            KeySpec("stocktake.undo", "ctrl+z", "undo", _("take the last scan back (or scan UNDO)")),
            KeySpec("stocktake.back", "escape", "back", _("back: drop the item, leave the location")),
            KeySpec("stocktake.review", "ctrl+r", "review", _("review and approve the count (supervisor)")),
            KeySpec("stocktake.approve", "ctrl+a", "approve", _("review: approve all counted (press twice)")),
            KeySpec("stocktake.reject", "ctrl+x", "reject", _("review: reject the highlighted location")),
            KeySpec("stocktake.review_close", "escape", "close_review", _("review: back to the desk")),
        )
    if desk == "orders":
        return (
            KeySpec("orders.allocate", "ctrl+a", "allocate", _("allocate the highlighted order")),
            KeySpec("orders.cancel", "ctrl+x", "cancel_order", _("cancel the order, with a reason")),
            KeySpec("orders.status", "ctrl+t", "next_status", _("filter: the next status")),
            KeySpec("orders.exceptions", "ctrl+e", "exceptions", _("the exception tickets")),
            KeySpec("orders.back", "escape", "back", _("back to the list; clear the filter")),
        )
    if desk == "exceptions":
        return (
            KeySpec("exceptions.fix_address", "ctrl+o", "fix_address", _("fix the address (field=value; …)")),
            KeySpec("exceptions.cancel_line", "ctrl+l", "cancel_line", _("cancel a line (line reason)")),
            KeySpec("exceptions.substitute", "ctrl+u", "substitute", _("substitute (line SKU [qty])")),
            KeySpec("exceptions.wait", "ctrl+w", "wait", _("wait for stock")),
            KeySpec("exceptions.release", "ctrl+r", "release", _("release the hold / import again")),
            KeySpec("exceptions.assign", "ctrl+a", "assign", _("assign to a user")),
            KeySpec("exceptions.note", "ctrl+n", "note", _("add a note")),
            KeySpec("exceptions.close", "ctrl+k", "close_ticket", _("close the ticket")),
            KeySpec("exceptions.back", "escape", "back", _("back to the orders")),
        )
    if desk == "packing":
        return (
            KeySpec("packing.close_box", "ctrl+d", "close_box", _("close the box (or scan DONE)")),
            KeySpec("packing.ship", "ctrl+f", "ship", _("ship what is packed (twice: partial)")),
            KeySpec("packing.undo", "ctrl+z", "undo", _("take the last unit out (UNDO)")),
            KeySpec("packing.reprint", "ctrl+r", "reprint", _("reprint a box label, with a reason")),
            KeySpec("packing.void", "ctrl+x", "void", _("void the last booked box (twice, then a reason)")),
            KeySpec("packing.cancel", "escape", "cancel", _("empty the box / leave the order")),
        )
    if desk == "reports":
        return (
            KeySpec("reports.next", "ctrl+n", "next_report", _("next report")),
            KeySpec("reports.prev", "ctrl+b", "prev_report", _("previous report")),
            KeySpec("reports.warehouse", "ctrl+w", "next_warehouse", _("next warehouse (or all)")),
            KeySpec("reports.period", "ctrl+t", "next_period", _("period: default, 30, 90, 365 days")),
            KeySpec("reports.sort", "ctrl+s", "sort", _("sort by the next column")),
            KeySpec("reports.reverse", "ctrl+r", "reverse", _("reverse the sort")),
            KeySpec("reports.chart", "ctrl+g", "chart", _("chart on/off")),
        )
    if desk == "admin":
        return (
            KeySpec("admin.view", "ctrl+n", "next_view", _("next view: users, devices, checks")),
            KeySpec("admin.add", "ctrl+a", "add_user", _("users: add a user (name, role, PIN)")),
            KeySpec("admin.toggle", "ctrl+x", "toggle_user", _("users: disable / enable the highlighted one (twice)")),
            KeySpec("admin.pin", "ctrl+k", "set_pin", _("users: a new PIN for the highlighted user")),
            KeySpec("admin.role", "ctrl+r", "set_role", _("users: change the highlighted user's role")),
            KeySpec("admin.refresh", "ctrl+t", "refresh", _("devices: ask the printers; checks: run again")),
        )
    return ()


def print_keys() -> tuple[KeySpec, ...]:
    """The keys of the print dialog and of the print queue screen (ids remap like the others)."""
    return (
        KeySpec("print.confirm", "f12", "confirm", _("print dialog: print (Enter does too)")),
        KeySpec("print.cancel", "escape", "cancel", _("print dialog: do not print")),
        KeySpec("print_queue.reprint", "ctrl+r", "reprint", _("print again, with a reason")),
        KeySpec("print_queue.mark_printed", "ctrl+y", "mark_printed", _("a held label did print: close it")),
        KeySpec("print_queue.cancel", "ctrl+x", "cancel_job", _("cancel a queued or held job")),
        KeySpec("print_queue.close", "escape", "close", _("back to the desk")),
    )


def all_desk_keys() -> tuple[KeySpec, ...]:
    """Every desk's own keys (and the print screens'), for the keymap display."""
    return (*(spec for desk in DESKS for spec in desk_keys(desk.name)), *desk_keys("exceptions"), *print_keys())


def desk_by_name(name: str) -> Desk:
    """The desk called ``name`` (case-insensitive, aliases allowed); ``BadInput`` names the choices."""
    key = name.strip().lower()
    key = DESK_ALIASES.get(key, key)
    for desk in DESKS:
        if desk.name == key:
            return desk
    raise BadInput(_("there is no desk {name!r}; choose one of: {names}").format(
        name=name, names=", ".join(d.name for d in DESKS)))


def key_label(keys: str) -> str:
    """How key names read on screen: ``f2`` -> ``F2``, ``ctrl+q`` -> ``Ctrl+Q``, ``f2,ctrl+s`` -> ``F2/Ctrl+S``."""
    labels = []
    for key in keys.split(","):
        parts = [p for p in key.strip().split("+") if p]
        labels.append("+".join(p.capitalize() if len(p) > 1 else p.upper() for p in parts))
    return "/".join(labels)
