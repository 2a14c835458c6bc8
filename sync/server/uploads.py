"""Attachment uploads on the server: start, chunk, verify, status (docs/sync-protocol.md §8).

An upload belongs to the account that started it: only that account writes its chunks
and verifies it; any other account gets ``403`` errno 136. Every write to an unfinished
upload (a chunk, a restart) runs in one transaction that locks the upload's row
(``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every write transaction is ``BEGIN
IMMEDIATE``, which serialises writers), checks that it is not complete, and bumps its
``writes`` counter. Verify notes the counter, hashes the chunks one at a time, each read
on its own short connection (a 200 MB blob is never held in memory, and no connection is
held while it hashes), then marks the upload complete in one short transaction that locks
the row and checks the counter has not moved. A chunk written while verify hashed makes
verify answer ``409`` and mark nothing; once complete, an upload never changes.

The first start of a hash fixes its size and chunk size, but cannot squat the hash: a
start that announces another size, or that finds no chunk stored yet, restarts the upload
with its own values and becomes its owner, and an upload left idle for
:data:`IDLE_TAKEOVER` may be taken over by another account. Only a verify can tell which
of two sizes is right, so the last honest start wins; a restart discards the chunks.
The owner's start announcing a smaller chunk size that divides the upload's cuts the
stored chunks to it (a device whose link got worse goes on in smaller chunks, losing
none of what it sent).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, select
from sqlalchemy.engine import Connection

from sync import protocol as p
from sync.protocol import Errno
from sync.server.auth import Caller, now_iso
from sync.server.db import attachment_chunks, attachments, insert_missing
from sync.server.errors import ApiError

# How long an unfinished upload must have gone unwritten before another account may take
# it over. A device on a slow link writes a chunk every minute or so; one that stopped
# for longer has gone away, and whoever else holds the same bytes may as well finish it.
IDLE_TAKEOVER = dt.timedelta(minutes=15)
# How many missing chunk indexes a refused verify names (``details.missing``).
MISSING_SHOWN = 100

CHUNK = select(attachment_chunks.c.data).where(
    attachment_chunks.c.sha256 == bindparam("sha256"), attachment_chunks.c.idx == bindparam("idx")
)


def status(engine: Engine, sha256: str) -> p.UploadStatus:
    """The upload's status, or ``404`` errno 133 when no upload of this hash was started."""
    with engine.connect().execution_options(sync_readonly=True) as conn:
        return _status(conn, sha256)


def start(engine: Engine, caller: Caller, body: p.UploadStart) -> p.UploadStatus:
    """Begin, resume, restart or take over the upload of ``body.sha256`` (module doc)."""
    sha256, stamp = body.sha256, now_iso()
    with engine.begin() as conn:
        # two first starts at once: one inserts, the other finds its row (no key error)
        insert_missing(
            conn,
            attachments,
            [
                {
                    "sha256": sha256,
                    "size": body.size,
                    "chunk_size": body.chunk_size,
                    "complete": False,
                    "account_id": caller.account_id,
                    "created_at": stamp,
                    "writes": 0,
                    "touched_at": stamp,
                }
            ],
        )
        row = _locked(conn, sha256)
        if not row.complete:
            _claim(conn, caller, body, row)
        return _status(conn, sha256)


def _claim(conn: Connection, caller: Caller, body: p.UploadStart, row: Any) -> None:
    """Let ``caller`` go on with an unfinished upload, restarting it where the rules say."""
    other = row.account_id != caller.account_id
    stored = _stored(conn, body.sha256)
    idle = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(row.touched_at)
    # each of these may discard chunks: a wrong size never verifies, no chunk is nothing
    # lost, chunks below today's minimum size came from before it, an idle upload is gone
    fresh = (
        stored == 0
        or row.size != body.size
        or row.chunk_size < p.MIN_CHUNK_BYTES
        or (other and idle > IDLE_TAKEOVER)
    )
    changed = other or (row.size, row.chunk_size) != (body.size, body.chunk_size)
    if fresh and changed:
        conn.execute(delete(attachment_chunks).where(attachment_chunks.c.sha256 == body.sha256))
        conn.execute(
            attachments.update()
            .where(attachments.c.sha256 == body.sha256)
            .values(
                account_id=caller.account_id,
                size=body.size,
                chunk_size=body.chunk_size,
                writes=row.writes + 1,
                touched_at=now_iso(),
            )
        )
    elif other:
        wait = max(IDLE_TAKEOVER - idle, dt.timedelta(0))
        raise _not_yours(takeover_after=int(wait.total_seconds()) + 1)
    elif body.chunk_size < row.chunk_size and row.chunk_size % body.chunk_size == 0:
        _recut(conn, body.sha256, row.chunk_size, body.chunk_size)
        conn.execute(
            attachments.update()
            .where(attachments.c.sha256 == body.sha256)
            .values(chunk_size=body.chunk_size)
        )
        _touch(conn, body.sha256, row.writes)


def _recut(conn: Connection, sha256: str, old: int, new: int) -> None:
    """Cut the stored chunks of a locked upload, of ``old`` bytes, into chunks of ``new``
    bytes (``old`` a multiple of ``new``): the same bytes, numbered anew.

    One chunk at a time, highest index first: old chunk ``i`` becomes ``i*k .. i*k+k-1``,
    which no old chunk still waiting (all below ``i``) is numbered as.
    """
    k = old // new
    indexes = conn.execute(
        select(attachment_chunks.c.idx)
        .where(attachment_chunks.c.sha256 == sha256)
        .order_by(attachment_chunks.c.idx.desc())
    ).scalars()
    for idx in list(indexes):
        data = conn.execute(CHUNK, {"sha256": sha256, "idx": idx}).scalar_one()
        conn.execute(
            delete(attachment_chunks).where(
                attachment_chunks.c.sha256 == sha256, attachment_chunks.c.idx == idx
            )
        )
        conn.execute(
            attachment_chunks.insert(),
            [
                {"sha256": sha256, "idx": idx * k + j, "data": data[j * new : (j + 1) * new]}
                for j in range(p.chunk_count(len(data), new))  # an empty blob's stays one
            ],
        )


def write_chunk(
    engine: Engine, caller: Caller, sha256: str, index: int, data: bytes
) -> p.UploadStatus:
    """Store chunk ``index`` of the caller's own unfinished upload; the status after.

    A complete upload is answered as it is, nothing written (a device resending its last
    chunk after a cut link). The check and the write are one locked transaction, so a
    chunk never lands in an upload that a verify marked complete meanwhile.
    """
    with engine.begin() as conn:
        row = _locked(conn, sha256, missing_ok=True)
        if row is None:
            raise ApiError(404, Errno.UPLOAD_NOT_STARTED, "no upload for this hash")
        if not row.complete:
            if row.account_id != caller.account_id:
                raise _not_yours()
            expected = min(row.chunk_size, row.size - index * row.chunk_size)
            if index >= p.chunk_count(row.size, row.chunk_size) or len(data) != max(expected, 0):
                raise ApiError(
                    409, Errno.CHUNK_REJECTED, "wrong chunk index or length", index=index
                )
            conn.execute(
                delete(attachment_chunks).where(
                    attachment_chunks.c.sha256 == sha256, attachment_chunks.c.idx == index
                )
            )
            conn.execute(attachment_chunks.insert().values(sha256=sha256, idx=index, data=data))
            _touch(conn, sha256, row.writes)
        return _status(conn, sha256)


def verify(engine: Engine, caller: Caller, sha256: str) -> p.UploadStatus:
    """Hash the caller's upload; complete on a match, discarded on a mismatch (``422``).

    Missing chunks are ``409`` errno 132 with the first :data:`MISSING_SHOWN` of them in
    ``details.missing``; an upload written to while it was hashed is ``409`` errno 132 with
    ``details.changed``, nothing marked or discarded (verify again).
    """
    with engine.connect().execution_options(sync_readonly=True) as conn:
        row = _row(conn, sha256)
        if row.complete:
            return _status(conn, sha256)
        if row.account_id != caller.account_id:
            raise _not_yours()
        writes, size = row.writes, row.size
        chunks = p.chunk_count(size, row.chunk_size)
        missing = _missing(conn, sha256, chunks) if size else []
    if missing:
        raise ApiError(409, Errno.CHUNK_REJECTED, "chunks missing", missing=missing)
    digest = _hash_chunks(engine, sha256, chunks if size else 0)
    with engine.begin() as conn:
        now = _locked(conn, sha256, missing_ok=True)
        if now is not None and now.complete:
            return _status(conn, sha256)  # a verify of the same bytes finished first
        if digest is None or now is None or now.writes != writes:
            raise ApiError(
                409,
                Errno.CHUNK_REJECTED,
                "the upload changed while it was verified; verify again",
                changed=True,
            )
        good = digest == sha256
        if good:
            conn.execute(
                attachments.update().where(attachments.c.sha256 == sha256).values(complete=True)
            )
            return _status(conn, sha256)
        conn.execute(delete(attachment_chunks).where(attachment_chunks.c.sha256 == sha256))
        conn.execute(delete(attachments).where(attachments.c.sha256 == sha256))
    raise ApiError(422, Errno.HASH_MISMATCH, "content does not match its SHA-256")


def _hash_chunks(engine: Engine, sha256: str, chunks: int) -> str | None:
    """The SHA-256 of chunks ``0 .. chunks-1`` in order, or None if one is gone.

    One chunk per short connection: a driver buffers a whole result (a 200 MB blob), and
    a verify must not hold a connection, nor on SQLite a snapshot, for seconds.
    """
    digest = hashlib.sha256()
    for idx in range(chunks):
        with engine.connect().execution_options(sync_readonly=True) as conn:
            data = conn.execute(CHUNK, {"sha256": sha256, "idx": idx}).scalar_one_or_none()
        if data is None:  # a restart discarded the chunks meanwhile
            return None
        digest.update(data)
    return digest.hexdigest()


def _missing(conn: Connection, sha256: str, chunks: int) -> list[int]:
    """The first :data:`MISSING_SHOWN` chunk indexes not stored, found from the stored ones.

    The stored indexes (each below ``chunks``: a write checks it) are counted first and
    only walked when some are missing; the range of every index is never built.
    """
    if _stored(conn, sha256) >= chunks:
        return []
    missing: list[int] = []
    expected = 0
    stored = select(attachment_chunks.c.idx).where(attachment_chunks.c.sha256 == sha256)
    for idx in conn.execute(stored.order_by(attachment_chunks.c.idx)).scalars():
        missing.extend(range(expected, min(idx, expected + MISSING_SHOWN - len(missing))))
        if len(missing) >= MISSING_SHOWN:
            return missing
        expected = idx + 1
    missing.extend(range(expected, min(chunks, expected + MISSING_SHOWN - len(missing))))
    return missing


def _stored(conn: Connection, sha256: str) -> int:
    count = select(func.count()).where(attachment_chunks.c.sha256 == sha256)
    return int(conn.execute(count).scalar_one())


def _touch(conn: Connection, sha256: str, writes: int) -> None:
    """Count one more write to a locked upload, and when it happened."""
    conn.execute(
        attachments.update()
        .where(attachments.c.sha256 == sha256)
        .values(writes=writes + 1, touched_at=now_iso())
    )


def _row(conn: Connection, sha256: str) -> Any:
    row = conn.execute(select(attachments).where(attachments.c.sha256 == sha256)).first()
    if row is None:
        raise ApiError(404, Errno.UPLOAD_NOT_STARTED, "no upload for this hash")
    return row


def _locked(conn: Connection, sha256: str, missing_ok: bool = False) -> Any:
    """The upload's row, locked until the end of the transaction (writers serialise on it)."""
    query = select(attachments).where(attachments.c.sha256 == sha256).with_for_update()
    row = conn.execute(query).first()
    if row is None and not missing_ok:
        raise ApiError(404, Errno.UPLOAD_NOT_STARTED, "no upload for this hash")
    return row


def _status(conn: Connection, sha256: str) -> p.UploadStatus:
    row = _row(conn, sha256)
    received = conn.execute(
        select(attachment_chunks.c.idx)
        .where(attachment_chunks.c.sha256 == sha256)
        .order_by(attachment_chunks.c.idx)
    ).scalars()
    return p.UploadStatus(
        sha256=sha256,
        size=row.size,
        chunk_size=row.chunk_size,
        chunks=p.chunk_count(row.size, row.chunk_size),
        received=list(received),
        complete=bool(row.complete),
    )


def _not_yours(**details: Any) -> ApiError:
    return ApiError(
        403, Errno.UPLOAD_NOT_YOURS, "another account is uploading this attachment", **details
    )
