"""The UI side of the one message catalogue: current language, Qt's own strings, dates.

Every visible string comes from :func:`desktop.domain.i18n.text`. Qt's built-in buttons
(QWizard's Back/Next/Finish, QDialogButtonBox's OK/Cancel) are translated by
:class:`CatalogueTranslator`, a ``QTranslator`` that looks up ``qt.<context>.<source>``
in the same catalogue, because Qt ships no Thai, Burmese, Khmer or Lao translations.

Switching language reinstalls the translator, which makes Qt send ``LanguageChange`` to
every widget; widgets re-read their texts in ``changeEvent``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from PySide6.QtCore import QCoreApplication, QLocale, QObject, QTranslator, Signal

from desktop.domain import i18n
from desktop.domain.dates import PartialDate, ce_to_be_year, format_be, format_ce
from desktop.domain.validation import Issue

_current = i18n.DEFAULT_LANGUAGE
_MNEMONIC = re.compile(r"&(?!&)")


def current() -> str:
    """The language code the UI is showing now."""
    return _current


def tr(key: str, /, **params: Any) -> str:
    """The catalogue text for ``key`` in the current language."""
    return i18n.text(key, _current, **params)


def issue_text(found: Issue) -> str:
    """One validation issue in words, in the current language."""
    return i18n.text(found.code, _current, **dict(found.params))


def format_date(day: dt.date | None) -> str:
    """A date as shown in the UI: Buddhist Era in Thai, ``DD/MM/YYYY`` CE otherwise."""
    if day is None:
        return ""
    if _current == "th":
        return format_be(day)
    return format_ce(day)


def format_partial_date(value: str | None) -> str:
    """A stored partial date (``1990``, ``1990-05``, ``1990-05-17``) as the UI shows dates:
    the Buddhist Era year in Thai; a value that does not parse is shown as stored."""
    if not value:
        return ""
    try:
        found = PartialDate.parse(value)
    except ValueError:
        return value
    exact = found.as_date()
    if exact is not None:
        return format_date(exact)
    if _current != "th":
        return format_ce(found)
    year = ce_to_be_year(found.year, found.month)
    return f"{year:04d}" if found.month is None else f"{found.month:02d}/{year:04d}"


def format_moment(iso: str | None) -> str:
    """A stored ISO timestamp (UTC) as local date and time; Buddhist Era in Thai."""
    if not iso:
        return ""
    try:
        moment = dt.datetime.fromisoformat(iso).astimezone()
    except (ValueError, OverflowError):  # an instant past the calendar's ends, as stored
        return iso
    return f"{format_date(moment.date())} {moment:%H:%M}"


def qt_key(context: str, source: str) -> str:
    """The catalogue key for one of Qt's own strings, mnemonic ampersands removed."""
    cleaned = _MNEMONIC.sub("", source).replace("&&", "&").strip()
    return f"qt.{context}.{cleaned}"


class CatalogueTranslator(QTranslator):
    """Answers Qt's ``tr()`` lookups from the message catalogue for the current language."""

    def __init__(self, lang: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.lang = lang

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str:
        key = qt_key(context, source)
        if not i18n.has(key):
            return ""  # empty means "not mine": Qt keeps its English source text
        translated = i18n.text(key, self.lang)
        # Keep a keyboard mnemonic on Latin text where Qt had one.
        if "&" in source and self.lang == "en":
            return source
        return translated

    def isEmpty(self) -> bool:
        return False


class LanguageSwitch(QObject):
    """Owns the installed translator; ``changed`` fires after every switch."""

    changed = Signal(str)

    _LOCALES: ClassVar[dict[str, str]] = {
        "en": "en_GB",
        "th": "th_TH",
        "my": "my_MM",
        "km": "km_KH",
        "lo": "lo_LA",
    }

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._translator: CatalogueTranslator | None = None

    def set_language(self, lang: str) -> None:
        """Show the UI in ``lang`` (en th my km lo) from now on."""
        global _current
        if lang not in i18n.LANGUAGES:
            raise ValueError(f"unknown language {lang!r}")
        _current = lang
        app = QCoreApplication.instance()
        if self._translator is not None and app is not None:
            QCoreApplication.removeTranslator(self._translator)
        self._translator = CatalogueTranslator(lang, self)
        QLocale.setDefault(QLocale(self._LOCALES[lang]))
        if app is not None:
            # installTranslator posts LanguageChange to every widget: they retranslate.
            QCoreApplication.installTranslator(self._translator)
        self.changed.emit(lang)
