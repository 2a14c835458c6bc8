"""Versioned rule data: every rate, window, amount and deadline, looked up by date.

The data lives in ``resources/rules/*.yaml`` (format described at the top of
``contributions.yaml``). Each rule keeps every period that ever applied, with its public
sources and a confidence tag, so a claim for a 2024 delivery is judged by the 2024 rule.

Values the sources disagree on are **settings** (``settings.yaml``): each has options and
a safer default; a caller may choose another option with :meth:`RuleBook.with_settings`.
Results computed from a setting name it so the UI can show it as unconfirmed.

Usage::

    book = rules.load()
    book.decimal("wage_ceiling", on=date(2026, 3, 1))   # Decimal("17500")
    book.setting("claim_filing_limit_months")          # 12 (the safer default)
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from desktop.domain.errors import UserError
from desktop.domain.resources import load_yaml, resource_path


class Confidence(enum.Enum):
    """How sure the sources are (domain.md tags [OK], [1-SRC], [CONFLICT], [UNVERIFIED])."""

    OK = "ok"
    ONE_SOURCE = "one_source"
    CONFLICT = "conflict"
    UNVERIFIED = "unverified"


class RuleDataError(ValueError):
    """A rule file is malformed: a bug in the bundled data, caught by the test suite."""


@dataclass(frozen=True)
class Period:
    """One value of a rule and the dates it applied (``effective_to`` inclusive, None = open)."""

    value: Any
    effective_from: dt.date
    effective_to: dt.date | None
    sources: tuple[str, ...]
    confidence: Confidence
    note: str = ""

    def covers(self, on: dt.date) -> bool:
        """True when ``on`` falls inside this period."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)


@dataclass(frozen=True)
class Rule:
    """A named rule with all its periods, oldest first."""

    key: str
    unit: str
    periods: tuple[Period, ...]


@dataclass(frozen=True)
class Setting:
    """A value the sources disagree on: the options, the safer default, and why."""

    key: str
    options: tuple[Any, ...]
    default: Any
    sources: tuple[str, ...]
    confidence: Confidence
    note: str = ""


@dataclass(frozen=True)
class RuleBook:
    """All rules and settings, with the setting choices in force (defaults unless chosen)."""

    rules: Mapping[str, Rule]
    settings: Mapping[str, Setting]
    choices: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def rule(self, key: str) -> Rule:
        """The rule named ``key``; an unknown key is a bug in the caller or the data."""
        try:
            return self.rules[key]
        except KeyError:
            raise RuleDataError(f"no rule named {key!r}") from None

    def period(self, key: str, on: dt.date) -> Period:
        """The period of ``key`` in force on ``on``.

        Raises :class:`UserError` ``error.rule_no_value`` when the date is outside every
        recorded period (e.g. a date before the rule data starts).
        """
        for period in self.rule(key).periods:
            if period.covers(on):
                return period
        raise UserError("error.rule_no_value", rule=key, date=on.isoformat())

    def value(self, key: str, on: dt.date) -> Any:
        """The raw value of ``key`` on ``on`` (number, text or read-only mapping)."""
        return self.period(key, on).value

    def decimal(self, key: str, on: dt.date) -> Decimal:
        """A numeric rule as an exact :class:`Decimal` (floats go through ``str``)."""
        return to_decimal(self.value(key, on), key)

    def integer(self, key: str, on: dt.date) -> int:
        """A whole-number rule (months, days, counts)."""
        value = self.value(key, on)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RuleDataError(f"rule {key!r} is not a whole number: {value!r}")
        return value

    def mapping(self, key: str, on: dt.date) -> Mapping[str, Any]:
        """A structured rule (e.g. a qualifying window ``{required: 5, window: 15}``)."""
        value = self.value(key, on)
        if not isinstance(value, Mapping):
            raise RuleDataError(f"rule {key!r} is not a mapping: {value!r}")
        return value

    def setting(self, key: str) -> Any:
        """The chosen option of a disputed setting (the safer default unless chosen)."""
        try:
            definition = self.settings[key]
        except KeyError:
            raise RuleDataError(f"no setting named {key!r}") from None
        return self.choices.get(key, definition.default)

    def with_settings(self, **choices: Any) -> RuleBook:
        """A copy with some settings chosen; an unknown setting or option is a UserError."""
        for key, option in choices.items():
            definition = self.settings.get(key)
            if definition is None:
                raise UserError("error.rule_unknown_setting", setting=key)
            if option not in definition.options:
                options = ", ".join(str(o) for o in definition.options)
                raise UserError("error.rule_bad_option", setting=key, options=options)
        merged = {**self.choices, **choices}
        return RuleBook(self.rules, self.settings, MappingProxyType(merged))


def to_decimal(value: Any, key: str = "") -> Decimal:
    """Exact decimal of a YAML number (``0.0275`` stays 0.0275, not a binary float)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise RuleDataError(f"rule {key!r} is not a number: {value!r}")
    return Decimal(str(value))


def _freeze(value: Any) -> Any:
    """Read-only copies of YAML mappings and lists, so rule values cannot be edited."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _sources(raw: Mapping[str, Any], where: str) -> tuple[str, ...]:
    sources = raw.get("source")
    if isinstance(sources, str):
        sources = [sources]
    if not sources or not all(isinstance(s, str) and s.startswith("http") for s in sources):
        raise RuleDataError(f"{where}: needs 'source' with at least one public URL")
    return tuple(sources)


def _confidence(raw: Mapping[str, Any], where: str) -> Confidence:
    try:
        return Confidence(raw.get("confidence"))
    except ValueError:
        raise RuleDataError(f"{where}: confidence must be one of ok/one_source/...") from None


def _date(raw: Any, where: str) -> dt.date:
    if not isinstance(raw, dt.date):
        raise RuleDataError(f"{where}: not a YYYY-MM-DD date: {raw!r}")
    return raw


def _period(raw: Any, where: str) -> Period:
    if not isinstance(raw, Mapping) or "value" not in raw:
        raise RuleDataError(f"{where}: a period needs a 'value'")
    start = _date(raw.get("effective_from"), f"{where}.effective_from")
    end = raw.get("effective_to")
    if end is not None:
        end = _date(end, f"{where}.effective_to")
        if end < start:
            raise RuleDataError(f"{where}: effective_to is before effective_from")
    return Period(
        value=_freeze(raw["value"]),
        effective_from=start,
        effective_to=end,
        sources=_sources(raw, where),
        confidence=_confidence(raw, where),
        note=str(raw.get("note", "")),
    )


def _rule(key: str, raw: Any, where: str) -> Rule:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("periods"), list):
        raise RuleDataError(f"{where}: a rule needs a list of 'periods'")
    periods = tuple(_period(p, f"{where}[{i}]") for i, p in enumerate(raw["periods"]))
    if not periods:
        raise RuleDataError(f"{where}: a rule needs at least one period")
    for earlier, later in itertools.pairwise(periods):
        # Periods must follow each other without overlap or gap, so exactly one applies.
        if earlier.effective_to is None or later.effective_from != earlier.effective_to + (
            dt.timedelta(days=1)
        ):
            raise RuleDataError(f"{where}: periods must be consecutive, oldest first")
    return Rule(key=key, unit=str(raw.get("unit", "")), periods=periods)


def _setting(key: str, raw: Any, where: str) -> Setting:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("options"), list):
        raise RuleDataError(f"{where}: a setting needs a list of 'options'")
    options = tuple(_freeze(o) for o in raw["options"])
    if raw.get("default") not in options:
        raise RuleDataError(f"{where}: the default must be one of the options")
    return Setting(
        key=key,
        options=options,
        default=raw["default"],
        sources=_sources(raw, where),
        confidence=_confidence(raw, where),
        note=str(raw.get("note", "")),
    )


def parse(documents: Mapping[str, Any]) -> RuleBook:
    """Build a :class:`RuleBook` from parsed YAML documents keyed by file name.

    Raises :class:`RuleDataError` on any malformed entry or a key defined twice.
    """
    rules: dict[str, Rule] = {}
    settings: dict[str, Setting] = {}
    for name, document in documents.items():
        if not isinstance(document, Mapping):
            raise RuleDataError(f"{name}: top level must be a mapping")
        for key, raw in (document.get("rules") or {}).items():
            if key in rules:
                raise RuleDataError(f"{name}: rule {key!r} is defined twice")
            rules[key] = _rule(key, raw, f"{name}:{key}")
        for key, raw in (document.get("settings") or {}).items():
            if key in settings:
                raise RuleDataError(f"{name}: setting {key!r} is defined twice")
            settings[key] = _setting(key, raw, f"{name}:{key}")
    return RuleBook(MappingProxyType(rules), MappingProxyType(settings))


def read_documents() -> dict[str, Any]:
    """The parsed YAML of every bundled rule file, keyed by file name."""
    folder = resource_path("rules")
    return {path.name: load_yaml(path) for path in sorted(folder.glob("*.yaml"))}


@functools.cache
def load() -> RuleBook:
    """The bundled rule book with default settings, loaded once."""
    return parse(read_documents())
