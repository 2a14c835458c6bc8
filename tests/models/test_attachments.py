"""Encrypted, content-addressed attachment blobs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from desktop.domain.errors import UserError
from desktop.models.attachments import CHUNK, AttachmentStore


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
