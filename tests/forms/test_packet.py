"""desktop.forms.packet: the packet renders for every demo case and its QR reads back."""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from reportlab.platypus import Table

from desktop.domain.qr import parse_qr_payload
from desktop.forms import packet, render, samples
from desktop.forms.data import ChecklistItem, Office
from tests.forms.conftest import page_count, pdffonts, pdftotext, to_png

CASES = {case.lang: case for case in samples.demo_cases()}


@pytest.mark.parametrize("lang", sorted(CASES))
def test_packet_renders_every_part(tmp_path: Path, lang: str) -> None:
    case = CASES[lang]
    path = tmp_path / "packet.pdf"
    result = packet.render_packet(case, path)
    # cover + checklist + each form (at least one page) + instructions + signatures
    assert page_count(path) >= 4 + len(case.forms)
    found = pdftotext(path)
    for marker in ("COVER", "CHECKLIST", "INSTRUCTIONS", "SIGNATURES", "Claim packet"):
        assert marker in found
    for form_id in case.forms:
        assert render.load_form(form_id).code_latin in found
    assert all(row[-5] == "yes" for row in pdffonts(path))
    expected_missing = [
        m for f in case.forms for m in render.missing_fields(render.load_form(f), case)
    ]
    assert list(result.missing_fields) == expected_missing
    assert result.missing_documents == tuple(i.label for i in case.checklist if not i.present)


def test_checklist_page_names_missing_documents_and_fields(tmp_path: Path) -> None:
    case = CASES["my"]
    path = tmp_path / "packet.pdf"
    packet.render_packet(case, path)
    found = pdftotext(path)
    assert "MISSING" in found  # the passbook
    assert "Account no." in found  # a box left empty on สปส.2-01


def test_qr_code_on_the_cover_decodes_to_the_case(tmp_path: Path) -> None:
    case = CASES["km"]
    path = tmp_path / "packet.pdf"
    packet.render_packet(case, path)
    [png] = to_png(path, 1, 1, dpi=150)
    decoded = zxingcpp.read_barcodes(Image.open(png))
    assert len(decoded) == 1
    ref = parse_qr_payload(decoded[0].text)
    assert ref is not None
    assert ref.case_id == case.case_id
    assert ref.packet_version == case.packet_version


def test_packet_without_deadline_or_forms_still_renders() -> None:
    case = dataclasses.replace(
        CASES["th"],
        forms=(),
        checklist=(),
        benefit=dataclasses.replace(CASES["th"].benefit, filing_deadline=None),
    )
    assert packet.render_packet_bytes(case).startswith(b"%PDF")


def test_what_to_bring_without_a_checklist_introduces_no_list(tmp_path: Path) -> None:
    case = dataclasses.replace(CASES["th"], checklist=())
    path = tmp_path / "packet.pdf"
    packet.render_packet(case, path)
    found = " ".join(pdftotext(path).split())
    assert "This packet and your original ID card." in found
    assert "these documents" not in found


def test_instruction_without_deadline_says_none_is_set() -> None:
    params = {"deadline": ""}
    assert packet._instruction("deadline", "km", params) == render.text(
        "form.packet.no_deadline", "km"
    )
    dated = packet._instruction("deadline", "en", {"deadline": "01/01/2570 (2027)"})
    assert "01/01/2570 (2027)" in dated


def test_a_packet_printed_after_its_deadline_says_to_file_at_once(tmp_path: Path) -> None:
    deadline = dt.date(2026, 4, 9)  # a Thai worker's packet: English beside the Thai
    dated = dataclasses.replace(
        CASES["th"], benefit=dataclasses.replace(CASES["th"].benefit, filing_deadline=deadline)
    )
    late = dataclasses.replace(dated, printed_on=deadline + dt.timedelta(days=1))
    on_time = dataclasses.replace(dated, printed_on=deadline)
    found = {}
    for name, case in (("late", late), ("on time", on_time)):
        path = tmp_path / f"{name.replace(' ', '-')}.pdf"
        packet.render_packet(case, path)
        found[name] = " ".join(pdftotext(path).split())
    date = packet._deadline(late)
    assert render.text("form.packet.instr.deadline.passed", "en", deadline=date) in found["late"]
    assert f"File no later than {date}" not in found["late"]
    assert f"File no later than {date}" in found["on time"]


def test_shared_paragraphs_do_not_change_a_single_byte() -> None:
    # Same case, same date: a packet drawn from a cold cache and one drawn after the
    # other languages have filled it are the same file (ReportLab runs invariant).
    case = dataclasses.replace(CASES["km"], printed_on=dt.date(2026, 11, 22))
    render.clear_static_cache()
    cold = packet.render_packet_bytes(case)
    for other in CASES.values():
        packet.render_packet_bytes(other)
    assert packet.render_packet_bytes(case) == cold


def test_qr_modules_cover_the_code_with_a_quiet_zone() -> None:
    rects, side = packet._qr_modules("sapan:case/x?v=1")
    assert side == int(side)
    assert side > 2 * packet.QR_BORDER
    for x, y, width, height in rects:
        assert height == 1
        assert x >= packet.QR_BORDER
        assert x + width <= side - packet.QR_BORDER
        assert packet.QR_BORDER <= y < side - packet.QR_BORDER


def test_where_to_go_prints_only_the_parts_of_the_office_that_are_known(tmp_path: Path) -> None:
    case = dataclasses.replace(
        CASES["my"], office=Office(name="Mae Sot SSO branch", phone="055-111-222")
    )
    assert packet.where_lines(case, "en") == ["Mae Sot SSO branch", "Phone 055-111-222."]
    path = tmp_path / "packet.pdf"
    packet.render_packet(case, path)
    found = pdftotext(path)
    assert "Mae Sot SSO branch" in found
    assert "Open" not in found


def test_an_unknown_office_and_helper_are_not_printed_as_dashes(tmp_path: Path) -> None:
    case = dataclasses.replace(CASES["th"], office=Office(), caseworker="", organisation="")
    assert packet.where_lines(case, "th") == [render.text("form.packet.instr.where.unknown", "th")]
    path = tmp_path / "packet.pdf"
    packet.render_packet(case, path)
    found = pdftotext(path)
    assert render.text("form.packet.instr.where.unknown", "en") in found
    assert render.text("form.packet.instr.help.no_helper", "en", case=case.case_number) in found
    assert "Show it to" not in found


def test_the_deceased_s_name_is_not_printed_where_the_claimant_signs(tmp_path: Path) -> None:
    """A death claim is signed by the heir or funeral organiser, who writes their name."""
    latin = CASES["th"].person.name_latin
    for kind, expected in (("death", False), ("sickness", True)):
        case = dataclasses.replace(
            CASES["th"],
            person=dataclasses.replace(CASES["th"].person, names=CASES["th"].person.names[1:]),
            benefit=dataclasses.replace(CASES["th"].benefit, kind=kind),
        )
        path = tmp_path / f"{kind}.pdf"
        packet.render_packet(case, path)
        last = page_count(path)
        assert (latin in pdftotext(path, last, last)) is expected


@pytest.mark.parametrize(
    ("forms", "kind", "said"),
    [
        (("sps1_03",), "", "give this packet to your employer"),
        (("sps1_20",), "", "within 6 months of leaving your job"),
        (("sps1_03", "sps2_01"), "sickness", "take this whole packet to the"),
    ],
)
def test_what_happens_next_says_who_hands_the_packet_in(
    tmp_path: Path, forms: tuple[str, ...], kind: str, said: str
) -> None:
    """An enrollment is handed in by the employer (SSO 1-03) or, for Section 39 (SSO
    1-20), by the worker; only a claim is decided and paid into a bank account."""
    case = dataclasses.replace(
        CASES["th"], forms=forms, benefit=dataclasses.replace(CASES["th"].benefit, kind=kind)
    )
    path = tmp_path / "packet.pdf"
    packet.render_packet(case, path)
    found = " ".join(pdftotext(path).split())  # one line: the columns wrap the text
    assert said in found
    assert ("pays into your bank account" in found) is (kind != "")
    assert ("Registration packet" in found) is (kind == "")  # the cover's title
    assert ("Claim packet" in found) is (kind != "")


def test_a_document_named_in_plain_text_is_named_once(tmp_path: Path) -> None:
    # A document the catalogue has no name for (a colleague's newer workflow) is printed
    # as it is written: once, not once per language.
    item = ChecklistItem("Letter from the village head", present=False)
    case = dataclasses.replace(CASES["km"], checklist=(item,))
    path = tmp_path / "packet.pdf"
    packet.render_packet(case, path)
    assert pdftotext(path, 2, 2).count("Letter from the village head") == 1


def test_a_note_typed_without_spaces_is_broken_between_syllables() -> None:
    # Thai is typed without spaces between words; ReportLab broke this one before the
    # vowel of เพราะ ("เพร" / "าะ...").
    note = "ขอสำเนาจากนายจ้างเพิ่มเติมเพราะเอกสารเดิมเปียกน้ำเสียหายทั้งหมดแล้ว"
    item = ChecklistItem("form.doc.passbook", present=False, note=note)
    case = dataclasses.replace(CASES["th"], checklist=(item,))
    table = next(f for f in packet.checklist_flowables(case, []) if isinstance(f, Table))
    table.wrap(render.CONTENT_WIDTH, 10_000)
    [[_, _, [paragraph]]] = table._cellvalues
    starts = ["".join(word.text for word in line.words)[:1] for line in paragraph.blPara.lines]
    assert len(starts) > 1
    assert not [s for s in starts if s in "ะาำ" or unicodedata.category(s) == "Mn"], starts
