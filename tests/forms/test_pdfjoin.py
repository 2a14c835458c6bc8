"""desktop.forms.pdfjoin: joining Sapan's own PDFs as a stream, refusing anything else."""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from pathlib import Path

import pytest
from reportlab.pdfgen.canvas import Canvas

from desktop.forms import packet, samples
from desktop.forms.pdfjoin import PdfJoiner, PdfJoinError, PdfReader
from tests.forms.conftest import page_count, pdffonts, pdftotext, to_png


def _join(parts: list[bytes], path: Path) -> PdfJoiner:
    with path.open("wb") as out:
        joiner = PdfJoiner(out, title="test")
        for part in parts:
            joiner.append(part)
        joiner.finish()
    return joiner


def _minimal_pdf(
    objects: dict[int, bytes], version: bytes = b"1.4", trailer: bytes = b"/Root 1 0 R"
) -> bytes:
    """A PDF with a correct xref table around hand-written objects (numbered 1..n)."""
    out = bytearray(b"%PDF-" + version + b"\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, objects[number])
    start = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number]
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (size, trailer, start)
    return bytes(out)


def _pointing_startxref_at_an_object() -> bytes:
    """A PDF whose startxref names an object, as a cross-reference stream would be."""
    data = _minimal_pdf(PAGE_TREE)
    head, _, _ = data.rpartition(b"startxref\n")
    return head + b"startxref\n%d\n%%%%EOF\n" % data.index(b"1 0 obj")


PAGE_TREE = {
    1: b"<< /Type /Catalog /Pages 2 0 R >>",
    2: b"<< /Type /Pages /Count 1 /Kids [ 3 0 R ] >>",
    3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    4: b"<< /Length 0 >>\nstream\n\nendstream",
}


def test_packets_join_into_one_document(tmp_path: Path) -> None:
    cases = samples.demo_cases()
    parts = [packet.render_packet_bytes(case) for case in cases]
    for index, part in enumerate(parts):
        (tmp_path / f"part{index}.pdf").write_bytes(part)
    joined = tmp_path / "joined.pdf"
    joiner = _join(parts, joined)
    counts = [page_count(tmp_path / f"part{index}.pdf") for index in range(len(parts))]
    assert page_count(joined) == sum(counts) == joiner.page_count
    fonts = pdffonts(joined)
    assert fonts
    assert all(row[-5] == "yes" for row in fonts), fonts  # the "emb" column
    # Each packet's cover (with its case number, Latin) is where its pages begin.
    first = 1
    for case, count in zip(cases, counts, strict=True):
        assert case.case_number in pdftotext(joined, first=first, last=first)
        first += count
    # A joined page draws exactly as the page it came from.
    [page] = to_png(joined, first=counts[0] + 1, last=counts[0] + 1, dpi=40)
    [source] = to_png(tmp_path / "part1.pdf", dpi=40)
    assert page.read_bytes() == source.read_bytes()


def _page_sizes(path: Path) -> list[str]:
    """Each page's size as pdfinfo gives it ("200 x 200 pts")."""
    found = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "999", str(path)], check=True, capture_output=True, text=True
    )
    pages = (line for line in found.stdout.splitlines() if re.match(r"Page +\d+ size:", line))
    return [line.split(":", 1)[1].strip() for line in pages]


def test_a_blank_page_takes_the_size_of_the_page_before_it(tmp_path: Path) -> None:
    joined = tmp_path / "joined.pdf"
    with joined.open("wb") as out:
        joiner = PdfJoiner(out, title="test")
        joiner.append_blank()  # nothing before it: A4
        joiner.append(_minimal_pdf(PAGE_TREE))  # 200 x 200 points
        joiner.append_blank()
        joiner.append(_minimal_pdf(PAGE_TREE))
        joiner.finish()
        with pytest.raises(RuntimeError, match="after finish"):
            joiner.append_blank()
    assert joiner.page_count == 4
    assert _page_sizes(joined) == [
        "595.276 x 841.89 pts (A4)",
        "200 x 200 pts",
        "200 x 200 pts",
        "200 x 200 pts",
    ]
    assert pdftotext(joined).strip() == ""
    assert len(to_png(joined, first=1, last=4, dpi=20)) == 4  # every page draws


def test_strings_and_stream_data_are_copied_untouched(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pageCompression=0, invariant=1)
    # Text that looks like references and keywords, in a content stream and in a string.
    canvas.drawString(72, 720, "see 5 0 R endobj (stream) 2 0 R")
    canvas.linkURL("https://example.org/a(1 0 R)b", (72, 600, 200, 620))
    canvas.showPage()
    canvas.save()
    joined = tmp_path / "joined.pdf"
    _join([buffer.getvalue(), buffer.getvalue()], joined)
    assert page_count(joined) == 2
    assert pdftotext(joined).count("see 5 0 R endobj (stream) 2 0 R") == 2
    assert joined.read_bytes().count(b"(https://example.org/a\\(1 0 R\\)b)") == 2


def test_a_refused_input_leaves_the_output_as_it_was(tmp_path: Path) -> None:
    good = _minimal_pdf(PAGE_TREE)
    out = io.BytesIO()
    joiner = PdfJoiner(out)
    joiner.append(good)
    before = out.getvalue()
    with pytest.raises(PdfJoinError):
        joiner.append(good[:-40])
    assert out.getvalue() == before
    joiner.finish()
    path = tmp_path / "one.pdf"
    path.write_bytes(out.getvalue())
    assert page_count(path) == 1
    with pytest.raises(RuntimeError, match="after finish"):
        joiner.append(good)


BROKEN = {
    "not a PDF": (b"hello, world", "no %PDF- header"),
    "newer version": (_minimal_pdf(PAGE_TREE, version=b"1.7"), "newer than the 1.4"),
    "truncated": (_minimal_pdf(PAGE_TREE)[:-30], "no startxref"),
    "encrypted": (
        _minimal_pdf(PAGE_TREE, trailer=b"/Root 1 0 R /Encrypt 4 0 R"),
        "/Encrypt",
    ),
    "incremental update": (
        _minimal_pdf(PAGE_TREE, trailer=b"/Root 1 0 R /Prev 9"),
        "/Prev",
    ),
    "xref stream": (_pointing_startxref_at_an_object(), "xref stream"),
    "no root": (_minimal_pdf(PAGE_TREE, trailer=b""), "no /Root"),
    "inherited resources": (
        _minimal_pdf(
            {**PAGE_TREE, 2: b"<< /Type /Pages /Count 1 /Kids [ 3 0 R ] /Resources << >> >>"}
        ),
        "inherited /Resources",
    ),
    "wrong stream length": (
        _minimal_pdf({**PAGE_TREE, 4: b"<< /Length 9 >>\nstream\nabc\nendstream"}),
        "does not end at its /Length",
    ),
    "indirect stream length": (
        _minimal_pdf({**PAGE_TREE, 4: b"<< /Length 5 0 R >>\nstream\n\nendstream"}),
        "not a direct number",
    ),
    "dangling reference": (
        _minimal_pdf({**PAGE_TREE, 3: PAGE_TREE[3].replace(b"4 0 R", b"9 0 R")}),
        "object 9, which is not in the file",
    ),
    "page refers to the catalog": (
        _minimal_pdf({**PAGE_TREE, 4: b"<< /Length 0 /Back 1 0 R >>\nstream\n\nendstream"}),
        "refers to the page tree or catalog",
    ),
    "unterminated string": (
        _minimal_pdf({**PAGE_TREE, 3: PAGE_TREE[3].replace(b">>", b"/T (open >>", 1)}),
        "unterminated string",
    ),
    "unbalanced dictionary": (
        _minimal_pdf({**PAGE_TREE, 1: b"<< /Type /Catalog /Pages 2 0 R"}),
        "unterminated dictionary",
    ),
    "not a page": (
        _minimal_pdf({**PAGE_TREE, 3: b"<< /Type /Font >>"}),
        "not a page or pages node",
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_malformed_or_foreign_input_is_refused(name: str) -> None:
    data, message = BROKEN[name]
    with pytest.raises(PdfJoinError, match=re.escape(message)):
        PdfJoiner(io.BytesIO()).append(data)


def test_the_reader_reads_our_own_output() -> None:
    case = dataclasses.replace(samples.thai_case(), case_number="READ-1")
    reader = PdfReader(packet.render_packet_bytes(case))
    pages, nodes = reader.pages()
    assert len(pages) >= 5
    assert nodes
