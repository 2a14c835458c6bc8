"""The eligibility panel's words (desktop/ui/eligibility_text.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from desktop.domain.dates import YearMonth
from desktop.domain.eligibility import Benefit, ContributionMonth, Facts, evaluate
from desktop.domain.i18n import text
from desktop.services.ui_queries import EligibilityLine
from desktop.ui.eligibility_text import caveats, explain
from desktop.ui.i18n import LanguageSwitch


def _maternity() -> EligibilityLine:
    first = YearMonth.parse("2025-01")
    paid = tuple(ContributionMonth(first.add_months(i), Decimal(12000), 33) for i in range(14))
    return EligibilityLine(
        "maternity", evaluate(Facts(Benefit.MATERNITY, dt.date(2026, 3, 10), paid))
    )


def test_what_rests_on_a_disputed_rule_is_said_once_with_the_rule_named() -> None:
    """Leave cash for 45 or 90 days, a claim filed within 1 or 2 years: the sources
    disagree, and the caseworker is told before promising the worker an amount or a date,
    once for all the benefits that rest on it."""
    line = _maternity()
    assert line.result is not None
    assert set(line.result.unconfirmed) == {
        "claim_filing_limit_months",
        "maternity_leave_cash_days",
    }
    switch = LanguageSwitch()
    switch.set_language("th")
    try:
        said = caveats([line, line])
        _name, _status, sentences = explain(line)
    finally:
        switch.set_language("en")

    assert said == [
        text("rule.unconfirmed", "th", setting=text(f"rule.setting.{setting}", "th"))
        for setting in line.result.unconfirmed
    ]
    assert not any("claim_filing_limit_months" in s for s in said)
    assert not set(said) & set(sentences)  # once for all the benefits, not under each


def test_a_claim_that_can_only_be_made_later_is_not_given_a_deadline_from_now() -> None:
    """Old age at 49: "not yet 55, reached on ..." and the earliest day, not "file the
    claim by" a year from a claim that cannot be made yet; a claim that can be made is
    given its deadline."""
    young = Facts(
        Benefit.OLD_AGE,
        dt.date(2026, 3, 1),
        birth_date=dt.date(1976, 6, 10),
        employment_end=dt.date(2026, 1, 31),
        contributions=(ContributionMonth(YearMonth.parse("2025-01"), Decimal(9000)),),
    )
    line = EligibilityLine("old_age", evaluate(young))
    assert line.result is not None
    assert line.result.filing_deadline is not None
    _name, _status, sentences = explain(line)
    assert "Earliest date it could qualify: 10/06/2031" in sentences
    assert not any(s.startswith("File the claim by") for s in sentences)
    assert any(s.startswith("File the claim by") for s in explain(_maternity())[2])
