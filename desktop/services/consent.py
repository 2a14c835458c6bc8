"""A person's consent (PDPA, design.md §5): recorded, withdrawn, read for the case file.

Each consent the person gives or refuses is one row, for one scope (what it allows: the
processing of their data, sharing it with the Social Security Office, photos), with how
it was expressed and on which day; the store's user recorded it. Nothing is ever
deleted: withdrawing a consent sets the day it was withdrawn on its row, and consent
given again afterwards is a new row, so the case file keeps the whole history.

The current state of a scope is its latest record: the one given or refused on the
latest day, and of one day the one recorded last (ids are time-ordered). A scope with no
record has no state: the person was never asked.

Scopes and methods are fixed (:data:`SCOPES`, :data:`METHODS`); anything else, or a day
in the future, is ``error.invalid_input`` with its issues, and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.domain import dates
from desktop.domain.errors import UserError
from desktop.domain.validation import Issue, issue
from desktop.models.base import live_row
from desktop.models.entities import Consent
from desktop.models.store import Store
from desktop.services.people import live_person

# What a consent allows; the catalogue's ``consent.scope``.
SCOPES = ("data_processing", "share_with_sso", "photos")
# How the person expressed it; the catalogue's ``consent.method``.
METHODS = ("verbal", "signed", "thumbprint")


@dataclass(frozen=True)
class ConsentInput:
    scope: str
    given: bool  # False: the person refused
    method: str
    given_on: dt.date | None = None  # None: today


@dataclass(frozen=True)
class ConsentView:
    id: str
    scope: str
    given: bool
    given_on: dt.date | None
    method: str | None
    recorded_by: str | None
    withdrawn_on: dt.date | None

    @property
    def status(self) -> str:
        """``given`` (in force), ``refused`` or ``withdrawn``."""
        if self.withdrawn_on is not None:
            return "withdrawn"
        return "given" if self.given else "refused"


def consent_issues(data: ConsentInput, today: dt.date) -> list[Issue]:
    """What refuses ``data``: a scope or method not offered, a day after ``today``."""
    found: list[Issue] = []
    if data.scope not in SCOPES:
        found.append(
            issue("consent.scope_unknown", "scope", scope=data.scope, scopes=", ".join(SCOPES))
        )
    if data.method not in METHODS:
        found.append(
            issue(
                "consent.method_unknown", "method", method=data.method, methods=", ".join(METHODS)
            )
        )
    if data.given_on is not None:
        found += dates.not_in_future(data.given_on, today, "given_on")
    return found


def record_consent(
    store: Store, person_id: str, data: ConsentInput, *, today: dt.date | None = None
) -> str:
    """Record a consent given or refused, recorded by the store's user; returns its id.

    ``today`` is the day it is recorded (the date given defaults to it). Bad input is
    ``error.invalid_input`` with its issues; an unknown person ``error.person_not_found``.
    """
    today = today or dt.date.today()
    found = consent_issues(data, today)
    if found:
        raise UserError("error.invalid_input", issues=found)
    with store.session() as session:
        person = live_person(session, person_id)
        row = Consent(
            office=person.office,
            person_id=person.id,
            scope=data.scope,
            given=data.given,
            given_on=data.given_on or today,
            method=data.method,
            recorded_by=store.user,
        )
        session.add(row)
        session.flush()
        return row.id


def withdraw_consent(
    store: Store, consent_id: str, *, on: dt.date | None = None, today: dt.date | None = None
) -> None:
    """Withdraw a consent given: its row keeps it, with the day (``on``, default today).

    A consent already withdrawn is ``error.consent_already_withdrawn``, a refusal
    ``error.consent_not_given``; a day in the future or before the consent was given is
    ``error.invalid_input``.
    """
    today = today or dt.date.today()
    day = on or today
    with store.session() as session:
        row = live_row(session, Consent, consent_id)
        if row.withdrawn_on is not None:
            raise UserError("error.consent_already_withdrawn", day=row.withdrawn_on.isoformat())
        if not row.given:
            raise UserError("error.consent_not_given")
        found = dates.not_in_future(day, today, "withdrawn_on")
        if row.given_on is not None and day < row.given_on:
            found.append(issue("consent.withdrawn_before_given", "withdrawn_on"))
        if found:
            raise UserError("error.invalid_input", issues=found)
        row.withdrawn_on = day


def consent_views(session: Session, person_id: str) -> tuple[ConsentView, ...]:
    """Every consent of the person, inside the caller's transaction: the latest first."""
    rows = session.scalars(
        select(Consent).where(Consent.person_id == person_id, Consent.deleted.is_(False))
    ).all()
    views = [
        ConsentView(
            r.id,
            r.scope or "",
            bool(r.given),
            r.given_on,
            r.method,
            r.recorded_by,
            r.withdrawn_on,
        )
        for r in rows
    ]
    return tuple(sorted(views, key=_recency, reverse=True))


def current_consents(consents: Iterable[ConsentView]) -> dict[str, ConsentView]:
    """The latest record of each scope the person was asked about, in :data:`SCOPES`'
    order (a scope not offered, pulled from elsewhere, after them)."""
    latest: dict[str, ConsentView] = {}
    for view in sorted(consents, key=_recency):
        latest[view.scope] = view
    order = {scope: i for i, scope in enumerate(SCOPES)}
    return dict(sorted(latest.items(), key=lambda item: order.get(item[0], len(SCOPES))))


def _recency(view: ConsentView) -> tuple[dt.date, str]:
    """Oldest first: by the day given or refused, then the order recorded (UUIDv7 ids)."""
    return view.given_on or dt.date.min, view.id


def shares_with_sso(store: Store, case: str) -> bool:
    """Whether the person of ``case`` (number or id) has agreed, and not withdrawn, that
    their data be shared with the Social Security Office: what a packet printed for the
    SSO hands over. False for a person never asked."""
    from desktop.services.cases import find_case  # cases reads consents for the case file

    with store.read() as session:
        person_id = find_case(session, case).person_id
        current = current_consents(consent_views(session, person_id)).get("share_with_sso")
    return current is not None and current.status == "given"
