"""The journey timeline: each event's kind and parameters in the reader's words, and every
event inside the line, however close their dates."""

from __future__ import annotations

import datetime as dt
import itertools

from pytestqt.qtbot import QtBot

from desktop.services.ui_queries import JourneyEvent
from desktop.ui.context import AppContext
from desktop.ui.timeline import MARGIN, SLOT_WIDTH, JourneyTimeline, event_label


def test_a_claims_end_reads_as_its_benefit_and_outcome_in_each_language(ctx: AppContext) -> None:
    ended = JourneyEvent(
        dt.date(2025, 12, 1),
        "claim_end",
        "ui.journey.claim_end",
        {"benefit": "work_injury", "outcome": "paid"},
    )
    shown = {}
    for lang in ("en", "th", "my", "km", "lo"):
        ctx.language.set_language(lang)
        shown[lang] = event_label(ended)
    assert shown["en"].endswith(": Paid")
    assert "work_injury" not in "".join(shown.values())  # the benefit by its name
    assert "paid" not in "".join(shown.values())  # the outcome by its name
    assert len(set(shown.values())) == 5


def test_every_event_lies_inside_the_timeline_however_close_the_dates(qtbot: QtBot) -> None:
    """Three events in a month and four spread over three years: the last (a deadline)
    was drawn past the widget's right edge, where no scrolling reaches it."""
    days = [dt.date(2021, 12, 13), dt.date(2022, 1, 1), dt.date(2022, 1, 1)]
    days += [dt.date(2024, 3, 6), dt.date(2024, 12, 28), dt.date(2025, 2, 19)]
    days += [dt.date(2025, 6, 26)]
    events = [JourneyEvent(day, "arrival", "ui.journey.arrival", {}) for day in days]
    timeline = JourneyTimeline()
    qtbot.addWidget(timeline)
    timeline.set_events(events, dt.date(2026, 3, 15))
    for width in (timeline.sizeHint().width(), 1600):
        timeline.resize(width, timeline.sizeHint().height())
        xs = timeline._x_positions()
        assert xs[-1] + SLOT_WIDTH / 2 <= width
        assert xs[0] >= MARGIN
        assert all(b - a >= SLOT_WIDTH - 0.001 for a, b in itertools.pairwise(xs))
