"""The name an attachment row keeps: one the sync server takes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from desktop.models.entities import Attachment
from desktop.models.store import Store
from desktop.services import attachments
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
    blobs.path_for(gone).unlink()  # as if never downloaded
    assert attachments.check_blobs(store) == attachments.BlobCheck(0, (damaged,), 1)
