"""App-wide messages the screens post to the App (widget-owned messages are nested on the widget)."""

from __future__ import annotations

from textual.message import Message

from wsms_tui.printing import JobInfo
from wsms_tui.security import Actor


class LoggedIn(Message):
    """The login screen authenticated ``actor``."""

    def __init__(self, actor: Actor) -> None:
        super().__init__()
        self.actor = actor


class OpenDesk(Message):
    """Switch to desk ``desk`` (or ``menu``); ``code``, if given, is looked up there."""

    def __init__(self, desk: str, code: str | None = None) -> None:
        super().__init__()
        self.desk = desk
        self.code = code


class LabelQueued(Message):
    """A label was put in the print spool (the App wakes the printer's worker)."""

    def __init__(self, job: JobInfo) -> None:
        super().__init__()
        self.job = job
