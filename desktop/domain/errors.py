"""The two kinds of error: expected problems a person can act on, and bugs.

A :class:`UserError` carries a message-catalogue code and parameters, never display
text, so every layer can raise it and the UI or CLI translates it. Anything else that
escapes is a bug and reaches the crash report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from desktop.domain.validation import Issue


class UserError(Exception):
    """An expected problem (wrong passphrase, bad input, offline) with a next step.

    ``code`` is a key in the message catalogue (``error.*``); ``params`` fill its
    placeholders. ``issues`` carries field-level validation results when there are any.
    """

    def __init__(self, code: str, issues: Iterable[Issue] = (), **params: Any) -> None:
        self.code = code
        self.params = params
        self.issues = tuple(issues)
        super().__init__(self.english())

    def english(self) -> str:
        """The English message, for logs and exceptions; the UI translates ``code`` itself."""
        from desktop.domain.i18n import text

        return text(self.code, "en", **self.params)

    def translated(self, lang: str) -> str:
        from desktop.domain.i18n import text

        return text(self.code, lang, **self.params)


class ValueTooLong(UserError):
    """A change would queue a value longer than the sync catalogue allows.

    Raised by the recorder (:mod:`desktop.models.recorder`) in the flush or bulk write
    that would queue it, so the transaction is not committed: nothing of it is written
    and nothing reaches the outbox. Services find such values first and report them as
    ``value.too_long`` issues (:mod:`desktop.domain.lengths`); this is the backstop for
    whatever did not, and reads as their refusal does ("Some fields are not valid;
    nothing was saved." and the issues). ``entity``, ``field``, ``limit`` and ``length``
    are those of the first value at fault; ``str()`` names every one, for the log.
    """

    def __init__(self, entity: str, issues: Sequence[Issue]) -> None:
        first = issues[0]
        self.entity = entity
        self.field = first.field
        self.limit: int = first.params["limit"]
        self.length: int = first.params["length"]
        super().__init__("error.invalid_input", issues)

    def english(self) -> str:
        values = "; ".join(
            f"{self.entity}.{found.field}: {found.params['length']} characters,"
            f" at most {found.params['limit']}"
            for found in self.issues
        )
        return f"{super().english()} ({values})"
