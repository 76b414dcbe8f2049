"""The evdev wedge decoder (no hardware needed): key codes → scans, shift, Ctrl+] as GS, Enter frames."""

from __future__ import annotations

import pytest

from wsms_tui.devices.evdev_scanner import KEYMAP, EvdevUnavailable, KeyDecoder, decode_keys, require_evdev

CODE = {v[0]: k for k, v in KEYMAP.items() if v[0] not in "\n\t"} | {"\n": 28}
SHIFTED = {v[1]: k for k, v in KEYMAP.items() if v[1] != v[0]}


def typed(text: str) -> list[tuple[int, int]]:
    ev: list[tuple[int, int]] = []
    for ch in text:
        if ch == "\x1d":
            ev += [(29, 1), (27, 1), (27, 0), (29, 0)]
        elif ch in CODE:
            ev += [(CODE[ch], 1), (CODE[ch], 0)]
        else:
            ev += [(42, 1), (SHIFTED[ch], 1), (SHIFTED[ch], 0), (42, 0)]
    return ev


def test_decode_keys() -> None:
    scans, rest = decode_keys(typed("0104006381333931\x1d10Ab-7\n%CMD:UNDO\nPART"))
    assert scans == ["0104006381333931\x1d10Ab-7", "%CMD:UNDO"] and rest == "PART"


def test_decoder_keeps_state_between_reads_and_is_bounded() -> None:
    d = KeyDecoder(max_length=5)
    ev = typed("ABCDEFGH\nXY\n")
    # a scan longer than max_length is never passed on cut short: left out, in too_long (kept, dropped)
    assert d.feed(ev[:7]) == [] and d.feed(ev[7:]) == ["XY"] and d.too_long == [("ABCDE", 3)]
    assert len(d.buf) == 0 and d.feed(typed("OK\n")) == ["OK"] and d.too_long == []
    assert KeyDecoder(terminators="\t").feed([(30, 1), (15, 1), (31, 1), (28, 1), (15, 1)]) == ["a", "s"]


def test_missing_extra_says_how_to_install() -> None:
    try:
        import evdev  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        with pytest.raises(EvdevUnavailable, match=r"wsms\[evdev\]"):
            require_evdev()
    else:
        assert require_evdev() is not None
