"""The journey timeline's labels: each event's kind and parameters in the reader's words."""

from __future__ import annotations

import datetime as dt

from desktop.services.ui_queries import JourneyEvent
from desktop.ui.context import AppContext
from desktop.ui.timeline import event_label


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
