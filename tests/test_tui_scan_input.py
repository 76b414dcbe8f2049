"""ScanInput keeps every scan whole and in order, even when a burst of keys arrives at once.

Keys are posted to the app back to back (``Pilot.press`` waits for idle between keys and so cannot
reproduce a scanner burst), the way a keyboard-wedge scanner's keys arrive at the terminal.
"""

from __future__ import annotations

import asyncio
from time import monotonic
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.keys import _character_to_key

from tests.tui_helpers import async_test
from wsms_tui.screens.widgets.scan_input import GS, ScanInput


class ScanApp(App[None]):
    """One ScanInput; records every Scanned message; has a printable app binding a scan must not fire."""

    BINDINGS = [Binding("x", "fired", "would steal an x from a scan")]

    def __init__(self, **scan_options: Any) -> None:
        super().__init__()
        self.scan_options = scan_options
        self.scans: list[tuple[str, str]] = []
        self.fired = 0

    def compose(self) -> ComposeResult:
        yield ScanInput(**self.scan_options)

    def on_scan_input_scanned(self, message: ScanInput.Scanned) -> None:
        self.scans.append((message.value, message.raw))

    def action_fired(self) -> None:
        self.fired += 1


def keys_for(text: str) -> list[events.Key]:
    """The key events a wedge scanner types for ``text`` (GS arrives as ctrl+right_square_bracket)."""
    return [events.Key("ctrl+right_square_bracket", GS) if c == GS else events.Key(_character_to_key(c), c)
            for c in text]


def burst(app: App[Any], keys: list[events.Key]) -> None:
    for key in keys:
        app.post_message(key)


async def settle(pilot: Any, app: ScanApp, want: int) -> None:
    for _ in range(200):
        await pilot.pause()
        if len(app.scans) >= want:
            break


@async_test
async def test_a_burst_of_100_gs1_scans_arrives_whole_and_in_order() -> None:
    terminators = ["enter", "ctrl+j", "ctrl+m", "tab"]
    expected = [f"0104006381333931" f"10LOT-{i:03d}x{GS}17{(i % 28) + 1:02d}1231{GS}21SN{i}" for i in range(100)]
    keys: list[events.Key] = []
    for i, code in enumerate(expected):
        keys += keys_for(code)
        keys.append(events.Key(terminators[i % 4], None))
    app = ScanApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        burst(app, keys)
        await settle(pilot, app, 100)
    assert [value for value, _raw in app.scans] == expected
    assert app.fired == 0  # the printable binding never took an "x" out of a scan


@async_test
async def test_backspace_and_escape_edit_the_buffer_in_a_burst() -> None:
    app = ScanApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        burst(app, [*keys_for("A-0X"), events.Key("backspace", None), *keys_for("1"), events.Key("enter", None),
                    *keys_for("junk"), events.Key("escape", None), *keys_for("P1"), events.Key("enter", None)])
        await settle(pilot, app, 2)
    assert app.scans == [("A-01", "A-01"), ("P1", "P1")]


@async_test
async def test_a_paste_of_three_lines_is_three_scans() -> None:
    app = ScanApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        app.post_message(events.Paste("P1\r\n04006381333931\nA-02\n"))
        await settle(pilot, app, 3)
    assert [v for v, _ in app.scans] == ["P1", "04006381333931", "A-02"]


@async_test
async def test_prefix_suffix_framing_and_gs_substitutes() -> None:
    app = ScanApp(prefix="~S", suffix="~E", gs_substitutes=("<GS>",))
    async with app.run_test() as pilot:
        await pilot.pause()
        burst(app, keys_for("stray~S0104006381333931<GS>10L1~E~SA-01~E"))
        await settle(pilot, app, 2)
    assert app.scans == [(f"0104006381333931{GS}10L1", "~S0104006381333931<GS>10L1~E"), ("A-01", "~SA-01~E")]


@async_test
async def test_empty_terminators_post_nothing_and_the_buffer_renders() -> None:
    app = ScanApp(placeholder="scan here")
    async with app.run_test() as pilot:
        await pilot.pause()
        burst(app, [events.Key("enter", None), events.Key("tab", None), *keys_for(f"AB{GS}C")])
        await pilot.pause()
        field = app.query_one(ScanInput)
        assert field.has_focus
        assert field.buffer == f"AB{GS}C"
        assert str(field.render()).startswith("AB␝C")
    assert app.scans == []


# -- framing by inter-key timing (a scanner that sends no terminator) ---------------------------


def timed_keys(text: str, start: float, gap_s: float) -> list[events.Key]:
    """The keys for ``text`` as if they arrived ``gap_s`` apart from ``start`` (Key.time is arrival)."""
    keys = keys_for(text)
    for i, key in enumerate(keys):
        key.time = start + i * gap_s
    return keys


@async_test
async def test_timing_frames_fast_runs_without_a_terminator() -> None:
    """Two scanner runs (2 ms per key, no terminator) with a 100 ms pause between them are two scans:
    the second run's first key ends the first; the silence after the second ends it."""
    app = ScanApp(interkey_ms=40)
    async with app.run_test() as pilot:
        now = monotonic()
        burst(app, timed_keys("4006381333931", now, 0.002) + timed_keys("A-01-02", now + 0.126, 0.002))
        await settle(pilot, app, 1)
        assert [v for v, _ in app.scans] == ["4006381333931"]  # the second run is still in the field
        await asyncio.sleep(0.15)
        await settle(pilot, app, 2)
        assert [v for v, _ in app.scans] == ["4006381333931", "A-01-02"]


@async_test
async def test_timing_never_splits_hand_typing_or_short_runs() -> None:
    """Keys typed 150 ms apart stay in the field until Enter, however long the pause; so do three
    fast keys (a person's key rollover), which are too short to be a scan."""
    app = ScanApp(interkey_ms=40)
    async with app.run_test() as pilot:
        now = monotonic()
        burst(app, timed_keys("A-01", now - 0.6, 0.15))
        await asyncio.sleep(0.2)
        await settle(pilot, app, 1)
        assert app.scans == []
        burst(app, [events.Key("enter", "\r")] + timed_keys("ab1", monotonic(), 0.002))
        await asyncio.sleep(0.2)
        await settle(pilot, app, 2)
        assert [v for v, _ in app.scans] == ["A-01"]
        burst(app, [events.Key("enter", "\r")])
        await settle(pilot, app, 2)
        assert [v for v, _ in app.scans] == ["A-01", "ab1"]


@async_test
async def test_without_timing_a_fast_run_waits_for_its_terminator() -> None:
    app = ScanApp()
    async with app.run_test() as pilot:
        burst(app, timed_keys("4006381333931", monotonic(), 0.002))
        await asyncio.sleep(0.15)
        await settle(pilot, app, 1)
        assert app.scans == []
        burst(app, [events.Key("enter", "\r")])
        await settle(pilot, app, 1)
        assert [v for v, _ in app.scans] == ["4006381333931"]


def test_timing_is_a_local_hint(monkeypatch: Any) -> None:
    """``[scanner] timing = "auto"`` frames by timing at a local terminal only: not over SSH, not headless."""
    from wsms_tui.config import ScannerSettings, Settings
    from wsms_tui.screens.base import scan_interkey_ms

    def settings(timing: str, ms: int = 40) -> Settings:
        return Settings.model_construct(scanner=ScannerSettings(timing=timing, max_interkey_ms=ms))

    monkeypatch.delenv("SSH_CONNECTION", raising=False)
    monkeypatch.delenv("SSH_TTY", raising=False)
    assert scan_interkey_ms(settings("auto"), headless=False) == 40
    assert scan_interkey_ms(settings("auto"), headless=True) == 0
    assert scan_interkey_ms(settings("on"), headless=True) == 40
    assert scan_interkey_ms(settings("off"), headless=False) == 0
    assert scan_interkey_ms(settings("on", 0), headless=False) == 0
    monkeypatch.setenv("SSH_CONNECTION", "192.0.2.1 50000 192.0.2.2 22")
    assert scan_interkey_ms(settings("auto"), headless=False) == 0
    assert scan_interkey_ms(settings("on"), headless=False) == 40


# -- pastes, over-long scans, AIM symbology identifiers ----------------------------------------


class RecordingApp(ScanApp):
    """ScanApp that also keeps every Scanned and Refused message and every bell."""

    def __init__(self, **scan_options: Any) -> None:
        super().__init__(**scan_options)
        self.messages: list[ScanInput.Scanned] = []
        self.refused: list[ScanInput.Refused] = []
        self.bells = 0

    def on_scan_input_scanned(self, message: ScanInput.Scanned) -> None:
        # Textual also runs ScanApp's handler (it calls each class's handler in the MRO): it keeps app.scans
        self.messages.append(message)

    def on_scan_input_refused(self, message: ScanInput.Refused) -> None:
        self.refused.append(message)

    def bell(self) -> None:
        self.bells += 1


@async_test
async def test_a_paste_splits_only_at_cr_lf_crlf_and_tab_and_keeps_gs() -> None:
    """str.splitlines() also breaks at GS, FS, RS, VT, FF, NEL and U+2028: a pasted GS1 code must not."""
    first = f"0104006381333931{GS}10LOT-1{GS}17301231"
    second = f"0109506000134352{GS}10L\x1c\x1e\x0b\x0c\x85\u2028X"
    app = RecordingApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        app.post_message(events.Paste(f"{first}\r\n{second}\n"))
        await settle(pilot, app, 2)
        await pilot.pause()
        assert [v for v, _ in app.scans] == [first, second]
        app.scans.clear()
        app.post_message(events.Paste(f"A{GS}1\rB{GS}2\tC{GS}3"))
        await settle(pilot, app, 3)
    assert [v for v, _ in app.scans] == [f"A{GS}1", f"B{GS}2", f"C{GS}3"]


@async_test
async def test_a_pasted_gs_substitute_becomes_gs() -> None:
    app = RecordingApp(gs_substitutes=("<GS>",))
    async with app.run_test() as pilot:
        await pilot.pause()
        app.post_message(events.Paste("0104006381333931<GS>10L1\n0104006381333931\x1d10L2\n"))
        await settle(pilot, app, 2)
    assert [v for v, _ in app.scans] == [f"0104006381333931{GS}10L1", f"0104006381333931{GS}10L2"]


@async_test
async def test_an_over_long_burst_is_refused_whole_and_the_next_scan_works() -> None:
    """10 kB typed as one scan: no Scanned (not the last 4096 characters either), one refusal saying
    why (bell, red notification, Refused message), the field bounded meanwhile; the next scan is fine."""
    from wsms_tui.screens.widgets.scan_input import MAX_BUFFER, MAX_SCAN

    app = RecordingApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        burst(app, keys_for("9" * 10_000))
        for _ in range(100):
            await pilot.pause()
            if len(app.query_one(ScanInput).buffer) == MAX_BUFFER:
                break
        assert len(app.query_one(ScanInput).buffer) <= MAX_BUFFER
        burst(app, [events.Key("enter", "\r"), *keys_for("A-01"), events.Key("enter", "\r")])
        await settle(pilot, app, 1)
        await pilot.pause()
        notes = list(app._notifications)
    assert [v for v, _ in app.scans] == ["A-01"]
    assert [(r.reason, r.length) for r in app.refused] == [
        (f"scan of 10000 characters is longer than {MAX_SCAN}: ignored", 10_000)]
    assert app.bells == 1
    assert [(n.message, n.severity) for n in notes] == [(app.refused[0].reason, "error")]


@async_test
async def test_a_scan_of_exactly_the_limit_passes_and_one_more_is_refused() -> None:
    from wsms_tui.screens.widgets.scan_input import MAX_SCAN

    app = RecordingApp(gs_substitutes=("<GS>",))
    async with app.run_test() as pilot:
        await pilot.pause()
        at_limit = "1" * (MAX_SCAN - 1) + "<GS>"  # raw longer than the limit, value exactly at it
        app.post_message(events.Paste(f"{at_limit}\n{'2' * (MAX_SCAN + 1)}\nOK\n"))
        await settle(pilot, app, 2)
        await pilot.pause()
    assert [v for v, _ in app.scans] == ["1" * (MAX_SCAN - 1) + GS, "OK"]
    assert [r.length for r in app.refused] == [MAX_SCAN + 1]


@async_test
async def test_a_leading_aim_id_goes_into_symbology() -> None:
    """``]Q3%CMD:UNDO`` is the command; ``]E0`` + an EAN-13 is the EAN; a GS1 id stays in front of GS1
    data (the flows read ``]C1…`` as an element string); no id: symbology is empty."""
    scans = ["]Q3%CMD:UNDO", "]E04006381333931", "]C1010950110153000310ABC", f"]d201095011015300031{GS}0ABC",
             "]C0A-01", "]Q1%LOC:A-01-02:1", "]1AB", "]é1X", "]x", "P1"]
    app = RecordingApp()
    async with app.run_test() as pilot:
        await pilot.pause()
        keys: list[events.Key] = []
        for code in scans:
            keys += [*keys_for(code), events.Key("enter", "\r")]
        burst(app, keys)
        await settle(pilot, app, len(scans))
    assert [(m.value, m.symbology, m.raw) for m in app.messages] == [
        ("%CMD:UNDO", "]Q3", "]Q3%CMD:UNDO"),
        ("4006381333931", "]E0", "]E04006381333931"),
        ("]C1010950110153000310ABC", "]C1", "]C1010950110153000310ABC"),
        (f"]d201095011015300031{GS}0ABC", "]d2", f"]d201095011015300031{GS}0ABC"),
        ("A-01", "]C0", "]C0A-01"),
        ("%LOC:A-01-02:1", "]Q1", "]Q1%LOC:A-01-02:1"),
        ("]1AB", "", "]1AB"),
        ("]é1X", "", "]é1X"),
        ("]x", "", "]x"),
        ("P1", "", "P1"),
    ]
