"""Steps moved on and back in the app (desktop/services/steps.py) reach a colleague: a claim
paid and its track closed on one laptop, reopened on the other after a sync, and then
moved both ways while both are offline. Runs against SQLite and PostgreSQL servers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from desktop.models.store import Store
from desktop.models.sync_records import SyncConflict
from desktop.services import attachments, cases, people, steps, ui_wizards
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


def _synced(*devices: Device) -> int:
    """Sync the devices in turn, each in full; returns how many changes they pushed."""
    pushed = 0
    for device in devices:
        summary = device.sync()
        assert summary.ok, summary.error
        assert (summary.rejected, summary.failed) == (0, 0), summary.refused
        pushed += summary.pushed
    return pushed


def _until_quiet(*devices: Device) -> None:
    """Sync the devices in turn until a whole round pushes nothing."""
    for _round in range(6):
        if _synced(*devices) == 0:
            return
    raise AssertionError("the devices keep sending changes")


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


def _live_items(device: Device, case_id: str) -> dict[str, list[cases.ChecklistView]]:
    """The track's checklist as the device shows it: doc key -> its live items."""
    found: dict[str, list[cases.ChecklistView]] = {}
    for item in _submit(device.store, case_id).checklist:
        found.setdefault(item.doc_key, []).append(item)
    return found


def _appeal_opened_offline(
    devices: tuple[Device, ...], submit: str, scanner: Device, case_id: str, folder: Path
) -> str:
    """Each device records the rejection, which opens the appeal and lists its documents;
    ``scanner`` then attaches the decision letter to its own item. Returns the scan's id."""
    for device in devices:
        steps.move_step(device.store, submit, "submitted")
        steps.move_step(device.store, submit, "rejected")
    letter = folder / "decision.jpg"
    letter.write_bytes(b"\xff\xd8 a photographed letter")
    (item,) = _live_items(scanner, case_id)["decision_letter"]
    return attachments.add_attachment(
        scanner.store, letter, case_id=case_id, checklist_item_id=item.id
    )


def _one_item_each(device: Device, case_id: str, scan: str) -> None:
    listed = _live_items(device, case_id)
    assert {key: len(items) for key, items in listed.items()} == {
        "decision_letter": 1,
        "supporting_evidence": 1,
    }
    (kept,) = listed["decision_letter"]
    assert kept.attachment_ids == (scan,)
    assert kept.status == "present"


def test_two_laptops_opening_the_same_appeal_end_with_one_checklist(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    """Both laptops record the rejection offline, so both open the appeal and list its
    documents. After syncing, each document is listed once on both, and the decision
    letter Ann scanned onto her own item is on the one that stays."""
    ann, bob = colleagues(server, make_device)
    case_id, submit = _claim(ann.store)
    _synced(ann, bob)

    scan = _appeal_opened_offline((ann, bob), submit, ann, case_id, tmp_path)
    assert len(_live_items(bob, case_id)["decision_letter"]) == 1

    # each folds the twins after the pull that brings them, and sends that at the next sync
    _until_quiet(ann, bob)

    agree_with_server(server, [ann.store, bob.store])
    assert stored(ann.store) == stored(bob.store)
    for device in (ann, bob):
        _one_item_each(device, case_id, scan)
    assert _conflicts(ann) == _conflicts(bob) == set()


def test_three_laptops_opening_the_same_appeal_end_with_one_checklist(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    """Each laptop folds the twins it has seen so far, so two of them may fold into
    different items before the third list arrives: they still end on one item, with the
    scan, everywhere."""
    ann, bob = colleagues(server, make_device)
    server.user("dan")
    dan = make_device(server, "dan")
    case_id, submit = _claim(ann.store)
    _synced(ann, bob, dan)

    scan = _appeal_opened_offline((ann, bob, dan), submit, dan, case_id, tmp_path)

    _synced(ann, bob)  # bob folds ann's and his; dan's list comes later
    _until_quiet(dan, ann, bob)

    agree_with_server(server, [ann.store, bob.store, dan.store])
    for device in (ann, bob, dan):
        _one_item_each(device, case_id, scan)
    assert _conflicts(ann) == _conflicts(bob) == _conflicts(dan) == set()
