"""One-line editors of synced details take no more than the sync server accepts.

:func:`limit_to` ties a ``QLineEdit`` to the catalogue field it fills in
(:mod:`desktop.domain.lengths`): it takes at most that field's limit, and when a key
press or a paste is cut there, a tip beside the editor says how much fits, so a pasted
address is not shortened unnoticed. Qt counts UTF-16 units, the server code points: the
same for Thai, Burmese, Khmer and Lao, and stricter (never looser) for the few
characters beyond them, such as emoji.

Multi-line editors (a note) cannot be limited so: the services refuse their saves with
the ``value.too_long`` issue instead, and so they do for any value that grows when it
is cleaned or converted (Zawgyi to Unicode) after it was typed.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QLineEdit, QToolTip

from desktop.domain import lengths
from desktop.ui.i18n import tr


def limit_to(edit: QLineEdit, entity: str, field: str) -> QLineEdit:
    """Let ``edit`` hold no more than ``entity.field`` does; returns ``edit``."""
    most = lengths.limit(entity, field)
    if most is not None:
        edit.setMaxLength(most)
        edit.inputRejected.connect(functools.partial(_say_full, edit, most))
    return edit


def _say_full(edit: QLineEdit, most: int) -> None:
    """Say, beside ``edit``, that it holds no more (typing or a paste was cut)."""
    QToolTip.showText(
        edit.mapToGlobal(QPoint(0, edit.height())), tr("ui.limit.full", limit=most), edit
    )
