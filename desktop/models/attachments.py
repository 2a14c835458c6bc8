"""Attachments on disk: content-addressed by SHA-256 of the plaintext, encrypted in chunks.

A blob is ``attachments/ab/abcdef…`` (the hash of the original file). The file is a
header (magic, version, an 8-byte random nonce prefix) followed by chunks of at most
1 MiB, each sealed with AES-GCM under a key derived from the store key; the nonce is the
prefix plus the chunk index, and the associated data binds the hash, the index and a
last-chunk flag, so chunks cannot be reordered, swapped between files or truncated away.
Files are streamed: a 200 MB scan never sits in memory, and a size limit refuses huge
files before anything is written. A download in progress is a :class:`PartialBlob`
beside the blob (``ab/abcdef….download``), kept encrypted as it arrives so a cut link
resumes after what already came; it becomes the blob only once it hashes to its name.
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
PARTIAL_MAGIC = b"SAPANDL1"
PARTIAL_SUFFIX = ".download"
# 256 KiB: on a 2G link a drop loses at most a few seconds of what already arrived
SEGMENT = 256 * 1024
SEGMENT_OVERHEAD = 4 + 12 + 16  # length, nonce, AES-GCM tag
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

    def remove(self, sha256: str) -> bool:
        """Delete the blob ``sha256`` and any download of it in progress; True if a blob
        was there. (Crypto-erase is the store's: this frees the space and the file.)"""
        self.partial(sha256).discard()
        try:
            self.path_for(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

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
        handle.seek(0)
        return self._seal(digest.hexdigest(), iter(lambda: handle.read(CHUNK), b""), size, progress)

    def _seal(
        self, sha: str, blocks: Iterator[bytes], size: int, progress: Progress | None
    ) -> StoredBlob:
        """Write ``blocks`` (at most CHUNK bytes each, none empty) as the blob ``sha``."""
        target = self.path_for(sha)
        if target.exists():
            return StoredBlob(sha, size, True)
        target.parent.mkdir(parents=True, exist_ok=True)
        prefix = secrets.token_bytes(8)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + prefix)
                done = 0
                index = 0
                block = next(blocks, b"")
                while True:
                    following = next(blocks, b"")
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

    # -- downloads in progress ---------------------------------------------------------

    def partial(self, sha256: str) -> PartialBlob:
        """The part of ``sha256`` received so far (empty if none): a download resumes here."""
        return PartialBlob(self._partial_path(sha256), sha256, self._aead)

    def partial_bytes(self, sha256: str) -> int:
        """About how many bytes a download in progress holds, from its file size alone.

        Exact unless its tail is torn (then a little more than :meth:`partial` finds);
        cheap enough for the Sync page, which shows what the rest will cost.
        """
        try:
            size = self._partial_path(sha256).stat().st_size
        except FileNotFoundError:
            return 0
        body = max(size - len(PARTIAL_MAGIC), 0)
        records = -(-body // (SEGMENT + SEGMENT_OVERHEAD))
        return max(body - records * SEGMENT_OVERHEAD, 0)

    def _partial_path(self, sha256: str) -> Path:
        return self.path_for(sha256).with_suffix(PARTIAL_SUFFIX)

    def partial_names(self) -> list[str]:
        """The names of every blob with a download in progress."""
        if not self.root.exists():
            return []
        return sorted(p.stem for p in self.root.glob(f"??/*{PARTIAL_SUFFIX}"))

    def finish(self, partial: PartialBlob) -> StoredBlob:
        """Store a complete partial download as its blob and remove it.

        Refuses (``error.attachment_damaged``) if what it holds does not hash to its name;
        the partial is then discarded, so the next sync fetches the blob again.
        """
        partial.flush()
        if partial.sha256() != partial.name:
            partial.discard()
            raise UserError("error.attachment_damaged", sha256=partial.name)
        # the partial's segments (at most SEGMENT bytes, never empty) become the blob's chunks
        stored = self._seal(partial.name, partial.plaintext(), partial.held, None)
        partial.discard()
        return stored

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


class PartialBlob:
    """A download in progress, kept encrypted as it arrives so a cut link loses little.

    The file (``ab/<sha256>.download``) is a magic header followed by segments of at most
    ``SEGMENT`` bytes, each sealed with AES-GCM under its own random 96-bit nonce (kept
    beside it) and associated data that binds the name and the segment's index, so
    segments cannot be reordered or moved between files. Segments are only appended.
    Opening it reads back every segment that decrypts; a torn or damaged tail (the laptop
    lost power mid-write) is cut off and the download resumes after the last good
    segment. A segment rewritten after such a cut gets a fresh nonce, never a reused one.
    Nothing is fsynced while downloading: a lost tail is simply fetched again.
    :meth:`AttachmentStore.finish` turns a complete download into the blob.
    """

    def __init__(self, path: Path, name: str, aead: AESGCM) -> None:
        self.path = path
        self.name = name
        self._aead = aead
        self._digest = hashlib.sha256()
        self._buffer = bytearray()
        self._segments = 0
        self.held = 0
        end = 0
        for block, after in self._good_segments():
            end = after
            if block:  # sealed segments are never empty; the header yields b""
                self._digest.update(block)
                self.held += len(block)
                self._segments += 1
        if end == 0:
            self.path.unlink(missing_ok=True)  # no header, or a damaged one
        elif self.path.stat().st_size > end:
            with self.path.open("r+b") as handle:
                handle.truncate(end)

    def _good_segments(self) -> Iterator[tuple[bytes, int]]:
        """(plaintext, file offset after it) for each segment that decrypts, in order.

        The header alone yields ``(b"", len(header))`` first when it is intact.
        """
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        with handle:
            if handle.read(len(PARTIAL_MAGIC)) != PARTIAL_MAGIC:
                return
            yield b"", handle.tell()
            index = 0
            while len(raw_len := handle.read(4)) == 4:
                record = handle.read(struct.unpack(">I", raw_len)[0])
                try:
                    block = self._aead.decrypt(record[:12], record[12:], self._aad(index))
                except (InvalidTag, ValueError):
                    return
                index += 1
                yield block, handle.tell()

    def plaintext(self) -> Iterator[bytes]:
        """Every byte held (after :meth:`flush`), segment by segment."""
        return (block for block, _end in self._good_segments() if block)

    def write(self, data: bytes) -> None:
        """Take the next bytes of the download; sealed to disk a segment at a time."""
        self._digest.update(data)
        self.held += len(data)
        self._buffer += data
        if len(self._buffer) >= SEGMENT:
            self.flush()

    def flush(self) -> None:
        """Seal whatever is buffered (called after each segment and when a link drops)."""
        if not self._buffer:
            return
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(PARTIAL_MAGIC)
        with self.path.open("ab") as out:
            for start in range(0, len(self._buffer), SEGMENT):
                nonce = secrets.token_bytes(12)
                block = bytes(self._buffer[start : start + SEGMENT])
                record = nonce + self._aead.encrypt(nonce, block, self._aad(self._segments))
                out.write(struct.pack(">I", len(record)) + record)
                self._segments += 1
        self._buffer.clear()

    def sha256(self) -> str:
        """The hash of every byte held so far."""
        return self._digest.copy().hexdigest()

    def discard(self) -> None:
        """Forget everything held: the next download starts from the first byte."""
        self.path.unlink(missing_ok=True)
        self._digest = hashlib.sha256()
        self._buffer.clear()
        self._segments = 0
        self.held = 0

    def _aad(self, index: int) -> bytes:
        return f"{self.name}:download:{index}".encode()
