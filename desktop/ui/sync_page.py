"""The Sync page: server and device registration, what the next sync will send, Sync
now, failed items with Retry, and conflicts awaiting a coordinator.

Every read and write goes through :mod:`desktop.services.sync_view` via the operation
helper; the page only gathers input and shows results.
"""

from __future__ import annotations

import socket
import time

from PySide6.QtCore import QModelIndex, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain import i18n
from desktop.domain.errors import UserError
from desktop.services import coordination, sync_view
from desktop.ui.context import AppContext, Retranslating
from desktop.ui.i18n import current, format_moment, format_partial_date, tr
from desktop.ui.models import Column, RowTableModel, fit_rows, list_view, selected_row
from desktop.ui.sync_worker import (
    COUNTS_DURING_SYNC_MS,
    UNDER_WAY,
    SyncWorker,
    WorkerState,
    _human_size,
    when_text,
)
from desktop.ui.wrap import WrapLabel


def _case_column() -> Column:
    """Whose case file a refused change or a conflict belongs to: name · case number; an
    employer's named in several, how many."""
    return Column("ui.sync_page.col.case", _case_text)


def _case_text(row: coordination.Conflict | sync_view.FailedItem) -> str:
    if row.named_in > 1:
        return tr("ui.sync_page.employer_cases", count=row.named_in)
    return " · ".join(part for part in (row.person_name, row.case_number) if part)


def failed_columns() -> list[Column]:
    return [
        _case_column(),
        Column("ui.sync_page.col.what", lambda f: sync_view.failed_text(f, tr)),
        Column("ui.sync_page.col.error", lambda f: sync_view.failed_reason(f, tr)),
        Column("ui.sync_page.col.attempts", lambda f: f.attempts, align_right=True),
    ]


def _side(conflict: coordination.Conflict, side: coordination.Side) -> str:
    value = coordination.side_text(conflict, side, tr, format_partial_date)
    when = format_moment(side.at.isoformat()) if side.at else ""
    return f"{value} ({', '.join(part for part in (side.by, when) if part)})"


def _in_force(conflict: coordination.Conflict) -> str:
    """The value in force; one a later edit put in since, with the one it replaced."""
    if conflict.now is None:
        return _side(conflict, conflict.in_force)
    now = coordination.side_text(conflict, conflict.now, tr, format_partial_date)
    return tr("ui.sync_page.changed_since", value=now, was=_side(conflict, conflict.in_force))


def conflict_columns() -> list[Column]:
    return [
        _case_column(),
        Column("ui.sync_page.col.what", lambda c: i18n.detail_text(c.entity, c.field, tr)),
        Column("ui.sync_page.col.kept", _in_force),
        Column("ui.sync_page.col.other", lambda c: _side(c, c.set_aside)),
    ]


class SyncPage(Retranslating):
    """Sync state in full; the worker does the syncing, this page asks it to.
    ``case_opened`` carries the case a refused change or conflict belongs to, opened by a
    double-click or Enter, and where that case file shows its row (a ``row_context.Place``:
    a step's claim and the step on the Tracks tab, a job on the Work tab...)."""

    case_opened = Signal(str, object)

    def __init__(
        self, ctx: AppContext, worker: SyncWorker | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.worker = worker or SyncWorker(ctx, parent=self)
        self.view: sync_view.SyncOverview | None = None

        self.server_box = QGroupBox()
        self.server = QLineEdit()
        self.server.setObjectName("sync_server")
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.device = QLineEdit(socket.gethostname())
        self.register_button = QPushButton()
        self.register_button.clicked.connect(self.register)
        self.registered_label = WrapLabel()
        # the office new rows belong to: only the account's offices are offered
        self.office = QComboBox()
        self.office.setObjectName("sync_office")
        self.office.activated.connect(self._office_chosen)
        self.form_labels = [QLabel() for _ in range(5)]
        form = QFormLayout()
        for label, field in zip(
            self.form_labels,
            (self.server, self.user, self.password, self.device, self.office),
            strict=True,
        ):
            form.addRow(label, field)
        server_layout = QVBoxLayout(self.server_box)
        server_layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.registered_label, 1)
        row.addWidget(self.register_button)
        server_layout.addLayout(row)

        self.next_box = QGroupBox()
        self.next_label = WrapLabel()
        self.metered = QCheckBox()
        self.limit = QSpinBox()
        self.limit.setRange(0, 1_000_000)
        self.limit.setValue(sync_view.DEFAULT_METERED_LIMIT_KB)
        self.limit.setSuffix(" KB")
        self.limit_label = QLabel()
        self.metered.toggled.connect(self._metered_changed)
        self.limit.editingFinished.connect(self._metered_changed)
        self.state_label = WrapLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setTextVisible(False)
        self.progress.setVisible(False)  # shown while the worker checks or syncs
        self.busy = False
        self.sync_button = QPushButton()
        self.sync_button.setObjectName("sync_now")
        self.sync_button.clicked.connect(self.sync_now)
        next_layout = QVBoxLayout(self.next_box)
        next_layout.addWidget(self.next_label)
        metered_row = QHBoxLayout()
        metered_row.addWidget(self.metered)
        metered_row.addStretch(1)
        metered_row.addWidget(self.limit_label)
        metered_row.addWidget(self.limit)
        next_layout.addLayout(metered_row)
        sync_row = QHBoxLayout()
        sync_row.addWidget(self.state_label, 1)
        sync_row.addWidget(self.progress)
        sync_row.addWidget(self.sync_button)
        next_layout.addLayout(sync_row)

        self.failed_box = QGroupBox()
        self.failed_model = RowTableModel(failed_columns())
        self.failed_view = list_view(self.failed_model)
        # the reason says what to do: rows grow to show it whole, the tries take little room
        self.failed_view.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.failed_view.horizontalHeader().setSectionResizeMode(
            len(self.failed_model.columns) - 1, QHeaderView.ResizeMode.ResizeToContents
        )
        # rows are as tall as their wrapped reason: the list is at least as tall as they are
        self.failed_view.horizontalHeader().sectionResized.connect(
            lambda *_: fit_rows(self.failed_view)
        )
        self.failed_view.activated.connect(  # a double-click, or Enter
            lambda index: self._open_case(self.failed_model, index)
        )
        self.retry_button = QPushButton()
        self.retry_button.clicked.connect(self.retry)
        failed_layout = QVBoxLayout(self.failed_box)
        failed_layout.addWidget(self.failed_view)
        failed_layout.addWidget(self.retry_button)

        self.conflict_box = QGroupBox()
        self.conflict_model = RowTableModel(conflict_columns())
        self.conflict_view = list_view(self.conflict_model)
        self.conflict_hint = WrapLabel()
        # a coordinator settles a conflict here; others only see it
        self.coordinator = False
        self.keep_button = QPushButton()
        self.keep_button.setObjectName("keep_in_force")
        self.keep_button.clicked.connect(lambda: self.resolve(keep_other=False))
        self.flip_button = QPushButton()
        self.flip_button.setObjectName("use_other")
        self.flip_button.clicked.connect(lambda: self.resolve(keep_other=True))
        self.conflict_view.selectionModel().selectionChanged.connect(
            lambda *_: self._enable_resolve()
        )
        self.conflict_view.activated.connect(  # a double-click, or Enter
            lambda index: self._open_case(self.conflict_model, index)
        )
        conflict_layout = QVBoxLayout(self.conflict_box)
        conflict_layout.addWidget(self.conflict_hint)
        conflict_layout.addWidget(self.conflict_view)
        resolve_row = QHBoxLayout()
        resolve_row.addStretch(1)
        resolve_row.addWidget(self.keep_button)
        resolve_row.addWidget(self.flip_button)
        conflict_layout.addLayout(resolve_row)

        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 14pt; font-weight: bold")
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.server_box)
        layout.addWidget(self.next_box)
        layout.addWidget(self.failed_box, 1)
        layout.addWidget(self.conflict_box, 1)

        self.worker.changed.connect(self._worker_changed)
        self.worker.synced.connect(lambda _summary: self.refresh())
        # while a sync runs, the counts and sizes are read again now and then
        self.during_sync = QTimer(self)
        self.during_sync.setInterval(COUNTS_DURING_SYNC_MS)
        self.during_sync.timeout.connect(self._refresh_counts)
        self.retranslate()

    # -- reading ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the overview, failed items and conflicts off the GUI thread."""
        store = self.ctx.store

        def read() -> tuple[sync_view.SyncOverview, list[object], list[object], bool]:
            return (
                sync_view.overview(store),
                list(sync_view.failed_items(store)),
                list(coordination.conflicts(store)),
                coordination.may_coordinate(store),
            )

        self.ctx.ops.run(read, on_success=self._loaded, key="sync_page", owner=self)

    def _refresh_counts(self) -> None:
        """The counts and sizes alone, while a sync runs: the lists (a conflict chosen in
        them) and the form stay as they are."""
        if not self.isVisible():
            return
        store = self.ctx.store
        self.ctx.ops.run(
            lambda: sync_view.overview(store),
            on_success=self._counted,
            key="sync_page_counts",
            owner=self,
        )

    def _counted(self, view: sync_view.SyncOverview) -> None:
        self.view = view
        self.retranslate()

    def _loaded(
        self, result: tuple[sync_view.SyncOverview, list[object], list[object], bool]
    ) -> None:
        self.view, failed, found, self.coordinator = result
        self.failed_model.set_rows(failed)
        fit_rows(self.failed_view)  # the reason says what to do: shown whole, not cut off
        self.conflict_model.set_rows(found)
        self._enable_resolve()
        if not self.server.hasFocus():
            self.server.setText(self.view.server_url or "")
        if self.view.account and not self.user.hasFocus() and not self.user.text():
            self.user.setText(self.view.account)
        self.office.blockSignals(True)
        self.office.clear()
        self.office.addItems(list(self.view.offices))
        self.office.setCurrentIndex(self.office.findText(self.view.office))
        self.office.setEnabled(len(self.view.offices) > 1)
        self.office.blockSignals(False)
        self.metered.blockSignals(True)
        self.metered.setChecked(self.view.metered)
        self.metered.blockSignals(False)
        self.limit.setValue(self.view.metered_limit_kb)
        self.retranslate()

    # -- actions ---------------------------------------------------------------------------

    def register(self) -> None:
        """Register this device with the server typed above (user and password)."""
        store, factory = self.ctx.store, self.worker.http_factory
        url, user = self.server.text(), self.user.text()
        password, device = self.password.text(), self.device.text().strip() or "laptop"

        def done(_device_id: object) -> None:
            self.password.clear()
            self.ctx.dialogs.info(tr("ui.sync_page.registered_ok"))
            self.refresh()
            self.worker.sync_now()

        def refused(exc: BaseException) -> None:
            # registered with another server before: say what registering here means, and
            # register only when the person says so
            if isinstance(exc, UserError) and exc.code == sync_view.OTHER_SERVER:
                asked = tr("ui.sync_page.register_anyway", server=url)
                if self.ctx.dialogs.confirm(f"{exc.translated(current())}\n\n{asked}"):
                    attempt(other_server=True)
            elif isinstance(exc, UserError) and self.ctx.ops.on_user_error is not None:
                self.ctx.ops.on_user_error(exc)

        def attempt(*, other_server: bool = False) -> None:
            self.ctx.ops.run(
                lambda: sync_view.register(
                    store,
                    url,
                    user,
                    password,
                    device,
                    factory or sync_view.default_http,
                    other_server=other_server,
                ),
                write=True,
                on_success=done,
                on_failure=refused,
                owner=self,
            )

        attempt()

    def sync_now(self) -> None:
        self.worker.sync_now()

    def _office_chosen(self, _index: int) -> None:
        store, office = self.ctx.store, self.office.currentText()
        self.ctx.ops.run(
            lambda: sync_view.set_office(store, office),
            write=True,
            on_success=lambda _r: self.refresh(),
            owner=self,
        )

    def retry(self) -> None:
        """Put refused changes back in line, then sync."""
        store = self.ctx.store

        def done(_count: object) -> None:
            self.refresh()
            self.worker.sync_now()

        self.ctx.ops.run(
            lambda: sync_view.retry_failed(store), write=True, on_success=done, owner=self
        )

    def _open_case(self, model: RowTableModel, index: QModelIndex) -> None:
        """Open the case file a double-clicked row belongs to, when this device holds it,
        where it shows that row; an employer's named in several, the first, saying so."""
        if index.isValid():
            row = model.row_at(index.row())
            if row.case_id:
                self.case_opened.emit(row.case_id, row.place)
            if row.case_id and row.named_in > 1:
                self.ctx.dialogs.info(tr("ui.sync_page.employer_opened", count=row.named_in))

    def _enable_resolve(self) -> None:
        chosen = selected_row(self.conflict_view, self.conflict_model) is not None
        for button in (self.keep_button, self.flip_button):
            button.setVisible(self.coordinator)
            button.setEnabled(self.coordinator and chosen)

    def resolve(self, *, keep_other: bool) -> None:
        """Settle the selected conflict on the server (a coordinator's choice), then sync:
        a value put in force reaches this laptop's case file with that sync."""
        conflict = selected_row(self.conflict_view, self.conflict_model)
        if conflict is None or not self.coordinator:
            return
        # keeping "the value in force" keeps what the row holds now
        chosen = conflict.set_aside if keep_other else (conflict.now or conflict.in_force)
        question = tr(
            "ui.sync_page.confirm_resolve",
            value=coordination.side_text(conflict, chosen, tr, format_partial_date),
            detail=i18n.detail_text(conflict.entity, conflict.field, tr),
            person=conflict.person_name or conflict.row_id,
        )
        if not self.ctx.dialogs.confirm(question):
            return
        store, factory = self.ctx.store, self.worker.http_factory or sync_view.default_http

        def done(_status: object) -> None:
            self.ctx.dialogs.info(tr("ui.sync_page.resolved"))
            self.refresh()
            self.worker.sync_now()

        self.ctx.ops.run(
            lambda: coordination.resolve_conflict(store, conflict.id, keep_other, factory),
            write=True,
            on_success=done,
            owner=self,
        )

    def _metered_changed(self) -> None:
        store, metered, limit = self.ctx.store, self.metered.isChecked(), self.limit.value()
        self.ctx.ops.run(
            lambda: sync_view.set_metered(store, metered, limit),
            write=True,
            on_success=lambda _r: self.refresh(),
            owner=self,
        )

    def _worker_changed(self, state: WorkerState) -> None:
        self.busy = state.phase in UNDER_WAY
        if self.busy and not self.during_sync.isActive():
            self.during_sync.start()
        elif not self.busy:
            self.during_sync.stop()
        self.progress.setRange(0, 0 if self.busy else 1)  # a busy indicator while syncing
        self.progress.setVisible(self.busy)  # an empty bar says nothing
        self._sync_button_state()
        self._state_text()

    def _sync_button_state(self) -> None:
        """Sync now waits for a registered device and an idle worker: on a device not
        registered it would do nothing, during a sync it would start another."""
        registered = self.view is not None and self.view.registered
        self.sync_button.setEnabled(registered and not self.busy)
        self.sync_button.setToolTip("" if registered else tr("ui.sync_page.not_registered"))

    # -- texts -----------------------------------------------------------------------------

    def _state_text(self) -> None:
        from desktop.ui.sync_worker import status_text

        self.state_label.setText(status_text(self.worker.state, self.view, time.monotonic()))

    def retranslate(self) -> None:
        self.heading.setText(tr("ui.sync_page.heading"))
        self.server_box.setTitle(tr("ui.sync_page.server_box"))
        for label, key in zip(
            self.form_labels,
            (
                "ui.sync_page.server",
                "ui.sync_page.user",
                "ui.sync_page.password",
                "ui.sync_page.device",
                "ui.sync_page.office",
            ),
            strict=True,
        ):
            label.setText(tr(key))
        self.server.setPlaceholderText("https://sync.example.org")
        self.register_button.setText(tr("ui.sync_page.register"))
        self.next_box.setTitle(tr("ui.sync_page.next_box"))
        self.metered.setText(tr("ui.sync_page.metered"))
        self.limit_label.setText(tr("ui.sync_page.limit"))
        self.sync_button.setText(tr("ui.sync_page.sync_now"))
        self.failed_box.setTitle(tr("ui.sync_page.failed_box"))
        self.retry_button.setText(tr("ui.sync_page.retry"))
        self.conflict_box.setTitle(tr("ui.sync_page.conflict_box"))
        self.conflict_hint.setText(tr("ui.sync_page.conflict_hint"))
        self.keep_button.setText(tr("ui.sync_page.keep_in_force"))
        self.flip_button.setText(tr("ui.sync_page.use_other"))
        self.failed_model.retranslate()
        self.conflict_model.retranslate()
        view = self.view
        self._sync_button_state()
        if view is None:
            self.registered_label.setText(tr("ui.loading"))
            self.next_label.setText(tr("ui.loading"))
        else:
            self.registered_label.setText(
                tr("ui.sync_page.registered", url=view.server_url or "", user=view.account or "")
                if view.registered
                else tr("ui.sync_page.not_registered")
            )
            self.next_label.setText(
                tr(
                    "ui.sync_page.next",
                    changes=view.waiting,
                    size=_human_size(view.bytes_waiting),
                    files=view.attachments_waiting,
                    file_size=_human_size(view.attachment_bytes),
                )
                + "<br>"
                + tr(
                    "ui.sync_page.next_fetch",
                    count=view.attachments_to_fetch,
                    file_size=_human_size(view.fetch_bytes),
                )
                + "<br>"
                + tr("ui.sync_page.last", when=when_text(view.last_sync))
            )
        self._state_text()
