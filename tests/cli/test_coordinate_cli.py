"""``sapan coordinate`` against a real server on loopback, used as a coordinator would:
duplicates found, merged and the merge undone, a conflict listed and flipped, each reaching
the device with ``sapan sync``; bad ids, an unregistered device, a caseworker's merge and
an unknown conflict are clear errors (exit code 2) that change nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desktop.cli import main
from desktop.models.entities import Case, Person
from desktop.models.store import create_store, open_store
from desktop.services import cases, coordination, people
from tests.conftest import PASSPHRASE, SERVER_PASSWORD
from tests.coordination import make_person

# ids the server has never given out, in the shape it gives them
UNKNOWN = "0b8f6c1e-4d2a-4c53-9a61-2f3e1d0c9b71"
OTHER_UNKNOWN = "5a1d2c3b-7e8f-4a9b-8c0d-1e2f3a4b5c6d"

Sapan = Callable[..., tuple[int, str, str]]


@pytest.fixture
def sapan(capsys: pytest.CaptureFixture[str]) -> Sapan:
    """Run ``sapan --lang en --data-dir ROOT ARGS...``: (exit code, stdout, stderr)."""

    def run(root: Path, *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--lang", "en", "--data-dir", str(root), *args])
        said = capsys.readouterr()
        return code, said.out, said.err

    return run


@pytest.fixture
def coordinator(
    registered: Path, live_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Coordinator nok of office MS (made with ``sapan server create-user``) and a device
    registered as theirs, in ``tmp_path / "office-pc"``; ann's device is ``registered``."""
    monkeypatch.setenv("SAPAN_NEW_PASSWORD", SERVER_PASSWORD)
    server = ["server", "--db", str(tmp_path / "server.db")]
    assert main([*server, "create-user", "nok", "--role", "coordinator", "--offices", "MS"]) == 0
    root = tmp_path / "office-pc"
    register = ["sync", "register", "--server", live_server, "--user", "nok"]
    assert main(["--data-dir", str(root), *register]) == 0
    return root


def _person(root: Path, name: str, birth: str, passport: str | None = None) -> str:
    """A new person on the device in ``root``, with a case; returns the person's id."""
    with open_store(root) as store:
        person = make_person(store, name, birth, passport)
        cases.open_case(store, person)
    return person


def _synced(sapan: Sapan, *roots: Path) -> None:
    for root in roots:
        code, _out, err = sapan(root, "sync")
        assert code == 0, err


def _person_row(root: Path, person_id: str) -> Any:
    with open_store(root) as store, store.read() as session:
        person = session.get(Person, person_id)
        session.expunge(person)
        return person


def test_a_coordinator_merges_two_people_sharing_a_passport_and_undoes_it(
    registered: Path, coordinator: Path, sapan: Sapan
) -> None:
    laptop = registered
    kept = _person(laptop, "Aung Aung", "1990-01-02", "MA1234567")
    extra = _person(laptop, "အောင်အောင်ဦး", "1991-05-05", "MA1234567")
    _synced(sapan, laptop, coordinator)

    code, said, _err = sapan(coordinator, "coordinate", "duplicates")

    assert code == 0
    assert "Same document Passport MA1234567" in said
    assert f"{kept}  Aung Aung, born 1990-01-02; documents: Passport MA1234567" in said
    assert f"sapan coordinate merge person {extra} {kept}" in said, "B into A, ready to copy"
    code, raw, _err = sapan(coordinator, "coordinate", "duplicates", "--json")
    assert "အောင်အောင်ဦး" in raw, "JSON keeps every script as it is"
    [pair] = json.loads(raw)
    assert (pair["reason"], pair["detail"]) == ("document", "passport:MA1234567")
    assert pair["why"] == "Same document Passport MA1234567"
    assert (pair["first"]["person_id"], pair["second"]["person_id"]) == (kept, extra)
    assert pair["second"]["names"] == ["အောင်အောင်ဦး"]
    assert len(pair["second"]["case_numbers"]) == 1

    code, said, err = sapan(coordinator, "coordinate", "merge", "person", extra, kept)

    assert code == 0, err
    assert f"Person merged: အောင်အောင်ဦး [{extra}] → Aung Aung [{kept}]" in said
    assert "with the next sapan sync" in said
    _synced(sapan, coordinator)
    assert _person_row(coordinator, extra).merged_into == kept
    code, raw, _err = sapan(coordinator, "coordinate", "merges", "--json")
    [made] = json.loads(raw)
    assert made.keys() == {
        "id",
        "entity",
        "source_id",
        "target_id",
        "source_name",
        "target_name",
        "merged_by",
        "undone",
    }
    assert (made["entity"], made["source_id"], made["target_id"]) == ("person", extra, kept)
    assert (made["target_name"], made["merged_by"], made["undone"]) == ("Aung Aung", "nok", False)
    # B's names hang from A now: B is named by the names the merge moved, on every device
    assert made["source_name"] == "အောင်အောင်ဦး"
    _synced(sapan, laptop)
    for root in (coordinator, laptop):
        code, said, _err = sapan(root, "coordinate", "merges")
        assert code == 0
        assert f"Person: အောင်အောင်ဦး [{extra}] → Aung Aung [{kept}], by nok" in said
    assert sapan(coordinator, "coordinate", "duplicates")[1].startswith("No likely duplicate")
    code, said, _err = sapan(coordinator, "coordinate", "duplicates", "--cases")
    assert code == 0
    assert said.startswith("Aung Aung: two open cases"), "A kept B's case beside its own"
    code, raw, _err = sapan(coordinator, "coordinate", "duplicates", "--cases", "--json")
    [case_pair] = json.loads(raw)
    assert case_pair["person_id"] == kept
    first, second = case_pair["first"]["case_id"], case_pair["second"]["case_id"]
    assert f"sapan coordinate merge case {second} {first}" in said

    code, said, err = sapan(coordinator, "coordinate", "undo-merge", made["id"])

    assert code == 0, err
    assert f"Person merge {made['id']} undone" in said
    _synced(sapan, coordinator)
    assert _person_row(coordinator, extra).merged_into is None
    code, said, _err = sapan(coordinator, "coordinate", "merges")
    assert said.strip().endswith("by nok (undone)")
    said = sapan(coordinator, "coordinate", "duplicates", "--cases")[1]
    assert said.startswith("No person on this device has two open cases")


def _birth_dates_in_conflict(sapan: Sapan, laptop: Path, phone: Path, server: str) -> str:
    """Ann's laptop and phone change one person's birth date offline; the phone syncs
    last, so its 1991-01-02 is in force over 1990-02-01. The person's id."""
    person = _person(laptop, "Aung Aung", "1990-01-02")
    _synced(sapan, laptop)  # the case gets its number from the server's block
    register = ["sync", "register", "--server", server, "--user", "ann"]
    assert sapan(phone, *register)[0] == 0
    _synced(sapan, phone)
    for root, birth in ((laptop, "1990-02-01"), (phone, "1991-01-02")):
        with open_store(root) as store:
            people.update_person(store, person, birth_date=birth)
    _synced(sapan, laptop, phone)
    return person


def test_a_conflict_is_listed_with_its_person_and_flipped(
    registered: Path, coordinator: Path, live_server: str, tmp_path: Path, sapan: Sapan
) -> None:
    laptop = registered
    person = _birth_dates_in_conflict(sapan, laptop, tmp_path / "phone", live_server)
    _synced(sapan, coordinator)
    with open_store(laptop) as store, store.read() as session:
        number = session.scalars(select(Case.number).where(Case.person_id == person)).one()

    code, said, _err = sapan(coordinator, "coordinate", "conflicts")

    assert code == 0
    assert "Person: birth date  [open]" in said
    assert f"Person: Aung Aung; case: {number}" in said
    assert "In force: 1991-01-02 (by ann, " in said
    assert "Other value: 1990-02-01 (by ann, " in said
    assert "Changed since" not in said
    [conflict] = json.loads(sapan(coordinator, "coordinate", "conflicts", "--json")[1])
    assert conflict["now"] is None
    assert (conflict["what"], conflict["person_id"], conflict["case_number"]) == (
        "Person: birth date",
        person,
        number,
    )
    assert conflict["in_force"]["value"] == "1991-01-02"
    assert conflict["other"]["value"] == "1990-02-01"

    code, said, err = sapan(coordinator, "coordinate", "resolve", conflict["id"], "--keep", "other")

    assert code == 0, err
    assert f"Conflict {conflict['id']} is now flipped: the other value is in force" in said
    assert "reaches this device with the next sapan sync" in said
    assert sapan(coordinator, "coordinate", "conflicts")[1].startswith("No conflicts to show")
    [settled] = json.loads(sapan(coordinator, "coordinate", "conflicts", "--all", "--json")[1])
    assert (settled["status"], settled["resolved_by"]) == ("flipped", "nok")
    # once flipped, the value in force is the one that lost at first
    assert settled["in_force"]["value"] == "1990-02-01"
    assert settled["other"]["value"] == "1991-01-02"
    said = sapan(coordinator, "coordinate", "conflicts", "--all")[1]
    assert "In force: 1990-02-01 (by ann, " in said
    assert "Other value: 1991-01-02 (by ann, " in said
    _synced(sapan, coordinator)
    assert _person_row(coordinator, person).birth_date == "1990-02-01"


@pytest.mark.parametrize(
    "args",
    [
        ("resolve", "42", "--keep", "other"),
        ("merge", "person", "not-an-id", UNKNOWN),
        ("merge", "case", UNKNOWN, UNKNOWN.upper()),
        ("undo-merge", f"{UNKNOWN}/undo"),
    ],
    ids=["conflict", "source", "target", "merge"],
)
def test_a_malformed_id_is_refused_before_the_server_is_asked(
    registered: Path, sapan: Sapan, args: tuple[str, ...]
) -> None:
    code, said, err = sapan(registered, "coordinate", *args)

    assert code == 2
    assert said == ""
    assert "must be an id such as" in err
    assert "Only a coordinator" not in err, "a caseworker's device: the server was not asked"
    with open_store(registered) as store:
        assert coordination.merges(store) == []
        assert coordination.conflicts(store, None) == []


def test_a_malformed_id_is_named_in_the_readers_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = ["--data-dir", str(tmp_path / "nowhere")]
    assert main(["--lang", "th", *root, "coordinate", "undo-merge", "x"]) == 2
    assert "ต้องเป็นรหัสแบบ" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists(), "nothing opened, nothing made"


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    "args",
    [
        ("resolve", UNKNOWN, "--keep", "current"),
        ("merge", "person", UNKNOWN, OTHER_UNKNOWN),
        ("undo-merge", UNKNOWN),
    ],
    ids=["resolve", "merge", "undo"],
)
def test_an_unregistered_device_is_told_to_register(
    tmp_path: Path, sapan: Sapan, args: tuple[str, ...]
) -> None:
    root = tmp_path / "alone"
    create_store(root, PASSPHRASE).close()

    code, _said, err = sapan(root, "coordinate", *args)

    assert code == 2
    assert "not registered with a sync server" in err
    assert "sapan sync register" in err


def test_a_caseworker_cannot_merge(registered: Path, sapan: Sapan) -> None:
    a = _person(registered, "Aung Aung", "1990-01-02")
    b = _person(registered, "Aung Aung", "1990-01-02")
    _synced(sapan, registered)

    code, said, err = sapan(registered, "coordinate", "merge", "person", b, a)

    assert (code, said) == (2, "")
    assert "Only a coordinator can do this" in err
    _synced(sapan, registered)
    assert _person_row(registered, b).merged_into is None
    assert sapan(registered, "coordinate", "merges")[1].startswith("This device knows of no")


def test_an_unknown_conflict_is_a_clear_error(coordinator: Path, sapan: Sapan) -> None:
    assert sapan(coordinator, "coordinate", "conflicts")[1].startswith("No conflicts to show")

    code, said, err = sapan(coordinator, "coordinate", "resolve", UNKNOWN, "--keep", "current")

    assert (code, said) == (2, "")
    assert "The server does not know this record" in err


def test_registering_the_commands_loads_nothing_heavy() -> None:
    """Every ``sapan`` command (and the app) builds the whole parser first."""
    probe = "import sys; from desktop.cli import build_parser; build_parser(); print(*sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert not {"sync.protocol", "pydantic", "sqlalchemy"} & set(done.stdout.split())


def test_a_conflict_whose_value_changed_since_says_what_keeping_keeps(
    registered: Path, coordinator: Path, live_server: str, tmp_path: Path, sapan: Sapan
) -> None:
    """The birth date edited again after the conflict (by a device that had seen it):
    the list says what the row holds now, which keeping the value in force keeps."""
    laptop = registered
    person = _birth_dates_in_conflict(sapan, laptop, tmp_path / "phone", live_server)
    _synced(sapan, laptop)
    with open_store(laptop) as store:
        people.update_person(store, person, birth_date="1989-03-03")
    _synced(sapan, laptop, coordinator)

    said = sapan(coordinator, "--lang", "th", "coordinate", "conflicts")[1]
    assert "เปลี่ยนภายหลัง ค่าในเครื่องนี้ตอนนี้: 1989-03-03" in said
    [conflict] = json.loads(sapan(coordinator, "coordinate", "conflicts", "--json")[1])
    assert (conflict["in_force"]["value"], conflict["now"]) == ("1991-01-02", "1989-03-03")
