"""Start-up dialogs: first run (create the encrypted store), unlock, and the idle lock.

First run asks for a passphrase twice, shows a strength hint and warns that a forgotten
passphrase cannot be recovered; it also asks for the language, whether to load demo data
and the sync server address. Later starts ask for the passphrase only when no OS keyring
holds the key. After the idle time the lock screen asks for the passphrase again.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.domain.i18n import LANGUAGE_NAMES, LANGUAGES
from desktop.services import ui_queries
from desktop.ui.i18n import current, format_moment, tr
from desktop.ui.screen import resize_to_fit
from desktop.ui.wrap import WrapLabel


class _Translated(QDialog):
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        """Subclasses set their texts."""


class FirstRunDialog(_Translated):
    """Gathers what creating the store needs; the app does the work in an operation.
    After a wipe (a revoked device) it first says what happened."""

    language_chosen = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, wiped: ui_queries.WipeNotice | None = None
    ) -> None:
        super().__init__(parent)
        self.wipe_notice = wiped
        self.wiped = WrapLabel()
        self.wiped.setObjectName("wiped")
        self.wiped.setStyleSheet("color: #c62828; font-weight: bold")
        self.wiped.setVisible(wiped is not None)
        self.language = QComboBox()
        for code in LANGUAGES:
            self.language.addItem(LANGUAGE_NAMES[code], code)
        self.language.setCurrentIndex(self.language.findData(current()))
        self.language.currentIndexChanged.connect(
            lambda: self.language_chosen.emit(str(self.language.currentData()))
        )
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setObjectName("repeat")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.strength = QLabel()
        self.strength.setObjectName("strength")
        self.warning = WrapLabel()
        self.warning.setStyleSheet("color: #c62828; font-weight: bold")
        self.demo = QCheckBox()
        self.demo_people = QSpinBox()
        self.demo_people.setRange(10, 100_000)
        self.demo_people.setValue(200)
        self.server = QLineEdit()
        self.server.setPlaceholderText("https://sync.example.org")
        self.error = WrapLabel()
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #c62828")
        self.labels = [QLabel() for _ in range(5)]
        form = QFormLayout()
        form.addRow(self.labels[0], self.language)
        form.addRow(self.labels[1], self.passphrase)
        form.addRow(self.labels[2], self.repeat)
        form.addRow("", self.strength)
        form.addRow(self.labels[3], self.demo_people)
        form.addRow("", self.demo)
        form.addRow(self.labels[4], self.server)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        # a new laptop carrying on from a backup: the app asks for its folder
        self.restoring = False
        self.restore_button = self.buttons.addButton("", QDialogButtonBox.ButtonRole.ActionRole)
        self.restore_button.setObjectName("restore_backup")
        self.restore_button.clicked.connect(self._restore)
        layout = QVBoxLayout(self)
        layout.addWidget(self.wiped)
        self.heading = WrapLabel()
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(self.warning)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.passphrase.textChanged.connect(self._strength)
        for field in (self.passphrase, self.repeat):
            field.textChanged.connect(self.error.clear)  # an old complaint must not linger
        resize_to_fit(self, 560, 420)
        self.retranslate()

    def _restore(self) -> None:
        """Close with ``restoring`` set: the app asks for the backup's folder and opens it
        with the passphrase typed above."""
        self.restoring = True
        self.accept()

    def _strength(self) -> None:
        level = ui_queries.passphrase_strength(self.passphrase.text())
        self.strength.setText(tr(f"ui.first_run.strength.{level}"))

    def retranslate(self) -> None:
        self.setWindowTitle(tr("ui.first_run.title"))
        self.heading.setText(tr("ui.first_run.heading"))
        for label, key in zip(
            self.labels,
            ("language", "passphrase", "repeat", "demo_people", "server"),
            strict=True,
        ):
            label.setText(tr(f"ui.first_run.{key}"))
        self.demo.setText(tr("ui.first_run.demo"))
        self.restore_button.setText(tr("ui.first_run.restore"))
        self.restore_button.setToolTip(tr("ui.first_run.restore_hint"))
        self.warning.setText(tr("ui.first_run.warning"))
        notice = self.wipe_notice
        if notice is not None and notice.at:
            when = format_moment(notice.at)
            self.wiped.setText(tr("ui.first_run.wiped", when=when, count=notice.unsent))
        elif notice is not None:
            self.wiped.setText(tr("ui.first_run.wiped_unknown"))
        self._strength()


class UnlockDialog(_Translated):
    """Asks for the passphrase (start-up without a keyring, or the idle lock)."""

    def __init__(self, locked: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.locked = locked
        self.message = WrapLabel()
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = WrapLabel()  # a message with a folder's path is long
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #c62828")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        if not locked:
            self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(self.passphrase)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.passphrase.textChanged.connect(self.error.clear)
        self.retranslate()

    def reject(self) -> None:
        if not self.locked:  # the lock screen cannot be dismissed without the passphrase
            super().reject()

    def retranslate(self) -> None:
        self.setWindowTitle(tr("ui.unlock.title"))
        self.message.setText(tr("ui.unlock.locked" if self.locked else "ui.unlock.message"))
