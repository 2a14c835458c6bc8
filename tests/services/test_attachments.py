"""The name an attachment row keeps: one the sync server takes."""

from __future__ import annotations

from pathlib import Path

import pytest

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
