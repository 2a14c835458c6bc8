"""The QR code printed on a packet's cover sheet: what it carries and how to read it back.

Payload format: ``sapan:case/<uuid>?v=<packet version>``, e.g.
``sapan:case/0b8f6c1e-4d2a-4c53-9a61-2f3e1d0c9b71?v=3``. Short enough for a small QR
code at a low error-correction overhead, readable by a person, and distinctive, so the
search box can tell a scanned code from a typed name.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from desktop.domain.errors import UserError

SCHEME = "sapan:case/"
_PATTERN = re.compile(r"^sapan:case/(?P<id>[^?#\s]+)(?:\?v=(?P<version>[^&#\s]*))?$", re.IGNORECASE)


@dataclass(frozen=True)
class CaseRef:
    """A case and the packet version printed for it."""

    case_id: uuid.UUID
    packet_version: int | None = None


def qr_payload(case_id: uuid.UUID, packet_version: int) -> str:
    """The text the cover-sheet QR code carries."""
    if packet_version < 1:
        raise ValueError("packet_version starts at 1")
    return f"{SCHEME}{case_id}?v={packet_version}"


def looks_like_qr_payload(text: str) -> bool:
    """True when ``text`` is meant as a Sapan QR payload (even a damaged one)."""
    return text.strip().lower().startswith(SCHEME)


def parse_qr_payload(text: str) -> CaseRef | None:
    """Read scanned or typed QR content.

    Returns None when ``text`` is not a Sapan payload at all (so the search box can treat
    it as an ordinary query) and raises ``UserError("form.error.qr_malformed")`` when it
    starts like one but cannot be read (a misread scan, a truncated paste).
    """
    cleaned = text.strip()
    if not looks_like_qr_payload(cleaned):
        return None
    match = _PATTERN.match(cleaned)
    if match is None:
        raise UserError("form.error.qr_malformed", text=cleaned)
    try:
        case_id = uuid.UUID(match["id"])
    except ValueError as exc:
        raise UserError("form.error.qr_malformed", text=cleaned) from exc
    raw_version = match["version"]
    if raw_version is None:
        return CaseRef(case_id)
    if not raw_version.isdigit() or int(raw_version) < 1:
        raise UserError("form.error.qr_malformed", text=cleaned)
    return CaseRef(case_id, int(raw_version))
