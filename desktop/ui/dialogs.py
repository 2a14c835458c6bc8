"""Dialogs behind a small service, so widgets never open a modal themselves.

Widgets call ``dialogs.error(...)``, ``dialogs.confirm(...)``, ``dialogs.open_file(...)``,
``dialogs.save_file(...)``, ``dialogs.choose_folder(...)``, ``dialogs.choose(...)``; only
the app calls ``dialogs.bug(...)``, for a bug's report. The app passes a :class:`Dialogs`
that shows real Qt dialogs, and tests pass a fake with scripted answers
(``tests/fakes.py: FakeDialogs``), so no test ever blocks on a modal.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from PySide6 import QtGui
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from desktop.ui.i18n import tr
from desktop.ui.wrap import broken

# Qt makes a message box with a long text as wide as its "soft limit", half the screen
# and at most 500 pixels, and wraps the text in what the icon and the margins leave (89
# pixels less, measured with the bundled font on Linux; some more is left here for other
# styles). A message in a script wrap.py breaks itself (Burmese...) is broken to lines
# that fit there, so Qt keeps them as they are: lines as wide as the whole box, as given
# before, were wrapped again by Qt, leaving a word or a full stop alone on a line.
MESSAGE_BOX_LIMIT = 500
BESIDE_MESSAGE = 110


class DialogService(Protocol):
    """What widgets may ask of the person at the keyboard."""

    def info(self, message: str) -> None: ...

    def error(self, message: str) -> None: ...

    def confirm(self, message: str) -> bool: ...

    def open_file(self, title: str) -> Path | None: ...

    def save_file(self, title: str, suggested_name: str) -> Path | None:
        """Where to write a new file; None if the person cancelled. The person has already
        agreed to replace the file if it exists (the chooser asks)."""
        ...

    def choose_folder(self, title: str) -> Path | None:
        """An existing folder (a USB stick); None if the person cancelled."""
        ...

    def choose(self, title: str, label: str, options: Sequence[str]) -> int | None:
        """The index of the option chosen (the first is offered); None if cancelled."""
        ...

    def ask_text(self, title: str, label: str, *, secret: bool = False) -> str | None: ...

    def bug(self, report: str, log_path: Path | None) -> None:
        """Say that a bug stopped what the person was doing, with its report to copy
        (``log_path``: where it was also written; None if it could not be)."""
        ...


def message_width() -> int:
    """How wide a message box's lines may be on this screen (see :data:`BESIDE_MESSAGE`)."""
    screen = QtGui.QGuiApplication.primaryScreen()
    half = screen.availableGeometry().width() // 2 if screen is not None else MESSAGE_BOX_LIMIT
    return min(MESSAGE_BOX_LIMIT, half) - BESIDE_MESSAGE


def _boxed(message: str) -> str:
    """``message`` broken for a message box (see :mod:`desktop.ui.wrap`)."""
    rich = QtGui.Qt.mightBeRichText(message)
    return broken(message, message_width(), QApplication.font(), rich=rich)


class Dialogs:
    """The real dialogs, parented to the main window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.parent = parent

    def info(self, message: str) -> None:
        QMessageBox.information(self.parent, tr("ui.app.title"), _boxed(message))

    def error(self, message: str) -> None:
        QMessageBox.warning(self.parent, tr("ui.app.title"), _boxed(message))

    def confirm(self, message: str) -> bool:
        answer = QMessageBox.question(self.parent, tr("ui.app.title"), _boxed(message))
        return answer == QMessageBox.StandardButton.Yes

    def open_file(self, title: str) -> Path | None:
        name, _filter = QFileDialog.getOpenFileName(
            self.parent, title, "", tr("ui.dialog.file_filter")
        )
        return Path(name) if name else None

    def save_file(self, title: str, suggested_name: str) -> Path | None:
        suffix = Path(suggested_name).suffix
        name, _filter = QFileDialog.getSaveFileName(
            self.parent,
            title,
            suggested_name,
            f"{suffix[1:].upper()} (*{suffix})" if suffix else "",
        )
        if not name:
            return None
        return Path(name if not suffix or name.lower().endswith(suffix.lower()) else name + suffix)

    def choose_folder(self, title: str) -> Path | None:
        name = QFileDialog.getExistingDirectory(self.parent, title)
        return Path(name) if name else None

    def choose(self, title: str, label: str, options: Sequence[str]) -> int | None:
        item, ok = QInputDialog.getItem(self.parent, title, label, list(options), 0, False)
        return list(options).index(item) if ok and item in options else None

    def ask_text(self, title: str, label: str, *, secret: bool = False) -> str | None:
        mode = QLineEdit.EchoMode.Password if secret else QLineEdit.EchoMode.Normal
        value, ok = QInputDialog.getText(self.parent, title, label, mode)
        return value if ok else None

    def bug(self, report: str, log_path: Path | None) -> None:
        if log_path is not None:
            message = tr("error.bug", path=str(log_path))
        else:
            message = tr("error.bug_unsaved")
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            tr("ui.app.title"),
            _boxed(message),
            QMessageBox.StandardButton.NoButton,
            self.parent,
        )
        box.setDetailedText(report)  # "Show Details...": the report, selectable
        copy = box.addButton(tr("ui.crash.copy"), QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Close)
        box.exec()
        if box.clickedButton() is copy:
            QApplication.clipboard().setText(report)
