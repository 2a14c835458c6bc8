"""What every screen is given: the open store, the operation helper, dialogs, the clock.

Passed explicitly to each widget (no global registry), so a test builds one with a
temp store, fake dialogs and a fixed clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QWidget

from desktop.ui.dialogs import DialogService
from desktop.ui.i18n import LanguageSwitch
from desktop.ui.operations import Operations


@dataclass
class AppContext:
    """The store is typed ``Any``: the UI layer may not import ``desktop.models``."""

    store: Any
    ops: Operations
    dialogs: DialogService
    language: LanguageSwitch
    today: Callable[[], dt.date] = field(default=dt.date.today)


class Retranslating(QWidget):
    """A widget that re-reads its texts when the language changes."""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        """Set every visible text from the catalogue; subclasses override."""
