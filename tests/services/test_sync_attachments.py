"""Which blobs a sync moves, how much it will send, and what it does with bad blobs.

Runs against the real server app in-process over SQLite (no fake of the protocol): the
device-to-device paths over both backends are in ``tests/sync/test_attachments_client.py``.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.models.entities import Attachment
from desktop.models.store import Store
from desktop.services import sync_attachments, sync_view
from desktop.services.attachments import add_attachment, blob_store
from sync import protocol as p
from sync.client import attachments as wire
from sync.client.http import SyncClient
from sync.server import admin
from sync.server.app import Settings, create_app
from tests.sync.conftest import MemorySink


@pytest.fixture
def client(tmp_path: Path) -> Iterator[SyncClient]:
    """A registered device's client of a fresh in-process server on SQLite."""
    app = create_app(Settings(db_url=str(tmp_path / "server.db"), cheap_hashing=True))
    ctx = app.state.ctx
    admin.create_user(ctx.engine, ctx.hasher, "ann", "password-123", p.Role.CASEWORKER, ("MS",))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        http = TestClient(app)
    device = SyncClient(http)
    device.register("ann", "password-123", "laptop")
    yield device
    ctx.engine.dispose()


def _file(tmp_path: Path, name: str, size: int) -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_uploaded_marks_fit_the_state_table_and_refuse_bad_names(store: Store) -> None:
    key = sync_attachments.uploaded_key("ab" * 32)
    assert key.startswith(sync_attachments.UPLOADED_PREFIX)
    assert len(key) == 48  # inside sync_state.key's 64 characters
    with pytest.raises(wire.BlobRefused):
        sync_attachments.uploaded_key("../" * 20)


def test_an_empty_store_has_nothing_to_move(store: Store) -> None:
    assert sync_attachments.uploads_needed(store) == []
    assert sync_attachments.downloads_needed(store) == ([], 0)
    assert sync_attachments.upload_estimate(store) == (0, 0)


def test_uploads_needed_counts_each_blob_once_and_skips_deleted_rows(
    store: Store, tmp_path: Path
) -> None:
    scan = _file(tmp_path, "a.jpg", 5000)
    add_attachment(store, scan)
    add_attachment(store, scan)  # the same scan on two documents: one blob
    gone = add_attachment(store, _file(tmp_path, "b.jpg", 7000))
    with store.session() as session:
        row = session.get(Attachment, gone)
        assert row is not None
        row.deleted = True
    needs = sync_attachments.uploads_needed(store)
    assert [(n.sha256, n.size, n.filename) for n in needs] == [(_sha(scan), 5000, "a.jpg")]
    assert sync_attachments.upload_estimate(store) == (1, wire.upload_cost(5000))
    sync_attachments.mark_uploaded(store, _sha(scan))
    assert sync_attachments.uploads_needed(store) == []
    view = sync_view.overview(store)
    assert (view.attachments_waiting, view.attachment_bytes) == (0, 0)


def test_the_estimate_grows_with_the_chunks_a_file_needs(store: Store, tmp_path: Path) -> None:
    add_attachment(store, _file(tmp_path, "big.pdf", 3 * wire.DEFAULT_CHUNK_BYTES + 1))
    files, estimate = sync_attachments.upload_estimate(store)
    requests = 4 + 2  # four chunks, start and verify
    assert files == 1
    assert estimate == 3 * wire.DEFAULT_CHUNK_BYTES + 1 + requests * (
        wire.REQUEST_OVERHEAD_BYTES
    ) + (2 * wire.CONTROL_BODY_BYTES)
    assert sync_view.overview(store).bytes_to_send >= estimate


def test_upload_reports_progress_to_the_total_and_marks_what_was_verified(
    store: Store, tmp_path: Path, client: SyncClient
) -> None:
    one = _file(tmp_path, "one.jpg", 600_000)
    two = _file(tmp_path, "two.jpg", 100_000)
    add_attachment(store, one)
    add_attachment(store, two)
    seen: list[tuple[str, int, int]] = []
    report = sync_attachments.upload_pending(
        store, client, on_progress=lambda *args: seen.append(args)
    )
    assert (report.done, report.failed, report.bytes_moved) == (2, 0, 700_000)
    assert {stage for stage, _d, _t in seen} == {"upload"}
    assert [d for _s, d, _t in seen] == sorted(d for _s, d, _t in seen)
    assert seen[-1][1:] == (700_000, 700_000)
    assert sync_attachments.uploads_needed(store) == []
    # a second pass has nothing to send and makes no request
    sent = client.bytes_sent
    assert sync_attachments.upload_pending(store, client).done == 0
    assert client.bytes_sent == sent


def _chunks_sent(client: SyncClient, monkeypatch: pytest.MonkeyPatch, cut: set[int]) -> list[int]:
    """The length of every chunk the client sends from now on (in order); the link drops
    under the chunks whose place in that list is in ``cut`` (0 the first)."""
    from sync.client.http import ServerUnreachable

    sent: list[int] = []
    real = client.attachment_chunk

    def chunk(sha256: str, index: int, data: bytes) -> None:
        sent.append(len(data))
        if len(sent) - 1 in cut:
            raise ServerUnreachable("ReadError")
        real(sha256, index, data)

    monkeypatch.setattr(client, "attachment_chunk", chunk)
    return sent


def test_after_a_dropped_chunk_new_uploads_use_smaller_chunks_from_one_sync_to_the_next(
    store: Store, tmp_path: Path, client: SyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk cut off by a dropped link is sent again whole: on a link that drops, the
    device's uploads go on in half the chunk size (down to the protocol's smallest), the
    one under way too (the server cuts what it holds), and it remembers that for its
    next sync."""
    from sync.client import pacing
    from sync.client.http import ServerUnreachable

    monkeypatch.setattr(pacing, "FAST_SECONDS", -1.0)  # only the cuts count here
    monkeypatch.setattr(pacing, "SLOW_SECONDS", 600.0)
    size = wire.DEFAULT_CHUNK_BYTES
    add_attachment(store, _file(tmp_path, "one.jpg", 600_000))
    sent = _chunks_sent(client, monkeypatch, cut={1, 2})
    for _sync in range(2):
        with pytest.raises(ServerUnreachable):
            sync_attachments.upload_pending(store, client)
    assert store.setting(sync_attachments.CHUNK_SIZE_KEY) == size // 4
    assert sync_attachments.chunk_pace(store).size == size // 4
    last = sync_attachments.upload_pending(store, client)
    assert (last.done, last.bytes_moved) == (1, 600_000 - size)
    # chunk 0 went whole; the rest, cut off in chunks of 256 then 128 KiB, in 64 KiB
    assert sent == [size, size, size // 2] + [size // 4] * 5 + [600_000 - 9 * (size // 4)]
    two = _file(tmp_path, "two.jpg", 150_000)
    add_attachment(store, two)
    assert sync_attachments.upload_estimate(store) == (1, wire.upload_cost(150_000, size // 4))
    assert sync_attachments.upload_pending(store, client).done == 1
    assert sent[9:] == [size // 4, size // 4, 150_000 - 2 * (size // 4)]
    assert blob_store(store).read_bytes(_sha(two)) == two.read_bytes()
    # never below the smallest chunk the protocol allows
    three = _file(tmp_path, "three.jpg", 300_000)
    add_attachment(store, three)
    _chunks_sent(client, monkeypatch, cut={0, 1, 2})
    for _sync in range(3):
        with pytest.raises(ServerUnreachable):
            sync_attachments.upload_pending(store, client)
    assert sync_attachments.chunk_pace(store).size == p.MIN_CHUNK_BYTES


def test_on_a_quick_link_chunks_grow_back_to_the_default_and_no_further(
    store: Store, tmp_path: Path, client: SyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a bad day, quick chunks double the size back to 256 KiB; never past it: on a
    quick link that drops now and then, bigger chunks lose more to each cut than they
    save in requests (bench/flaky_link.py)."""
    from sync.client import pacing

    monkeypatch.setattr(pacing, "FAST_SECONDS", 600.0)  # every chunk answered quickly
    size, least = wire.DEFAULT_CHUNK_BYTES, p.MIN_CHUNK_BYTES
    store.set_setting(sync_attachments.CHUNK_SIZE_KEY, least)
    sent = _chunks_sent(client, monkeypatch, cut=set())
    for name in ("one.jpg", "two.jpg"):
        add_attachment(store, _file(tmp_path, name, 4 * size))
    assert sync_attachments.upload_pending(store, client).done == 2
    # the first upload goes on in the chunks it started with; the second in 256 KiB
    assert sent == [least] * 16 + [size] * 4
    assert sync_attachments.chunk_pace(store).size == size
    # a server that takes smaller chunks than the device last used is sent those
    assert sync_attachments.chunk_pace(store, most=size // 2).size == size // 2
    # a setting that is not a size (a damaged or hand-edited store) starts over
    for junk, start in (("big", size), (1, least), (10 * size, size)):
        store.set_setting(sync_attachments.CHUNK_SIZE_KEY, junk)
        assert sync_attachments.chunk_pace(store).size == start


def test_a_locally_damaged_blob_is_not_sent_and_the_others_go(
    store: Store, tmp_path: Path, client: SyncClient
) -> None:
    bad = _file(tmp_path, "bad.jpg", 300_000)
    good = _file(tmp_path, "good.jpg", 2000)
    add_attachment(store, bad)
    add_attachment(store, good)
    path = blob_store(store).path_for(_sha(bad))
    damaged = bytearray(path.read_bytes())
    damaged[-10] ^= 0xFF
    path.write_bytes(bytes(damaged))
    report = sync_attachments.upload_pending(store, client)
    assert (report.done, report.failed) == (1, 1)
    assert (report.errors[0].direction, report.errors[0].filename) == ("upload", "bad.jpg")
    assert [n.sha256 for n in sync_attachments.uploads_needed(store)] == [_sha(bad)]
    # the server verified nothing for the damaged one: it cannot be downloaded
    with pytest.raises(wire.BlobRefused):
        wire.download_blob(client, _sha(bad), MemorySink())


def test_download_stores_encrypted_and_marks_it_on_the_server(
    store: Store, tmp_path: Path, client: SyncClient
) -> None:
    scan = _file(tmp_path, "scan.png", 40_000)
    add_attachment(store, scan)
    assert sync_attachments.upload_pending(store, client).done == 1
    blob = blob_store(store).path_for(_sha(scan))
    blob.unlink()  # as on a fresh device that received the row only
    needs, refused = sync_attachments.downloads_needed(store)
    assert ([n.sha256 for n in needs], refused) == ([_sha(scan)], 0)
    seen: list[tuple[str, int, int]] = []
    report = sync_attachments.download_missing(
        store, client, on_progress=lambda *args: seen.append(args)
    )
    assert (report.done, report.failed, report.bytes_moved) == (1, 0, 40_000)
    assert seen[-1] == ("download", 40_000, 40_000)
    assert [done for _kind, done, _total in seen] == sorted(done for _k, done, _t in seen)
    assert blob_store(store).read_bytes(_sha(scan)) == scan.read_bytes()
    assert scan.read_bytes()[:1000] not in blob.read_bytes()
    assert sync_attachments.uploads_needed(store) == []


def test_a_download_larger_than_this_device_accepts_is_refused(
    store: Store, tmp_path: Path, client: SyncClient
) -> None:
    scan = _file(tmp_path, "huge.tif", 2 * 1_048_576 + 5)
    add_attachment(store, scan)
    sync_attachments.upload_pending(store, client)
    blob_store(store).path_for(_sha(scan)).unlink()
    store.set_setting("attachment_max_mb", 1)
    report = sync_attachments.download_missing(store, client)
    assert (report.done, report.failed) == (0, 1)
    assert not blob_store(store).has(_sha(scan))
    with store.read() as session:
        assert session.scalar(select(Attachment.sha256)) == _sha(scan)
