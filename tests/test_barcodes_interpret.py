"""Scan interpretation: GS1 AIs with check-digit verdicts, GTINs, SSCCs, location check characters,
command barcodes and clear reasons for everything else."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from wsms_tui.barcodes import (
    ALNUM36,
    GS,
    interpret,
    is_valid_sscc,
    location_barcode,
    location_check_digit,
    make_sscc,
    sscc_check_digit,
    verify_location_code,
)


def test_gs1_with_all_the_common_ais() -> None:
    text = ("0104006381333931" "1125010115270101" "17270331" "3103001250" "10LOT-1" + GS + "21SER9" + GS
            + "3712")
    r = interpret(text, "]C1")
    assert r.kind == "gs1" and r.symbology == "]C1"
    assert [f.ai for f in r.fields] == ["01", "11", "15", "17", "3103", "10", "21", "37"]
    assert (r.gtin, r.lot, r.serial, r.expiry, r.count) == ("04006381333931", "LOT-1", "SER9", date(2027, 3, 31), 12)
    assert r.fields[0].verdict == "check digit OK"
    assert interpret("0204006381333931" "3024", "]C1").count == 24  # AI 02 + AI 30 (variable count)


def test_gs1_forms_aim_hri_and_gs_substitutes() -> None:
    a = interpret("]d20104006381333931" "10AB")
    b = interpret("(01)04006381333931(10)AB")
    c = interpret("0104006381333931" "10AB<GS>3712")
    assert a.gtin == b.gtin == c.gtin == "04006381333931" and a.lot == b.lot == "AB" and c.count == 12


def test_gs1_wrong_check_digit_is_named() -> None:
    r = interpret("]C10104006381333932" "10AB")
    assert r.kind == "invalid" and "(01) GTIN check digit wrong: expected 1, got 2" in (r.reason or "")
    assert r.fields[0].verdict and "wrong" in r.fields[0].verdict


def test_gs1_missing_separator_and_garbage() -> None:
    r = interpret("]C10104006381333931" "10AB3712" "17270331")  # no GS after the lot: all of it is the lot
    assert r.kind == "gs1" and r.lot == "AB371217270331" and r.expiry is None
    bad = interpret("]C1XYZ")
    assert bad.kind == "invalid" and "GS1" in (bad.reason or "")


def test_sscc_and_gtin() -> None:
    s = make_sscc("0614141", 123456789, 3)
    assert s == "306141411234567891" and is_valid_sscc(s) and sscc_check_digit(s[:17]) == 1
    assert interpret("00" + s, "]C1").kind == "sscc"
    assert interpret(s).kind == "sscc"
    assert interpret(s[:-1] + "2").reason == "SSCC check digit wrong: expected 1, got 2"
    assert interpret("4006381333931").gtin == "04006381333931"
    assert interpret("96385074").kind == "gtin" and interpret("96385075").kind == "invalid"  # EAN-8
    assert interpret("036000291452").kind == "gtin"  # UPC-A
    with pytest.raises(ValueError):
        make_sscc("12", 1)
    with pytest.raises(ValueError):
        make_sscc("0614141", 10**10)


def test_location_check_character_catches_substitutions_and_transpositions() -> None:
    code = "A0102B"
    good = location_check_digit(code)
    for i, c in itertools.product(range(len(code)), ALNUM36):
        if c != code[i]:
            assert location_check_digit(code[:i] + c + code[i + 1:]) != good
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
            assert location_check_digit(swapped) != good
    assert location_check_digit("a-01-02-b") == location_check_digit("A0102B")  # case and separators ignored
    assert verify_location_code(location_barcode("A-01-02")) == ("A-01-02", None)
    assert verify_location_code("A-01-02")[1] is not None
    with pytest.raises(ValueError):
        location_check_digit("--")


def test_commands_codes_and_rejections() -> None:
    assert interpret("%CMD:UNDO").command == "UNDO"
    assert interpret("%cmd:done").command == "DONE"
    assert interpret("%CMD:").kind == "invalid"
    assert interpret("SKU-001").kind == "code"
    assert interpret("").reason == "an empty scan"
    assert "control characters" in (interpret("AB\x07C").reason or "")
    assert interpret(b"\xff\xfe").reason == "the scan is not UTF-8 text"
    assert interpret(b"]E04006381333931").symbology == "]E0"
