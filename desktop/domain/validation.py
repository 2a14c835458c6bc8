"""Validation results as data: a code, the field it concerns, a severity and parameters.

Validators never produce display text. The UI, the CLI and the PDFs translate an
``Issue`` through the message catalogue (:mod:`desktop.domain.i18n`), using
``Issue.code`` as the catalogue key and ``Issue.params`` for the placeholders.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


class Severity(enum.Enum):
    """How much an issue matters: an error blocks saving, a warning is shown and allowed."""

    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Issue:
    """One coded finding about one field, e.g. ``Issue("id.check_digit", "number", WARNING)``."""

    code: str
    field: str = ""
    severity: Severity = Severity.ERROR
    params: Mapping[str, Any] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def has_errors(issues: Iterable[Issue]) -> bool:
    """True when any issue blocks the operation."""
    return any(issue.is_error for issue in issues)


def issue(code: str, field: str = "", severity: Severity = Severity.ERROR, **params: Any) -> Issue:
    """Shorthand constructor keeping ``params`` immutable."""
    return Issue(code, field, severity, MappingProxyType(dict(params)))
