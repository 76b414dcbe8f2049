"""Barcode interpretation never raises: any text or bytes → a result or a clear rejection."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wsms_tui.barcodes import GS, KNOWN_COMMANDS, Interpretation, interpret, location_barcode

KINDS = {"gs1", "gtin", "sscc", "location", "command", "code", "invalid"}
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(r: Interpretation) -> None:
    assert isinstance(r, Interpretation) and r.kind in KINDS
    if r.kind == "invalid":
        assert r.reason and isinstance(r.reason, str)
    else:
        assert r.reason is None
    assert isinstance(r.summary(), str)


@FAST
@given(st.binary(max_size=300))
def test_any_bytes(raw: bytes) -> None:
    check(interpret(raw))


@FAST
@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    check(interpret(text))


gs1ish = st.lists(st.sampled_from(["01", "00", "02", "10", "11", "15", "17", "21", "30", "37", "3103", "3922",
                                   GS, "(", ")", "]C1", "]d2", "]Q3"]) | st.text(string.digits, max_size=20)
                  | st.text(string.ascii_uppercase + "-./", max_size=6), max_size=12).map("".join)


@FAST
@given(gs1ish, st.sampled_from([None, "]C1", "]d2", "]e0", "]E0", "]Q3", "]C0"]))
def test_gs1_like_strings(text: str, aim: str | None) -> None:
    r = interpret(text, aim)
    check(r)
    if r.kind == "gs1":
        assert r.fields and all(f.verdict in (None, "check digit OK") for f in r.fields)


@FAST
@given(st.text(string.ascii_uppercase + string.digits + "-.", min_size=1, max_size=20)
       .filter(lambda s: any(c.isalnum() for c in s)))
def test_location_barcodes_round_trip_and_one_wrong_character_is_caught(code: str) -> None:
    text = location_barcode(code)
    r = interpret(text)
    assert (r.kind, r.location) == ("location", code)
    check_char = text[-1]
    for other in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if other != check_char:
            assert interpret(text[:-1] + other).kind == "invalid"


@FAST
@given(st.sampled_from(sorted(KNOWN_COMMANDS)), st.sampled_from(["", "]C0", "]Q1"]))
def test_command_barcodes(name: str, aim: str) -> None:
    r = interpret(aim + "%CMD:" + name)
    assert (r.kind, r.command) == ("command", name)


def test_huge_scan_is_refused_quickly() -> None:
    r = interpret("0" * 100_000)
    assert r.kind == "invalid" and "longer than" in (r.reason or "")
