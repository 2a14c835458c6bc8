"""The name an attachment row keeps: one the sync server takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.models.entities import Attachment
from desktop.models.store import Store
from desktop.services import attachments, sync_attachments
from desktop.services.attachments import stored_name
from sync.protocol import check_value


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("payslip.jpg", "payslip.jpg"),
        ("~$report.docx", "$report.docx"),  # an Office lock file's name
        ("~WRL0001.tmp", "WRL0001.tmp"),
        ("C:scan.jpg", "scan.jpg"),
        ("a\\b.jpg", "a_b.jpg"),
        ("~", "scan"),
        ("บัตรชมพู " + "ก" * 300 + ".jpg", ("บัตรชมพู " + "ก" * 300)[:255]),
    ],
)
def test_a_scan_keeps_its_name_as_the_server_takes_it(name: str, kept: str) -> None:
    assert stored_name(Path("/scans") / name) == kept
    check_value("attachment", "filename", kept)


def test_check_blobs_reads_every_scan_back_and_names_a_damaged_one(
    store: Store, tmp_path: Path
) -> None:
    """A failing disk or a file cut short shows in the check, not when the office needs
    the scan; a scan recorded but not downloaded yet is counted apart, not as damaged."""
    made = []
    for name in ("passport.jpg", "payslip.jpg"):
        scan = tmp_path / name
        scan.write_bytes(name.encode() * 5000)
        made.append(attachments.add_attachment(store, scan))
    seen: list[tuple[int, int]] = []
    assert attachments.check_blobs(store, lambda d, t: seen.append((d, t))) == (
        attachments.BlobCheck(2, (), 0)
    )
    assert seen[-1] == (2, 2)

    with store.read() as session:
        hashes = {row.id: row.sha256 or "" for row in session.scalars(select(Attachment))}
    damaged, gone = (hashes[i] for i in made)
    blobs = attachments.blob_store(store)
    path = blobs.path_for(damaged)
    path.write_bytes(path.read_bytes()[:-20])  # cut short
    blobs.path_for(gone).unlink()  # as if never downloaded: its row came from the server
    with store.remote_session() as session:
        pulled = session.scalars(select(Attachment).where(Attachment.sha256 == gone)).one()
        pulled.version = 3
    assert attachments.check_blobs(store) == attachments.BlobCheck(0, (damaged,), 1)


def test_a_scan_gone_from_disk_that_no_sync_can_bring_back_is_lost_not_awaited(
    store: Store, tmp_path: Path
) -> None:
    """A scan deleted behind the store's back (an antivirus, a hand in the folder) before
    it ever reached the server is gone for good: the check says so, and that the paper
    should be scanned again, instead of "a sync fetches it". One the server holds, or one
    whose row came from the server, is only not here yet."""
    made = {}
    for name in ("passport.jpg", "payslip.jpg", "work-permit.jpg"):
        scan = tmp_path / name
        scan.write_bytes(name.encode() * 5000)
        made[name] = attachments.add_attachment(store, scan)
    with store.session() as session:
        rows = {a.id: a for a in session.scalars(select(Attachment))}
        hashes = {name: rows[i].sha256 or "" for name, i in made.items()}
    sync_attachments.mark_uploaded(store, hashes["payslip.jpg"])
    with store.remote_session() as session:  # as a row pulled from the server is
        pulled = session.get(Attachment, made["work-permit.jpg"])
        assert pulled is not None
        pulled.version = 7
    blobs = attachments.blob_store(store)
    for sha256 in hashes.values():
        blobs.path_for(sha256).unlink()

    assert attachments.check_blobs(store) == attachments.BlobCheck(
        0, (), 2, (hashes["passport.jpg"],)
    )
