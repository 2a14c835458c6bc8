"""The one wrapper over the OS keyring (Credential Locker, Keychain, Secret Service).

Only a keyring that really protects secrets is used. Where the platform has none (a
headless Linux box picks keyring's ``fail`` backend; keyrings.alt's plaintext file is
not protection), :meth:`SecretStore.usable` is False and callers fall back to asking
the person for their passphrase: never a silent plaintext fallback.
"""

from __future__ import annotations

import contextlib

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError, PasswordDeleteError

SERVICE = "sapan"

# Backends that exist but do not protect anything.
_UNSAFE_BACKENDS = ("fail.Keyring", "PlaintextKeyring", "null.Keyring")


class SecretStore:
    """Named secrets kept in the OS keyring under one service name."""

    def __init__(self, service: str = SERVICE, backend: KeyringBackend | None = None) -> None:
        self.service = service
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        return self._backend or keyring.get_keyring()

    def usable(self) -> bool:
        """True when the backend is a real protected keyring."""
        backend = self.backend
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        if any(name.endswith(unsafe) for unsafe in _UNSAFE_BACKENDS):
            return False
        try:
            return float(backend.priority) >= 1
        except Exception:  # a backend whose priority check raises is not usable
            return False

    def get(self, name: str) -> str | None:
        if not self.usable():
            return None
        try:
            return self.backend.get_password(self.service, name)
        except KeyringError:
            return None

    def set(self, name: str, value: str) -> bool:
        """Store a secret; False (and nothing written) when no usable keyring exists."""
        if not self.usable():
            return False
        try:
            self.backend.set_password(self.service, name, value)
        except KeyringError:
            return False
        return True

    def delete(self, name: str) -> None:
        if not self.usable():
            return
        with contextlib.suppress(PasswordDeleteError, KeyringError):
            self.backend.delete_password(self.service, name)
