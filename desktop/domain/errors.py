"""The two kinds of error: expected problems a person can act on, and bugs.

A :class:`UserError` carries a message-catalogue code and parameters, never display
text, so every layer can raise it and the UI or CLI translates it. Anything else that
escapes is a bug and reaches the crash report.
"""

from __future__ import annotations

from collections.abc import Iterable
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
