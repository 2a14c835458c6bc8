"""The one way the UI runs database and file work: off the GUI thread, with callbacks.

``operations.run(fn, on_success=..., on_failure=...)`` runs ``fn`` in a worker of a
``QThreadPool`` and calls the callbacks back on the GUI thread. Writes go through a pool
of exactly one thread, so the local store has a single writer; reads use a small pool.

A long operation takes a :class:`Progress` handle (``progress=True``): it reports
``(done, total)`` and checks ``progress.cancelled``; :meth:`Handle.cancel` asks it to stop.
An operation given a ``key`` supersedes earlier ones with the same key that have not
finished (search as you type: only the latest query's result is delivered).

Expected failures (:class:`UserError`) go to ``on_failure`` or, by default, to the
dialog service as a translated message. Anything else is a bug: it always goes to the
crash handler (``on_bug``: the report, written and shown), then to ``on_failure`` too, for
the widget to put itself right (enable its buttons again) without a message of its own.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal
from shiboken6 import Shiboken

from desktop.domain.errors import UserError

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside an operation that noticed it was cancelled."""


class Progress:
    """What a long operation sees: report progress, and whether to stop."""

    def __init__(self, emit: Callable[[int, int], None]) -> None:
        self._emit = emit
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, done: int, total: int) -> None:
        """Report progress; raises :class:`Cancelled` once the user cancelled."""
        if self._cancel.is_set():
            raise Cancelled
        self._emit(done, total)

    def cancel(self) -> None:
        self._cancel.set()


class _Signals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)
    progressed = Signal(int, int)
    finished = Signal()


class Handle(QObject):
    """A running operation as the caller holds it: progress signal and cancel."""

    progressed = Signal(int, int)

    def __init__(self, progress: Progress, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.progress = progress
        self.done = False
        self.superseded = False

    def cancel(self) -> None:
        self.progress.cancel()


class _Worker:
    """One operation as a pool runs it (``pool.start(worker.run)``).

    A plain object, not a ``QRunnable``: PySide kept the wrapper of a ``QRunnable`` the
    pool had deleted, and with it the signal object, for some of the operations.
    """

    def __init__(
        self, fn: Callable[..., Any], signals: _Signals, progress: Progress | None
    ) -> None:
        self.fn: Callable[..., Any] | None = fn
        self.signals: _Signals | None = signals
        self.progress = progress
        # set once the worker holds no reference to ``signals`` and will not touch it: from
        # then on the GUI thread may take it (and the callbacks it holds) apart
        self.returned = threading.Event()

    def run(self) -> None:
        fn, self.fn = self.fn, None
        signals, self.signals = self.signals, None
        assert fn is not None, "a worker runs once"
        assert signals is not None
        try:
            result = fn(self.progress) if self.progress is not None else fn()
        except BaseException as exc:  # every failure must reach the GUI thread
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            signals.failed.emit(exc)
        else:
            signals.succeeded.emit(result)
            del result
        # ``fn`` is often a closure over a widget, and Qt objects must die on their own
        # thread: the GUI thread holds its own reference until ``finished`` arrives there.
        # So does the signal object: the GUI thread deletes it once ``returned`` is set.
        del fn
        signals.finished.emit()
        del signals
        self.progress = None
        self.returned.set()


class Operations(QObject):
    """Runs callables off the GUI thread; callbacks arrive on the GUI thread."""

    busy_changed = Signal(bool)

    def __init__(
        self,
        on_user_error: Callable[[UserError], None] | None = None,
        on_bug: Callable[[BaseException], None] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.readers = QThreadPool(self)
        self.readers.setMaxThreadCount(2)
        self.writer = QThreadPool(self)
        self.writer.setMaxThreadCount(1)
        self.on_user_error = on_user_error
        self.on_bug = on_bug
        self._running: dict[_Signals, Callable[..., Any]] = {}  # each one's fn, see _Worker
        # finished operations whose worker may still be inside ``finished.emit()``
        self._ended: list[tuple[_Signals, threading.Event]] = []
        self._latest: dict[str, Handle] = {}

    @property
    def busy(self) -> bool:
        """True while any operation has not delivered its result yet."""
        return bool(self._running)

    def run(
        self,
        fn: Callable[..., Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        progress: bool = False,
        write: bool = False,
        key: str | None = None,
        urgent: bool = False,
        owner: QObject | None = None,
    ) -> Handle:
        """Run ``fn`` (given a :class:`Progress` when ``progress``) in a worker thread.

        ``urgent`` work (what the person is waiting to see, such as the visible page of the
        case list) is taken from the queue before everything else that is waiting. When
        ``owner`` (the widget the callbacks update) is deleted before the result arrives,
        the callbacks are not called.
        """
        signals = _Signals()
        prog = Progress(signals.progressed.emit)
        # no parent: a child of this object would live (with its Progress) as long as it
        handle = Handle(prog)
        if key is not None:
            previous = self._latest.get(key)
            if previous is not None and not previous.done:
                previous.superseded = True
                previous.cancel()
            self._latest[key] = handle

        def gone() -> bool:
            return owner is not None and not Shiboken.isValid(owner)

        def succeeded(result: Any) -> None:
            handle.done = True
            if handle.superseded or gone():
                return
            if on_success is not None:
                on_success(result)

        def failed(exc: BaseException) -> None:
            handle.done = True
            if isinstance(exc, Cancelled):
                return
            if not isinstance(exc, UserError):
                self._bug(exc)  # whoever handles the failure, and when nobody is left to
            if handle.superseded or gone():
                return
            if on_failure is not None:
                on_failure(exc)
            elif isinstance(exc, UserError) and self.on_user_error is not None:
                self.on_user_error(exc)

        def finished() -> None:
            del self._running[signals]  # the last reference to ``fn``, here on the GUI thread
            self._ended.append((signals, returned))
            self._release()
            if not self._running:
                self.busy_changed.emit(False)

        signals.succeeded.connect(succeeded)
        signals.failed.connect(failed)
        signals.progressed.connect(handle.progressed)
        if on_progress is not None:
            signals.progressed.connect(on_progress)
        signals.finished.connect(finished)
        if not self._running:
            self.busy_changed.emit(True)
        self._running[signals] = fn
        pool = self.writer if write else self.readers
        worker = _Worker(fn, signals, prog if progress else None)
        returned = worker.returned
        pool.start(worker.run, 1 if urgent else 0)
        return handle

    def _release(self) -> None:
        """Take apart the signal objects of operations whose workers have returned.

        Each connection keeps its callback, and through it what the callback holds (the
        widgets it updates, the models it fills), alive for as long as the signal object
        lives; PySide keeps a connected signal object alive after Python lets go of it.
        Disconnected and deleted on the GUI thread, its own, they go. One whose worker has
        not returned from ``emit`` yet (rare: the worker thread is between posting
        ``finished`` and returning) waits for the next operation to end, or :meth:`wait`.
        """
        waiting: list[tuple[_Signals, threading.Event]] = []
        for signals, returned in self._ended:
            if not returned.is_set():
                waiting.append((signals, returned))
                continue
            signals.disconnect(signals)  # every connection from it, and the slots they keep
            signals.deleteLater()
        self._ended = waiting

    def _bug(self, exc: BaseException) -> None:
        if self.on_bug is not None:
            self.on_bug(exc)
        else:
            log.error("operation failed: %s", getattr(exc, "__traceback_text__", repr(exc)))

    def wait(self, msecs: int = 30_000) -> None:
        """Block until the pools are idle (shutdown and tests; never from a slot)."""
        self.writer.waitForDone(msecs)
        self.readers.waitForDone(msecs)
        self._release()
