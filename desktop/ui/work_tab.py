"""The case file's Work tab: the person's jobs and contribution months.

Jobs as enrollments recorded them, added when none did (*Add job…*, written as an
enrollment's job step writes one), their employer's details corrected for every worker
of that employer (*Employer details…*), and when and why each ended (*Job ended…*);
contribution months typed or pasted from a payslip table under s.33, s.39 or s.40, and
removed when entered by mistake. Each dialog is the step editor of a spec below, opened
by the case file (``edit``); each write runs through the case file's ``write``, after
which the case file is read again and :meth:`WorkTab.show_case` is called.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.services import employers, ui_queries, ui_wizards
from desktop.services.cases import CaseFile, EmploymentView
from desktop.ui.context import AppContext
from desktop.ui.i18n import format_date, issue_text, tr
from desktop.ui.models import Column, RowTableModel, fit_columns
from desktop.ui.person_details import fill_choices, show_placeholder
from desktop.ui.step_fields import editor_date
from desktop.ui.workflow_specs import FieldSpec, StepSpec, label

# A write of the case file: run ``fn``, then ``done`` once it succeeded (the case file is
# read again), a refusal shown.
Write = Callable[..., None]
# The values a dialog validated -> the write to run with them.
WriteOf = Callable[[dict[str, Any]], Callable[[], object]]
# Open a step-editor dialog of a spec, started with values, writing with ``WriteOf``.
Edit = Callable[[StepSpec, dict[str, str], WriteOf], None]

# An employer's details as the Work tab's "Employer details…" corrects them: the dialog's
# field (named as the enrollment wizard names it, for its label and check) -> the detail.
EMPLOYER_FIELDS = {
    "employer_name": "name",
    "employer_name_th": "name_th",
    "employer_account": "sso_account",
    "employer_branch": "sso_branch",
    "employer_province": "province_code",
    "employer_district": "district",
    "employer_address": "address",
    "employer_phone": "phone",
}
EMPLOYER_DETAILS = StepSpec(
    "employer_details",
    (
        FieldSpec("employer_name", required=True),
        FieldSpec("employer_name_th"),
        FieldSpec("employer_account", validator="sso_account"),
        FieldSpec("employer_branch", validator="sso_branch"),
        FieldSpec("employer_province", "province"),
        FieldSpec("employer_district"),
        FieldSpec("employer_address"),
        FieldSpec("employer_phone"),
    ),
)

# A job no enrollment recorded, as the Work tab's "Add job…" asks it: the dialog's field
# (named as the enrollment wizard's job step names it) -> the fact it becomes.
JOB_FACTS = {
    "employer_name": "employer.name",
    "employer_account": "employer.sso_account",
    "employer_branch": "employer.sso_branch",
    "employment_start": "employment.start_date",
    "monthly_wage": "employment.monthly_wage",
}
NEW_JOB = StepSpec(
    "add_job",
    (
        FieldSpec("employer_name", required=True),
        FieldSpec("employer_account", validator="sso_account"),
        FieldSpec("employer_branch", validator="sso_branch"),
        FieldSpec("employment_start", "date", past=True),
        FieldSpec("monthly_wage", "money"),
    ),
)

# The sections months are typed or pasted under (Work tab): through the employer, paid by
# the worker after leaving the job, informal work.
MONTH_SECTIONS = (33, 39, 40)

# When and why a job ended (Work tab, "Job ended…"): the fields the unemployment claim
# asks the same with, the reasons a job's row may hold.
JOB_END = StepSpec(
    "job_ended",
    (
        FieldSpec("employment_end", "date", past=True),
        FieldSpec("unemployment_reason", "choice", choices=employers.END_REASONS),
    ),
)


def employment_columns() -> list[Column]:
    return [
        Column("ui.work.col.employer", lambda e: e.employer_name or ""),
        Column("ui.work.col.account", lambda e: e.employer_sso_account or ""),
        Column("ui.work.col.start", lambda e: format_date(e.start_date)),
        Column("ui.work.col.end", lambda e: format_date(e.end_date)),
        Column("ui.work.col.end_reason", lambda e: label("choice", e.end_reason or "")),
        Column("ui.work.col.wage", lambda e: e.monthly_wage or "", align_right=True),
    ]


def contribution_columns() -> list[Column]:
    return [
        Column("ui.work.col.month", lambda c: c.month),
        Column("ui.work.col.wage", lambda c: c.wage if c.wage is not None else "", True),
        Column("ui.work.col.section", lambda c: c.section or ""),
        Column("ui.work.col.source", lambda c: tr(f"ui.source.{c.source or 'payslip'}")),
    ]


class WorkTab(QWidget):
    """The Work tab of one case file (see the module's note)."""

    def __init__(
        self,
        ctx: AppContext,
        write: Write,
        edit: Edit,
        clipboard_text: Callable[[], str],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.write = write
        self.edit = edit
        self.case: CaseFile | None = None
        self.employment_model = RowTableModel(employment_columns())
        self.employment_view = QTableView()
        self.employment_view.setModel(self.employment_model)
        fit_columns(self.employment_view, stretch=0)  # the employer's name
        self.contribution_model = RowTableModel(contribution_columns())
        self.contribution_view = QTableView()
        self.contribution_view.setModel(self.contribution_model)
        fit_columns(self.contribution_view)
        self.contribution_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.contribution_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.remove_months_button = QPushButton()
        self.remove_months_button.setObjectName("remove_months")
        self.remove_months_button.clicked.connect(self.remove_months)
        self.month_edit = QLineEdit()
        self.month_edit.setObjectName("month")
        self.wage_edit = QLineEdit()
        self.wage_edit.setObjectName("wage")
        self.section_box = QComboBox()  # whose months are typed or pasted: s.33, 39 or 40
        self.section_box.setObjectName("month_section")
        self.add_month_button = QPushButton()
        self.add_month_button.clicked.connect(self.add_month)
        self.paste_button = QPushButton()
        self.paste_button.clicked.connect(lambda: self.paste_payslip(clipboard_text()))
        self.end_job_button = QPushButton()
        self.end_job_button.setObjectName("end_job")
        self.end_job_button.clicked.connect(self.end_job)
        self.add_job_button = QPushButton()
        self.add_job_button.setObjectName("add_job")
        self.add_job_button.clicked.connect(self.add_job)
        self.employer_button = QPushButton()
        self.employer_button.setObjectName("edit_employer")
        self.employer_button.clicked.connect(self.edit_employer)
        self.remove_job_button = QPushButton()
        self.remove_job_button.setObjectName("remove_job")
        self.remove_job_button.clicked.connect(self.remove_job)
        self.issues = QLabel()
        self.issues.setStyleSheet("color: #c62828")
        self.employment_label = QLabel()
        self.contribution_label = QLabel()
        row = QHBoxLayout()  # a month typed: when, the wage, under which section
        row.addWidget(self.month_edit)
        row.addWidget(self.wage_edit)
        row.addWidget(self.section_box)
        actions = QHBoxLayout()  # a row of its own: Burmese and Khmer labels are long
        actions.addStretch(1)
        actions.addWidget(self.add_month_button)
        actions.addWidget(self.paste_button)
        actions.addWidget(self.remove_months_button)
        layout = QVBoxLayout(self)
        jobs = QHBoxLayout()
        jobs.addWidget(self.employment_label, 1)
        jobs.addWidget(self.add_job_button)
        jobs.addWidget(self.employer_button)
        jobs.addWidget(self.end_job_button)
        jobs.addWidget(self.remove_job_button)
        layout.addLayout(jobs)
        layout.addWidget(self.employment_view, 1)
        layout.addWidget(self.contribution_label)
        layout.addWidget(self.contribution_view, 2)
        layout.addLayout(row)
        layout.addLayout(actions)
        layout.addWidget(self.issues)

    def retranslate(self) -> None:
        self.employment_label.setText(tr("ui.work.employment"))
        self.contribution_label.setText(tr("ui.work.contributions"))
        show_placeholder(self.month_edit, tr("ui.work.month_hint"))
        self.wage_edit.setPlaceholderText(tr("ui.work.wage_hint"))
        self.add_month_button.setText(tr("ui.work.add_month"))
        sections = [(str(n), tr(f"ui.work.section.{n}")) for n in MONTH_SECTIONS]
        fill_choices(self.section_box, sections)
        self.paste_button.setText(tr("ui.work.paste"))
        self.end_job_button.setText(tr("ui.work.end_job"))
        self.employer_button.setText(tr("ui.work.edit_employer"))
        self.add_job_button.setText(tr("ui.work.add_job"))
        self.remove_months_button.setText(tr("ui.work.remove_months"))
        self.remove_job_button.setText(tr("ui.work.remove_job"))
        self.employment_model.retranslate()
        self.contribution_model.retranslate()

    def show_case(self, case: CaseFile) -> None:
        """The case file as read again: its jobs and months, the buttons they allow, and
        the section the next months start under (the last month's)."""
        self.case = case
        self.employment_model.set_rows(case.employments)
        self.end_job_button.setEnabled(bool(case.employments))
        self.remove_job_button.setEnabled(bool(case.employments))
        self.employer_button.setEnabled(any(e.employer_id for e in case.employments))
        self.contribution_model.set_rows(case.contributions)
        last = case.contributions[-1].section if case.contributions else None
        self.section_box.setCurrentIndex(max(0, self.section_box.findData(str(last or 33))))

    def add_month(self) -> None:
        """One month typed, of the person's latest job as a pasted table's months are: a
        month already on file is corrected, not recorded a second time."""
        if self.case is None:
            return
        typed = f"{self.month_edit.text()}\t{self.wage_edit.text()}"
        rows, found = ui_queries.parse_payslip_table(
            typed, self._latest_employer(), self.ctx.today(), self._section()
        )
        if found or not rows:
            said = [issue_text(i) for i in found if i.code != "ui.paste.bad_line"]
            self.issues.setText("\n".join(said) or tr("ui.work.bad_month"))
            return
        self.issues.setText("")
        self.month_edit.clear()
        self.wage_edit.clear()
        self._record(rows)

    def paste_payslip(self, pasted: str) -> None:
        """Contribution months from a copied table: one ``month<TAB>wage`` row per line."""
        if self.case is None:
            return
        employer, today = self._latest_employer(), self.ctx.today()
        rows, found = ui_queries.parse_payslip_table(pasted, employer, today, self._section())
        self.issues.setText("\n".join(issue_text(i) for i in found))
        if rows:
            self._record(rows)

    def _section(self) -> int:
        """The section the months typed or pasted are recorded under."""
        return int(self.section_box.currentData() or 33)

    def _latest_employer(self) -> str | None:
        """Whose contribution months are typed or pasted: the person's latest job's."""
        jobs = self.case.employments if self.case is not None else ()
        return jobs[-1].employer_id if jobs else None

    def end_job(self) -> None:
        """When and why the selected job (else the latest) ended, in a dialog; saved through
        ``employers.end_employment``. An empty day says the job goes on (an end recorded by
        mistake)."""
        job = self._selected_job()
        if job is None:
            return
        held = {"employment_end": job.end_date.isoformat() if job.end_date else ""}
        held["unemployment_reason"] = job.end_reason or ""
        store, job_id = self.ctx.store, job.id

        def write(values: dict[str, Any]) -> Callable[[], object]:
            end = editor_date(values.get("employment_end"))
            why = values.get("unemployment_reason") or None
            return lambda: employers.end_employment(store, job_id, end, why)

        self.edit(JOB_END, held, write)

    def add_job(self) -> None:
        """A job no enrollment recorded (the worker was registered before coming here):
        its employer, start and wage, written as an enrollment's job step writes them
        (``ui_wizards.add_job``: an employer already on file is the job's)."""
        if self.case is None:
            return
        store, case_id = self.ctx.store, self.case.id

        def write(values: dict[str, Any]) -> Callable[[], object]:
            facts = {fact: values.get(field) for field, fact in JOB_FACTS.items()}
            return lambda: ui_wizards.add_job(store, case_id, facts)

        self.edit(NEW_JOB, {}, write)

    def edit_employer(self) -> None:
        """Correct the selected job's (else the latest job's) employer: its name, SSO account
        and branch, province, district, address and phone, as every form of its workers
        prints them."""
        job = self._selected_job()
        if job is None or job.employer_id is None:
            return
        store, employer_id = self.ctx.store, job.employer_id

        def read(details: dict[str, str | None]) -> None:
            held = {field: details[name] or "" for field, name in EMPLOYER_FIELDS.items()}

            def write(values: dict[str, Any]) -> Callable[[], object]:
                changes = {name: values.get(field) for field, name in EMPLOYER_FIELDS.items()}
                return lambda: employers.update_employer(store, employer_id, **changes)

            self.edit(EMPLOYER_DETAILS, held, write)

        self.ctx.ops.run(lambda: employers.employer_details(store, employer_id), on_success=read)

    def remove_job(self) -> None:
        """Remove the selected job (else the latest), entered by mistake, once the
        caseworker agrees; its employer and the months stay."""
        job = self._selected_job()
        if job is None:
            return
        employer = job.employer_name or ""
        if not self.ctx.dialogs.confirm(tr("ui.work.remove_job_confirm", employer=employer)):
            return
        store, job_id = self.ctx.store, job.id
        self.write(lambda: employers.remove_employment(store, job_id))

    def _selected_job(self) -> EmploymentView | None:
        """The job selected on the Work tab, else the latest; None when there is none."""
        if self.case is None or not self.case.employments:
            return None
        row = self.employment_view.currentIndex().row()
        return self.employment_model.row_at(row) if row >= 0 else self.case.employments[-1]

    def remove_months(self) -> None:
        """Remove the selected contribution months, entered by mistake, once the caseworker
        agrees: they no longer count for eligibility, here and after a sync everywhere."""
        if self.case is None:
            return
        rows = sorted({i.row() for i in self.contribution_view.selectionModel().selectedRows()})
        months = [self.contribution_model.row_at(r) for r in rows]
        if not months:
            self.issues.setText(tr("ui.work.remove_none"))
            return
        listed = ", ".join(m.month for m in months)
        if not self.ctx.dialogs.confirm(tr("ui.work.remove_confirm", months=listed)):
            return
        self.issues.setText("")
        store, person_id = self.ctx.store, self.case.person.id
        ids = [m.id for m in months]
        self.write(lambda: employers.remove_contributions(store, person_id, ids))

    def _record(self, rows: list[employers.ContributionInput]) -> None:
        assert self.case is not None
        store, person_id = self.ctx.store, self.case.person.id
        self.write(lambda: employers.record_contributions(store, person_id, rows))
