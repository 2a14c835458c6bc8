"""The case file: one person's whole story, in tabs.

Person (names in each script side by side, Zawgyi detected and offered for conversion;
contact details corrected in place; sex, birth date, nationality and arrival date shown in
the reader's calendar and corrected in an editor that takes dates as the New case form
does, :mod:`desktop.ui.person_details`; each changed detail its own change for sync;
the person's consents recorded and withdrawn, :mod:`desktop.ui.consent_box`),
identity documents with history and scans, work (jobs and contribution months,
:mod:`desktop.ui.work_tab`), tracks (enrollment and claims with their steps and
checklist, attachments with a preview), append-only notes, the eligibility panel, and the
journey timeline. Opened on a synced row (a conflict or a refused change on the Sync
page, :class:`desktop.services.row_context.Place`), it shows the tab that holds the row,
with its claim, step, document, job, month or note selected. Every read and write runs
through the operation helper; after a write the case file is read again. An editor is
emptied only once its write succeeded, so a refused name, number or note (one longer than
the sync server accepts, say) stays there to be mended; one-line editors take no more than
their detail holds (:func:`desktop.ui.limits.limit_to`).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import ids, text
from desktop.domain.errors import UserError
from desktop.domain.names import NAME_KINDS
from desktop.domain.validation import Issue
from desktop.services import (
    attachments,
    cases,
    exporter,
    people,
    printing,
    row_context,
    steps,
    ui_queries,
)
from desktop.services.cases import CaseFile, StepView, TrackView
from desktop.services.people import DocumentView
from desktop.ui.consent_box import ConsentBox
from desktop.ui.context import AppContext, Retranslating
from desktop.ui.dialogs import DialogService
from desktop.ui.eligibility_text import caveats, explain
from desktop.ui.i18n import (
    current,
    format_date,
    format_moment,
    format_partial_date,
    issue_text,
    tr,
)
from desktop.ui.limits import limit_to
from desktop.ui.models import Column, RowTableModel, fit_columns
from desktop.ui.person_details import (
    PersonDetailsEditor,
    fill_choices,
    marital_name,
    nationality_name,
    title_name,
)
from desktop.ui.step_fields import StepEditor, editor_date
from desktop.ui.timeline import JourneyTimeline
from desktop.ui.work_tab import WorkTab
from desktop.ui.workflow_specs import FieldSpec, StepSpec, choice_text, label, load_specs
from desktop.ui.wrap import WrapDelegate, WrapLabel, text_width

# The tabs, in order, by the names their titles (ui.case.tab.*) and a row's Place use.
TABS = ("person", "documents", "work", "tracks", "notes", "eligibility", "journey")
# the person's contact details a caseworker corrects in place (``lww`` fields: the
# latest edit wins on every device)
CONTACT_FIELDS = ("phone", "line_id", "address_th", "address_home")
# The states a step may be moved on to, each behind its own button shown when it may.
MOVE_STATES = ("in_progress", "ready", "submitted", "approved", "rejected", "paid", "appealed")
# What an issue of the workflow engine names: a step's field, a document or a form.
_ISSUE_SUBJECT = {"workflow.document_missing": "doc", "workflow.form_not_printed": "form"}
# Every kind the number check knows (ids.DocumentKind); the border pass of a border-pass
# enrollment and the SSO number of a worker enrolled included.
DOCUMENT_KINDS = (
    "pink_card",
    "passport",
    "thai_id",
    "ci",
    "border_pass",
    "work_permit",
    "sso_number",
)

# An identity document's dates and status as the Documents tab's "Details…" corrects them.
DOCUMENT_DETAILS = StepSpec(
    "document_details",
    (
        FieldSpec("document_issued_on", "date", past=True),
        FieldSpec("document_expires_on", "date"),
        FieldSpec("document_status", "choice", required=True, choices=people.DOCUMENT_STATUSES),
    ),
)


def document_columns() -> list[Column]:
    return [
        Column("ui.doc.col.kind", lambda d: tr(f"ui.document_kind.{d.kind}")),
        Column("ui.doc.col.number", lambda d: d.number),
        Column("ui.doc.col.issued", lambda d: format_date(d.issued_on)),
        Column("ui.doc.col.expires", lambda d: format_date(d.expires_on)),
        Column("ui.doc.col.status", lambda d: label("choice", d.status or "current")),
    ]


def checklist_columns() -> list[Column]:
    return [
        Column("ui.track.col.document", lambda c: label("doc", c.doc_key)),
        Column("ui.track.col.required", lambda c: tr("ui.yes") if c.required else tr("ui.no")),
        Column("ui.track.col.status", lambda c: tr(f"ui.checklist_status.{c.status}")),
        Column("ui.track.col.files", lambda c: len(c.attachment_ids)),
    ]


def _scrolled(widget: QWidget) -> QScrollArea:
    """``widget`` in a scroll area, for a tab that may be taller than the screen."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(widget)
    return scroll


def _step_values(found: tuple[StepSpec, StepView]) -> str:
    """The fields a step holds, "Submitted on: 01/03/2026 · SSO office: Mae Sot", each
    named and shown as the wizard shows it (dates in the Buddhist Era in Thai)."""
    spec, view = found
    shown = []
    for field in spec.fields:
        value = view.data.get(field.name)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            text_ = label("choice", "true" if value else "false")
        elif field.type == "date":
            text_ = format_partial_date(str(value))
        elif field.type in ("choice", "province"):
            text_ = choice_text(field, str(value))
        else:
            text_ = str(value)
        shown.append(f"{label('field', field.name)}: {text_}")
    return " · ".join(shown)


def _blocker_text(found: Issue) -> str:
    """What stands before a step's ``ready``: the field, document or form, and why."""
    subject = label(_ISSUE_SUBJECT.get(found.code, "field"), found.field)
    return f"{subject}: {issue_text(found)}"


def _show_refusal(dialogs: DialogService, exc: BaseException) -> None:
    """A refused write in words; what a step still needs is named as its hint names it
    (four documents missing are four names, not four times the same sentence). A bug has
    been reported as one (see :mod:`desktop.ui.operations`): nothing more is said."""
    if not isinstance(exc, UserError):
        return
    message = exc.translated(current())
    if exc.issues:
        message += "\n" + "\n".join(
            _blocker_text(i) if i.code.startswith("workflow.") else issue_text(i)
            for i in exc.issues
        )
    dialogs.error(message)


def changed_tabs(shown: CaseFile, now: CaseFile) -> list[str]:
    """The tabs (of :data:`TABS`) whose content differs between two readings of a case
    file; a change of the case's own details alone (its status, its number) names none."""
    person = [f for f in fields(shown.person) if f.name != "documents"]
    parts = {
        "person": [
            *(getattr(shown.person, f.name) != getattr(now.person, f.name) for f in person),
            shown.consents != now.consents,
        ],
        "documents": [
            shown.person.documents != now.person.documents,
            shown.attachments != now.attachments,
        ],
        "work": [shown.employments != now.employments, shown.contributions != now.contributions],
        "tracks": [shown.tracks != now.tracks],
        "notes": [shown.notes != now.notes],
    }
    return [tab for tab in TABS if any(parts.get(tab, ()))]


class CaseFileView(Retranslating):
    """One case; ``wizard_requested(workflow key, case id)`` asks the window for a wizard."""

    wizard_requested = Signal(str, str)
    # case id and the benefit of the claim the packet is about ("": the case's main one)
    print_requested = Signal(str, str)
    back_requested = Signal()
    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.case: CaseFile | None = None
        self.journey: list[ui_queries.JourneyEvent] = []
        self.panel: list[ui_queries.EligibilityLine] = []
        self.preview: QLabel | None = None

        self.back_button = QPushButton()
        self.back_button.clicked.connect(self.back_requested)
        self.title = QLabel()
        self.title.setObjectName("case_title")
        self.title.setStyleSheet("font-size: 16pt; font-weight: bold")
        # a long name is cut (its whole text in the tooltip), never widening the window
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.workflow_box = QComboBox()
        self.start_button = QPushButton()
        self.start_button.clicked.connect(self._start_wizard)
        self.print_button = QPushButton()
        self.print_button.setObjectName("print_packet")
        self.print_button.clicked.connect(self._print_packet)
        # The track choice and its buttons sit beside the title when the whole title fits
        # there, else on a row below (_place_controls): beside them, a 1024-pixel window
        # left room for part of the case number (in Burmese) and none of the name.
        self.controls = QWidget()
        controls = QHBoxLayout(self.controls)
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.workflow_box)
        controls.addWidget(self.start_button)
        controls.addWidget(self.print_button)
        self.header = QHBoxLayout()
        self.header.addWidget(self.back_button)
        self.header.addWidget(self.title, 1)
        self.header.addWidget(self.controls)
        self.below_header = QHBoxLayout()
        self.below_header.addStretch(1)
        # a sync brought changes to the case shown (check_after_sync): said, with a button
        # that shows them; never reloaded under the person's hands (an editor may hold
        # what they are typing)
        self.sync_changed = QWidget()
        self.sync_changed.setObjectName("sync_changed")
        changed = QHBoxLayout(self.sync_changed)
        changed.setContentsMargins(0, 0, 0, 0)
        self.sync_changed_label = QLabel()
        self.sync_changed_label.setWordWrap(True)
        self.sync_changed_label.setStyleSheet("color: #8a4b00; font-weight: bold")
        self.sync_changed_button = QPushButton()
        self.sync_changed_button.clicked.connect(self.reload)
        changed.addWidget(self.sync_changed_label, 1)
        changed.addWidget(self.sync_changed_button)
        self.sync_changed.hide()
        # what the note says: its message key and parameters (``tabs``: keys of TABS)
        self._sync_note: tuple[str, dict[str, Any]] | None = None

        self.tabs = QTabWidget()
        # scrolled: with its details editor open it is taller than a 768-pixel screen
        self.tabs.addTab(_scrolled(self._person_tab()), "")
        self.tabs.addTab(self._documents_tab(), "")
        self.work = WorkTab(ctx, self._write, self._work_editor, _clipboard_text)
        self.tabs.addTab(self.work, "")
        # scrolled too: a step's list of what it still needs has a line per missing thing
        self.tabs.addTab(_scrolled(self._tracks_tab()), "")
        self.tabs.addTab(self._notes_tab(), "")
        self.tabs.addTab(self._eligibility_tab(), "")
        self.tabs.addTab(self._journey_tab(), "")

        layout = QVBoxLayout(self)
        layout.addLayout(self.header)
        layout.addLayout(self.below_header)
        layout.addWidget(self.sync_changed)
        layout.addWidget(self.tabs, 1)
        self.retranslate()

    # -- building the tabs ---------------------------------------------------------------

    def _person_tab(self) -> QWidget:
        page = QWidget()
        self.names_grid = QGridLayout()
        self.name_boxes: dict[str, QGroupBox] = {}
        self.name_labels: dict[str, QLabel] = {}
        for column, kind in enumerate(NAME_KINDS):
            box = QGroupBox()
            label = WrapLabel()
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            QVBoxLayout(box).addWidget(label)
            self.name_boxes[kind] = box
            self.name_labels[kind] = label
            self.names_grid.addWidget(box, 0, column)
        self.details = WrapLabel()
        self.edit_details_button = QPushButton()
        self.edit_details_button.setObjectName("edit_details")
        self.edit_details_button.clicked.connect(self.edit_details)
        # the person's data handed to them on request (PDPA): beside their details
        self.export_button = QPushButton()
        self.export_button.setObjectName("export_person")
        self.export_button.clicked.connect(self.export_person)
        person_buttons = QVBoxLayout()
        person_buttons.addWidget(self.edit_details_button)
        person_buttons.addWidget(self.export_button)
        person_buttons.addStretch(1)
        details_row = QHBoxLayout()
        details_row.addWidget(self.details, 1)
        details_row.addLayout(person_buttons)
        self.details_editor = PersonDetailsEditor()
        self.details_editor.save_button.clicked.connect(self.save_details)
        self.new_name = limit_to(QLineEdit(), "person_name", "full_name")
        self.new_name.setObjectName("new_name")
        self.new_name.textChanged.connect(self._name_typed)
        self.new_name_kind = QComboBox()
        self.add_name_button = QPushButton()
        self.add_name_button.clicked.connect(self.add_name)
        self.remove_name_button = QPushButton()
        self.remove_name_button.setObjectName("remove_name")
        self.remove_name_button.clicked.connect(self.remove_name)
        self.zawgyi_hint = QLabel()
        self.zawgyi_hint.setStyleSheet("color: #e65100")
        row = QHBoxLayout()
        row.addWidget(self.new_name, 1)
        row.addWidget(self.new_name_kind)
        row.addWidget(self.add_name_button)
        row.addWidget(self.remove_name_button)
        self.contact_box = QGroupBox()
        contact = QFormLayout(self.contact_box)
        self.contact_edits: dict[str, QLineEdit] = {}
        self.contact_labels: dict[str, QLabel] = {}
        for name in CONTACT_FIELDS:
            edit = limit_to(QLineEdit(), "person", name)
            edit.setObjectName(f"contact_{name}")
            self.contact_edits[name] = edit
            self.contact_labels[name] = QLabel()
            contact.addRow(self.contact_labels[name], edit)
        self.save_contact_button = QPushButton()
        self.save_contact_button.clicked.connect(self.save_contact)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_contact_button)
        contact.addRow(save_row)
        self.consent_box = ConsentBox(self.ctx, self._write)
        layout = QVBoxLayout(page)
        layout.addLayout(self.names_grid)
        layout.addLayout(details_row)
        layout.addWidget(self.details_editor)
        layout.addLayout(row)
        layout.addWidget(self.zawgyi_hint)
        layout.addWidget(self.contact_box)
        layout.addWidget(self.consent_box, 1)
        return page

    def _documents_tab(self) -> QWidget:
        page = QWidget()
        self.documents_model = RowTableModel(document_columns())
        self.documents_view = QTableView()
        self.documents_view.setModel(self.documents_model)
        fit_columns(self.documents_view)
        self.doc_kind = QComboBox()
        self.doc_number = limit_to(QLineEdit(), "identity_document", "number")
        self.doc_number.setObjectName("doc_number")
        self.add_doc_button = QPushButton()
        self.add_doc_button.clicked.connect(self.add_document)
        self.scan_button = QPushButton()
        self.scan_button.clicked.connect(self._attach_scan)
        self.doc_details_button = QPushButton()
        self.doc_details_button.setObjectName("document_details")
        self.doc_details_button.clicked.connect(self.edit_document)
        self.remove_doc_button = QPushButton()
        self.remove_doc_button.setObjectName("remove_document")
        self.remove_doc_button.clicked.connect(self.remove_document)
        self.documents_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.documents_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.doc_issues = QLabel()
        self.doc_issues.setStyleSheet("color: #c62828")
        row = QHBoxLayout()
        row.addWidget(self.doc_kind)
        row.addWidget(self.doc_number, 1)
        row.addWidget(self.add_doc_button)
        row.addWidget(self.scan_button)
        row.addWidget(self.doc_details_button)
        row.addWidget(self.remove_doc_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.documents_view, 1)
        layout.addLayout(row)
        layout.addWidget(self.doc_issues)
        return page

    def _tracks_tab(self) -> QWidget:
        page = QWidget()
        self.track_list = QListWidget()
        self.track_list.setObjectName("tracks")
        # "Work injury (Workmen's Compensation) — In progress" wraps: its state stays in sight
        self.track_list.setWordWrap(True)
        self.track_list.setItemDelegate(WrapDelegate(self.track_list))
        self.track_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.track_list.setResizeMode(QListView.ResizeMode.Adjust)
        self.track_list.currentRowChanged.connect(self._track_selected)
        self.steps_list = QListWidget()
        self.steps_list.setObjectName("steps")
        self.steps_list.currentRowChanged.connect(self._step_selected)
        self.step_data = WrapLabel()  # what the selected step holds, as the wizard names it
        self.step_data.setObjectName("step_data")
        self.step_hint = WrapLabel()
        self.step_hint.setObjectName("step_hint")
        self.step_hint.setStyleSheet("color: #c62828")
        self.track_hint = WrapLabel()
        self.track_hint.setObjectName("track_hint")
        moves = QHBoxLayout()
        self.move_buttons: dict[str, QPushButton] = {}
        for state in MOVE_STATES:
            button = QPushButton()
            button.setObjectName(f"move_{state}")
            button.clicked.connect(lambda _checked=False, to=state: self.move_step(to))
            self.move_buttons[state] = button
            moves.addWidget(button)
        moves.addStretch(1)
        self.edit_step_button = QPushButton()
        self.edit_step_button.setObjectName("edit_step")
        self.edit_step_button.clicked.connect(self.edit_step)
        self.step_editor: StepEditor | None = None
        # a job's end, its employer, a document's details: one dialog open at a time
        self.work_editor: StepEditor | None = None
        moves.addWidget(self.edit_step_button)
        self.reopen_to = QComboBox()
        self.reopen_to.setObjectName("reopen_to")
        self.reopen_button = QPushButton()
        self.reopen_button.setObjectName("reopen_step")
        self.reopen_button.clicked.connect(self.reopen_step)
        moves.addWidget(self.reopen_to)
        moves.addWidget(self.reopen_button)
        self.checklist_model = RowTableModel(checklist_columns())
        self.checklist_view = QTableView()
        self.checklist_view.setModel(self.checklist_model)
        fit_columns(self.checklist_view, stretch=0)  # the document's name
        self.attach_button = QPushButton()
        self.attach_button.clicked.connect(self._attach_to_checklist)
        self.preview_button = QPushButton()
        self.preview_button.clicked.connect(self._preview_selected)
        self.withdraw_button = QPushButton()  # a claim that will not go on, closed
        self.withdraw_button.setObjectName("withdraw_track")
        self.withdraw_button.clicked.connect(self.withdraw_track)
        buttons = QHBoxLayout()
        buttons.addWidget(self.withdraw_button)
        buttons.addStretch(1)
        buttons.addWidget(self.attach_button)
        buttons.addWidget(self.preview_button)
        right = QVBoxLayout()
        right.addWidget(self.steps_list, 2)
        right.addWidget(self.step_data)
        right.addWidget(self.step_hint)
        right.addLayout(moves)
        right.addWidget(self.track_hint)
        right.addWidget(self.checklist_view, 2)
        right.addLayout(buttons)
        layout = QHBoxLayout(page)
        layout.addWidget(self.track_list, 1)
        layout.addLayout(right, 3)
        self.choices: tuple[steps.StepChoice, ...] = ()
        self._step_selected(-1)  # no step yet: no buttons (the window's width counts them)
        return page

    def _notes_tab(self) -> QWidget:
        page = QWidget()
        self.notes_list = QListWidget()
        self.notes_list.setWordWrap(True)
        self.notes_list.setItemDelegate(WrapDelegate(self.notes_list))
        self.note_edit = QPlainTextEdit()  # no limit here: add_note refuses a note too long
        self.note_edit.setObjectName("note_edit")
        self.note_edit.setMaximumHeight(80)
        self.add_note_button = QPushButton()
        self.add_note_button.clicked.connect(self.add_note)
        layout = QVBoxLayout(page)
        layout.addWidget(self.notes_list, 1)
        layout.addWidget(self.note_edit)
        layout.addWidget(self.add_note_button, 0, Qt.AlignmentFlag.AlignRight)
        return page

    def _eligibility_tab(self) -> QWidget:
        self.eligibility_text = WrapLabel()
        self.eligibility_text.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.eligibility_text.setObjectName("eligibility_panel")
        return _scrolled(self.eligibility_text)

    def _journey_tab(self) -> QWidget:
        self.timeline = JourneyTimeline()
        return _scrolled(self.timeline)

    # -- loading -------------------------------------------------------------------------

    def load(self, case_id: str, place: row_context.Place | None = None) -> None:
        """Read the case file, its journey and eligibility off the GUI thread; then show
        ``place`` (where it holds a row) if given."""
        store, today = self.ctx.store, self.ctx.today()

        def read() -> tuple[CaseFile, list[Any], list[Any]]:
            case = cases.get_case_file(store, case_id)
            return case, ui_queries.journey(case, today), ui_queries.eligibility_panel(case, today)

        def refused(exc: BaseException) -> None:
            # a case file that cannot be read (its person merged into another office's):
            # said, and back to the list, not a page of another case left to edit
            if isinstance(exc, UserError):
                self.ctx.dialogs.error(exc.translated(current()))
            self.back_requested.emit()

        self.ctx.ops.run(
            read,
            on_success=lambda found: self._show(found, place),
            on_failure=refused,
            key="case_file",
        )

    def reload(self) -> None:
        if self.case is not None:
            self.load(self.case.id)

    def check_after_sync(self) -> None:
        """After a sync that brought rows: read the case shown again, off the GUI thread,
        and say so when it differs from what is on screen (a colleague's edit), when a
        coordinator merged it into another case (which the button then shows), or when
        it is no longer on this laptop."""
        shown = self.case
        if shown is None:
            return
        store = self.ctx.store

        def read() -> CaseFile | None:
            try:
                return cases.get_case_file(store, shown.id)
            except UserError:
                return None  # taken off this laptop (an office the account left)

        self.ctx.ops.run(
            read,
            on_success=lambda now: self._compare(shown, now),
            key="case_file_after_sync",
            owner=self,
        )

    def _compare(self, shown: CaseFile, now: CaseFile | None) -> None:
        if self.case is not shown or now == shown:  # another case or a reload since
            return
        if now is None:
            self._sync_note = ("ui.case.sync_removed", {})
        elif now.id != shown.id:  # merged into another case, which the button shows
            self._sync_note = ("ui.case.sync_merged", {"number": now.number})
        elif tabs := changed_tabs(shown, now):
            self._sync_note = ("ui.case.sync_changed_in", {"tabs": tabs})
        else:  # the case's own details alone
            self._sync_note = ("ui.case.sync_changed", {})
        self.sync_changed_button.setVisible(now is not None)
        self._say_sync_changed()
        self.sync_changed.show()

    def _say_sync_changed(self) -> None:
        if self._sync_note is not None:
            key, params = self._sync_note
            if "tabs" in params:  # named in the reader's language
                params = {"tabs": ", ".join(tr(f"ui.case.tab.{t}") for t in params["tabs"])}
            self.sync_changed_label.setText(tr(key, **params))
        self.sync_changed_button.setText(tr("ui.case.sync_show_changes"))

    def _show(
        self, result: tuple[CaseFile, list[Any], list[Any]], place: row_context.Place | None
    ) -> None:
        self.case, self.journey, self.panel = result
        self.sync_changed.hide()
        self._sync_note = None
        self.timeline.set_events(self.journey, self.ctx.today())
        self.retranslate()
        if place is not None:
            self.show_place(place)
        self.loaded.emit()

    def show_place(self, place: row_context.Place) -> None:
        """Show the tab that holds a row, with its claim selected on the Tracks tab and the
        row itself in its list (a step, a checklist item, a document, a job, a month, a
        note); what the case file no longer holds is left unselected."""
        if self.case is None:
            return
        self.tabs.setCurrentIndex(TABS.index(place.tab) if place.tab in TABS else 0)
        track = next((i for i, t in enumerate(self.case.tracks) if t.id == place.track_id), -1)
        if track >= 0:
            self.track_list.setCurrentRow(track)
        if place.row_id is None:
            return
        for i in range(self.steps_list.count()):
            if self.steps_list.item(i).data(Qt.ItemDataRole.UserRole) == place.row_id:
                self.steps_list.setCurrentRow(i)
                return
        for view, model in (
            (self.checklist_view, self.checklist_model),
            (self.documents_view, self.documents_model),
            (self.work.employment_view, self.work.employment_model),
            (self.work.contribution_view, self.work.contribution_model),
        ):
            ids = [row.id for row in model.rows]
            if place.row_id in ids:
                view.selectRow(ids.index(place.row_id))
                return
        notes = [note.id for note in self.case.notes]
        if place.row_id in notes:
            self.notes_list.setCurrentRow(notes.index(place.row_id))

    def _after_write(self, _result: object = None) -> None:
        self.reload()

    def _write(
        self,
        fn: Any,
        done: Callable[[], None] | None = None,
        failed: Callable[[], None] | None = None,
    ) -> None:
        """Run the write ``fn``; once it succeeded, call ``done`` (empty the editor it came
        from) and read the case file again. A refusal is shown and leaves the editor as is
        (``failed`` is called after it)."""

        def succeeded(result: object) -> None:
            if done is not None:
                done()
            self._after_write(result)

        def refused(exc: BaseException) -> None:
            _show_refusal(self.ctx.dialogs, exc)
            if failed is not None:
                failed()

        self.ctx.ops.run(fn, on_success=succeeded, on_failure=refused, write=True)

    # -- actions -------------------------------------------------------------------------

    def _name_typed(self, value: str) -> None:
        if value and text.looks_like_zawgyi(value):
            self.zawgyi_hint.setText(tr("ui.person.zawgyi_detected"))
        else:
            self.zawgyi_hint.setText("")

    def add_name(self) -> None:
        if self.case is None:
            return
        value = self.new_name.text()
        if not text.clean(value):
            self.ctx.dialogs.error(tr("error.name_required"))
            return
        convert = False
        if text.looks_like_zawgyi(value):
            try:
                converted = text.zawgyi_to_unicode(value)
            except text.ZawgyiConversionError:  # refused as the wizard and importer do
                self.ctx.dialogs.error(tr("text.zawgyi_unconvertible"))
                return
            convert = self.ctx.dialogs.confirm(tr("ui.person.zawgyi_confirm", converted=converted))
        name = people.NameInput(
            value, kind=str(self.new_name_kind.currentData() or "native"), convert_zawgyi=convert
        )
        store, person_id = self.ctx.store, self.case.person.id
        self._write(lambda: people.add_name(store, person_id, name), self.new_name.clear)

    def save_contact(self) -> None:
        """Write the contact details that differ from the stored ones (cleaned; an empty
        box clears the detail). Nothing changed: nothing is written."""
        if self.case is None:
            return
        person = self.case.person
        changes: dict[str, object] = {}
        for name, edit in self.contact_edits.items():
            value = text.clean(edit.text()) or None
            if value != getattr(person, name):
                changes[name] = value
        if not changes:
            return
        store, person_id = self.ctx.store, person.id
        self._write(lambda: people.update_person(store, person_id, **changes))

    def edit_details(self) -> None:
        if self.case is not None:
            self.details_editor.open_for(self.case.person)

    def save_details(self) -> None:
        """Write the sex, birth date, nationality and arrival date that differ from the
        stored ones; a refused date is shown in the editor and nothing is written."""
        if self.case is None:
            return
        person = self.case.person
        changes = self.details_editor.changes(person, self.ctx.today())
        if changes is None:
            return
        if not changes:
            self.details_editor.close_editor()
            return
        store, person_id = self.ctx.store, person.id
        self._write(
            lambda: people.update_person(store, person_id, **changes),
            self.details_editor.close_editor,
        )

    def add_document(self) -> None:
        if self.case is None:
            return
        kind = str(self.doc_kind.currentData())
        number = self.doc_number.text()
        found = ids.validate_document_number(kind, number)
        self.doc_issues.setText("\n".join(issue_text(i) for i in found))
        if any(i.is_error for i in found):
            return
        store, person_id = self.ctx.store, self.case.person.id
        doc = people.DocumentInput(kind=kind, number=number)
        self._write(lambda: people.add_document(store, person_id, doc), self.doc_number.clear)

    def remove_name(self) -> None:
        """Remove one of the person's names, entered by mistake: chosen from a list, then
        confirmed (the last name is refused by the store)."""
        if self.case is None:
            return
        names = self.case.person.names
        shown = [f"{tr(f'ui.name_kind.{n.kind}')}: {n.full_name}" for n in names]
        title = tr("ui.person.remove_name")
        chosen = self.ctx.dialogs.choose(title, tr("ui.person.remove_which"), shown)
        if chosen is None:
            return
        name = names[chosen]
        if not self.ctx.dialogs.confirm(tr("ui.person.remove_confirm", name=name.full_name)):
            return
        store, name_id = self.ctx.store, name.id
        self._write(lambda: people.remove_name(store, name_id))

    def edit_document(self) -> None:
        """Correct when the selected identity document was issued and expires, and whether
        it is current (a passport lost, a pink card replaced), in the step editor."""
        doc = self._selected_document()
        if doc is None:
            return
        held = {
            "document_issued_on": doc.issued_on.isoformat() if doc.issued_on else "",
            "document_expires_on": doc.expires_on.isoformat() if doc.expires_on else "",
            "document_status": doc.status or "current",
        }
        store, document_id = self.ctx.store, doc.id

        def write(values: dict[str, Any]) -> Callable[[], object]:
            issued = editor_date(values.get("document_issued_on"))
            expires = editor_date(values.get("document_expires_on"))
            status = str(values.get("document_status") or "current")
            return lambda: people.update_document(
                store, document_id, issued_on=issued, expires_on=expires, status=status
            )

        self.doc_issues.setText("")
        self._work_editor(DOCUMENT_DETAILS, held, write)

    def _selected_document(self) -> DocumentView | None:
        """The document selected on the Documents tab; None (saying to select one) else."""
        row = self.documents_view.currentIndex().row()
        if self.case is None or row < 0:
            self.doc_issues.setText(tr("ui.doc.select_first"))
            return None
        return self.documents_model.row_at(row)  # type: ignore[no-any-return]

    def remove_document(self) -> None:
        """Remove the selected identity document, entered by mistake, once the caseworker
        agrees; its scans stay in the case file."""
        doc = self._selected_document()
        if doc is None:
            return
        kind = tr(f"ui.document_kind.{doc.kind}")
        if not self.ctx.dialogs.confirm(tr("ui.doc.remove_confirm", kind=kind, number=doc.number)):
            return
        self.doc_issues.setText("")
        store, document_id = self.ctx.store, doc.id
        self._write(lambda: people.remove_document(store, document_id))

    def _attach_scan(self) -> None:
        if self.case is None:
            return
        row = self.documents_view.currentIndex().row()
        path = self.ctx.dialogs.open_file(tr("ui.wizard.choose_file"))
        if path is None:
            return
        document_id = self.documents_model.row_at(row).id if row >= 0 else None
        store, person_id = self.ctx.store, self.case.person.id
        self.attach_file(
            path,
            lambda progress: attachments.add_attachment(
                store, path, person_id=person_id, document_id=document_id, progress=progress
            ),
        )

    def attach_file(self, path: Path, fn: Any) -> None:
        """Store a scan with progress (cancellable); refusals come back as a message."""

        def run(progress: Any) -> str:
            return str(fn(lambda done, total: progress.report(done, total)))

        self.ctx.ops.run(
            run,
            progress=True,
            write=True,
            on_success=self._after_write,
            on_failure=lambda exc: _show_refusal(self.ctx.dialogs, exc),
        )

    def _attach_to_checklist(self) -> None:
        item = self._selected_checklist_item()
        if item is None or self.case is None:
            return
        path = self.ctx.dialogs.open_file(tr("ui.wizard.choose_file"))
        if path is not None:
            self.attach_to_checklist(item.id, path)

    def attach_to_checklist(self, item_id: str, path: Path) -> None:
        assert self.case is not None
        store, case_id = self.ctx.store, self.case.id
        self.attach_file(
            path,
            lambda progress: attachments.add_attachment(
                store, path, case_id=case_id, checklist_item_id=item_id, progress=progress
            ),
        )

    def _selected_checklist_item(self) -> cases.ChecklistView | None:
        row = self.checklist_view.currentIndex().row()
        if row < 0:
            row = 0
        if row >= self.checklist_model.rowCount():
            return None
        item: cases.ChecklistView = self.checklist_model.row_at(row)
        return item

    def _preview_selected(self) -> None:
        item = self._selected_checklist_item()
        if item is None or not item.attachment_ids or self.case is None:
            return
        wanted = item.attachment_ids[0]
        found = next((a for a in self.case.attachments if a.id == wanted), None)
        if found is not None:
            self.preview_attachment(found.sha256)

    def preview_attachment(self, sha256: str) -> None:
        """Decrypt the scan off the GUI thread and show it in a small window."""
        store = self.ctx.store

        def shown(data: bytes) -> None:
            pixmap = QPixmap()
            if not pixmap.loadFromData(data):
                self.ctx.dialogs.error(tr("ui.track.not_an_image"))
                return
            self.preview = QLabel()
            self.preview.setWindowTitle(tr("ui.track.preview"))
            self.preview.setPixmap(pixmap.scaled(600, 600, Qt.AspectRatioMode.KeepAspectRatio))
            self.preview.show()

        self.ctx.ops.run(lambda: attachments.read_attachment(store, sha256), on_success=shown)

    def _work_editor(
        self,
        spec: StepSpec,
        held: dict[str, str],
        write: Callable[[dict[str, Any]], Callable[[], object]],
    ) -> None:
        """A dialog of ``spec``'s fields started with ``held``; once they validate, ``write``
        of them is run, and the dialog closes when the store has it (a refusal leaves it
        open to be corrected)."""
        editor = StepEditor(spec, held, self.ctx.today(), self, self.ctx.dialogs.confirm)
        editor.saved.connect(lambda values: self._write(write(values), editor.accept))
        editor.finished.connect(lambda _result: self._editor_closed(editor))
        self.work_editor = editor
        editor.open()

    def add_note(self) -> None:
        if self.case is None:
            return
        body = self.note_edit.toPlainText()
        if not text.clean(body):
            self.ctx.dialogs.error(tr("error.note_empty"))
            return
        store, case_id = self.ctx.store, self.case.id
        self._write(lambda: cases.add_note(store, case_id, body), self.note_edit.clear)

    def _start_wizard(self) -> None:
        if self.case is not None and self.workflow_box.currentData():
            self.wizard_requested.emit(str(self.workflow_box.currentData()), self.case.id)

    def _print_packet(self) -> None:
        """Preview the case's packet; of a case with two open claims (sickness and
        maternity at once), the one the caseworker chooses."""
        if self.case is None:
            return
        claims = printing.open_claims(self.case)
        benefit = ""
        if len(claims) > 1:
            chosen = self.ctx.dialogs.choose(
                tr("ui.printing.print_packet"),
                tr("ui.printing.which_claim"),
                [tr(f"rule.benefit.{b}") for b in claims],
            )
            if chosen is None:
                return
            benefit = claims[chosen]
        self.print_requested.emit(self.case.id, benefit)

    def export_person(self) -> None:
        """Ask where to write everything held about this person (their PDPA request) and
        whether their scans go too (they leave the store decrypted), write it off the GUI
        thread, then say where it went."""
        if self.case is None:
            return
        path = self.ctx.dialogs.save_file(
            tr("ui.case.export_person_title"), f"{self.case.number}-person.json"
        )
        if path is None:
            return
        files = self.ctx.dialogs.confirm(tr("ui.case.export_person_files"))
        store, case_id = self.ctx.store, self.case.id
        self.ctx.ops.run(  # the chooser asked before replacing a file: overwrite
            lambda: exporter.export_person(store, case_id, Path(path), overwrite=True, files=files),
            on_success=lambda done: self.ctx.dialogs.info(exporter.person_export_text(done, tr)),
            on_failure=lambda exc: _show_refusal(self.ctx.dialogs, exc),
            owner=self,
        )

    def _track_selected(self, row: int) -> None:
        self.steps_list.blockSignals(True)
        self.steps_list.clear()
        self.steps_list.blockSignals(False)
        if self.case is None or not 0 <= row < len(self.case.tracks):
            self.checklist_model.set_rows([])
            self.track_hint.setText("")
            self.choices = ()
            self.withdraw_button.setEnabled(False)
            self._step_selected(-1)
            return
        track = self.case.tracks[row]
        self.checklist_model.set_rows(track.checklist)
        withdrawn = track.outcome == cases.WITHDRAWN
        self.withdraw_button.setText(tr("ui.track.resume" if withdrawn else "ui.track.withdraw"))
        self.withdraw_button.setEnabled(withdrawn or track.state != "closed")
        self.choices = steps.step_choices(track, self.ctx.today())
        chosen = {c.step_id: c for c in self.choices}
        current = 0
        self.steps_list.blockSignals(True)
        for i, view in enumerate(track.steps):
            choice = chosen.get(view.id)
            shown = f"{label('step', view.key)} — {tr('ui.step_state.' + view.state)}"
            item = QListWidgetItem(f"{view.position + 1}. {shown}")
            item.setData(Qt.ItemDataRole.UserRole, view.id)
            if choice is not None and choice.current:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                current = i
            if choice is not None and not choice.applies:
                item.setForeground(QColor("#9e9e9e"))
            self.steps_list.addItem(item)
        self.steps_list.blockSignals(False)
        waiting = printing.forms_to_print(track)  # steps that wait for their forms printed
        lines = []
        if waiting:
            forms = ", ".join(label("form", f) for f in waiting)
            lines.append("<b>" + tr("ui.track.forms_to_print", forms=forms) + "</b>")
        if track.state == "closed":
            outcome = tr("ui.step_state." + track.outcome) if track.outcome else "—"
            lines.append(tr("ui.track.closed", outcome=outcome, on=format_date(track.decided_on)))
        self.track_hint.setText("<br>".join(lines))
        self.steps_list.setCurrentRow(current if track.steps else -1)
        self._step_selected(self.steps_list.currentRow())

    def _choice(self) -> steps.StepChoice | None:
        """What the selected step may do; None for none selected or one without a workflow."""
        item = self.steps_list.currentItem()
        step_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        return next((c for c in self.choices if c.step_id == step_id), None)

    def _step_spec(self) -> tuple[StepSpec, StepView] | None:
        """The selected step's fields as the wizard has them, and what it holds."""
        choice, track = self._choice(), self._track()
        spec = load_specs().get(track.workflow or "") if track is not None else None
        if choice is None or track is None or spec is None:
            return None
        step = next((s for s in spec.steps if s.key == choice.key), None)
        view = next((v for v in track.steps if v.id == choice.step_id), None)
        return (step, view) if step is not None and view is not None else None

    def _track(self) -> TrackView | None:
        row = self.track_list.currentRow()
        tracks = self.case.tracks if self.case is not None else ()
        return tracks[row] if 0 <= row < len(tracks) else None

    def _step_selected(self, _row: int) -> None:
        choice = self._choice()
        self._set_step_buttons(True)  # read again: a move may be made
        found = self._step_spec()
        editable = found is not None and any(not f.lives_elsewhere for f in found[0].fields)
        self.edit_step_button.setVisible(editable and choice is not None and choice.applies)
        for state, button in self.move_buttons.items():
            button.setVisible(choice is not None and state in choice.moves)
        targets = choice.reopen_to if choice is not None else ()
        fill_choices(self.reopen_to, [(s, tr("ui.step_state." + s)) for s in targets])
        self.reopen_to.setCurrentIndex(0)  # one step back first
        self.reopen_to.setVisible(bool(targets))
        self.reopen_button.setVisible(bool(targets))
        hint = ""
        if choice is not None and choice.blockers:
            lines = [tr("ui.step.before_ready")]
            lines += ["• " + _blocker_text(i) for i in choice.blockers]
            hint = "\n".join(lines)
        elif choice is not None and not choice.applies:
            hint = tr("ui.step.not_applicable")
        self.step_hint.setText(hint)
        self.step_data.setText(_step_values(found) if found is not None else "")

    def move_step(self, to: str) -> None:
        """Move the selected step forward to ``to`` (a button shows each move it may make)."""
        choice = self._choice()
        if choice is None or to not in choice.moves:
            return
        store, step_id, today = self.ctx.store, choice.step_id, self.ctx.today()
        self._step_write(lambda: steps.move_step(store, step_id, to, today))

    def _step_write(self, fn: Callable[[], object]) -> None:
        """One move of a step at a time: its buttons wait until the case file is read
        again (a second click on a slow laptop would be refused as a stale move)."""
        self._set_step_buttons(False)
        self._write(fn, failed=lambda: self._set_step_buttons(True))

    def _set_step_buttons(self, enabled: bool) -> None:
        for button in (*self.move_buttons.values(), self.reopen_button, self.edit_step_button):
            button.setEnabled(enabled)

    def edit_step(self) -> None:
        """Fill in or correct the selected step's fields in a dialog; saved through
        ``steps.save_fields``, the dialog closing once the store has them."""
        found = self._step_spec()
        if found is None:
            return
        spec, view = found
        editor = StepEditor(spec, view.data, self.ctx.today(), self, self.ctx.dialogs.confirm)
        store, step_id = self.ctx.store, view.id

        def save(values: dict[str, Any]) -> None:
            self._write(lambda: steps.save_fields(store, step_id, values), editor.accept)

        editor.saved.connect(save)
        editor.finished.connect(lambda _result: self._editor_closed(editor))
        self.step_editor = editor
        editor.open()

    def _editor_closed(self, editor: StepEditor) -> None:
        """A closed step or Work tab editor goes (one is made for each time it is opened)."""
        if self.step_editor is editor:
            self.step_editor = None
        if self.work_editor is editor:
            self.work_editor = None
        editor.deleteLater()

    def withdraw_track(self) -> None:
        """Close the selected track, which will not go on (the worker went home, chose not
        to claim), or resume one withdrawn (the worker came back): with the reason asked."""
        row = self.track_list.currentRow()
        if self.case is None or not 0 <= row < len(self.case.tracks):
            return
        track = self.case.tracks[row]
        resume = track.outcome == cases.WITHDRAWN
        key = "ui.track.resume" if resume else "ui.track.withdraw"
        reason = self.ctx.dialogs.ask_text(tr(key), tr(f"{key}_why"))
        if reason is None:
            return
        if not text.clean(reason):
            self.ctx.dialogs.error(
                tr("error.reason_required" if resume else "error.withdraw_reason_required")
            )
            return
        store, track_id, today = self.ctx.store, track.id, self.ctx.today()
        act = cases.resume_track if resume else cases.withdraw_track
        self._write(lambda: act(store, track_id, reason, today))

    def reopen_step(self) -> None:
        """Move the selected step back to the state chosen beside the button, with a reason."""
        choice = self._choice()
        to = str(self.reopen_to.currentData() or "")
        if choice is None or to not in choice.reopen_to:
            return
        reason = self.ctx.dialogs.ask_text(
            tr("ui.step.reopen"), tr("ui.step.reopen_reason", state=tr("ui.step_state." + to))
        )
        if reason is None:
            return
        if not text.clean(reason):
            self.ctx.dialogs.error(tr("error.reason_required"))
            return
        store, step_id = self.ctx.store, choice.step_id
        self._step_write(lambda: steps.reopen_step(store, step_id, reason, to))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_controls()

    def _place_controls(self) -> None:
        """The controls beside the title if the whole title fits beside them, else below."""
        spacing = self.header.spacing()
        room = self.header.geometry().width()  # the row's width, set before resizeEvent
        if room <= 0:
            return  # not laid out yet: a resize follows
        needed = (
            self.back_button.sizeHint().width()
            + text_width(self.title.font(), self.title.text())
            + self.controls.sizeHint().width()
            + 2 * spacing
        )
        beside = needed <= room
        if beside == (self.header.indexOf(self.controls) >= 0):
            return
        (self.below_header if beside else self.header).removeWidget(self.controls)
        (self.header if beside else self.below_header).addWidget(self.controls)

    # -- texts ---------------------------------------------------------------------------

    def retranslate(self) -> None:
        self.back_button.setText(tr("ui.case.back"))
        self._say_sync_changed()
        self.start_button.setText(tr("ui.case.start"))
        self.print_button.setText(tr("ui.printing.print_packet"))
        self.export_button.setText(tr("ui.case.export_person"))
        selected = self.workflow_box.currentData()
        self.workflow_box.clear()
        for key, spec in load_specs().items():
            self.workflow_box.addItem(tr(spec.title), key)
        self.workflow_box.setCurrentIndex(max(0, self.workflow_box.findData(selected)))
        for i, key in enumerate(TABS):
            self.tabs.setTabText(i, tr(f"ui.case.tab.{key}"))
        for kind in NAME_KINDS:
            self.name_boxes[kind].setTitle(tr(f"ui.name_kind.{kind}"))
        fill_choices(self.new_name_kind, [(k, tr(f"ui.name_kind.{k}")) for k in NAME_KINDS])
        fill_choices(self.doc_kind, [(k, tr(f"ui.document_kind.{k}")) for k in DOCUMENT_KINDS])
        self.contact_box.setTitle(tr("ui.person.contact"))
        for name, label_ in self.contact_labels.items():
            label_.setText(tr(f"ui.person.{name}"))
        self.save_contact_button.setText(tr("ui.person.save_contact"))
        self.edit_details_button.setText(tr("ui.person.edit_details"))
        self.details_editor.retranslate()
        self.consent_box.retranslate()
        self.new_name.setPlaceholderText(tr("ui.person.new_name"))
        self.add_name_button.setText(tr("ui.person.add_name"))
        self.remove_name_button.setText(tr("ui.person.remove_name"))
        self.doc_number.setPlaceholderText(tr("ui.doc.number"))
        self.add_doc_button.setText(tr("ui.doc.add"))
        self.scan_button.setText(tr("ui.doc.scan"))
        self.work.retranslate()
        self.remove_doc_button.setText(tr("ui.doc.remove"))
        self.doc_details_button.setText(tr("ui.doc.details"))
        for state, button in self.move_buttons.items():
            button.setText(tr("ui.step.move_to", state=tr("ui.step_state." + state)))
        self.reopen_button.setText(tr("ui.step.reopen"))
        self.edit_step_button.setText(tr("ui.step.edit"))
        self.attach_button.setText(tr("ui.track.attach"))
        self.withdraw_button.setText(tr("ui.track.withdraw"))
        self.preview_button.setText(tr("ui.track.preview"))
        self.add_note_button.setText(tr("ui.notes.add"))
        for model in (
            self.documents_model,
            self.checklist_model,
        ):
            model.retranslate()
        self._fill_case()

    def _fill_case(self) -> None:
        case = self.case
        if case is None:
            self.title.setText("")
            self._place_controls()
            return
        person = case.person
        self.title.setText(f"{case.number} — {person.display_name}")
        self.title.setToolTip(self.title.text())
        self._place_controls()
        for kind in NAME_KINDS:
            names = [n.full_name for n in person.names if n.kind == kind]
            self.name_labels[kind].setText("\n".join(names) or "—")
        facts = [
            (tr("ui.person.sex"), tr(f"ui.sex.{person.sex}") if person.sex else "—"),
            (tr("ui.person.title"), title_name(person.title, person.sex)),
            (tr("ui.person.marital_status"), marital_name(person.marital_status)),
            (tr("ui.person.birth"), format_partial_date(person.birth_date) or "—"),
            (tr("ui.person.nationality"), nationality_name(person.nationality)),
            (tr("ui.person.arrived"), format_date(person.arrived_on) or "—"),
        ]
        if person.left_on is not None:  # gone home: said only of those who have
            facts.append((tr("ui.person.left"), format_date(person.left_on)))
        self.details.setText("<br>".join(f"<b>{k}</b>: {v}" for k, v in facts))
        editing = self.details_editor.person
        if editing is not None and editing.id != person.id:  # another case file opened
            self.details_editor.close_editor()
        for name, edit in self.contact_edits.items():
            edit.setText(getattr(person, name) or "")
        self.consent_box.show_consents(person.id, case.consents)
        self.documents_model.set_rows(person.documents)
        self.work.show_case(case)
        row = self.track_list.currentRow()
        self.track_list.clear()
        for track in case.tracks:
            name = (
                tr("ui.track.enrollment")
                if track.kind == "enrollment"
                else tr(f"rule.benefit.{track.benefit or track.kind}")
            )
            # a track withdrawn is closed: said as withdrawn, as the journey says it
            shown = cases.WITHDRAWN if track.outcome == cases.WITHDRAWN else track.state
            state = tr("ui.step_state." + shown)
            self.track_list.addItem(f"{name} — {state}")
        if case.tracks:
            self.track_list.setCurrentRow(max(0, min(row, len(case.tracks) - 1)))
        self._track_selected(self.track_list.currentRow())
        # the note chosen stays chosen when the list is written again (a language switch,
        # another read of the case file), as the claim chosen does above
        chosen = self.notes_list.currentItem()
        chosen_id = chosen.data(Qt.ItemDataRole.UserRole) if chosen is not None else None
        self.notes_list.clear()
        for note in case.notes:
            written = format_moment(note.written_at)
            item = QListWidgetItem(f"{written} · {note.author or ''}\n{note.body}")
            item.setData(Qt.ItemDataRole.UserRole, note.id)
            self.notes_list.addItem(item)
            if note.id == chosen_id:
                self.notes_list.setCurrentItem(item)
        blocks = []
        for line in self.panel:
            name, status, sentences = explain(line)
            colour = {"eligible": "#2e7d32", "not_eligible": "#c62828"}.get(
                str(line.result.status) if line.result else "", "#6d4c41"
            )
            blocks.append(
                f"<p><b>{name}</b> — <span style='color:{colour}'>{status}</span><br>"
                + "<br>".join(sentences)
                + "</p>"
            )
        notes = caveats(self.panel)
        if notes:  # once, above the benefits, not under each that rests on it
            blocks.insert(0, "<p><i>" + "<br>".join(notes) + "</i></p>")
        self.eligibility_text.setText("".join(blocks))


def _clipboard_text() -> str:
    clipboard = QGuiApplication.clipboard()
    return clipboard.text() if clipboard is not None else ""


def _today() -> dt.date:
    return dt.date.today()


_ = decimal  # wages arrive as Decimal from the services
