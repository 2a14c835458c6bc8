"""Encrypted, content-addressed attachment blobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.domain.errors import UserError
from desktop.models.attachments import CHUNK, PARTIAL_MAGIC, SEGMENT, AttachmentStore


@pytest.fixture
def blobs(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "att", bytes(range(32)), max_bytes=5 * CHUNK)


def test_round_trip_of_a_multi_chunk_file_is_encrypted_on_disk(
    blobs: AttachmentStore, tmp_path: Path
) -> None:
    data = os.urandom(2 * CHUNK + 123)
    source = tmp_path / "scan.jpg"
    source.write_bytes(data)
    seen: list[int] = []
    stored = blobs.put_file(source, progress=lambda done, total: seen.append(done))
    assert seen[-1] == len(data)
    assert blobs.read_bytes(stored.sha256) == data
    on_disk = blobs.path_for(stored.sha256).read_bytes()
    assert data[:1000] not in on_disk


def test_same_content_is_stored_once(blobs: AttachmentStore) -> None:
    first = blobs.put_bytes(b"passport page")
    second = blobs.put_bytes(b"passport page")
    assert first.sha256 == second.sha256
    assert second.already_present


def test_empty_file(blobs: AttachmentStore) -> None:
    assert blobs.read_bytes(blobs.put_bytes(b"").sha256) == b""


def test_too_large_is_refused_before_writing(blobs: AttachmentStore, tmp_path: Path) -> None:
    huge = tmp_path / "huge.tif"
    with huge.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: 200 MB without using the disk
    with pytest.raises(UserError) as caught:
        blobs.put_file(huge)
    assert caught.value.code == "error.attachment_too_large"
    assert not blobs.root.exists() or not any(blobs.root.rglob("*"))


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_tampered_blob_is_detected(blobs: AttachmentStore, damage: str) -> None:
    stored = blobs.put_bytes(os.urandom(CHUNK + 10))
    path = blobs.path_for(stored.sha256)
    data = bytearray(path.read_bytes())
    if damage == "flip":
        data[40] ^= 1
    else:
        data = data[: len(data) // 2]
    path.write_bytes(bytes(data))
    with pytest.raises(UserError) as caught:
        blobs.read_bytes(stored.sha256)
    assert caught.value.code == "error.attachment_damaged"


def test_dropping_the_last_chunk_is_detected(blobs: AttachmentStore) -> None:
    stored = blobs.put_bytes(os.urandom(CHUNK * 2))
    path = blobs.path_for(stored.sha256)
    data = path.read_bytes()
    first_len = int.from_bytes(data[16:20], "big")
    path.write_bytes(data[: 20 + first_len])
    with pytest.raises(UserError):
        blobs.read_bytes(stored.sha256)


def test_hostile_hash_names_are_refused(blobs: AttachmentStore) -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        blobs.path_for("../../etc/passwd")


def test_missing_blob(blobs: AttachmentStore) -> None:
    with pytest.raises(UserError) as caught:
        blobs.read_bytes("a" * 64)
    assert caught.value.code == "error.attachment_missing"


# -- downloads in progress -------------------------------------------------------------


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_a_partial_download_is_kept_encrypted_and_reopens_where_it_stopped(
    blobs: AttachmentStore,
) -> None:
    data = os.urandom(3 * SEGMENT + 1000)
    partial = blobs.partial(_sha(data))
    assert partial.held == 0
    for start in range(0, 2 * SEGMENT + 500, 70_000):  # pieces that straddle segments
        partial.write(data[start : min(start + 70_000, 2 * SEGMENT + 500)])
    partial.flush()
    on_disk = partial.path.read_bytes()
    assert data[:1000] not in on_disk
    assert data[2 * SEGMENT : 2 * SEGMENT + 400] not in on_disk
    assert blobs.partial_names() == [_sha(data)]
    assert blobs.partial_bytes(_sha(data)) == 2 * SEGMENT + 500  # from the file size alone
    assert blobs.partial_bytes("ab" * 32) == 0
    again = blobs.partial(_sha(data))
    assert again.held == 2 * SEGMENT + 500
    assert again.sha256() == _sha(data[: 2 * SEGMENT + 500])
    again.write(data[2 * SEGMENT + 500 :])
    stored = blobs.finish(again)
    assert (stored.sha256, stored.size, stored.already_present) == (_sha(data), len(data), False)
    assert blobs.read_bytes(stored.sha256) == data
    assert not again.path.exists()
    assert blobs.partial_names() == []


@pytest.mark.parametrize("damage", ["torn_tail", "flipped_byte", "garbage_appended"])
def test_a_damaged_partial_download_keeps_only_its_good_segments(
    blobs: AttachmentStore, damage: str
) -> None:
    data = os.urandom(3 * SEGMENT)
    partial = blobs.partial(_sha(data))
    partial.write(data)
    partial.flush()
    raw = bytearray(partial.path.read_bytes())
    if damage == "torn_tail":  # power lost while the third segment was being written
        raw = raw[:-5000]
    elif damage == "flipped_byte":  # the second segment is damaged: it and all after go
        raw[len(PARTIAL_MAGIC) + SEGMENT + 100] ^= 0x01
    else:
        raw += os.urandom(300)
    partial.path.write_bytes(bytes(raw))
    reopened = blobs.partial(_sha(data))
    keep = {"torn_tail": 2, "flipped_byte": 1, "garbage_appended": 3}[damage] * SEGMENT
    assert reopened.held == keep
    assert reopened.sha256() == _sha(data[:keep])
    assert b"".join(reopened.plaintext()) == data[:keep]
    reopened.write(data[keep:])
    assert blobs.read_bytes(blobs.finish(reopened).sha256) == data


def test_a_partial_download_with_a_foreign_header_is_dropped(blobs: AttachmentStore) -> None:
    name = "ab" * 32
    path = blobs.path_for(name).with_suffix(".download")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a download")
    assert blobs.partial(name).held == 0
    assert not path.exists()


def test_finishing_a_download_that_does_not_match_its_name_discards_it(
    blobs: AttachmentStore,
) -> None:
    name = _sha(b"the real scan")
    partial = blobs.partial(name)
    partial.write(b"something else")
    with pytest.raises(UserError) as refused:
        blobs.finish(partial)
    assert refused.value.code == "error.attachment_damaged"
    assert not blobs.has(name)
    assert not partial.path.exists()
    assert blobs.partial(name).held == 0


def test_an_empty_download_finishes_as_an_empty_blob(blobs: AttachmentStore) -> None:
    partial = blobs.partial(_sha(b""))
    assert blobs.read_bytes(blobs.finish(partial).sha256) == b""


def test_removing_a_blob_takes_its_download_in_progress_too(blobs: AttachmentStore) -> None:
    stored = blobs.put_bytes(b"a scan of a passport")
    partial = blobs.partial("ab" * 32)
    partial.write(b"half a scan")
    partial.flush()
    assert blobs.partial_names() == ["ab" * 32]

    assert blobs.remove(stored.sha256) is True
    assert blobs.remove("ab" * 32) is False, "no blob, only a partial download"

    assert not blobs.has(stored.sha256)
    assert blobs.partial_names() == []
    with pytest.raises(ValueError, match="SHA-256"):
        blobs.remove("../../sapan.db")
