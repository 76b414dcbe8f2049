"""One print worker thread per printer: exactly-once delivery of label jobs, no database here.

``PrinterWorker`` pulls jobs from a callable, checks ``~HS`` before each one, sends only when the
printer is ready, confirms with a second ``~HS`` and reports the outcome through callbacks. The
DB-backed spool in ``wsms_tui`` (PrintJob rows) wraps it; the worker knows nothing about rows.

The rules that make a job print exactly once:

1. While the printer is unreachable, silent or not ready (paper out, head open, paused …) the
   worker keeps the job in hand, reports the status, and asks again later. Nothing is sent.
2. ``on_sending(job_id)`` is called *before the first byte* goes out. A persistent spool marks
   the row "sending" there: after a crash, a row still "sending" is ambiguous.
3. After sending, a ``~HS`` answer without a partial format confirms the printer holds the whole
   job: ``on_printed(job_id)``. The job is never sent again (the printer's own ``^JZ``
   reprint-after-error covers a label spoiled by a later paper-out; we never add ours).
4. A failure after sending started (write error or time-out, connection dropped, no confirming
   answer) is *ambiguous*. ``~JX`` is sent on the next connection so no half format is glued to
   the next job. A ``serialized`` job (SSCC, serial numbers) is then never sent again by the
   worker: ``on_held(job_id, reason)`` hands it to a person (reprint with a reason, or mark
   printed). A plain job is resent once the printer is ready, unless ``resend_ambiguous=False``.
5. A job that is not whole ``^XA…^XZ`` formats is refused: ``on_failed(job_id, reason)``.

All callbacks run on the worker thread; they must be quick and must not raise (an exception from
one is caught and reported through ``on_status``).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace

from wsms_tui.devices.printer import (
    AmbiguousWrite,
    BadFormat,
    PrinterError,
    PrinterStatus,
    PrinterTransport,
    PrinterUnavailable,
    open_printer,
    split_formats,
)

JobId = Hashable


@dataclass(frozen=True)
class PrintJob:
    id: JobId
    payload: bytes
    serialized: bool = False
    ambiguous_before: bool = False  # a previous attempt (e.g. before a crash) may have printed it


@dataclass(frozen=True)
class WorkerStatus:
    """What the status bar shows for one printer."""

    url: str
    state: str  # "idle", "printing", "not ready", "offline", "stopped"
    printer: PrinterStatus | None = None
    detail: str = ""
    job_id: JobId | None = None

    def describe(self) -> str:
        text = self.state
        if self.printer is not None and self.state in ("not ready", "offline"):
            text = self.printer.describe()
        return f"{self.url}: {text}" + (f" ({self.detail})" if self.detail else "")


class JobQueue:
    """A thread-safe in-memory job source for tests and the CLI: ``put()`` jobs, pass ``next_job``
    to a worker. A DB spool replaces it with a function that reads the oldest queued row."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: list[PrintJob] = []

    def put(self, job: PrintJob) -> None:
        with self._lock:
            self._jobs.append(job)

    def next_job(self) -> PrintJob | None:
        with self._lock:
            return self._jobs.pop(0) if self._jobs else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)


def _noop(*_args: object) -> None:
    return None


class PrinterWorker(threading.Thread):
    """The worker for one printer URL. ``start()`` it, ``wake()`` it when a job was queued,
    ``stop()`` + ``join()`` to end it (returns within about one status time-out)."""

    def __init__(self, url: str, next_job: Callable[[], PrintJob | None], *,
                 on_printed: Callable[[JobId], None] = _noop,
                 on_failed: Callable[[JobId, str], None] = _noop,
                 on_held: Callable[[JobId, str], None] = _noop,
                 on_sending: Callable[[JobId], None] = _noop,
                 on_status: Callable[[WorkerStatus], None] = _noop,
                 transport: PrinterTransport | None = None,
                 status_timeout: float = 2.0, write_timeout: float = 5.0,
                 idle_poll: float = 1.0, retry_min: float = 0.2, retry_max: float = 10.0,
                 resend_ambiguous: bool = True) -> None:
        super().__init__(name=f"printer {url}", daemon=True)
        self.url = url
        self.next_job = next_job
        self.on_printed = on_printed
        self.on_failed = on_failed
        self.on_held = on_held
        self.on_sending = on_sending
        self.on_status = on_status
        self.printer = transport or open_printer(url, timeout=status_timeout, write_timeout=write_timeout)
        self.idle_poll = idle_poll
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.resend_ambiguous = resend_ambiguous
        self._exit = threading.Event()
        self._wake = threading.Event()
        self._need_cancel = False  # send ~JX before the next job (a half format may sit in the printer)
        self._last: WorkerStatus | None = None
        self.printed = 0
        self.sends = 0

    # ---------------------------------------------------------------- control

    def stop(self) -> None:
        self._exit.set()
        self._wake.set()

    def wake(self) -> None:
        """A job was queued: look for it now instead of at the next idle poll."""
        self._wake.set()

    def __enter__(self) -> PrinterWorker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self.join(10)

    # ---------------------------------------------------------------- thread

    def run(self) -> None:
        try:
            job: PrintJob | None = None
            delay = self.retry_min
            while not self._exit.is_set():
                if job is None:
                    job = self._call(self.next_job)
                    if job is None:
                        self._report("idle")
                        self._wake.wait(self.idle_poll)
                        self._wake.clear()
                        continue
                    if job.ambiguous_before and job.serialized:
                        self._call(self.on_held, job.id, "a previous attempt may have printed it")
                        job = None
                        continue
                done = self._attempt(job)
                if done:
                    job, delay = None, self.retry_min
                else:
                    self._exit.wait(delay)
                    delay = min(self.retry_max, delay * 2)
        finally:
            self.printer.close()
            self._report("stopped")

    def _attempt(self, job: PrintJob) -> bool:
        """One try at a job; True when the job is resolved (printed, failed or held)."""
        try:
            split_formats(job.payload)
        except BadFormat as exc:
            self._call(self.on_failed, job.id, str(exc))
            return True
        try:
            self.printer.open()
        except PrinterUnavailable as exc:
            self._report("offline", PrinterStatus(answered=False, detail=str(exc)), job_id=job.id)
            return False
        if self._need_cancel:
            self.printer.cancel_partial()
            self._need_cancel = False
        status = self.printer.query_status()
        if self.printer.can_report_status and not status.ready:
            # a silent printer keeps its connection (it may answer next time); a lost one was closed
            self._report("offline" if not status.answered else "not ready", status, job_id=job.id)
            return False
        self._report("printing", status, job_id=job.id)
        self._call(self.on_sending, job.id)
        self.sends += 1
        try:
            self.printer.send(job.payload)
        except PrinterUnavailable as exc:  # nothing went out
            self._report("offline", PrinterStatus(answered=False, detail=str(exc)), job_id=job.id)
            return False
        except AmbiguousWrite as exc:
            return self._ambiguous(job, str(exc))
        except PrinterError as exc:
            return self._ambiguous(job, str(exc))
        if not self.printer.can_report_status:
            return self._printed(job)
        after = self.printer.query_status()
        if not after.answered:
            return self._ambiguous(job, f"sent, but not confirmed: {after.detail}")
        if after.partial_format:
            # the printer holds a cut format: cancel it; nothing of this job can print
            self.printer.cancel_partial()
            self._report("not ready", after, "a partial format was cancelled", job_id=job.id)
            return False
        return self._printed(job)

    def _printed(self, job: PrintJob) -> bool:
        self.printed += 1
        self._call(self.on_printed, job.id)
        return True

    def _ambiguous(self, job: PrintJob, reason: str) -> bool:
        self._need_cancel = True  # ~JX before the next job: a half format must not prefix it
        if job.serialized or not self.resend_ambiguous:
            self._call(self.on_held, job.id, reason)
            self._report("idle", None, f"job {job.id} held: {reason}")
            return True
        self._report("offline", PrinterStatus(answered=False, detail=reason), "will resend", job_id=job.id)
        return False

    # ---------------------------------------------------------------- helpers

    def _report(self, state: str, printer: PrinterStatus | None = None, detail: str = "",
                job_id: JobId | None = None) -> None:
        status = WorkerStatus(self.url, state, replace(printer, raw=b"") if printer else None, detail, job_id)
        if status == self._last:
            return
        self._last = status
        with contextlib.suppress(Exception):  # a status display error must not stop printing
            self.on_status(status)

    def _call(self, fn: Callable[..., object], *args: object) -> object:
        try:
            return fn(*args)
        except Exception as exc:  # a callback failure is reported, the worker goes on
            self._report("idle", None, f"callback {getattr(fn, '__name__', fn)} failed: {exc!r}")
            if fn is self.next_job:
                time.sleep(min(self.idle_poll, 1.0))
            return None


__all__ = ["JobId", "JobQueue", "PrintJob", "PrinterWorker", "WorkerStatus"]
