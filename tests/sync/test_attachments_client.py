"""Attachment contents between devices through the real server (SQLite and PostgreSQL).

The link is a thin wrapper around the in-process server that can drop the connection
after a number of chunk uploads, cut a download, or flip a byte in transit, so every
guarantee is checked against what actually crossed the wire.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from desktop.models.attachments import SEGMENT
from desktop.models.entities import Attachment
from desktop.services import sync_attachments, sync_view
from desktop.services.attachments import add_attachment, blob_store
from sync import protocol as p
from sync.client import attachments as wire
from sync.client.http import ServerUnreachable, SyncClient, SyncHttpError
from tests.sync.conftest import Device, MemorySink, Server

SCAN_BYTES = 3 * 1024 * 1024 + 12_345  # a 3 MB scan, not a whole number of chunks
CHUNK = wire.DEFAULT_CHUNK_BYTES


class _Received:
    """A download as the client sees it: cut after some bytes, or one byte flipped."""

    def __init__(self, response: Any, cut_after: int | None, tamper: bool) -> None:
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.cut_after = cut_after
        self.tamper = tamper

    @property
    def num_bytes_downloaded(self) -> int:
        return int(self.response.num_bytes_downloaded)

    def read(self) -> bytes:
        return bytes(self.response.read())

    @property
    def content(self) -> bytes:  # an error body, after read()
        return bytes(self.response.content)

    def iter_bytes(self) -> Iterator[bytes]:
        sent = 0
        for piece in self.response.iter_bytes():
            if self.tamper and sent == 0 and piece:
                piece = bytes([piece[0] ^ 0x80]) + piece[1:]
            if self.cut_after is not None and sent + len(piece) > self.cut_after:
                yield piece[: self.cut_after - sent]
                raise httpx.ReadError("link dropped mid-download")
            sent += len(piece)
            yield piece


class Link:
    """The device's connection: counts chunk uploads; can drop or tamper on request."""

    def __init__(self, http: Any) -> None:
        self.http = http
        self.chunk_indexes: list[int] = []
        self.drop_after_chunks: int | None = None
        self.tamper_chunk: int | None = None
        self.cut_download_after: int | None = None
        self.tamper_download = False
        self.ignore_ranges = False
        self.ranges: list[str | None] = []
        self.requested_urls: list[str] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.requested_urls.append(url)
        params = kwargs.get("params") or {}
        if url.endswith("/attachments/chunk"):
            if self.drop_after_chunks is not None and len(self.chunk_indexes) >= (
                self.drop_after_chunks
            ):
                raise httpx.ConnectError("link dropped mid-upload")
            self.chunk_indexes.append(int(params["index"]))
            if self.tamper_chunk == int(params["index"]):
                body = bytearray(kwargs["content"])
                body[len(body) // 2] ^= 0x01
                kwargs["content"] = bytes(body)
        return self.http.request(method, url, **kwargs)

    @contextlib.contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[Any]:
        self.requested_urls.append(url)
        headers = dict(kwargs.pop("headers", None) or {})
        self.ranges.append(headers.get("Range"))
        if self.ignore_ranges:  # a proxy, or a server from before protocol 3
            headers.pop("Range", None)
        with self.http.stream(method, url, headers=headers, **kwargs) as response:
            yield _Received(response, self.cut_download_after, self.tamper_download)


def _link(device: Device) -> Link:
    link = Link(device.client.http)
    device.client.http = link
    return link


def _scan(tmp_path: Path, name: str = "scan.jpg", size: int = SCAN_BYTES) -> Path:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return path


def _pair(server: Server, make_device: Any) -> tuple[Device, Device]:
    server.user("ann")
    server.user("bob")
    return make_device(server, "ann"), make_device(server, "bob")


def _blob_files(device: Device) -> list[Path]:
    return sorted(p_ for p_ in device.store.paths.attachments.rglob("*") if p_.is_file())


def test_a_3_mb_scan_reaches_the_other_device_identical(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    a, b = _pair(server, make_device)
    scan = _scan(tmp_path)
    row_id = add_attachment(a.store, scan)
    sha = hashlib.sha256(scan.read_bytes()).hexdigest()
    up = a.sync()
    assert up.ok
    assert up.attachments_uploaded == 1
    assert up.attachments_failed == 0
    assert sync_attachments.uploads_needed(a.store) == []
    down = b.sync()
    assert down.ok
    assert down.attachments_downloaded == 1
    with b.store.read() as session:
        assert session.get(Attachment, row_id).sha256 == sha  # type: ignore[union-attr]
    assert blob_store(b.store).read_bytes(sha) == scan.read_bytes()
    # encrypted at rest on the receiving device too
    stored = blob_store(b.store).path_for(sha).read_bytes()
    assert scan.read_bytes()[:4096] not in stored
    # nothing left to move either way
    again_a, again_b = a.sync(), b.sync()
    assert again_a.attachments_uploaded == again_b.attachments_downloaded == 0
    assert sync_attachments.downloads_needed(b.store) == ([], 0)


def test_a_dropped_upload_resumes_from_the_last_acknowledged_chunk(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    a, b = _pair(server, make_device)
    link = _link(a)
    scan = _scan(tmp_path)
    add_attachment(a.store, scan)
    link.drop_after_chunks = 5
    first = a.sync()
    assert not first.ok
    assert "unreachable" in (first.error or "")
    assert link.chunk_indexes == [0, 1, 2, 3, 4]
    assert first.attachment_bytes == 5 * CHUNK  # moved, though cut off: the app retries soon
    assert first.progressed
    assert sync_attachments.uploads_needed(a.store) != []  # not marked: not verified yet
    link.drop_after_chunks = None
    second = a.sync()
    assert second.ok
    assert second.attachments_uploaded == 1
    assert second.attachment_bytes == SCAN_BYTES - 5 * CHUNK
    # only the chunks the server had not acknowledged crossed the wire again, in half the
    # size after the cut (the server cut the five it held into ten)
    halves = p.chunk_count(SCAN_BYTES, CHUNK // 2)
    assert link.chunk_indexes[5:] == list(range(10, halves))
    assert len(link.chunk_indexes) == 5 + halves - 10
    assert b.sync().attachments_downloaded == 1
    sha = hashlib.sha256(scan.read_bytes()).hexdigest()
    assert blob_store(b.store).read_bytes(sha) == scan.read_bytes()


def test_a_sync_cut_off_counts_the_scans_it_sent_whole_before(
    server: Server, make_device: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync.client import pacing

    monkeypatch.setattr(pacing, "FAST_SECONDS", -1.0)  # every upload in chunks of CHUNK
    a, _b = _pair(server, make_device)
    link = _link(a)
    add_attachment(a.store, _scan(tmp_path, "one.jpg"))
    add_attachment(a.store, _scan(tmp_path, "two.jpg"))
    link.drop_after_chunks = p.chunk_count(SCAN_BYTES, CHUNK) + 1  # one whole, one chunk
    cut = a.sync()
    assert not cut.ok
    assert (cut.attachments_uploaded, cut.attachment_bytes) == (1, SCAN_BYTES + CHUNK)
    link.drop_after_chunks = None
    rest = a.sync()
    assert (rest.attachments_uploaded, rest.attachment_bytes) == (1, SCAN_BYTES - CHUNK)


def test_an_upload_cut_off_goes_on_in_the_smaller_chunks_the_link_now_calls_for(
    server: Server, make_device: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next sync's start asks for the smaller chunk size the cut left: the server cuts
    the chunks it holds to it, and only the rest is sent, in the smaller chunks."""
    from sync.client import pacing

    monkeypatch.setattr(pacing, "FAST_SECONDS", -1.0)  # only the cut counts here
    a, b = _pair(server, make_device)
    link = _link(a)
    scan = _scan(tmp_path)
    add_attachment(a.store, scan)
    link.drop_after_chunks = 2
    assert not a.sync().ok
    assert sync_attachments.chunk_pace(a.store).size == CHUNK // 2
    link.drop_after_chunks = None
    done = a.sync()
    assert (done.attachments_uploaded, done.attachment_bytes) == (1, SCAN_BYTES - 2 * CHUNK)
    assert link.chunk_indexes[2:] == list(range(4, p.chunk_count(SCAN_BYTES, CHUNK // 2)))
    assert b.sync().attachments_downloaded == 1
    sha = hashlib.sha256(scan.read_bytes()).hexdigest()
    assert blob_store(b.store).read_bytes(sha) == scan.read_bytes()


def _partial_files(device: Device) -> list[Path]:
    return [f for f in _blob_files(device) if f.suffix == ".download"]


def _uploaded_scan(
    server: Server, make_device: Any, tmp_path: Path
) -> tuple[Device, Path, str, Link]:
    """A scan one device uploaded, and the other device about to fetch it over a Link."""
    a, b = _pair(server, make_device)
    scan = _scan(tmp_path)
    add_attachment(a.store, scan)
    assert a.sync().ok
    return b, scan, hashlib.sha256(scan.read_bytes()).hexdigest(), _link(b)


def _cut_once(device: Device, link: Link, after: int) -> None:
    """One sync whose download the link cuts after ``after`` bytes."""
    link.cut_download_after = after
    assert not device.sync().ok
    link.cut_download_after = None


def test_a_dropped_download_resumes_after_the_bytes_that_arrived(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    b, scan, sha, link = _uploaded_scan(server, make_device, tmp_path)
    cut_at = 1_300_000  # not on a segment or chunk boundary
    link.cut_download_after = cut_at
    seen: list[tuple[str, int, int]] = []
    b.service.on_progress = lambda *event: seen.append(event)
    cut = b.sync()
    assert not cut.ok
    assert "unreachable" in (cut.error or "")
    assert cut.attachments_downloaded == 0
    assert cut.attachment_bytes == cut_at
    assert not blob_store(b.store).has(sha)
    # what arrived is kept, encrypted, beside where the blob will go
    [partial] = _partial_files(b)
    assert partial.name == f"{sha}.download"
    assert scan.read_bytes()[:4096] not in partial.read_bytes()
    assert scan.read_bytes()[cut_at - 4096 : cut_at] not in partial.read_bytes()
    assert ("download", cut_at, SCAN_BYTES) in seen  # progress as the bytes came in
    link.cut_download_after = None
    received = b.client.bytes_received
    done = b.sync()
    assert done.ok
    assert done.attachments_downloaded == 1
    assert done.attachment_bytes == SCAN_BYTES - cut_at
    assert link.ranges == [None, f"bytes={cut_at}-"]
    # only the rest crossed the wire again (plus the pull's few hundred bytes)
    assert b.client.bytes_received - received < SCAN_BYTES - cut_at + 5_000
    assert blob_store(b.store).read_bytes(sha) == scan.read_bytes()
    assert [f.name for f in _blob_files(b)] == [sha]


def test_the_metered_estimate_of_a_resumed_download_is_the_bytes_it_moves(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    b, scan, sha, link = _uploaded_scan(server, make_device, tmp_path)
    whole = sync_view.overview(b.store)
    assert (whole.attachments_to_fetch, whole.fetch_bytes) == (0, 0)  # row not pulled yet
    _cut_once(b, link, 1_000_000)
    view = sync_view.overview(b.store)
    assert view.attachments_to_fetch == 1
    assert view.fetch_bytes == wire.download_cost(SCAN_BYTES, 1_000_000)
    sync_view.set_metered(b.store, True, 1024)
    assert sync_view.needs_confirmation(sync_view.overview(b.store))  # 2.1 MB to receive
    before = b.client.bytes_received
    report = sync_attachments.download_missing(b.store, b.client)
    assert report.done == 1
    assert b.client.bytes_received - before == view.fetch_bytes
    assert blob_store(b.store).read_bytes(sha) == scan.read_bytes()
    after = sync_view.overview(b.store)
    assert (after.attachments_to_fetch, after.fetch_bytes) == (0, 0)
    assert not sync_view.needs_confirmation(after)


def test_a_download_cut_twice_and_torn_on_disk_still_arrives_whole(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    b, scan, sha, link = _uploaded_scan(server, make_device, tmp_path)
    _cut_once(b, link, 700_000)
    _cut_once(b, link, 900_000)
    [partial] = _partial_files(b)
    # the laptop lost power while the last segment was being written: its tail is torn
    partial.write_bytes(partial.read_bytes()[:-1000])
    assert b.sync().attachments_downloaded == 1
    assert link.ranges[:2] == [None, "bytes=700000-"]
    # the torn segment (the last one written, from 1,572,864 on) was cut off and fetched
    # again; every segment before it was kept
    assert link.ranges[2] == f"bytes={6 * SEGMENT}-"
    assert blob_store(b.store).read_bytes(sha) == scan.read_bytes()
    assert _partial_files(b) == []


def test_a_server_that_ignores_the_range_sends_it_all_and_the_blob_is_still_right(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    b, scan, sha, link = _uploaded_scan(server, make_device, tmp_path)
    _cut_once(b, link, 500_000)
    link.ignore_ranges = True
    assert b.sync().attachments_downloaded == 1
    assert link.ranges == [None, "bytes=500000-"]
    assert blob_store(b.store).read_bytes(sha) == scan.read_bytes()


def test_a_resumed_download_tampered_in_transit_is_discarded_whole(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    b, scan, sha, link = _uploaded_scan(server, make_device, tmp_path)
    _cut_once(b, link, 600_000)
    link.tamper_download = True  # the rest arrives with a flipped byte
    refused = b.sync()
    assert refused.ok
    assert (refused.attachments_downloaded, refused.attachments_failed) == (0, 1)
    assert _blob_files(b) == []  # neither a blob nor the partial that led to it
    link.tamper_download = False
    assert b.sync().attachments_downloaded == 1
    assert link.ranges == [None, "bytes=600000-", None]
    assert blob_store(b.store).read_bytes(sha) == scan.read_bytes()


def test_a_partial_download_no_row_needs_any_more_is_deleted(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    b, _scan_path, _sha, link = _uploaded_scan(server, make_device, tmp_path)
    _cut_once(b, link, 300_000)
    assert len(_partial_files(b)) == 1
    with b.store.session() as session:  # the caseworker removes the attachment
        for row in session.scalars(select(Attachment)):
            row.deleted = True
    assert b.sync().ok
    assert _blob_files(b) == []


def test_a_chunk_tampered_in_transit_is_rejected_and_nothing_is_stored(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    a, b = _pair(server, make_device)
    link = _link(a)
    link.tamper_chunk = 3
    scan = _scan(tmp_path)
    add_attachment(a.store, scan)
    sha = hashlib.sha256(scan.read_bytes()).hexdigest()
    summary = a.sync()
    assert summary.ok
    assert summary.attachments_failed == 1
    assert summary.attachments_uploaded == 0
    assert server.count("attachments") == 0
    assert server.count("attachment_chunks") == 0
    assert [n.sha256 for n in sync_attachments.uploads_needed(a.store)] == [sha]
    # the Sync page lists it among the failed items, with its file name and why
    [failed] = sync_view.failed_items(a.store)
    assert (failed.entity, failed.field, failed.row_id) == ("attachment", "upload", sha)
    assert failed.error.startswith("scan.jpg: ")
    assert "SHA-256" in failed.error
    # the other device gets the row but no bytes, and does not count it as a failure
    pulled = b.sync()
    assert pulled.ok
    assert pulled.attachments_downloaded == 0
    assert pulled.attachments_failed == 0
    assert not blob_store(b.store).has(sha)
    assert sync_view.failed_items(b.store) == []
    # an honest link next time: the whole file goes again and arrives, and is listed no more
    link.tamper_chunk = None
    assert a.sync().attachments_uploaded == 1
    assert sync_view.failed_items(a.store) == []
    assert b.sync().attachments_downloaded == 1
    assert blob_store(b.store).read_bytes(sha) == scan.read_bytes()


def test_a_download_tampered_in_transit_is_refused_and_nothing_is_stored(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    a, b = _pair(server, make_device)
    scan = _scan(tmp_path, size=50_000)
    add_attachment(a.store, scan)
    sha = hashlib.sha256(scan.read_bytes()).hexdigest()
    a.sync()
    link = _link(b)
    link.tamper_download = True
    summary = b.sync()
    assert summary.ok
    assert summary.attachments_failed == 1
    assert summary.attachments_downloaded == 0
    assert _blob_files(b) == []
    assert not blob_store(b.store).has(sha)
    [failed] = sync_view.failed_items(b.store)
    assert (failed.field, failed.row_id) == ("download", sha)
    assert (
        failed.error == f"scan.jpg: attachment {sha!r}: downloaded bytes do not match their SHA-256"
    )
    link.tamper_download = False
    assert b.sync().attachments_downloaded == 1
    assert sync_view.failed_items(b.store) == []


def test_metered_estimate_equals_the_bytes_sent(
    server: Server, make_device: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sync.client import pacing

    # chunks the size the estimate counts with: on a quick link they grow as they go,
    # and the next upload is sent in fewer requests than estimated
    monkeypatch.setattr(pacing, "FAST_SECONDS", -1.0)
    a, _b = _pair(server, make_device)
    add_attachment(a.store, _scan(tmp_path, "one.jpg"))
    add_attachment(a.store, _scan(tmp_path, "two.pdf", size=700_000))
    view = sync_view.overview(a.store)
    files, estimate = sync_attachments.upload_estimate(a.store)
    assert (view.attachments_waiting, view.attachment_bytes) == (files, estimate) == (2, estimate)
    client = a.client
    before = client.bytes_sent
    report = sync_attachments.upload_pending(a.store, client)
    sent = client.bytes_sent - before
    assert report.done == 2
    assert report.bytes_moved == SCAN_BYTES + 700_000
    # the estimate counts the same per-request allowance as the client: off only by how
    # long the JSON of start and verify really is
    assert abs(sent - estimate) <= 4 * 60
    assert sync_view.overview(a.store).attachment_bytes == 0


def test_a_hostile_name_from_the_server_is_refused(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    _a, b = _pair(server, make_device)
    link = _link(b)
    good = "ab" * 32
    hostile = [
        ("../../../../etc/passwd", "x.jpg"),
        ("AB" * 32, "upper.jpg"),
        (good, "../../outside.jpg"),
        (good[:-1] + "/", "slash.jpg"),
    ]
    rows = [
        p.RowUpdate(
            entity="attachment",
            id=f"00000000-0000-4000-8000-00000000000{n}",
            version=1,
            values={"office": "MS", "sha256": sha, "filename": name, "size": 10},
        )
        for n, (sha, name) in enumerate(hostile)
    ]
    b.service.apply_page(
        p.PullPage(since=0, rows=rows, merges=[], conflicts=[], cursor=0, more=False)
    )
    needs, refused = sync_attachments.downloads_needed(b.store)
    assert needs == []
    assert refused == len(hostile)
    summary = b.sync()
    assert summary.ok
    assert summary.attachments_failed == len(hostile)
    [failed] = sync_view.failed_items(b.store)
    assert (failed.entity, failed.field) == ("attachment", "download")
    assert failed.error.startswith(f"{len(hostile)} attachment rows name no valid SHA-256")
    assert not any("attachments/content" in url for url in link.requested_urls)
    assert _blob_files(b) == []
    assert not (tmp_path / "outside.jpg").exists()
    with b.store.read() as session:
        assert len(list(session.scalars(select(Attachment)))) == len(hostile)


def test_the_wire_functions_refuse_bad_names_and_arguments(
    sqlite_server: Server, tmp_path: Path
) -> None:
    sqlite_server.user("ann")
    client = sqlite_server.device("ann")
    with pytest.raises(wire.BlobRefused) as caught:
        wire.download_blob(client, "../etc/passwd", MemorySink())
    assert caught.value.errno == p.Errno.BAD_ATTACHMENT_NAME
    with pytest.raises(wire.BlobRefused):
        wire.upload_blob(client, "x" * 64, 1, lambda: [b"x"])
    with pytest.raises(ValueError, match="chunk size"):
        wire.upload_blob(client, "ab" * 32, 1, lambda: [b"x"], chunk_size=p.MAX_CHUNK_BYTES + 1)
    with pytest.raises(ValueError, match="chunk size"):
        wire.upload_blob(client, "ab" * 32, 1, lambda: [b"x"], chunk_size=p.MIN_CHUNK_BYTES - 1)
    with pytest.raises(ValueError, match="negative"):
        wire.upload_blob(client, "ab" * 32, -1, lambda: [b"x"])


def test_upload_refuses_content_that_does_not_fit_its_size(sqlite_server: Server) -> None:
    sqlite_server.user("ann")
    client = sqlite_server.device("ann")
    small = p.MIN_CHUNK_BYTES
    data = os.urandom(10 * small)
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(wire.BlobRefused, match="longer"):
        wire.upload_blob(client, sha, 5 * small, lambda: [data], chunk_size=small)
    sha2 = hashlib.sha256(data + b"!").hexdigest()
    # content shorter than announced: the server refuses the short last chunk
    with pytest.raises(wire.BlobRefused) as short:
        wire.upload_blob(client, sha2, 10 * small + 2, lambda: [data, b"!"], chunk_size=small)
    assert short.value.errno == p.Errno.CHUNK_REJECTED
    # content that ends on a chunk boundary before the announced size: caught here
    sha3 = hashlib.sha256(data + b"?" * small).hexdigest()
    with pytest.raises(wire.BlobRefused, match=f"not {11 * small}"):
        wire.upload_blob(client, sha3, 11 * small, lambda: [data], chunk_size=small)
    # a start with another size restarts the upload with that size (only verify can
    # tell which is right): this content does not match its name, and is discarded
    with pytest.raises(wire.BlobRefused) as wrong:
        wire.upload_blob(client, sha2, 10 * small - 1, lambda: [data[:-1]], chunk_size=small)
    assert wrong.value.errno == p.Errno.HASH_MISMATCH


def test_upload_of_a_blob_the_server_holds_sends_no_chunks(sqlite_server: Server) -> None:
    sqlite_server.user("ann")
    client = sqlite_server.device("ann")
    small = p.MIN_CHUNK_BYTES
    data = os.urandom(3 * small - 100)
    sha = hashlib.sha256(data).hexdigest()
    first = wire.upload_blob(client, sha, len(data), lambda: [data], chunk_size=small)
    assert (first.chunks, first.sent_chunks, first.sent_bytes) == (3, 3, len(data))
    opened: list[bool] = []

    def source() -> list[bytes]:
        opened.append(True)
        return [data]

    again = wire.upload_blob(client, sha, len(data), source, chunk_size=small)
    assert again.already_complete
    assert again.sent_chunks == 0
    assert opened == []
    sink = MemorySink()
    fetched = wire.download_blob(client, sha, sink)
    assert (bytes(sink.data), fetched.received, fetched.resumed_from) == (data, len(data), 0)
    empty = hashlib.sha256(b"").hexdigest()
    assert wire.upload_blob(client, empty, 0, lambda: []).chunks == 1


def test_a_blob_the_server_does_not_have_yet_waits_without_failing(
    sqlite_server: Server, make_device: Any
) -> None:
    sqlite_server.user("bob")
    b = make_device(sqlite_server, "bob")
    row = p.RowUpdate(
        entity="attachment",
        id="00000000-0000-4000-8000-000000000001",
        version=1,
        values={"office": "MS", "sha256": "cd" * 32, "filename": "later.jpg", "size": 5},
    )
    b.service.apply_page(
        p.PullPage(since=0, rows=[row], merges=[], conflicts=[], cursor=0, more=False)
    )
    summary = b.sync()
    assert summary.ok
    assert summary.attachments_failed == 0
    assert summary.attachments_downloaded == 0
    assert [n.sha256 for n in sync_attachments.downloads_needed(b.store)[0]] == ["cd" * 32]


def test_rechunk_cuts_any_blocks_into_fixed_chunks() -> None:
    blocks = [b"a" * 7, b"b" * 2, b"", b"c" * 12]
    assert [len(c) for c in wire.rechunk(blocks, 5)] == [5, 5, 5, 5, 1]
    assert b"".join(wire.rechunk(blocks, 5)) == b"".join(blocks)
    assert list(wire.rechunk([], 5)) == []
    assert p.chunk_count(0, CHUNK) == 1
    assert p.chunk_count(CHUNK + 1, CHUNK) == 2


def test_unreachable_server_is_not_a_blob_refusal(tmp_path: Path) -> None:
    class Offline:
        def request(self, method: str, url: str, **kwargs: Any) -> Any:
            raise httpx.ConnectError("offline")

        def stream(self, method: str, url: str, **kwargs: Any) -> Any:
            raise httpx.ConnectError("offline")

    client = SyncClient(Offline(), "http://nowhere", "token")
    with pytest.raises(ServerUnreachable):
        wire.download_blob(client, "ab" * 32, MemorySink())


class _Answer:
    """A streamed answer a hostile or broken server might give."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = httpx.Headers(headers)
        self.body = body
        self.num_bytes_downloaded = 0

    def read(self) -> bytes:
        return self.body

    @property
    def content(self) -> bytes:
        return self.body

    def iter_bytes(self) -> Iterator[bytes]:
        for start in range(0, len(self.body), 1000):
            self.num_bytes_downloaded += len(self.body[start : start + 1000])
            yield self.body[start : start + 1000]


class _Scripted:
    """An HTTP client whose downloads get the answers given, in order."""

    def __init__(self, *answers: _Answer) -> None:
        self.answers = list(answers)
        self.ranges: list[str | None] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:  # pragma: no cover
        raise AssertionError("only downloads here")

    @contextlib.contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[_Answer]:
        self.ranges.append((kwargs.get("headers") or {}).get("Range"))
        yield self.answers.pop(0)


def test_hostile_or_broken_download_answers_are_refused_and_keep_nothing_wrong() -> None:
    data = os.urandom(5000)
    sha = hashlib.sha256(data).hexdigest()

    def fetch(*answers: _Answer, held: bytes = b"", max_bytes: int = 10_000) -> MemorySink:
        sink = MemorySink(held)
        client = SyncClient(_Scripted(*answers), "http://server", "token")
        wire.download_blob(client, sha, sink, max_bytes=max_bytes)
        return sink

    whole = {"Content-Length": "5000"}
    # bytes from somewhere else than where the device asked to resume: refused
    with pytest.raises(wire.BlobRefused, match="from 3000"):
        fetch(
            _Answer(206, {"Content-Range": "bytes 3000-4999/5000"}, data[3000:]), held=data[:1000]
        )
    # a partial answer that does not say which part: the sync stops with a clear error
    with pytest.raises(SyncHttpError, match="without its range"):
        fetch(_Answer(206, {}, data[1000:]), held=data[:1000])
    # larger than the device takes, announced or not: refused, nothing kept
    with pytest.raises(wire.BlobRefused) as announced:
        fetch(_Answer(200, whole, data), max_bytes=4000)
    assert announced.value.errno == p.Errno.ATTACHMENT_TOO_LARGE
    sink = MemorySink()
    client = SyncClient(_Scripted(_Answer(200, {}, data)), "http://server", "token")
    with pytest.raises(wire.BlobRefused) as streamed:
        wire.download_blob(client, sha, sink, max_bytes=4000)
    assert (streamed.value.errno, sink.held) == (p.Errno.ATTACHMENT_TOO_LARGE, 0)
    # other bytes than the name says: refused, nothing kept
    sink = MemorySink()
    client = SyncClient(_Scripted(_Answer(200, whole, os.urandom(5000))), "http://server", "t")
    with pytest.raises(wire.BlobRefused) as wrong:
        wire.download_blob(client, sha, sink)
    assert (wrong.value.errno, sink.held) == (p.Errno.HASH_MISMATCH, 0)
    # what the device held cannot be part of this blob (416): dropped, fetched whole again
    past = _Answer(
        416,
        {"Content-Range": "bytes */5000"},
        b'{"status":416,"errno":135,'
        b'"error":"range_not_satisfiable","message":"past the end","details":{}}',
    )
    assert bytes(fetch(past, _Answer(200, whole, data), held=os.urandom(6000)).data) == data
    # a device that already holds the whole blob asks for nothing
    sink = MemorySink(data)
    scripted = _Scripted()
    done = wire.download_blob(SyncClient(scripted, "", "t"), sha, sink, size=5000)
    assert (done.received, done.resumed_from, scripted.ranges) == (0, 5000, [])
