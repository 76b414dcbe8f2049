"""Barcode helpers: GTIN check digits and normalisation, GS1 element strings via biip.

A scanner's text is interpreted here (never in devices/): a plain GTIN/EAN/UPC, a GS1 element
string carrying GTIN + lot + expiry + count, or an internal code (SKU, location, lot).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

GS = "\x1d"


def printable(text: str) -> str:
    """Drop control characters (keeping GS, the GS1 separator): what a lookup may compare."""
    return "".join(c for c in text if c == GS or (c.isprintable() and c != "\x7f"))


def gs1_check_digit(body: str) -> int:
    """GS1 mod-10 check digit for the digits of ``body`` (without the check digit)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def is_valid_gtin(code: str) -> bool:
    return code.isdigit() and len(code) in (8, 12, 13, 14) and gs1_check_digit(code[:-1]) == int(code[-1])


def normalize_gtin(code: str) -> str | None:
    """A valid GTIN-8/12/13/14 as 14 digits, or None when it is not one."""
    code = code.strip()
    return code.zfill(14) if is_valid_gtin(code) else None


@dataclass(frozen=True)
class Gs1Data:
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    count: int | None = None
    sscc: str | None = None


def parse_gs1(text: str) -> Gs1Data | None:
    """Parse a GS1 element string (with FNC1 as GS, or parenthesised AIs); None if it is not one."""
    from biip import ParseConfig, parse  # local: biip is only needed when a scan looks like GS1
    from biip.gs1_messages import GS1Message

    raw = text.strip()
    if not raw or not (raw.startswith("(") or raw.startswith("]") or (raw[:2].isdigit() and len(raw) > 14)):
        return None
    try:
        if raw.startswith("("):
            msg = GS1Message.parse_hri(raw)
        else:
            msg = parse(raw, config=ParseConfig(separator_chars=[GS])).gs1_message
    except Exception:  # biip raises ParseError subclasses and ValueError on malformed data
        return None
    if msg is None:
        return None
    values: dict[str, object] = {}
    for es in msg.element_strings:
        ai = es.ai.ai
        if ai in ("01", "02") and es.gtin is not None:  # 02: GTIN of the trade items contained (with 37)
            values.setdefault("gtin", es.gtin.value.zfill(14))
        elif ai == "00" and es.sscc is not None:
            values["sscc"] = es.sscc.value
        elif ai == "10":
            values["lot"] = es.value
        elif ai == "21":
            values["serial"] = es.value
        elif ai == "17" and es.date is not None:
            values["expiry"] = es.date
        elif ai in ("30", "37"):
            values["count"] = int(es.value)
    return Gs1Data(**values) if values else None  # type: ignore[arg-type]


# ------------------------------------------------------------------ check digits for our own codes

ALNUM36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def location_check_digit(code: str) -> str:
    """The check character of a location code: ISO/IEC 7064 MOD 37,36 (hybrid system) over the
    code's letters and digits, upper-cased; separators (``-``, ``.``, ``/``, spaces …) are ignored.

    It catches every single wrong character and every swap of two adjacent characters. The result is
    one of ``0-9A-Z``. Raises ``ValueError`` when the code has no letter or digit at all."""
    chars = [c for c in code.upper() if c in ALNUM36]
    if not chars:
        raise ValueError("a location code needs at least one letter or digit")
    m = 36
    p = m
    for c in chars:
        s = (p + ALNUM36.index(c)) % m or m
        p = (s * 2) % (m + 1)
    return ALNUM36[(m + 1 - p) % m]


LOCATION_PREFIX = "%LOC:"
"""A location barcode reads ``%LOC:<code>:<check>``, e.g. ``%LOC:A-01-02:K``."""


def location_barcode(code: str) -> str:
    """What a location label's barcode carries: ``%LOC:`` + code + ``:`` + check character."""
    return f"{LOCATION_PREFIX}{code}:{location_check_digit(code)}"


def verify_location_code(text: str) -> tuple[str | None, str | None]:
    """Check a scanned location barcode (``%LOC:CODE:C``, or ``CODE:C`` without the prefix).

    Returns ``(code, None)`` when the check character matches, else ``(None, reason)``."""
    body = text[len(LOCATION_PREFIX):] if text.upper().startswith(LOCATION_PREFIX) else text
    code, sep, check = body.rpartition(":")
    if not sep or len(check) != 1 or not code:
        return None, "a location barcode ends with ':' and one check character"
    try:
        expected = location_check_digit(code)
    except ValueError as exc:
        return None, str(exc)
    if check.upper() != expected:
        return None, f"location check character wrong: expected {expected}, got {check}"
    return code, None


def sscc_check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of the first 17 digits of an SSCC."""
    if len(body) != 17 or not body.isdigit():
        raise ValueError("an SSCC body is 17 digits (extension digit, company prefix, serial reference)")
    return gs1_check_digit(body)


def make_sscc(company_prefix: str, serial_ref: int | str, extension: int = 0) -> str:
    """An 18-digit SSCC: extension digit + GS1 company prefix + serial reference (zero-padded to fill
    17 digits) + check digit. Raises ``ValueError`` if the parts don't fit."""
    if not (company_prefix.isdigit() and 6 <= len(company_prefix) <= 12):
        raise ValueError("a GS1 company prefix is 6 to 12 digits")
    if not 0 <= int(extension) <= 9:
        raise ValueError("the SSCC extension digit is 0-9")
    ref = str(serial_ref)
    width = 16 - len(company_prefix)
    if not ref.isdigit() or len(ref) > width:
        raise ValueError(f"the serial reference must be at most {width} digits with this company prefix")
    body = f"{int(extension)}{company_prefix}{ref.zfill(width)}"
    return body + str(sscc_check_digit(body))


def is_valid_sscc(code: str) -> bool:
    return len(code) == 18 and code.isdigit() and gs1_check_digit(code[:-1]) == int(code[-1])


# ------------------------------------------------------------------ interpretation of any scan

COMMAND_PREFIX = "%CMD:"
"""Command barcodes read ``%CMD:NAME`` (e.g. ``%CMD:UNDO``); a desk decides what each name does."""
KNOWN_COMMANDS = frozenset({"UNDO", "DONE", "EMPTY", "CANCEL", "SKIP", "SHORT", "DAMAGE", "PRINT", "QTY", "OK"})
MAX_SCAN_CHARS = 4096
GS1_AIM_IDS = frozenset({"]C1", "]d2", "]e0", "]e1", "]Q3", "]J1"})
GS_SUBSTITUTES = ("\x1d", "<GS>", "\u241d", "\u2194")  # GS, as zxing prints it, the GS picture, ↔


def desk_value(symbology: str, data: str) -> str:
    """The value a desk's flow gets for ``data`` scanned with AIM id ``symbology`` (``""``: none): the data,
    with a GS1 id kept in front unless the data is a command or location barcode (``%…``) — the flows read
    ``]C1…`` as a GS1 element string, so a lot-only GS1-128 ``]C110ABC`` is the lot ``ABC``, not ``10ABC``."""
    if symbology in GS1_AIM_IDS and not data.startswith("%"):
        return symbology + data
    return data


@dataclass(frozen=True)
class Gs1Field:
    ai: str
    title: str
    value: str
    verdict: str | None = None  # "check digit OK" / "check digit wrong: …" for GTIN/SSCC/GLN fields


@dataclass(frozen=True)
class Interpretation:
    """What a scan means. ``kind`` is one of ``gs1``, ``gtin``, ``sscc``, ``location``, ``command``,
    ``code`` (anything else printable: an SKU, lot or location without check — look it up) and
    ``invalid`` (``reason`` says why, for a person)."""

    kind: str
    text: str
    symbology: str | None = None
    reason: str | None = None
    gtin: str | None = None
    sscc: str | None = None
    lot: str | None = None
    serial: str | None = None
    expiry: date | None = None
    count: int | None = None
    location: str | None = None
    command: str | None = None
    fields: tuple[Gs1Field, ...] = ()

    @property
    def ok(self) -> bool:
        return self.kind != "invalid"

    def summary(self) -> str:
        """One line for a status bar or the scanner doctor."""
        if self.kind == "invalid":
            return f"invalid: {self.reason}"
        if self.kind == "gs1":
            return "GS1 " + " ".join(f"({f.ai}){f.value}" for f in self.fields)
        value = {"gtin": self.gtin, "sscc": self.sscc, "location": self.location, "command": self.command}
        return f"{self.kind} {value.get(self.kind) or self.text}"


def _invalid(text: str, symbology: str | None, reason: str) -> Interpretation:
    return Interpretation("invalid", text, symbology, reason=reason)


def _check_verdict(kind: str, value: str) -> str | None:
    if not value.isdigit():
        return f"{kind} must be digits"
    expected = gs1_check_digit(value[:-1])
    if expected != int(value[-1]):
        return f"{kind} check digit wrong: expected {expected}, got {value[-1]}"
    return None


def _interpret_gs1(text: str, symbology: str | None) -> Interpretation:
    from biip import ParseConfig
    from biip.gs1_messages import GS1Message

    try:
        if text.startswith("("):
            msg = GS1Message.parse_hri(text)
        else:
            msg = GS1Message.parse(text, config=ParseConfig(separator_chars=[GS]))
    except Exception as exc:  # biip: ParseError and ValueError subclasses on malformed data
        return _invalid(text, symbology, f"not a valid GS1 element string: {exc}")
    fields: list[Gs1Field] = []
    values: dict[str, object] = {}
    problems: list[str] = []
    for es in msg.element_strings:
        ai, value = es.ai.ai, es.value
        verdict = None
        if ai in ("00", "01", "02", "410", "411", "412", "413", "414", "415", "416"):
            kind = {"00": "SSCC", "01": "GTIN", "02": "GTIN"}.get(ai, "GLN")
            problem = _check_verdict(kind, value)
            verdict = problem or "check digit OK"
            if problem:
                problems.append(f"({ai}) {problem}")
        fields.append(Gs1Field(ai, es.ai.data_title, value, verdict))
        if ai == "01" or (ai == "02" and "gtin" not in values):
            values["gtin"] = value.zfill(14)
        elif ai == "00":
            values["sscc"] = value
        elif ai == "10":
            values["lot"] = value
        elif ai == "21":
            values["serial"] = value
        elif ai in ("17", "15") and es.date is not None and (ai == "17" or "expiry" not in values):
            values["expiry"] = es.date
        elif ai in ("30", "37"):
            values["count"] = int(value)
    if not fields:
        return _invalid(text, symbology, "a GS1 symbol without any element string")
    if problems:
        return Interpretation("invalid", text, symbology, reason="; ".join(problems), fields=tuple(fields))
    return Interpretation("gs1", text, symbology, fields=tuple(fields), **values)  # type: ignore[arg-type]


def _looks_like_gs1(text: str) -> bool:
    """Unmarked digits long enough to be an element string and starting with a common AI."""
    return (len(text) > 14 and text[:2].isdigit() and text[:2] in {"00", "01", "02"}) or GS in text


def interpret(scan: str | bytes, symbology: str | None = None) -> Interpretation:
    """Classify one scan: GS1 element string, GTIN/EAN/UPC, SSCC, location (with check character),
    command barcode, other code, or invalid with a reason. Never raises, whatever the input."""
    try:
        return _interpret(scan, symbology)
    except Exception as exc:  # a last guard: a desk must never see a traceback for a scan
        return _invalid(repr(scan)[:200], symbology, f"could not interpret the scan ({type(exc).__name__})")


def _interpret(scan: str | bytes, symbology: str | None) -> Interpretation:
    if isinstance(scan, bytes | bytearray):
        try:
            text = bytes(scan).decode("utf-8")
        except UnicodeDecodeError:
            return _invalid(bytes(scan)[:80].decode("utf-8", "replace"), symbology, "the scan is not UTF-8 text")
    else:
        text = scan
    if len(text) > MAX_SCAN_CHARS:
        return _invalid(text[:80] + "…", symbology, f"the scan is longer than {MAX_SCAN_CHARS} characters")
    for sub in GS_SUBSTITUTES[1:]:
        text = text.replace(sub, GS)
    text = text.strip(" \r\n\t")
    if symbology is None and len(text) >= 3 and text[0] == "]" and text[1].isascii() and text[1].isalpha() \
            and text[2].isascii() and text[2].isalnum():
        symbology, text = text[:3], text[3:]
    if text.startswith(GS):  # a leading FNC1 some scanners transmit
        text = text[1:]
    if not text:
        return _invalid(text, symbology, "an empty scan")
    bad = [c for c in text if c != GS and (not c.isprintable() or c == "\x7f")]
    if bad:
        return _invalid(printable(text), symbology,
                        f"the scan holds control characters ({', '.join(sorted({hex(ord(c)) for c in bad})[:5])})")
    upper = text.upper()
    if upper.startswith(COMMAND_PREFIX):
        name = upper[len(COMMAND_PREFIX):].strip()
        if name in KNOWN_COMMANDS or (name and all(c.isalnum() or c in "_-" for c in name)):
            return Interpretation("command", text, symbology, command=name)
        return _invalid(text, symbology, "a command barcode needs a name after %CMD:")
    if upper.startswith(LOCATION_PREFIX):
        code, reason = verify_location_code(text)
        if code is None:
            return _invalid(text, symbology, reason or "bad location barcode")
        return Interpretation("location", text, symbology, location=code)
    if symbology in GS1_AIM_IDS or text.startswith("(") or _looks_like_gs1(text):
        result = _interpret_gs1(text, symbology)
        if result.kind == "gs1" and len(result.fields) == 1 and result.fields[0].ai == "00":
            return Interpretation("sscc", text, symbology, sscc=result.sscc, fields=result.fields)
        if result.ok or result.fields or symbology in GS1_AIM_IDS or text.startswith("(") or GS in text:
            return result  # parsed (maybe with a wrong check digit), or marked as GS1 and unparsable
        # unmarked digits that are not an element string at all: fall through (an SKU or a long code)
    if text.isdigit():
        if len(text) in (8, 12, 13, 14):
            problem = _check_verdict("GTIN", text)
            if problem:
                return _invalid(text, symbology, problem)
            return Interpretation("gtin", text, symbology, gtin=text.zfill(14))
        if len(text) == 18:
            problem = _check_verdict("SSCC", text)
            if problem:
                return _invalid(text, symbology, problem)
            return Interpretation("sscc", text, symbology, sscc=text)
    if GS in text:
        return _invalid(printable(text), symbology, "a group separator in a code that is not GS1")
    return Interpretation("code", text, symbology)


# ------------------------------------------------------------------ a GS separator probably missing

_ELEMENT_WHAT = {"00": "SSCC", "01": "GTIN", "02": "GTIN", "10": "lot", "11": "production date", "12": "due date",
                 "13": "packaging date", "15": "best before", "16": "sell by", "17": "expiry", "21": "serial",
                 "30": "count", "37": "count"}
_DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17"})
_CHECKED_AIS = {"00": "SSCC", "01": "GTIN", "02": "GTIN"}


def _complete_element_string(text: str) -> list[tuple[str, str]] | None:
    """``text`` read as whole, valid GS1 element strings starting with a predefined-length AI:
    ``[(description, value), …]``; None when it is not that."""
    from biip.gs1_application_identifiers import GS1ApplicationIdentifier
    from biip.gs1_messages import GS1Message

    try:
        if GS1ApplicationIdentifier.extract(text).separator_required:
            return None  # a variable-length AI at the start is no evidence of a swallowed element
        msg = GS1Message.parse(text)
    except Exception:  # biip: ParseError and ValueError subclasses
        return None
    out: list[tuple[str, str]] = []
    for es in msg.element_strings:
        ai = es.ai.ai
        what = _ELEMENT_WHAT.get(ai, es.ai.data_title)
        if ai in _DATE_AIS:
            if es.date is None:
                return None
            out.append((f"AI {ai} ({what} {es.date.isoformat()})", es.value))
            continue
        if ai in _CHECKED_AIS and _check_verdict(_CHECKED_AIS[ai], es.value):
            return None
        out.append((f"AI {ai} ({what} {es.value})", es.value))
    return out or None


def swallowed_element(scan: Interpretation) -> str | None:
    """A GS1 scan whose variable-length field (a lot, a serial …) ends in a complete, valid further element
    string — e.g. lot ``LOT-A17270301``, where ``17270301`` reads as (17) expiry 2027-03-01 — was probably
    sent without the GS separator that ends a variable-length field: which field swallowed what, for a
    person; None when no field is ambiguous. (Such a value cannot be told apart from a real one, so a desk
    refuses it and asks for a rescan rather than post a wrong lot.)"""
    from biip.gs1_application_identifiers import GS1ApplicationIdentifier

    if scan.kind != "gs1":
        return None
    for f in scan.fields:
        try:
            variable = GS1ApplicationIdentifier.extract(f.ai).separator_required
        except Exception:
            continue
        if not variable:
            continue
        for i in range(1, len(f.value) - 2):
            if not f.value[i:i + 2].isdigit():
                continue
            tail = _complete_element_string(f.value[i:])
            if tail:
                what = _ELEMENT_WHAT.get(f.ai, f"AI {f.ai}")
                return (f"{what} {f.value} looks like it swallowed {' and '.join(d for d, _v in tail)}: "
                        "the GS separator is probably missing; rescan")
    return None
