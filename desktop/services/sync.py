"""The sync use case: push the outbox, pull the log, apply it, report what happened.

Guarantees kept here (design.md §4):

- An outbox entry is deleted only in the transaction that records the server's
  acknowledgement, so a crash at any point re-sends it (and the server's idempotent push
  answers ``duplicate``): nothing is lost, nothing is applied twice.
- Each pulled page is applied in one transaction together with the new cursor, so a
  dropped link resumes from the last committed page.
- A field with an unsent local edit keeps the local value when a pulled change arrives;
  the local edit is pushed later and the server's decision comes back in a later pull.
- ``Retry-After`` answers are honoured with bounded backoff; a refused change stays in
  the outbox with its error so the Sync page can show it and offer a retry.
- When the account's offices change (errno 123 on a pull), the device fetches the earlier
  log of the offices it gained and removes the rows of offices outside its scope, except
  rows with changes still in the outbox: those stay, marked as refused, so nothing typed
  here disappears without a word (docs/sync-protocol.md §6, "Scope changes").
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from sqlalchemy import delete, func, insert, literal, null, or_, select, update
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from desktop.domain import catalogue
from desktop.domain.errors import UserError
from desktop.models import case_numbers
from desktop.models import store as store_module
from desktop.models.base import (
    RowWriter,
    Synced,
    listed,
    synced_classes,
    table_of,
    update_rows,
    utcnow,
)
from desktop.models.entities import (
    AuditEvent,
    ChecklistItem,
    OutboxEntry,
    SentChange,
    Setting,
    SyncState,
)
from desktop.models.recorder import value_now
from desktop.models.search import reindex_people, remove_people
from desktop.models.secret_store import SecretStore
from desktop.models.store import Store
from desktop.models.sync_records import SyncConflict, SyncMerge
from desktop.services import steps, sync_attachments
from sync import protocol as p
from sync.client import pacing
from sync.client.http import (
    GZIP_LEVEL,
    REFUSED,
    REQUEST_OVERHEAD_BYTES,
    UNTRUSTED,
    ServerChanged,
    ServerUnreachable,
    SyncClient,
    SyncHttpError,
    UntrustedServer,
    encode_batch,
)

CURSOR_KEY = "cursor"
# the account's scope version the device last pulled under (none yet: 0, never a server's)
SCOPE_KEY = "scope_version"
# a catch-up on offices the account gained: {"offices": [...] or null (the whole scope),
# "until": the cursor reached before}, and how far it got
CATCH_UP_KEY = "catch_up"
CATCH_UP_CURSOR_KEY = "catch_up_cursor"
# catalogue.fields_fingerprint() of the app that read the pages pulled so far
FIELDS_KEY = "catalogue_fields"
# the error an outbox entry is parked with when its row's office left the account's scope
OFFICE_LEFT_ERROR = "errno 120: the row's office left this account's scope"
# a pulled value this app cannot read: ``unreadable: person_name.raw_input: expected …``
UNREADABLE = "unreadable"
SERVER_KEY = "server_url"
# the server's change log this device registered under (``X-Sapan-Log``): its cursor, scope
# version and catch-up are positions in that log and mean nothing in another
LOG_KEY = "server_log"
# the highest seq the server gave a change this device sent (it may pass the cursor when a
# pull did not follow the push): what a restored server must hold for nothing to be lost
ACKED_KEY = "acked_through"
# acknowledged changes are kept this long (``sent_change``), to be sent again to a server
# restored from a backup made before they reached it (:func:`resend_lost`)
SENT_KEPT_DAYS = 90
# the highest seq given to a kept change that was dropped (older than SENT_KEPT_DAYS), and
# the day the kept ones were last looked through
SENT_DROPPED_KEY = "sent_dropped_through"
SENT_PRUNED_ON_KEY = "sent_pruned_on"
# the restored head past which this device's conflict records are to be read again from
# the server (:meth:`SyncService.recheck_conflicts`)
RECHECK_CONFLICTS_KEY = "recheck_conflicts_past"
# the restored head past which the merges (and undos) this device's account made are to
# be made again (:meth:`SyncService.redo_merges`)
REDO_MERGES_KEY = "redo_merges_past"
# what a sync's error starts with when the server is not the one the cursor belongs to
# (another log, or one that ends before the cursor): only a person can mend those
SERVER_CHANGED = "server_changed"
SERVER_BEHIND = "server_behind"
LOG_FAILURES = (SERVER_CHANGED, SERVER_BEHIND)
# the starts of a sync's errors that are not a server's errno: each has its message
SYNC_FAILURES = ("unreachable", UNREADABLE, *LOG_FAILURES)
# the refusal to register a device under another server's log without being asked to
OTHER_SERVER = "sync.other_server"
TOKEN_SECRET = "sync-device-token:{store_id}"
MAX_WAIT_SECONDS = 60.0
T = TypeVar("T")


class ServerBehind(Exception):
    """The server's log ends before this device's place in it (its cursor, or the highest
    seq given to a change it sent): it lost changes the device has (a database restored
    from an older backup). Nothing is sent to it: changes it numbers anew up to there
    would never be pulled here."""

    def __init__(self, head: int, reached: int) -> None:
        super().__init__(f"the server's log ends at {head}, this device had reached {reached}")


@dataclass
class SyncSummary:
    """What one sync did; printed by ``sapan sync`` and shown in the status bar."""

    pushed: int = 0
    duplicates: int = 0
    # this device's changes the server took but marked as conflicting (push answers)
    conflicts: int = 0
    # changes the server refused in this sync (they stay parked in the outbox)
    rejected: int = 0
    # every row the pull applied, this device's own changes come back included
    pulled_rows: int = 0
    # rows the pull brought that are new here or were not this sync's own changes come
    # back: what others changed (the summary's "received")
    received_rows: int = 0
    pages: int = 0
    merges: int = 0
    # every conflict record pulled, resolved ones included
    conflicts_received: int = 0
    # conflicts still open that this device had not seen before: the ones to review
    new_conflicts: int = 0
    cursor: int = 0
    # the account's offices had changed: rows of offices it left removed from this device
    # (rows with unsent changes are kept), and rows of earlier pages of offices it gained
    scope_changed: bool = False
    removed_rows: int = 0
    caught_up_rows: int = 0
    waiting: int = 0
    failed: int = 0
    retries: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    # the sync ran to its end; refused changes do not make it False (see ``refused``)
    ok: bool = True
    error: str | None = None
    # a busy server's Retry-After (seconds), when the sync stopped on it: the next try
    # waits at least this long
    retry_after: float | None = None
    wipe: bool = False
    attachments_uploaded: int = 0
    attachments_downloaded: int = 0
    attachments_failed: int = 0
    # attachment bytes the server took or this device kept in this sync, of uploads and
    # downloads a dropped link cut off included (they go on from there next time)
    attachment_bytes: int = 0
    # changes sent again: the server was restored from a backup made before they reached it
    resent: int = 0
    # merges (and undos) this device's account made that a restored server had lost, made
    # again; and those it refused: {"id", "entity", "source_id", "target_id", "undone",
    # "errno"} each
    merges_redone: int = 0
    merges_not_redone: list[dict[str, Any]] = field(default_factory=list)
    # coordinators' decisions on conflicts that a restored server had lost, made again
    decisions_redone: int = 0
    # case numbers moved from a provisional block to the server's: [old, new] pairs
    renumbered: list[tuple[str, str]] = field(default_factory=list)
    # every change parked in the outbox after the sync, refused now or before
    refused: list[Refusal] = field(default_factory=list)
    # (entity, row id) of the changes this sync pushed and the server took as they were
    _sent: set[tuple[str, str]] = field(default_factory=set, repr=False)
    # (entity, row id) -> the highest seq of a batch an earlier sync pushed that changed
    # the row, when that sync's pull stopped short of it: the row coming back at or
    # below it is this device's own too
    _echo: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)
    # the pull brought checklist items: twins may have met (steps.merge_twin_items)
    _checklists: bool = field(default=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["_sent"], data["_echo"], data["_checklists"]
        return data

    def own(self, entity: str, row_id: str, version: int) -> bool:
        """Whether a pulled row at ``version`` is only this device's own change coming
        back (pushed by this sync, or by an earlier one whose pull stopped short)."""
        key = (entity, row_id)
        return key in self._sent or version <= self._echo.get(key, 0)

    @property
    def progressed(self) -> bool:
        """Something this sync moved stays moved, though a dropped link cut it off:
        changes the server took, rows pulled, attachment bytes either way. The app's
        worker tries such a sync again soon instead of waiting longer each time: on a 2G
        link that drops every few minutes, each try gets further."""
        return bool(self.pushed or self.duplicates or self.pulled_rows or self.attachment_bytes)

    @property
    def error_reason(self) -> tuple[str, dict[str, Any]] | None:
        """Why the sync stopped early, as a message key and its parameters."""
        return reason(self.error) if self.error else None

    def renumbered_text(self) -> str:
        """The changed case numbers as ``old → new``, comma-separated, for messages."""
        return ", ".join(f"{old} → {new}" for old, new in self.renumbered)


@dataclass(frozen=True)
class Refusal:
    """A change the server refused: what it was and the server's error number."""

    entity: str
    field: str
    row_id: str
    errno: int | None
    error: str


_ERRNO = re.compile(r"^errno (\d+)")
# server error numbers with a message of their own; others show their number
_REASONS: dict[int, str] = {
    p.Errno.OUT_OF_SCOPE: "sync.reason.out_of_scope",
    p.Errno.DEVICE_REVOKED: "sync.reason.revoked",
    p.Errno.ACCOUNT_DISABLED: "sync.reason.account_disabled",
    p.Errno.SERVICE_BUSY: "sync.reason.busy",
    p.Errno.ROW_OFFICE_UNKNOWN: "sync.reason.office_unknown",
    p.Errno.INVALID_TOKEN: "sync.reason.not_registered",
    p.Errno.MISSING_TOKEN: "sync.reason.not_registered",
}


def errno_of(error: str) -> int | None:
    """The server's error number in a stored error (``errno 120: …``), else None."""
    found = _ERRNO.match(error)
    return int(found.group(1)) if found else None


# server error numbers that refuse a change for its value: each says what to do, naming
# the detail at fault (``entity`` and ``field`` among the parameters)
_VALUE_REASONS: dict[int, str] = {
    p.Errno.VALUE_TOO_LONG: "sync.reason.too_long",
    p.Errno.BATCH_TOO_LARGE: "sync.reason.too_big",  # one change alone (see SyncService.push)
    p.Errno.WRONG_TYPE: "sync.reason.bad_value",
    p.Errno.REQUIRED_VALUE: "sync.reason.bad_value",
    p.Errno.BAD_ENCODING: "sync.reason.bad_value",
    p.Errno.BAD_ATTACHMENT_NAME: "sync.reason.bad_value",
    p.Errno.UNKNOWN_ENTITY: "sync.reason.unknown_detail",
    p.Errno.UNKNOWN_FIELD: "sync.reason.unknown_detail",
    p.Errno.APPEND_ONLY: "sync.reason.append_only",
}
# refused for the value itself: mending the detail in the case file is the way out, so
# Retry sends such a change with its row's value as it is then (``retry_failed``)
_MENDABLE = frozenset(
    {
        p.Errno.VALUE_TOO_LONG,
        p.Errno.BATCH_TOO_LARGE,
        p.Errno.WRONG_TYPE,
        p.Errno.REQUIRED_VALUE,
        p.Errno.BAD_ENCODING,
        p.Errno.BAD_ATTACHMENT_NAME,
    }
)
# ``errno 105: person_name.family_name: longer than 200``: the detail the server names
# (inside a new row, the field at fault), then its reason
_DETAIL = re.compile(r"^errno \d+: ([a-z_]+)\.([a-z_]+|\*): (.*)$", re.DOTALL)
_UNREADABLE = re.compile(rf"^{UNREADABLE}: ([a-z_]+)\.([a-z_]+): ")


class UnreadablePage(Exception):
    """A pulled page holds a value this version of the app cannot read."""


def reason(error: str, entity: str = "", field: str = "") -> tuple[str, dict[str, Any]]:
    """A stored sync error (``unreachable: ReadTimeout``, ``errno 120: …``) as a message
    key and parameters, so a person reads it in their language, not the server's English.

    A change refused for its value names the detail at fault as ``entity`` and ``field``
    (the one the server's message names, else the change's own, ``entity`` and ``field``
    given here) and the server's ``reason``; the reader's text names the detail through
    :func:`desktop.domain.i18n.detail_text` (``sync_view.reason_text``)."""
    if error.startswith(LOG_FAILURES):
        return f"sync.reason.{error.partition(':')[0]}", {}
    if error.startswith("unreachable"):
        if UNTRUSTED in error:
            return "sync.reason.untrusted_certificate", {}
        if REFUSED in error:
            return "sync.reason.refused", {}
        timeout = "Timeout" in error
        return ("sync.reason.timeout" if timeout else "sync.reason.unreachable"), {}
    unreadable = _UNREADABLE.match(error)
    if unreadable is not None:
        return "sync.reason.unreadable", {"entity": unreadable[1], "field": unreadable[2]}
    errno = errno_of(error)
    if error == OFFICE_LEFT_ERROR:
        return "sync.reason.office_left", {}
    if errno is None:
        return "sync.reason.other", {"errno": "?"}
    value_key = _VALUE_REASONS.get(errno)
    if value_key is not None:
        named = _DETAIL.match(error)
        if named is not None:
            entity, field, why = named.groups()
        else:
            why = error.partition(": ")[2]
        return value_key, {"entity": entity, "field": field, "reason": why}
    if errno == p.Errno.INVALID_PAYLOAD and entity:
        # a change the push form itself refuses (a stamp past 9999, an id spelled
        # otherwise): parked by its index, never mended by retrying
        return "sync.reason.malformed", {}
    key = _REASONS.get(errno)
    return (key, {}) if key else ("sync.reason.other", {"errno": errno})


@dataclass
class SyncService:
    """One device's sync against one server; ``sleep`` is injectable for tests."""

    store: Store
    client: SyncClient
    # the first push batch's size: batches answered quickly double it, up to
    # ``max_batch_size`` (and the server's limits), slow or retried ones halve it back
    batch_size: int = p.DEFAULT_BATCH
    max_batch_size: int = p.MAX_BATCH
    # the first pull page's size; pages that arrive quickly double it, up to
    # ``max_page_size`` (and the server's limit), slow or retried ones halve it back
    page_size: int = p.DEFAULT_PAGE
    max_page_size: int = p.MAX_PAGE
    max_retries: int = 5
    sleep: Callable[[float], None] = time.sleep
    on_progress: Callable[[str, int, int], None] | None = None
    secrets: SecretStore | None = None  # None: the OS keyring
    _classes: dict[str, type[Synced]] = field(default_factory=synced_classes)
    # the push and pull forms both ends know, asked once per sync (GET /info)
    _forms: tuple[int, int] | None = field(default=None, init=False)
    _max_page: int = field(default=p.MAX_PAGE, init=False)  # the server's, with the forms
    _max_batch: int = field(default=p.DEFAULT_BATCH, init=False)  # the server's, likewise
    _max_chunk: int = field(default=p.MAX_CHUNK_BYTES, init=False)  # likewise
    _max_body: int = field(default=p.MAX_BODY_BYTES, init=False)

    def sync(self) -> SyncSummary:
        """Push everything waiting, then pull until the server has nothing newer."""
        refuse_demo_store(self.store)
        summary = SyncSummary()
        started = time.monotonic()
        sent0, received0 = self.client.bytes_sent, self.client.bytes_received
        self._forms = None  # the server may have been upgraded or replaced since
        try:
            self.same_log(summary)
            prune_sent(self.store)  # after the log's check: a resend takes what it keeps
            summary._echo = self._echoes()  # before this sync's pushes join them
            self.case_numbers(summary)
            self.push(summary)
            # rows first: case data never waits behind a big scan on a flaky link
            sync_attachments.sync_uploads(
                self.store, self.client, summary, self.on_progress, self._max_chunk
            )
            self.redo_merges(summary)  # after the rows they move went again
            self.pull(summary)
            self.recheck_conflicts(summary)
            if summary._checklists:
                # two laptops that opened the same step listed its documents twice
                steps.merge_twin_items(self.store)
            sync_attachments.sync_downloads(self.store, self.client, summary, self.on_progress)
        except ServerChanged as exc:  # before ServerUnreachable, which it is
            summary.ok, summary.error = False, f"{SERVER_CHANGED}: {exc}"
        except ServerUnreachable as exc:
            summary.ok, summary.error = False, f"unreachable: {exc}"
        except ServerBehind as exc:
            summary.ok, summary.error = False, f"{SERVER_BEHIND}: {exc}"
        except UnreadablePage as exc:
            summary.ok, summary.error = False, f"{UNREADABLE}: {exc}"
        except SyncHttpError as exc:
            summary.ok, summary.error = False, f"errno {exc.errno}: {exc.message}"
            summary.retry_after = exc.retry_after if exc.retryable else None
            summary.wipe = exc.errno == p.Errno.DEVICE_REVOKED and exc.details.get("wipe") is True
        summary.waiting, summary.failed = self.outbox_counts()
        summary.refused = self.refusals() if summary.failed else []
        if summary.wipe:
            wipe_device(self.store, self.secrets, unsent=summary.waiting + summary.failed)
        elif summary.pushed:
            self.store.compact()  # acknowledged outbox pages go back to the file system
        summary.bytes_sent = self.client.bytes_sent - sent0
        summary.bytes_received = self.client.bytes_received - received0
        summary.seconds = round(time.monotonic() - started, 3)
        return summary

    def same_log(self, summary: SyncSummary) -> None:
        """Before anything is sent: make sure the server keeps the log this device's cursor
        belongs to (its answers name it; the first sync of a device registered before
        servers did keeps the one it finds), and that the log reaches the cursor.

        Another log (:class:`ServerChanged`, raised by the client on any answer) or one that
        ends before the cursor (:class:`ServerBehind`) stops the sync: pulling from the cursor
        would skip what that log numbers below it, and what the device sends would be
        acknowledged by a server that may lose it or numbers it where other devices'
        cursors have passed. The person is told to register again (:func:`register_device`
        with ``other_server``) or to call the administrator."""
        self.client.expected_log = None  # this answer is read whatever log it names
        self.forms(summary)  # GET /info names the log, its head and the log it continues
        summary.resent += check_log(self.store, self.client)

    def case_numbers(self, summary: SyncSummary) -> None:
        """Once per registration: ask the server for this device's block of case numbers
        and move the cases that never reached the server onto it, before they are pushed
        (see :mod:`desktop.models.case_numbers`)."""
        with self.store.read() as session:
            if case_numbers.server_block(session) is not None:
                return
            above = case_numbers.highest_block(session)
        try:
            block = self.client.case_block(above)
        except SyncHttpError as exc:
            if exc.errno == p.Errno.NO_CASE_BLOCK or exc.status in (404, 405):
                return  # none left, or a server from before blocks: provisional numbers
            raise
        with self.store.session() as session:
            session.merge(Setting(key=case_numbers.BLOCK_SETTING, value=block))
            session.flush()
            moved = case_numbers.renumber_provisional(session, self.store.device_id)
        summary.renumbered = sorted(moved.items())

    def recheck_conflicts(self, summary: SyncSummary) -> None:
        """Once after taking a restored database's new log (:func:`resend_lost`): the
        conflict records this device has that the old log numbered past the restored
        head are read again (``GET /v1/conflicts``). One the server no longer has (made
        after the backup; a change sent again that still conflicts made a new one, which
        the pull brings) is dropped. One it still has but holds open again was decided
        after the backup: where this device's account decided it, the decision is made
        again (a flip writes its value again, which the next pull brings to every
        device, as the lost one had); otherwise, and where the server refuses (decided
        again there meanwhile), the server's copy replaces this device's."""
        past = sync_state(self.store, RECHECK_CONFLICTS_KEY)
        if past is None:
            return
        held = {record.id: record for record in self.client.conflicts()}
        with self.store.read() as session:
            decided = session.execute(
                select(SyncConflict.id, SyncConflict.status).where(
                    SyncConflict.seq > int(past),
                    SyncConflict.status != "open",
                    SyncConflict.resolved_by == self.store.user,
                )
            ).all()
        for conflict_id, status in decided:
            if conflict_id not in held or held[conflict_id].status != "open":
                continue
            try:
                held[conflict_id] = self.client.resolve(conflict_id, flip=status == "flipped")
            except SyncHttpError as exc:
                if exc.status >= 500:
                    raise
                continue  # decided again meanwhile, or no longer this account's: as it is
            summary.decisions_redone += 1
        with self.store.remote_session() as session:
            stale = list(
                session.scalars(select(SyncConflict.id).where(SyncConflict.seq > int(past)))
            )
            gone = [conflict_id for conflict_id in stale if conflict_id not in held]
            if gone:
                session.execute(delete(SyncConflict).where(SyncConflict.id.in_(listed(gone))))
            keep_records(session, conflicts=[held[c] for c in stale if c in held])
            session.execute(delete(SyncState).where(SyncState.key == RECHECK_CONFLICTS_KEY))

    def redo_merges(self, summary: SyncSummary) -> None:
        """Once after taking a restored database's new log (:func:`resend_lost`): the
        merges this device's account made that the old log numbered past the restored head
        are made again, under their own ids (so every device's copy of the record is the
        one the server now has), and the undos of them likewise (whoever made the undo:
        a record names the merge's author): the restored server lost them, as it lost the
        changes sent again. A merge the server has (another laptop of the account made it
        again first) is answered as it stands; an undo it cannot find (the merge was lost
        too, or is undone already) needs nothing. One it refuses (the rows changed since)
        is listed in the summary for the coordinator."""
        past = sync_state(self.store, REDO_MERGES_KEY)
        if past is None:
            return
        with self.store.read() as session:
            mine = list(
                session.scalars(
                    select(SyncMerge)
                    .where(SyncMerge.seq > int(past), SyncMerge.merged_by == self.store.user)
                    .order_by(SyncMerge.seq)
                )
            )
        for merge in mine:
            try:
                if merge.undone:
                    record = self.client.undo_merge(merge.id)
                else:
                    # under its own id where the server takes one (else a new id: the
                    # laptops keep the lost record beside the new one)
                    same = merge.id if self.client.takes_merge_ids else None
                    record = self.client.merge(
                        merge.entity, merge.source_id, merge.target_id, merge_id=same
                    )
            except SyncHttpError as exc:
                if merge.undone and exc.errno == p.Errno.NOT_FOUND:
                    continue  # nothing in force to undo
                if exc.status >= 500:
                    raise
                summary.merges_not_redone.append(
                    {
                        "id": merge.id,
                        "entity": merge.entity,
                        "source_id": merge.source_id,
                        "target_id": merge.target_id,
                        "undone": merge.undone,
                        "errno": exc.errno,
                    }
                )
                continue
            with self.store.remote_session() as session:
                keep_records(session, merges=[record])
            summary.merges_redone += 1
        with self.store.remote_session() as session:
            session.execute(delete(SyncState).where(SyncState.key == REDO_MERGES_KEY))

    # -- push ------------------------------------------------------------------------------

    def push(self, summary: SyncSummary) -> None:
        """Send the outbox in batches, one request in flight at a time.

        While the server works on a batch, this thread acknowledges the previous one and
        reads, encodes and compresses the next, so the device's work hides behind the
        server's (encoding and compressing a batch of 5,000 changes takes about 26 ms,
        which between two requests was an eighth of the push's time on loopback).
        Requests still go one after the other, in outbox order; a batch is acknowledged
        only from its answer. Batches follow the link as pull pages do
        (:func:`sync.client.pacing.next_size`), within the server's limits (:meth:`_fitting`).
        """
        # how many are waiting as the push starts: the progress says "n of total" (edits
        # made meanwhile go too, and raise it)
        total = self.outbox_counts()[0] if self.on_progress is not None else 0
        with ThreadPoolExecutor(1, thread_name_prefix="sapan-push") as link:
            after = 0
            size = self.batch_size
            entries = self._outbox_batch(after, size)
            answered: tuple[list[OutboxRow], p.PushBatchResponse] | None = None
            form = self.forms(summary)[0] if entries else 2
            most = ceiling = max(size, min(self.max_batch_size, self._max_batch))
            body: bytes | None = None  # the body of ``entries``, once prepared
            while entries:
                if body is None:
                    entries, body = self._fitting(entries, form)
                sent = link.submit(
                    self._timed, functools.partial(self.client.push_batch, body), summary
                )
                if answered is not None:
                    self._acknowledge(*answered, summary, total)
                    answered = None
                following = self._outbox_batch(entries[-1].seq, size)
                upcoming = self._fitting(following, form) if following else (following, None)
                try:
                    answer, seconds, retried = sent.result()
                except SyncHttpError as exc:
                    spoiled = _spoiled(exc, len(entries))
                    if spoiled:
                        # changes that spoil the batch: park each with its error, go on
                        for error, indexes in spoiled.items():
                            self._park([entries[index].seq for index in indexes], error)
                            summary.rejected += len(indexes)
                        self._push_progress(summary, total)
                    elif exc.status == 413 and len(entries) > 1:
                        # more than something on the way takes (a proxy's limit): halve
                        size = most = max(1, len(entries) // 2)
                    elif exc.status == 413:
                        # one change bigger than the server takes: it can never go; the
                        # halving was its doing, so the rest start again at the usual size
                        error = f"errno {p.Errno.BATCH_TOO_LARGE:d}: bigger than the server takes"
                        self._park([entries[0].seq], error)
                        summary.rejected += 1
                        self._push_progress(summary, total)
                        size, most = min(self.batch_size, ceiling), ceiling
                    else:
                        raise
                    entries, body = self._outbox_batch(after, size), None
                    continue
                least = min(self.batch_size, most)
                size = pacing.next_size(size, seconds, retried, least=least, most=most)
                answered = (entries, answer)
                after = entries[-1].seq
                entries, body = upcoming
            if answered is not None:
                self._acknowledge(*answered, summary, total)

    def _fitting(self, entries: list[OutboxRow], form: int) -> tuple[list[OutboxRow], bytes]:
        """The first of ``entries`` that fit the server's limits, as a push body ready to
        send (:meth:`SyncClient.prepare`): at most its ``max_batch`` changes and
        ``max_body_bytes`` of JSON (halved until they fit; one change that does not is
        sent alone, and refused: see :meth:`push`)."""
        entries = entries[: self._max_batch]
        body = batch_body(entries, form)
        while len(body) > self._max_body and len(entries) > 1:
            entries = entries[: len(entries) // 2]
            body = batch_body(entries, form)
        return entries, self.client.prepare(body)

    def forms(self, summary: SyncSummary) -> tuple[int, int]:
        """The most compact (push, pull) forms both ends know, asked once per sync.

        Push 3 else 2; pull 7, 6, 5 or 4 (which name the creators of new rows, so this
        device derives their creation events; 5 also sends stamps as differences, 6 the rows
        each merge moved, 7 the log's head, for the pull's progress), else 3, else 2. A
        server before protocol 3 still stores the creation events devices sent it and
        serves them as rows.
        """
        if self._forms is None:
            info = self._with_retry(self.client.info, summary)
            self._forms = (
                max({2, 3} & set(info.push_forms), default=2),
                max(set(p.PULL_FORMS) & set(info.pull_forms), default=2),
            )
            self._max_page = info.max_page
            self._max_batch, self._max_body = info.max_batch, info.max_body_bytes
            self._max_chunk = info.max_chunk_bytes
        return self._forms

    def _outbox_batch(self, after: int, size: int) -> list[OutboxRow]:
        """The next ``size`` waiting outbox entries after outbox seq ``after``."""
        with self.store.read() as session:
            return waiting_entries(session, after, size)

    def _acknowledge(
        self,
        entries: list[OutboxRow],
        answer: p.PushBatchResponse,
        summary: SyncSummary,
        total: int = 0,
    ) -> None:
        """Take a batch's answer in: accepted and duplicate changes leave the outbox,
        refused ones are kept with their error; then report the push's progress (``total``:
        the changes waiting when it started)."""
        if len(answer.results) != len(entries):
            # results are matched by position: a short answer acknowledges nothing
            raise SyncHttpError(502, p.Errno.INTERNAL, "push answer does not match the batch")
        done = False
        # not flushed to disk: a lost acknowledgement only sends the batch again (duplicates)
        with self.store.remote_session(durable=False) as session:
            for entry, (status, _seq, errno, _conflict) in zip(
                entries, answer.results, strict=True
            ):
                # unpacked as a tuple: a Row's attribute costs about 0.3 µs (see OutboxRow)
                seq, _change_id, entity, row_id, *_rest = entry
                if status is p.PushStatus.REJECTED:
                    summary.rejected += 1
                    session.execute(
                        update(OutboxEntry)
                        .where(OutboxEntry.seq == seq)
                        .values(
                            attempts=OutboxEntry.attempts + 1,
                            last_error=f"errno {errno}",
                        )
                    )
                    continue
                done = True
                if status is p.PushStatus.CONFLICT:
                    summary.conflicts += 1
                    summary.pushed += 1
                    continue
                # taken as sent: the row coming back in the pull is this device's own
                summary._sent.add((entity, row_id))
                if status is p.PushStatus.DUPLICATE:
                    summary.duplicates += 1
                else:
                    summary.pushed += 1
            if done:
                top = max((seq for status, seq, *_ in answer.results if seq is not None), default=0)
                _keep_acked(session, top)
                _keep_sent(session, entries[0].seq, entries[-1].seq, top)
                # The batch is every waiting entry between its first and last seq (it was
                # read in seq order), and the refused ones now carry their error: one range
                # delete instead of lists of ids. No entry is loaded in this session, so
                # there is nothing to synchronise: by default SQLAlchemy asks SQLite for
                # every deleted key (RETURNING) to look each up in the session, almost
                # half of the delete's CPU (0.49 against 0.27 s for 92,050 entries).
                session.execute(
                    delete(OutboxEntry).where(
                        OutboxEntry.seq.between(entries[0].seq, entries[-1].seq),
                        OutboxEntry.last_error.is_(None),
                    ),
                    execution_options={"synchronize_session": False},
                )
        self._push_progress(summary, total)

    def _push_progress(self, summary: SyncSummary, total: int) -> None:
        """Report the changes a push has dealt with (refused ones too) of ``total``."""
        if self.on_progress is not None:
            dealt = summary.pushed + summary.duplicates + summary.rejected
            self.on_progress("push", dealt, max(total, dealt))

    def _park(self, seqs: list[int], error: str) -> None:
        with self.store.remote_session() as session:
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.seq.in_(seqs))
                .values(attempts=OutboxEntry.attempts + 1, last_error=error[:500])
            )

    def retry_failed(self) -> int:
        """Put refused changes back in line (the Sync page's Retry). A change refused for
        its value goes as its row is now: the person was told to mend that detail in the
        case file, and a new row refused whole would otherwise carry the old value again
        (notes and audit events, written once, go as they were)."""
        with self.store.remote_session() as session:
            for entry in session.scalars(
                select(OutboxEntry).where(OutboxEntry.last_error.is_not(None))
            ):
                if errno_of(entry.last_error or "") in _MENDABLE:
                    self._mend(session, entry)
            result = session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.last_error.is_not(None))
                .values(last_error=None)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def _mend(self, session: Session, entry: OutboxEntry) -> None:
        """Give a parked change the value its row has now, if this device holds the row."""
        cls = self._classes.get(entry.entity)
        row = session.get(cls, entry.row_id) if cls is not None else None
        if row is None or catalogue.entity(entry.entity).append_only:
            return
        value = value_now(row, entry.field)
        if value is not None:
            entry.value = value

    def refusals(self, limit: int = 200) -> list[Refusal]:
        """The changes parked in the outbox with the server's refusal, oldest first."""
        with self.store.read() as session:
            rows = session.execute(
                select(
                    OutboxEntry.entity,
                    OutboxEntry.field,
                    OutboxEntry.row_id,
                    OutboxEntry.last_error,
                )
                .where(OutboxEntry.last_error.is_not(None))
                .order_by(OutboxEntry.seq)
                .limit(limit)
            )
            return [
                Refusal(entity, name, row_id, errno_of(error or ""), error or "")
                for entity, name, row_id, error in rows
            ]

    def outbox_counts(self) -> tuple[int, int]:
        """(changes waiting, changes refused) in the outbox."""
        with self.store.read() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.last_error.is_(None))
            )
            failed = session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.last_error.is_not(None))
            )
        return int(waiting or 0), int(failed or 0)

    # -- pull ------------------------------------------------------------------------------

    def cursor(self) -> int:
        return int(sync_state(self.store, CURSOR_KEY) or 0)

    def _echoes(self) -> dict[tuple[str, str], int]:
        """The rows earlier syncs pushed that no pull has brought back yet (a dropped link
        cut the pull short), by the highest seq of the batch that changed each: read only
        when the device's place in the log is behind what the server gave its pushes."""
        cursor = self.cursor()
        if int(sync_state(self.store, ACKED_KEY) or 0) <= cursor:
            return {}
        with self.store.read() as session:
            found = session.execute(
                select(SentChange.entity, SentChange.row_id, func.max(SentChange.server_seq))
                .where(SentChange.server_seq > cursor)
                .group_by(SentChange.entity, SentChange.row_id)
            )
            return {(entity, row_id): int(top) for entity, row_id, top in found}

    def pull(self, summary: SyncSummary) -> None:
        """Pull pages until the server has nothing newer (after any catch-up on offices the
        account gained); a scope change the server reports (errno 123) is taken in and the
        pull starts again."""
        form = self.forms(summary)[1]
        self._plan_reread()
        for _attempt in range(3):
            try:
                self._catch_up(summary, form)
                self._pull_pages(summary, form, self.cursor(), CURSOR_KEY)
                return
            except SyncHttpError as exc:
                if exc.errno != p.Errno.SCOPE_CHANGED:
                    raise
                try:
                    change = p.ScopeChanged.model_validate(exc.details)
                except ValueError:
                    raise SyncHttpError(502, p.Errno.INTERNAL, "unreadable scope change") from None
                self.rescope(change, summary)
        raise SyncHttpError(409, p.Errno.SCOPE_CHANGED, "the account's offices keep changing")

    def _scope_version(self) -> int:
        return int(sync_state(self.store, SCOPE_KEY) or 0)

    def _plan_reread(self) -> None:
        """After an update that brought entities or fields the app did not know, plan a
        catch-up on the whole scope up to the cursor: the pages pulled before were read
        without them (an older app skips what it does not know), so without it the rows
        and values sent before the update would never reach this device. A device whose
        pages were read before the digest was kept is read again once, to be sure."""
        fingerprint = catalogue.fields_fingerprint()
        with self.store.read() as session:
            kept = session.get(SyncState, FIELDS_KEY)
            if kept is not None and kept.value == fingerprint:
                return
        cursor = self.cursor()
        with self.store.remote_session() as session:
            if cursor > 0:
                # replaces a catch-up under way (on offices gained): this one covers it
                plan = json.dumps({"offices": None, "until": cursor})
                session.merge(SyncState(key=CATCH_UP_KEY, value=plan))
                session.execute(delete(SyncState).where(SyncState.key == CATCH_UP_CURSOR_KEY))
            session.merge(SyncState(key=FIELDS_KEY, value=fingerprint))

    def _catch_up(self, summary: SyncSummary, form: int) -> None:
        """Finish a catch-up on gained offices: their log up to the cursor reached before
        the scope changed (later entries come with the ordinary pull)."""
        with self.store.read() as session:
            plan = session.get(SyncState, CATCH_UP_KEY)
            done = session.get(SyncState, CATCH_UP_CURSOR_KEY)
            if plan is None:
                return
            spec = json.loads(plan.value)
            since = int(done.value) if done is not None else 0
        offices = spec["offices"]
        pulled = summary.pulled_rows
        self._pull_pages(
            summary,
            form,
            since,
            CATCH_UP_CURSOR_KEY,
            offices=None if offices is None else list(offices),
            until=int(spec["until"]),
        )
        summary.caught_up_rows += summary.pulled_rows - pulled
        with self.store.remote_session() as session:
            session.execute(
                delete(SyncState).where(SyncState.key.in_([CATCH_UP_KEY, CATCH_UP_CURSOR_KEY]))
            )

    def _pull_pages(
        self,
        summary: SyncSummary,
        form: int,
        since: int,
        cursor_key: str,
        *,
        offices: list[str] | None = None,
        until: int | None = None,
    ) -> None:
        """Pull pages from ``since`` until ``more`` is false, fetching the next while
        applying one; each page is applied with its cursor (kept as ``cursor_key``).

        Pages are still requested one after the other (the next one's ``since`` is this
        one's cursor); each is applied with its cursor in one transaction, so a prefetched
        page lost to a crash is simply asked for again. Their size follows the link
        (:func:`sync.client.pacing.next_size`).
        """
        scope = self._scope_version()
        size = self.page_size
        most = max(size, min(self.max_page_size, self._max_page))
        rows_before = summary.pulled_rows  # of a catch-up pulled before, in this sync
        with ThreadPoolExecutor(1, thread_name_prefix="sapan-pull") as link:

            def fetch(since: int, limit: int) -> Future[_Timed[p.PullPage]]:
                call = functools.partial(
                    self.client.pull, since, limit, form, scope=scope, offices=offices, until=until
                )
                return link.submit(self._timed, call, summary)

            coming = fetch(since, size)
            while True:
                page, seconds, retried = coming.result()
                if page.more:
                    size = pacing.next_size(size, seconds, retried, least=self.page_size, most=most)
                    coming = fetch(page.cursor, size)
                try:
                    self.apply_page(page, summary, cursor_key)
                except BaseException:
                    coming.cancel()
                    raise
                summary.pages += 1
                summary.pulled_rows += len(page.rows)
                summary.merges += len(page.merges)
                summary.conflicts_received += len(page.conflicts)
                if cursor_key == CURSOR_KEY:
                    summary.cursor = page.cursor
                if self.on_progress is not None:
                    expected = expected_rows(summary.pulled_rows - rows_before, since, page)
                    total = rows_before + expected if expected else 0
                    self.on_progress("pull", summary.pulled_rows, total)
                if not page.more:
                    return

    def rescope(self, change: p.ScopeChanged, summary: SyncSummary | None = None) -> None:
        """Take in the account's new offices, in one transaction: plan the catch-up on
        offices gained, remove the rows of offices outside the scope (keeping rows with
        changes in the outbox, whose entries are parked as refused), keep the new scope
        and its version, and move the working office into the scope if it left."""
        known = self.store.setting(OFFICES_SETTING, None)
        had_all = bool(self.store.setting(ALL_OFFICES_SETTING, False))
        now = sorted(set(change.offices))
        gained: list[str] | None  # None: every office of the scope
        if known is None:
            gained = None  # what this device pulled under is unknown: all of it again
        elif had_all:
            gained = []
        elif change.all_offices:
            gained = None
        else:
            gained = sorted(set(now) - {str(o) for o in known})
        cursor = self.cursor()
        # read before the write transaction: a second connection opened inside it waits
        # for SQLite's lock (busy_timeout, 10 s) on every rescope
        current_office = self.store.office
        with self.store.remote_session() as session:
            plan = session.get(SyncState, CATCH_UP_KEY)
            if plan is not None:  # one under way: it starts again with the new offices
                pending = json.loads(plan.value)["offices"]
                if pending is None or gained is None:
                    gained = None
                else:
                    gained = sorted(
                        {*pending, *gained} & set(now)
                        if not change.all_offices
                        else {*pending, *gained}
                    )
            session.execute(
                delete(SyncState).where(SyncState.key.in_([CATCH_UP_KEY, CATCH_UP_CURSOR_KEY]))
            )
            if cursor > 0 and (gained is None or gained):
                plan_value = json.dumps({"offices": gained, "until": cursor})
                session.add(SyncState(key=CATCH_UP_KEY, value=plan_value))
            lost: set[str] = set()
            if known is not None and not had_all and not change.all_offices:
                lost = {str(o) for o in known} - set(now)
            removed, blobs = (
                (0, set()) if change.all_offices else self._remove_outside(session, set(now), lost)
            )
            session.merge(SyncState(key=SCOPE_KEY, value=str(change.scope)))
            session.merge(Setting(key=OFFICES_SETTING, value=now))
            session.merge(Setting(key=ALL_OFFICES_SETTING, value=change.all_offices))
            office = working_office(current_office, now, change.all_offices)
            if office != current_office:
                session.merge(Setting(key="office", value=office))
        # once the rows are gone for good: a blob only they named would stay on disk
        sync_attachments.forget_blobs(self.store, blobs)
        if summary is not None:
            summary.scope_changed = True
            summary.removed_rows += removed

    def _remove_outside(
        self, session: Session, scope: set[str], lost: set[str]
    ) -> tuple[int, set[str]]:
        """Delete the rows of offices outside ``scope`` but those with changes in the
        outbox; returns how many, and the blob names of the attachment rows among them.
        The changes of rows of ``lost`` offices (in the scope before) are parked as refused
        with :data:`OFFICE_LEFT_ERROR`: the server would refuse them (errno 120), and the
        Sync page says why.

        Changes parked so before go back in line first: their office may be in the scope
        again (those still outside are parked again here)."""
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.last_error == OFFICE_LEFT_ERROR)
            .values(last_error=None)
        )
        offices = sorted(scope)
        removed = 0
        blobs: set[str] = set()
        gone_people: set[str] = set()
        searched_people: set[str] = set()
        gone_rows: list[str] = []
        for entity, cls in self._classes.items():
            table = table_of(cls)
            person = table.c.person_id if entity in SEARCHED else null()
            outside: dict[str, str | None] = {}
            left: list[str] = []  # rows of offices this account lost
            for row_id, office, owner in session.execute(
                select(table.c.id, table.c.office, person).where(table.c.office.not_in(offices))
            ):
                outside[row_id] = owner
                if office in lost:
                    left.append(row_id)
            if not outside:
                continue
            kept = set(
                session.scalars(
                    select(OutboxEntry.row_id).where(
                        OutboxEntry.entity == entity, OutboxEntry.row_id.in_(listed(outside))
                    )
                )
            )
            parked = [row_id for row_id in left if row_id in kept]
            if parked:
                session.execute(
                    update(OutboxEntry)
                    .where(
                        OutboxEntry.entity == entity,
                        OutboxEntry.row_id.in_(listed(parked)),
                        or_(
                            OutboxEntry.last_error.is_(None),
                            OutboxEntry.last_error.like("errno 120%"),
                        ),
                    )
                    .values(last_error=OFFICE_LEFT_ERROR)
                )
            gone = [row_id for row_id in outside if row_id not in kept]
            if not gone:
                continue
            if entity == "attachment":
                blobs.update(
                    session.scalars(select(table.c.sha256).where(table.c.id.in_(listed(gone))))
                )
            session.execute(delete(table).where(table.c.id.in_(listed(gone))))
            gone_rows.extend(gone)
            removed += len(gone)
            if entity == "person":
                gone_people.update(gone)
            elif entity in SEARCHED:
                searched_people.update(str(outside[r]) for r in gone if outside[r])
        for record in (SyncConflict, SyncMerge):
            session.execute(delete(record).where(record.office.not_in(offices)))
        if gone_rows:  # no copy of their data stays behind (one pass over what was sent)
            session.execute(delete(SentChange).where(SentChange.row_id.in_(listed(gone_rows))))
        remove_people(session, gone_people)
        reindex_people(session, searched_people - gone_people)
        return removed, {name for name in blobs if name}

    def apply_page(
        self, page: p.PullPage, summary: SyncSummary | None = None, cursor_key: str = CURSOR_KEY
    ) -> None:
        """Apply one page and its cursor in one transaction (resumable pull).

        The commit is not flushed to disk: a page a power cut undoes goes with its cursor,
        and the next sync pulls it again. ``summary`` gets the rows others changed and the
        open conflicts new to this device.
        """
        with self.store.remote_session(durable=False) as session:
            ids = _ids_by_entity(page)
            pending = self._pending_fields(session, ids)
            # one query per entity finds which of the page's rows this device has
            known = self._preload(session, ids)
            if summary is not None:
                summary.received_rows += sum(
                    1
                    for row in page.rows
                    if (row.entity, row.id) not in known
                    or not summary.own(row.entity, row.id, row.version)
                )
                summary.new_conflicts += self._new_conflicts(session, page)
                summary._checklists |= any(r.entity == ChecklistItem.__entity__ for r in page.rows)
            # rows are written in bulk (executemany), new ones inserted and known ones
            # updated: an ORM insert per row cost most of a pull of new case files
            now = utcnow()
            connection = session.connection()
            fresh = _NewRows(connection.dialect, now)
            edited: dict[type[Synced], list[dict[str, Any]]] = {}
            try:
                for update_ in page.rows:
                    self._apply_row(update_, pending, known, fresh, edited)
            except catalogue.WireError as exc:
                # the server holds a value this version of the app does not read (the two
                # are of different versions): the page and its cursor are not kept, so
                # the pull goes on from here once the app is updated
                raise UnreadablePage(f"{update_.entity}.{exc}") from exc
            fresh.insert(connection)
            for cls, rows in edited.items():
                update_rows(connection, table_of(cls), rows, now)
            self._own_creations(session, page, known)
            # The search index is local: rebuild it for the people whose names or
            # documents this page brought, or pulled cases could not be found.
            reindex_people(session, _people_touched(page, known))
            keep_records(session, page.merges, page.conflicts)
            if page.hlc:
                self.store.clock.observe(page.hlc)
                session.merge(SyncState(key="hlc", value=str(self.store.clock.last)))
            session.merge(SyncState(key=cursor_key, value=str(page.cursor)))

    def _new_conflicts(self, session: Session, page: p.PullPage) -> int:
        """Open conflicts of the page this device has not kept yet: resolved ones need no
        review, and one seen before was counted then."""
        opened = [c.id for c in page.conflicts if c.status == "open"]
        if not opened:
            return 0
        seen = set(session.scalars(select(SyncConflict.id).where(SyncConflict.id.in_(opened))))
        return len(set(opened) - seen)

    def _own_creations(
        self, session: Session, page: p.PullPage, known: dict[tuple[str, str], str | None]
    ) -> None:
        """Rows this device already had (its own, come back): their creation events name
        the account the server took the insert from, as on every other device.

        They differ only for rows made before the device was registered under that
        account; the update touches nothing otherwise. One statement per account (a page
        names one, nearly always), not one per row: a pushing device's catch-up brings
        back every row it made.
        """
        by_account: dict[str, list[str]] = {}
        for row in page.rows:
            if row.created is not None and (row.entity, row.id) in known:
                events_of = by_account.setdefault(row.created.user_id, [])
                events_of.append(catalogue.creation_event_id(row.id))
        events = table_of(AuditEvent)
        for account, ids in by_account.items():
            session.connection().execute(
                update(events)
                .where(events.c.id.in_(listed(ids)), events.c.user.is_distinct_from(account))
                .values(user=account)
            )

    def _preload(
        self, session: Session, ids: dict[str, list[str]]
    ) -> dict[tuple[str, str], str | None]:
        """The page's rows (``ids``: by entity) this device has: (entity, id) -> the person
        a searched row (name, document) belongs to, else None."""
        known: dict[tuple[str, str], str | None] = {}
        for entity, row_ids in ids.items():
            cls = self._classes.get(entity)
            if cls is None:
                continue
            table = table_of(cls)
            person = table.c.person_id if entity in SEARCHED else null()
            query = select(table.c.id, person).where(table.c.id.in_(listed(row_ids)))
            known.update(((entity, row_id), owner) for row_id, owner in session.execute(query))
        return known

    def _pending_fields(
        self, session: Session, ids: dict[str, list[str]]
    ) -> set[tuple[str, str, str]]:
        """(entity, row, field) of the page's rows (``ids``: by entity) with an unsent local
        edit; a whole-row entry counts per field."""
        found: set[tuple[str, str, str]] = set()
        for entity, row_ids in ids.items():
            # Nothing of this entity waiting, as after a push: one probe of the index
            # answers, where the page's ids would each be looked up (their list parsed
            # and sorted first, most of a page's reading of the outbox).
            waiting = select(OutboxEntry.seq).where(OutboxEntry.entity == entity).limit(1)
            if session.execute(waiting).first() is None:
                continue
            # by entity and row id: the outbox's (entity, row_id) index, not a scan
            query = select(OutboxEntry.row_id, OutboxEntry.field, OutboxEntry.value).where(
                OutboxEntry.entity == entity, OutboxEntry.row_id.in_(listed(row_ids))
            )
            for row_id, name, value in session.execute(query):
                if name == p.WHOLE_ROW:
                    found.update((entity, row_id, key) for key in json.loads(value))
                else:
                    found.add((entity, row_id, name))
        return found

    def _apply_row(
        self,
        row: p.RowUpdate,
        pending: set[tuple[str, str, str]],
        known: dict[tuple[str, str], str | None],
        fresh: _NewRows,
        edited: dict[type[Synced], list[dict[str, Any]]],
    ) -> None:
        cls = self._classes.get(row.entity)
        if cls is None:
            return  # an entity this app version does not know: ignore, stay in sync
        if (row.entity, row.id) not in known:
            # new to this device, so no local edit can be pending for it
            fresh.add(cls, row)
            if row.created is not None:
                # the creation event every device derives from the insert (protocol 3)
                event_values = catalogue.creation_event(
                    row.entity,
                    row.id,
                    row.values.get("office"),
                    row.created.hlc,
                    row.created.user_id,
                )
                fresh.add_event(event_values)
            return
        readers = catalogue.wire_readers(row.entity)
        changed: dict[str, Any] = {"id": row.id, "version": row.version}
        for name, value in row.values.items():
            if pending and (row.entity, row.id, name) in pending:
                continue  # the local edit waiting to be pushed wins until the server decides
            if name == p.DELETED_FIELD:
                changed["deleted"] = bool(value)
            elif (read := readers.get(name)) is not None:
                changed[name] = read(value)
        edited.setdefault(cls, []).append(changed)

    # -- retries ---------------------------------------------------------------------------

    def _timed(self, call: Callable[[], T], summary: SyncSummary) -> _Timed[T]:
        """``call``'s answer (retried as :meth:`_with_retry` does), how long it took, and
        whether it had to be retried: what the next batch's or page's size follows."""
        retries, start = summary.retries, time.monotonic()
        answer = self._with_retry(call, summary)
        return _Timed(answer, time.monotonic() - start, summary.retries > retries)

    def _with_retry(self, call: Callable[[], T], summary: SyncSummary) -> T:
        delay = 1.0
        for attempt in range(self.max_retries + 1):
            try:
                return call()
            except SyncHttpError as exc:
                wait = exc.retry_after if exc.retry_after is not None else delay
                # a server that asks for longer than a sync waits is asked again then,
                # by the next sync (the app's worker waits it out), not sooner
                if not exc.retryable or attempt == self.max_retries or wait > MAX_WAIT_SECONDS:
                    raise
                summary.retries += 1
                self.sleep(wait)
                delay = min(delay * 2, MAX_WAIT_SECONDS)
        raise AssertionError("unreachable")  # pragma: no cover


class _Timed(NamedTuple, Generic[T]):
    """An answer (a pull page, a push's results) as it arrived: how long it took, and
    whether it had to be retried."""

    answer: T
    seconds: float
    retried: bool


def expected_rows(rows: int, start: int, page: p.PullPage) -> int:
    """How many rows a pull from ``start`` brings in all, judged from the ``rows`` it
    brought up to ``page``: as many more per seq of the log as so far, up to the head the
    page names (pull form 7); 0 when that is unknown (an older server, nothing yet).

    An estimate for the progress shown: the log holds other offices' changes too, and a
    case file's rows are not spread evenly over it; the last page makes it exact.
    """
    if not page.more:
        return rows
    if page.head is None or page.cursor <= start:
        return 0
    return max(rows, round(rows * (page.head - start) / (page.cursor - start)))


# a creation event's fields that differ from one event to the next
_CREATION_FIELDS = ("id", "office", "at", "user", "device", "action", "entity", "row_id")


class _NewRows:
    """Rows a page brings that are new to this device, as insert tuples of their tables.

    Each value goes from the wire to the column in one step (checked and converted as
    :func:`~desktop.domain.catalogue.from_wire` does, then bound as the column type
    binds it), into a copy of the table's row of defaults: the fields a row does not
    send are empty (a row can arrive split over two pages; the next page fills the
    rest). A dict per row, converted again column by column, was a fifth of a bulk pull.
    """

    def __init__(self, dialect: Dialect, now: str) -> None:
        self.dialect = dialect
        self.now = now
        self._plans: dict[type[Synced], _NewRowPlan] = {}
        self._rows: dict[type[Synced], list[tuple[Any, ...]]] = {}
        # A creation event is derived whenever its row is new here; a row removed when
        # its office left the account, and pulled again when the office came back (or
        # moved to an office this device kept), may find its event still here: the
        # insert keeps the stored one (and the first of a page's twins).
        self._events = events = RowWriter(table_of(AuditEvent), dialect)
        self._event_rows: list[tuple[Any, ...]] = []
        # What every derived event shares (no details, never synced, written now) is bound
        # once: a creation event's own fields are text, stored as they are.
        shared = dict.fromkeys(events.columns) | {
            "details": {},
            "version": 0,
            "deleted": False,
            "updated_at": now,
        }
        self._event_defaults = list(events.row(shared))
        self._event_slots = [
            (events.position[name], name, events.binder(name)) for name in _CREATION_FIELDS
        ]

    def add(self, cls: type[Synced], row: p.RowUpdate) -> None:
        plan = self._plans.get(cls)
        if plan is None:
            plan = self._plans[cls] = _NewRowPlan(cls, self.dialect, self.now)
            self._rows[cls] = []
        values = plan.defaults.copy()
        values[plan.id_at] = row.id
        values[plan.version_at] = row.version
        slots = plan.slots
        for name, value in row.values.items():
            slot = slots.get(name)
            if slot is not None:
                at, read = slot
                values[at] = read(value)
            # else a field this app version does not know: ignored, as on every pull
        self._rows[cls].append(tuple(values))

    def add_event(self, values: dict[str, Any]) -> None:
        """A derived creation event, given by its catalogue fields as stored
        (:func:`~desktop.domain.catalogue.creation_event`: its details are always empty)."""
        row = self._event_defaults.copy()
        for at, name, bind in self._event_slots:
            value = values[name]
            row[at] = value if bind is None else bind(value)
        self._event_rows.append(tuple(row))

    def insert(self, connection: Connection) -> None:
        for cls, rows in self._rows.items():
            self._plans[cls].writer.insert(connection, rows)
        self._events.insert(connection, self._event_rows, keep_existing=True)


class _NewRowPlan:
    """Where each wire field of one entity goes in its table's row, and how it is read."""

    def __init__(self, cls: type[Synced], dialect: Dialect, now: str) -> None:
        self.writer = writer = RowWriter(table_of(cls), dialect)
        spec = catalogue.entity(cls.__entity__)
        defaults: dict[str, Any] = {
            name: "" if field_spec.required else None for name, field_spec in spec.fields.items()
        }
        defaults.update(deleted=False, updated_at=now, id=None, version=0)
        self.defaults = list(writer.row(defaults))
        self.id_at = writer.position["id"]
        self.version_at = writer.position["version"]
        self.slots: dict[str, tuple[int, Callable[[Any], Any]]] = {
            name: (writer.position[name], _bound(read, writer.binder(name)))
            for name, read in catalogue.wire_readers(cls.__entity__).items()
        }
        # the tombstone travels as a field of its own
        self.slots[p.DELETED_FIELD] = (
            writer.position["deleted"],
            _bound(bool, writer.binder("deleted")),
        )


def _bound(read: Callable[[Any], Any], bind: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    """Wire value -> column value: ``read`` (a field's wire reader), then ``bind`` (the
    column's bind processor, if it has one)."""
    return read if bind is None else lambda value: bind(read(value))


class OutboxRow(Protocol):
    """What a push reads of an outbox entry: a row selected as ``_OUTBOX_COLUMNS``, by
    name or, in that order, as a tuple."""

    def __iter__(self) -> Iterator[Any]: ...

    seq: int
    change_id: str
    entity: str
    row_id: str
    field: str
    value: str
    base_version: int
    hlc: str


_OUTBOX_COLUMNS = (
    OutboxEntry.seq,
    OutboxEntry.change_id,
    OutboxEntry.entity,
    OutboxEntry.row_id,
    OutboxEntry.field,
    OutboxEntry.value,
    OutboxEntry.base_version,
    OutboxEntry.hlc,
)


def batch_body(entries: Sequence[OutboxRow], form: int = 2) -> bytes:
    """Outbox rows selected as ``_OUTBOX_COLUMNS`` as a push body of ``form`` 2 or 3
    (values spliced in as stored).

    Each row is read as a tuple: a Row's attribute costs about 0.9 µs, seven per entry.
    """
    return encode_batch([tuple(entry)[1:] for entry in entries], form)


def waiting_entries(session: Session, after: int, size: int) -> list[OutboxRow]:
    """The next ``size`` waiting outbox entries after outbox seq ``after``, as a push
    batch reads them (``_OUTBOX_COLUMNS``)."""
    # plain rows, not ORM objects: the batch only reads them. Run on the session's
    # connection (Core): through the session, the ORM's result layer handled each row
    # again (0.32 against 0.22 s of CPU for the 92,050 entries of 4,000 case files)
    return list(
        session.connection().execute(
            select(*_OUTBOX_COLUMNS)
            .where(OutboxEntry.seq > after, OutboxEntry.last_error.is_(None))
            .order_by(OutboxEntry.seq)
            .limit(size)
        )
    )


# How many waiting changes a push's size is estimated from (:func:`push_bytes_estimate`).
ESTIMATE_SAMPLE = 1000


def push_bytes_estimate(session: Session, waiting: int) -> int:
    """About the bytes a push of the ``waiting`` changes puts on the wire: the first
    :data:`ESTIMATE_SAMPLE` of them encoded and compressed as a batch goes (form 2, the
    larger), scaled to all of them, with each batch's request. A metered link's question
    said 3.7 MB for 12,040 changes that went as 199 kB (their JSON values uncompressed,
    170 bytes more each)."""
    if waiting <= 0:
        return 0
    sample = waiting_entries(session, 0, ESTIMATE_SAMPLE)
    if not sample:
        return 0
    sent = len(gzip.compress(batch_body(sample), compresslevel=GZIP_LEVEL))
    batches = -(-waiting // p.DEFAULT_BATCH)
    return round(sent * waiting / len(sample)) + batches * REQUEST_OVERHEAD_BYTES


def _spoiled(exc: SyncHttpError, size: int) -> dict[str, list[int]]:
    """The changes a refused batch names as its cause, by the error each is parked with:
    every one in ``refused`` with its own errno and message when the server lists them,
    else ``index`` and ``indexes`` with the answer's; none: the batch itself is bad."""
    if exc.status not in (400, 403, 413):
        return {}
    found: dict[int, str] = {}
    refused = exc.details.get("refused")
    for item in refused if isinstance(refused, list) else []:
        if not isinstance(item, dict):
            continue
        index, errno = item.get("index"), item.get("errno")
        if isinstance(index, int) and 0 <= index < size and isinstance(errno, int):
            found[index] = f"errno {errno}: {item.get('message', '')}"
    named = exc.details.get("indexes")
    for index in [exc.details.get("index"), *(named if isinstance(named, list) else [])]:
        if isinstance(index, int) and 0 <= index < size:
            found.setdefault(index, f"errno {exc.errno}: {exc.message}")
    by_error: dict[str, list[int]] = {}
    for index in sorted(found):
        by_error.setdefault(found[index], []).append(index)
    return by_error


def refuse_demo_store(store: Store) -> None:
    """``sync.demo_store`` for a store that holds demo data: it must never be synced."""
    from desktop.services.demo import DEMO_SETTING

    if store.setting(DEMO_SETTING, False):
        raise UserError("sync.demo_store")


# -- device registration -----------------------------------------------------------------


def register_device(
    store: Store,
    client: SyncClient,
    server_url: str,
    username: str,
    password: str,
    device_name: str,
    secrets: SecretStore | None = None,
    *,
    other_server: bool = False,
) -> p.RegisterResponse:
    """Register this store's device with a server; the token goes to the OS keyring.

    The device then works for the account's office (see :func:`working_office`): rows it
    makes carry that office, and the server refuses rows of offices outside the account.

    A device registered under another server's log (another server, or one restored from
    a backup and given a new log) is refused with ``sync.other_server`` unless
    ``other_server``: then its place in the old log (cursor, scope version, catch-up) is
    dropped and it pulls the new one from the start. Everything on the device stays, and
    what it never sent goes to the new server; what it sent to the old one or received
    from it does not (docs/sync-protocol.md §3).
    """
    refuse_demo_store(store)
    secrets = secrets or SecretStore()
    if not secrets.usable():
        # before the server hears of the device: a token nobody keeps is a device the
        # server lists as registered that can never sync
        raise UserError("sync.no_keyring")
    recorded, previous = sync_state(store, LOG_KEY), sync_state(store, SERVER_KEY)
    client.expected_log = None  # registering is how a device comes to another log
    try:
        client.info()  # names the server's log before the server hears of the device
        moved = (
            recorded is not None
            and client.log not in (None, recorded)
            and not _continues(store, client, recorded, _reached(store))
        )
        if moved and not other_server:
            raise UserError(OTHER_SERVER, server=server_url, previous=previous or "?")
        answer = client.register(username, password, device_name)
    except UntrustedServer as exc:
        raise UserError("sync.untrusted_certificate", server=server_url) from exc
    except ServerUnreachable as exc:
        raise UserError("sync.register_unreachable", server=server_url) from exc
    except SyncHttpError as exc:
        if exc.errno == p.Errno.BAD_CREDENTIALS:
            raise UserError("sync.bad_credentials") from exc
        if exc.errno == p.Errno.SIGN_IN_LOCKED:
            minutes = max(1, -(-int(exc.retry_after or 60) // 60))
            by_address = exc.details.get("locked") == "address"
            key = "sync.sign_in_locked_address" if by_address else "sync.sign_in_locked"
            raise UserError(key, minutes=minutes) from exc
        if exc.errno == p.Errno.ACCOUNT_DISABLED:
            raise UserError("sync.account_disabled", username=username) from exc
        raise UserError("sync.refused", errno=exc.errno) from exc
    if not secrets.set(TOKEN_SECRET.format(store_id=store.store_id), answer.token):
        raise UserError("sync.no_keyring")
    account = answer.account
    office = working_office(store.office, account.offices, account.all_offices)
    with store.remote_session() as session:
        if moved:
            # what it sent to the old log would be numbered past no head of the new one
            session.execute(delete(SyncState).where(SyncState.key.in_(_LOG_PLACE)))
            session.execute(delete(SentChange))
            sync_attachments.forget_uploads(session)
            session.merge(SyncState(key=LOG_KEY, value=client.log))
        elif client.log not in (None, recorded):
            # a restored database's new log (the server forgot the device, or its token):
            # taken as a sync takes it, what the restore lost going again
            _take_log(session, client, recorded)
        session.merge(SyncState(key=SERVER_KEY, value=server_url))
        session.merge(SyncState(key="server_device_id", value=answer.device_id))
        # a new device on the server: its block of case numbers is asked for at the next sync
        session.merge(Setting(key=case_numbers.BLOCK_SETTING, value=None))
        session.merge(Setting(key="user", value=account.username))
        session.merge(Setting(key=OFFICES_SETTING, value=sorted(account.offices)))
        session.merge(Setting(key=ALL_OFFICES_SETTING, value=account.all_offices))
        if client.scope_version is not None:
            # the offices above are of this version: the first pull goes under it
            session.merge(SyncState(key=SCOPE_KEY, value=str(client.scope_version)))
        session.merge(Setting(key=ROLE_SETTING, value=account.role.value))
        session.merge(Setting(key="office", value=office))
        if not account.all_offices:
            rehome_unsent(session, office, account.offices)
    return answer


def check_log(store: Store, client: SyncClient) -> int:
    """After ``client``'s ``GET /v1/info``: make sure the server keeps the log this
    device's place belongs to, and reaches that place (:meth:`SyncService.same_log`); from
    then on ``client`` refuses an answer of another log. Returns how many changes it put
    back in the outbox to be sent again (:func:`resend_lost`).

    A device registered before servers named their logs keeps the first it sees; so does
    one of the log a restored database continues (``sapan server new-log``): one that had
    not gone past its head then lost nothing, one that had sends again what it keeps of
    what it sent past there, and pulls on from there, in the same transaction that takes
    the new log. Another log, or one continued from before what this device still keeps,
    raises :class:`ServerChanged`, a head before the device's place :class:`ServerBehind`."""
    recorded = server_log(store)
    log, reached = client.log, _reached(store)
    resent = 0
    if log is not None and log != recorded:
        if recorded is not None and not _continues(store, client, recorded, reached):
            raise ServerChanged(recorded, log)
        with store.remote_session() as session:
            resent = _take_log(session, client, recorded)
        reached = _reached(store)
    client.expected_log = log if log is not None else recorded
    if client.head is not None and client.head < reached:
        raise ServerBehind(client.head, reached)
    return resent


def resend_bytes(store: Store, client: SyncClient) -> int:
    """After ``client``'s ``GET /v1/info``: the bytes of change values this device would
    send again (:func:`resend_lost`) if it took the log the server names now, for the
    metered-link question; 0 when it would send nothing again."""
    recorded = server_log(store)
    if recorded is None or client.log in (None, recorded):
        return 0
    head = client.continued_head(recorded)
    if head is None or not _continues(store, client, recorded, _reached(store)):
        return 0
    with store.read() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(func.length(SentChange.value)), 0)).where(
                SentChange.server_seq > head
            )
        )
    return int(total or 0)


def _take_log(session: Session, client: SyncClient, recorded: str | None) -> int:
    """Keep the log ``client`` last named as this device's; when it continues the one
    ``recorded`` from a head (``sapan server new-log``), send again what the device sent
    past it (:func:`resend_lost`), in the same transaction. Returns how many go again."""
    resent = 0
    head = client.continued_head(recorded) if recorded is not None else None
    if head is not None:
        resent = resend_lost(session, head)
    if client.log is not None:
        session.merge(SyncState(key=LOG_KEY, value=client.log))
    return resent


# a device's place in a server's log, dropped when it registers under another log
_LOG_PLACE = (
    CURSOR_KEY,
    SCOPE_KEY,
    CATCH_UP_KEY,
    CATCH_UP_CURSOR_KEY,
    ACKED_KEY,
    SENT_DROPPED_KEY,
    RECHECK_CONFLICTS_KEY,
    REDO_MERGES_KEY,
)


def _keep_acked(session: Session, seq: int) -> None:
    """Keep ``seq`` as the highest given to a change this device sent, if it is."""
    kept = session.get(SyncState, ACKED_KEY)
    if kept is None:
        session.add(SyncState(key=ACKED_KEY, value=str(seq)))
    elif int(kept.value) < seq:
        kept.value = str(seq)


def _keep_sent(session: Session, first: int, last: int, top: int) -> None:
    """Keep the acknowledged outbox entries ``first``..``last`` (all but the refused ones)
    as sent changes, numbered ``top`` (the highest seq the server gave their batch), before
    they leave the outbox: one statement, the entries never leave SQLite."""
    outbox = table_of(OutboxEntry)
    session.execute(
        insert(SentChange).from_select(
            [*_SENT_COLUMNS, "server_seq", "sent_at"],
            select(*(outbox.c[name] for name in _SENT_COLUMNS), literal(top), literal(utcnow()))
            .where(outbox.c.seq.between(first, last), outbox.c.last_error.is_(None))
            .order_by(outbox.c.seq),
        )
    )


def prune_sent(store: Store, today: dt.date | None = None) -> int:
    """Once a day: drop the sent changes acknowledged more than :data:`SENT_KEPT_DAYS`
    ago, remembering the highest seq among them (:func:`resend_lost` cannot go below it).
    Returns how many were dropped."""
    today = today or dt.datetime.now(dt.UTC).date()
    if sync_state(store, SENT_PRUNED_ON_KEY) == today.isoformat():
        return 0
    cutoff = (today - dt.timedelta(days=SENT_KEPT_DAYS)).isoformat()
    with store.remote_session() as session:
        old = SentChange.sent_at < cutoff
        top = session.scalar(select(func.max(SentChange.server_seq)).where(old))
        dropped = 0
        if top is not None:
            done = session.execute(delete(SentChange).where(old))
            dropped = int(getattr(done, "rowcount", 0) or 0)
            kept = session.get(SyncState, SENT_DROPPED_KEY)
            if kept is None or int(kept.value) < top:
                session.merge(SyncState(key=SENT_DROPPED_KEY, value=str(top)))
        session.merge(SyncState(key=SENT_PRUNED_ON_KEY, value=today.isoformat()))
    return dropped


def resend_lost(session: Session, head: int) -> int:
    """Put back in the outbox, ahead of what waits there and unchanged (ids, stamps,
    values), the sent changes a restored server's log does not reach: those the server
    numbered past ``head``, the head of the log its new one continues. Places in the log
    past ``head`` (cursor, catch-up, highest pushed seq, rows' versions and the base
    versions of what it sends) go back to it, blobs named by attachment rows sent again
    are asked about again (the server's files may have been restored too), conflict
    records numbered past ``head`` are to be read again
    (:meth:`SyncService.recheck_conflicts`) and merge records past it made again where
    this device's account made them (:meth:`SyncService.redo_merges`). Returns how many
    changes go again.

    Changes from other devices that this device pulled past ``head`` stay on it: their own
    devices send them again."""
    sent = table_of(SentChange)
    lost = sent.c.server_seq > head
    put_back = 0  # nothing of its own to send again: the outbox stays as it is
    if session.scalar(select(sent.c.id).where(lost).limit(1)) is not None:
        put_back = _put_back(session, lost)
    # Versions are seqs of a log: past the head, the new log numbers other changes. A
    # base version past it would claim to have seen whatever the new log numbers up to
    # there, and a concurrent edit would be overwritten without a conflict record; so
    # what the device saw past the head counts as unseen: its rows' versions and the
    # base versions of what it sends (sent again or waiting) go back to the head. At
    # worst, an edit it had seen makes a conflict record a coordinator confirms.
    for cls in synced_classes().values():
        table = table_of(cls)
        session.execute(update(table).where(table.c.version > head).values(version=head))
    outbox = table_of(OutboxEntry)
    session.execute(update(outbox).where(outbox.c.base_version > head).values(base_version=head))
    for key in (CURSOR_KEY, CATCH_UP_CURSOR_KEY, ACKED_KEY):
        place = session.get(SyncState, key)
        if place is not None and int(place.value) > head:
            place.value = str(head)
    plan = session.get(SyncState, CATCH_UP_KEY)
    if plan is not None:
        spec = json.loads(plan.value)
        if int(spec["until"]) > head:
            plan.value = json.dumps({**spec, "until": head})
    for record, key in ((SyncConflict, RECHECK_CONFLICTS_KEY), (SyncMerge, REDO_MERGES_KEY)):
        if session.scalar(select(record.id).where(record.seq > head).limit(1)):
            recheck = session.get(SyncState, key)
            if recheck is None or int(recheck.value) > head:
                session.merge(SyncState(key=key, value=str(head)))
    return put_back


def _put_back(session: Session, lost: ColumnElement[bool]) -> int:
    """:func:`resend_lost`'s work on the outbox: the ``lost`` sent changes go back in
    front of what waits there; returns how many."""
    outbox, sent = table_of(OutboxEntry), table_of(SentChange)
    columns = [*_SENT_COLUMNS, "attempts", "last_error"]
    waiting = [
        dict(row)
        for row in session.execute(select(*(outbox.c[c] for c in columns)).order_by(outbox.c.seq))
        .mappings()
        .all()
    ]
    session.execute(delete(outbox))
    put_back = session.execute(
        insert(outbox).from_select(
            [*_SENT_COLUMNS, "attempts"],
            select(*(sent.c[name] for name in _SENT_COLUMNS), literal(0))
            .where(lost)
            .order_by(sent.c.id),
        )
    )
    if waiting:
        session.execute(insert(outbox), waiting)
    sync_attachments.ask_again(
        session, select(sent.c.row_id).where(lost, sent.c.entity == "attachment")
    )
    session.execute(delete(sent).where(lost))
    return int(getattr(put_back, "rowcount", 0) or 0)


_SENT_COLUMNS = (
    "change_id",
    "entity",
    "row_id",
    "field",
    "value",
    "base_version",
    "hlc",
    "device_id",
    "user_id",
    "created_at",
)


def _reached(store: Store) -> int:
    """How far into its server's log this device has been: its cursor, or the highest
    seq given to a change it sent, whichever is further."""
    with store.read() as session:
        found = session.scalars(
            select(SyncState.value).where(SyncState.key.in_([CURSOR_KEY, ACKED_KEY]))
        )
        return max((int(value) for value in found), default=0)


def _continues(store: Store, client: SyncClient, recorded: str, reached: int) -> bool:
    """True when the log the server last named (``GET /v1/info``) continues ``recorded``
    (``sapan server new-log`` after a restore) from a head this device can go on from:
    one it had not passed (every change it sent or received is in the restored log, under
    the same seqs), or one past which it still keeps every change it sent
    (:func:`resend_lost`)."""
    head = client.continued_head(recorded)
    if head is None:
        return False
    dropped = sync_state(store, SENT_DROPPED_KEY)
    return reached <= head or dropped is None or int(dropped) <= head


def rehome_unsent(session: Session, office: str, scope: Iterable[str]) -> int:
    """Move the rows this device made but never sent whose office is outside ``scope`` to
    ``office``; returns how many.

    Before registration a store works for its default office (``TAK-01``): a caseworker
    who sets up the app and works offline before the first connection records people
    there, and the server would refuse every one of them (errno 120) for an account of
    another office. Only rows whose insert still waits in the outbox move: the server has
    never seen them, so their office is rewritten in the row and in the waiting insert,
    and in the row's creation event, which is never queued (every other device derives it
    from the insert, in the new office): left behind, the first pull after registration
    removed it as a row of an office the account does not have.
    """
    allowed = set(scope)
    moved: dict[str, list[str]] = {}
    for entry in session.scalars(select(OutboxEntry).where(OutboxEntry.field == p.WHOLE_ROW)):
        values = json.loads(entry.value)
        if isinstance(values, dict) and values.get("office", office) not in allowed:
            values["office"] = office
            entry.value = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
            moved.setdefault(entry.entity, []).append(entry.row_id)
    classes = synced_classes()
    events = table_of(AuditEvent)
    for entity, row_ids in moved.items():
        cls = classes.get(entity)
        if cls is not None and "office" in table_of(cls).c:
            table = table_of(cls)
            session.execute(
                update(table).where(table.c.id.in_(listed(row_ids))).values(office=office)
            )
        if entity != catalogue.AUDIT_ENTITY:  # audit events have no creation events
            session.execute(
                update(events)
                .where(
                    events.c.entity == entity,
                    events.c.row_id.in_(listed(row_ids)),
                    events.c.action == f"{entity}.created",
                )
                .values(office=office)
            )
    return sum(len(row_ids) for row_ids in moved.values())


def keep_records(
    session: Session,
    merges: Iterable[p.MergeRecord] = (),
    conflicts: Iterable[p.ConflictRecord] = (),
) -> None:
    """Keep the server's merge and conflict records on this device (newer copies replace
    older ones: the id is the key).

    A merge's ``moved`` list never changes (undo keeps it), so a copy without one (from a
    server before pull form 6) leaves the list the device has."""
    for merge in merges:
        kept = session.merge(
            SyncMerge(**merge.model_dump(exclude={"undone", "moved"}), undone=merge.undone)
        )
        if merge.moved is not None:
            kept.moved = merge.moved
    for conflict in conflicts:
        session.merge(
            SyncConflict(
                **conflict.model_dump(exclude={"applied", "other"}),
                applied=conflict.applied.model_dump(),
                other=conflict.other.model_dump(),
            )
        )


# The account's scope, kept at registration: the offices a person may work for here.
OFFICES_SETTING = "account_offices"
ALL_OFFICES_SETTING = "account_all_offices"
# The account's role as last heard (coordinators get the merge and resolve buttons).
ROLE_SETTING = "account_role"


def working_office(current: str, offices: Iterable[str], all_offices: bool) -> str:
    """The office a device works for under an account of ``offices``: its one office; of
    several, the current one if it is among them, else the first; for an account of every
    office without a list, the current one."""
    listed = sorted(offices)
    if current in listed or all_offices or not listed:
        return current
    return listed[0]


def _account_scope(store: Store) -> tuple[list[str], bool]:
    """The account's offices kept at registration (none before), and whether it has all."""
    offices = [str(o) for o in store.setting(OFFICES_SETTING, None) or []]
    return offices, bool(store.setting(ALL_OFFICES_SETTING, False))


def office_choices(store: Store) -> list[str]:
    """The offices this device may work for: the account's, once registered (with the
    current one for an account of every office); before that only the current one."""
    offices, every = _account_scope(store)
    if every or not offices:
        return sorted({*offices, store.office})
    return offices


def set_office(store: Store, office: str) -> str:
    """Make ``office`` the one this device's new rows belong to; it must be in the
    account's scope (``sync.office_out_of_scope``), and not empty."""
    office = office.strip()
    if not office:
        raise UserError("sync.office_required")
    offices, every = _account_scope(store)
    if offices and not every and office not in offices:
        raise UserError("sync.office_out_of_scope", office=office, offices=", ".join(offices))
    if not offices and not every and office != store.office:
        # not registered yet: the account's scope is unknown, registration sets the office
        raise UserError("sync.office_unknown_scope")
    store.set_setting("office", office)
    return office


def wipe_device(store: Store, secrets: SecretStore | None, *, unsent: int) -> None:
    """The server revoked this device (design.md §5: a laptop lost at a checkpoint):
    destroy the store's key and the device token at once; the store refuses all work from
    here. The caller closes the store and calls :func:`desktop.models.store.finish_wipe`
    to delete the files. ``unsent``, the changes that never reached the server, is kept
    in the wipe's notice."""
    store_module.erase(
        store,
        secrets or SecretStore(),
        reason="device_revoked",
        unsent=unsent,
        secret_names=[TOKEN_SECRET.format(store_id=store.store_id)],
    )


def device_token(store: Store, secrets: SecretStore | None = None) -> str | None:
    return (secrets or SecretStore()).get(TOKEN_SECRET.format(store_id=store.store_id))


def sync_state(store: Store, key: str) -> str | None:
    """The ``SyncState`` value kept under ``key`` (None: none kept)."""
    with store.read() as session:
        row = session.get(SyncState, key)
        return row.value if row is not None else None


def server_url(store: Store) -> str | None:
    return sync_state(store, SERVER_KEY)


def server_log(store: Store) -> str | None:
    """The server's change log this device registered under (None: not known yet)."""
    return sync_state(store, LOG_KEY)


SEARCHED = frozenset({"person_name", "identity_document"})  # rows the search text is made of


def _ids_by_entity(page: p.PullPage) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for row in page.rows:
        ids.setdefault(row.entity, []).append(row.id)
    return ids


def _people_touched(page: p.PullPage, known: dict[tuple[str, str], str | None]) -> set[str]:
    """Ids of the people whose search text (names and document numbers) a page may change."""
    found: set[str] = set()
    for row in page.rows:
        if row.entity in SEARCHED:
            # the person it belongs to now, and the one it belonged to (a merge moved it)
            for person_id in (row.values.get("person_id"), known.get((row.entity, row.id))):
                if person_id:
                    found.add(str(person_id))
    return found
