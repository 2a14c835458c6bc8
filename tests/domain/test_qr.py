"""desktop.domain.qr: payload format and parsing of scanned or typed QR content."""

from __future__ import annotations

import uuid

import pytest

from desktop.domain.errors import UserError
from desktop.domain.qr import CaseRef, looks_like_qr_payload, parse_qr_payload, qr_payload

CASE = uuid.UUID("0b8f6c1e-4d2a-4c53-9a61-2f3e1d0c9b71")


def test_round_trip() -> None:
    text = qr_payload(CASE, 3)
    assert text == f"sapan:case/{CASE}?v=3"
    assert parse_qr_payload(text) == CaseRef(CASE, 3)


def test_tolerates_case_whitespace_and_missing_version() -> None:
    assert parse_qr_payload(f"  SAPAN:CASE/{str(CASE).upper()}\n") == CaseRef(CASE, None)


def test_other_text_is_not_a_payload() -> None:
    assert parse_qr_payload("Maung Kyaw") is None
    assert parse_qr_payload("TAK-2026-00042") is None
    assert not looks_like_qr_payload("sapan")


@pytest.mark.parametrize(
    "text",
    [
        "sapan:case/not-a-uuid?v=1",
        f"sapan:case/{CASE}?v=x",
        f"sapan:case/{CASE}?v=0",
        "sapan:case/",
    ],
)
def test_damaged_payload_is_a_user_error(text: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_qr_payload(text)
    assert caught.value.code == "form.error.qr_malformed"


def test_version_must_be_positive() -> None:
    with pytest.raises(ValueError, match="packet_version"):
        qr_payload(CASE, 0)
