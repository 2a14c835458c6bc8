"""Rule data: the bundled files load, every period is dated and sourced, bad data is refused."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from desktop.domain import rules
from desktop.domain.errors import UserError
from desktop.domain.rules import Confidence, RuleDataError

URL = "https://example.org/source"


def period(value: Any = 1, start: Any = dt.date(2020, 1, 1), end: Any = None, **extra: Any):
    raw = {"value": value, "effective_from": start, "confidence": "ok", "source": [URL], **extra}
    if end is not None:
        raw["effective_to"] = end
    return raw


def book_of(**rules_: Any) -> rules.RuleBook:
    return rules.parse({"test.yaml": {"rules": rules_}})


def test_bundled_rules_load_with_sources_and_confidence() -> None:
    book = rules.load()
    assert len(book.rules) > 40
    for rule in book.rules.values():
        for item in rule.periods:
            assert item.sources
            assert all(source.startswith("http") for source in item.sources)
            assert isinstance(item.confidence, Confidence)
        assert rule.periods[-1].effective_to is None, f"{rule.key} has no period in force"


@pytest.mark.parametrize(
    ("key", "on", "value"),
    [
        ("wage_ceiling", dt.date(2025, 12, 31), 15000),
        ("wage_ceiling", dt.date(2026, 1, 1), 17500),
        ("wage_ceiling", dt.date(2028, 12, 31), 17500),
        ("wage_ceiling", dt.date(2029, 1, 1), 20000),
        ("wage_ceiling", dt.date(2032, 1, 1), 23000),
        ("wage_floor", dt.date(2032, 1, 1), 1650),
        ("maternity_lump_sum", dt.date(2020, 12, 31), 13000),
        ("maternity_lump_sum", dt.date(2021, 1, 1), 15000),
    ],
)
def test_date_effective_lookup(key: str, on: dt.date, value: int) -> None:
    assert rules.load().decimal(key, on) == Decimal(value)


def test_changed_values_keep_every_period() -> None:
    book = rules.load()
    ceiling = book.rule("wage_ceiling").periods
    assert [p.value for p in ceiling] == [15000, 17500, 20000, 23000]
    laid_off = book.rule("unemployment_laid_off").periods
    assert laid_off[1].effective_from == dt.date(2025, 6, 28)
    assert [p.value["rate"] for p in laid_off] == [0.5, 0.6]
    window = book.rule("qualifying_maternity").periods
    assert [p.value["required"] for p in window] == [7, 5]
    child = book.rule("qualifying_child_allowance").periods
    assert [p.value["window"] for p in child] == [30, 36]


def test_disputed_values_are_settings_with_the_safer_default() -> None:
    book = rules.load()
    assert book.setting("claim_filing_limit_months") == 12
    assert book.setting("maternity_leave_cash_days") == 45
    assert book.setting("benefit_wage_cap") == "legacy_15000"
    for setting in book.settings.values():
        assert setting.confidence is Confidence.CONFLICT
        assert setting.sources


def test_with_settings_chooses_an_option_and_keeps_earlier_choices() -> None:
    book = rules.load().with_settings(claim_filing_limit_months=24)
    both = book.with_settings(maternity_leave_cash_days=90)
    assert both.setting("claim_filing_limit_months") == 24
    assert both.setting("maternity_leave_cash_days") == 90
    assert rules.load().setting("claim_filing_limit_months") == 12


def test_with_settings_refuses_unknown_settings_and_options() -> None:
    with pytest.raises(UserError) as caught:
        rules.load().with_settings(no_such=1)
    assert caught.value.code == "error.rule_unknown_setting"
    with pytest.raises(UserError) as caught:
        rules.load().with_settings(claim_filing_limit_months=18)
    assert caught.value.code == "error.rule_bad_option"
    assert caught.value.params["options"] == "12, 24"


def test_typed_accessors() -> None:
    book = book_of(
        count={"periods": [period(3)]},
        rate={"periods": [period(0.0275)]},
        flag={"periods": [period(True)]},
        table={"periods": [period({"a": [1, 2]})]},
        words={"periods": [period("text")]},
    )
    on = dt.date(2024, 1, 1)
    assert book.integer("count", on) == 3
    assert book.decimal("rate", on) == Decimal("0.0275")
    assert book.mapping("table", on)["a"] == (1, 2)
    with pytest.raises(RuleDataError):
        book.integer("flag", on)
    with pytest.raises(RuleDataError):
        book.integer("words", on)
    with pytest.raises(RuleDataError):
        book.mapping("count", on)
    with pytest.raises(RuleDataError):
        book.decimal("flag", on)
    with pytest.raises(RuleDataError):
        book.decimal("table", on)
    with pytest.raises(RuleDataError):
        book.rule("missing")
    with pytest.raises(RuleDataError):
        book.setting("missing")
    with pytest.raises(TypeError):
        book.mapping("table", on)["b"] = 1  # type: ignore[index]


def test_date_outside_every_period_is_a_user_error() -> None:
    book = book_of(x={"periods": [period(1, dt.date(2020, 1, 1), dt.date(2020, 12, 31))]})
    with pytest.raises(UserError) as caught:
        book.value("x", dt.date(2021, 1, 1))
    assert caught.value.params == {"rule": "x", "date": "2021-01-01"}
    with pytest.raises(UserError):
        book.value("x", dt.date(2019, 12, 31))


def test_a_single_source_may_be_a_string() -> None:
    raw = period()
    raw["source"] = URL
    assert book_of(x={"periods": [raw]}).period("x", dt.date(2021, 1, 1)).sources == (URL,)


def _bad_period(**change: Any) -> dict[str, Any]:
    raw = period()
    raw.update(change)
    return {k: v for k, v in raw.items() if v is not None}


@pytest.mark.parametrize(
    "rule",
    [
        {"periods": [_bad_period(source=None)]},
        {"periods": [_bad_period(source=["not a url"])]},
        {"periods": [_bad_period(confidence="sure")]},
        {"periods": [_bad_period(effective_from="2020-01-01")]},
        {"periods": [_bad_period(effective_from=None)]},
        {"periods": [_bad_period(effective_to=dt.date(2019, 1, 1))]},
        {"periods": [_bad_period(effective_to="soon")]},
        {"periods": [{"effective_from": dt.date(2020, 1, 1)}]},
        {"periods": ["just text"]},
        {"periods": []},
        {"value": 1},
        "not a mapping",
        # a gap, an overlap, and an open-ended period followed by another
        {"periods": [period(1, end=dt.date(2020, 6, 1)), period(2, dt.date(2020, 6, 3))]},
        {"periods": [period(1, end=dt.date(2020, 6, 1)), period(2, dt.date(2020, 6, 1))]},
        {"periods": [period(1), period(2, dt.date(2021, 1, 1))]},
    ],
)
def test_malformed_rules_are_refused(rule: Any) -> None:
    with pytest.raises(RuleDataError):
        book_of(x=rule)


def test_consecutive_periods_are_accepted() -> None:
    book = book_of(
        x={"periods": [period(1, end=dt.date(2020, 6, 1)), period(2, dt.date(2020, 6, 2))]}
    )
    assert book.value("x", dt.date(2020, 6, 1)) == 1
    assert book.value("x", dt.date(2020, 6, 2)) == 2


SETTING = {"options": [1, 2], "default": 1, "confidence": "conflict", "source": [URL]}


@pytest.mark.parametrize(
    "setting",
    [
        "not a mapping",
        {**SETTING, "options": "1 or 2"},
        {**SETTING, "default": 3},
        {**SETTING, "source": []},
    ],
)
def test_malformed_settings_are_refused(setting: Any) -> None:
    with pytest.raises(RuleDataError):
        rules.parse({"s.yaml": {"settings": {"x": setting}}})


def test_keys_defined_twice_or_bad_files_are_refused() -> None:
    one = {"rules": {"x": {"periods": [period()]}}, "settings": {"s": SETTING}}
    with pytest.raises(RuleDataError, match="rule 'x'"):
        rules.parse({"a.yaml": one, "b.yaml": {"rules": copy.deepcopy(one["rules"])}})
    with pytest.raises(RuleDataError, match="setting 's'"):
        rules.parse({"a.yaml": one, "b.yaml": {"settings": {"s": SETTING}}})
    with pytest.raises(RuleDataError, match="top level"):
        rules.parse({"a.yaml": ["list"]})
    assert rules.parse({"empty.yaml": {}}).rules == {}


def test_load_reads_the_bundled_files_afresh() -> None:
    # The cache may first have been filled on a worker thread, where coverage does not
    # trace: load once more here so the engine's coverage does not depend on test order.
    rules.load.cache_clear()
    assert rules.load().value("wage_ceiling", on=dt.date(2026, 1, 1)) == 17500
