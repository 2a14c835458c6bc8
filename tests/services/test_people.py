"""People: names in several scripts, Zawgyi kept for audit, documents with coded warnings."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desktop.domain import i18n
from desktop.domain.errors import UserError
from desktop.domain.ids import thai_id_check_digit
from desktop.domain.validation import Severity
from desktop.models.entities import Person, PersonName
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


def test_a_document_added_twice_is_recorded_once(store: Store) -> None:
    """Add document clicked twice, or the number typed again with its dashes."""
    pid = people.create_person(store, PersonInput(names=[NameInput("Sok Dara")])).person_id
    first, _ = people.add_document(store, pid, DocumentInput("passport", "N1234567"))
    again, _ = people.add_document(store, pid, DocumentInput("passport", "n-123-4567"))
    assert again == first
    assert [d.number for d in people.get_person(store, pid).documents] == ["N1234567"]


def test_unknown_person(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        people.get_person(store, "00000000-0000-0000-0000-000000000000")
    assert caught.value.code == "error.person_not_found"


def _stored(store: Store) -> tuple[int, int]:
    """Rows of every synced kind in the store, and changes waiting in the outbox."""
    from sqlalchemy import func

    from desktop.models.base import synced_classes
    from desktop.models.entities import OutboxEntry

    with store.read() as session:
        rows = sum(
            session.scalar(select(func.count()).select_from(cls)) or 0
            for cls in synced_classes().values()
        )
        return rows, session.scalar(select(func.count()).select_from(OutboxEntry)) or 0


def test_a_value_longer_than_the_server_accepts_is_an_issue_of_the_form_and_nothing_is_saved(
    store: Store,
) -> None:
    """Learnt when saving, not days later at sync: every over-long value is named with its
    limit, among the other issues of what was typed."""
    with pytest.raises(UserError) as caught:
        people.create_person(
            store,
            PersonInput(
                names=[NameInput("Ko Ko"), NameInput("x" * 201, kind="passport")],
                phone="0" * 41,
                documents=[DocumentInput("thai_id", "1234567890120")],
            ),
        )
    assert caught.value.code == "error.invalid_input"
    issues = caught.value.issues
    assert [(i.code, i.field) for i in issues] == [
        ("id.check_digit", "documents.0"),
        ("value.too_long", "phone"),
        ("value.too_long", "names.1.full_name"),
    ]
    assert [(i.params["limit"], i.params["length"]) for i in issues[1:]] == [(40, 41), (200, 201)]
    assert _stored(store) == (0, 0)


def test_values_exactly_at_their_limits_are_saved(store: Store) -> None:
    pid = people.create_person(
        store, PersonInput(names=[NameInput("ก" * 200, kind="thai")], phone="0" * 40)
    ).person_id
    view = people.get_person(store, pid)
    assert (len(view.names[0].full_name), view.phone) == (200, "0" * 40)


UNCONVERTIBLE = "ေမာင္ေမာင္ ဃႉဳ ေက်ာ္ေက်ာ္"  # looks like Zawgyi; converting it would lose text


def test_a_zawgyi_name_that_cannot_be_converted_is_refused_when_conversion_was_asked(
    store: Store,
) -> None:
    """Asked to convert, a name the converter cannot take without loss is not stored as
    typed (it would print as garbage in every Unicode font): the caseworker is asked to
    type it again, and nothing is written. Not asked, it is kept as typed, as before."""
    with pytest.raises(UserError) as refused:
        people.create_person(
            store, PersonInput(names=[NameInput(UNCONVERTIBLE, convert_zawgyi=True)])
        )
    assert [(i.code, i.field) for i in refused.value.issues] == [
        ("text.zawgyi_unconvertible", "names.0.full_name")
    ]
    kept = people.create_person(store, PersonInput(names=[NameInput("Aung Aung")]))
    with pytest.raises(UserError) as again:
        people.add_name(store, kept.person_id, NameInput(UNCONVERTIBLE, convert_zawgyi=True))
    assert [i.code for i in again.value.issues] == ["text.zawgyi_unconvertible"]
    with store.read() as session:
        assert session.query(Person).count() == 1
        assert session.query(PersonName).count() == 1
    people.add_name(store, kept.person_id, NameInput(UNCONVERTIBLE))  # kept as typed


def test_a_name_is_measured_as_stored_cleaned_and_converted_from_zawgyi(store: Store) -> None:
    """Spaces around it do not count; a Zawgyi name within the limit as typed can grow past
    it in Unicode (a kinzi is one Zawgyi character, three Unicode ones)."""
    spaced = "  " + "ก" * 200 + "  "
    pid = people.create_person(store, PersonInput(names=[NameInput(spaced, kind="thai")]))
    zawgyi = " ".join(["အဂၤလိပ္"] * 25)  # 199 characters as typed, 249 in Unicode
    assert len(zawgyi) == 199
    with pytest.raises(UserError) as caught:
        people.add_name(store, pid.person_id, NameInput(zawgyi, convert_zawgyi=True))
    (found,) = caught.value.issues
    assert (found.code, found.field, found.params["length"]) == ("value.too_long", "full_name", 249)
    assert len(people.get_person(store, pid.person_id).names) == 1
    people.add_name(store, pid.person_id, NameInput(zawgyi))  # kept as typed: it fits


def test_an_edit_longer_than_the_server_accepts_is_refused_and_the_value_kept(
    store: Store,
) -> None:
    pid = people.create_person(store, PersonInput(names=[NameInput("Sok Dara")])).person_id
    people.update_person(store, pid, address_th="บ้าน")
    before = _stored(store)
    with pytest.raises(UserError) as caught:
        people.update_person(store, pid, sex="F", address_th="ถนน" * 200)
    assert [(i.field, i.params["length"]) for i in caught.value.issues] == [("address_th", 600)]
    assert _stored(store) == before
    view = people.get_person(store, pid)
    assert (view.address_th, view.sex) == ("บ้าน", None)


def test_a_womans_title_is_recorded_as_chosen_whatever_her_marital_status(store: Store) -> None:
    """Act on Title of Women, B.E. 2551: a married woman may keep Miss (นางสาว)."""
    made = people.create_person(
        store,
        PersonInput(names=[NameInput("Ma Aye")], sex="F", title="miss", marital_status="married"),
    )
    view = people.get_person(store, made.person_id)
    assert (view.title, view.marital_status) == ("miss", "married")
    people.update_person(store, made.person_id, title="mrs", marital_status="divorced")
    view = people.get_person(store, made.person_id)
    assert (view.title, view.marital_status) == ("mrs", "divorced")
    people.update_person(store, made.person_id, title=None, marital_status=None)
    view = people.get_person(store, made.person_id)
    assert (view.title, view.marital_status) == (None, None)


@pytest.mark.parametrize(
    ("details", "codes"),
    [
        ({"title": "ms"}, ["value.unknown_code"]),
        ({"title": "นางสาว"}, ["value.unknown_code"]),  # the code, not the Thai word
        ({"marital_status": "engaged"}, ["value.unknown_code"]),
        ({"sex": "F", "title": "mr"}, ["person.title_sex"]),
        ({"sex": "M", "title": "miss"}, ["person.title_sex"]),
    ],
)
def test_an_unknown_code_or_a_title_of_the_other_sex_saves_nothing(
    store: Store, details: dict[str, str], codes: list[str]
) -> None:
    with pytest.raises(UserError) as caught:
        people.create_person(store, PersonInput(names=[NameInput("Sok Dara")], **details))  # type: ignore[arg-type]
    assert caught.value.code == "error.invalid_input"
    assert [i.code for i in caught.value.issues] == codes
    with store.read() as session:
        assert session.scalars(select(PersonName)).all() == []


def test_an_unknown_code_says_which_detail_and_what_it_takes() -> None:
    [found] = people.code_issues({"title": "lady", "phone": "0812345678"})
    assert found.field == "title"
    assert i18n.text(found.code, "en", **found.params) == (
        'Person: title (Mr, Mrs, Miss) cannot be "lady". Use one of: mr, mrs, miss.'
    )
    assert 'คำนำหน้าชื่อ เป็น "lady" ไม่ได้' in i18n.text(found.code, "th", **found.params)


def test_an_edit_is_checked_against_the_sex_the_person_will_have(store: Store) -> None:
    pid = people.create_person(
        store, PersonInput(names=[NameInput("Ma Aye")], sex="F", title="miss")
    ).person_id
    before = _stored(store)
    for changes in ({"sex": "M"}, {"title": "mr"}, {"title": "mrs", "marital_status": "x"}):
        with pytest.raises(UserError):
            people.update_person(store, pid, **changes)
    assert _stored(store) == before
    # a man's details changed together are checked together
    people.update_person(store, pid, sex="M", title="mr")
    assert people.get_person(store, pid).title == "mr"
    # a code pulled from a newer server is kept, and does not block another edit
    with store.remote_session() as session:
        session.get(Person, pid).marital_status = "separated"
    people.update_person(store, pid, phone="0812345678")
    view = people.get_person(store, pid)
    assert (view.marital_status, view.phone) == ("separated", "0812345678")


def test_a_document_entered_by_mistake_is_removed_and_no_longer_found(store: Store) -> None:
    """A pink card number typed wrong: removed, it is not printed, nor found by its number,
    and the removal travels as a tombstone; the right one stays."""
    from desktop.models.entities import OutboxEntry
    from desktop.services import search

    wrong, right = _pink_card("001234567891"), _pink_card()
    person_id = people.create_person(
        store,
        PersonInput(
            names=[NameInput("Daw Aye Aye", kind="passport")],
            documents=[DocumentInput("pink_card", wrong), DocumentInput("pink_card", right)],
        ),
    ).person_id
    held = {d.number: d.id for d in people.get_person(store, person_id).documents}
    assert [h.person_id for h in search.search(store, wrong)] == [person_id]
    people.remove_document(store, held[wrong])
    assert [d.number for d in people.get_person(store, person_id).documents] == [right]
    assert search.search(store, wrong) == []
    assert [h.person_id for h in search.search(store, right)] == [person_id]
    with store.read() as session:
        queued = session.scalars(
            select(OutboxEntry.field).where(OutboxEntry.row_id == held[wrong])
        ).all()
    assert sorted(queued) == ["*", "deleted"]
    with pytest.raises(UserError) as caught:  # removed already: nothing to remove
        people.remove_document(store, held[wrong])
    assert caught.value.code == "error.not_found"


def test_a_name_entered_by_mistake_is_removed_but_never_the_last(store: Store) -> None:
    person_id = people.create_person(
        store,
        PersonInput(names=[NameInput("ဒေါ်အေးအေး"), NameInput("Daw Aye Aye", kind="passport")]),
    ).person_id
    wrong = people.add_name(store, person_id, NameInput("Daw Aye Ayee", kind="passport"))
    people.remove_name(store, wrong)
    names = people.get_person(store, person_id).names
    assert [n.full_name for n in names] == ["ဒေါ်အေးအေး", "Daw Aye Aye"]
    from desktop.services import search

    assert search.search(store, "Ayee") == []
    people.remove_name(store, names[1].id)
    with pytest.raises(UserError) as caught:  # the last name stays
        people.remove_name(store, names[0].id)
    assert caught.value.code == "error.name_required"
    assert [n.full_name for n in people.get_person(store, person_id).names] == ["ဒေါ်အေးအေး"]
    with pytest.raises(UserError) as caught:
        people.remove_name(store, wrong)
    assert caught.value.code == "error.not_found"


def test_a_document_s_dates_and_status_are_corrected_field_by_field(store: Store) -> None:
    import datetime as dt

    from desktop.models.entities import OutboxEntry

    person_id = people.create_person(
        store,
        PersonInput(
            names=[NameInput("Daw Aye Aye", kind="passport")],
            documents=[DocumentInput("passport", "MA1234567")],
        ),
    ).person_id
    (doc,) = people.get_person(store, person_id).documents
    issued, expires = dt.date(2022, 5, 1), dt.date(2032, 4, 30)
    assert people.update_document(
        store, doc.id, issued_on=issued, expires_on=expires, status="current"
    )
    assert not people.update_document(  # the same again: nothing written
        store, doc.id, issued_on=issued, expires_on=expires, status="current"
    )
    assert people.update_document(
        store, doc.id, issued_on=issued, expires_on=expires, status="lost"
    )
    (doc,) = people.get_person(store, person_id).documents
    assert (doc.issued_on, doc.expires_on, doc.status) == (issued, expires, "lost")
    with store.read() as session:
        queued = session.scalars(select(OutboxEntry.field).where(OutboxEntry.row_id == doc.id))
        assert sorted(queued) == ["*", "expires_on", "issued_on", "status"]
    with pytest.raises(UserError) as caught:
        people.update_document(store, doc.id, issued_on=expires, expires_on=issued, status="stolen")
    assert [i.code for i in caught.value.issues] == [
        "document.status_unknown",
        "document.expires_before_issued",
    ]
    (doc,) = people.get_person(store, person_id).documents
    assert (doc.issued_on, doc.status) == (issued, "lost")
