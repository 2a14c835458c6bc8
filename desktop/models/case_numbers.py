"""Human-readable case numbers allocated offline from a block reserved for the device.

A number is ``PREFIX-BLOCK-SERIAL``, e.g. ``TAK-0042-000123``: the province prefix, the
device's block and a serial inside it. The sync server gives each registered device its
own block, 1 to 8999 (``POST /v1/devices/case-block``, asked at the first sync and kept
in the setting ``case_block``), so numbers made offline on different devices never
collide; a device registered with another server asks for a block past the numbers it
holds (:func:`highest_block`), which the new server never gave. Until a device has one
(not registered yet, or a server that hands out none) it uses a provisional block
derived from its device id, 9000 to 9999, which the server never hands out; two such
devices collide with probability 1/1000 per pair. A case that never reached the server
is renumbered into the server's block once the device has one
(:func:`renumber_provisional`); the case ``id`` (a UUID) is the real key either way,
and the local store does not require numbers to be unique, so a collision that reached
the server anyway never stops a sync.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.models.entities import Case, CaseNumberBlock, Setting

PROVISIONAL_FIRST = 9000
SERIAL_DIGITS = 6
BLOCK_SETTING = "case_block"
_NUMBER = re.compile(rf"^([A-Z0-9]+)-(\d{{4}})-\d{{{SERIAL_DIGITS}}}$")


def provisional_block(device_id: str) -> int:
    return PROVISIONAL_FIRST + int(device_id[:8], 16) % 1000


def server_block(session: Session) -> int | None:
    """The block the sync server gave this device, if it gave one."""
    row = session.get(Setting, BLOCK_SETTING)
    value = None if row is None else row.value
    return value if isinstance(value, int) and 0 < value < PROVISIONAL_FIRST else None


def allocate(session: Session, prefix: str, device_id: str) -> str:
    """The next free case number for ``prefix`` on this device (inside the caller's transaction)."""
    return reserve(session, prefix, device_id, 1)[0]


def reserve(session: Session, prefix: str, device_id: str, count: int) -> list[str]:
    """``count`` consecutive free numbers from one block, in one write (bulk imports).

    Numbers reserved but not used are simply skipped: case numbers need to be unique,
    not gap-free. The count is capped at what is left in the block.
    """
    prefix = prefix.upper()
    blocks = None
    given = server_block(session)
    if given is not None:  # the server's block first, while it has room
        blocks = _block(session, prefix, given)
    if blocks is None:
        blocks = _block(session, prefix, provisional_block(device_id))
    if blocks is None:
        raise RuntimeError(f"case number blocks of {prefix} on this device are used up")
    first = blocks.next_number
    last = min(first + max(count, 1) - 1, blocks.last_number)
    blocks.next_number = last + 1
    return [
        f"{prefix}-{blocks.block:04d}-{serial:0{SERIAL_DIGITS}d}"
        for serial in range(first, last + 1)
    ]


def _block(session: Session, prefix: str, block: int) -> CaseNumberBlock | None:
    """The block row, created on first use; None when it is used up."""
    row = session.get(CaseNumberBlock, (prefix, block))
    if row is None:
        row = CaseNumberBlock(prefix=prefix, block=block, next_number=1, last_number=999_999)
        session.add(row)
        session.flush()
    return row if row.next_number <= row.last_number else None


def highest_block(session: Session) -> int:
    """The highest server-given block (below the provisional ones) that this store holds
    case numbers of, or has numbered from: a device that comes to another server holds
    the old server's numbers, which the new one never gave, so it asks for a block past
    them (``POST /v1/devices/case-block?above=``). 0 when it holds none."""
    used = session.scalars(
        select(CaseNumberBlock.block).where(CaseNumberBlock.block < PROVISIONAL_FIRST)
    )
    highest = max(used, default=0)
    for number in session.scalars(select(Case.number).where(Case.number.is_not(None))):
        found = _NUMBER.match(number or "")
        if found is not None and highest < int(found.group(2)) < PROVISIONAL_FIRST:
            highest = int(found.group(2))
    return highest


def renumber_provisional(session: Session, device_id: str) -> dict[str, str]:
    """Move this device's cases that never reached the server from provisional numbers to
    the server's block (inside the caller's recorded transaction, so the new numbers
    travel as ordinary edits). Returns old number -> new number; nothing without a
    server block. Cases the server already holds keep their numbers: others may have
    printed them."""
    if server_block(session) is None:
        return {}
    cases = session.scalars(
        select(Case)
        .where(Case.version == 0, Case.number.is_not(None), Case.deleted.is_(False))
        .order_by(Case.number)
    ).all()
    moved: dict[str, str] = {}
    for case in cases:
        found = _NUMBER.match(case.number or "")
        if found is None or int(found.group(2)) < PROVISIONAL_FIRST:
            continue
        new = allocate(session, found.group(1), device_id)
        moved[str(case.number)] = new
        case.number = new
    return moved
