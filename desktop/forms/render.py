"""Render the forms described in ``resources/forms/*.yaml`` into PDF with ReportLab.

A form file lists sections and fields; each field names a catalogue key for its label
and a dotted path into :class:`~desktop.forms.data.CaseData` for its value (see
``resources/forms/sps2_01.yaml``). Labels are bilingual: Thai plus the worker's
language, with a small English caption so a caseworker of any language can read them.

Complex scripts are drawn only through ``Paragraph`` with ``shaping=1`` and the merged
Sapan Sans font (plain table strings and ``drawString`` are not shaped). Values are
pre-broken at word boundaries by :mod:`desktop.domain.linebreak`.

The layout is Sapan's own; every page says so in its footer. Where a value is missing
its box is left empty and :func:`missing_fields` reports it for the packet checklist.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO
from xml.sax.saxutils import escape

import yaml
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import shapeStr
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from desktop.domain import files
from desktop.domain.dates import PartialDate
from desktop.domain.errors import UserError
from desktop.domain.i18n import text
from desktop.domain.linebreak import ZWSP, paragraph_markup
from desktop.domain.resources import resource_path
from desktop.forms import fonts
from desktop.forms.data import CaseData

PAGE_SIZE = A4
MARGIN = 14 * mm
CONTENT_WIDTH = PAGE_SIZE[0] - 2 * MARGIN
COLUMNS = 4  # a section row is four units wide; a field spans 1 to 4 of them
# A box never splits across pages, and one taller than the page cannot be printed at all:
# a value longer than this many lines goes on in boxes of its own below.
BOX_LINES = 30
FORMATS = frozenset(
    {"text", "date", "datetime", "money", "id13", "country", "choice", "yesno", "list", "long"}
)
INK = colors.HexColor("#1a1a1a")
GREY = colors.HexColor("#666666")
RULE = colors.HexColor("#9a9a9a")
SHADE = colors.HexColor("#e8eef5")
MISSING = colors.HexColor("#b00020")
PRESENT = colors.HexColor("#1b6e20")


class FormSpecError(ValueError):
    """A form file in resources/forms is malformed (a bug in bundled data)."""


@dataclass(frozen=True)
class FieldSpec:
    """One box on a form."""

    label: str
    value: str
    format: str = "text"
    options: tuple[str, ...] = ()
    span: int = 1
    optional: bool = False


@dataclass(frozen=True)
class SectionSpec:
    title: str
    fields: tuple[FieldSpec, ...]
    # a value path: the section is on the form only when the case has it (the claimant of
    # a death claim, who is not the insured); None: always
    when: str | None = None

    def applies(self, case: CaseData) -> bool:
        return self.when is None or resolve(case, self.when) is not None


@dataclass(frozen=True)
class FormSpec:
    """A whole form as loaded from its YAML file."""

    id: str
    code: str
    code_latin: str
    title: str
    filed_by: str
    kind: str
    sections: tuple[SectionSpec, ...]
    signatures: tuple[str, ...]


@dataclass(frozen=True)
class MissingField:
    """A required value that the case does not have yet."""

    form_id: str
    form_code: str
    label: str  # catalogue key of the field label


# --- loading ------------------------------------------------------------------------


def form_ids() -> tuple[str, ...]:
    """Ids of every bundled form, e.g. ``("complaint", "kt16", "sps1_03", ...)``."""
    return tuple(sorted(p.stem for p in resource_path("forms").glob("*.yaml")))


@functools.cache
def load_form(form_id: str) -> FormSpec:
    """The form ``form_id`` (or its official code, e.g. ``"สปส.2-01"``/``"2-01"``)."""
    resolved = resolve_form_id(form_id)
    path = resource_path("forms", f"{resolved}.yaml")
    return _parse_form(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)


def resolve_form_id(code: str) -> str:
    """Map an id, an official code or its Latin code ("sps2_01", "สปส.2-01", "2-01")."""
    wanted = code.strip().lower()
    ids = form_ids()
    if wanted in ids:
        return wanted
    for form_id in ids:
        raw = yaml.safe_load(resource_path("forms", f"{form_id}.yaml").read_text("utf-8"))
        codes = {str(raw.get("code", "")).lower(), str(raw.get("code_latin", "")).lower()}
        codes |= {c.split(".")[-1].split(" ")[-1] for c in codes}
        if wanted in codes:
            return form_id
    raise UserError("form.error.unknown_form", form=code, known=", ".join(ids))


def _parse_form(raw: Any, where: str) -> FormSpec:
    if not isinstance(raw, dict):
        raise FormSpecError(f"{where}: top level must be a mapping")
    try:
        sections = tuple(
            SectionSpec(
                title=str(section["title"]),
                fields=tuple(_parse_field(f, where) for f in section["fields"]),
                when=str(section["when"]) if "when" in section else None,
            )
            for section in raw["sections"]
        )
        return FormSpec(
            id=str(raw["id"]),
            code=str(raw["code"]),
            code_latin=str(raw["code_latin"]),
            title=str(raw["title"]),
            filed_by=str(raw.get("filed_by", "")),
            kind=str(raw.get("kind", "form")),
            sections=sections,
            signatures=tuple(str(s) for s in raw.get("signatures", ())),
        )
    except (KeyError, TypeError) as exc:
        raise FormSpecError(f"{where}: missing or malformed {exc}") from exc


def _parse_field(raw: Any, where: str) -> FieldSpec:
    spec = FieldSpec(
        label=str(raw["label"]),
        value=str(raw["value"]),
        format=str(raw.get("format", "text")),
        options=tuple(str(o) for o in raw.get("options", ())),
        span=int(raw.get("span", 1)),
        optional=bool(raw.get("optional", False)),
    )
    if spec.format not in FORMATS:
        raise FormSpecError(f"{where}: field {spec.label}: unknown format {spec.format!r}")
    if not 1 <= spec.span <= COLUMNS:
        raise FormSpecError(f"{where}: field {spec.label}: span must be 1..{COLUMNS}")
    if spec.format == "choice" and not spec.options:
        raise FormSpecError(f"{where}: field {spec.label}: a choice needs options")
    return spec


# --- values -------------------------------------------------------------------------


def resolve(case: CaseData, path: str) -> Any:
    """The value at a dotted ``path`` in ``case`` (None when any step is missing)."""
    value: Any = case
    for part in path.split("."):
        if value is None:
            return None
        if not hasattr(value, part):
            raise FormSpecError(f"unknown value path {path!r}")
        value = getattr(value, part)
    return value


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == ()


def missing_fields(spec: FormSpec, case: CaseData) -> list[MissingField]:
    """Required fields of ``spec`` that ``case`` leaves empty, in form order."""
    return [
        MissingField(spec.id, spec.code, field.label)
        for section in spec.sections
        if section.applies(case)
        for field in section.fields
        if not field.optional and is_empty(resolve(case, field.value))
    ]


def be_date(day: dt.date | PartialDate | None) -> str:
    """``dd/mm/yyyy`` with the Buddhist Era year, then the CE year for non-Thai readers; a
    day or month nobody knows (a birth date that is a year on the worker's documents) is a
    dash: ``–/–/2537 (1994)``."""
    if day is None:
        return ""
    if isinstance(day, PartialDate):
        dd = f"{day.day:02d}" if day.day is not None else "–"
        mm = f"{day.month:02d}" if day.month is not None else "–"
        return f"{dd}/{mm}/{day.year + 543} ({day.year})"
    return f"{day.day:02d}/{day.month:02d}/{day.year + 543} ({day.year})"


def format_id13(number: str) -> str:
    """A 13-digit ID grouped as X-XXXX-XXXXX-XX-X; other values unchanged."""
    digits = number.replace("-", "").replace(" ", "")
    if len(digits) == 13 and digits.isdigit():
        return f"{digits[0]}-{digits[1:5]}-{digits[5:10]}-{digits[10:12]}-{digits[12]}"
    return number


def format_money(amount: Decimal | int | float) -> str:
    return f"{Decimal(amount):,.2f}"


# --- styles -------------------------------------------------------------------------


@dataclass(frozen=True)
class Styles:
    """The paragraph styles every page uses, all shaped and in Sapan Sans."""

    label: ParagraphStyle
    value: ParagraphStyle
    small: ParagraphStyle
    body: ParagraphStyle
    heading: ParagraphStyle
    title: ParagraphStyle
    code: ParagraphStyle
    section: ParagraphStyle
    footer: ParagraphStyle
    big: ParagraphStyle


@functools.cache
def styles() -> Styles:
    """Build the styles once (after registering the fonts)."""
    fonts.register_pdf_fonts()

    def style(name: str, size: float, leading: float | None = None, **kw: Any) -> ParagraphStyle:
        # Khmer and Burmese stack marks above and below: keep leading at least 1.6 × size.
        return ParagraphStyle(
            name,
            fontName=kw.pop("fontName", fonts.PDF_REGULAR),
            fontSize=size,
            leading=max(leading or 0, size * 1.6),
            textColor=kw.pop("textColor", INK),
            shaping=1,
            **kw,
        )

    return Styles(
        label=style("label", 7, 10.5, textColor=GREY),
        value=style("value", 10, 15),
        small=style("small", 7.5, 11),
        body=style("body", 9.5, 15),
        heading=style("heading", 11, 16, fontName=fonts.PDF_BOLD, spaceBefore=4, spaceAfter=2),
        title=style("title", 14, 21, fontName=fonts.PDF_BOLD),
        code=style("code", 13, 19, fontName=fonts.PDF_BOLD, alignment=TA_RIGHT),
        section=style("section", 9, 13, fontName=fonts.PDF_BOLD),
        footer=style("footer", 6.5, 9, textColor=GREY),
        big=style("big", 20, 28, fontName=fonts.PDF_BOLD, alignment=TA_CENTER),
    )


def label_languages(lang: str) -> tuple[str, ...]:
    """Languages a bilingual label shows: Thai, the worker's language, then English."""
    return tuple(dict.fromkeys(("th", lang, "en")))


def bilingual(
    key: str, lang: str, bold: bool = False, params: Mapping[str, Any] | None = None
) -> str:
    """Paragraph markup of ``key`` in Thai, the worker's language and small English."""
    parts = []
    seen: set[str] = set()
    for code in label_languages(lang):
        words = escape(text(key, code, **(params or {})))
        if words in seen:
            continue  # plain text rather than a catalogue key: the same in every language
        seen.add(words)
        if code == "en":
            parts.append(f'<font size="-1" color="#777777">{words}</font>')
        elif bold and code == "th":
            parts.append(f"<b>{words}</b>")
        else:
            parts.append(words)
    # Spaces around the slashes keep each language its own word for the shaper.
    return " / ".join(parts)


# What Paragraph.wrap (and breakLines) leave on the paragraph: enough to draw or split it.
_WRAP_STATE = (
    "width",
    "height",
    "blPara",
    "frags",
    "_wrapWidths",
    "_width_max",
    "_hyphenations",
    "_splitLongWordCount",
)


class WrapCachedParagraph(Paragraph):  # type: ignore[misc]
    """A Paragraph that breaks its lines once for each width it is wrapped at.

    Tables wrap every cell once to measure the row and again to draw it; with shaping,
    breaking the lines is the most expensive step of a packet, so doing it once per
    width takes a good part off the render time. The state of each width is kept, so a
    paragraph shared by several tables (see :func:`static_para`) is wrapped once per
    column width, not once per use.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Same signature as Paragraph: Paragraph.split builds its halves through it.
        super().__init__(*args, **kwargs)
        self._wrapped: dict[float, dict[str, Any]] = {}

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        state = self._wrapped.get(availWidth)
        if state is not None:
            self.__dict__.update(state)
            return self.width, self.height
        size: tuple[float, float] = super().wrap(availWidth, availHeight)
        if "blPara" in self.__dict__ and self.width == availWidth:
            self._wrapped[availWidth] = {
                name: self.__dict__[name] for name in _WRAP_STATE if name in self.__dict__
            }
        return size


def para(markup: str, style: ParagraphStyle) -> Paragraph:
    """A shaped paragraph of ``markup`` (case data: built anew for every document)."""
    return WrapCachedParagraph(markup, style)


def plain(value: str, style: ParagraphStyle) -> Paragraph:
    """A shaped paragraph of plain ``value`` (escaped)."""
    return WrapCachedParagraph(escape(value), style)


# Paragraphs of catalogue text (labels, headings, the fixed instructions) are the same in
# every packet of a language: one instance per thread serves them all, so each is parsed,
# shaped and line-broken once per width instead of once per packet. Per thread because
# ReportLab sets ``canv`` on a flowable while drawing it (a preview may render while the
# print queue runs); bounded, so a long-running app does not grow with every text seen.
STATIC_CACHE_SIZE = 4096
_static = threading.local()


def static_para(markup: str, style: ParagraphStyle) -> Paragraph:
    """The shared paragraph of ``markup`` in ``style``: only for text with no case data.

    Sharing is safe because drawing a paragraph does not change it and its wrap state
    is kept per width; text that holds case data must go through :func:`para`, both to
    keep the cache small and so that the benchmark measures real work for it.
    """
    cache: OrderedDict[tuple[str, int], Paragraph] | None = getattr(_static, "cache", None)
    if cache is None:
        cache = _static.cache = OrderedDict()
    # The styles come from the cached ``styles()``: the same object for the process.
    key = (markup, id(style))
    shared = cache.get(key)
    if shared is not None and shared.style is style:
        cache.move_to_end(key)
        return shared
    shared = WrapCachedParagraph(markup, style)
    cache[key] = shared
    if len(cache) > STATIC_CACHE_SIZE:
        cache.popitem(last=False)
    return shared


def clear_static_cache() -> None:
    """Forget this thread's shared paragraphs (tests; a language pack reloaded)."""
    _static.cache = OrderedDict()


def label(key: str, lang: str, style: ParagraphStyle, bold: bool = False) -> Paragraph:
    """The shared bilingual paragraph of catalogue ``key`` (see :func:`bilingual`)."""
    return static_para(bilingual(key, lang, bold=bold), style)


def measure_with(style: ParagraphStyle) -> Callable[[str], float]:
    """A width function for :mod:`desktop.domain.linebreak` in ``style``'s font and size."""
    return functools.partial(_measure, style.fontName, style.fontSize)


# Bounded: the instruction sheet's lines come back in every packet, a case's values not.
@functools.lru_cache(maxsize=4096)
def _measure(font: str, size: float, value: str) -> float:
    # As drawn, shaped: a Burmese line is some 3 % wider than its characters' advances
    # add up to, and a line measured too short is broken again by ReportLab.
    return float(stringWidth(shapeStr(value, font, size), font, size))


def long_text(value: str, style: ParagraphStyle, width: float, static: bool = False) -> Paragraph:
    """A paragraph of long text pre-broken at word boundaries to ``width``.

    ``static`` marks catalogue text with no case data, shared like :func:`static_para`.
    """
    # A little slack: ReportLab shapes word by word, a little differently from a line.
    measure = measure_with(style)
    if "\n" in value or measure(value) > width - 4:
        markup = paragraph_markup(value, width - 4, measure)
    else:  # most values: one line, measured once rather than word by word
        markup = escape(value.replace(ZWSP, ""))
    return static_para(markup, style) if static else WrapCachedParagraph(markup, style)


# --- fields -------------------------------------------------------------------------


def value_markup(field: FieldSpec, value: Any, lang: str, width: float) -> Paragraph:
    """The filled-in value of one field, as a shaped paragraph."""
    st = styles()
    if is_empty(value) and field.format not in ("choice", "yesno"):
        return plain("", st.value)
    fmt = field.format
    if fmt == "date":
        return plain(be_date(value), st.value)
    if fmt == "datetime":
        if not isinstance(value, dt.datetime):  # the day is known, the hour is not
            return plain(be_date(value), st.value)
        return plain(f"{be_date(value.date())} {value:%H:%M}", st.value)
    if fmt == "money":
        return plain(format_money(value), st.value)
    if fmt == "id13":
        return plain(format_id13(str(value)), st.value)
    if fmt == "country":
        return static_para(_country(str(value), lang), st.value)
    if fmt == "list":
        return long_text(", ".join(str(v) for v in value), st.value, width - 6)
    if fmt in ("choice", "yesno"):
        options = field.options if fmt == "choice" else ("yes", "no")
        chosen = {True: "yes", False: "no"}.get(value, value) if fmt == "yesno" else value
        marks = []
        for option in options:
            box = "<b>[X]</b>" if str(chosen) == option else "[\u00a0\u00a0]"
            marks.append(f"{box} {bilingual('form.option.' + option, lang)}")
        return static_para("&nbsp;&nbsp; ".join(marks), st.small)
    # Text and long text alike: a name or a bank typed without spaces is wider than a
    # narrow box, and ReportLab would break it anywhere (after a leading vowel, inside a
    # Burmese syllable).
    return long_text(str(value), st.value, width - 6)


def _country(code: str, lang: str) -> str:
    key = f"form.country.{code}"
    names = [escape(text(key, c)) for c in label_languages(lang) if c != "en"]
    return f"{escape(code)} " + " / ".join(dict.fromkeys(names))


def field_cell(field: FieldSpec, case: CaseData, width: float) -> list[Flowable]:
    st = styles()
    value = resolve(case, field.value)
    return [
        label(field.label, case.lang, st.label),
        value_markup(field, value, case.lang, width),
    ]


def _rows(fields: Sequence[FieldSpec]) -> list[list[FieldSpec]]:
    """Pack fields into rows of COLUMNS units, in order."""
    rows: list[list[FieldSpec]] = []
    used = COLUMNS
    for field in fields:
        if used + field.span > COLUMNS:
            rows.append([])
            used = 0
        rows[-1].append(field)
        used += field.span
    return rows


def section_flowables(section: SectionSpec, case: CaseData) -> list[Flowable]:
    st = styles()
    unit = CONTENT_WIDTH / COLUMNS
    out: list[Flowable] = [_section_bar(bilingual(section.title, case.lang, bold=True), st)]
    for row in _rows(section.fields):
        spans = [f.span for f in row]
        spans[-1] += COLUMNS - sum(spans)  # the last box fills the row
        widths = [s * unit for s in spans]
        cells = [field_cell(f, case, w) for f, w in zip(row, widths, strict=True)]
        for part in _parts(cells):
            table = Table([part], colWidths=widths)
            table.setStyle(_box_style(min_height=True))
            out.append(table)
    return out


def _parts(cells: list[list[Flowable]]) -> list[list[list[Flowable]]]:
    """The row of ``cells`` as it is printed: itself, or for a field alone in its row
    whose value is longer than :data:`BOX_LINES` lines, one box (labelled again) per
    part of the value, so that a page may end between them."""
    if len(cells) != 1:
        return [cells]
    [[name, value]] = cells
    lines = value.text.split("<br/>") if isinstance(value, Paragraph) else []
    if len(lines) <= BOX_LINES:
        return [cells]
    return [
        [[name, para("<br/>".join(lines[start : start + BOX_LINES]), value.style)]]
        for start in range(0, len(lines), BOX_LINES)
    ]


def _section_bar(markup: str, st: Styles) -> Table:
    bar = Table([[static_para(markup, st.section)]], colWidths=[CONTENT_WIDTH])
    bar.keepWithNext = True  # a heading never ends a page: the list under it follows
    bar.setStyle(
        table_style(
            [
                ("BACKGROUND", (0, 0), (-1, -1), SHADE),
                ("BOX", (0, 0), (-1, -1), 0.6, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return bar


def table_style(commands: list[tuple[Any, ...]]) -> TableStyle:
    """A table style whose cell font is Sapan Sans.

    Even an empty string cell makes ReportLab select the cell font, and the default
    Helvetica would then be referenced in the PDF without being embedded.
    """
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), fonts.PDF_REGULAR), *commands])


def _box_style(min_height: bool = False) -> TableStyle:
    return table_style(
        [
            ("GRID", (0, 0), (-1, -1), 0.5, RULE),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 5 if min_height else 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
    )


def signature_boxes(roles: Iterable[str], lang: str, height: float = 22 * mm) -> Table:
    """A row of signature boxes, one per role (employer, claimant, witness...)."""
    st = styles()
    roles = list(roles)
    width = CONTENT_WIDTH / max(len(roles), 1)
    cells = []
    for role in roles:
        cells.append(
            [
                label(f"form.sign.{role}", lang, st.label, bold=True),
                Spacer(1, height),
                label("form.sign.name_line", lang, st.label),
                _blank_line(),
                label("form.sign.date_line", lang, st.label),
                _blank_line(),
            ]
        )
    table = Table([cells], colWidths=[width] * len(roles))
    table.setStyle(_box_style())
    return table


def _blank_line(height: float = 6 * mm) -> Table:
    """An empty line to write on."""
    line = Table([[""]], colWidths=["100%"], rowHeights=[height])
    line.setStyle(table_style([("LINEBELOW", (0, 0), (-1, -1), 0.5, INK)]))
    return line


def form_header(spec: FormSpec, case: CaseData) -> Table:
    st = styles()
    title = label(spec.title, case.lang, st.title, bold=True)
    code = static_para(
        f'{escape(spec.code)}<br/><font size="8" color="#555555">{escape(spec.code_latin)}</font>',
        st.code,
    )
    filed = para(
        bilingual("form.filed_by." + spec.filed_by, case.lang)
        + f" &nbsp; · &nbsp; {escape(case.case_number)}",
        st.small,
    )
    table = Table([[[title, filed], code]], colWidths=[CONTENT_WIDTH * 0.74, CONTENT_WIDTH * 0.26])
    table.setStyle(
        table_style(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 1.2, INK),
                ("BOX", (1, 0), (1, 0), 1, INK),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def form_flowables(spec: FormSpec, case: CaseData) -> list[Flowable]:
    """Everything one form puts on paper, ready for a document or a packet."""
    st = styles()
    out: list[Flowable] = [FooterMark(spec.code_latin), form_header(spec, case), Spacer(1, 4)]
    if spec.kind == "letter":
        out.extend(letter_flowables(spec, case))
    else:
        for section in spec.sections:
            if section.applies(case):
                out.append(KeepTogether(section_flowables(section, case)))
                out.append(Spacer(1, 3))
    if spec.signatures:
        out.append(Spacer(1, 4))
        # The declaration goes with the boxes: nobody signs on a page without it.
        declaration = label("form.sign.declaration", case.lang, st.small)
        boxes = signature_boxes(spec.signatures, case.lang)
        out.append(KeepTogether([declaration, Spacer(1, 3), boxes]))
    return out


def letter_flowables(spec: FormSpec, case: CaseData) -> list[Flowable]:
    """The complaint letter: addressee, subject, bilingual body, facts, evidence list."""
    st = styles()
    complaint = case.complaint
    kind = complaint.kind if complaint else "not_registered"
    params = {
        "office": case.office.name or "……………",
        "employer": case.employer.name or "……………",
        "worker": case.person.display_name or "……………",
    }
    out: list[Flowable] = [
        para(bilingual("form.letter.to", case.lang, params=params), st.body),
        label(f"form.letter.subject.{kind}", case.lang, st.body, bold=True),
        Spacer(1, 3),
    ]
    half = CONTENT_WIDTH / 2
    body_rows = []
    for code in label_languages(case.lang):
        if code == "en" and len(label_languages(case.lang)) > 2:
            continue  # the letter body is Thai beside the worker's language
        words = text(f"form.letter.body.{kind}", code, **params)
        body_rows.append(long_text(words, st.body, half - 6))  # the cell's padding
    if len(body_rows) == 1:
        body_rows.append(Paragraph("", st.body))
    body = Table([body_rows], colWidths=[half, half])
    body.setStyle(_box_style())
    out += [body, Spacer(1, 4)]
    for section in spec.sections:
        if section.applies(case):
            out.append(KeepTogether(section_flowables(section, case)))
            out.append(Spacer(1, 3))
    out.append(_section_bar(bilingual("form.section.evidence", case.lang, bold=True), st))
    evidence = complaint.evidence if complaint else ()
    rows = [
        [
            plain(f"{number}.", st.value),
            long_text(item.description, st.value, CONTENT_WIDTH * 0.78),
            para(
                bilingual("form.letter.pages", case.lang, params={"count": item.pages})
                if item.pages
                else "",
                st.small,
            ),
        ]
        for number, item in enumerate(evidence, start=1)
    ]
    if not rows:
        rows = [
            [
                plain("", st.value),
                label("form.letter.no_evidence", case.lang, st.small),
                plain("", st.small),
            ]
        ]
    table = Table(rows, colWidths=[CONTENT_WIDTH * 0.06, CONTENT_WIDTH * 0.8, CONTENT_WIDTH * 0.14])
    table.setStyle(_box_style())
    out.append(table)
    return out


# --- documents ----------------------------------------------------------------------


class FooterMark(Flowable):  # type: ignore[misc]
    """Zero-size marker: from here on the page footer names this form."""

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv._sapan_footer = self.label


def _draw_footer(case: CaseData, canvas: Canvas, doc: BaseDocTemplate) -> None:
    st = styles()
    label = getattr(canvas, "_sapan_footer", "")
    markup = (
        f"{escape(label)} · {escape(case.case_number)} · v{case.packet_version} · "
        f"{canvas.getPageNumber()} &nbsp; " + bilingual("form.footer.own_layout", case.lang)
    )
    footer = Paragraph(markup, st.footer)
    _, height = footer.wrap(CONTENT_WIDTH, MARGIN)
    footer.drawOn(canvas, MARGIN, MARGIN - height - 2 * mm)


def new_document(target: str | Path | BinaryIO, case: CaseData, title: str) -> BaseDocTemplate:
    """An A4 document whose every page carries the Sapan footer for ``case``."""
    fonts.register_pdf_fonts()
    doc = BaseDocTemplate(
        target
        if isinstance(target, str)
        else (str(target) if isinstance(target, Path) else target),
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=title,
        author="Sapan",
        creator="Sapan",
        # Never let ReportLab fall back to an unembedded Helvetica on an empty page.
        initialFontName=fonts.PDF_REGULAR,
        invariant=1,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates(
        [PageTemplate(id="page", frames=[frame], onPageEnd=functools.partial(_draw_footer, case))]
    )
    return doc


def write_document(
    target: str | Path | BinaryIO, case: CaseData, title: str, story: list[Flowable]
) -> None:
    """Build ``story`` as an A4 PDF for ``case`` into ``target``; a file is written whole
    or not at all (:func:`desktop.domain.files.replacing`)."""
    if isinstance(target, (str, Path)):
        with files.replacing(Path(target)) as partial:
            new_document(partial, case, title).build(story)
    else:
        new_document(target, case, title).build(story)


def render_form(form_id: str, case: CaseData, target: str | Path | BinaryIO) -> list[MissingField]:
    """Write one filled form as a PDF to ``target``; returns the fields left empty."""
    spec = load_form(form_id)
    write_document(
        target, case, f"{spec.code_latin} {case.case_number}", form_flowables(spec, case)
    )
    return missing_fields(spec, case)


def render_form_bytes(form_id: str, case: CaseData) -> bytes:
    """The PDF of one form in memory (previews, tests)."""
    buffer = io.BytesIO()
    render_form(form_id, case, buffer)
    return buffer.getvalue()


def page_break() -> PageBreak:
    return PageBreak()
