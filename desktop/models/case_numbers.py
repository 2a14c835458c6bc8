"""Human-readable case numbers allocated offline from a block reserved for the device.

A number is ``PREFIX-BLOCK-SERIAL``, e.g. ``TAK-0042-000123``: the province prefix, the
device's block and a serial inside it. The server reserves a block when the device is
registered (:func:`reserve_block`); until then the device uses a provisional block
derived from its device id in the range 9000-9999, which the server never hands out,
so two unregistered devices collide only with probability 1/1000 per pair and the
case ``id`` (a UUID) stays the real key either way.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from desktop.models.entities import CaseNumberBlock

PROVISIONAL_FIRST = 9000
SERIAL_DIGITS = 6


def provisional_block(device_id: str) -> int:
    return PROVISIONAL_FIRST + int(device_id[:8], 16) % 1000


def reserve_block(session: Session, prefix: str, block: int) -> None:
    """Record a block reserved by the server; later allocations use it first."""
    if session.get(CaseNumberBlock, (prefix, block)) is None:
        session.add(CaseNumberBlock(prefix=prefix, block=block, next_number=1))


def allocate(session: Session, prefix: str, device_id: str) -> str:
    """The next free case number for ``prefix`` on this device (inside the caller's transaction)."""
    return reserve(session, prefix, device_id, 1)[0]


def reserve(session: Session, prefix: str, device_id: str, count: int) -> list[str]:
    """``count`` consecutive free numbers from one block, in one write (bulk imports).

    Numbers reserved but not used are simply skipped: case numbers need to be unique,
    not gap-free. The count is capped at what is left in the block.
    """
    prefix = prefix.upper()
    blocks = session.scalars(
        select(CaseNumberBlock)
        .where(
            CaseNumberBlock.prefix == prefix,
            CaseNumberBlock.next_number <= CaseNumberBlock.last_number,
        )
        .order_by(CaseNumberBlock.block >= PROVISIONAL_FIRST, CaseNumberBlock.block)
    ).first()
    if blocks is None:
        blocks = CaseNumberBlock(prefix=prefix, block=provisional_block(device_id), next_number=1)
        existing = session.get(CaseNumberBlock, (prefix, blocks.block))
        if existing is not None:
            raise RuntimeError(f"case number block {prefix}-{blocks.block} is used up")
        session.add(blocks)
        session.flush()
    first = blocks.next_number
    last = min(first + max(count, 1) - 1, blocks.last_number)
    blocks.next_number = last + 1
    return [
        f"{prefix}-{blocks.block:04d}-{serial:0{SERIAL_DIGITS}d}"
        for serial in range(first, last + 1)
    ]
