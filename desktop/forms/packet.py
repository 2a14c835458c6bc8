"""The claim packet: everything a worker takes to the SSO office, in one PDF.

Order: a cover sheet (case number, QR code with the case id and packet version, worker,
employer, benefit, filing deadline, office); the checklist of documents, present or
missing, plus every form field still empty; the filled forms; an instruction sheet in
the worker's language beside Thai; a signature page with a thumbprint box and two
witness boxes.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, PageBreak, Spacer, Table

from desktop.domain.i18n import text
from desktop.domain.qr import qr_payload
from desktop.forms import render
from desktop.forms.data import CaseData
from desktop.forms.render import (
    CONTENT_WIDTH,
    MISSING,
    PRESENT,
    FooterMark,
    MissingField,
    be_date,
    bilingual,
    format_id13,
    label,
    long_text,
    para,
    plain,
    static_para,
    styles,
)

QR_SIZE = 42 * mm
# Share of the width each column of the checklist takes: status, document, note.
CHECKLIST_COLUMNS = (0.24, 0.56, 0.2)
# The cover's two columns: what each line is, and its value.
INFO_COLUMNS = (0.36, 0.64)
PADDING = 6  # left and right padding of a box (render._box_style)


@dataclass(frozen=True)
class PacketResult:
    """What rendering a packet found out: the fields the forms left empty."""

    missing_fields: tuple[MissingField, ...]
    missing_documents: tuple[str, ...]


class QrFlowable(Flowable):  # type: ignore[misc]
    """The cover-sheet QR code, ``size`` points square, drawn as plain rectangles.

    Drawn directly on the canvas rather than through ``renderPDF``, whose graphics state
    starts in Helvetica and would leave an unembedded font reference in the PDF.
    """

    def __init__(self, payload: str, size: float = QR_SIZE) -> None:
        super().__init__()
        self.payload = payload
        self.size = size

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        modules, count = _qr_modules(self.payload)
        unit = self.size / count
        canvas = self.canv
        canvas.saveState()
        canvas.setFillColor(colors.white)
        canvas.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        canvas.setFillColor(colors.black)
        # One path for all dark modules: far fewer PDF operators than one rect each.
        path = canvas.beginPath()
        for x, y, w, h in modules:
            path.rect(x * unit, y * unit, w * unit, h * unit)
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.restoreState()


QR_BORDER = 4  # the quiet zone, in modules, that QR readers need around the code


# A few payloads: a packet previewed and then printed is encoded once. Each entry is
# some 40 KB of rectangles, so a print queue of new cases must not fill a large cache.
@functools.lru_cache(maxsize=8)
def _qr_modules(payload: str) -> tuple[tuple[tuple[float, float, float, float], ...], float]:
    """Dark-module rectangles of the QR code in module units, and the side in modules.

    Encoding (mask selection) is the slow part, so it runs once per payload. The code is
    read straight from ReportLab's encoder, one rectangle per run of dark modules in a
    row, as its ``QrCodeWidget`` draws it, but without building a graphics shape per run
    (that cost as much as the encoding). Origin at the bottom left, quiet zone included.
    """
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(payload)
    code.make()
    side = code.getModuleCount() + 2 * QR_BORDER
    rects = []
    for row_index, row in enumerate(code.modules):
        column = 0
        for dark, run in itertools.groupby(bool(module) for module in row):
            length = len(list(run))
            if dark:
                top = side - (row_index + QR_BORDER + 1)
                rects.append((float(column + QR_BORDER), float(top), float(length), 1.0))
            column += length
    return tuple(rects), float(side)


def qr_flowable(case: CaseData, size: float = QR_SIZE) -> QrFlowable:
    """The cover-sheet QR code carrying the case id and packet version."""
    return QrFlowable(qr_payload(case.case_id, case.packet_version), size)


def _info_table(rows: list[tuple[str, Flowable]], lang: str, width: float) -> Table:
    st = styles()
    data = [[label(key, lang, st.label, bold=True), value] for key, value in rows]
    table = Table(data, colWidths=[width * share for share in INFO_COLUMNS])
    table.setStyle(render._box_style())
    return table


def _deadline(case: CaseData) -> str:
    return be_date(case.benefit.filing_deadline)


def _benefit(case: CaseData) -> str:
    if not case.benefit.kind:
        return ""
    return bilingual(f"form.option.{case.benefit.kind}", case.lang)


def _title_key(case: CaseData) -> str:
    """An enrollment's packet is not a claim's: its cover says so."""
    return "form.packet.title_enrollment" if _filer(case) else "form.packet.title"


def cover_flowables(case: CaseData) -> list[Flowable]:
    st = styles()
    person = case.person
    names = [person.name_native, person.name_thai, person.name_latin]
    name_lines = "<br/>".join(escape(n) for n in dict.fromkeys(n for n in names if n))
    header = Table(
        [
            [
                [
                    label(_title_key(case), case.lang, st.title, bold=True),
                    Spacer(1, 4),
                    para(f"<b>{escape(case.case_number)}</b>", st.big),
                    para(
                        bilingual(
                            "form.packet.version",
                            case.lang,
                            params={"version": case.packet_version},
                        )
                        + f" · {escape(be_date(_printed(case)))}",
                        st.small,
                    ),
                ],
                [qr_flowable(case), label("form.packet.qr_hint", case.lang, st.label)],
            ]
        ],
        colWidths=[CONTENT_WIDTH - QR_SIZE - 10 * mm, QR_SIZE + 10 * mm],
    )
    header.setStyle(render._box_style())
    # Each identity number the worker has: many migrants hold a passport or CI and no
    # 13-digit ID, and the office finds them by whichever number they show.
    lines = [name_lines]
    if person.national_id:
        lines.append(escape(format_id13(person.national_id)))
    if person.passport:
        lines.append(f"{bilingual('form.label.passport', case.lang)}: {escape(person.passport)}")
    if person.birth_date:
        lines.append(escape(be_date(person.birth_date)))
    worker = para("<br/>".join(lines), st.value)
    value_width = CONTENT_WIDTH * INFO_COLUMNS[1] - PADDING
    employer = long_text(
        "\n".join(x for x in (case.employer.name, case.employer.account) if x),
        st.value,
        value_width,
    )
    office_lines = [case.office.name, case.office.address, case.office.phone, case.office.hours]
    office = long_text("\n".join(x for x in office_lines if x), st.value, value_width)
    deadline = para(
        f'<font color="#b00020"><b>{escape(_deadline(case))}</b></font>'
        if case.benefit.filing_deadline
        else bilingual("form.packet.no_deadline", case.lang),
        st.value,
    )
    rows: list[tuple[str, Flowable]] = [
        ("form.packet.worker", worker),
        ("form.packet.employer", employer),
        ("form.packet.benefit", static_para(_benefit(case), st.value)),
        ("form.label.event_date", plain(be_date(case.benefit.event_date), st.value)),
        ("form.label.filing_deadline", deadline),
        ("form.packet.office", office),
    ]
    if case.caseworker or case.organisation:
        helper = ", ".join(x for x in (case.caseworker, case.organisation) if x)
        rows.append(("form.packet.caseworker", long_text(helper, st.value, value_width)))
    forms = ", ".join(render.load_form(f).code_latin for f in case.forms)
    rows.append(("form.packet.contents", plain(forms, st.value)))
    return [
        FooterMark("COVER"),
        header,
        Spacer(1, 6),
        _info_table(rows, case.lang, CONTENT_WIDTH),
    ]


def _printed(case: CaseData) -> dt.date:
    return case.printed_on or dt.date.today()


def checklist_flowables(case: CaseData, missing: list[MissingField]) -> list[Flowable]:
    st = styles()
    out: list[Flowable] = [
        FooterMark("CHECKLIST"),
        label("form.packet.checklist_title", case.lang, st.title, bold=True),
        Spacer(1, 4),
    ]
    rows = []
    for item in case.checklist:
        key = "form.packet.present" if item.present else "form.packet.missing"
        colour = PRESENT if item.present else MISSING
        status = static_para(
            f'<font color="#{colour.hexval()[2:]}"><b>{"[X]" if item.present else "[  ]"}</b> '
            f"{bilingual(key, case.lang)}</font>",
            st.small,
        )
        name = label(item.label, case.lang, st.value)
        # Typed by a caseworker, often without spaces: broken between syllables.
        note = long_text(item.note, st.small, CONTENT_WIDTH * CHECKLIST_COLUMNS[2] - PADDING)
        rows.append([status, name, note])
    if rows:
        table = Table(rows, colWidths=[CONTENT_WIDTH * share for share in CHECKLIST_COLUMNS])
        table.setStyle(render._box_style())
        out.append(table)
    else:
        out.append(label("form.packet.no_documents", case.lang, st.body))
    out.append(Spacer(1, 8))
    out.append(
        render._section_bar(bilingual("form.packet.missing_fields", case.lang, bold=True), st)
    )
    if missing:
        rows = [
            [plain(m.form_code, st.value), label(m.label, case.lang, st.value)] for m in missing
        ]
        table = Table(rows, colWidths=[CONTENT_WIDTH * 0.2, CONTENT_WIDTH * 0.8])
        table.setStyle(render._box_style())
        out.append(table)
    else:
        out.append(label("form.packet.no_missing_fields", case.lang, st.body))
    return out


def _instruction_languages(lang: str) -> tuple[str, str]:
    """The two columns: the worker's language and Thai (English beside Thai for Thais)."""
    return ("en", "th") if lang == "th" else (lang, "th")


def _instruction(topic: str, lang: str, params: dict[str, str]) -> str:
    if topic == "deadline" and not params["deadline"]:
        # No date yet: say so rather than print an empty deadline.
        return text("form.packet.no_deadline", lang)
    if topic == "help" and not params["helper"]:
        # Nobody named to show the case number to: point to the hotline only.
        return text("form.packet.instr.help.no_helper", lang, case=params["case"])
    if topic == "bring" and not params.get("documents"):
        # No checklist: no "these documents" introducing a list that never comes.
        return text("form.packet.instr.bring.packet_only", lang)
    return text(_instruction_key(topic, params), lang, **params)


def _instruction_key(topic: str, params: dict[str, str]) -> str:
    """The catalogue key of an instruction: what happens next depends on who files the
    packet (``params["filer"]``: a claim's worker by default; see :func:`_filer`)."""
    if topic == "next" and params.get("filer"):
        return f"form.packet.instr.next.{params['filer']}"
    if topic == "deadline" and params.get("passed"):
        return "form.packet.instr.deadline.passed"
    return f"form.packet.instr.{topic}"


def _deadline_passed(case: CaseData) -> str:
    """ "yes" when the packet is printed after its filing deadline: "file no later than" a
    day gone by would tell the worker nothing they can do."""
    deadline = case.benefit.filing_deadline
    return "yes" if deadline is not None and deadline < _printed(case) else ""


def _filer(case: CaseData) -> str:
    """Who hands in a packet that is not about a claim: the employer registers a worker
    (SSO 1-03, within 30 days of the first day of work); a worker who left joins Section
    39 themself (SSO 1-20). "" for a claim, whose wording is the default."""
    if case.benefit.kind:
        return ""
    if "sps1_20" in case.forms:
        return "enrollment_self"
    if "sps1_03" in case.forms:
        return "enrollment_employer"
    return ""


def where_lines(case: CaseData, lang: str) -> list[str]:
    """Where to file, one line per part the case records: name, address, hours, phone.

    Parts that are not recorded are left out (never a placeholder, never the SSO
    hotline passed off as the office's phone); with none at all the worker is told to
    ask their helper or the hotline which office to go to.
    """
    office = case.office
    lines = [x for x in (office.name, office.address) if x]
    if office.hours:
        lines.append(text("form.packet.instr.where.hours", lang, hours=office.hours))
    if office.phone:
        lines.append(text("form.packet.instr.where.phone", lang, phone=office.phone))
    return lines or [text("form.packet.instr.where.unknown", lang)]


def _instruction_text(
    topic: str, lang: str, params: dict[str, str], style: ParagraphStyle, width: float
) -> Flowable:
    """One instruction, shared between packets when no case detail is filled into it."""
    words = _instruction(topic, lang, params)
    static = words == text(_instruction_key(topic, params), lang)
    return long_text(words, style, width, static=static)


def instruction_flowables(case: CaseData) -> list[Flowable]:
    st = styles()
    left, right = _instruction_languages(case.lang)
    half = CONTENT_WIDTH / 2
    missing_docs = [item.label for item in case.checklist if not item.present]
    all_docs = [item.label for item in case.checklist]
    params = {
        "deadline": _deadline(case),
        "case": case.case_number,
        "helper": ", ".join(x for x in (case.caseworker, case.organisation) if x),
        "filer": _filer(case),
        "documents": "yes" if all_docs else "",
        "passed": _deadline_passed(case),
    }
    rows = [
        [
            static_para(
                f"<b>{escape(text('form.packet.instructions_title', code))}</b>", st.heading
            )
            for code in (left, right)
        ]
    ]
    for topic in ("next", "where", "bring", "deadline", "help"):
        cells = []
        for code in (left, right):
            flow: list[Flowable] = [
                static_para(
                    f"<b>{escape(text(f'form.packet.instr.{topic}.title', code))}</b>", st.body
                )
            ]
            if topic == "where":
                unknown = text("form.packet.instr.where.unknown", code)
                flow += [
                    long_text(line, st.body, half - 8, static=line == unknown)
                    for line in where_lines(case, code)
                ]
            else:
                flow.append(_instruction_text(topic, code, params, st.body, half - 8))
            if topic == "bring":
                for doc in all_docs:
                    mark = "!" if doc in missing_docs else "-"
                    flow.append(
                        long_text(f"{mark} {text(doc, code)}", st.body, half - 8, static=True)
                    )
            cells.append(flow)
        rows.append(cells)
    table = Table(rows, colWidths=[half, half])
    table.setStyle(render._box_style())
    return [FooterMark("INSTRUCTIONS"), table]


def signature_flowables(case: CaseData) -> list[Flowable]:
    st = styles()
    lang = case.lang
    box = 30 * mm
    # The deceased does not sign a death claim: the heir or funeral organiser writes
    # their own name.
    signer = "" if case.benefit.kind == "death" else case.person.display_name
    width = CONTENT_WIDTH - box - 20 * mm
    worker = Table(
        [
            [
                [
                    label("form.sign.claimant", lang, st.label, bold=True),
                    Spacer(1, box - 12 * mm),
                    long_text(signer, st.small, width - PADDING),
                    label("form.sign.date_line", lang, st.label),
                    render._blank_line(),
                ],
                [
                    label("form.sign.thumbprint", lang, st.label, bold=True),
                    _square(box),
                ],
            ]
        ],
        colWidths=[width, box + 20 * mm],
    )
    worker.setStyle(render._box_style())
    witness_cell = [
        label("form.sign.witness", lang, st.label, bold=True),
        Spacer(1, 16 * mm),
        label("form.sign.name_line", lang, st.label),
        render._blank_line(),
        label("form.sign.id_line", lang, st.label),
        render._blank_line(),
        label("form.sign.date_line", lang, st.label),
        render._blank_line(),
    ]
    witnesses = Table([[witness_cell, list(witness_cell)]], colWidths=[CONTENT_WIDTH / 2] * 2)
    witnesses.setStyle(render._box_style())
    return [
        FooterMark("SIGNATURES"),
        label("form.packet.signature_title", lang, st.title, bold=True),
        Spacer(1, 4),
        label("form.packet.signature_note", lang, st.body),
        Spacer(1, 6),
        KeepTogether([worker]),
        Spacer(1, 8),
        KeepTogether([witnesses]),
    ]


def _square(size: float) -> Table:
    """An empty framed square (the thumbprint box)."""
    square = Table([[""]], colWidths=[size], rowHeights=[size])
    square.setStyle(render.table_style([("BOX", (0, 0), (-1, -1), 0.8, render.INK)]))
    return square


def packet_flowables(case: CaseData) -> tuple[list[Flowable], PacketResult]:
    """All pages of the packet and what it found missing."""
    specs = [render.load_form(form_id) for form_id in case.forms]
    missing = [m for spec in specs for m in render.missing_fields(spec, case)]
    story: list[Flowable] = cover_flowables(case)
    story += [PageBreak(), *checklist_flowables(case, missing)]
    for spec in specs:
        story += [PageBreak(), *render.form_flowables(spec, case)]
    story += [PageBreak(), *instruction_flowables(case)]
    story += [PageBreak(), *signature_flowables(case)]
    result = PacketResult(
        missing_fields=tuple(missing),
        missing_documents=tuple(item.label for item in case.checklist if not item.present),
    )
    return story, result


def render_packet(case: CaseData, target: str | Path | BinaryIO) -> PacketResult:
    """Write the whole packet for ``case`` as one PDF."""
    story, result = packet_flowables(case)
    render.write_document(target, case, f"Sapan packet {case.case_number}", story)
    return result


def render_packet_bytes(case: CaseData) -> bytes:
    """The packet PDF in memory (preview, tests)."""
    buffer = io.BytesIO()
    render_packet(case, buffer)
    return buffer.getvalue()
