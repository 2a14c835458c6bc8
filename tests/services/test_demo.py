"""Demo data: deterministic by seed, realistic shape, recorded like any other write."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from desktop.domain import catalogue, ids, text, workflow
from desktop.domain.errors import UserError
from desktop.models.entities import (
    AuditEvent,
    Case,
    IdentityDocument,
    OutboxEntry,
    Person,
    PersonName,
    Step,
    Track,
)
from desktop.models.store import Store, create_store
from desktop.services import cases, demo, printing, steps

os.environ.setdefault("SAPAN_KDF_N", "1024")
TODAY = dt.date(2026, 3, 15)


def _snapshot(store: Store) -> list[tuple[str, str, str]]:
    with store.read() as session:
        names = session.execute(select(PersonName.id, PersonName.full_name, PersonName.kind))
        return sorted((a, b or "", c or "") for a, b, c in names)


def test_same_seed_same_data_other_seed_other_data(store: Store, tmp_path: Path) -> None:
    demo.generate(store, 12, seed=3, today=TODAY)
    with create_store(tmp_path / "b", "correct horse battery") as again:
        demo.generate(again, 12, seed=3, today=TODAY)
        assert _snapshot(again) == _snapshot(store)
    with create_store(tmp_path / "c", "correct horse battery") as other:
        demo.generate(other, 12, seed=4, today=TODAY)
        assert _snapshot(other) != _snapshot(store)


def test_what_the_demo_queues_to_send_is_what_it_stored(store: Store) -> None:
    """Every demo row's outbox entry holds the row as stored: a value changed after the row
    was queued (an arrival moved once, in this session's first try) would reach the server
    differently from what the laptop shows."""
    demo.generate(store, 40, seed=2, today=TODAY)
    with store.read() as session:
        queued = {
            (e.entity, e.row_id): json.loads(e.value)
            for e in session.scalars(select(OutboxEntry).where(OutboxEntry.field == "*"))
        }
        for cls in (Person, PersonName, IdentityDocument, Case, Track, Step):
            spec = catalogue.entity(cls.__entity__)
            for row in session.scalars(select(cls)):
                stored = {
                    name: catalogue.to_wire(field, getattr(row, name))
                    for name, field in spec.fields.items()
                }
                sent = queued[(spec.name, row.id)]
                assert {k: v for k, v in stored.items() if v is not None} == sent, row.id


def test_names_in_every_script_and_valid_pink_cards(store: Store) -> None:
    demo.generate(store, 150, seed=1, today=TODAY)
    with store.read() as session:
        scripts = set(session.scalars(select(PersonName.script)))
        pinks = list(
            session.scalars(
                select(IdentityDocument.number).where(IdentityDocument.kind == "pink_card")
            )
        )
        states = set(session.scalars(select(Step.state)))
        benefits = set(session.scalars(select(Track.benefit)))
    assert {"myanmar", "khmer", "lao", "thai", "latin"} <= scripts
    assert all(p.startswith("00") and len(p) == 13 for p in pinks)
    valid = sum(ids.is_valid_thai_id_checksum(p) for p in pinks)
    assert valid >= 0.8 * len(pinks)
    assert {
        "not_started",
        "in_progress",
        "ready",
        "submitted",
        "approved",
        "rejected",
        "paid",
    } <= states
    assert len(benefits - {None}) >= 4


def test_demo_tracks_follow_the_real_workflows_so_the_app_can_move_them_on(
    store: Store,
) -> None:
    """Every demo track is one of resources/workflows/ with its steps in order; a closed
    one has its last applicable step done, an open one a step to work on next."""
    demo.generate(store, 60, seed=3, today=TODAY)
    seen: set[str] = set()
    for case_id in cases.list_case_ids(store):
        for track in cases.get_case_file(store, case_id).tracks:
            definition = workflow.track(track.workflow or "")
            assert [s.key for s in track.steps] == [s.key for s in definition.steps]
            choices = steps.step_choices(track, TODAY)
            assert len(choices) == len(track.steps)
            assert (track.state == "closed") == (not any(c.current for c in choices))
            seen.add(track.state)
            if track.state == "closed":
                assert track.outcome in (None, "approved", "rejected", "paid")
    assert seen == {"closed", "in_progress"}


def test_demo_caseload_agrees_with_itself_and_has_no_dates_to_come(store: Store) -> None:
    """A caseload as a caseworker would have it: newcomers (a job begun weeks ago, no
    contributions yet) with their enrollment to do and nothing to claim; a worker who has
    paid in for a year or more registered; every track opened months ago handed in (its
    filing step decided, with the day it was handed in, and for a claim approved most often
    the day its payment was announced); no track, case or step dated after today; and the
    Tasks page lists deadlines that are due, not years-old filings nobody made."""
    from desktop.services import ui_queries

    demo.generate(store, 200, seed=7, today=TODAY)
    newcomers = notices = 0
    for case_id in cases.list_case_ids(store):
        case = cases.get_case_file(store, case_id)
        [job] = case.employments
        assert job.start_date is not None
        assert job.start_date <= TODAY
        assert job.end_date is None or job.start_date < job.end_date < TODAY
        assert case.opened_on is not None
        assert case.opened_on <= TODAY
        new = (TODAY - job.start_date).days < demo.HANDED_IN_AFTER_DAYS
        newcomers += new
        assert (not case.contributions) == new
        for track in case.tracks:
            assert track.opened_on is not None
            assert job.start_date <= track.opened_on <= TODAY
            assert track.event_date is None or job.start_date <= track.event_date <= TODAY
            assert track.decided_on is None or track.decided_on <= TODAY
            filing = [
                s
                for s in track.steps
                if workflow.is_filing(workflow.track(track.workflow or "").step(s.key))
            ]
            handed_in = all(s.state in workflow.FILED for s in filing)
            if (TODAY - track.opened_on).days > demo.HANDED_IN_AFTER_DAYS:
                assert handed_in, (track.workflow, [s.state for s in track.steps])
                assert filing[0].state not in ("submitted",)  # decided since
            for step in filing:
                if step.state in workflow.FILED and "submitted_on" in step.data:
                    submitted = dt.date.fromisoformat(step.data["submitted_on"])
                    assert track.opened_on <= submitted <= TODAY
                    notices += "payment_notified_on" in step.data
                    notice = step.data.get("payment_notified_on", submitted.isoformat())
                    assert submitted <= dt.date.fromisoformat(notice) <= TODAY
                    assert notice == submitted.isoformat() or step.state == "approved"
            if new:
                assert track.kind == "enrollment"
                assert not {s.state for s in filing} & {"approved", "rejected", "paid"}
    assert 0.1 < newcomers / 200 < 0.3
    assert notices  # some claims approved, their payment to collect
    tasks = ui_queries.open_tasks(store, TODAY)
    assert "deadline.file_claim" not in {t.action for t in tasks if t.state == "overdue"}
    registrations = [t for t in tasks if t.action == "deadline.register_employee"]
    assert registrations
    assert all((TODAY - t.due).days < demo.HANDED_IN_AFTER_DAYS for t in registrations)


def test_every_row_has_the_outbox_and_audit_the_recorder_writes(store: Store) -> None:
    demo.generate(store, 3, seed=2, today=TODAY)
    with store.read() as session:
        name = session.scalars(select(PersonName)).first()
        assert name is not None
        # a new row is one whole-row entry (sync protocol 2) holding its set fields
        entry = session.scalars(select(OutboxEntry).where(OutboxEntry.row_id == name.id)).one()
        spec = catalogue.entity("person_name")
        expected = {
            f for f, s in spec.fields.items() if catalogue.to_wire(s, getattr(name, f)) is not None
        }
        assert entry.field == catalogue.WHOLE_ROW
        assert set(json.loads(entry.value)) == expected
        # its creation event is recorded beside it, derived from the insert and never queued
        audit = session.scalars(select(AuditEvent).where(AuditEvent.row_id == name.id)).one()
        derived = catalogue.creation_event(
            "person_name", name.id, name.office, entry.hlc, store.user
        )
        assert {field: getattr(audit, field) for field in derived} == derived
        queued = select(OutboxEntry).where(OutboxEntry.entity == catalogue.AUDIT_ENTITY)
        assert session.scalars(queued).first() is None
        assert text.clean(name.full_name or "") == name.full_name


def test_demo_people_have_titles_and_marital_statuses_that_fit_their_sex(store: Store) -> None:
    demo.generate(store, 120, seed=1, today=TODAY)
    with store.read() as session:
        held = session.execute(
            select(Case.number, Person.sex, Person.title, Person.marital_status).join(
                Person, Person.id == Case.person_id
            )
        ).all()
    titles = {(sex, title) for _, sex, title, _ in held}
    # some women Mrs, some Miss, some without a title; men Mr or none: never the other sex's
    assert titles == {("F", "mrs"), ("F", "miss"), ("F", None), ("M", "mr"), ("M", None)}
    assert {m for *_, m in held} == {None, *catalogue.MARITAL_STATUSES}
    # a Mrs is one who has married; a Miss may have too (her title is her choice)
    assert {m for _, _, t, m in held if t == "mrs"} <= {"married", "widowed", "divorced"}
    # the printed SSO 1-03 is filled with them
    number, _, title, marital = next(h for h in held if h.title == "mrs")
    person = printing.case_data(store, number, today=TODAY).person
    assert (person.title, person.marital_status) == (title, marital)


@pytest.mark.parametrize("count", [0, -1, demo.MAX_PEOPLE + 1])
def test_bad_count_is_refused(store: Store, count: int) -> None:
    with pytest.raises(UserError) as caught:
        demo.generate(store, count)
    assert caught.value.code == "demo.bad_count"
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(PersonName)) == 0


def test_progress_moves_within_a_batch_and_a_cancel_keeps_the_finished_batches(
    store: Store,
) -> None:
    from desktop.services import cases

    class Stop(Exception):
        pass

    seen: list[int] = []

    def report(done: int, total: int) -> None:
        seen.append(done)
        if done == 30:  # in the middle of the second batch of 20
            raise Stop

    with pytest.raises(Stop):
        demo.generate(store, 45, seed=5, today=TODAY, batch_people=20, progress=report)
    assert seen == [10, 20, 30]  # every ten people, not only at the end of a batch
    assert cases.count_cases(store) == 20  # the first batch stays; the second rolled back


def test_the_last_report_is_the_total(store: Store) -> None:
    seen: list[tuple[int, int]] = []
    demo.generate(store, 13, seed=6, today=TODAY, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(10, 13), (13, 13)]


def test_demo_claims_name_who_claims_only_after_a_death(store: Store) -> None:
    """A demo worker who has died: the claim's first step names a relative (in the
    worker's script, with the Latin spelling), as the wizard would have it, so a demo
    packet prints the 2-01's claimant section; a work injury's report names one only when
    it says the injury killed the worker."""
    demo.generate(store, 200, seed=1, today=TODAY)
    deaths = [
        (case_id, track)
        for case_id in cases.list_case_ids(store)
        for track in cases.get_case_file(store, case_id).tracks
        if track.benefit == "death"
    ]
    assert deaths
    for case_id, track in deaths:
        first = track.steps[0].data
        assert first["claimant_relationship"] in {"spouse", "parent", "sibling", "child"}
        assert first["claimant_is"] in {"funeral_organiser", "heir"}
        assert "(" in first["claimant_name"]
        number = cases.get_case_file(store, case_id).number
        claimant = printing.case_data(store, number, benefit="death", today=TODAY).claimant
        assert claimant is not None
        assert claimant.name == first["claimant_name"]
    # a work injury's report says what came of it, and names a claimant only after a death
    reports = [
        track.steps[0].data
        for case_id in cases.list_case_ids(store)
        for track in cases.get_case_file(store, case_id).tracks
        if track.kind == "work_injury"
    ]
    assert reports
    for report in reports:
        assert report["injury_outcome"] in {"injured", "died"}
        assert ("claimant_name" in report) == (report["injury_outcome"] == "died")
