"""The store key: a random 256-bit key wrapped by the caseworker's passphrase.

The SQLCipher database and the attachment blobs are encrypted with a random raw key
(opening with a raw key costs 0.1 ms; a passphrase-derived SQLCipher key costs about
120 ms per connection). The key file beside the database holds only that key wrapped
with AES-GCM under a key derived from the passphrase by scrypt: without the passphrase
(or the OS keyring copy) the key file is useless. A wrong passphrase fails the AES-GCM
tag check and nothing is written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from desktop.domain import files
from desktop.domain.errors import UserError

KEY_BYTES = 32
FORMAT = "sapan-key-1"
# scrypt cost: about 0.1 s on an old laptop; tests may lower it through SAPAN_KDF_N.
DEFAULT_SCRYPT_N = 2**15
MIN_PASSPHRASE = 8


@dataclass(frozen=True)
class KeyFile:
    store_id: str
    salt: bytes
    nonce: bytes
    wrapped: bytes
    n: int
    r: int = 8
    p: int = 1

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "store_id": self.store_id,
                "kdf": {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p},
                "salt": _b64(self.salt),
                "nonce": _b64(self.nonce),
                "wrapped_key": _b64(self.wrapped),
            },
            indent=2,
        )

    @classmethod
    def read(cls, path: Path) -> KeyFile:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("unknown format")
            kdf = data["kdf"]
            return cls(
                store_id=str(data["store_id"]),
                salt=_unb64(data["salt"]),
                nonce=_unb64(data["nonce"]),
                wrapped=_unb64(data["wrapped_key"]),
                n=int(kdf["n"]),
                r=int(kdf["r"]),
                p=int(kdf["p"]),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UserError("error.key_file_damaged", path=str(path)) from exc


def check_passphrase_strength(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise UserError("error.passphrase_too_short", minimum=MIN_PASSPHRASE)


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def wrap_key(key: bytes, passphrase: str, store_id: str | None = None) -> KeyFile:
    n = int(os.environ.get("SAPAN_KDF_N", DEFAULT_SCRYPT_N))
    salt = secrets.token_bytes(16)
    nonce = secrets.token_bytes(12)
    kek = _derive(passphrase, salt, n, 8, 1)
    sid = store_id or str(uuid.uuid4())
    wrapped = AESGCM(kek).encrypt(nonce, key, sid.encode())
    return KeyFile(sid, salt, nonce, wrapped, n)


def unwrap_key(keyfile: KeyFile, passphrase: str) -> bytes:
    """The raw store key; :class:`UserError` ``error.wrong_passphrase`` on a wrong passphrase."""
    kek = _derive(passphrase, keyfile.salt, keyfile.n, keyfile.r, keyfile.p)
    try:
        return AESGCM(kek).decrypt(keyfile.nonce, keyfile.wrapped, keyfile.store_id.encode())
    except InvalidTag as exc:
        raise UserError("error.wrong_passphrase") from exc


def write_key_file(path: Path, keyfile: KeyFile) -> None:
    """Write whole or not at all (:func:`desktop.domain.files.replacing`): a crash never
    leaves half a key file."""
    with files.replacing(path) as partial:
        partial.write_text(keyfile.to_json(), encoding="utf-8")


def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * 1024 * 1024, dklen=32
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
