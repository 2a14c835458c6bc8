"""Steps moved on and back in the app (desktop/services/steps.py) reach a colleague: a claim
paid and its track closed on one laptop, reopened on the other after a sync, and then
moved both ways while both are offline. Runs against SQLite and PostgreSQL servers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from desktop.models.store import Store
from desktop.models.sync_records import SyncConflict
from desktop.services import cases, people, steps, ui_wizards
from desktop.services.cases import TrackView
from sync.server import admin
from sync.server.db import last_sent
from tests.sync.conftest import Device, Server, agree_with_server, colleagues, stored

TODAY = dt.date.today()


def _claim(store: Store) -> tuple[str, str]:
    """A maternity claim whose wizard got as far as the filing: (case id, submit step id)."""
    case_id = ui_wizards.create_case(store, people.PersonInput(names=[people.NameInput("နန်း")]))
    past = (TODAY - dt.timedelta(days=20)).isoformat()
    prepared = {
        "bank_name": "Krungthai",
        "bank_account": "1234567890",
        "claimant_signs": "signature",
        "forms_printed": ["sso_2_01"],
    }
    rows = [
        ("check_eligibility", {"event_date": past, "claimant_is": "mother"}, "ready"),
        ("gather_documents", {}, "ready"),
        ("prepare_claim", prepared, "ready"),
        ("submit_claim", {"submitted_on": past, "sso_office": "Mae Sot"}, "ready"),
        ("appeal", {}, "not_started"),
    ]
    commit = ui_wizards.TrackCommit("claim", "claim_maternity", rows)
    ui_wizards.commit_track(store, case_id, commit)
    return case_id, _submit(store, case_id).steps[3].id


def _submit(store: Store, case_id: str) -> TrackView:
    return cases.get_case_file(store, case_id).tracks[0]


def _synced(*devices: Device) -> None:
    for device in devices:
        summary = device.sync()
        assert summary.ok, summary.error
        assert (summary.rejected, summary.failed) == (0, 0), summary.refused


def _conflicts(device: Device) -> set[tuple[str, str, str]]:
    with device.store.read() as session:
        return {(c.entity, c.row_id, c.field) for c in session.scalars(select(SyncConflict))}


def _ended(device: Device, case_id: str) -> tuple[str, str | None, str]:
    """(track state, outcome, the claim step's state) as the device holds them."""
    track = _submit(device.store, case_id)
    return track.state, track.outcome, track.steps[3].state


def test_a_claim_closed_on_one_laptop_and_reopened_on_the_other_settles_on_both(
    server: Server, make_device: Any
) -> None:
    ann, bob = colleagues(server, make_device)
    case_id, submit = _claim(ann.store)
    _synced(ann, bob)

    for to in ("submitted", "approved", "paid"):
        steps.move_step(ann.store, submit, to)
    _synced(ann, bob)
    assert _ended(bob, case_id) == ("closed", "paid", "paid")

    # the bank sent the money back: Bob, who saw it paid, reopens it
    steps.reopen_step(bob.store, submit, "ธนาคารคืนเงิน เลขบัญชีผิด", "approved")
    _synced(bob, ann)
    assert _ended(ann, case_id) == ("in_progress", None, "approved")
    assert _conflicts(ann) == _conflicts(bob) == set()  # one after the other: no dispute

    # both offline: Ann records the payment again, Bob steps the claim back further
    steps.move_step(ann.store, submit, "paid")
    steps.reopen_step(bob.store, submit, "สำนักงานขอเอกสารเพิ่ม", "submitted")
    _synced(ann, bob, ann)

    agree_with_server(server, [ann.store, bob.store])
    assert stored(ann.store) == stored(bob.store)
    # the later state stands; Bob's deliberate step back is kept for a coordinator
    assert _ended(ann, case_id) == ("closed", "paid", "paid")
    assert _conflicts(ann) == _conflicts(bob) == {("step", submit, "state")}


def _last_sent(server: Server) -> int:
    with server.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(last_sent)) or 0


def test_pruning_what_devices_last_sent_drops_only_what_they_pulled_past(
    server: Server, make_device: Any
) -> None:
    """``sapan server prune``: what a device last sent for a step is dropped once it has
    pulled past it, never before; a step back made later still leaves its record."""
    ann, bob = colleagues(server, make_device)
    case_id, submit = _claim(ann.store)
    _synced(ann, bob)
    steps.move_step(ann.store, submit, "submitted")
    _synced(ann)  # pushed, then pulled from the cursor it had before the push
    sent = _last_sent(server)
    assert sent >= 1
    assert admin.prune(server.engine) == admin.Pruned(0, sent)  # not pulled past: kept

    _synced(ann, bob)  # this pull starts past her step
    assert admin.prune(server.engine) == admin.Pruned(sent, 0)
    assert admin.prune(server.engine) == admin.Pruned(0, 0)

    # both offline again: Ann decides the claim, Bob sends it back a step
    steps.move_step(ann.store, submit, "approved")
    steps.reopen_step(bob.store, submit, "ขาดลายมือชื่อ", "ready")
    _synced(ann, bob, ann)
    admin.prune(server.engine)
    agree_with_server(server, [ann.store, bob.store])
    assert _ended(bob, case_id) == ("in_progress", None, "approved")
    assert _conflicts(ann) == _conflicts(bob) == {("step", submit, "state")}
