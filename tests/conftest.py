"""Suite-wide setup. The first lines run before anything imports Qt."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.text.font.db=false")
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.fakes.MemoryKeyring"
os.environ.setdefault("SAPAN_KDF_N", "1024")  # cheap key derivation in tests only

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest

from desktop.models.store import Store, create_store
from tests.fakes import MemoryKeyring


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets a fresh, empty in-memory OS keyring."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


PASSPHRASE = "correct horse battery"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A new, empty encrypted store in a temp folder, closed after the test."""
    opened = create_store(tmp_path / "store", PASSPHRASE)
    yield opened
    opened.close()


SERVER_PASSWORD = "password-123"


def file_server(path: Path) -> Any:
    """A sync server app on the SQLite file ``path``, in-process; made, with caseworker
    ``somchai`` of TAK-01, when the file is missing."""
    from sync.protocol import Role
    from sync.server import admin
    from sync.server.app import Settings, create_app

    made = not path.exists()
    app = create_app(Settings(db_url=str(path), cheap_hashing=True))
    if made:
        ctx = app.state.ctx
        admin.create_user(
            ctx.engine, ctx.hasher, "somchai", SERVER_PASSWORD, Role.CASEWORKER, ["TAK-01"]
        )
    return app


def backup_server(path: Path, backup: Path | None = None) -> Path:
    """Last night's backup of the server database ``path`` (SQLite's online copy), in
    ``backup`` (by default ``backup.db`` beside it)."""
    import sqlite3

    backup = backup or path.parent / "backup.db"
    with sqlite3.connect(path) as source, sqlite3.connect(backup) as copy:
        source.backup(copy)
    return backup


def replace_database(path: Path, backup: Path) -> None:
    """The server's SQLite database ``path`` (its WAL too) replaced by ``backup``."""
    for lost in path.parent.glob(path.name + "*"):
        lost.unlink()
    backup.rename(path)


def restore_server(path: Path, live: Any, backup: Path) -> Any:
    """The server's disk failed: ``live`` stops, its database is replaced by ``backup``
    and the server starts again on it (without ``sapan server new-log``: see
    :func:`new_server_log`)."""
    live.state.ctx.engine.dispose()
    replace_database(path, backup)
    return file_server(path)


def new_server_log(path: Path, running: Any) -> Any:
    """The administrator stops ``running`` (on ``path``), runs ``sapan server new-log``
    and starts the server again."""
    from sync.server import admin

    running.state.ctx.engine.dispose()
    admin.new_log(running.state.ctx.engine)
    running.state.ctx.engine.dispose()
    return file_server(path)


@pytest.fixture
def server_app(tmp_path: Path) -> Iterator[Any]:
    """A sync server app on SQLite, in-process, with caseworker ``somchai`` of TAK-01."""
    app = file_server(tmp_path / "server.db")
    yield app
    app.state.ctx.engine.dispose()


@pytest.fixture
def server_http(server_app: Any) -> Any:
    """An HTTP client factory (``url -> client``) that reaches ``server_app`` in-process."""
    return lambda url: in_process_client(server_app)


def phoned_person(store: Store, phone: str) -> str:
    """A person of TAK-01 (``server_app``'s caseworker's office) with ``phone``, made
    straight in the store; returns the id."""
    from desktop.models.entities import Person

    with store.session() as session:
        person = Person(office="TAK-01", sex="f", phone=phone)
        session.add(person)
        session.flush()
        return person.id


def merged_elsewhere(app: Any, username: str, source_id: str, target_id: str) -> None:
    """Coordinator ``username``, on another laptop, merges person ``source_id`` into
    ``target_id`` on the server ``app`` (after a restore, before this laptop syncs)."""
    laptop = in_process_client(app)
    token = laptop.post(
        "/v1/devices",
        json={"username": username, "password": SERVER_PASSWORD, "device_name": "another"},
    ).json()["token"]
    made = laptop.post(
        "/v1/merges",
        json={"entity": "person", "source_id": source_id, "target_id": target_id},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code == 201, made.text


def in_process_client(app: Any) -> Any:
    """An httpx-compatible client that calls ``app`` in this process (Starlette's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

        return TestClient(app, raise_server_exceptions=True)


def unemployment_claim(store: Store, case: str, answers: dict[str, str], event: Any) -> str:
    """Start an unemployment claim on ``case`` as its wizard does, its first step holding
    ``answers`` (e.g. ``unemployment_reason``); returns the track id."""
    from desktop.services import cases, ui_wizards

    return ui_wizards.commit_track(
        store,
        cases.case_id_for(store, case),
        ui_wizards.TrackCommit(
            "claim",
            "claim_unemployment",
            [("check_eligibility", answers, "in_progress")],
            benefit="unemployment",
            event_date=event,
        ),
    )
