"""desktop.forms.batch: per-case and combined printing with progress and cancel."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop.forms import batch, samples
from tests.forms.conftest import page_count, pdffonts, pdftotext, to_png


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


@pytest.mark.parametrize("combined", [False, True])
def test_cancel_stops_before_the_next_packet(tmp_path: Path, combined: bool) -> None:
    # One file per packet done; a combined print leaves nothing, not even its .part.
    done: list[int] = []
    result = (batch.print_combined if combined else batch.print_per_case)(
        iter(_cases(5)),
        tmp_path / "all.pdf" if combined else tmp_path,
        progress=lambda d, t: done.append(d),
        cancelled=lambda: len(done) >= 2,
    )
    assert result.cancelled
    assert len(result.items) == 2
    assert len(list(tmp_path.iterdir())) == (0 if combined else 2)


def _mixed_cases() -> list[samples.CaseData]:
    """One packet per demo language, each with its own case number."""
    return [
        dataclasses.replace(case, case_number=f"MIX-{index:03d}")
        for index, case in enumerate(samples.demo_cases())
    ]


def test_combined_pdf_holds_every_packet_in_order(tmp_path: Path) -> None:
    cases = _mixed_cases()
    per_case = batch.print_per_case(cases, tmp_path / "each")
    counts = [page_count(item.path) for item in per_case.items]
    target = tmp_path / "all.pdf"
    seen: list[tuple[int, int | None]] = []
    result = batch.print_combined(cases, target, progress=lambda d, t: seen.append((d, t)))
    assert result.combined == target
    assert not result.cancelled
    assert seen == [(n, len(cases)) for n in range(1, len(cases) + 1)]
    assert page_count(target) == sum(counts)
    assert not target.with_name("all.pdf.part").exists()
    fonts = pdffonts(target)
    assert fonts
    assert all(row[-5] == "yes" for row in fonts), fonts  # the "emb" column
    # Each packet's pages name its case (Latin text, in every footer) and no other case;
    # its cover is the page where it starts.
    first = 1
    for case, count in zip(cases, counts, strict=True):
        found = pdftotext(target, first=first, last=first + count - 1)
        assert case.case_number in found
        assert not [c.case_number for c in cases if c is not case and c.case_number in found]
        assert "Claim packet" in pdftotext(target, first=first, last=first)
        first += count
    pages = to_png(target, first=1, last=page_count(target), dpi=20)
    assert len(pages) == sum(counts)
    assert all(page.stat().st_size > 0 for page in pages)


def test_printed_on_both_sides_every_packet_starts_on_a_sheet_of_its_own(tmp_path: Path) -> None:
    """An office hands each worker their own packet: with ``double_sided`` a packet that
    ends on the front of a sheet is followed by a blank page; none after the last."""
    cases = _mixed_cases()
    counts = [page_count(i.path) for i in batch.print_per_case(cases, tmp_path / "each").items]
    assert any(n % 2 for n in counts[:-1])  # some packet would end on a front
    target = tmp_path / "both.pdf"
    batch.print_combined(cases, target, double_sided=True)
    starts, page = [], 1
    for count in counts:
        starts.append(page)
        page += count + count % 2
    assert all(start % 2 == 1 for start in starts)  # the front of a sheet
    assert page_count(target) == sum(counts) + sum(n % 2 for n in counts[:-1])
    for case, start in zip(cases, starts, strict=True):
        assert "Claim packet" in pdftotext(target, first=start, last=start)
        assert case.case_number in pdftotext(target, first=start, last=start)
    for count, start in zip(counts[:-1], starts[:-1], strict=True):
        if count % 2:  # the page after such a packet's last is blank
            assert pdftotext(target, first=start + count, last=start + count).strip() == ""
    single = tmp_path / "one.pdf"
    batch.print_combined(cases, single)  # one side: no blank pages
    assert page_count(single) == sum(counts)


def test_cancelled_combined_print_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "all.pdf"
    result = batch.print_combined(_cases(3), target, cancelled=lambda: True)
    assert result.cancelled
    assert not target.exists()


def test_a_failing_packet_leaves_no_file_and_no_part(tmp_path: Path) -> None:
    def cases() -> Iterator[samples.CaseData]:
        yield from _cases(1)
        raise RuntimeError("store went away")

    with pytest.raises(RuntimeError, match="store went away"):
        batch.print_combined(cases(), tmp_path / "all.pdf")
    assert list(tmp_path.iterdir()) == []


def test_safe_filename() -> None:
    assert batch.safe_filename("TAK-2026/00042") == "TAK-2026_00042"
    assert batch.safe_filename("///") == "case"
