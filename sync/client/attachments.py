"""Attachment blobs over protocol v1: resumable chunked upload, verified download.

Upload (``docs/sync-protocol.md`` §8): ``start`` tells us which chunks the server already
holds, so an upload cut off by a dropped link resumes from the last acknowledged chunk;
the remaining chunks are streamed from a source the caller opens only when needed (the
device decrypts its blob on the fly, so a 200 MB scan never sits in memory); ``verify``
makes the server hash what it holds, and a mismatch discards everything on the server.

Download: the bytes go into a sink as they arrive (the device's encrypted partial file),
and a dropped download resumes on the next sync with ``Range: bytes=N-`` after what the
sink holds. The whole is checked against its name before the caller stores it as the
blob; a mismatch discards it, so a cut or tampered transfer can never leave a wrong blob
under its final name.

Every name is checked against the SHA-256 pattern before it reaches a URL or a path: a
hostile server cannot smuggle ``../`` into the device's storage.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from sync import protocol as p
from sync.client import pacing
from sync.client.http import (
    REQUEST_OVERHEAD_BYTES,
    RESPONSE_OVERHEAD_BYTES,
    ServerUnreachable,
    SyncClient,
    SyncHttpError,
)

# The chunk size a device starts with, before it knows its link (:class:`ChunkPace`):
# 256 KiB, small enough that a drop on a slow rural link loses little, large enough that
# the per-request overhead stays under 0.1 %.
DEFAULT_CHUNK_BYTES = 256 * 1024
# A start or verify request body: {"sha256": "<64 hex>", "size": N, "chunk_size": C}.
CONTROL_BODY_BYTES = 110

Progress = Callable[[int, int], None]
ChunkSource = Callable[[], Iterable[bytes]]
# Told of each chunk sent: the upload's chunk size, this chunk's length (the last may be
# shorter), and the seconds it took to be answered, or None when a dropped link cut it off.
ChunkTimer = Callable[[int, int, float | None], None]

# Refusals that concern one blob only: the sync goes on with the others. Anything else
# (revoked device, busy server, dropped link) stops the sync as for rows.
BLOB_ERRNOS = frozenset(
    {
        p.Errno.BAD_ATTACHMENT_NAME,
        p.Errno.HASH_MISMATCH,
        p.Errno.CHUNK_REJECTED,
        p.Errno.UPLOAD_NOT_STARTED,
        p.Errno.ATTACHMENT_TOO_LARGE,
        p.Errno.NOT_FOUND,
        p.Errno.OUT_OF_SCOPE,
        p.Errno.RANGE_NOT_SATISFIABLE,
        p.Errno.UPLOAD_NOT_YOURS,  # another account is uploading it: the next sync asks again
    }
)


@dataclass
class ChunkPace:
    """The chunk size a device's uploads ask for, following its link.

    A chunk cut off by a dropped link is sent again whole, so on a 2G link that drops
    every minute or so a chunk that takes a minute to send seldom gets through, and each
    try costs metered data. Each full chunk that takes over five seconds, or is cut off,
    halves the size, down to the protocol's smallest chunk; each one answered within a
    second doubles it, back up to :data:`DEFAULT_CHUNK_BYTES` (or the server's largest,
    ``most``, if smaller), never past it: on a quick link that drops now and then,
    chunks grown to 1 MiB lost more to each cut than they saved in requests
    (bench/flaky_link.py, docs/performance.md). An upload under way goes on in the
    smaller size too: the server cuts the chunks it holds to a size that divides theirs
    (docs/sync-protocol.md §8).
    """

    size: int = DEFAULT_CHUNK_BYTES
    most: int = DEFAULT_CHUNK_BYTES

    def __post_init__(self) -> None:
        self.most = min(max(self.most, p.MIN_CHUNK_BYTES), DEFAULT_CHUNK_BYTES)
        self.size = min(max(self.size, p.MIN_CHUNK_BYTES), self.most)

    def timed(self, chunk_size: int, length: int, seconds: float | None) -> None:
        """A chunk was answered in ``seconds`` (None: cut off); a :data:`ChunkTimer`. A
        short last chunk says little about the link and is left out. A resumed upload's
        chunks may be of another size than this pace's: they tell of the link all the same.
        """
        if length < chunk_size:
            return
        self.size = pacing.next_size(
            self.size, seconds or 0.0, seconds is None, least=p.MIN_CHUNK_BYTES, most=self.most
        )


class BlobRefused(Exception):
    """One blob cannot be transferred: bad name, wrong size, hash mismatch, refused."""

    def __init__(self, sha256: str, reason: str, errno: int | None = None) -> None:
        super().__init__(f"attachment {sha256[:80]!r}: {reason}")
        self.sha256 = sha256
        self.reason = reason
        self.errno = errno


@dataclass(frozen=True)
class UploadResult:
    """What one upload did: ``sent_chunks`` excludes chunks the server already held."""

    sha256: str
    size: int
    chunks: int
    sent_chunks: int
    sent_bytes: int
    already_complete: bool


def check_name(sha256: str) -> str:
    """``sha256`` if it is 64 lower-case hex digits, else :class:`BlobRefused`."""
    if not isinstance(sha256, str) or not p.SHA256_RE.match(sha256):
        raise BlobRefused(str(sha256), "not a SHA-256 hex digest", p.Errno.BAD_ATTACHMENT_NAME)
    return sha256


def upload_cost(size: int, chunk_size: int = DEFAULT_CHUNK_BYTES) -> int:
    """Bytes a full upload puts on the wire, counted the way :class:`SyncClient` counts."""
    requests = p.chunk_count(size, chunk_size) + 2  # start, the chunks, verify
    return size + requests * REQUEST_OVERHEAD_BYTES + 2 * CONTROL_BODY_BYTES


def download_cost(size: int, held: int = 0) -> int:
    """Bytes fetching the rest of a blob puts on the wire, as :class:`SyncClient` counts."""
    return max(size - held, 0) + RESPONSE_OVERHEAD_BYTES


def rechunk(blocks: Iterable[bytes], chunk_size: int) -> Iterator[bytes]:
    """Re-cut a stream of blocks of any size into ``chunk_size`` pieces (the last shorter)."""
    pending = bytearray()
    for block in blocks:
        pending += block
        while len(pending) >= chunk_size:
            yield bytes(pending[:chunk_size])
            del pending[:chunk_size]
    if pending:
        yield bytes(pending)


def upload_blob(
    client: SyncClient,
    sha256: str,
    size: int,
    source: ChunkSource,
    *,
    chunk_size: int = DEFAULT_CHUNK_BYTES,
    progress: Progress | None = None,
    timer: ChunkTimer | None = None,
) -> UploadResult:
    """Upload the blob named ``sha256`` of ``size`` bytes, resuming a cut-off upload.

    ``source`` is called only if the server lacks chunks; it yields the plaintext in
    blocks of any size. ``timer`` is told how long each chunk sent took. A resumed upload
    goes on in the chunk size the server answers: ``chunk_size`` if it divides the one
    the upload started with (the server cuts what it holds), else that one. Raises
    :class:`BlobRefused` when the server refuses this blob (the server discards a hash
    mismatch), ``ServerUnreachable`` or ``SyncHttpError`` for everything else (the next
    sync resumes from the chunks acknowledged so far).
    """
    check_name(sha256)
    if not p.MIN_CHUNK_BYTES <= chunk_size <= p.MAX_CHUNK_BYTES:
        raise ValueError(
            f"chunk size must be {p.MIN_CHUNK_BYTES}..{p.MAX_CHUNK_BYTES} bytes, not {chunk_size}"
        )
    if size < 0:
        raise ValueError(f"size must not be negative: {size}")
    start = p.UploadStart(sha256=sha256, size=size, chunk_size=chunk_size)
    with _refusals(sha256):
        status = client.attachment_start(start)
    if status.complete:
        return UploadResult(sha256, size, status.chunks, 0, 0, True)
    if status.size != size:
        # an earlier start announced another size for this hash: one of them is wrong,
        # and only the server's verify can tell; ours cannot fit its chunk lengths
        raise BlobRefused(sha256, f"server expects {status.size} bytes, not {size}")
    have = set(status.received)
    sent_chunks = sent_bytes = done = 0
    if len(have) < status.chunks:
        total = 0
        # the server keeps the chunk size of the first start: follow it when resuming
        for index, chunk in enumerate(rechunk(source(), status.chunk_size)):
            total += len(chunk)
            if index >= status.chunks or total > size:
                raise BlobRefused(sha256, f"local content is longer than {size} bytes")
            if index not in have:
                _send_chunk(client, sha256, index, chunk, status.chunk_size, timer)
                sent_chunks += 1
                sent_bytes += len(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, size)
        if total != size:
            raise BlobRefused(sha256, f"local content is {total} bytes, not {size}")
    with _refusals(sha256):
        final = client.attachment_verify(sha256)
    return UploadResult(sha256, size, final.chunks, sent_chunks, sent_bytes, False)


def _send_chunk(
    client: SyncClient,
    sha256: str,
    index: int,
    chunk: bytes,
    chunk_size: int,
    timer: ChunkTimer | None,
) -> None:
    """PUT one chunk, telling ``timer`` how long it took."""
    started = time.monotonic()
    try:
        with _refusals(sha256):
            client.attachment_chunk(sha256, index, chunk)
    except ServerUnreachable:
        if timer is not None:
            timer(chunk_size, len(chunk), None)
        raise
    if timer is not None:
        timer(chunk_size, len(chunk), time.monotonic() - started)


class DownloadSink(Protocol):
    """Where a download's bytes go as they arrive (the device keeps them encrypted).

    It keeps what earlier, cut attempts received, so a download resumes after them.
    """

    held: int  # bytes held so far, from earlier attempts and this one

    def write(self, data: bytes) -> None: ...

    def flush(self) -> None:
        """Keep everything written so far; called when the link drops too."""

    def sha256(self) -> str:
        """The hash of every byte held."""

    def discard(self) -> None:
        """Forget everything held (the next attempt starts from the first byte)."""


@dataclass(frozen=True)
class DownloadResult:
    """What one download did: ``received`` counts only this attempt's bytes."""

    sha256: str
    size: int
    resumed_from: int
    received: int


def download_blob(
    client: SyncClient,
    sha256: str,
    sink: DownloadSink,
    *,
    size: int | None = None,
    max_bytes: int = p.MAX_ATTACHMENT_BYTES,
    progress: Progress | None = None,
) -> DownloadResult:
    """Fetch ``sha256`` into ``sink``, resuming after what it already holds; verify it.

    ``size`` is what the attachment row says; a sink that already holds that many bytes
    hashing to the name is complete without asking the server. When this returns, the
    sink holds exactly the blob. A hash mismatch or a blob larger than ``max_bytes``
    discards what the sink held and raises :class:`BlobRefused`; a dropped link raises
    :class:`ServerUnreachable` with everything received so far kept in the sink.
    """
    check_name(sha256)
    if size is not None and sink.held == size and sink.sha256() == sha256:
        return DownloadResult(sha256, size, size, 0)
    if sink.held > max_bytes or (size is not None and sink.held > size):
        sink.discard()
    start = sink.held
    try:
        with _refusals(sha256):
            received = _receive(client, sha256, sink, max_bytes, progress)
    except BlobRefused as exc:
        if exc.errno != p.Errno.RANGE_NOT_SATISFIABLE:
            raise
        # what the device holds does not fit the blob the server has: start again
        sink.discard()
        start = 0
        with _refusals(sha256):
            received = _receive(client, sha256, sink, max_bytes, progress)
    if sink.sha256() != sha256:
        sink.discard()
        raise BlobRefused(
            sha256, "downloaded bytes do not match their SHA-256", p.Errno.HASH_MISMATCH
        )
    return DownloadResult(sha256, sink.held, start, received)


def _receive(
    client: SyncClient,
    sha256: str,
    sink: DownloadSink,
    max_bytes: int,
    progress: Progress | None,
) -> int:
    """One request: append the rest of the blob to ``sink``; the bytes received."""
    received = 0
    try:
        with client.attachment_stream(sha256, sink.held) as stream:
            if stream.first != sink.held:
                if stream.first != 0:
                    raise BlobRefused(sha256, f"the server sent bytes from {stream.first}")
                sink.discard()  # the server sent the whole blob, not the rest
            total = stream.size if stream.size is not None else max_bytes
            if stream.size is not None and stream.size > max_bytes:
                raise BlobRefused(
                    sha256,
                    f"{stream.size} bytes is more than {max_bytes}",
                    p.Errno.ATTACHMENT_TOO_LARGE,
                )
            for piece in stream.pieces:
                if sink.held + len(piece) > max_bytes:
                    sink.discard()
                    raise BlobRefused(
                        sha256, f"more than {max_bytes} bytes", p.Errno.ATTACHMENT_TOO_LARGE
                    )
                sink.write(piece)
                received += len(piece)
                if progress is not None:
                    progress(sink.held, total)
    finally:
        sink.flush()
    return received


@contextlib.contextmanager
def _refusals(sha256: str) -> Iterator[None]:
    """Turn the server's refusals of this one blob into :class:`BlobRefused`."""
    try:
        yield
    except SyncHttpError as exc:
        if exc.errno in BLOB_ERRNOS:
            raise BlobRefused(sha256, exc.message, exc.errno) from exc
        raise
