"""desktop.forms.batch: per-case and combined printing with progress and cancel."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from desktop.forms import batch, samples
from tests.forms.conftest import page_count


def _cases(n: int) -> list[samples.CaseData]:
    base = samples.thai_case()
    return [dataclasses.replace(base, case_number=f"CRI/2026 {i:03d}") for i in range(n)]


def test_one_pdf_per_case_with_progress(tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    result = batch.print_per_case(_cases(3), tmp_path, progress=lambda d, t: seen.append((d, t)))
    assert not result.cancelled
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "CRI_2026_000.pdf",
        "CRI_2026_001.pdf",
        "CRI_2026_002.pdf",
    ]


def test_cancel_stops_before_the_next_packet(tmp_path: Path) -> None:
    done: list[int] = []
    result = batch.print_per_case(
        iter(_cases(5)),
        tmp_path,
        progress=lambda d, t: done.append(d),
        cancelled=lambda: len(done) >= 2,
    )
    assert result.cancelled
    assert len(result.items) == 2
    assert len(list(tmp_path.iterdir())) == 2


def test_combined_pdf_holds_every_packet(tmp_path: Path) -> None:
    single = tmp_path / "one"
    batch.print_per_case(_cases(1), single)
    pages_each = page_count(next(single.iterdir()))
    target = tmp_path / "all.pdf"
    result = batch.print_combined(_cases(3), target)
    assert result.combined == target
    assert page_count(target) == 3 * pages_each


def test_cancelled_combined_print_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "all.pdf"
    result = batch.print_combined(_cases(3), target, cancelled=lambda: True)
    assert result.cancelled
    assert not target.exists()


def test_safe_filename() -> None:
    assert batch.safe_filename("TAK-2026/00042") == "TAK-2026_00042"
    assert batch.safe_filename("///") == "case"
