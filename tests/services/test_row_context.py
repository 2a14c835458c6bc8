"""Where a synced row sits for a person: its case file, and its detail named."""

from __future__ import annotations

import functools

import pytest
from sqlalchemy import select

from desktop.domain import i18n
from desktop.domain.catalogue import ENTITIES, Merge
from desktop.models.entities import PersonName
from desktop.models.store import Store
from desktop.services import cases, row_context
from tests.coordination import case_of, make_person

# Fields a caseworker fills in or changes: a refusal or a conflict names them in words.
EDITABLE = [
    ("person", "sex"),
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
        label = row_context.detail_text(entity, name, translate)
        assert label != f"{entity}.{name}", (lang, entity, name)


def test_a_detail_reads_in_words_and_one_without_a_label_as_the_protocol_names_it() -> None:
    assert row_context.detail_text("person", "birth_date", i18n.text) == "Person: birth date"
    assert row_context.detail_text("employer", "phone", i18n.text) == "Employer: phone"
    assert row_context.detail_text("person_name", "*", i18n.text) == "Name: new record"
    assert row_context.detail_text("note", "deleted", i18n.text) == "Note: deletion"
    assert row_context.detail_text("person_name", "person_id", str) == "person_name.person_id"
    assert row_context.detail_text("widget", "*", str) == "widget.*", "an unknown entity"


def test_rows_are_placed_in_the_case_file_they_belong_to_in_one_pass(store: Store) -> None:
    person = make_person(store, "Aung Aung")
    number = cases.open_case(store, person)
    case_id = case_of(store, person)
    note = cases.add_note(store, case_id, "Came with her sister.")
    with store.read() as session:
        name = session.scalars(select(PersonName.id).where(PersonName.person_id == person)).one()
        found = row_context.owners(
            session,
            [
                ("person", person),
                ("person_name", name),
                ("note", note),
                ("note", note),  # asked twice: one answer
                ("employer", "00000000-0000-4000-8000-000000000001"),
                ("step", "00000000-0000-4000-8000-000000000002"),  # not on this device
            ],
        )

    theirs = row_context.Owner(person, "Aung Aung", number, case_id)
    assert found == {
        ("person", person): theirs,
        ("person_name", name): theirs,
        ("note", note): theirs,
        ("employer", "00000000-0000-4000-8000-000000000001"): row_context.Owner(),
        ("step", "00000000-0000-4000-8000-000000000002"): row_context.Owner(),
    }
