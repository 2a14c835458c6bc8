"""The editors of one workflow step's fields, for the wizard and the case file alike.

:class:`StepFields` builds an editor per field of a :class:`StepSpec` (a combo box for a
choice, a box for long text, a line otherwise), hides a field whose condition does not
hold for the values given, validates what was typed into the values a step stores
(``workflow_specs.validate_field``), and shows the coded issues in the current language.
A free-text value that looks like Zawgyi is offered for conversion to Unicode first, as a
name is in the new-case dialog and the case file: converted in its editor only if the
caseworker agrees; one kept as typed is not asked about again (:attr:`StepFields.kept`),
nor, in :class:`StepEditor`, one the step already holds.
The wizard has one per step page; :class:`StepEditor` is one in a dialog, for filling in
or correcting a step of a track that already exists (an appeal's decision date, a claim's
filing date), saved with ``steps.save_fields``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from PySide6.QtCore import QCollator, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import dates, lengths, places, workflow
from desktop.domain.validation import Issue, Severity, has_errors, issue
from desktop.services import ui_wizards
from desktop.ui.i18n import current, issue_text, tr
from desktop.ui.limits import limit_to
from desktop.ui.screen import resize_to_fit
from desktop.ui.workflow_specs import (
    FieldSpec,
    StepSpec,
    applies,
    choice_text,
    label,
    unicode_form,
    validate_field,
)
from desktop.ui.wrap import WrapLabel

# How wide a step editor opens (less on a smaller screen)
EDITOR_WIDTH = 640


def province_codes(lang: str) -> tuple[str, ...]:
    """Every province's code, in the dictionary order of its name in ``lang`` (a province
    box: กรุงเทพมหานคร before เชียงใหม่ before ตาก, as a Thai reader looks for them)."""
    order = QCollator()  # the UI language's locale (LanguageSwitch sets the default)
    return tuple(
        sorted(places.provinces(), key=lambda code: order.sortKey(places.province_name(code, lang)))
    )


class StepFields(QWidget):
    """An editor per field of ``step``; ``choice_changed`` when a choice moves (a field's
    condition may then hold or not)."""

    choice_changed = Signal()

    def __init__(self, step: StepSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.step = step
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.editors: dict[str, QWidget] = {}
        self.labels: dict[str, QLabel] = {}
        self.issues: list[Issue] = []
        # a non-blocking note under a field's editor (:meth:`set_note`), by field name
        self.notes: dict[str, QLabel] = {}
        # values typed in Zawgyi the caseworker chose to keep as typed, by field name
        self.kept: dict[str, str] = {}
        for spec in step.fields:
            editor: QWidget
            if spec.type in ("choice", "province"):
                box = QComboBox()
                box.addItem("", "")
                codes = province_codes(current()) if spec.type == "province" else spec.choices
                for choice in codes:
                    box.addItem(choice, choice)
                box.currentIndexChanged.connect(self.choice_changed)
                editor = box
            elif spec.type == "longtext":
                editor = QPlainTextEdit()
                editor.setMaximumHeight(90)
            else:
                editor = QLineEdit()
                detail = ui_wizards.fact_field(spec.maps) if spec.maps else None
                if detail is not None and spec.validator is None:
                    # as typed is as stored, but for spaces; a number typed with dashes
                    # is longer than the digits kept, so its validator judges it instead
                    limit_to(editor, *detail)
            editor.setObjectName(f"field_{spec.name}")
            label_ = QLabel()
            self.labels[spec.name] = label_
            self.editors[spec.name] = editor
            self.form.addRow(label_, editor)
            if spec.maps in ui_wizards.PERSON_FACTS:  # may differ from the person's own
                note = WrapLabel()
                note.setObjectName(f"note_{spec.name}")
                note.setStyleSheet("color: #8a4b00")
                self.notes[spec.name] = note
                self.form.addRow("", note)  # under the editor, shown while it says something
                self.form.setRowVisible(note, False)
        self.issues_label = WrapLabel()
        self.issues_label.setObjectName("issues")
        self.issues_label.setStyleSheet("color: #c62828")
        self.form.addRow(self.issues_label)
        self.retranslate()

    # -- values ---------------------------------------------------------------------------

    def raw(self, name: str) -> str:
        editor = self.editors[name]
        if isinstance(editor, QComboBox):
            return str(editor.currentData() or "")
        if isinstance(editor, QPlainTextEdit):
            return editor.toPlainText()
        assert isinstance(editor, QLineEdit)
        return editor.text()

    def raw_values(self) -> dict[str, str]:
        return {name: self.raw(name) for name in self.editors}

    def set_raw(self, name: str, value: str) -> None:
        editor = self.editors[name]
        if isinstance(editor, QComboBox):
            if value and editor.findData(value) < 0:  # held but not offered: kept, not lost
                editor.addItem(value, value)
            editor.setCurrentIndex(max(0, editor.findData(value)))
        elif isinstance(editor, QPlainTextEdit):
            editor.setPlainText(value)
        elif isinstance(editor, QLineEdit):
            editor.setText(value)
            if editor.text() != value:  # cut at the detail's limit (a draft saved before it)
                most = editor.maxLength()
                cut = issue("ui.limit.full", name, Severity.WARNING, limit=most)
                self.show_issues([*self.issues, cut])

    def applicable(self, values: Mapping[str, str]) -> list[FieldSpec]:
        """The fields whose condition holds for ``values`` (what was typed anywhere)."""
        return [f for f in self.step.fields if applies(f.when, values)]

    def update_visibility(self, values: Mapping[str, str]) -> None:
        for spec in self.step.fields:
            shown = applies(spec.when, values)
            self.form.setRowVisible(self.editors[spec.name], shown)
            note = self.notes.get(spec.name)
            if note is not None:
                self.form.setRowVisible(note, shown and bool(note.text()))

    def set_note(self, name: str, text: str) -> None:
        """Show ``text`` under field ``name``'s editor while the field is shown; nothing
        hides it. Only a field that may differ from the person's own has a note."""
        note = self.notes[name]
        note.setText(text)
        self.form.setRowVisible(note, bool(text) and self.form.isRowVisible(self.editors[name]))

    def validate(
        self,
        values: Mapping[str, str],
        today: dt.date,
        confirm: Callable[[str], bool] | None = None,
    ) -> tuple[dict[str, Any], list[Issue]]:
        """The typed values of the applicable fields (as a step stores them) and their
        issues, which are shown under the editors. With ``confirm`` (the dialogs' yes/no
        question), free text typed in Zawgyi is first offered for conversion
        (:meth:`offer_unicode`)."""
        typed: dict[str, Any] = {}
        found = [] if confirm is None else self.offer_unicode(values, confirm)
        applicable = self.applicable(values)
        for spec in applicable:
            value, issues = validate_field(spec, self.raw(spec.name), today)
            typed[spec.name] = value
            found.extend(issues)
        ordered = [(s.name, s.not_before) for s in applicable if s.not_before]
        found.extend(workflow.dates_out_of_order(ordered, typed))
        self.show_issues(found)
        return typed, found

    def offer_unicode(
        self, values: Mapping[str, str], confirm: Callable[[str], bool]
    ) -> list[Issue]:
        """Ask, for each applicable free-text field whose value looks like Zawgyi, whether
        to convert it to Unicode (``ui.wizard.zawgyi_confirm``, naming the field and
        showing the converted text). Agreed: the editor holds the converted text, so what
        is kept is what is shown. Declined: the value stays as typed and is not asked
        about again while it is unchanged. Returns the issues that block: a value that
        cannot be converted without loss, or one that would no longer fit its detail."""
        found: list[Issue] = []
        for spec in self.applicable(values):
            raw = self.raw(spec.name)
            if self.kept.get(spec.name) == raw:
                continue
            converted, issues = unicode_form(spec, raw)
            found.extend(issues)
            if converted is None:
                continue
            question = tr(
                "ui.wizard.zawgyi_confirm", field=label("field", spec.name), converted=converted
            )
            if not confirm(question):
                self.kept[spec.name] = raw
                continue
            detail = ui_wizards.fact_field(spec.maps) if spec.maps else None
            overlong = lengths.too_long(*detail, converted, spec.name) if detail else None
            if overlong is not None:  # the editor would cut it: left as typed, to shorten
                found.append(overlong)
                continue
            self.set_raw(spec.name, converted)
        return found

    def show_issues(self, found: list[Issue]) -> None:
        lines = []
        for item in found:
            spec = next((f for f in self.step.fields if f.name == item.field), None)
            where = label("field", spec.name) + ": " if spec else ""
            lines.append(where + issue_text(item))
        self.issues_label.setText("\n".join(lines))
        self.issues = found

    def retranslate(self) -> None:
        for spec in self.step.fields:
            text = label("field", spec.name)
            if spec.type == "date":
                text += " " + tr("ui.wizard.date_hint")
            self.labels[spec.name].setText(text + (" *" if spec.required else ""))
            editor = self.editors[spec.name]
            if isinstance(editor, QComboBox):
                for i in range(1, editor.count()):
                    editor.setItemText(i, choice_text(spec, str(editor.itemData(i))))


def raw_text(value: Any, kind: str = "text") -> str:
    """A stored step value as an editor shows it: a yes/no choice as ``true``/``false``,
    a date as its label asks for one (``DD/MM/YYYY``, year AD; it was shown as stored,
    ``2026-03-01``, under "(DD/MM/YYYY, year AD)"), nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "date":
        try:
            return dates.format_ce(dt.date.fromisoformat(str(value)))
        except ValueError:
            return str(value)  # as typed before it was checked: the editor judges it
    return str(value)


def editor_date(value: object) -> dt.date | None:
    """A date field's value as the editors give it once validated (ISO text), or None."""
    return dt.date.fromisoformat(str(value)) if value else None


class StepEditor(QDialog):
    """One step's fields in a dialog, filled with what the step holds; ``saved`` carries
    the values to store once they validate (the dialog stays open until the caller has
    stored them and calls :meth:`accept`)."""

    saved = Signal(dict)

    def __init__(
        self,
        step: StepSpec,
        data: Mapping[str, Any],
        today: dt.date,
        parent: QWidget | None = None,
        confirm: Callable[[str], bool] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("step_editor")
        self.today = today
        self.confirm = confirm  # asks whether free text typed in Zawgyi is converted
        kinds = {f.name: f.type for f in step.fields}
        self.context = {
            k: raw_text(v, kinds.get(k, "text")) for k, v in data.items() if k != "forms_printed"
        }
        # A value that becomes a person fact (a document number, the employer) or the
        # track's event date is corrected where it lives, not here.
        editable = tuple(f for f in step.fields if not f.lives_elsewhere)
        self.fields = StepFields(StepSpec(step.key, editable, step.documents, step.later))
        for spec in editable:
            self.fields.set_raw(spec.name, self.context.get(spec.name, ""))
        # what the step holds was asked about when it was typed (here or in the wizard),
        # or came before the question did: only text typed now is offered for conversion
        self.fields.kept = self.fields.raw_values()
        self.fields.choice_changed.connect(self._choice_changed)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.fields)
        layout.addWidget(self.buttons)
        self.setWindowTitle(label("step", step.key))
        self._choice_changed()
        # wide enough for a company's whole name or an address beside its label
        hint = self.sizeHint()
        resize_to_fit(self, max(hint.width(), EDITOR_WIDTH), hint.height())

    def values(self) -> dict[str, str]:
        return {**self.context, **self.fields.raw_values()}

    def _choice_changed(self) -> None:
        self.fields.update_visibility(self.values())

    def save(self) -> None:
        """Validate; ``saved`` with the typed values, or the issues under the editors."""
        typed, found = self.fields.validate(self.values(), self.today, self.confirm)
        if not has_errors(found):
            self.saved.emit(typed)
