"""One print worker thread per printer: exactly-once delivery of label jobs, no database here.

``PrinterWorker`` pulls jobs from a callable, checks ``~HS`` before each one, sends only when the
printer is ready, confirms with a second ``~HS`` and reports the outcome through callbacks. The
DB-backed spool in ``wsms_tui`` (PrintJob rows) wraps it; the worker knows nothing about rows.

The rules that make a job print exactly once:

1. While the printer is unreachable, silent or not ready (paper out, head open, paused …) the
   worker keeps the job in hand, reports the status, and asks again later. Nothing is sent.
2. ``on_sending(job_id)`` is called *before the first byte* goes out. A persistent spool claims
   the row there (``printing``): after a crash, a row still ``printing`` is ambiguous.
3. After sending, a ``~HS`` answer without a partial format confirms the printer holds the whole
   job: ``on_printed(job_id)``. The job is never sent again (the printer's own ``^JZ``
   reprint-after-error covers a label spoiled by a later paper-out; we never add ours).
4. A failure after sending started (write error or time-out, connection dropped, no confirming
   answer) is *ambiguous*. No job is ever sent again on a guess:

   * a write that stopped before any ``^XZ`` could go out cannot have printed anything: ``~JX``
     on the next connection, and the job is sent again once the printer is ready;
   * a ``serialized`` job (SSCC, serial numbers) is held at once: ``on_held(job_id, reason)``
     hands it to a person (reprint with a reason, or mark printed);
   * a plain single-format job stays in hand until the printer answers ``~HS`` again. If that
     answer says *partial format in progress*, the printer holds the cut job unprinted (a Zebra
     keeps a half format across connections): ``~JX``, then it is sent again and prints once.
     Any other answer cannot tell a printed job from a lost one (``formats in buffer`` and
     ``labels remaining`` are 0 in both cases), so the job is held like a serialized one.
   * a multi-format job that was cut is held (its first formats may have printed).

   ``on_sending`` may return ``False``: another worker claimed the job first, it is dropped.
5. A job that is not whole ``^XA…^XZ`` formats is refused: ``on_failed(job_id, reason)``.
6. A job handed over with ``ambiguous_before`` (its sending started before a restart and was
   never confirmed) is held at once, serialized or not.

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
                 idle_poll: float = 1.0, retry_min: float = 0.2, retry_max: float = 10.0) -> None:
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
        self._exit = threading.Event()
        self._wake = threading.Event()
        self._need_cancel = False  # send ~JX before the next job (a half format may sit in the printer)
        self._unconfirmed = ""  # why the last send of the job in hand was not confirmed ("" = it was not)
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
                    self._unconfirmed = ""
                    if job.ambiguous_before:
                        self._call(self.on_held, job.id,
                                   "sending started before a restart and was never confirmed: it may have printed")
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
        """One try at a job; True when the job is resolved (printed, failed, held or lost to
        another worker)."""
        try:
            formats = split_formats(job.payload)
        except BadFormat as exc:
            self._call(self.on_failed, job.id, str(exc))
            return True
        try:
            self.printer.open()
        except PrinterUnavailable as exc:
            self._report("offline", PrinterStatus(answered=False, detail=str(exc)), job_id=job.id)
            return False
        if self._unconfirmed and self.printer.can_report_status:
            # ask before anything else (before ~JX): does the printer still hold the cut job?
            first = self.printer.query_status()
            if not first.answered:
                self._report("offline", first, "last send not confirmed; waiting for the printer", job_id=job.id)
                return False
            if not first.partial_format or len(formats) > 1:
                return self._hold(job, f"{self._unconfirmed}; the printer cannot tell whether it printed")
            self.printer.cancel_partial()  # the cut job is in the printer unprinted: drop it, send anew
            self._need_cancel = False
            self._unconfirmed = ""
            self._report("not ready", first, "a partial format was cancelled", job_id=job.id)
        if self._need_cancel:
            self.printer.cancel_partial()
            self._need_cancel = False
        status = self.printer.query_status()
        if self.printer.can_report_status and not status.ready:
            # a silent printer keeps its connection (it may answer next time); a lost one was closed
            self._report("offline" if not status.answered else "not ready", status, job_id=job.id)
            return False
        self._report("printing", status, job_id=job.id)
        try:
            claimed = self.on_sending(job.id)
        except Exception as exc:  # the claim is unknown: send nothing, try again later
            self._report("idle", None, f"callback on_sending failed: {exc!r}", job_id=job.id)
            return False
        if claimed is False:
            self._report("idle", None, f"job {job.id} was taken by another worker", job_id=job.id)
            return True
        self.sends += 1
        try:
            self.printer.send(job.payload)
        except PrinterUnavailable as exc:  # nothing went out
            self._report("offline", PrinterStatus(answered=False, detail=str(exc)), job_id=job.id)
            return False
        except AmbiguousWrite as exc:
            if exc.possibly_sent is not None and b"^XZ" not in job.payload[:exc.possibly_sent]:
                self._need_cancel = True  # no format was completed: nothing can print; ~JX, then anew
                self._report("offline", PrinterStatus(answered=False, detail=str(exc)),
                             "cut before a format ended: will send again", job_id=job.id)
                return False
            return self._ambiguous(job, str(exc))
        except PrinterError as exc:
            return self._ambiguous(job, str(exc))
        if not self.printer.can_report_status:
            return self._printed(job)
        after = self.printer.query_status()
        if not after.answered:
            return self._ambiguous(job, f"sent, but not confirmed: {after.detail}")
        if after.partial_format:
            # the printer holds a cut format: cancel it
            self.printer.cancel_partial()
            if len(formats) > 1:  # formats before the cut may have printed
                return self._hold(job, "the printer reported a cut format; earlier formats of the job may have printed")
            self._report("not ready", after, "a partial format was cancelled", job_id=job.id)
            return False
        return self._printed(job)

    def _printed(self, job: PrintJob) -> bool:
        self.printed += 1
        self._call(self.on_printed, job.id)
        return True

    def _hold(self, job: PrintJob, reason: str) -> bool:
        self._unconfirmed = ""
        self._call(self.on_held, job.id, reason)
        self._report("idle", None, f"job {job.id} held: {reason}")
        return True

    def _ambiguous(self, job: PrintJob, reason: str) -> bool:
        self._need_cancel = True  # ~JX before the next job: a half format must not prefix it
        if job.serialized or not self.printer.can_report_status:  # no ~HS to ask afterwards: hold
            return self._hold(job, reason)
        self._unconfirmed = reason  # keep it; the printer's next answer decides (see rule 4)
        self._report("offline", PrinterStatus(answered=False, detail=reason), "not confirmed: will ask the printer",
                     job_id=job.id)
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
