"""The ORM classes of the local store: synced case-file tables plus device-local tables.

Synced classes have exactly the fields of :mod:`desktop.domain.catalogue` as columns
(``tests/models/test_entities.py`` checks it) plus the :class:`~desktop.models.base.Synced`
columns. References between synced rows are plain UUID columns without foreign-key
constraints on purpose: rows arrive from other devices in any order during a sync.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from desktop.models.base import Base, Money, Synced, utcnow

Json = dict[str, Any]


class Person(Synced, Base):
    __tablename__ = "person"
    __entity__ = "person"
    office: Mapped[str] = mapped_column(String(32))
    sex: Mapped[str | None] = mapped_column(String(500))
    title: Mapped[str | None] = mapped_column(String(8))
    marital_status: Mapped[str | None] = mapped_column(String(16))
    birth_date: Mapped[str | None] = mapped_column(String(10))
    nationality: Mapped[str | None] = mapped_column(String(3))
    languages: Mapped[list[str] | None] = mapped_column(JSON)
    preferred_language: Mapped[str | None] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(40))
    line_id: Mapped[str | None] = mapped_column(String(80))
    address_th: Mapped[str | None] = mapped_column(String(500))
    address_home: Mapped[str | None] = mapped_column(String(500))
    arrived_on: Mapped[dt.date | None] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)
    merged_into: Mapped[str | None] = mapped_column(String(36))


class PersonName(Synced, Base):
    __tablename__ = "person_name"
    __entity__ = "person_name"
    office: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    script: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(16))
    full_name: Mapped[str | None] = mapped_column(String(200))
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    honorific: Mapped[str | None] = mapped_column(String(16))
    raw_input: Mapped[list[str] | None] = mapped_column(JSON)


class IdentityDocument(Synced, Base):
    __tablename__ = "identity_document"
    __entity__ = "identity_document"
    office: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str | None] = mapped_column(String(24))
    number: Mapped[str | None] = mapped_column(String(40), index=True)
    issuing_country: Mapped[str | None] = mapped_column(String(3))
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(16))


class Employer(Synced, Base):
    __tablename__ = "employer"
    __entity__ = "employer"
    office: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(200))
    name_th: Mapped[str | None] = mapped_column(String(200))
    sso_account: Mapped[str | None] = mapped_column(String(10), index=True)
    sso_branch: Mapped[str | None] = mapped_column(String(6))
    province_code: Mapped[str | None] = mapped_column(String(2))
    district: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(500))
    contact_name: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))


class Employment(Synced, Base):
    __tablename__ = "employment"
    __entity__ = "employment"
    office: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    employer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    monthly_wage: Mapped[decimal.Decimal | None] = mapped_column(Money)
    occupation: Mapped[str | None] = mapped_column(String(120))
    section: Mapped[int | None] = mapped_column(Integer)
    end_reason: Mapped[str | None] = mapped_column(String(24))


class ContributionMonth(Synced, Base):
    __tablename__ = "contribution_month"
    __entity__ = "contribution_month"
    office: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    employer_id: Mapped[str | None] = mapped_column(String(36))
    month: Mapped[str | None] = mapped_column(String(7))
    wage: Mapped[decimal.Decimal | None] = mapped_column(Money)
    section: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(24))
    status: Mapped[str | None] = mapped_column(String(24))


class Case(Synced, Base):
    __tablename__ = "case"
    __entity__ = "case"
    office: Mapped[str] = mapped_column(String(32), index=True)
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    # Not unique: devices number cases offline (see case_numbers); a collision that
    # reached the server must not stop the pull that brings it.
    number: Mapped[str | None] = mapped_column(String(32), index=True)
    owner: Mapped[str | None] = mapped_column(String(80))
    province_code: Mapped[str | None] = mapped_column(String(2))
    status: Mapped[str | None] = mapped_column(String(16))
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    merged_into: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (
        Index("ix_case_active_number", "deleted", "merged_into", "number", "id"),
        Index("ix_case_province_code", "province_code"),
    )


class Track(Synced, Base):
    __tablename__ = "track"
    __entity__ = "track"
    office: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str | None] = mapped_column(String(16))
    benefit: Mapped[str | None] = mapped_column(String(24))
    path: Mapped[str | None] = mapped_column(String(24))
    workflow: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str | None] = mapped_column(String(16))
    event_date: Mapped[dt.date | None] = mapped_column(Date)
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_track_kind", "kind", "benefit", "case_id"),)


class Step(Synced, Base):
    __tablename__ = "step"
    __entity__ = "step"
    office: Mapped[str] = mapped_column(String(32))
    track_id: Mapped[str] = mapped_column(String(36), index=True)
    key: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str | None] = mapped_column(String(16))
    data: Mapped[Json | None] = mapped_column(JSON)


class ChecklistItem(Synced, Base):
    __tablename__ = "checklist_item"
    __entity__ = "checklist_item"
    office: Mapped[str] = mapped_column(String(32))
    track_id: Mapped[str] = mapped_column(String(36), index=True)
    doc_key: Mapped[str | None] = mapped_column(String(64))
    required: Mapped[bool | None] = mapped_column(Boolean)
    status: Mapped[str | None] = mapped_column(String(16))
    attachment_ids: Mapped[list[str] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(String(500))


class Attachment(Synced, Base):
    __tablename__ = "attachment"
    __entity__ = "attachment"
    office: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    mime: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    person_id: Mapped[str | None] = mapped_column(String(36), index=True)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    document_id: Mapped[str | None] = mapped_column(String(36))
    description: Mapped[str | None] = mapped_column(String(500))


class Note(Synced, Base):
    __tablename__ = "note"
    __entity__ = "note"
    office: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    person_id: Mapped[str | None] = mapped_column(String(36), index=True)
    body: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(80))
    written_at: Mapped[str | None] = mapped_column(String(40))


class Consent(Synced, Base):
    __tablename__ = "consent"
    __entity__ = "consent"
    office: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    scope: Mapped[str | None] = mapped_column(String(32))
    given: Mapped[bool | None] = mapped_column(Boolean)
    given_on: Mapped[dt.date | None] = mapped_column(Date)
    method: Mapped[str | None] = mapped_column(String(16))
    recorded_by: Mapped[str | None] = mapped_column(String(80))
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)


class AuditEvent(Synced, Base):
    __tablename__ = "audit_event"
    __entity__ = "audit_event"
    office: Mapped[str] = mapped_column(String(32))
    at: Mapped[str | None] = mapped_column(String(40))
    user: Mapped[str | None] = mapped_column(String(80))
    device: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(String(64))
    entity: Mapped[str | None] = mapped_column(String(32))
    row_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[Json | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_event_row", "entity", "row_id"),)


SYNCED_CLASSES: tuple[type[Synced], ...] = (
    Person,
    PersonName,
    IdentityDocument,
    Employer,
    Employment,
    ContributionMonth,
    Case,
    Track,
    Step,
    ChecklistItem,
    Attachment,
    Note,
    Consent,
    AuditEvent,
)
CLASS_BY_ENTITY: dict[str, type[Synced]] = {cls.__entity__: cls for cls in SYNCED_CLASSES}


# --- device-local tables (never synced) -------------------------------------------------


class FieldChange:
    """The columns of one field-level change as a device made it (the outbox's and the
    kept sent changes'); ``_SENT_COLUMNS`` in ``desktop.services.sync`` names them."""

    # not unique-indexed: a random UUID nobody looks up, and an index over random keys
    # made acknowledging a batch rewrite pages all over it (migration 0004)
    change_id: Mapped[str] = mapped_column(String(36))
    entity: Mapped[str] = mapped_column(String(32))
    row_id: Mapped[str] = mapped_column(String(36))
    field: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(Text)  # JSON of the wire value
    base_version: Mapped[int] = mapped_column(Integer, default=0)
    hlc: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[str] = mapped_column(String(32), default=utcnow)


class OutboxEntry(FieldChange, Base):
    """One field-level change waiting for the server's acknowledgement (design.md §4)."""

    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_outbox_row", "entity", "row_id"),)


class SentChange(FieldChange, Base):
    """A change the server acknowledged, kept for a while after it left the outbox.

    A server restored from a backup has lost what it acknowledged after the backup was
    made; its new log names the head it continues from (``sapan server new-log``), and
    a device sends again, unchanged, what it keeps that the server numbered past it
    (:func:`desktop.services.sync.resend_lost`). Kept
    :data:`desktop.services.sync.SENT_KEPT_DAYS` days from the acknowledgement."""

    __tablename__ = "sent_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # the highest seq the server gave a change of its batch: at least its own
    server_seq: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[str] = mapped_column(String(32))


class SyncState(Base):
    """Device-level key/value state: device id, last HLC stamp, sync cursor, server URL."""

    __tablename__ = "sync_state"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Setting(Base):
    """Device-local settings (language, idle lock minutes, unconfirmed-rule choices)."""

    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class CaseNumberBlock(Base):
    """A block of case numbers reserved for this device, used offline (``TAK-0042-000123``)."""

    __tablename__ = "case_number_block"
    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    block: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    last_number: Mapped[int] = mapped_column(Integer, default=999_999)


class Draft(Base):
    """Unsaved wizard input, saved at every step so a crash loses nothing typed."""

    __tablename__ = "draft"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    case_id: Mapped[str | None] = mapped_column(String(36), index=True)
    data: Mapped[Json] = mapped_column(JSON)
    updated_at: Mapped[str] = mapped_column(String(32), default=utcnow, onupdate=utcnow)
