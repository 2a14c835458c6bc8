"""People: names in several scripts, Zawgyi kept for audit, documents with coded warnings."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.domain.ids import thai_id_check_digit
from desktop.domain.validation import Severity
from desktop.models.entities import PersonName
from desktop.models.store import Store
from desktop.services import people
from desktop.services.people import DocumentInput, NameInput, PersonInput

ZAWGYI_MAUNG_MAUNG = "ေမာင္ေမာင္"  # "မောင်မောင်" typed with a Zawgyi keyboard


def _pink_card(first12: str = "001234567890") -> str:
    return first12 + str(thai_id_check_digit(first12))


def test_burmese_name_without_surname_and_honorific(store: Store) -> None:
    result = people.create_person(
        store,
        PersonInput(names=[NameInput("ဒေါ်အေးအေး"), NameInput("Daw Aye Aye", kind="passport")]),
    )
    view = people.get_person(store, result.person_id)
    native = next(n for n in view.names if n.kind == "native")
    assert native.script == "myanmar"
    assert native.family_name is None
    assert native.honorific == "daw"
    assert view.display_name == "ဒေါ်အေးအေး"


def test_zawgyi_name_is_converted_only_when_confirmed_and_raw_kept(store: Store) -> None:
    converted = people.create_person(
        store, PersonInput(names=[NameInput(ZAWGYI_MAUNG_MAUNG, convert_zawgyi=True)])
    )
    kept = people.create_person(store, PersonInput(names=[NameInput(ZAWGYI_MAUNG_MAUNG)]))
    with store.read() as session:
        first = session.scalars(
            select(PersonName).where(PersonName.person_id == converted.person_id)
        ).one()
        second = session.scalars(
            select(PersonName).where(PersonName.person_id == kept.person_id)
        ).one()
    assert first.full_name == "မောင်မောင်"
    assert first.raw_input == [ZAWGYI_MAUNG_MAUNG]
    assert second.full_name == ZAWGYI_MAUNG_MAUNG
    assert second.raw_input is None


def test_pink_card_with_bad_check_digit_is_a_warning_not_a_block(store: Store) -> None:
    good = _pink_card()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    result = people.create_person(
        store,
        PersonInput(names=[NameInput("Ko Ko")], documents=[DocumentInput("pink_card", bad)]),
    )
    assert [w.code for w in result.warnings] == ["id.check_digit"]
    assert result.warnings[0].severity is Severity.WARNING
    assert people.get_person(store, result.person_id).documents[0].number == bad


def test_thai_id_with_bad_check_digit_blocks_and_saves_nothing(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        people.create_person(
            store,
            PersonInput(
                names=[NameInput("สมชาย ใจดี", kind="thai")],
                documents=[DocumentInput("thai_id", "1234567890120")],
            ),
        )
    assert caught.value.code == "error.invalid_input"
    assert [i.code for i in caught.value.issues] == ["id.check_digit"]
    with store.read() as session:
        assert session.scalars(select(PersonName)).all() == []


def test_a_person_needs_a_name(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        people.create_person(store, PersonInput(names=[NameInput("   ")]))
    assert [i.code for i in caught.value.issues] == ["error.name_required"]


def test_document_history_and_update(store: Store) -> None:
    pid = people.create_person(
        store, PersonInput(names=[NameInput("Sok Dara")], nationality="KHM")
    ).person_id
    people.add_document(store, pid, DocumentInput("passport", "n1234567", issuing_country="KHM"))
    people.add_document(store, pid, DocumentInput("passport", "N7654321", status="current"))
    people.update_person(store, pid, phone="0899999999")
    view = people.get_person(store, pid)
    assert {d.number for d in view.documents} == {"N1234567", "N7654321"}
    assert view.phone == "0899999999"
    with pytest.raises(ValueError, match="not person fields"):
        people.update_person(store, pid, office="elsewhere")


def test_unknown_person(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        people.get_person(store, "00000000-0000-0000-0000-000000000000")
    assert caught.value.code == "error.person_not_found"
