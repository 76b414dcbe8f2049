"""ZPL label templates: product/lot (GS1-128 + GS1 DataMatrix), location (with check character),
LPN/pallet (SSCC, AI 00), shipping (a skeleton), and a test label; plus a text preview.

Every label is ZPL text for a Zebra (or compatible) printer:

* ``^CI28``: field data is UTF-8, so Chinese product names print (with a CJK font on the printer:
  ``cjk_font``, default ``E:ANMDS.TTF``; a printer without it prints boxes, not garbage bytes).
* ``^FH``: human-readable fields are hex-escaped, so ``^`` and ``~`` (and ``_``, the escape
  indicator) in names or addresses cannot end a field or start a command.
* GS1-128 is ``^BC`` in mode N with explicit start/subset codes: ``>;`` start C, ``>8`` FNC1
  (first position: the GS1 flag; later: the separator after a variable-length field), ``>6`` /
  ``>5`` to switch to subset B / back to C. GS1 DataMatrix is ``^BX`` quality 200 with the escape
  character `` ` `` (it is in no GS1 character set): `` `1 `` is FNC1.
* 203 and 300 dpi: templates are written in 203-dpi dots as ``{d:NN}``; each is scaled to the
  printer's resolution when the label is made (module widths included).

User templates: a file ``NAME.zpl`` in the ``labels`` folder next to ``config.toml`` (for example
``~/.config/wsms/labels/product.zpl``; ``$WSMS_LABELS_DIR`` overrides the folder) replaces the
built-in template ``NAME``. It is Python ``str.format`` text: ``{d:50}`` is 50 dots at 203 dpi
(scaled), ``{field}`` is a value, already escaped for its place. ``template_fields(NAME)`` lists
the fields; ``wsms`` refuses a template that names an unknown field. Literal braces are ``{{ }}``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Formatter
from typing import Any

from wsms_tui.barcodes import GS, is_valid_gtin, is_valid_sscc, location_barcode
from wsms_tui.errors import BadInput

DM_ESCAPE = "`"
DEFAULT_CJK_FONT = "E:ANMDS.TTF"
SUPPORTED_DPI = (203, 300)


class LabelError(BadInput):
    """A label cannot be made from these values (the message says which and why)."""


# ------------------------------------------------------------------ escaping and barcode data


def fh_escape(text: str) -> str:
    """Escape a value for a ``^FH`` field (indicator ``_``): ``_ ^ ~`` become ``_5F _5E _7E``;
    control characters are dropped. UTF-8 text passes through (``^CI28``)."""
    out = []
    for ch in text:
        if ch == "_":
            out.append("_5F")
        elif ch == "^":
            out.append("_5E")
        elif ch == "~":
            out.append("_7E")
        elif ch.isprintable():
            out.append(ch)
    return "".join(out)


GS1_CHARSET_82 = set("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")


def _separator_required(ai: str) -> bool:
    from biip.gs1_application_identifiers import GS1ApplicationIdentifier

    try:
        return bool(GS1ApplicationIdentifier.extract(ai).separator_required)
    except Exception:  # unknown AI: be safe, separate it
        return True


def gs1_elements(**values: Any) -> list[tuple[str, str]]:
    """The element strings of a product/lot label, in GS1's recommended order (fixed-length first):
    (01) GTIN, (17) expiry, (10) lot, (21) serial, (37) count. Validates every value."""
    out: list[tuple[str, str]] = []
    gtin = values.get("gtin")
    if gtin:
        if not is_valid_gtin(gtin):
            raise LabelError(f"GTIN {gtin!r} is not valid (8, 12, 13 or 14 digits with a correct check digit)")
        out.append(("01", gtin.zfill(14)))
    expiry = values.get("expiry")
    if expiry:
        out.append(("17", expiry.strftime("%y%m%d") if isinstance(expiry, date) else str(expiry)))
    for ai, key, limit in (("10", "lot", 20), ("21", "serial", 20)):
        v = values.get(key)
        if v:
            bad = sorted({c for c in str(v) if c not in GS1_CHARSET_82})
            if bad or len(str(v)) > limit:
                raise LabelError(f"{key} {v!r} cannot go in a GS1 barcode: at most {limit} characters of "
                                 f"A-Z a-z 0-9 and !\"%&'()*+,-./:;<=>?_" + (f" (not {''.join(bad)!r})" if bad else ""))
            out.append((ai, str(v)))
    count = values.get("count")
    if count is not None:
        if not (isinstance(count, int) and 0 < count < 10**8):
            raise LabelError(f"count {count!r} must be a whole number from 1 to 99999999")
        out.append(("37", str(count)))
    return out


def element_string(elements: list[tuple[str, str]]) -> str:
    """What a scanner transmits (without the AIM id): AIs and values, GS after variable-length fields."""
    parts: list[str] = []
    for i, (ai, value) in enumerate(elements):
        parts.append(ai + value)
        if i < len(elements) - 1 and _separator_required(ai):
            parts.append(GS)
    return "".join(parts)


def hri(elements: list[tuple[str, str]]) -> str:
    return "".join(f"({ai}){value}" for ai, value in elements)


_BC_SPECIAL = {">": ">0", "^": "><", "~": ">="}  # ^BC invocation codes for characters ZPL reserves


def code128_data(text: str, *, gs1: bool) -> str:
    """``^BC`` field data with explicit subsets: digit pairs in subset C, the rest in B, GS as FNC1
    (``>8``). ``gs1=True`` starts with FNC1 (GS1-128)."""
    toks = list(text)
    n = len(toks)

    def digits_from(i: int) -> int:
        j = i
        while j < n and toks[j].isdigit():
            j += 1
        return j - i

    out: list[str] = []
    mode = "C" if digits_from(0) >= 2 and (digits_from(0) % 2 == 0 or digits_from(0) >= 4) else "B"
    if digits_from(0) % 2 and mode == "C":
        mode = "B"  # an odd run: its first digit in B, then C
    out.append(">;" if mode == "C" else ">:")
    if gs1:
        out.append(">8")
    i = 0
    while i < n:
        ch = toks[i]
        if ch == GS:
            out.append(">8")
            i += 1
            continue
        run = digits_from(i)
        if mode == "C":
            if run >= 2:
                out.append(ch + toks[i + 1])
                i += 2
                continue
            out.append(">6")
            mode = "B"
        if run >= 4 and run % 2 == 0:
            out.append(">5")
            mode = "C"
            continue
        if ch in _BC_SPECIAL:
            out.append(_BC_SPECIAL[ch])
        elif not (" " <= ch <= "\x7e"):
            raise LabelError(f"character {ch!r} cannot be printed in this barcode")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def datamatrix_gs1_data(elements: list[tuple[str, str]]) -> str:
    """``^BX`` field data for GS1 DataMatrix: FNC1 first, FNC1 as separator (escape `` ` ``)."""
    return DM_ESCAPE + "1" + element_string(elements).replace(GS, DM_ESCAPE + "1")


# ------------------------------------------------------------------ templates


class _Dots:
    """``{d:NN}`` in a template: NN dots at 203 dpi, scaled to the label's resolution."""

    def __init__(self, dpi: int) -> None:
        self.scale = dpi / 203

    def __format__(self, spec: str) -> str:
        try:
            return str(max(1, round(float(spec) * self.scale)))
        except ValueError:
            raise LabelError(f"{{d:{spec}}}: a dot size is a number") from None


_HEADER = "^XA^CI28^PW{d:812}^LL{label_length}^LH0,0\n"
BUILTIN: dict[str, str] = {
    "product": _HEADER + (
        "^FO{d:30},{d:20}^A@N,{d:40},{d:40},{font}^FH^FD{name}^FS\n"
        "^FO{d:30},{d:70}^A0N,{d:28},{d:28}^FH^FDSKU {sku}^FS\n"
        "^FO{d:30},{d:105}^A0N,{d:24},{d:24}^FH^FD{details}^FS\n"
        "^FO{d:30},{d:165}^BY{d:2}^BCN,{d:90},N,N,N^FD{gs1_128}^FS\n"
        "^FO{d:30},{d:265}^A0N,{d:22},{d:22}^FH^FD{gs1_hri}^FS\n"
        "^FO{d:640},{d:15}^BXN,{d:5},200,,,,`^FD{gs1_datamatrix}^FS\n"
        "^PQ{copies}^XZ\n"),
    "location": _HEADER + (
        "^FO{d:30},{d:20}^A0N,{d:90},{d:80}^FH^FD{code}^FS\n"
        "^FO{d:30},{d:120}^BY{d:3}^BCN,{d:120},N,N,N^FD{barcode}^FS\n"
        "^FO{d:30},{d:255}^A0N,{d:28},{d:28}^FH^FD{caption}^FS\n"
        "^PQ{copies}^XZ\n"),
    "lpn": _HEADER + (
        "^FO{d:30},{d:30}^A0N,{d:40},{d:40}^FH^FDSSCC^FS\n"
        "^FO{d:30},{d:80}^A0N,{d:50},{d:45}^FH^FD{sscc_hri}^FS\n"
        "^FO{d:30},{d:160}^A@N,{d:36},{d:36},{font}^FH^FD{contents}^FS\n"
        "^FO{d:30},{d:220}^A0N,{d:28},{d:28}^FH^FD{reference}^FS\n"
        "^FO{d:60},{d:300}^BY{d:3}^BCN,{d:200},N,N,N^FD{gs1_128}^FS\n"
        "^FO{d:60},{d:510}^A0N,{d:30},{d:30}^FH^FD{gs1_hri}^FS\n"
        "^PQ{copies}^XZ\n"),
    "shipping": _HEADER + (
        "^FO{d:30},{d:30}^A@N,{d:28},{d:28},{font}^FH^FDFROM: {ship_from}^FS\n"
        "^FO{d:30},{d:90}^A@N,{d:40},{d:40},{font}^FH^FDTO: {ship_to}^FS\n"
        "^FO{d:30},{d:150}^A@N,{d:34},{d:34},{font}^FH^FD{address}^FS\n"
        "^FO{d:30},{d:210}^A@N,{d:30},{d:30},{font}^FH^FDORDER {order}  BOX {box}  {weight}^FS\n"
        "^FO{d:30},{d:260}^A0N,{d:34},{d:34}^FH^FD{carrier} {tracking}^FS\n"
        "^FO{d:60},{d:320}^BY{d:3}^BCN,{d:160},N,N,N^FD{tracking_barcode}^FS\n"
        "^FO{d:60},{d:560}^BY{d:3}^BCN,{d:200},N,N,N^FD{gs1_128}^FS\n"
        "^FO{d:60},{d:770}^A0N,{d:30},{d:30}^FH^FD{gs1_hri}^FS\n"
        "^PQ{copies}^XZ\n"),
    "test": _HEADER + (
        "^FO{d:30},{d:30}^A0N,{d:50},{d:50}^FH^FDwsms test label^FS\n"
        "^FO{d:30},{d:100}^A@N,{d:36},{d:36},{font}^FH^FD{printer} {dpi} dpi^FS\n"
        "^FO{d:30},{d:150}^GB{d:750},{d:4},{d:4}^FS\n"
        "^FO{d:30},{d:180}^BY{d:2}^BCN,{d:100},N,N,N^FD{gs1_128}^FS\n"
        "^FO{d:30},{d:300}^A0N,{d:24},{d:24}^FH^FD{gs1_hri}^FS\n"
        "^PQ1^XZ\n"),
}
LABEL_LENGTH = {"product": 304, "location": 304, "lpn": 609, "shipping": 1218, "test": 406}  # dots at 203


def labels_dir() -> Path:
    """The user template folder: ``$WSMS_LABELS_DIR``, else ``labels/`` beside ``config.toml``."""
    env = os.environ.get("WSMS_LABELS_DIR")
    if env:
        return Path(env).expanduser()
    from wsms_tui.config import config_file

    return config_file().parent / "labels"


def template_text(name: str, folder: Path | None = None) -> tuple[str, str]:
    """``(text, origin)``: the user's ``NAME.zpl`` if there is one, else the built-in template."""
    if not re.fullmatch(r"[a-z0-9_-]+", name):
        raise LabelError(f"label template names are lower-case letters, digits, - and _: {name!r}")
    path = (folder or labels_dir()) / f"{name}.zpl"
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise LabelError(f"cannot read label template {path}: {exc}") from None
    if name not in BUILTIN:
        raise LabelError(f"no label template {name!r} (built in: {', '.join(sorted(BUILTIN))}; or add {path})")
    return BUILTIN[name], "built-in"


def template_fields(name: str, folder: Path | None = None) -> list[str]:
    text, _ = template_text(name, folder)
    return sorted({f for _, f, _, _ in Formatter().parse(text) if f and f != "d"})


@dataclass(frozen=True)
class LabelBarcode:
    kind: str  # "gs1-128", "gs1-datamatrix", "code128"
    data: str  # what a scanner transmits (GS as separator, no AIM id)
    hri: str


@dataclass(frozen=True)
class Label:
    name: str
    dpi: int
    zpl: str
    barcodes: tuple[LabelBarcode, ...]
    template: str  # "built-in" or the user file's path
    serialized: bool = False  # SSCC / serial numbers: never reprinted without a person's decision

    @property
    def payload(self) -> bytes:
        return self.zpl.encode("utf-8")

    def preview(self) -> str:
        return preview_zpl(self.zpl)


def render(name: str, fields: dict[str, Any], *, dpi: int = 203, barcodes: tuple[LabelBarcode, ...] = (),
           folder: Path | None = None, serialized: bool = False) -> Label:
    """Fill template ``name`` (the user's or the built-in) with ``fields`` at ``dpi``."""
    if dpi not in SUPPORTED_DPI:
        raise LabelError(f"labels are made for 203 or 300 dpi printers, not {dpi}")
    text, origin = template_text(name, folder)
    values = {"copies": 1, "font": DEFAULT_CJK_FONT, **fields}
    values["label_length"] = round(LABEL_LENGTH.get(name, 1218) * dpi / 203)
    try:
        zpl = text.format(d=_Dots(dpi), **values)
    except KeyError as exc:
        raise LabelError(f"label template {origin} uses an unknown field {exc}; known: "
                         f"{', '.join(sorted(values))}") from None
    except (ValueError, IndexError) as exc:
        raise LabelError(f"label template {origin} is not valid: {exc}") from None
    if "^XA" not in zpl or not zpl.rstrip().endswith("^XZ"):
        raise LabelError(f"label template {origin} must be one ^XA…^XZ format")
    return Label(name, dpi, zpl, barcodes, origin, serialized)


def _text(v: object) -> str:
    return fh_escape("" if v is None else str(v))


def product_label(*, sku: str, name: str, gtin: str | None = None, lot: str | None = None,
                  expiry: date | None = None, serial: str | None = None, count: int | None = None,
                  dpi: int = 203, copies: int = 1, font: str = DEFAULT_CJK_FONT,
                  folder: Path | None = None) -> Label:
    """A product / lot label: name, SKU, GS1-128 and GS1 DataMatrix with (01)(17)(10)(21)(37)."""
    if not gtin:
        raise LabelError("a product label needs the product's GTIN for its GS1 barcodes")
    elements = gs1_elements(gtin=gtin, expiry=expiry, lot=lot, serial=serial, count=count)
    data = element_string(elements)
    human = hri(elements)
    details = "  ".join(x for x in (f"LOT {lot}" if lot else "", f"EXP {expiry.isoformat()}" if expiry else "",
                                     f"SN {serial}" if serial else "", f"QTY {count}" if count else "") if x)
    codes = (LabelBarcode("gs1-128", data, human), LabelBarcode("gs1-datamatrix", data, human))
    return render("product", {"name": _text(name), "sku": _text(sku), "details": _text(details),
                              "gs1_128": code128_data(data, gs1=True), "gs1_hri": _text(human),
                              "gs1_datamatrix": datamatrix_gs1_data(elements), "copies": int(copies),
                              "font": font}, dpi=dpi, barcodes=codes, folder=folder, serialized=bool(serial))


def location_label(code: str, *, caption: str = "", dpi: int = 203, copies: int = 1,
                   folder: Path | None = None) -> Label:
    """A location label: the code large, a Code 128 of ``%LOC:CODE:C`` (check character)."""
    if not code or not all(" " < c <= "~" and c not in "^~:" for c in code):
        raise LabelError(f"location code {code!r}: printable ASCII without spaces, ^, ~ or ':'")
    barcode = location_barcode(code)
    return render("location", {"code": _text(code), "barcode": code128_data(barcode, gs1=False),
                               "caption": _text(caption or barcode), "copies": int(copies)},
                  dpi=dpi, barcodes=(LabelBarcode("code128", barcode, barcode),), folder=folder)


def lpn_label(sscc: str, *, contents: str = "", reference: str = "", dpi: int = 203, copies: int = 1,
              font: str = DEFAULT_CJK_FONT, folder: Path | None = None) -> Label:
    """An LPN / pallet label: GS1-128 with (00) SSCC. Serialized: never reprinted automatically."""
    if not is_valid_sscc(sscc):
        raise LabelError(f"SSCC {sscc!r} is not valid (18 digits with a correct check digit)")
    elements = [("00", sscc)]
    data = element_string(elements)
    return render("lpn", {"sscc_hri": _text(f"(00) {sscc}"), "contents": _text(contents),
                          "reference": _text(reference), "gs1_128": code128_data(data, gs1=True),
                          "gs1_hri": _text(hri(elements)), "copies": int(copies), "font": font},
                  dpi=dpi, barcodes=(LabelBarcode("gs1-128", data, hri(elements)),), folder=folder,
                  serialized=True)


def shipping_label(*, sscc: str, ship_from: str, ship_to: str, address: str, carrier: str = "",
                   tracking: str = "", order: str = "", box: str = "", weight: str = "", dpi: int = 203,
                   font: str = DEFAULT_CJK_FONT, folder: Path | None = None) -> Label:
    """A box's shipping label: sender, ship-to and address, order, box n/m and weight, carrier and service,
    the tracking number as Code 128 and the SSCC as GS1-128 (AI 00). Serialized: never reprinted unasked."""
    if not is_valid_sscc(sscc):
        raise LabelError(f"SSCC {sscc!r} is not valid (18 digits with a correct check digit)")
    elements = [("00", sscc)]
    data = element_string(elements)
    codes = [LabelBarcode("gs1-128", data, hri(elements))]
    if tracking:
        codes.append(LabelBarcode("code128", tracking, tracking))
    return render("shipping", {"ship_from": _text(ship_from), "ship_to": _text(ship_to),
                               "address": _text(address), "carrier": _text(carrier), "tracking": _text(tracking),
                               "order": _text(order), "box": _text(box), "weight": _text(weight),
                               "tracking_barcode": code128_data(tracking or "-", gs1=False),
                               "gs1_128": code128_data(data, gs1=True), "gs1_hri": _text(hri(elements)),
                               "font": font}, dpi=dpi, barcodes=tuple(codes), folder=folder, serialized=True)


def test_label(printer: str = "", *, dpi: int = 203, folder: Path | None = None) -> Label:
    """What ``wsms print test`` sends: a caption, a rule and a GS1-128 to scan back."""
    elements = [("01", "09506000134352"), ("10", "TEST")]
    data = element_string(elements)
    return render("test", {"printer": _text(printer), "dpi": dpi, "gs1_128": code128_data(data, gs1=True),
                           "gs1_hri": _text(hri(elements))},
                  dpi=dpi, barcodes=(LabelBarcode("gs1-128", data, hri(elements)),), folder=folder)


# ------------------------------------------------------------------ preview


_CMD = re.compile(r"([\^~])([A-Z@][A-Z0-9@]?)([^\^~]*)", re.S)


def _unhex(data: str, indicator: str = "_") -> str:
    raw = bytearray()
    i = 0
    b = data.encode("utf-8")
    ind = indicator.encode()
    while i < len(b):
        if b[i:i + 1] == ind and i + 2 < len(b) + 0 and re.fullmatch(rb"[0-9A-Fa-f]{2}", b[i + 1:i + 3]):
            raw.append(int(b[i + 1:i + 3], 16))
            i += 3
        else:
            raw.append(b[i])
            i += 1
    return raw.decode("utf-8", "replace")


def _bc_text(data: str) -> str:
    """Undo ``^BC`` invocation codes: ``>8`` FNC1 (shown as GS), ``><`` '>', subset switches gone."""
    out: list[str] = []
    i = 0
    while i < len(data):
        if data[i] == ">" and i + 1 < len(data):
            code = data[i + 1]
            if code == "8":
                out.append(GS)
            elif code == "0":
                out.append(">")
            elif code == "<":
                out.append("^")
            elif code == "=":
                out.append("~")
            i += 2
            continue
        out.append(data[i])
        i += 1
    return "".join(out)


def _show_gs1(data: str) -> str:
    text = data[1:] if data.startswith(GS) else data
    try:
        from biip import ParseConfig
        from biip.gs1_messages import GS1Message

        return GS1Message.parse(text, config=ParseConfig(separator_chars=[GS])).as_hri()
    except Exception:  # not GS1 after all: show it plainly
        return text.replace(GS, "<GS>")


def preview_zpl(zpl: str) -> str:
    """What a ZPL label says, as text lines in reading order (top to bottom, left to right):
    text fields as they print, barcodes as ``[GS1-128] (01)…(10)…``. For the desk's preview pane."""
    items: list[tuple[int, int, str]] = []
    x = y = 0
    kind: str | None = None
    hexed = False
    dm_escape = "~"
    gs1_bc = False
    for m in _CMD.finditer(zpl):
        cmd, args = m.group(2), m.group(3)
        if cmd == "FO" or cmd == "FT":
            parts = args.split(",")
            try:
                x, y = int(parts[0] or 0), int(parts[1] or 0) if len(parts) > 1 else 0
            except ValueError:
                x = y = 0
        elif cmd[0] == "A":
            kind = kind or "text"
        elif cmd == "BC":
            kind = "code128"
        elif cmd == "BX":
            kind = "datamatrix"
            parts = args.split(",")
            dm_escape = parts[6] if len(parts) > 6 and parts[6] else "~"
        elif cmd == "BQ":
            kind = "qr"
        elif cmd == "FH":
            hexed = True
        elif cmd == "FD":
            data = _unhex(args, "_") if hexed else args
            if kind == "code128":
                gs1_bc = data.startswith(">;>8") or data.startswith(">:>8")
                text = _bc_text(data)
                shown = f"[GS1-128] {_show_gs1(text)}" if gs1_bc else f"[Code 128] {text.replace(GS, '<GS>')}"
            elif kind == "datamatrix":
                fnc1 = dm_escape + "1"
                if data.startswith(fnc1):
                    shown = f"[GS1 DataMatrix] {_show_gs1(data[len(fnc1):].replace(fnc1, GS))}"
                else:
                    shown = f"[DataMatrix] {data}"
            elif kind == "qr":
                shown = f"[QR] {data}"
            else:
                shown = data
            items.append((y, x, shown))
        elif cmd == "FS":
            kind, hexed = None, False
    return "\n".join(text for _, _, text in sorted(items, key=lambda t: (t[0], t[1])))
