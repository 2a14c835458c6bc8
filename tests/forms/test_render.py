"""desktop.forms.render: every form renders for Burmese, Khmer, Lao and Thai workers."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from reportlab.platypus import Paragraph, Table

from desktop.domain import workflow
from desktop.domain.errors import UserError
from desktop.forms import render, samples
from desktop.forms.data import CaseData, Complaint
from tests.forms.conftest import page_count, pdffonts, pdftotext

CASES = {case.lang: case for case in samples.demo_cases()}


@pytest.mark.parametrize("lang", sorted(CASES))
@pytest.mark.parametrize("form_id", samples.ALL_FORMS)
def test_every_form_renders_with_codes_and_latin_labels(
    tmp_path: Path, lang: str, form_id: str
) -> None:
    case = CASES[lang]
    path = tmp_path / f"{form_id}.pdf"
    render.render_form(form_id, case, path)
    spec = render.load_form(form_id)
    found = pdftotext(path)
    assert spec.code_latin in found
    assert case.case_number in found
    assert "Layout by Sapan" in found
    # Every section heading's English caption is on the page (Latin extracts faithfully),
    # but a section for something the case does not have (a claimant after a death)
    for section in spec.sections:
        assert (render.text(section.title, "en") in found) == section.applies(case)


def test_every_font_is_embedded(tmp_path: Path) -> None:
    path = tmp_path / "form.pdf"
    render.render_form("kt16", CASES["lo"], path)
    rows = pdffonts(path)
    assert rows, "no fonts listed"
    for row in rows:
        # columns: name type encoding emb sub uni object id (type may be two words)
        assert row[-5] == "yes", f"font not embedded: {row}"
        assert "SapanSans" in row[0]


def test_form_codes_resolve_from_official_and_latin_codes() -> None:
    assert render.resolve_form_id("สปส.2-01") == "sps2_01"
    assert render.resolve_form_id("SSO 1-03") == "sps1_03"
    assert render.resolve_form_id("6-09") == "sps6_09"
    assert render.resolve_form_id("kt16") == "kt16"


def test_unknown_form_is_a_user_error() -> None:
    with pytest.raises(UserError) as caught:
        render.resolve_form_id("9-99")
    assert caught.value.code == "form.error.unknown_form"


def test_missing_values_are_reported_and_optional_ones_are_not() -> None:
    case = CASES["my"]  # bank account number and name are empty
    missing = render.missing_fields(render.load_form("sps2_01"), case)
    assert [m.label for m in missing] == [
        "form.label.account_number",
        "form.label.account_name",
    ]
    assert all(m.form_code == "สปส.2-01" for m in missing)


def test_a_case_without_injury_leaves_kt16_boxes_empty() -> None:
    case: CaseData = dataclasses.replace(CASES["th"], injury=None)
    missing = {m.label for m in render.missing_fields(render.load_form("kt16"), case)}
    assert "form.label.occurred_at" in missing
    assert render.render_form_bytes("kt16", case).startswith(b"%PDF")


def test_values_are_formatted_for_thai_forms() -> None:
    assert render.be_date(render.dt.date(2026, 3, 15)) == "15/03/2569 (2026)"
    assert render.be_date(None) == ""
    assert render.format_id13("0001631234561") == "0-0016-31234-56-1"
    assert render.format_id13("12345") == "12345"
    assert render.format_money(render.Decimal("17500")) == "17,500.00"


def test_a_malformed_form_file_is_rejected() -> None:
    with pytest.raises(render.FormSpecError, match="span"):
        render._parse_form(
            {
                "id": "x",
                "code": "x",
                "code_latin": "x",
                "title": "t",
                "sections": [{"title": "s", "fields": [{"label": "l", "value": "v", "span": 9}]}],
            },
            "x.yaml",
        )
    with pytest.raises(render.FormSpecError, match="format"):
        render._parse_field({"label": "l", "value": "v", "format": "nope"}, "x.yaml")
    with pytest.raises(render.FormSpecError, match="missing"):
        render._parse_form({"id": "x"}, "x.yaml")


def test_an_unknown_value_path_is_a_bug_not_an_empty_box() -> None:
    with pytest.raises(render.FormSpecError, match="value path"):
        render.resolve(CASES["th"], "person.no_such_field")


def test_static_paragraphs_are_shared_per_markup_and_style() -> None:
    render.clear_static_cache()
    st = render.styles()
    first = render.label("form.packet.worker", "my", st.label)
    assert render.label("form.packet.worker", "my", st.label) is first
    assert render.label("form.packet.worker", "km", st.label) is not first
    assert render.label("form.packet.worker", "my", st.value) is not first
    # Case data never goes through the cache: a fresh paragraph every time.
    assert render.para("Aung", st.value) is not render.para("Aung", st.value)


def test_static_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    render.clear_static_cache()
    monkeypatch.setattr(render, "STATIC_CACHE_SIZE", 3)
    st = render.styles()
    oldest = render.static_para("one", st.body)
    for word in ("two", "three", "four"):
        render.static_para(word, st.body)
    assert render.static_para("four", st.body) is render.static_para("four", st.body)
    assert render.static_para("one", st.body) is not oldest


def test_static_paragraphs_are_per_thread() -> None:
    render.clear_static_cache()
    st = render.styles()
    here = render.static_para("shared", st.body)
    there: list[object] = []
    worker = threading.Thread(target=lambda: there.append(render.static_para("shared", st.body)))
    worker.start()
    worker.join()
    assert there
    assert there[0] is not here


def test_a_shared_paragraph_keeps_its_lines_for_each_width() -> None:
    st = render.styles()
    words = " ".join(["claim"] * 40)
    shared = render.static_para(words, st.body)
    narrow = shared.wrap(100, 1000)
    wide = shared.wrap(400, 1000)
    assert narrow[1] > wide[1]
    # Back at the first width: the first line breaking again, not the last one.
    assert shared.wrap(100, 1000) == narrow == render.para(words, st.body).wrap(100, 1000)
    assert len(shared.blPara.lines) == narrow[1] / st.body.leading


def test_long_text_is_shared_only_when_asked() -> None:
    st = render.styles()
    assert render.long_text("a b c", st.body, 200, static=True) is render.long_text(
        "a b c", st.body, 200, static=True
    )
    assert render.long_text("a b c", st.body, 200) is not render.long_text("a b c", st.body, 200)


def _claimed_benefits() -> list[str]:
    """Every benefit a claim workflow files (the store's codes)."""
    return sorted({d.benefit for d in workflow.load().values() if d.benefit} - {"work_injury"})


@pytest.mark.parametrize("benefit", _claimed_benefits())
def test_every_claimed_benefit_is_ticked_on_the_claim_form(tmp_path: Path, benefit: str) -> None:
    case = dataclasses.replace(
        CASES["km"], benefit=dataclasses.replace(CASES["km"].benefit, kind=benefit)
    )
    path = tmp_path / "sps2_01.pdf"
    render.render_form("sps2_01", case, path)
    found = pdftotext(path)
    # Shaped Thai marks extract as private-use glyphs: the English caption is reliable.
    ticked = found.split("[X]", 1)[-1].split("[ ]", 1)[0]
    assert render.text(f"form.option.{benefit}", "en") in ticked
    assert "form.option." not in found


def test_the_claim_form_after_a_death_says_who_claims_and_as_what(tmp_path: Path) -> None:
    """The insured has died: the 2-01 names the claimant, their document and phone, and
    ticks what they claim as and how they are related; their name is then required."""
    case = samples.death_case()
    path = tmp_path / "sps2_01.pdf"
    render.render_form("sps2_01", case, path)
    found = pdftotext(path)
    assert render.text("form.section.claimant", "en") in found
    assert "Chan Srey Pov" in found
    assert "N01234567" in found
    # Shaped marks extract unreliably: each ticked box's English caption is reliable.
    ticked = [part.split("[ ]", 1)[0] for part in found.split("[X]")[1:]]
    assert any(render.text("form.option.funeral_organiser", "en") in t for t in ticked)
    assert any(render.text("form.option.parent", "en") in t for t in ticked)
    assert not any(render.text("form.option.spouse", "en") in t for t in ticked)
    nameless = dataclasses.replace(case, claimant=dataclasses.replace(case.claimant, name=""))
    missing = [m.label for m in render.missing_fields(render.load_form("sps2_01"), nameless)]
    assert "form.label.claimant_name" in missing
    assert "form.label.claimant_name" not in [
        m.label for m in render.missing_fields(render.load_form("sps2_01"), CASES["km"])
    ]


@pytest.mark.parametrize("lang", sorted(CASES))
@pytest.mark.parametrize("form_id", samples.ALL_FORMS)
def test_the_declaration_is_on_the_page_where_it_is_signed(
    tmp_path: Path, lang: str, form_id: str
) -> None:
    path = tmp_path / f"{form_id}.pdf"
    render.render_form(form_id, CASES[lang], path)
    declaration = render.text("form.sign.declaration", "en")
    signed = render.text("form.sign.date_line", "en")
    pages = [pdftotext(path, page, page) for page in range(1, page_count(path) + 1)]
    [page] = [p for p in pages if declaration in p]
    assert signed in page.split(declaration, 1)[1]


# Thai and Lao vowels written before their consonant: a line never ends on one.
LEADING_VOWELS = frozenset("เแโใไເແໂໃໄ")
ONE_COLUMN = render.CONTENT_WIDTH / render.COLUMNS


def _drawn_lines(paragraph: Paragraph, width: float) -> list[str]:
    """The text of each line ``paragraph`` draws at ``width`` (shaped glyphs that have no
    character of their own read as private-use characters)."""
    paragraph.wrap(width, 10_000)
    return ["".join(word.text for word in line.words) for line in paragraph.blPara.lines]


@pytest.mark.parametrize(
    "value",
    [
        "ธนาคารเพื่อการเกษตรและสหกรณ์การเกษตร",  # a bank, in a one-column box
        "ดอว์ขิ่นมยิ้นมยิ้นตานนเวจีพยูโซมอน",  # a Burmese name written in Thai letters
        "ແສງທອງພົມມະຈັນເພັດສະໄໝວົງ",  # a Lao name typed without a space
    ],
)
def test_a_value_wider_than_its_box_never_ends_a_line_on_a_leading_vowel(value: str) -> None:
    field = render.FieldSpec(label="form.label.account_name", value="bank.account_name")
    for width in (ONE_COLUMN * 0.5, ONE_COLUMN * 0.6, ONE_COLUMN * 0.75, ONE_COLUMN):
        lines = _drawn_lines(render.value_markup(field, value, "th", width), width - 6)
        assert not [line for line in lines[:-1] if line[-1:] in LEADING_VOWELS], lines


def test_a_burmese_value_wider_than_its_box_breaks_between_syllables() -> None:
    # A name of five syllables with an honorific, no spaces (Burmese names have none).
    name = "ဒေါ်ခင်မြင့်မြင့်သန်းနွယ်ကြည်ဖြူစိုးမွန်"
    field = render.FieldSpec(label="form.label.name_native", value="person.name_native")
    for width in (ONE_COLUMN * 0.75, ONE_COLUMN, ONE_COLUMN * 1.5):
        lines = _drawn_lines(render.value_markup(field, name, "my", width), width - 6)
        # A syllable's final consonant (killed by asat U+103A) never begins a line.
        assert not [line for line in lines[1:] if line[1:2] == "\u103a"], lines


@pytest.mark.parametrize("width", [120, 240, 300])
def test_a_burmese_run_is_drawn_in_the_lines_it_was_broken_into(width: float) -> None:
    # Shaped Burmese is wider than the sum of its characters' advances: measured unshaped,
    # a full line overflows and ReportLab breaks it again, leaving a syllable on a line.
    run = "ဒေါ်ခင်မြင့်မြင့်သန်းနွယ်ကြည်ဖြူစိုးမွန်" * 3
    paragraph = render.long_text(run, render.styles().value, width)
    paragraph.wrap(width, 10_000)
    assert len(paragraph.blPara.lines) == paragraph.text.count("<br/>") + 1


@pytest.mark.parametrize("kind", ["not_registered", "not_remitted"])
def test_the_complaint_letter_body_is_drawn_in_the_lines_it_was_broken_into(kind: str) -> None:
    case = dataclasses.replace(CASES["my"], complaint=Complaint(kind=kind))
    flowables = render.letter_flowables(render.load_form("complaint"), case)
    body = next(f for f in flowables if isinstance(f, Table))
    body.wrap(render.CONTENT_WIDTH, 10_000)
    for [paragraph] in body._cellvalues[0]:
        markup_lines = paragraph.text.count("<br/>") + 1
        # The lines Sapan broke, each whole: ReportLab broke none of them again (which
        # left "(Mae" alone on a line of the Burmese letter).
        assert len(paragraph.blPara.lines) == markup_lines, "a line was broken again"


def test_the_account_name_box_is_as_wide_as_the_name_it_repeats() -> None:
    # The account is in the worker's name: a Thai name with a long surname that fits the
    # name box must fit the account name box, on one line.
    name = "พรรณีวรรณวิไลลักษณ์ ศรีสุวรรณภูมิพิทักษ์ชัยเจริญ"
    fields = {f.value: f for s in render.load_form("sps2_01").sections for f in s.fields}
    for path in ("person.name_thai", "bank.account_name"):
        width = fields[path].span * ONE_COLUMN
        assert (
            len(_drawn_lines(render.value_markup(fields[path], name, "th", width), width - 6)) == 1
        )


def test_a_description_longer_than_a_page_is_printed_over_pages(tmp_path: Path) -> None:
    # A statement pasted into the injury's description: a box never splits, and one
    # taller than the page stopped the whole packet (and the office's batch) printing.
    said = "ကျွန်မသည် စက်ရုံတွင် ညဆိုင်းအလုပ်လုပ်နေစဉ် စက်ဖြင့်လက်ညှိုးကို ဖြတ်မိပါသည်။ "
    case = CASES["lo"]
    assert case.injury is not None
    injury = dataclasses.replace(case.injury, description=said * 80 + "END")
    path = tmp_path / "kt16.pdf"
    render.render_form("kt16", dataclasses.replace(case, injury=injury), path)
    assert page_count(path) >= 3
    assert "END" in pdftotext(path)


@pytest.mark.parametrize("words", range(40, 58, 2))
def test_the_evidence_heading_is_on_the_page_of_the_evidence(tmp_path: Path, words: int) -> None:
    # Longer details move the heading down page 1 until it is its last line.
    case = CASES["km"]
    assert case.complaint is not None
    complaint = dataclasses.replace(case.complaint, details="นายจ้างหักเงินสมทบทุกเดือน " * words)
    path = tmp_path / "complaint.pdf"
    render.render_form("complaint", dataclasses.replace(case, complaint=complaint), path)
    heading = render.text("form.section.evidence", "en")
    first = complaint.evidence[0].description.split(" / ")[0]
    pages = [pdftotext(path, page, page) for page in range(1, page_count(path) + 1)]
    assert [first in page for page in pages if heading in page] == [True]
