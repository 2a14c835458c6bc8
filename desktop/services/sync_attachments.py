"""Attachment contents during a sync: which blobs go up, which come down, and how much.

Rows (``attachment``: sha256, size, filename, …) travel with the other changes; their
contents travel out of band (``sync/client/attachments.py``):

- **Up, after the push** of rows, so case data never waits behind a big scan on a flaky
  link (a device that pulls the row first finds no bytes yet and simply tries again at
  its next sync; that is not a failure). A blob needs uploading when a live attachment
  row names it, the device holds it, and it is not yet marked uploaded. "Uploaded" is
  remembered per SHA-256 in ``SyncState`` (key ``blob:`` + the digest in URL-safe
  base64, 48 characters, inside the table's 64), set only after the server verified it.
- **Down, after the pull**: live attachment rows whose blob is missing locally. The bytes
  are kept encrypted as they arrive (:class:`PartialBlob`), so a cut transfer resumes at
  the next sync after what already arrived (``Range``) instead of starting again. The
  whole is checked against its name before :class:`AttachmentStore` seals it as the blob
  and moves it into place in one rename, so no half or wrong blob ever sits under a
  name. A downloaded blob is marked uploaded (the server has it).
- **Another server**: registering under another server's log (:func:`forget_uploads`)
  keeps the marks as "held elsewhere". Such a blob goes to the new server only when an
  attachment row inserted under the new log names it (the rows the old server has are not
  sent to the new one, so neither are their scans).
- A row whose ``sha256`` is not a SHA-256 digest, or whose ``filename`` is not a bare file
  name, can only come from a damaged or hostile server: it is refused, never fetched.

A refusal of one blob (hash mismatch, refused by the server, damaged locally) is counted,
listed on the Sync page among the failed items until a sync moves it (:func:`problems`),
and the sync goes on; a dropped link or a revoked device stops the sync as for rows.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from desktop.domain import catalogue
from desktop.domain.errors import UserError
from desktop.models.base import listed, table_of
from desktop.models.entities import Attachment, OutboxEntry, SentChange, SyncState
from desktop.models.store import Store
from desktop.services.attachments import blob_store
from sync import protocol as p
from sync.client import attachments as wire
from sync.client.http import ServerUnreachable, SyncClient

if TYPE_CHECKING:
    from desktop.services.sync import SyncSummary

UPLOADED_PREFIX = "blob:"
# the value of a mark whose blob the server of a log this device left holds (the current
# server's marks are "1")
ELSEWHERE = "elsewhere"
PROBLEMS_PREFIX = "blob_problems:"  # + "upload" / "download": the last pass's BlobProblems
OnProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BlobNeed:
    """One blob to move: its name, size in bytes and (for messages) a file name."""

    sha256: str
    size: int
    filename: str


@dataclass(frozen=True)
class BlobProblem:
    """A blob that did not move, and why: listed on the Sync page until it moves."""

    direction: str  # "upload" or "download"
    sha256: str
    filename: str
    error: str


@dataclass
class BlobReport:
    """What one pass of uploads or downloads did."""

    done: int = 0
    failed: int = 0
    refused_rows: int = 0
    bytes_moved: int = 0
    errors: list[BlobProblem] = field(default_factory=list)


def uploaded_key(sha256: str) -> str:
    """The ``SyncState`` key that marks ``sha256`` as verified on the server."""
    digest = bytes.fromhex(wire.check_name(sha256))
    return UPLOADED_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def uploaded(store: Store, *, elsewhere: bool = False) -> set[str]:
    """The blobs this device knows the server holds a verified copy of (``elsewhere``:
    the server of a log it left, see :func:`forget_uploads`)."""
    with store.read() as session:
        held = SyncState.value == ELSEWHERE
        keys = session.scalars(
            select(SyncState.key).where(
                SyncState.key.startswith(UPLOADED_PREFIX), held if elsewhere else ~held
            )
        )
        found = set()
        for key in keys:
            raw = key[len(UPLOADED_PREFIX) :]
            found.add(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).hex())
        return found


def forget_uploads(session: Session) -> None:
    """Registering under another server's log: the blobs marked uploaded are held by the
    old server, not the new one (see the module's doc)."""
    session.execute(
        update(SyncState).where(SyncState.key.startswith(UPLOADED_PREFIX)).values(value=ELSEWHERE)
    )


def ask_again(session: Session, rows: Select[tuple[str]]) -> None:
    """Forget that the server holds the blobs the attachment rows ``rows`` (a query of
    their ids) name: the next sync asks about them again (``POST /attachments/start``
    answers at once for a blob the server has)."""
    names = session.scalars(select(Attachment.sha256).where(Attachment.id.in_(rows)))
    marks = [uploaded_key(name) for name in set(names) if name and _valid(name, "")]
    if marks:
        session.execute(delete(SyncState).where(SyncState.key.in_(marks)))


def _sent_here(store: Store) -> set[str]:
    """The blobs named by attachment rows whose insert waits in the outbox or was sent
    (kept sent changes): rows the current server has, or will."""
    with store.read() as session:
        inserted = [
            select(table.c.row_id).where(
                table.c.entity == "attachment", table.c.field == catalogue.WHOLE_ROW
            )
            for table in (table_of(OutboxEntry), table_of(SentChange))
        ]
        return {
            str(sha256)
            for sha256 in session.scalars(
                select(Attachment.sha256).where(
                    Attachment.id.in_(inserted[0].union(inserted[1]).scalar_subquery())
                )
            )
            if sha256
        }


def mark_uploaded(store: Store, sha256: str) -> None:
    """Remember that the server holds a verified copy of ``sha256``."""
    with store.remote_session() as session:
        session.merge(SyncState(key=uploaded_key(sha256), value="1"))


def _live_rows(store: Store) -> list[tuple[str, int, str]]:
    with store.read() as session:
        rows = session.execute(
            select(Attachment.sha256, Attachment.size, Attachment.filename)
            .where(Attachment.deleted.is_(False), Attachment.sha256.is_not(None))
            .order_by(Attachment.sha256)
        )
        return [(str(s), int(size or 0), str(name or "")) for s, size, name in rows]


def _valid(sha256: str, filename: str) -> bool:
    return bool(p.SHA256_RE.match(sha256)) and (not filename or p.safe_filename(filename))


def uploads_needed(store: Store) -> list[BlobNeed]:
    """Blobs this device holds that a live attachment row names and the server lacks."""
    blobs, done = blob_store(store), uploaded(store)
    elsewhere = uploaded(store, elsewhere=True)
    if elsewhere:
        elsewhere -= _sent_here(store)
    needs: dict[str, BlobNeed] = {}
    for sha256, size, filename in _live_rows(store):
        if sha256 in needs or sha256 in done or sha256 in elsewhere:
            continue
        if not _valid(sha256, filename):
            continue
        if blobs.has(sha256):
            needs[sha256] = BlobNeed(sha256, size, filename)
    return list(needs.values())


def downloads_needed(store: Store) -> tuple[list[BlobNeed], int]:
    """Blobs named by live attachment rows but missing here, and how many rows are refused.

    A refused row has a ``sha256`` that is not a digest or a ``filename`` with a folder in
    it: nothing is fetched for it and no path is ever built from it.
    """
    blobs = blob_store(store)
    needs: dict[str, BlobNeed] = {}
    refused = 0
    for sha256, size, filename in _live_rows(store):
        if not _valid(sha256, filename):
            refused += 1
        elif sha256 not in needs and not blobs.has(sha256):
            needs[sha256] = BlobNeed(sha256, size, filename)
    return list(needs.values()), refused


def upload_estimate(store: Store) -> tuple[int, int]:
    """(blobs to upload, bytes they put on the wire) for the metered-link question.

    Counts whole blobs with their request overhead, in chunks of the size the next upload
    starts with; a resumed upload sends less.
    """
    needs = uploads_needed(store)
    size = chunk_pace(store).size
    return len(needs), sum(wire.upload_cost(n.size, size) for n in needs)


# The chunk size the device's uploads ask for (:class:`wire.ChunkPace`), kept
# from one sync to the next: a link that dropped chunks yesterday likely drops them today.
CHUNK_SIZE_KEY = "upload_chunk_bytes"


def chunk_pace(store: Store, most: int = p.MAX_CHUNK_BYTES) -> wire.ChunkPace:
    """The chunk size this device uses next, as its last uploads left it."""
    size = store.setting(CHUNK_SIZE_KEY, wire.DEFAULT_CHUNK_BYTES)
    return wire.ChunkPace(size if isinstance(size, int) else wire.DEFAULT_CHUNK_BYTES, most)


def download_estimate(store: Store) -> tuple[int, int]:
    """(blobs to fetch, bytes they bring over the wire) for the metered-link question.

    What partial downloads already hold is not counted again.
    """
    needs, _refused = downloads_needed(store)
    blobs = blob_store(store)
    cost = sum(wire.download_cost(n.size, blobs.partial_bytes(n.sha256)) for n in needs)
    return len(needs), cost


def upload_pending(
    store: Store,
    client: SyncClient,
    *,
    most_chunk: int = p.MAX_CHUNK_BYTES,
    on_progress: OnProgress | None = None,
    report: BlobReport | None = None,
) -> BlobReport:
    """Upload every blob in :func:`uploads_needed`; progress is ``("upload", done, total)``.

    Each upload, new or resumed, asks for the chunk size the link's earlier chunks left
    (:func:`chunk_pace`, at most the server's ``most_chunk``; a resumed one gets it when
    it divides the size it started with), which is kept for the next sync, also when a
    dropped link ends this one. What it did goes into ``report`` (a new one by default)
    as it happens, so a caller holding it knows what a pass cut off by a dropped link did
    before it stopped (``bytes_moved``: chunks the server took).
    """
    report = BlobReport() if report is None else report
    pace = chunk_pace(store, most_chunk)
    kept = pace.size
    try:
        _upload_each(store, client, pace, report, on_progress)
    finally:
        if pace.size != kept:
            store.set_setting(CHUNK_SIZE_KEY, pace.size)
    return report


def _upload_each(
    store: Store,
    client: SyncClient,
    pace: wire.ChunkPace,
    report: BlobReport,
    on_progress: OnProgress | None,
) -> None:
    needs = uploads_needed(store)
    total = sum(n.size for n in needs)
    blobs = blob_store(store)
    before = 0

    def timed(chunk_size: int, length: int, seconds: float | None) -> None:
        pace.timed(chunk_size, length, seconds)
        if seconds is not None:
            report.bytes_moved += length

    for need in needs:

        def progress(done: int, _size: int, base: int = before) -> None:
            if on_progress is not None:
                on_progress("upload", base + done, total)

        try:
            wire.upload_blob(
                client,
                need.sha256,
                need.size,
                functools.partial(blobs.read_chunks, need.sha256),
                chunk_size=pace.size,
                progress=progress,
                timer=timed,
            )
        except (wire.BlobRefused, UserError) as exc:
            # UserError: the local copy is damaged; it is not sent, and stays unmarked
            report.failed += 1
            report.errors.append(BlobProblem("upload", need.sha256, need.filename, str(exc)))
        else:
            mark_uploaded(store, need.sha256)
            report.done += 1
        before += need.size


def download_missing(
    store: Store,
    client: SyncClient,
    *,
    on_progress: OnProgress | None = None,
    report: BlobReport | None = None,
) -> BlobReport:
    """Fetch, verify and store (encrypted) every blob in :func:`downloads_needed`.

    Bytes are kept (encrypted) as they arrive, so a download cut by a dropped link
    resumes on the next sync after what already arrived; progress is
    ``("download", bytes held, bytes wanted)`` as bytes come in. A blob the server does
    not have yet (its uploader has not synced) stays missing without counting as a
    failure: the next sync tries again. Partial downloads that no live row needs any more
    are deleted. What it did goes into ``report`` as it happens (see :func:`upload_pending`;
    ``bytes_moved`` counts the bytes kept of a download cut off too).
    """
    needs, refused = downloads_needed(store)
    report = BlobReport() if report is None else report
    report.refused_rows += refused
    if refused:
        reason = f"{refused} attachment rows name no valid SHA-256 or file name: not fetched"
        report.errors.append(BlobProblem("download", "", "", reason))
    total = sum(n.size for n in needs)
    blobs = blob_store(store)
    wanted = {n.sha256 for n in needs}
    for name in blobs.partial_names():
        if name not in wanted:
            blobs.partial(name).discard()
    before = 0
    for need in needs:

        def progress(held: int, _size: int, base: int = before) -> None:
            if on_progress is not None:
                on_progress("download", base + held, total)

        partial = blobs.partial(need.sha256)
        held = partial.held
        try:
            result = wire.download_blob(
                client,
                need.sha256,
                partial,
                size=need.size,
                max_bytes=blobs.max_bytes,
                progress=progress,
            )
            stored = blobs.finish(partial)
        except wire.BlobRefused as exc:
            if exc.errno not in (p.Errno.NOT_FOUND, p.Errno.UPLOAD_NOT_STARTED):
                report.failed += 1
                report.errors.append(BlobProblem("download", need.sha256, need.filename, str(exc)))
        except ServerUnreachable:
            report.bytes_moved += partial.held - held  # kept: the next sync goes on from there
            raise
        except UserError as exc:  # damaged between the download and its storing
            report.failed += 1
            report.errors.append(BlobProblem("download", need.sha256, need.filename, str(exc)))
        else:
            if stored.sha256 != need.sha256:  # pragma: no cover - download_blob checked it
                raise AssertionError("stored blob under another name")
            mark_uploaded(store, need.sha256)
            report.done += 1
            report.bytes_moved += result.received
        before += need.size
        if on_progress is not None:
            on_progress("download", before, total)
    return report


def sync_uploads(
    store: Store,
    client: SyncClient,
    summary: SyncSummary,
    on_progress: OnProgress | None,
    most_chunk: int = p.MAX_CHUNK_BYTES,
) -> None:
    """The upload step of :meth:`SyncService.sync` (after the push, before the pull), in
    chunks of at most the server's ``most_chunk`` bytes."""
    report = BlobReport()
    try:
        upload_pending(store, client, most_chunk=most_chunk, on_progress=on_progress, report=report)
    finally:  # a pass the link cut off did this much all the same
        summary.attachment_bytes += report.bytes_moved
        summary.attachments_uploaded += report.done
        summary.attachments_failed += report.failed
    _remember(store, "upload", report.errors)


def forget_blobs(store: Store, names: set[str]) -> int:
    """Delete the blobs of ``names`` that no attachment row on this device names any more
    (their rows left with an office the account lost); returns how many went."""
    if not names:
        return 0
    with store.read() as session:
        named = set(
            session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(listed(names))))
        )
    blobs = blob_store(store)
    gone = 0
    for name in sorted(names - named):
        try:
            gone += blobs.remove(name)
        except ValueError:  # not a digest: no file was ever made for it
            continue
    return gone


def sync_downloads(
    store: Store, client: SyncClient, summary: SyncSummary, on_progress: OnProgress | None
) -> None:
    """The download step of :meth:`SyncService.sync` (after the pull)."""
    report = BlobReport()
    try:
        download_missing(store, client, on_progress=on_progress, report=report)
    finally:  # a pass the link cut off did this much all the same
        summary.attachment_bytes += report.bytes_moved
        summary.attachments_downloaded += report.done
        summary.attachments_failed += report.failed + report.refused_rows
    _remember(store, "download", report.errors)


def problems(store: Store) -> list[BlobProblem]:
    """The blobs the last sync could not move (each direction as its last pass left it)."""
    found: list[BlobProblem] = []
    with store.read() as session:
        for direction in ("upload", "download"):
            state = session.get(SyncState, PROBLEMS_PREFIX + direction)
            if state is not None:
                found.extend(BlobProblem(**item) for item in json.loads(state.value))
    return found


def _remember(store: Store, direction: str, found: list[BlobProblem]) -> None:
    """Keep this pass's problems for the Sync page, replacing the last pass's (nothing is
    written when they are the same, as after most syncs: none before, none now)."""
    value = json.dumps([dataclasses.asdict(item) for item in found[:200]])
    with store.remote_session() as session:
        state = session.get(SyncState, PROBLEMS_PREFIX + direction)
        if state is None and found:
            session.add(SyncState(key=PROBLEMS_PREFIX + direction, value=value))
        elif state is not None and state.value != value:
            state.value = value
