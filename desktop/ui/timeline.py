"""The journey timeline: a person's arrival, documents, jobs, registration, contributions,
claims and deadlines on one horizontal line, custom painted.

Events are spread along the line by date (with a minimum gap so close dates stay
readable); labels alternate above and below the line. Deadlines are coloured by state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop.services.ui_queries import JourneyEvent
from desktop.ui.i18n import format_date, tr
from desktop.ui.wrap import broken

COLOURS = {
    "arrival": "#6d4c41",
    "document": "#5e35b1",
    "job": "#1e88e5",
    "job_end": "#546e7a",
    "registration": "#43a047",
    "contributions": "#00897b",
    "claim": "#d81b60",
    "claim_end": "#ad1457",
    "deadline": "#fb8c00",
}
STATE_COLOURS = {"overdue": "#e53935", "due_soon": "#fb8c00", "due": "#9e9e9e"}
SLOT_WIDTH = 150  # pixels per event: labels in Thai or Burmese need room
MARGIN = 90  # half a slot and a little: the first and last labels are not cut


def event_label(event: JourneyEvent) -> str:
    """The translated text of one event (kind and parameters in words)."""
    params = dict(event.params)
    if "benefit" in params:
        params["benefit"] = tr(f"rule.benefit.{params['benefit']}")
    if "kind" in params:
        params["kind"] = tr(f"ui.document_kind.{params['kind']}")
    if "outcome" in params:
        params["outcome"] = tr(f"ui.step_state.{params['outcome']}")
    if event.kind == "deadline":
        return f"{tr(event.label_key)} ({tr('deadline.state.' + event.state)})"
    return tr(event.label_key, **params)


class JourneyTimeline(QWidget):
    """Paints a list of :class:`JourneyEvent`; ``today`` is marked on the line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._events: list[JourneyEvent] = []
        self._today: dt.date | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_events(self, events: Sequence[JourneyEvent], today: dt.date) -> None:
        self._events = list(events)
        self._today = today
        self.updateGeometry()
        self.update()

    @property
    def events(self) -> list[JourneyEvent]:
        return list(self._events)

    def labels(self) -> list[str]:
        """The texts painted, in order (what tests and screen readers can check)."""
        return [event_label(e) for e in self._events]

    def sizeHint(self) -> QSize:
        line = QFontMetrics(self.font()).lineSpacing()
        width = MARGIN * 2 + max(1, len(self._events)) * SLOT_WIDTH
        return QSize(width, 12 * line + 60)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def _x_positions(self) -> list[float]:
        """A slot apart at least, and the room left over shared out by date: the last
        event still lies a margin inside the widget however the dates crowd together."""
        if not self._events:
            return []
        first, last = self._events[0].day, self._events[-1].day
        span = max(1, (last - first).days)
        spare = max(0, self.width() - 2 * MARGIN - (len(self._events) - 1) * SLOT_WIDTH)
        return [
            MARGIN + i * SLOT_WIDTH + spare * (event.day - first).days / span
            for i, event in enumerate(self._events)
        ]

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = QFontMetrics(self.font())
        line_h = metrics.lineSpacing()
        mid = self.height() / 2
        painter.fillRect(self.rect(), self.palette().base())
        painter.setPen(QPen(QColor("#90a4ae"), 3))
        painter.drawLine(QPointF(MARGIN / 2, mid), QPointF(self.width() - MARGIN / 2, mid))
        if not self._events:
            painter.setPen(self.palette().text().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, tr("ui.journey.empty"))
            painter.end()
            return
        xs = self._x_positions()
        for i, (event, x) in enumerate(zip(self._events, xs, strict=True)):
            colour = QColor(COLOURS.get(event.kind, "#757575"))
            if event.kind == "deadline":
                colour = QColor(STATE_COLOURS.get(event.state, "#9e9e9e"))
            painter.setPen(QPen(colour, 2))
            painter.setBrush(colour)
            painter.drawEllipse(QPointF(x, mid), 7, 7)
            above = i % 2 == 0
            box_h = 5 * line_h
            top = mid - 14 - box_h if above else mid + 14
            painter.drawLine(
                QPointF(x, mid + (-7 if above else 7)), QPointF(x, top + (box_h if above else 0))
            )
            rect = QRectF(x - SLOT_WIDTH / 2 + 4, top, SLOT_WIDTH - 8, box_h)
            painter.setPen(self.palette().text().color())
            flags = Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap
            flags |= Qt.AlignmentFlag.AlignBottom if above else Qt.AlignmentFlag.AlignTop
            date_rect = QRectF(rect)
            date_text = format_date(event.day)
            text = broken(event_label(event), rect.width(), painter.font())
            if above:
                painter.drawText(rect.adjusted(0, 0, 0, -line_h), flags, text)
                painter.setPen(colour)
                painter.drawText(
                    date_rect,
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
                    date_text,
                )
            else:
                painter.setPen(colour)
                painter.drawText(
                    date_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, date_text
                )
                painter.setPen(self.palette().text().color())
                painter.drawText(rect.adjusted(0, line_h, 0, 0), flags, text)
        if self._today is not None:
            first, last = self._events[0].day, self._events[-1].day
            if first <= self._today <= last:
                # between the two events around today, in proportion
                before = [x for e, x in zip(self._events, xs, strict=True) if e.day <= self._today]
                after = [x for e, x in zip(self._events, xs, strict=True) if e.day > self._today]
                tx = (before[-1] + after[0]) / 2 if before and after else xs[-1]
                painter.setPen(QPen(QColor("#e53935"), 1, Qt.PenStyle.DashLine))
                painter.drawLine(QPointF(tx, mid - 5 * line_h), QPointF(tx, mid + 5 * line_h))
        painter.end()
