"""The message catalogue: every key in all five languages, placeholders consistent."""

from __future__ import annotations

import string

import pytest

from desktop.domain import i18n


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_key_has_every_language(lang: str) -> None:
    assert i18n.missing_translations(lang) == []


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_placeholders_match_english() -> None:
    wrong = []
    for key, texts in i18n.catalogue().items():
        expected = _fields(texts["en"])
        for lang, template in texts.items():
            if _fields(template) != expected:
                wrong.append(f"{key} [{lang}]")
    assert wrong == []


def test_unknown_key_is_returned_as_is() -> None:
    assert i18n.text("no.such.key", "th") == "no.such.key"


def test_fills_parameters_and_falls_back_to_english() -> None:
    assert i18n.text("error.unexpected", "th").startswith("เกิด")
    assert i18n.text("error.unexpected", "xx") == i18n.text("error.unexpected", "en")
