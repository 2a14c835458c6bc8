"""domain.files: a file is written whole or not at all."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from desktop.domain import files


def test_the_file_appears_under_its_name_once_whole(tmp_path: Path) -> None:
    target = tmp_path / "packet.pdf"
    with files.replacing(target) as partial:
        partial.write_bytes(b"%PDF-1.4 whole")
        assert not target.exists()  # nothing under the name while it is written
    assert target.read_bytes() == b"%PDF-1.4 whole"
    assert [p.name for p in tmp_path.iterdir()] == ["packet.pdf"]


def test_a_failed_write_keeps_the_file_that_was_there(tmp_path: Path) -> None:
    target = tmp_path / "packet.pdf"
    target.write_bytes(b"yesterday's packet")

    def render_halfway() -> None:
        with files.replacing(target) as partial:
            partial.write_bytes(b"half a pa")
            raise ValueError("the renderer failed")

    with pytest.raises(ValueError, match="renderer failed"):
        render_halfway()
    assert target.read_bytes() == b"yesterday's packet"
    assert [p.name for p in tmp_path.iterdir()] == ["packet.pdf"]


def test_a_disk_that_fills_at_the_flush_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    target = tmp_path / "export.json"
    with pytest.raises(OSError, match="No space"), files.replacing(target) as partial:
        partial.write_text("[]")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_gone_is_the_system_s_error_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "stick" / "packet.pdf"  # the USB stick was pulled out
    with pytest.raises(FileNotFoundError), files.replacing(target) as partial:
        partial.write_bytes(b"x")
    assert list(tmp_path.iterdir()) == []
