"""``sapan sync`` against a real server on loopback: the collector is tuned before syncing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from desktop.cli import main
from desktop.cli import sync as sync_cli
from desktop.services import sync_view
from sync.server import admin
from tests.cli.conftest import serving
from tests.conftest import PASSPHRASE, backup_server, replace_database
from tests.postgres import free_port


@pytest.mark.usefixtures("cli_env")
def test_sync_tunes_the_collector_once_the_store_is_open(
    live_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = ["--data-dir", str(tmp_path / "store")]
    calls: list[str] = []
    # observe, without freezing the test process
    monkeypatch.setattr(sync_cli, "tune_gc", lambda: calls.append("tune_gc"))
    assert main([*data, "sync", "register", "--server", live_server, "--user", "ann"]) == 0
    assert calls == []  # registering is a short command: nothing to tune
    capsys.readouterr()

    assert main([*data, "sync", "--json"]) == 0

    assert calls == ["tune_gc"]
    summary = json.loads(capsys.readouterr().out)
    assert summary["error"] is None


def test_a_sync_from_the_command_line_is_the_apps_last_sync_too(
    registered: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The status bar and the Sync page say when the laptop last synced, whichever way it
    did: ``sapan sync`` once left that for the app's own syncs alone."""
    from desktop.models.store import open_store
    from desktop.services import sync_view

    with open_store(registered) as store:
        assert sync_view.overview(store, sizes=False).last_sync is None

    assert main(["--data-dir", str(registered), "sync"]) == 0

    with open_store(registered) as store:
        assert sync_view.overview(store, sizes=False).last_sync is not None


def test_a_revoked_device_wipes_its_store_and_says_how_many_changes_were_lost(
    registered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = registered
    data = ["--data-dir", str(root)]
    device_id = _device(tmp_path)
    from desktop.domain.errors import UserError
    from desktop.models.entities import Person
    from desktop.models.store import open_store

    with open_store(root) as store, store.session() as session:
        session.add(Person(office="MS", sex="f", phone="0811111111"))
    server_db = ["server", "--db", str(tmp_path / "server.db")]
    assert main([*server_db, "revoke-device", device_id]) == 0
    capsys.readouterr()

    assert main([*data, "--lang", "en", "sync"]) == 3

    said = capsys.readouterr().out
    assert "deleted the case files on this laptop" in said
    assert "had not reached the server" in said
    # not the usual stopped sync's comfort: the data is gone, running it again is no use
    assert "Nothing was lost" not in said
    assert "run it again" not in said
    assert sorted(path.name for path in root.iterdir()) == ["sapan.wiped"]
    with pytest.raises(UserError) as refused:
        open_store(root)
    assert refused.value.code == "error.store_wiped"
    # the next command says what happened and the way on (not "no store here")
    assert main([*data, "--lang", "en", "sync"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "was wiped: the server's administrator revoked this device" in err
    assert "sapan sync register --server URL --user NAME" in err


def _device(tmp_path: Path) -> str:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'server.db'}")
    try:
        return str(admin.list_devices(engine, "ann")[0]["device_id"])
    finally:
        engine.dispose()


def test_the_first_sync_says_which_case_numbers_moved_to_the_devices_block(
    registered: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.models.store import open_store
    from desktop.services import cases, people
    from desktop.services.people import NameInput, PersonInput

    root = registered
    data = ["--data-dir", str(root), "--lang", "en"]
    with open_store(root) as store:
        person = people.create_person(store, PersonInput(names=[NameInput("Aye Aye")]))
        provisional = cases.open_case(store, person.person_id)
    capsys.readouterr()

    assert main([*data, "sync"]) == 0

    said = capsys.readouterr().out
    assert provisional.startswith("TAK-9")  # the store's prefix, a provisional block
    assert f"{provisional} → TAK-0001-000001" in said
    assert "Correct any paper that shows an old number" in said


@pytest.mark.usefixtures("cli_env")
def test_registration_sets_the_accounts_office_and_says_so(
    live_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.models.store import open_store

    root = tmp_path / "store"
    register = ["sync", "register", "--server", live_server, "--user", "ann"]
    assert main(["--data-dir", str(root), "--lang", "en", *register]) == 0

    assert "belong to office MS." in capsys.readouterr().out
    with open_store(root) as store:
        assert store.office == "MS"  # ann's one office, not the new store's TAK-01


def test_registering_with_another_server_says_how_and_other_server_does_it(
    registered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.models.store import open_store

    data = ["--data-dir", str(registered), "--lang", "en"]
    assert main([*data, "sync"]) == 0
    with serving(tmp_path / "other.db") as other:
        register = ["sync", "register", "--server", other, "--user", "ann"]
        capsys.readouterr()

        assert main([*data, *register]) == 2

        said = " ".join(capsys.readouterr().err.split())
        assert f"The server at {other} is not the one this laptop was registered with" in said
        assert (
            f"To register with {other} anyway, run the same command again with --other-server."
            in said
        )
        with open_store(registered) as store:
            assert sync_view.server_address(store) != other

        assert main([*data, *register, "--other-server"]) == 0
        assert main([*data, "sync"]) == 0
        with open_store(registered) as store:
            assert sync_view.server_address(store) == other


@pytest.mark.usefixtures("cli_env")
def test_a_new_log_gets_back_what_devices_sent_a_restored_server_or_has_them_register(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``sapan server new-log`` (after restoring a backup): a device that sent changes
    after the backup was made sends them again and says so. One that no longer keeps
    them (kept SENT_KEPT_DAYS days) stops, says why and what to do, and sends nothing
    until its person registers it again."""
    import datetime as dt

    from desktop.models.store import open_store
    from desktop.services import people
    from desktop.services.people import NameInput, PersonInput
    from desktop.services.sync import SENT_KEPT_DAYS, prune_sent, server_log
    from sync.server.db import BLOCKS_SKIPPED_AFTER_RESTORE

    monkeypatch.setattr(sync_cli, "tune_gc", lambda: None)
    db, root = tmp_path / "server.db", tmp_path / "store"
    data = ["--data-dir", str(root), "--lang", "en"]
    port = free_port()
    with serving(db, port) as url:
        register = ["sync", "register", "--server", url, "--user", "ann"]
        assert main([*data, *register]) == 0
        with open_store(root) as store:
            people.create_person(store, PersonInput(names=[NameInput("Aung Aung")]))
        assert main([*data, "sync"]) == 0
        backup = backup_server(db)  # last night's backup
        with open_store(root) as store:
            people.create_person(store, PersonInput(names=[NameInput("Min Thu")]))
        assert main([*data, "sync"]) == 0
    replace_database(db, backup)  # restored
    capsys.readouterr()
    new_log = ["--lang", "en", "server", "--db", str(db), "new-log"]

    # the backup was made seconds ago: its audit log looks like a server still serving
    assert main(new_log) == 2
    refused = " ".join(capsys.readouterr().err.split())
    assert "A server answered a request from this database" in refused
    assert "Stop every server process first" in refused
    assert main([*new_log, "--json", "--force"]) == 0

    made = json.loads(capsys.readouterr().out)
    assert made["parent_head"] > 0
    assert made["case_blocks_from"] == 2 + BLOCKS_SKIPPED_AFTER_RESTORE  # past the laptop's
    # the same restore, for the device that keeps less below
    restored = backup_server(db, tmp_path / "restored.db")
    with serving(db, port) as again:
        assert again == url
        assert main([*data, "sync"]) == 0
        said = " ".join(capsys.readouterr().out.split())
        assert (
            "The server was restored from an older backup: this laptop sent it again the"
            " 2 changes it had sent since." in said
        )
        with open_store(root) as store:
            later = dt.date.today() + dt.timedelta(days=SENT_KEPT_DAYS + 1)
            assert prune_sent(store, later) > 0
            people.create_person(store, PersonInput(names=[NameInput("Aye Aye")]))
    replace_database(db, restored)
    assert main([*new_log, "--json", "--force"]) == 0
    made = json.loads(capsys.readouterr().out)
    with serving(db, port) as again:
        assert main([*data, "sync"]) == sync_cli.EXIT_STOPPED
        said = " ".join(capsys.readouterr().out.split())
        assert (
            "The sync stopped early: the server at this address is not the one this laptop"
            " is registered with (a new server, or one restored from a backup): nothing was"
            " sent or received. Register this laptop again; nothing on it is lost." in said
        )
        assert "run it again later" not in said
        assert "waiting: 0" not in said  # the person made meanwhile waits on the laptop

        assert main([*data, *register]) == 2
        assert main([*data, *register, "--other-server"]) == 0
        capsys.readouterr()
        assert main([*data, "sync", "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["waiting"] == 0
        with open_store(root) as store:
            assert (sync_view.server_address(store), server_log(store)) == (url, made["log_id"])
    assert main([*new_log, "--force"]) == 0
    said = " ".join(capsys.readouterr().out.split())
    assert "Devices that synced after the backup was made send again what they sent" in said
    assert "the others go on by themselves" in said


def test_changes_the_server_already_had_count_as_sent(
    registered: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by an administrator: after a new log that lost nothing, a laptop said it
    "sent it again the 3 changes" and, on the line before, "Changes sent: 0" (the server
    answered that it had them)."""
    from desktop.models.store import open_store
    from desktop.services import people
    from desktop.services.people import NameInput, PersonInput
    from desktop.services.sync import resend_lost

    root, data = registered, ["--data-dir", str(registered), "--lang", "en"]
    with open_store(root) as store:
        for name in ("Aung Aung", "Min Thu"):
            people.create_person(store, PersonInput(names=[NameInput(name)]))
    assert main([*data, "sync"]) == 0
    assert "Changes sent: 4;" in capsys.readouterr().out  # two people, two names
    with open_store(root) as store, store.remote_session() as session:
        assert resend_lost(session, 0) == 4  # as after a new log from before them
    assert main([*data, "sync", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["duplicates"] == 4
    with open_store(root) as store, store.remote_session() as session:
        resend_lost(session, 0)
    assert main([*data, "sync"]) == 0
    assert "Changes sent: 4;" in capsys.readouterr().out


def test_refused_changes_are_named_with_a_translated_reason_and_exit_4(
    registered: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.models.entities import Person
    from desktop.models.store import open_store

    root = registered
    with open_store(root) as store, store.session() as session:
        session.add(Person(office="TAK-09", sex="f", phone="0811111111"))  # not ann's
    capsys.readouterr()

    assert main(["--data-dir", str(root), "--lang", "en", "sync"]) == sync_cli.EXIT_REFUSED

    said = capsys.readouterr().out
    assert "refused" in said
    assert "it belongs to an office your account does not cover" in said
    assert "- Person: new record " in said  # the detail in words, as the Sync page has it
    assert "errno" not in said  # the server's English stays out of the summary
    assert main(["--data-dir", str(root), "sync", "--json"]) == sync_cli.EXIT_REFUSED
    summary = json.loads(capsys.readouterr().out)
    assert summary["ok"] is True  # the sync itself ran to its end
    assert summary["rejected"] == 0  # nothing new refused this time ...
    assert summary["failed"] == len(summary["refused"]) > 0  # ... but still waiting here
    assert {item["errno"] for item in summary["refused"]} == {120}


def test_sync_help_documents_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sync", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "4 the sync ran but the server refused some changes" in said
    assert "3 the sync stopped early" in said


@pytest.mark.usefixtures("cli_env")
def test_registering_without_the_server_password_says_which_password_and_makes_no_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In a script (no terminal) without SAPAN_SERVER_PASSWORD: the message is about the
    server account's password, not the store's passphrase, and no store is left behind."""
    monkeypatch.delenv("SAPAN_SERVER_PASSWORD")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    root = tmp_path / "store"

    register = ["sync", "register", "--server", "http://127.0.0.1:9", "--user", "ann"]
    code = main(["--data-dir", str(root), *register])

    assert code == 2
    err = capsys.readouterr().err
    assert "SAPAN_SERVER_PASSWORD" in err
    assert "store is locked" not in err
    assert not root.exists()


def test_server_prune_says_what_it_dropped_and_kept(
    registered: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    server_db = ["server", "--db", str(tmp_path / "server.db")]
    assert main([*server_db, "prune", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "last_sent_removed": 0,
        "last_sent_kept": 0,
        "addresses_forgotten": 0,
    }
    assert main(["--lang", "en", *server_db, "prune"]) == 0
    assert "0 kept" in capsys.readouterr().out


@pytest.mark.usefixtures("cli_env")
def test_a_sync_names_the_merges_a_restored_server_refused_to_make_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sync's summary lists a merge it could not make again (SyncService.redo_merges):
    the command names it, B → A, as the person reads them on the Duplicates page."""
    from desktop.models.store import create_store
    from desktop.models.sync_records import SyncMerge
    from desktop.services import people
    from desktop.services.people import NameInput, PersonInput
    from desktop.services.sync import SyncSummary

    monkeypatch.setattr(sync_cli, "tune_gc", lambda: None)
    root = tmp_path / "store"
    with create_store(root, PASSPHRASE) as store:
        source = people.create_person(store, PersonInput(names=[NameInput("Aung Aung")]))
        target = people.create_person(store, PersonInput(names=[NameInput("Aung Aung Oo")]))
        with store.remote_session() as session:
            session.add(
                SyncMerge(
                    id="0191a000-0000-7000-8000-000000000001",
                    seq=7,
                    entity="person",
                    source_id=source.person_id,
                    target_id=target.person_id,
                    office="TAK-01",
                    merged_by="cora",
                )
            )
    refused = {"id": "0191a000-0000-7000-8000-000000000001", "errno": 151}
    monkeypatch.setattr(
        sync_view, "run_sync", lambda *_a, **_k: SyncSummary(merges_not_redone=[refused])
    )

    assert main(["--data-dir", str(root), "--lang", "en", "sync"]) == 0

    said = " ".join(capsys.readouterr().out.split())
    assert (
        "Making it again was refused, as the people or cases have changed: look at it in the"
        " list of merges on the Duplicates page and make it again there: Aung Aung → Aung"
        " Aung Oo" in said
    )
