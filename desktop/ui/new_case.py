"""The New case form: a person (names in several scripts, a document) and their case.

Validation runs before anything is written: names required, the document number by its
kind, dates typed in CE (a Buddhist Era year is caught and the CE year suggested), a birth
date that may be a year (``YYYY``), a month (``MM/YYYY``) or a full date, birth and
arrival not in the future (read as the case file's details editor reads them:
:mod:`desktop.ui.person_details`). A woman's title (Mrs or Miss) is chosen here; a man's is
Mr, shown and not chosen; the marital status is left to the case file. Zawgyi-encoded
Burmese is detected and, if the caseworker agrees, converted to Unicode. The one-line
editors of synced details take no more than the sync server accepts
(:func:`desktop.ui.limits.limit_to`); a name that grows past it when converted from
Zawgyi is refused by the service, its issue shown with the others.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import ids, text
from desktop.domain.validation import Issue, Severity, issue
from desktop.services import people, ui_wizards
from desktop.ui.context import AppContext
from desktop.ui.i18n import current, issue_text, tr
from desktop.ui.limits import limit_to
from desktop.ui.person_details import (
    fill_choices,
    nationality_choices,
    read_arrival,
    read_birth_date,
    sex_choices,
    show_placeholder,
    title_choices,
)
from desktop.ui.wrap import WrapLabel

DOCUMENT_KINDS = ("pink_card", "passport", "ci", "border_pass", "thai_id")
# The synced detail each one-line editor fills in (dates are not text of a length).
DETAILS = {
    "name_native": ("person_name", "full_name"),
    "name_passport": ("person_name", "full_name"),
    "name_thai": ("person_name", "full_name"),
    "doc_number": ("identity_document", "number"),
    "phone": ("person", "phone"),
}


class NewCaseDialog(QDialog):
    """Emits ``created(case id)`` after the person and case are stored."""

    created = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        self.labels: dict[str, QLabel] = {}
        for name in ("name_native", "name_passport", "name_thai"):
            self._line(form, name)
        self.sex = QComboBox()
        self.sex.setObjectName("sex")
        self.person_title = QComboBox()
        self.person_title.setObjectName("person_title")
        self.nationality = QComboBox()
        self.doc_kind = QComboBox()
        self._row(form, "sex", self.sex)
        self._row(form, "person_title", self.person_title)
        self._line(form, "birth_date")
        self._row(form, "nationality", self.nationality)
        self._line(form, "arrived_on")
        self._row(form, "doc_kind", self.doc_kind)
        self._line(form, "doc_number")
        self._line(form, "phone")
        self.issues = WrapLabel()
        self.issues.setObjectName("issues")
        self.issues.setStyleSheet("color: #c62828")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.issues)
        layout.addWidget(self.buttons)
        self.found: list[Issue] = []
        self.retranslate()
        self.sex.currentIndexChanged.connect(lambda _index: self._fill_titles())

    def _line(self, form: QFormLayout, name: str) -> None:
        edit = QLineEdit()
        edit.setObjectName(name)
        if name in DETAILS:
            limit_to(edit, *DETAILS[name])
        self.fields[name] = edit
        self._row(form, name, edit)

    def _row(self, form: QFormLayout, name: str, editor: QWidget) -> None:
        label = QLabel()
        self.labels[name] = label
        form.addRow(label, editor)

    def validate(self) -> tuple[people.PersonInput | None, list[Issue]]:
        """The new case as typed, or the coded issues that block it."""
        today = self.ctx.today()
        found: list[Issue] = []
        names = []
        for name, kind in (
            ("name_native", "native"),
            ("name_passport", "passport"),
            ("name_thai", "thai"),
        ):
            value = self.fields[name].text()
            if text.clean(value):
                names.append(people.NameInput(value, kind=kind))
        if not names:
            found.append(issue("error.name_required", "name_native"))
        birth, issues = read_birth_date(self.fields["birth_date"].text(), today)
        found.extend(issues)
        arrived, issues = read_arrival(self.fields["arrived_on"].text(), today)
        found.extend(issues)
        documents = []
        number = self.fields["doc_number"].text()
        if number.strip():
            kind = str(self.doc_kind.currentData())
            found.extend(ids.validate_document_number(kind, number, "doc_number"))
            documents.append(people.DocumentInput(kind=kind, number=number))
        self.found = found
        if any(i.severity is Severity.ERROR for i in found):
            return None, found
        return (
            people.PersonInput(
                names=names,
                sex=self.sex.currentData() or None,
                title=self.person_title.currentData() or None,
                birth_date=birth.iso() if birth else None,
                nationality=self.nationality.currentData(),
                phone=self.fields["phone"].text().strip() or None,
                arrived_on=arrived,
                documents=documents,
            ),
            found,
        )

    def submit(self) -> None:
        data, found = self.validate()
        self.show_issues(found)
        if data is None:
            return
        if any(text.looks_like_zawgyi(n.full_name) for n in data.names):
            convert = self.ctx.dialogs.confirm(tr("ui.person.zawgyi_confirm_short"))
            data = dataclasses.replace(
                data,
                names=[
                    people.NameInput(n.full_name, n.kind, convert_zawgyi=convert)
                    for n in data.names
                ],
            )
        store = self.ctx.store
        self.buttons.setEnabled(False)
        final = data

        def done(case_id: str) -> None:
            self.buttons.setEnabled(True)
            self.created.emit(case_id)
            self.accept()

        def failed(exc: BaseException) -> None:
            from desktop.domain.errors import UserError

            self.buttons.setEnabled(True)
            if isinstance(exc, UserError):  # a bug has been reported as one
                self.issues.setText(
                    "\n".join([exc.translated(current()), *(issue_text(i) for i in exc.issues)])
                )

        self.ctx.ops.run(
            lambda: ui_wizards.create_case(store, final),
            on_success=done,
            on_failure=failed,
            write=True,
        )

    def show_issues(self, found: list[Issue]) -> None:
        lines = []
        for item in found:
            where = self.labels[item.field].text() + " " if item.field in self.labels else ""
            lines.append(where + issue_text(item))
        self.issues.setText("\n".join(lines))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _fill_titles(self) -> None:
        """The titles for the sex chosen: a woman's to choose, a man's shown (Mr)."""
        sex = self.sex.currentData() or None
        fill_choices(self.person_title, title_choices(sex))  # a choice that fits stays
        self.person_title.setEnabled(sex != "M")

    def retranslate(self) -> None:
        self.setWindowTitle(tr("ui.new_case.title"))
        for name, label in self.labels.items():
            label.setText(tr(f"ui.new_case.{name}"))
        for name, hint in (
            ("birth_date", "ui.person.birth_hint"),
            ("arrived_on", "ui.wizard.date_hint"),
        ):
            show_placeholder(self.fields[name], tr(hint))
        fill_choices(self.sex, sex_choices())
        self._fill_titles()
        fill_choices(self.nationality, nationality_choices())
        fill_choices(self.doc_kind, [(k, tr(f"ui.document_kind.{k}")) for k in DOCUMENT_KINDS])
        if self.found:
            self.show_issues(self.found)
