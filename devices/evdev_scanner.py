"""Optional: grab a keyboard-wedge scanner attached to the machine running wsms (Linux evdev).

A wedge scanner types into whatever has focus; grabbing its input device (``EVIOCGRAB``) takes
its keystrokes away from the console and turns them into ``Scan`` records here instead, framed by
Enter (or Tab). Needs the ``evdev`` extra (``pip install 'wsms[evdev]'``) and read access to
``/dev/input/event*`` (the ``input`` group). The keymap is US layout, as scanners send by default.

``decode_keys`` is pure (key codes in, text out) and is what the tests exercise; the reader
thread is a thin loop around python-evdev with a ``select`` timeout so ``stop()`` always works.
"""

from __future__ import annotations

import contextlib
import select
import threading
from collections.abc import Callable, Iterable
from typing import Any

from wsms_tui.devices.scan import Scan
from wsms_tui.devices.serial_scanner import CutScan

# Linux input key codes (linux/input-event-codes.h) → (unshifted, shifted)
KEYMAP: dict[int, tuple[str, str]] = {
    2: ("1", "!"), 3: ("2", "@"), 4: ("3", "#"), 5: ("4", "$"), 6: ("5", "%"), 7: ("6", "^"), 8: ("7", "&"),
    9: ("8", "*"), 10: ("9", "("), 11: ("0", ")"), 12: ("-", "_"), 13: ("=", "+"), 15: ("\t", "\t"),
    16: ("q", "Q"), 17: ("w", "W"), 18: ("e", "E"), 19: ("r", "R"), 20: ("t", "T"), 21: ("y", "Y"),
    22: ("u", "U"), 23: ("i", "I"), 24: ("o", "O"), 25: ("p", "P"), 26: ("[", "{"), 27: ("]", "}"),
    28: ("\n", "\n"), 30: ("a", "A"), 31: ("s", "S"), 32: ("d", "D"), 33: ("f", "F"), 34: ("g", "G"),
    35: ("h", "H"), 36: ("j", "J"), 37: ("k", "K"), 38: ("l", "L"), 39: (";", ":"), 40: ("'", '"'),
    41: ("`", "~"), 43: ("\\", "|"), 44: ("z", "Z"), 45: ("x", "X"), 46: ("c", "C"), 47: ("v", "V"),
    48: ("b", "B"), 49: ("n", "N"), 50: ("m", "M"), 51: (",", "<"), 52: (".", ">"), 53: ("/", "?"),
    57: (" ", " "), 96: ("\n", "\n"),  # 96 = keypad Enter
    71: ("7", "7"), 72: ("8", "8"), 73: ("9", "9"), 74: ("-", "-"), 75: ("4", "4"), 76: ("5", "5"),
    77: ("6", "6"), 78: ("+", "+"), 79: ("1", "1"), 80: ("2", "2"), 81: ("3", "3"), 82: ("0", "0"),
    83: (".", "."), 55: ("*", "*"), 98: ("/", "/"),
}
SHIFT_KEYS = {42, 54}  # left/right shift
CTRL_KEYS = {29, 97}
KEY_DOWN, KEY_UP, KEY_HOLD = 1, 0, 2
GS = "\x1d"


class EvdevUnavailable(RuntimeError):
    pass


class KeyDecoder:
    """Stateful key-event decoder: shift/ctrl state and the scan being typed survive between reads."""

    def __init__(self, terminators: str = "\n", max_length: int = 4096) -> None:
        self.terminators = terminators
        self.max_length = max_length
        self.buf: list[str] = []
        self.shift = self.ctrl = False
        self.dropped = 0  # characters of the scan being typed beyond max_length
        #: the scans ended since the last ``feed`` that were longer than max_length (not in its result): their
        #: first max_length characters and how many more were thrown away
        self.too_long: list[tuple[str, int]] = []

    def feed(self, events: Iterable[tuple[int, int]]) -> list[str]:
        """The scans ended by these events; a scan longer than ``max_length`` is left out and put in
        ``too_long`` (never passed on cut short)."""
        scans: list[str] = []
        self.too_long = []
        for code, value in events:
            if code in SHIFT_KEYS:
                self.shift = value != KEY_UP
                continue
            if code in CTRL_KEYS:
                self.ctrl = value != KEY_UP
                continue
            if value != KEY_DOWN:
                continue
            if self.ctrl and code == 27:
                ch = GS
            else:
                chars = KEYMAP.get(code)
                if chars is None:
                    continue
                ch = chars[1] if self.shift else chars[0]
            if ch in self.terminators:
                if self.dropped:
                    self.too_long.append(("".join(self.buf), self.dropped))
                elif self.buf:
                    scans.append("".join(self.buf))
                self.buf = []
                self.dropped = 0
            elif ch not in "\n\t":
                if len(self.buf) < self.max_length:
                    self.buf.append(ch)
                else:
                    self.dropped += 1
        return scans


def decode_keys(events: Iterable[tuple[int, int]], *, terminators: str = "\n") -> tuple[list[str], str]:
    """Turn ``(key code, value)`` key events into completed scans and the unfinished rest.

    Shift is tracked; Ctrl+] (how many scanners type GS, 0x1D) becomes GS; unknown keys are
    skipped; ``terminators`` (Enter by default, add ``"\\t"`` for Tab) end a scan."""
    decoder = KeyDecoder(terminators)
    scans = decoder.feed(events)
    return scans, "".join(decoder.buf)


def require_evdev() -> Any:
    try:
        import evdev  # type: ignore[import-not-found]
    except ImportError:
        raise EvdevUnavailable("evdev support is not installed: pip install 'wsms[evdev]' "
                               "(Linux only; the user needs read access to /dev/input)") from None
    return evdev


def list_input_devices() -> list[tuple[str, str]]:
    """``(path, name)`` of the input devices this user can read."""
    evdev = require_evdev()
    out = []
    for path in evdev.list_devices():
        try:
            out.append((path, evdev.InputDevice(path).name))
        except OSError:
            continue
    return out


class EvdevScanner(threading.Thread):
    """Grab one input device and deliver its scans as ``Scan(source="evdev:PATH")``."""

    def __init__(self, path: str, on_scan: Callable[[Scan], None], *, grab: bool = True,
                 terminators: str = "\n", poll: float = 0.2, max_length: int = 4096,
                 on_error: Callable[[str], None] | None = None, on_back: Callable[[], None] | None = None,
                 backoff_min: float = 0.1, backoff_max: float = 5.0) -> None:
        super().__init__(name=f"evdev {path}", daemon=True)
        self.evdev = require_evdev()  # fail early, in the caller's thread, with a clear message
        self.path = path
        self.on_scan = on_scan
        #: told why reading stopped (the device could not be opened, was unplugged …), once per outage, and
        #: when the device is back; both from this thread
        self.on_error = on_error
        self.on_back = on_back
        self.backoff_min, self.backoff_max = backoff_min, backoff_max
        self._connected_once = self._served = False
        self.grab = grab
        self.terminators = terminators
        self.poll = poll
        self.max_length = max_length
        self._exit = threading.Event()
        self.error: str | None = None

    def stop(self) -> None:
        self._exit.set()

    def run(self) -> None:
        """Read until ``stop()``; when the device cannot be opened or goes away, say why once (``on_error``),
        then try again with back-off (``backoff_min`` doubling to ``backoff_max``) and say when it is back
        (``on_back``): a scanner plugged in again is grabbed again and scans resume without a restart."""
        delay = self.backoff_min
        reported = False
        while not self._exit.is_set():
            why = self._read_device()
            if why is None:  # stopped
                return
            if self._served:  # it had been working: a new outage, said once
                reported, delay = False, self.backoff_min
            if not reported:
                self._failed(why)
                reported = True
            self._exit.wait(delay)
            delay = min(self.backoff_max, delay * 2)

    def _read_device(self) -> str | None:
        """Open, grab and read the device until it fails (returns why) or ``stop()`` (returns None)."""
        self._served = False
        try:
            device = self.evdev.InputDevice(self.path)
        except OSError as exc:
            return f"cannot open {self.path}: {exc}"
        try:
            if self.grab:
                device.grab()
            if self._connected_once and self.on_back is not None:
                self.on_back()
            self._connected_once = self._served = True
            decoder = KeyDecoder(self.terminators, self.max_length)  # bounded: max_length characters
            while not self._exit.is_set():
                ready, _, _ = select.select([device.fd], [], [], self.poll)
                if not ready:
                    continue
                try:
                    events = device.read()
                except BlockingIOError:  # woken with nothing to read
                    continue
                keys = [(ev.code, ev.value) for ev in events if ev.type == self.evdev.ecodes.EV_KEY]
                for text in decoder.feed(keys):
                    self.on_scan(Scan.from_text(text, f"evdev:{self.path}"))
                for kept, dropped in decoder.too_long:  # refused whole, like an over-long serial scan
                    self.on_scan(CutScan(kept.encode("utf-8"), f"evdev:{self.path}", None, dropped=dropped))
            return None
        except OSError as exc:
            return f"{self.path}: {exc}"
        finally:
            with contextlib.suppress(OSError):
                if self.grab:
                    device.ungrab()
            with contextlib.suppress(OSError):
                device.close()

    def _failed(self, why: str) -> None:
        self.error = why
        if self.on_error is not None:
            self.on_error(why)
