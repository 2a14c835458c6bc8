"""What a sync's summary (desktop/services/sync.py ``SyncSummary``) says, end to end on
both server backends: rows from others, not this device's own come back; each new open
conflict once; resolved conflicts not at all; refused changes named with their errno."""

from __future__ import annotations

from typing import Any

from desktop.models.entities import Person
from desktop.services import sync as core
from sync.protocol import Errno
from tests.sync.conftest import Server, colleagues, edit_row, new_person


def test_own_rows_come_back_are_not_received_and_others_rows_are(
    server: Server, make_device: Any
) -> None:
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    new_person(a, phone="0811111111")

    first = a.sync()

    assert first.pushed > 0
    assert first.pulled_rows > 0  # the rows came back with their server versions
    assert first.received_rows == 0
    assert b.sync().received_rows == first.pulled_rows
    assert a.sync().received_rows == 0  # nothing new anywhere


def test_a_conflict_counts_once_for_each_device_and_never_again(
    server: Server, make_device: Any
) -> None:
    server.user("ann")
    server.user("bob")
    a, b = make_device(server, "ann"), make_device(server, "bob")
    pid = new_person(a, nationality="MMR")
    a.sync()
    b.sync()
    # nationality is reviewed: concurrent edits leave a conflict for a coordinator
    edit_row(a, Person, pid, nationality="KHM")
    edit_row(b, Person, pid, nationality="LAO")
    a.sync()

    losing = b.sync()

    assert losing.conflicts == 1  # the push answer
    assert losing.conflicts_received == 1  # the same conflict, pulled back
    assert losing.new_conflicts == 1  # one thing to review, not two
    # ann's edit (the person, with the value in force) and its audit event; bob's own
    # audit event come back is not counted
    assert (losing.pulled_rows, losing.received_rows) == (3, 2)
    assert a.sync().new_conflicts == 1  # ann learns of it too
    assert (a.sync().new_conflicts, b.sync().new_conflicts) == (0, 0)


def test_resolved_conflicts_are_not_new_to_anyone(server: Server, make_device: Any) -> None:
    a, b = colleagues(server, make_device)
    pid = new_person(a, nationality="MMR")
    a.sync()
    b.sync()
    # nationality is reviewed: concurrent edits leave a conflict for a coordinator
    edit_row(a, Person, pid, nationality="KHM")
    edit_row(b, Person, pid, nationality="LAO")
    a.sync()
    b.sync()
    coordinator = server.device("cora")
    (record,) = coordinator.conflicts()
    coordinator.resolve(record.id, flip=False)

    after = a.sync()
    newcomer = make_device(server, "ann").sync()

    assert (after.conflicts_received, after.new_conflicts) == (1, 0)
    assert (newcomer.conflicts_received, newcomer.new_conflicts) == (1, 0)


def test_changes_refused_for_scope_are_named_in_this_sync_and_the_next(
    server: Server, make_device: Any
) -> None:
    server.user("bob", offices=("TAK-02",))
    bob = make_device(server, "bob", office="TAK-01")  # an office outside his account
    pid = new_person(bob, phone="0811111111")

    first = bob.sync()
    second = bob.sync()

    assert first.ok
    assert first.rejected == first.failed > 0
    assert (second.rejected, second.failed) == (0, first.failed)  # parked, still there
    for summary in (first, second):
        assert len(summary.refused) == summary.failed
        assert {r.errno for r in summary.refused} == {Errno.OUT_OF_SCOPE}
        assert pid in {r.row_id for r in summary.refused}
        assert core.reason(summary.refused[0].error)[0] == "sync.reason.out_of_scope"
    assert second.as_dict()["refused"][0]["errno"] == Errno.OUT_OF_SCOPE
