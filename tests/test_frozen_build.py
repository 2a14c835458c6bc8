"""The frozen build (``build.spec``, PyInstaller) runs what the checkout runs.

Caseworkers get the app as this one-folder build, where only what PyInstaller saw or was
told to bundle exists: a module imported by name or a file read from beside a package is
missing unless the spec names it. The build is made once, into a temporary folder, and
each test runs the bundled ``sapan`` as a person would.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pypdfium2
import pytest

from desktop.cli import build_parser
from desktop.services import crash
from tests.conftest import PASSPHRASE, SERVER_PASSWORD
from tests.postgres import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled ``sapan`` executable, built from this checkout's ``build.spec``."""
    out = tmp_path_factory.mktemp("frozen")
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level=WARN",
            "--distpath",
            str(out / "dist"),
            "--workpath",
            str(out / "work"),
            str(ROOT / "build.spec"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr[-4000:]
    return out / "dist" / "sapan" / "sapan"


# A keyring for the build's processes: a file beside it, found through keyring's own
# configuration (``keyring-path``), since the build cannot import the suite's fake.
FILE_KEYRING = """
import json
import pathlib

from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    priority = 1
    path = pathlib.Path(__file__).with_name("secrets.json")

    def _all(self):
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service, username):
        return self._all().get(f"{service}/{username}")

    def set_password(self, service, username, password):
        secrets = self._all()
        secrets[f"{service}/{username}"] = password
        self.path.write_text(json.dumps(secrets))

    def delete_password(self, service, username):
        secrets = self._all()
        secrets.pop(f"{service}/{username}", None)
        self.path.write_text(json.dumps(secrets))
"""


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A store and a keyring of its own, its passphrase and a server password.

    The keyring is a file in ``tmp_path``, so the build never touches the keyring of the
    person running the tests."""
    keyring_dir = tmp_path / "keyring"
    config = tmp_path / "config" / "python_keyring"
    keyring_dir.mkdir()
    config.mkdir(parents=True)
    (keyring_dir / "test_file_keyring.py").write_text(FILE_KEYRING)
    (config / "keyringrc.cfg").write_text(
        "[backend]\n"
        "default-keyring = test_file_keyring.FileKeyring\n"
        f"keyring-path = {keyring_dir}\n"
    )
    environ = {key: value for key, value in os.environ.items() if key != "PYTHON_KEYRING_BACKEND"}
    return {
        **environ,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "SAPAN_DATA_DIR": str(tmp_path / "store"),
        "SAPAN_PASSPHRASE": PASSPHRASE,
        "SAPAN_NEW_PASSWORD": SERVER_PASSWORD,
        "SAPAN_SERVER_PASSWORD": SERVER_PASSWORD,
        "SAPAN_KDF_N": "1024",
    }


def run(frozen: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(frozen), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def commands_of_checkout() -> set[str]:
    parser = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


def test_every_command_of_the_checkout_is_in_the_build(frozen: Path, env: dict[str, str]) -> None:
    done = run(frozen, env, "no-such-command")  # argparse answers with every command there is

    listed = done.stderr.split("choose from", 1)[1]
    assert set(re.findall(r"'([a-z-]+)'", listed)) == commands_of_checkout()
    assert "coordinate" in commands_of_checkout()


def test_the_build_makes_a_store_and_prints_a_packet(
    frozen: Path, env: dict[str, str], tmp_path: Path
) -> None:
    assert run(frozen, env, "demo", "--people", "3").returncode == 0
    listed = run(frozen, env, "case", "list", "--json")
    number = json.loads(listed.stdout)[0]["number"]
    pdf = tmp_path / "packet.pdf"

    printed = run(frozen, env, "print", "packet", number, "-o", str(pdf))
    checked = run(frozen, env, "db", "check")

    assert printed.returncode == 0, printed.stderr
    assert len(pypdfium2.PdfDocument(pdf)) >= 1
    assert checked.returncode == 0, checked.stderr


def test_the_build_opens_the_app_window(frozen: Path, env: dict[str, str], tmp_path: Path) -> None:
    """The desktop app of the build starts on a store, shows its window and quits (the
    smoke exit), with no bug reported on the way."""
    assert run(frozen, env, "demo", "--people", "3").returncode == 0
    given = tmp_path / "passphrase.txt"
    given.write_text(PASSPHRASE, encoding="utf-8")
    app_env = {**env, "QT_QPA_PLATFORM": "offscreen", "SAPAN_SMOKE_MS": "1500"}
    del app_env["SAPAN_PASSPHRASE"]  # the window's own way: the passphrase file

    done = run(frozen, app_env, "--passphrase-file", str(given), "--lang", "my")

    assert done.returncode == 0, done.stderr[-4000:]
    assert not crash.log_path(Path(env["SAPAN_DATA_DIR"])).exists()


@pytest.fixture
def frozen_server(frozen: Path, env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """``sapan serve`` of the build on a new SQLite file, with an account ``ann``."""
    db = str(tmp_path / "server.db")
    made = run(frozen, env, "server", "--db", db, "create-user", "ann", "--offices", "TAK-01")
    assert made.returncode == 0, made.stderr
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [str(frozen), "serve", "--db", db, "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-4000:]
            try:
                httpx.get(f"{url}/v1/info", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the bundled server did not answer"
                time.sleep(0.2)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        log.close()


def test_the_build_serves_and_syncs(frozen: Path, env: dict[str, str], frozen_server: str) -> None:
    info = httpx.get(f"{frozen_server}/v1/info", timeout=10)
    registered = run(frozen, env, "sync", "register", "--server", frozen_server, "--user", "ann")
    synced = run(frozen, env, "sync", "--json")

    assert info.status_code == 200
    assert registered.returncode == 0, registered.stderr
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["ok"] is True
