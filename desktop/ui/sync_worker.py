"""The background sync worker: notices when the server is reachable, syncs, backs off.

A single-shot ``QTimer`` drives it. Each tick runs, through the operation helper (never
on the GUI thread), a cheap check: is this device registered, and does the server
answer ``GET /v1/info``? Unreachable or busy, it waits with exponential backoff and
jitter, never less than the server's ``Retry-After``. Reachable, it syncs; on a metered
link it first asks before sending more than the limit set on the Sync page. After a
good sync it waits the regular interval; after one a dropped link cut off once it had
moved something (``SyncSummary.progressed``), the backoff's first step only, and the
status line says so (``Phase.CUT``: what moved is kept) instead of "Offline".

``state`` is what the status bar and the Sync page show; ``changed`` fires with it.
Tests drive the worker by calling :meth:`tick` and read :attr:`scheduled` (seconds
until the next tick) instead of waiting: no real sleeping.

The sync services (HTTP client, protocol models) are imported on first use, in the
worker's own thread: they are not needed to show the case list at start-up.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.domain.errors import UserError
from desktop.ui.context import AppContext
from desktop.ui.i18n import format_moment, tr

if TYPE_CHECKING:
    from desktop.services import sync_view

REGULAR_INTERVAL_S = 300.0


class Phase(StrEnum):
    NOT_SET_UP = "not_set_up"
    CHECKING = "checking"
    OFFLINE = "offline"
    DOWN = "down"  # the server's address refused: the server is down, the network is up
    CUT = "cut"  # a dropped link cut a sync off after it had moved something
    BUSY = "busy"
    SYNCING = "syncing"
    IDLE = "idle"
    HELD = "held"  # metered link: the person said not now
    ERROR = "error"


# waiting to try again, with the seconds to the next try on the status line
RETRYING = (Phase.OFFLINE, Phase.DOWN, Phase.CUT, Phase.BUSY)
# a sync under way (the status bar and the Sync page read their counts more often)
UNDER_WAY = (Phase.CHECKING, Phase.SYNCING)
# how often the status bar and the Sync page read their counts again while a sync runs:
# read once at its start, they said 10,040 waiting where 4,040 were (a field tester)
COUNTS_DURING_SYNC_MS = 3000


@dataclass(frozen=True)
class WorkerState:
    """Where the worker is; ``stage``/``done``/``total`` while syncing (``total``: the
    changes waiting as a push began, a pull's estimate of its rows, the bytes of
    attachments; 0 when unknown); ``retry_in`` when waiting, and ``retry_at`` the moment
    of the next try on :func:`time.monotonic`'s clock, for a countdown."""

    phase: Phase = Phase.CHECKING
    stage: str = ""
    done: int = 0
    retry_in: float | None = None
    error: str | None = None
    total: int = 0
    clock_offset: float | None = None  # the server's clock minus this device's, seconds
    retry_at: float | None = None

    @property
    def waiting(self) -> bool:
        """Offline, cut off or busy, with the next try planned: the line counts down."""
        return self.retry_at is not None and self.phase in RETRYING

    def seconds_left(self, now: float | None = None) -> int:
        """Whole seconds until the next try (``now`` on :func:`time.monotonic`'s clock;
        without it, or without ``retry_at``, the wait as it was planned)."""
        if now is None or self.retry_at is None:
            return round(self.retry_in or 0)
        return max(0, math.ceil(self.retry_at - now))


def _human_size(size: int) -> str:
    if size < 1024:
        return tr("ui.sync_page.bytes", count=size)
    if size < 1024 * 1024:
        return tr("ui.sync_page.kb", n=round(size / 1024))
    return tr("ui.sync_page.mb", n=round(size / 1_048_576, 1))


class SyncWorker(QObject):
    """Owns the timer and the backoff; the work itself runs in :mod:`sync_view`."""

    changed = Signal(object)  # WorkerState
    synced = Signal(object)  # SyncSummary of each finished attempt
    # from the sync thread, queued to the GUI thread; byte counts may pass 2**31, which a
    # Qt int would not hold
    _progressed = Signal(str, object, object)

    def __init__(
        self,
        ctx: AppContext,
        http_factory: sync_view.HttpFactory | None = None,
        backoff: sync_view.Backoff | None = None,
        interval_s: float = REGULAR_INTERVAL_S,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.http_factory = http_factory  # None: the app's default HTTP client
        self._backoff = backoff
        self.interval_s = interval_s
        self.state = WorkerState()
        self.scheduled: float | None = None
        self.running = False
        self.stopped = False  # stop(): a check or sync under way schedules nothing more
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.tick)
        # while it waits to try again, ``changed`` fires every second: the status line
        # and the Sync page count the seconds down (``WorkerState.seconds_left``)
        self.countdown = QTimer(self)
        self.countdown.setInterval(1000)
        self.countdown.timeout.connect(lambda: self.changed.emit(self.state))
        self._progressed.connect(self._progress)
        self._force = False
        self.clock_offset: float | None = None  # as the last answer of the server showed

    @property
    def backoff(self) -> sync_view.Backoff:
        if self._backoff is None:
            self._backoff = _services().Backoff()
        return self._backoff

    # -- driving ---------------------------------------------------------------------------

    def start(self, delay: float = 0) -> None:
        """Begin: one check after ``delay`` seconds, then on the timer."""
        self.stopped = False
        self.schedule(delay)

    def stop(self) -> None:
        """No more checks: the timer stops, and a check or sync under way, once it ends,
        neither starts a sync nor schedules the next check."""
        self.stopped = True
        self.timer.stop()
        self.countdown.stop()
        self.scheduled = None

    def schedule(self, seconds: float) -> None:
        if self.stopped:
            return
        self.scheduled = seconds
        self.timer.start(int(seconds * 1000))

    def sync_now(self) -> None:
        """The person asked: skip the wait and the metered-link question."""
        self._force = True
        self.timer.stop()
        self.tick()

    def tick(self) -> None:
        """Check the server; sync if it answers. Does nothing while a sync runs."""
        if self.running:
            return
        self.running = True
        self.timer.stop()
        self.scheduled = None
        store, factory = self.ctx.store, self.http_factory

        def check() -> tuple[sync_view.SyncOverview, sync_view.Probe | None]:
            services = _services()
            view = services.overview(store)
            if not view.registered:
                return view, None
            return view, services.probe(store, factory or services.quick_http)

        self._set(WorkerState(Phase.CHECKING))
        self.ctx.ops.run(check, on_success=self._checked, on_failure=self._failed, owner=self)

    def _checked(self, result: tuple[sync_view.SyncOverview, sync_view.Probe | None]) -> None:
        view, probe = result
        if self.stopped:  # the window closed while the server was asked
            self.running = False
            return
        if probe is None:
            self._finish(WorkerState(Phase.NOT_SET_UP), self.interval_s)
            return
        if probe.clock_offset is not None:
            self.clock_offset = probe.clock_offset
        if not probe.reachable:
            delay = self.backoff.next_delay(probe.retry_after)
            # an untrusted certificate is an error a person must see, not "offline"
            if probe.busy:
                phase = Phase.BUSY
            elif probe.error:
                phase = Phase.ERROR
            else:  # "Offline" sent a caseworker looking for a signal the laptop had
                phase = Phase.DOWN if probe.refused else Phase.OFFLINE
            self._finish(WorkerState(phase, retry_in=delay, error=probe.error), delay)
            return
        force, self._force = self._force, False
        if not force and _services().needs_confirmation(view, probe.resend_bytes):
            question = tr(
                "ui.sync_page.metered_ask",
                size=_human_size(view.bytes_to_send + probe.resend_bytes),
                received=_human_size(view.fetch_bytes),
            )
            if not self.ctx.dialogs.confirm(question):
                self._finish(WorkerState(Phase.HELD), self.interval_s)
                return
        self._sync()

    def _sync(self) -> None:
        store, factory = self.ctx.store, self.http_factory
        emit = self._progressed.emit
        self._set(WorkerState(Phase.SYNCING))
        self.ctx.ops.run(
            lambda: _services().run_sync(
                store,
                factory or _services().default_http,
                on_progress=lambda stage, done, total: emit(stage, done, total),
            ),
            write=True,
            on_success=self._synced,
            on_failure=self._failed,
            owner=self,
        )

    def _progress(self, stage: str, done: int, total: int) -> None:
        if self.state.phase is Phase.SYNCING:
            self._set(replace(self.state, stage=stage, done=done, total=total))

    def _synced(self, summary: Any) -> None:
        if summary.ok:
            self.backoff.reset()
            self._finish(WorkerState(Phase.IDLE), self.interval_s)
        else:
            error = str(summary.error or "")
            if summary.progressed:
                # cut off after moving something: the link comes and goes, and each try
                # gets further; waiting longer each time would waste the moments it is up
                self.backoff.reset()
            # a busy server's Retry-After is a floor for the next try, as at the probe
            delay = self.backoff.next_delay(summary.retry_after)
            if summary.retry_after is not None:
                phase = Phase.BUSY
            elif not _services().offline(error):
                phase = Phase.ERROR
            elif summary.progressed:  # what it moved is kept: not to be thought lost
                phase = Phase.CUT
            else:
                phase = Phase.DOWN if _services().refused(error) else Phase.OFFLINE
            self._finish(WorkerState(phase, retry_in=delay, error=error), delay)
        self.synced.emit(summary)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserError) and exc.code == "sync.not_registered":
            self._finish(WorkerState(Phase.NOT_SET_UP), self.interval_s)
            return
        delay = self.backoff.next_delay()
        # a bug's name tells a caseworker nothing: it has been reported (the crash log and
        # its dialog, once), the line says "failed"
        message = exc.translated(_lang()) if isinstance(exc, UserError) else None
        self._finish(WorkerState(Phase.ERROR, retry_in=delay, error=message), delay)

    def _finish(self, state: WorkerState, delay: float) -> None:
        self.running = False
        if state.retry_in is not None:
            state = replace(state, retry_at=time.monotonic() + delay)
        self._set(state)
        self.schedule(delay)

    def _set(self, state: WorkerState) -> None:
        self.state = replace(state, clock_offset=self.clock_offset)
        if self.state.waiting and not self.stopped:
            self.countdown.start()
        else:
            self.countdown.stop()
        self.changed.emit(self.state)


def _services() -> Any:
    """:mod:`desktop.services.sync_view`, imported on first use (see the module docstring)."""
    from desktop.services import sync_view

    return sync_view


def _lang() -> str:
    from desktop.ui.i18n import current

    return current()


def when_text(iso: str | None) -> str:
    """``last_sync_at`` (UTC ISO) as local date and time; Buddhist Era in Thai."""
    return format_moment(iso) if iso else tr("ui.sync_status.never")


def status_text(
    state: WorkerState, view: sync_view.SyncOverview | None, now: float | None = None
) -> str:
    """The status bar line: connection, progress or last sync, waiting, failed, conflicts."""
    return STATUS_SEPARATOR.join(status_parts(state, view, now))


STATUS_SEPARATOR = " · "


def status_parts(
    state: WorkerState, view: sync_view.SyncOverview | None, now: float | None = None
) -> list[str]:
    """The status line's parts: what sync is doing (or why it failed) first, then when
    it last synced and the counts (:func:`status_text` joins them). ``now``
    (:func:`time.monotonic`): the seconds to the next try count down from it."""
    phase = state.phase
    if phase is Phase.SYNCING:
        if state.stage in ("upload", "download"):  # attachment stages report bytes
            key = f"ui.sync_status.files_{state.stage}"
            kilobytes, total = round(state.done / 1024), round(state.total / 1024)
            parts = [tr(key, kilobytes=kilobytes, total=total)]
        elif state.stage in ("push", "pull") and state.total:
            # a push knows how many were waiting; a pull from form 7 on estimates its rows
            key = (
                "ui.sync_status.receiving_of"
                if state.stage == "pull"
                else "ui.sync_status.sending_of"
            )
            parts = [tr(key, count=state.done, total=state.total)]
        else:
            key = "ui.sync_status.receiving" if state.stage == "pull" else "ui.sync_status.sending"
            parts = [tr(key, count=state.done)]
    elif phase in RETRYING:
        parts = [tr(f"ui.sync_status.{phase.value}", seconds=state.seconds_left(now))]
    elif phase is Phase.NOT_SET_UP:
        parts = [tr("ui.sync_status.not_set_up")]
    elif phase is Phase.ERROR and state.error:
        # why, in the reader's language: "your account was disabled by an administrator"
        reason = _services().reason_text(state.error, tr)
        parts = [tr("ui.sync_status.error_reason", reason=reason)]
    elif phase is Phase.ERROR:
        parts = [tr("ui.sync_status.error")]
    elif phase is Phase.HELD:
        parts = [tr("ui.sync_status.held")]
    elif phase is Phase.CHECKING:
        parts = [tr("ui.sync_status.checking")]
    else:
        parts = []
    if view is not None:
        if phase not in (Phase.SYNCING, Phase.CHECKING, Phase.NOT_SET_UP):
            parts.append(tr("ui.sync_status.last", when=when_text(view.last_sync)))
        if view.waiting:
            parts.append(tr("ui.sync_status.waiting", count=view.waiting))
        if view.failed:
            parts.append(tr("ui.sync_status.failed", count=view.failed))
        if view.open_conflicts:
            parts.append(tr("ui.sync_status.conflicts", count=view.open_conflicts))
    offset = state.clock_offset
    if offset is not None and _services().clock_is_off(offset):
        # positive: the server is ahead, so this device's clock is behind
        key = "ui.sync_status.clock_behind" if offset > 0 else "ui.sync_status.clock_ahead"
        parts.append(tr(key, amount=_duration(abs(offset))))
    return parts


def _duration(seconds: float) -> str:
    """Minutes up to two hours, hours up to two days, then days."""
    if seconds < 7200:
        return tr("ui.duration.minutes", count=round(seconds / 60))
    if seconds < 172_800:
        return tr("ui.duration.hours", count=round(seconds / 3600))
    return tr("ui.duration.days", count=f"{round(seconds / 86400):,}")
