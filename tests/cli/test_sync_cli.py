"""``sapan sync`` against a real server on loopback: the collector is tuned before syncing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from desktop.cli import main
from desktop.cli import sync as sync_cli
from sync.protocol import Role
from sync.server import admin
from sync.server.app import Settings, create_app
from tests.postgres import free_port

PASSWORD = "password-123"


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[str]:
    """``sapan serve``'s app (SQLite) under uvicorn in a thread; yields its base URL."""
    app = create_app(Settings(db_url=str(tmp_path / "server.db"), cheap_hashing=True))
    ctx = app.state.ctx
    admin.create_user(ctx.engine, ctx.hasher, "ann", PASSWORD, Role.CASEWORKER, ("MS",))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(20)
    ctx.engine.dispose()


def test_sync_tunes_the_collector_once_the_store_is_open(
    live_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SAPAN_KDF_N", "1024")
    monkeypatch.setenv("SAPAN_PASSPHRASE", "correct horse battery")
    monkeypatch.setenv("SAPAN_SERVER_PASSWORD", PASSWORD)
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
