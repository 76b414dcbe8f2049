"""ScanInput: a one-line scan field that keeps every keyboard-wedge scan whole and in order.

Textual's stock ``Input`` loses and scrambles scans that arrive as a burst of keys (Enter,
Backspace and Tab are bindings that run after later characters were inserted; GS is dropped; a
paste keeps only its first line). This widget handles every key itself in ``on_key``, in arrival
order, so a burst of 100 scans yields 100 ``Scanned`` messages, whole and in order:

* characters go into the buffer; GS (0x1D, key ``ctrl+right_square_bracket``) goes in as ``\\x1d``;
* Enter, ``ctrl+j`` (LF), ``ctrl+m`` (CR) and Tab end a scan, and so does the configured suffix;
* with a configured prefix, a prefix starts a new scan: whatever was typed before it is dropped,
  and the prefix is not part of the value (text typed by hand without the prefix is still accepted);
* configured GS substitutes (e.g. ``<GS>``) in a scan become ``\\x1d`` in the value;
* a leading AIM symbology identifier (``]`` + letter + letter/digit: ``]C1`` GS1-128, ``]d2`` GS1
  DataMatrix, ``]E0`` EAN-13, ``]Q3`` QR …, sent by scanners set to transmit it) goes into
  ``Scanned.symbology``; the value keeps it in front only for a GS1 id (``]C1 ]d2 ]e0 ]e1 ]Q3 ]J1``)
  and GS1 data, which the desks' flows read as a GS1 element string — ``desk_value``;
* a scan longer than ``MAX_SCAN`` characters is refused whole: no ``Scanned``, but a ``Refused``
  message, the bell and a red notification saying why (the field never holds more than ``MAX_BUFFER``
  characters however long the burst);
* Backspace deletes the last character, Escape clears the buffer (and bubbles when it is empty);
* a paste is one scan per line: it is split at CR, LF, CRLF and Tab only (GS, FS, RS, VT, FF, NEL,
  U+2028 … stay inside the scan, GS as ``\\x1d``);
* ``mask`` (e.g. ``•``) hides what was typed, for PINs;
* with ``interkey_ms`` (inter-key timing, a local hint: off over SSH, where network jitter breaks
  timing), a scanner that sends no terminator is framed by its speed: a run of at least
  ``MIN_TIMED_LEN`` characters typed with gaps of at most ``interkey_ms`` is a scan once the keys stop
  for longer than that, or when the next key comes after a longer gap. A person types slower, so
  hand typing still needs Enter. Gaps are measured between the keys' arrival times (``Key.time``),
  so a desk busy with a scan does not split the next one.

Other keys (function keys, arrows, ``ctrl+q`` …) bubble to the screen and the app bindings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from time import monotonic

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from wsms_tui.barcodes import MAX_SCAN_CHARS, desk_value
from wsms_tui.devices.scan import split_aim_id
from wsms_tui.i18n import _

GS = "\x1d"
TERMINATOR_KEYS = frozenset({"enter", "ctrl+j", "ctrl+m", "tab"})
GS_KEYS = frozenset({"ctrl+right_square_bracket"})
BACKSPACE_KEYS = frozenset({"backspace", "ctrl+h"})
#: the longest scan a desk takes (characters of the value, ``barcodes.MAX_SCAN_CHARS``); longer is refused
MAX_SCAN = MAX_SCAN_CHARS
#: the most the field holds (raw: prefix, suffix and GS substitutes such as ``<GS>`` included); beyond, the
#: characters are counted, not kept, and the scan is refused as too long
MAX_BUFFER = 4 * MAX_SCAN
#: where a paste is split into scans: CR, LF, CRLF and Tab (the terminator keys), nothing else
PASTE_SCAN_END = re.compile(r"\r\n|[\r\n\t]")
#: the shortest run of fast keys that inter-key timing takes for a scan (a person's key rollover is shorter)
MIN_TIMED_LEN = 4


def too_long_text(length: int) -> str:
    """The refusal of an over-long scan, for a person."""
    return _("scan of {n} characters is longer than {max}: ignored").format(n=length, max=MAX_SCAN)


class ScanInput(Widget, can_focus=True):
    """A focusable one-line scan field posting ``ScanInput.Scanned(value, raw)`` per scan."""

    DEFAULT_CSS = """
    ScanInput {
        height: 1;
        width: 1fr;
        background: $boost;
        color: $foreground;
    }
    ScanInput:focus {
        background: $surface-lighten-1;
    }
    """

    buffer: reactive[str] = reactive("", layout=False)

    class Scanned(Message):
        """One complete scan: ``value`` framed and normalised (``desk_value``), ``raw`` as the keys arrived,
        ``symbology`` the AIM id the scanner sent in front of it (``""``: none)."""

        def __init__(self, scan_input: ScanInput, value: str, raw: str, symbology: str = "") -> None:
            super().__init__()
            self.scan_input = scan_input
            self.value = value
            self.raw = raw
            self.symbology = symbology

        @property
        def control(self) -> ScanInput:
            return self.scan_input

    class Refused(Message):
        """A scan the field would not pass on: ``reason`` for a person (``length``: its characters).
        The field has rung the bell and shown the reason in red already."""

        def __init__(self, scan_input: ScanInput, reason: str, length: int) -> None:
            super().__init__()
            self.scan_input = scan_input
            self.reason = reason
            self.length = length

        @property
        def control(self) -> ScanInput:
            return self.scan_input

    def __init__(self, *, placeholder: str = "", prefix: str = "", suffix: str = "",
                 gs_substitutes: Iterable[str] = (), mask: str | None = None, interkey_ms: float = 0,
                 name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.placeholder = placeholder
        self.mask = mask  # e.g. "•" for a PIN: shown instead of each character
        self.prefix = prefix
        self.suffix = suffix
        self.gs_substitutes = tuple(s for s in gs_substitutes if s)
        self.interkey_ms = interkey_ms  # 0: no framing by timing
        self._last_key = 0.0  # arrival time of the buffer's last key (Key.time, monotonic seconds)
        self._fast = True  # every gap in the buffer so far was at most interkey_ms
        self._timing_armed = False
        self._dropped = 0  # characters of the current scan past MAX_BUFFER: counted, not kept

    # -- input -------------------------------------------------------------------------------

    def check_consume_key(self, key: str, character: str | None) -> bool:
        """Printable keys and terminators are ours: no binding may take them from a scan."""
        return (character is not None and character.isprintable()) or key in TERMINATOR_KEYS \
            or key in GS_KEYS or key in BACKSPACE_KEYS

    def on_key(self, event: events.Key) -> None:
        key = event.key
        if key in TERMINATOR_KEYS:
            self._finish()
        elif key in GS_KEYS or event.character == GS:
            self._timed(event.time)
            self._feed(GS)
        elif key in BACKSPACE_KEYS:
            self.buffer = self.buffer[:-1]
        elif key == "escape" and self.buffer:
            self.clear()
        elif event.is_printable and event.character:
            self._timed(event.time)
            self._feed(event.character)
        else:
            return  # not ours: let it bubble to the screen and the app bindings
        event.prevent_default()
        event.stop()

    def on_paste(self, event: events.Paste) -> None:
        event.prevent_default()
        event.stop()
        for line in PASTE_SCAN_END.split(event.text):
            self._feed(line)
            self._finish()

    # -- framing by inter-key timing ------------------------------------------------------------

    def _timed(self, at: float) -> None:
        """Before a character that arrived at ``at``: end the buffer as a scan if it was a fast run
        followed by a pause, and keep track of whether the buffer is still a fast run."""
        if not self.interkey_ms:
            return
        if self.buffer and (at - self._last_key) * 1000 > self.interkey_ms:
            if self._fast and len(self.buffer) >= MIN_TIMED_LEN:
                self._finish()  # the fast run before the pause was a scan
            else:
                self._fast = False  # typed by hand: Enter ends it
        self._last_key = at
        if not self._timing_armed:
            self._timing_armed = True
            self.set_timer(self.interkey_ms / 1000, self._on_pause)

    def _on_pause(self) -> None:
        """Timer: the keys stopped for longer than ``interkey_ms`` after a fast run → that run is a scan."""
        self._timing_armed = False
        if not self.buffer:
            return
        idle_ms = (monotonic() - self._last_key) * 1000
        if idle_ms <= self.interkey_ms:  # keys still coming: look again when the gap could be long enough
            self._timing_armed = True
            self.set_timer((self.interkey_ms - idle_ms) / 1000 + 0.001, self._on_pause)
        elif self._fast and len(self.buffer) >= MIN_TIMED_LEN:
            self._finish()

    def _feed(self, text: str) -> None:
        buffer = self.buffer + text
        if self.prefix and self.prefix in buffer:
            # a prefix starts a new scan: drop what was typed before it
            buffer = buffer[buffer.rfind(self.prefix):]
            self._dropped = 0
        if self.suffix and buffer.endswith(self.suffix):
            self.buffer = buffer
            self._finish()
            return
        if len(buffer) > MAX_BUFFER:  # an over-long scan: count what goes, keep the tail for the suffix
            self._dropped += len(buffer) - MAX_BUFFER
            buffer = buffer[-MAX_BUFFER:]
        self.buffer = buffer

    def _finish(self) -> None:
        raw = self.buffer
        dropped, self._dropped = self._dropped, 0
        self.buffer = ""
        self._fast = True
        value = raw
        if self.prefix and value.startswith(self.prefix):
            value = value[len(self.prefix):]
        if self.suffix and value.endswith(self.suffix):
            value = value[: -len(self.suffix)]
        for sub in self.gs_substitutes:
            value = value.replace(sub, GS)
        if dropped or len(value) > MAX_SCAN:
            self.refuse(too_long_text(dropped + len(value)), dropped + len(value))
            return
        symbology, data = split_aim_id(value)
        if data:
            self.post_message(self.Scanned(self, desk_value(symbology, data), raw, symbology))

    def refuse(self, reason: str, length: int) -> None:
        """Refuse a scan: the bell, ``reason`` in red, and a ``Refused`` message for the screen."""
        self.app.bell()
        self.notify(reason, severity="error", title=_("scan refused"))
        self.post_message(self.Refused(self, reason, length))

    def clear(self) -> None:
        self.buffer = ""
        self._fast = True
        self._dropped = 0

    # -- rendering ---------------------------------------------------------------------------

    def render(self) -> Text:
        width = max(self.size.width - 1, 1)
        shown = self.mask * len(self.buffer) if self.mask else self.buffer.replace(GS, "␝")
        if not shown and self.placeholder and not self.has_focus:
            return Text(self.placeholder[: width + 1], style="dim")
        text = Text(shown[-width:] if len(shown) > width else shown)
        if self.has_focus:
            text.append(" ", style="reverse")
            if not shown and self.placeholder:
                text.append(" " + self.placeholder[: max(width - 2, 0)], style="dim")
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


class ConfirmingScanInput(ScanInput):
    """A desk's scan field where Enter on an empty field posts ``Confirmed`` (take the highlighted row).

    Handled in ``on_key`` like every other key, so it stays in order with the scans of a burst."""

    class Confirmed(Message):
        """Enter with nothing typed."""

    def on_key(self, event: events.Key) -> None:
        if event.key in ("enter", "ctrl+m") and not self.buffer:
            event.prevent_default()  # ScanInput.on_key does not run for this key
            event.stop()
            self.post_message(self.Confirmed())
        # any other key: ScanInput.on_key (the base class handler) runs next
