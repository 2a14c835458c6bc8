"""A laptop lost after a backup (desktop/services/backup.py): its backup, opened on a new
laptop with the passphrase alone and registered again, syncs without a refusal or a
conflict. Changes already pushed before the loss come again from the restored outbox and
are answered as duplicates; what was pushed after the backup comes back by the pull, from
the restored (older) cursor. Runs against SQLite and PostgreSQL servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from desktop.models.entities import Case
from desktop.models.secret_store import SecretStore
from desktop.models.store import Store, open_store
from desktop.services import backup, people, ui_wizards
from desktop.services.sync import SyncService
from tests.fakes import MemoryKeyring
from tests.sync.conftest import PASSPHRASE, Server, agree_with_server, colleagues


def _case(store: Store, name: str) -> str:
    return ui_wizards.create_case(store, people.PersonInput(names=[people.NameInput(name)]))


def _numbers(store: Store) -> set[str | None]:
    with store.read() as session:
        return set(session.scalars(select(Case.number)))


def test_a_lost_laptops_backup_carries_on_on_a_new_one(
    server: Server, make_device: Any, tmp_path: Path
) -> None:
    ann, bob = colleagues(server, make_device)
    _case(ann.store, "ขวัญใจ ศรีสุข")
    assert ann.sync().ok
    _case(ann.store, "မောင်မောင်")  # offline: only the backup holds it
    stick = tmp_path / "usb" / "sapan-backup"
    backup.backup_store(ann.store, stick)
    _case(ann.store, "សុខ ចាន់ធី")  # after the backup
    assert ann.sync().ok  # then the laptop is stolen
    pushed = _numbers(ann.store)

    new_laptop = open_store(stick, PASSPHRASE, secrets=SecretStore(backend=MemoryKeyring()))
    try:
        client = server.device("ann", "replacement")  # registered again
        restored = SyncService(new_laptop, client, sleep=lambda _s: None)

        summary = restored.sync()
        assert summary.ok, summary.error
        assert (summary.rejected, summary.failed, summary.waiting) == (0, 0, 0)
        # the restored outbox: the person, name and case made before the backup, pushed
        # once already under the old registration (whose derived change ids differ), known
        # by their stamps and taken as duplicates
        assert (summary.pushed, summary.duplicates) == (0, 3)
        assert (summary.conflicts, summary.new_conflicts) == (0, 0)
        assert _numbers(new_laptop) == pushed  # the case made after the backup came back
        assert bob.sync().ok
        agree_with_server(server, [new_laptop, bob.store])
    finally:
        new_laptop.close()
