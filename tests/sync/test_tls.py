"""HTTPS end to end: ``sapan serve --ssl-certfile/--ssl-keyfile`` in a real process, and a
device that trusts its certificate only through the operating system's trust store (here
``SSL_CERT_FILE``, as an administrator installing an organisation's certificate would)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from desktop.domain.errors import UserError
from desktop.models.store import Store
from desktop.services import people, sync_view
from sync.protocol import Role
from sync.server import admin
from sync.server.auth import make_hasher
from sync.server.db import make_engine
from sync.server.migrate import upgrade
from tests.sync.conftest import PASSWORD, LiveServer


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by its own key, as a small office might make."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sapan test server")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    """``sapan serve`` over HTTPS on SQLite, with caseworker ``ann``; and its certificate."""
    db = str(tmp_path / "server.db")
    engine = make_engine(db)
    upgrade(engine)
    admin.create_user(engine, make_hasher(), "ann", PASSWORD, Role.CASEWORKER, ["MS"])
    engine.dispose()
    cert, key = _self_signed(tmp_path)
    server = LiveServer(db, tls=(cert, key))
    yield server, cert
    server.kill()


def test_a_device_that_trusts_the_certificate_registers_and_syncs_over_https(
    https_server: tuple[LiveServer, Path], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    person = people.create_person(
        store, people.PersonInput(names=[people.NameInput("Aung Aung", "latin")])
    )

    answer = sync_view.register(store, server.url, "ann", PASSWORD, "laptop")
    summary = sync_view.run_sync(store)

    assert answer.account.username == "ann"
    assert summary.ok, summary.error
    assert summary.pushed > 0
    assert summary.waiting == 0
    assert person.person_id


def test_an_untrusted_certificate_is_named_as_such_and_nothing_is_sent(
    https_server: tuple[LiveServer, Path], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _cert = https_server
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)

    with pytest.raises(UserError) as refused:
        sync_view.register(store, server.url, "ann", PASSWORD, "laptop")

    assert refused.value.code == "sync.untrusted_certificate"
    assert store.setting(sync_view.SERVER_SETTING, None) is None
    engine = make_engine(server.db_url)
    try:
        assert admin.list_devices(engine) == []
    finally:
        engine.dispose()


def test_a_sync_whose_certificate_stops_being_trusted_says_why(
    https_server: tuple[LiveServer, Path], store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registered device on a network that intercepts HTTPS (a hotel's sign-in page): the
    sync fails with a reason a person can act on, and the work stays waiting."""
    server, cert = https_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    sync_view.register(store, server.url, "ann", PASSWORD, "laptop")
    people.create_person(store, people.PersonInput(names=[people.NameInput("Mya Mya", "latin")]))
    monkeypatch.delenv("SSL_CERT_FILE")

    summary = sync_view.run_sync(store)

    assert not summary.ok
    assert summary.error is not None
    assert sync_view.core.reason(summary.error) == ("sync.reason.untrusted_certificate", {})
    assert summary.waiting > 0
