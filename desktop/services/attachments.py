"""Attach scans and photos to a case, a person, a document or a checklist item."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from desktop.domain.errors import UserError
from desktop.models.attachments import AttachmentStore, Progress
from desktop.models.base import listed, live_row
from desktop.models.entities import Attachment, ChecklistItem
from desktop.models.store import Store
from sync.protocol import MAX_LIST_ITEMS, safe_filename


def blob_store(store: Store) -> AttachmentStore:
    max_mb = int(store.setting("attachment_max_mb", 50))
    return AttachmentStore(
        store.paths.attachments, store.key_for_attachments(), max_bytes=max_mb * 1_048_576
    )


def add_attachment(
    store: Store,
    source: Path,
    *,
    case_id: str | None = None,
    person_id: str | None = None,
    document_id: str | None = None,
    checklist_item_id: str | None = None,
    description: str | None = None,
    progress: Progress | None = None,
) -> str:
    """Encrypt and store the file (streamed), then record it; returns the attachment id.

    The blob is written before the row, so a crash in between leaves at worst an
    unreferenced encrypted blob, never a row pointing at nothing.
    """
    if checklist_item_id is not None:
        _check_room(store, checklist_item_id)  # before the file is read and encrypted
    blob = blob_store(store).put_file(source, progress)
    with store.session() as session:
        office = store.office
        item = None
        if checklist_item_id is not None:
            # one folded into its twin (steps.merge_twin_items) is tombstoned: not found
            item = live_row(session, ChecklistItem, checklist_item_id)
            office = item.office
        row = Attachment(
            office=office,
            sha256=blob.sha256,
            filename=stored_name(source),
            mime=mimetypes.guess_type(source.name)[0],
            size=blob.size,
            case_id=case_id,
            person_id=person_id,
            document_id=document_id,
            description=description,
        )
        session.add(row)
        session.flush()
        if item is not None:
            item.attachment_ids = sorted({*(item.attachment_ids or []), row.id})
            item.status = "present"
        return row.id


def stored_name(source: Path) -> str:
    """The name an attachment row keeps for ``source``: its own, made one the sync server
    takes (a bare name of at most 255 characters; not an Office lock file's leading "~",
    no drive, no NUL), else "scan". The server refused the row of a scan named so."""
    name = source.name.replace("\x00", "").replace("\\", "_").lstrip("~")
    name = re.sub(r"^[A-Za-z]:", "", name)[:255]
    return name if safe_filename(name) else "scan"


def _check_room(store: Store, checklist_item_id: str) -> None:
    """A checklist item holds at most as many files as the sync server takes in one list."""
    with store.read() as session:
        item = session.get(ChecklistItem, checklist_item_id)
        held = len(item.attachment_ids or []) if item is not None else 0
    if held >= MAX_LIST_ITEMS:
        raise UserError("error.checklist_item_full", maximum=MAX_LIST_ITEMS)


def read_attachment(store: Store, sha256: str) -> bytes:
    return blob_store(store).read_bytes(sha256)


@dataclass(frozen=True)
class BlobCheck:
    """What :func:`check_blobs` found: scans that read back whole, damaged ones (by hash),
    ones recorded but not on this device yet (a sync fetches them), and ones missing
    that no sync can bring back (by hash): never on the server, their row never through it.
    """

    ok: int
    damaged: tuple[str, ...]
    not_here: int
    lost: tuple[str, ...] = ()


def check_blobs(store: Store, progress: Progress | None = None) -> BlobCheck:
    """Read every scan the store's live attachment rows name, decrypting it and checking
    its SHA-256, as opening it would (a failing disk or a file cut short shows here, not
    when the office needs the scan). ``progress`` is told scans read of scans to read.

    A scan missing here is *lost* when the server holds no copy (not marked uploaded)
    and every row naming it was made on this device and never synced (``version`` 0):
    attached here, then deleted from the disk behind the store's back."""
    with store.read() as session:
        rows = session.scalars(select(Attachment.sha256).where(Attachment.deleted.is_(False)))
        wanted = sorted({sha256 for sha256 in rows if sha256})
    blobs = blob_store(store)
    gone = lost_scans(store, [sha256 for sha256 in wanted if not blobs.has(sha256)])
    ok = not_here = 0
    damaged: list[str] = []
    lost: list[str] = []
    for done, sha256 in enumerate(wanted, start=1):
        if not blobs.has(sha256):
            if sha256 in gone:
                lost.append(sha256)
            else:
                not_here += 1
        else:
            try:
                for _chunk in blobs.read_chunks(sha256):
                    pass
                ok += 1
            except UserError:
                damaged.append(sha256)
        if progress is not None:
            progress(done, len(wanted))
    return BlobCheck(ok, tuple(damaged), not_here, tuple(lost))


def lost_scans(store: Store, missing: Iterable[str]) -> set[str]:
    """Of the scans ``missing`` from this device (by hash), those no sync can bring back:
    the server holds no copy (not marked uploaded) and every live row naming one was made
    on this device and never synced (``version`` 0)."""
    from desktop.services.sync_attachments import uploaded  # it builds on this module

    wanted = set(missing)
    if not wanted:
        return set()
    with store.read() as session:
        synced = set(
            session.scalars(
                select(Attachment.sha256).where(
                    Attachment.deleted.is_(False),
                    Attachment.version > 0,
                    Attachment.sha256.in_(listed(sorted(wanted))),
                )
            )
        )
    return wanted - synced - uploaded(store)
