"""Fixtures of the CLI tests that talk to a sync server: a real one on loopback, the
secrets from the environment as a script gives them, and a device registered with it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from desktop.cli import main
from desktop.cli import sync as sync_cli
from sync.protocol import Role
from sync.server import admin
from sync.server.app import Settings, create_app
from tests.conftest import PASSPHRASE, SERVER_PASSWORD
from tests.postgres import free_port


@contextmanager
def serving(db: Path, port: int | None = None) -> Iterator[str]:
    """``sapan serve``'s app (SQLite at ``db``) under uvicorn in a thread, on ``port`` or a
    free one; yields its base URL. Caseworker ``ann`` of office MS has the password
    :data:`SERVER_PASSWORD` (made with the database)."""
    made = not db.exists()
    app = create_app(Settings(db_url=str(db), cheap_hashing=True))
    ctx = app.state.ctx
    if made:
        admin.create_user(ctx.engine, ctx.hasher, "ann", SERVER_PASSWORD, Role.CASEWORKER, ("MS",))
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        ctx.engine.dispose()


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """A server (:func:`serving`) whose database is ``tmp_path / "server.db"`` (``sapan
    server --db`` administers it)."""
    with serving(tmp_path / "server.db") as url:
        yield url


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The passphrase and the server password from the environment; cheap key derivation."""
    monkeypatch.setenv("SAPAN_KDF_N", "1024")
    monkeypatch.setenv("SAPAN_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SAPAN_SERVER_PASSWORD", SERVER_PASSWORD)


@pytest.fixture
def registered(
    live_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_env: None
) -> Path:
    """A store in ``tmp_path / "store"`` registered with the live server as ann's."""
    monkeypatch.setattr(sync_cli, "tune_gc", lambda: None)  # do not freeze the test process
    root = tmp_path / "store"
    register = ["sync", "register", "--server", live_server, "--user", "ann"]
    assert main(["--data-dir", str(root), *register]) == 0
    return root
