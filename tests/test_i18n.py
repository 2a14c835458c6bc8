"""The message catalogue: every key in all five languages, placeholders consistent."""

from __future__ import annotations

import functools
import string

import pytest

from desktop.domain import i18n
from desktop.domain.catalogue import ENTITIES, Merge


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


# Fields a caseworker fills in or changes: a refusal or a conflict names them in words.
EDITABLE = [
    ("person", "sex"),
    ("person", "title"),
    ("person", "marital_status"),
    ("person", "birth_date"),
    ("person", "nationality"),
    ("person", "arrived_on"),
    ("person", "languages"),
    ("person", "preferred_language"),
    ("person", "phone"),
    ("person", "line_id"),
    ("person", "address_th"),
    ("person", "address_home"),
    ("person_name", "honorific"),
    ("person_name", "raw_input"),
    ("identity_document", "kind"),
    ("identity_document", "issuing_country"),
    ("employer", "province_code"),
    ("employer", "district"),
    ("employer", "address"),
    ("employer", "contact_name"),
    ("employer", "phone"),
    ("employment", "occupation"),
    ("contribution_month", "source"),
    ("case", "opened_on"),
    ("case", "closed_on"),
    ("track", "benefit"),
    ("track", "path"),
    ("step", "state"),
    ("checklist_item", "note"),
    ("attachment", "description"),
    ("attachment", "filename"),
    ("note", "body"),
    ("consent", "scope"),
    ("consent", "method"),
]


def _text(key: str, lang: str, **params: object) -> str:
    return i18n.text(key, lang, **params)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_field_that_can_conflict_or_a_caseworker_edits_has_a_label(lang: str) -> None:
    reviewed = [
        (entity, f.name)
        for entity, spec in ENTITIES.items()
        for f in spec.fields.values()
        if f.merge is Merge.REVIEW
    ]
    assert reviewed
    translate = functools.partial(_text, lang=lang)
    for entity, name in [*reviewed, *EDITABLE, *((e, "*") for e in ENTITIES)]:
        label = i18n.detail_text(entity, name, translate)
        assert label != f"{entity}.{name}", (lang, entity, name)


def test_a_detail_reads_in_words_and_one_without_a_label_as_the_protocol_names_it() -> None:
    assert i18n.detail_text("person", "birth_date", i18n.text) == "Person: birth date"
    assert i18n.detail_text("employer", "phone", i18n.text) == "Employer: phone"
    assert i18n.detail_text("person_name", "*", i18n.text) == "Name: new record"
    assert i18n.detail_text("note", "deleted", i18n.text) == "Note: deletion"
    assert i18n.detail_text("person_name", "person_id", str) == "person_name.person_id"
    assert i18n.detail_text("widget", "*", str) == "widget.*", "an unknown entity"


def test_a_detail_as_a_parameter_is_put_in_the_language_of_its_message() -> None:
    """An issue made where the reader is not known names its detail in their words."""
    detail = i18n.Detail("person_name", "family_name")
    thai = i18n.text("sync.reason.too_long", "th", detail=detail)
    assert thai.startswith("ชื่อ: นามสกุล ยาวเกิน")
    assert i18n.text("sync.reason.too_long", "en", detail=detail).startswith("Name: family name")
    assert str(detail) == "Name: family name"  # logs and exceptions read English
