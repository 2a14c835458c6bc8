"""Attachments on disk: content-addressed by SHA-256 of the plaintext, encrypted in chunks.

A blob is ``attachments/ab/abcdef…`` (the hash of the original file). The file is a
header (magic, version, an 8-byte random nonce prefix) followed by chunks of at most
1 MiB, each sealed with AES-GCM under a key derived from the store key; the nonce is the
prefix plus the chunk index, and the associated data binds the hash, the index and a
last-chunk flag, so chunks cannot be reordered, swapped between files or truncated away.
Files are streamed: a 200 MB scan never sits in memory, and a size limit refuses huge
files before anything is written.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import struct
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from desktop.domain.errors import UserError

MAGIC = b"SAPANAT1"
CHUNK = 1024 * 1024
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    already_present: bool


class AttachmentStore:
    def __init__(self, root: Path, store_key: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._aead = AESGCM(hmac.digest(store_key, b"sapan attachments v1", "sha256"))

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str) -> bool:
        return self.path_for(sha256).exists()

    def put_file(self, source: Path, progress: Progress | None = None) -> StoredBlob:
        """Hash, encrypt and store ``source``; refuses files above the size limit."""
        try:
            size = source.stat().st_size
            handle = source.open("rb")
        except OSError as exc:
            raise UserError("error.attachment_unreadable", path=str(source)) from exc
        if size > self.max_bytes:
            handle.close()
            raise UserError(
                "error.attachment_too_large",
                size_mb=round(size / 1_048_576, 1),
                max_mb=self.max_bytes // 1_048_576,
            )
        with handle:
            return self._put(handle, size, progress)

    def put_bytes(self, data: bytes) -> StoredBlob:
        import io

        if len(data) > self.max_bytes:
            raise UserError(
                "error.attachment_too_large",
                size_mb=round(len(data) / 1_048_576, 1),
                max_mb=self.max_bytes // 1_048_576,
            )
        return self._put(io.BytesIO(data), len(data), None)

    def _put(self, handle: BinaryIO, size: int, progress: Progress | None) -> StoredBlob:
        digest = hashlib.sha256()
        while block := handle.read(CHUNK):
            digest.update(block)
        sha = digest.hexdigest()
        target = self.path_for(sha)
        if target.exists():
            return StoredBlob(sha, size, True)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle.seek(0)
        prefix = secrets.token_bytes(8)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + prefix)
                done = 0
                index = 0
                block = handle.read(CHUNK)
                while True:
                    following = handle.read(CHUNK) if block else b""
                    last = not following
                    sealed = self._aead.encrypt(
                        prefix + struct.pack(">I", index), block, _aad(sha, index, last)
                    )
                    out.write(struct.pack(">I", len(sealed)) + sealed)
                    done += len(block)
                    if progress is not None:
                        progress(done, size)
                    if last:
                        break
                    block, index = following, index + 1
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return StoredBlob(sha, size, False)

    def read_chunks(self, sha256: str) -> Iterator[bytes]:
        """The plaintext in chunks, verified: a damaged or tampered file raises UserError."""
        path = self.path_for(sha256)
        if not path.exists():
            raise UserError("error.attachment_missing", sha256=sha256)
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            header = handle.read(len(MAGIC) + 8)
            if header[: len(MAGIC)] != MAGIC:
                raise UserError("error.attachment_damaged", sha256=sha256)
            prefix = header[len(MAGIC) :]
            index = 0
            while True:
                raw_len = handle.read(4)
                if len(raw_len) != 4:
                    raise UserError("error.attachment_damaged", sha256=sha256)
                sealed = handle.read(struct.unpack(">I", raw_len)[0])
                nonce = prefix + struct.pack(">I", index)
                try:
                    block = self._aead.decrypt(nonce, sealed, _aad(sha256, index, True))
                    last = True
                except InvalidTag:
                    try:
                        block = self._aead.decrypt(nonce, sealed, _aad(sha256, index, False))
                    except InvalidTag as exc:
                        raise UserError("error.attachment_damaged", sha256=sha256) from exc
                    last = False
                digest.update(block)
                yield block
                if last:
                    break
                index += 1
        if digest.hexdigest() != sha256:
            raise UserError("error.attachment_damaged", sha256=sha256)

    def read_bytes(self, sha256: str) -> bytes:
        return b"".join(self.read_chunks(sha256))

    def export_to(self, sha256: str, target: Path) -> None:
        with target.open("wb") as out:
            for block in self.read_chunks(sha256):
                out.write(block)


def _aad(sha256: str, index: int, last: bool) -> bytes:
    return f"{sha256}:{index}:{int(last)}".encode()
