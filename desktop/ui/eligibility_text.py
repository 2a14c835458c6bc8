"""The eligibility panel's words: each benefit explained in plain language from codes.

The rules engine answers in codes with parameters; this module only turns them into
sentences through the catalogue (no rule is decided here).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from desktop.services.ui_queries import EligibilityLine
from desktop.ui.i18n import format_date, tr


def _params(params: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in dict(params).items():
        if isinstance(value, dt.date):
            shown[key] = format_date(value)
        elif isinstance(value, (list, tuple)):
            shown[key] = ", ".join(str(v) for v in value)
        else:
            shown[key] = value
    return shown


def explain(line: EligibilityLine) -> tuple[str, str, list[str]]:
    """(benefit name, status in words, sentences explaining why and what it pays)."""
    name = tr(f"rule.benefit.{line.benefit}")
    if line.result is None:
        return (
            name,
            tr("ui.eligibility.unknown"),
            [tr(line.error_code or "error.unexpected", **line.error_params)],
        )
    result = line.result
    status = tr(f"rule.status.{result.status}")
    sentences = [tr(result.rule.code, **_params(result.rule.params))]
    sentences += [tr(r.code, **_params(r.params)) for r in result.reasons]
    sentences += [tr(a.code, **_params(a.params)) for a in result.amounts]
    if result.earliest_eligible is not None:
        sentences.append(tr("ui.eligibility.earliest", date=format_date(result.earliest_eligible)))
    # A claim that cannot be made before a later day (a 55th birthday, more months paid)
    # has no filing deadline counted from this event: only the earliest day is said.
    if result.filing_deadline is not None and result.earliest_eligible is None:
        sentences.append(tr("ui.eligibility.deadline", date=format_date(result.filing_deadline)))
    return name, status, sentences


def caveats(lines: Iterable[EligibilityLine]) -> list[str]:
    """What the answers rest on that the sources disagree on (a filing limit of one year or
    two...), each said once for them all, as the calculator says it."""
    settings = dict.fromkeys(
        setting for line in lines if line.result is not None for setting in line.result.unconfirmed
    )
    return [tr("rule.unconfirmed", setting=tr(f"rule.setting.{s}")) for s in settings]
