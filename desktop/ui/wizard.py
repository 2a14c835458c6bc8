"""Guided steps: a QWizard generated from a workflow definition.

One page per step with an editor per field (hidden when its condition does not hold),
a documents page (the checklist: add a scan or photo per item), an eligibility page for
claims, and a last page with the forms to print (its print button saves first, so the
forms are filled with what the wizard recorded). Each page validates its fields into
coded issues shown in the current language (free text typed in Zawgyi offered for
conversion to Unicode first, :meth:`StepFields.offer_unicode`; the draft keeps the
answers), and saves the whole input as a draft before moving on, so a crash loses
nothing typed; reopened, it goes on to the page it was left on
(:meth:`WorkflowWizard.resume`). Cancel keeps the draft and writes nothing else; Finish
commits everything in one transaction (``ui_wizards.commit_track``).

A step whose workflow needs its forms printed first is committed ``in_progress`` by the
service unless those forms were printed since the wizard was first opened (the time is
kept in the draft); printing them later moves it to ``ready``. A step that hands the track
in (a claim's filing, a registration) does not require its fields yet: the day it was
handed in may be to come. Left empty, the step is committed ``in_progress``, and the case
file's Fill in… completes it when the claim is handed in.

The field that names the employer (fact ``employer.name``) offers the employers the store
already holds as its text is typed (read once per wizard, off the GUI thread); choosing
one fills in the step's SSO account and branch fields (facts ``employer.sso_account`` and
``employer.sso_branch``) with its own,
so Finish finds that employer instead of adding another.

A field of the person's birth date or nationality (facts ``person.birth_date``,
``person.nationality``) that holds a value other than the one on file, which Finish will
keep (``ui_wizards.kept_value``, the rule Finish follows), has a note under it as it is
typed or chosen: the file's value, and that the Person tab corrects it. It blocks nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from desktop.domain import ids
from desktop.domain.eligibility import Benefit
from desktop.domain.validation import Issue, has_errors
from desktop.services import cases, drafts, employers, ui_queries, ui_wizards
from desktop.services.eligibility import REASON_FIELD
from desktop.ui.context import AppContext
from desktop.ui.eligibility_text import explain
from desktop.ui.i18n import issue_text, tr
from desktop.ui.models import Column, RowTableModel
from desktop.ui.person_details import birth_text, nationality_name
from desktop.ui.screen import resize_to_fit
from desktop.ui.step_fields import StepFields
from desktop.ui.workflow_specs import (
    DocumentSpec,
    StepSpec,
    WorkflowSpec,
    applies,
    label,
    validate_field,
)
from desktop.ui.wrap import WrapLabel

# The facts of the fields an employer chosen from the store fills in.
EMPLOYER_NAME = "employer.name"
EMPLOYER_ACCOUNT = "employer.sso_account"
EMPLOYER_BRANCH = "employer.sso_branch"
EMPLOYER_PROVINCE = "employer.province_code"


def draft_key(spec: WorkflowSpec, case_id: str) -> str:
    return f"wizard:{spec.key}:{case_id}"


class StepPage(QWizardPage):
    """The editors of one workflow step (:class:`StepFields`)."""

    def __init__(self, wizard: WorkflowWizard, step: StepSpec) -> None:
        super().__init__()
        self.wiz = wizard
        self.step = step
        self.fields = StepFields(step.in_wizard())  # a filing step's fields may wait
        self.fields.choice_changed.connect(self._choice_changed)
        self.editors = self.fields.editors
        self.issues_label = self.fields.issues_label
        self.employer_completer: QCompleter | None = None
        for spec in step.fields:
            editor = self.editors[spec.name]
            if spec.maps == EMPLOYER_NAME and isinstance(editor, QLineEdit):
                self._complete_employers(editor)
            if spec.name in self.fields.notes:  # said again as it is typed or chosen
                if isinstance(editor, QLineEdit):
                    editor.textChanged.connect(self.update_notes)
                elif isinstance(editor, QComboBox):
                    editor.currentIndexChanged.connect(self.update_notes)
        QVBoxLayout(self).addWidget(self.fields)
        self.retranslate()

    @property
    def issues(self) -> list[Issue]:
        return self.fields.issues

    # -- values ---------------------------------------------------------------------------

    def raw(self, name: str) -> str:
        return self.fields.raw(name)

    def _complete_employers(self, edit: QLineEdit) -> None:
        """Offer the store's employers (name and account) as ``edit``'s text is typed."""
        completer = QCompleter(self.wiz.known_employers(), edit)
        completer.setCompletionRole(Qt.ItemDataRole.DisplayRole)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        popup = QTreeView()  # rows of one height, the name and its account side by side
        popup.setHeaderHidden(True)
        popup.setRootIsDecorated(False)
        popup.setUniformRowHeights(True)
        popup.setItemsExpandable(False)
        popup.header().setStretchLastSection(False)
        popup.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        popup.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        completer.setPopup(popup)
        # the overload that says which row, not only its text (PySide6's stubs lack it)
        completer.activated[QModelIndex].connect(self.employer_chosen)  # type: ignore[index]
        edit.setCompleter(completer)
        self.employer_completer = completer

    def employer_chosen(self, index: QModelIndex) -> None:
        """An employer picked from the completions: its account, branch and province go in
        their fields."""
        assert self.employer_completer is not None
        # the index is one of the completer's filtered list (a proxy of the employers)
        filtered = self.employer_completer.completionModel()
        row = filtered.mapToSource(index).row()  # type: ignore[attr-defined]
        choice: employers.KnownEmployer = self.wiz.known_employers().row_at(row)
        chosen = {
            EMPLOYER_ACCOUNT: choice.sso_account,
            EMPLOYER_BRANCH: choice.sso_branch,
            EMPLOYER_PROVINCE: choice.province_code,
        }
        for spec in self.step.fields:
            value = chosen.get(spec.maps or "")
            if value:
                self.fields.set_raw(spec.name, value)

    def initializePage(self) -> None:
        for name, value in self.wiz.raw.items():
            if name in self.editors and not self.raw(name):
                self.fields.set_raw(name, str(value))
        self._choice_changed()

    def _choice_changed(self) -> None:
        self.fields.update_visibility({**self.wiz.raw_values(), **self.fields.raw_values()})

    def update_notes(self) -> None:
        """Under a field of the person's birth date or nationality holding a value other
        than the one on file that Finish keeps (``ui_wizards.kept_value``, the rule Finish
        follows), say so: the file's value, and where to correct it."""
        for spec in self.step.fields:
            if spec.name not in self.fields.notes or spec.maps is None:
                continue
            value, found = validate_field(spec, self.raw(spec.name), self.wiz.ctx.today())
            held = None
            if not has_errors(found):
                held = ui_wizards.kept_value(self.wiz.on_file, spec.maps, value)
            note = (
                tr("ui.wizard.kept_on_file", value=_on_file_text(spec.maps, held)) if held else ""
            )
            self.fields.set_note(spec.name, note)

    def validatePage(self) -> bool:
        typed, found = self.fields.validate(
            self.wiz.raw_values(), self.wiz.ctx.today(), self.wiz.ctx.dialogs.confirm
        )
        for name in self.editors:  # after: free text converted from Zawgyi is kept so
            self.wiz.raw[name] = self.raw(name)
        self.wiz.values.update(typed)
        if has_errors(found):
            return False
        self.wiz.save_draft()
        return True

    def retranslate(self) -> None:
        self.setTitle(label("step", self.step.key))
        self.fields.retranslate()
        self.update_notes()


class DocumentsPage(QWizardPage):
    """The document checklist: which papers this path needs, and the files chosen."""

    def __init__(self, wizard: WorkflowWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.list = QListWidget()
        self.add_button = QPushButton()
        self.add_button.clicked.connect(self._add_file)
        self.hint = WrapLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.add_button)
        layout.addLayout(row)
        self.retranslate()

    def documents(self) -> list[DocumentSpec]:
        values = self.wiz.raw_values()
        return [d for d in self.wiz.spec.documents if applies(d.when, values)]

    def initializePage(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        current = self.list.currentRow()
        self.list.clear()
        for doc in self.documents():
            files = self.wiz.files.get(doc.key, [])
            mark = "✔" if files else ("✱" if doc.required else "○")
            names = ", ".join(Path(f).name for f in files)
            text = f"{mark} {label('doc', doc.key)}"
            if doc.required:
                text += " (" + tr("ui.wizard.required_doc") + ")"
            if names:
                text += f" — {names}"
            self.list.addItem(text)
        self.list.setCurrentRow(max(0, min(current, self.list.count() - 1)))

    def attach(self, doc_key: str, path: Path) -> None:
        """Check the file can be stored (size limit) off the GUI thread, then keep it."""
        store = self.wiz.ctx.store

        def check() -> Path:
            ui_queries.check_attachment(store, path)
            return path

        def accepted(_path: Path) -> None:
            self.wiz.files.setdefault(doc_key, []).append(str(path))
            self.wiz.save_draft()
            self.refresh()

        self.wiz.ctx.ops.run(check, on_success=accepted, on_failure=self.wiz.show_failure)

    def _add_file(self) -> None:
        docs = self.documents()
        row = self.list.currentRow()
        if not 0 <= row < len(docs):
            return
        path = self.wiz.ctx.dialogs.open_file(tr("ui.wizard.choose_file"))
        if path is not None:
            self.attach(docs[row].key, path)

    def retranslate(self) -> None:
        self.setTitle(tr("ui.wizard.documents"))
        self.hint.setText(tr("ui.wizard.documents_hint"))
        self.add_button.setText(tr("ui.wizard.add_file"))
        if self.wiz is not None:
            self.refresh()


class EligibilityPage(QWizardPage):
    """What the rules engine says about this claim, in words."""

    def __init__(self, wizard: WorkflowWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.text = WrapLabel()
        self.text.setObjectName("eligibility_text")
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addStretch(1)
        self.line: ui_queries.EligibilityLine | None = None
        self.retranslate()

    def initializePage(self) -> None:
        benefit = self.wiz.spec.benefit
        event = self.wiz.event_date()
        if not benefit or not event:
            return
        store, case_id = self.wiz.ctx.store, self.wiz.case_id
        day = dt.date.fromisoformat(str(event))
        # the worker's answers to why and when the job ended, typed but not saved yet
        reason = self.wiz.values.get(REASON_FIELD) or None
        typed_end = next(
            (
                self.wiz.values.get(spec.name)
                for step in self.wiz.spec.steps
                for spec in step.fields
                if spec.maps == ui_wizards.JOB_END
            ),
            None,
        )
        left = dt.date.fromisoformat(str(typed_end)) if typed_end else None
        found_after_job = self.wiz.values.get(cases.FOUND_AFTER_JOB) is True
        self.text.setText(tr("ui.loading"))

        def judge() -> ui_queries.EligibilityLine:
            case = cases.get_case_file(store, case_id)
            return ui_queries.eligibility_line(
                case, Benefit(benefit), day, reason, left, found_after_job
            )

        # the wizard may be finished (and gone) before the answer comes
        self.wiz.ctx.ops.run(judge, on_success=self._show, owner=self)

    def _show(self, line: ui_queries.EligibilityLine) -> None:
        self.line = line
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(tr("ui.wizard.eligibility"))
        if self.line is not None:
            name, status, sentences = explain(self.line)
            self.text.setText(f"<b>{name}: {status}</b><br>" + "<br>".join(sentences))


class FinishPage(QWizardPage):
    """The last page: what will be saved and the forms to print."""

    def __init__(self, wizard: WorkflowWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.summary = WrapLabel()
        self.print_button = QPushButton()
        self.print_button.setObjectName("print_forms")
        self.print_button.clicked.connect(self._print)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.print_button)
        layout.addStretch(1)
        self.retranslate()

    def _print(self) -> None:
        """Save, then print: the forms are filled from the store, so the claim's own dates
        and bank account are on them only once it is saved. The main window renders the
        packet about this track's benefit with these forms and opens its preview."""
        self.wiz.print_after_commit = True
        self.wiz.accept()

    def initializePage(self) -> None:
        self.retranslate()

    def retranslate(self) -> None:
        self.setTitle(tr("ui.wizard.finish"))
        forms = ", ".join(label("form", f) for f in self.wiz.spec.forms)
        missing = [
            label("doc", d.key)
            for d in self.wiz.documents_page.documents()
            if d.required and not self.wiz.files.get(d.key)
        ]
        text = tr("ui.wizard.summary", forms=forms)
        if missing:
            text += "<br>" + tr("ui.wizard.missing_docs", docs=", ".join(missing))
        self.summary.setText(text)
        self.print_button.setText(tr("ui.wizard.print_forms"))


class WorkflowWizard(QWizard):
    """A wizard for one workflow and one case; ``committed`` carries the new track id, and
    ``print_requested`` the forms to print once the Finish page's print button saved it."""

    committed = Signal(str)
    print_requested = Signal(list)

    def __init__(
        self,
        ctx: AppContext,
        spec: WorkflowSpec,
        case_id: str,
        draft: dict[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.spec = spec
        self.case_id = case_id
        self.raw: dict[str, str] = dict((draft or {}).get("raw", {}))
        self.files: dict[str, list[str]] = {
            k: list(v) for k, v in (draft or {}).get("files", {}).items()
        }
        self.values: dict[str, Any] = {}
        # When this wizard was first opened (kept across drafts): prints since then count.
        self.opened_at = str(
            (draft or {}).get("opened_at") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        )
        saved_page = (draft or {}).get("page")
        self.saved_page = saved_page if isinstance(saved_page, int) else 0
        self.committing = False
        self.print_after_commit = False  # the Finish page's "Save and print the forms"
        self.track_id: str | None = None
        self._employers: RowTableModel | None = None
        # the person's own details a field may differ from (ui_wizards.facts_on_file)
        self.on_file: dict[str, str] = {}
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.step_pages = [
            StepPage(self, step) for step in spec.steps if step.fields and not step.later
        ]
        kept = dict((draft or {}).get("kept", {}))  # Zawgyi kept as typed: not asked again
        for page in self.step_pages:
            page.fields.kept = {n: str(v) for n, v in kept.items() if n in page.editors}
            self.addPage(page)
        self.documents_page = DocumentsPage(self)
        self.addPage(self.documents_page)
        self.eligibility_page: EligibilityPage | None = None
        if spec.benefit:
            self.eligibility_page = EligibilityPage(self)
            self.addPage(self.eligibility_page)
        self.finish_page = FinishPage(self)
        self.addPage(self.finish_page)
        resize_to_fit(self, 760, 560)
        self.retranslate()
        store = ctx.store
        self.ctx.ops.run(
            lambda: ui_wizards.facts_on_file(store, case_id), on_success=self._read, owner=self
        )

    def _read(self, on_file: dict[str, str]) -> None:
        """The person's details arrived: say where a field already differs from them."""
        self.on_file = on_file
        for page in self.step_pages:
            page.update_notes()

    @property
    def key(self) -> str:
        return draft_key(self.spec, self.case_id)

    def resume(self) -> None:
        """Once shown, go on to the page the draft was left on, through the pages before
        it as Next would (each checks what it holds); a page that refuses stops there."""
        while self.currentId() < self.saved_page:
            before = self.currentId()
            self.next()
            if self.currentId() == before:
                return

    def known_employers(self) -> RowTableModel:
        """The store's employers (:class:`employers.KnownEmployer` rows) for completing an
        employer's name; read off the GUI thread the first time a page asks."""
        if self._employers is None:
            self._employers = RowTableModel(
                [
                    Column("ui.work.col.employer", lambda e: e.name),
                    Column("ui.work.col.account", _account_text),
                ]
            )
            store, model = self.ctx.store, self._employers
            self.ctx.ops.run(
                lambda: employers.known_employers(store), on_success=model.set_rows, owner=self
            )
        return self._employers

    def raw_values(self) -> dict[str, str]:
        """Everything typed so far, including the page being edited."""
        merged = dict(self.raw)
        page = self.currentPage()
        if isinstance(page, StepPage):
            merged.update({n: page.raw(n) for n in page.editors})
        return merged

    def event_date(self) -> str | None:
        """The validated value of the field that dates the event (birth, injury...)."""
        for step in self.spec.steps:
            for spec in step.fields:
                if spec.role == "event_date" and self.values.get(spec.name):
                    return str(self.values[spec.name])
        return None

    def draft_data(self) -> dict[str, Any]:
        return {
            "raw": self.raw_values(),
            "files": self.files,
            "page": self.currentId(),
            "opened_at": self.opened_at,
            "kept": {n: v for page in self.step_pages for n, v in page.fields.kept.items()},
        }

    def save_draft(self) -> None:
        """Save what was typed, off the GUI thread, through the single writer."""
        store, key, data, case_id = self.ctx.store, self.key, self.draft_data(), self.case_id
        self.ctx.ops.run(
            lambda: drafts.save_draft(store, key, data, case_id),
            write=True,
            key=f"draft:{key}",
        )

    def show_failure(self, exc: BaseException) -> None:
        """A refusal with its issues (a bug has been reported as one)."""
        from desktop.domain.errors import UserError

        if isinstance(exc, UserError):
            message = exc.translated(self._lang())
            if exc.issues:
                message += "\n" + "\n".join(issue_text(i) for i in exc.issues)
            self.ctx.dialogs.error(message)

    @staticmethod
    def _lang() -> str:
        from desktop.ui.i18n import current

        return current()

    def build_commit(self) -> ui_wizards.TrackCommit:
        """What Finish writes, from the validated values of every applicable field."""
        typed = self.raw_values()
        steps: list[tuple[str, dict[str, Any], str]] = []
        facts: dict[str, Any] = {}
        event_date: dt.date | None = None
        path: str | None = self.spec.path
        for page in self.step_pages:
            data: dict[str, Any] = {}
            state = "ready"
            for spec in page.step.fields:
                if not applies(spec.when, typed):
                    continue
                value = self.values.get(spec.name)
                data[spec.name] = value
                if spec.required and value in (None, ""):  # a filing step not yet filed
                    state = "in_progress"
                if spec.maps and value is not None:
                    facts[spec.maps] = value
                if spec.role == "event_date" and value:
                    event_date = dt.date.fromisoformat(str(value))
                if spec.name == "path":
                    path = value
            steps.append((page.step.key, data, state))
        shown = {page.step.key for page in self.step_pages}
        # a document whose condition does not hold (a marriage certificate when the mother
        # claims for herself) is not asked for, nor waited for
        asked = {d.key for d in self.documents_page.documents()}
        ordered: list[tuple[str, dict[str, Any], str]] = []
        for step in self.spec.steps:
            if step.key in shown:
                ordered.append(next(s for s in steps if s[0] == step.key))
            elif step.later:
                ordered.append((step.key, {}, "not_started"))
            else:
                complete = all(self.files.get(d) for d in step.documents if d in asked)
                ordered.append((step.key, {}, "ready" if complete else "in_progress"))
        steps = ordered
        documents = [
            ui_wizards.DocumentCommit(d.key, d.required, tuple(self.files.get(d.key, ())))
            for d in self.documents_page.documents()
        ]
        return ui_wizards.TrackCommit(
            kind=self.spec.kind,
            workflow=self.spec.key,
            steps=steps,
            documents=documents,
            benefit=self.spec.benefit,
            path=path,
            event_date=event_date,
            facts=facts,
            draft_key=self.key,
            printed_since=self.opened_at,
        )

    def accept(self) -> None:
        """Commit in the background; close only when the store has it all."""
        if self.committing:
            return
        self.committing = True
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)
        store, case_id, data = self.ctx.store, self.case_id, self.build_commit()

        def done(track_id: str) -> None:
            self.committing = False
            self.track_id = track_id
            self.committed.emit(track_id)
            if self.print_after_commit:
                self.print_requested.emit(list(self.spec.forms))
            super(WorkflowWizard, self).accept()

        def failed(exc: BaseException) -> None:
            self.committing = False
            self.print_after_commit = False
            self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
            self.show_failure(exc)

        self.ctx.ops.run(
            lambda: ui_wizards.commit_track(store, case_id, data),
            on_success=done,
            on_failure=failed,
            write=True,
        )

    def reject(self) -> None:
        """Cancel: keep the draft (with whatever is on the screen), commit nothing."""
        self.save_draft()
        super().reject()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(tr(self.spec.title))
        for page in self.step_pages:
            page.retranslate()
        self.documents_page.retranslate()
        if self.eligibility_page is not None:
            self.eligibility_page.retranslate()
        self.finish_page.retranslate()


def _on_file_text(fact: str, held: str) -> str:
    """A person's value of ``fact`` as stored, as the wizard's field is filled in: a birth
    date as DD/MM/YYYY, year AD (or the month or year alone, as recorded); a nationality
    as the country's name."""
    return nationality_name(held) if fact == ui_wizards.NATIONALITY else birth_text(held)


def _account_text(employer: employers.KnownEmployer) -> str:
    """An employer's SSO account as the completions show it, its branch after a slash
    unless it is the head office."""
    if not employer.sso_account:
        return ""
    if employer.sso_branch and not ids.is_head_office(employer.sso_branch):
        return f"{employer.sso_account} / {employer.sso_branch}"
    return employer.sso_account
