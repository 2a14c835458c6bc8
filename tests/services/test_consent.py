"""A person's consent (PDPA): recorded by the store's user, withdrawn without deleting,
given again as a new row; bad input refused with nothing written; every row queued for sync."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from desktop.domain.errors import UserError
from desktop.models.entities import Consent, OutboxEntry
from desktop.models.store import Store
from desktop.services import cases, consent, people
from desktop.services.consent import ConsentInput

TODAY = dt.date(2026, 3, 15)


def _person(store: Store) -> tuple[str, str]:
    """A person and their case's id."""
    person = people.create_person(
        store, people.PersonInput(names=[people.NameInput("ဒေါ်အေးအေး")])
    ).person_id
    return person, cases.case_id_for(store, cases.open_case(store, person))


def _consents(store: Store, case_id: str) -> tuple[consent.ConsentView, ...]:
    return cases.get_case_file(store, case_id).consents


def _queued(store: Store) -> list[tuple[str, str, str]]:
    """(entity, row id, field) of every change waiting in the outbox, oldest first."""
    with store.read() as session:
        return [(e.entity, e.row_id, e.field) for e in session.scalars(select(OutboxEntry))]


def _rows(store: Store) -> int:
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(Consent)) or 0


def test_a_consent_is_recorded_by_the_stores_user_on_today_and_queued_for_sync(
    store: Store,
) -> None:
    store.set_setting("user", "ann")
    person, case_id = _person(store)
    before = len(_queued(store))

    made = consent.record_consent(
        store, person, ConsentInput("data_processing", True, "thumbprint"), today=TODAY
    )

    (view,) = _consents(store, case_id)
    assert view == consent.ConsentView(
        made, "data_processing", True, TODAY, "thumbprint", "ann", None
    )
    assert view.status == "given"
    assert ("consent", made, "*") in _queued(store)[before:]  # the whole new row
    with store.read() as session:
        row = session.get(Consent, made)
        assert row is not None
        assert row.office == store.office


def test_a_refusal_and_an_earlier_day_are_recorded_as_told(store: Store) -> None:
    person, case_id = _person(store)
    earlier = TODAY - dt.timedelta(days=3)
    consent.record_consent(
        store, person, ConsentInput("photos", False, "verbal", earlier), today=TODAY
    )
    (view,) = _consents(store, case_id)
    assert (view.given, view.given_on, view.status) == (False, earlier, "refused")


def test_withdrawing_keeps_the_row_with_its_day_and_sends_only_that_change(
    store: Store,
) -> None:
    person, case_id = _person(store)
    made = consent.record_consent(
        store, person, ConsentInput("share_with_sso", True, "signed"), today=TODAY
    )
    before = len(_queued(store))

    consent.withdraw_consent(store, made, today=TODAY + dt.timedelta(days=1))

    (view,) = _consents(store, case_id)
    assert (view.given, view.withdrawn_on, view.status) == (
        True,
        TODAY + dt.timedelta(days=1),
        "withdrawn",
    )
    changes = [(e, f) for e, row, f in _queued(store)[before:] if row == made]
    assert changes == [("consent", "withdrawn_on")]


def test_consent_given_again_after_a_withdrawal_is_a_new_row_and_the_current_one(
    store: Store,
) -> None:
    """The history stays whole; each scope's state is its latest record, and of one day
    the one recorded last."""
    person, case_id = _person(store)
    first = consent.record_consent(
        store, person, ConsentInput("data_processing", True, "verbal", TODAY), today=TODAY
    )
    consent.withdraw_consent(store, first, today=TODAY)
    again = consent.record_consent(
        store, person, ConsentInput("data_processing", True, "signed", TODAY), today=TODAY
    )
    photos = consent.record_consent(
        store, person, ConsentInput("photos", False, "verbal", TODAY - dt.timedelta(1)), today=TODAY
    )

    history = _consents(store, case_id)
    assert [v.id for v in history] == [again, first, photos]  # latest first
    assert [v.status for v in history] == ["given", "withdrawn", "refused"]
    current = consent.current_consents(history)
    assert list(current) == ["data_processing", "photos"]  # never asked about sharing
    assert (current["data_processing"].id, current["photos"].id) == (again, photos)
    assert _rows(store) == 3


def test_withdrawing_twice_or_a_refusal_is_refused(store: Store) -> None:
    person, _case = _person(store)
    given = consent.record_consent(
        store, person, ConsentInput("photos", True, "signed"), today=TODAY
    )
    refused = consent.record_consent(
        store, person, ConsentInput("photos", False, "signed"), today=TODAY
    )
    consent.withdraw_consent(store, given, today=TODAY)
    queued = _queued(store)
    for row_id, code in (
        (given, "error.consent_already_withdrawn"),
        (refused, "error.consent_not_given"),
        ("00000000-0000-0000-0000-000000000000", "error.not_found"),
    ):
        with pytest.raises(UserError) as caught:
            consent.withdraw_consent(store, row_id, today=TODAY)
        assert caught.value.code == code
    assert _queued(store) == queued


@pytest.mark.parametrize(
    ("on", "code"),
    [
        (TODAY + dt.timedelta(days=1), "date.in_future"),
        (TODAY - dt.timedelta(days=11), "consent.withdrawn_before_given"),
    ],
)
def test_a_withdrawal_in_the_future_or_before_the_consent_is_refused(
    store: Store, on: dt.date, code: str
) -> None:
    person, case_id = _person(store)
    made = consent.record_consent(
        store,
        person,
        ConsentInput("photos", True, "signed", TODAY - dt.timedelta(days=10)),
        today=TODAY,
    )
    with pytest.raises(UserError) as caught:
        consent.withdraw_consent(store, made, on=on, today=TODAY)
    assert caught.value.code == "error.invalid_input"
    assert [(i.code, i.field) for i in caught.value.issues] == [(code, "withdrawn_on")]
    assert _consents(store, case_id)[0].withdrawn_on is None


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (ConsentInput("marketing", True, "signed"), [("consent.scope_unknown", "scope")]),
        (ConsentInput("photos", True, "email"), [("consent.method_unknown", "method")]),
        (
            ConsentInput("photos", True, "signed", TODAY + dt.timedelta(days=1)),
            [("date.in_future", "given_on")],
        ),
        (
            ConsentInput("", False, "", TODAY + dt.timedelta(days=400)),
            [
                ("consent.scope_unknown", "scope"),
                ("consent.method_unknown", "method"),
                ("date.in_future", "given_on"),
            ],
        ),
    ],
)
def test_bad_input_is_refused_with_its_issues_and_nothing_is_written(
    store: Store, data: ConsentInput, found: list[tuple[str, str]]
) -> None:
    person, _case = _person(store)
    queued = _queued(store)
    with pytest.raises(UserError) as caught:
        consent.record_consent(store, person, data, today=TODAY)
    assert caught.value.code == "error.invalid_input"
    assert [(i.code, i.field) for i in caught.value.issues] == found
    assert (_rows(store), _queued(store)) == (0, queued)


def test_an_unknown_person_is_refused(store: Store) -> None:
    with pytest.raises(UserError) as caught:
        consent.record_consent(
            store,
            "00000000-0000-0000-0000-000000000000",
            ConsentInput("photos", True, "signed"),
        )
    assert caught.value.code == "error.person_not_found"
    assert _rows(store) == 0


def test_every_scope_and_method_fits_the_field_the_server_accepts() -> None:
    from desktop.domain.catalogue import ENTITIES

    fields = ENTITIES["consent"].fields
    for name, offered in (("scope", consent.SCOPES), ("method", consent.METHODS)):
        limit = fields[name].max_length
        assert limit is not None
        assert max(map(len, offered)) <= limit, name
