"""The catalogue of synced entities: every table a device shares, its fields and merge classes.

This is the contract between the local store (:mod:`desktop.models`), the outbox and the
sync protocol (:mod:`sync`). The ORM is tested to have exactly these columns, and the
server refuses a change whose entity or field is not listed here.

Merge classes (design.md §4):

- ``lww``: last writer wins by hybrid logical clock (contact details, labels).
- ``review``: applied by HLC, but a concurrent edit always leaves a conflict record
  (identity, amounts, dates that decide eligibility).
- ``append``: insert-only rows (notes, audit); never edited, never conflicting.
- ``forward``: ordered states (step states); a stale edit never moves a value backwards.
- ``set``: JSON lists merged as a union (identifiers seen, attachment ids, languages).

Every synced row also has ``id`` (UUID made on the client), ``version`` (set only from the
server's sequence numbers) and ``deleted`` (tombstone); those are not fields of the catalogue.
A tombstone travels as a change of the pseudo-field ``deleted`` (:data:`TOMBSTONE_FIELD`,
value ``true``). A new row travels as one change with field ``*`` (:data:`WHOLE_ROW`)
whose value is the object of its fields (sync protocol 2); later edits travel field by
field. Rows of ``append_only`` entities (notes, audit events) are immutable: ``*`` is the
only way they travel. ``office`` on every entity is the scope key the server checks on
every push and pull.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import functools
import hashlib
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from desktop.domain.hlc import Stamp

TOMBSTONE_FIELD = "deleted"
WHOLE_ROW = "*"


class Merge(enum.StrEnum):
    LWW = "lww"
    REVIEW = "review"
    APPEND = "append"
    FORWARD = "forward"
    SET = "set"


class FieldType(enum.StrEnum):
    """How a value travels in JSON: text, integer, decimal as a string, bool, ISO date, etc."""

    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"
    DATE = "date"  # "YYYY-MM-DD"
    DATETIME = "datetime"  # ISO 8601 with offset
    MONTH = "month"  # "YYYY-MM"
    PARTIAL_DATE = "partial_date"  # "YYYY", "YYYY-MM" or "YYYY-MM-DD"
    REF = "ref"  # UUID of another synced row
    JSON = "json"  # object, e.g. step data
    LIST = "list"  # JSON list of strings (merge class ``set``)


# The ordered states of a workflow step; ``forward`` fields compare by this order.
STEP_STATES: tuple[str, ...] = (
    "not_started",
    "in_progress",
    "ready",
    "submitted",
    "decided",
    "paid",
)
# Alternative ends at the same rank: approved/rejected are outcomes, appealed follows rejected.
FORWARD_ORDER: Mapping[str, int] = MappingProxyType(
    {
        "not_started": 0,
        "in_progress": 1,
        "ready": 2,
        "submitted": 3,
        "decided": 4,
        "approved": 4,
        "rejected": 4,
        "paid": 5,
        "appealed": 5,
        "closed": 6,
    }
)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    merge: Merge
    max_length: int | None = None
    required: bool = False
    # the only values a text field takes (a code the app knows), or () for any text
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class EntitySpec:
    name: str
    fields: Mapping[str, FieldSpec]
    append_only: bool = False

    def field(self, name: str) -> FieldSpec:
        return self.fields[name]


def _entity(name: str, *specs: FieldSpec, append_only: bool = False) -> EntitySpec:
    office = FieldSpec("office", FieldType.TEXT, Merge.LWW, 32, required=True)
    fields = {spec.name: spec for spec in (office, *specs)}
    return EntitySpec(name, MappingProxyType(fields), append_only)


def _f(
    name: str,
    type_: FieldType,
    merge: Merge = Merge.LWW,
    max_length: int | None = None,
    choices: tuple[str, ...] = (),
) -> FieldSpec:
    if max_length is None and type_ is FieldType.TEXT:
        max_length = 500
    return FieldSpec(name, type_, merge, max_length, choices=choices)


def _req(name: str, type_: FieldType, merge: Merge = Merge.LWW) -> FieldSpec:
    spec = _f(name, type_, merge)
    return FieldSpec(spec.name, spec.type, spec.merge, spec.max_length, required=True)


T, INT, D, B, DT, REF = (
    FieldType.TEXT,
    FieldType.INT,
    FieldType.DECIMAL,
    FieldType.BOOL,
    FieldType.DATE,
    FieldType.REF,
)
R, A, F, S = Merge.REVIEW, Merge.APPEND, Merge.FORWARD, Merge.SET

# A person's title: the ones SSO has a code for (desktop.domain.names.SSO_TITLE_CODES).
# A woman's is her choice (Act on Title of Women, B.E. 2551: a married woman may keep
# นางสาว), so it is recorded, not derived from her marital status.
PERSON_TITLES: tuple[str, ...] = ("mr", "mrs", "miss")
MARITAL_STATUSES: tuple[str, ...] = ("single", "married", "widowed", "divorced")

_ENTITIES = (
    _entity(
        "person",
        _f("sex", T),
        _f("title", T, max_length=8, choices=PERSON_TITLES),
        _f("marital_status", T, max_length=16, choices=MARITAL_STATUSES),
        _f("birth_date", FieldType.PARTIAL_DATE, R),
        _f("nationality", T, R, 3),
        _f("languages", FieldType.LIST, S, 16),  # language codes: "my", "km", "th"
        _f("preferred_language", T, max_length=8),
        _f("phone", T, max_length=40),
        _f("line_id", T, max_length=80),
        _f("address_th", T),
        _f("address_home", T),
        _f("arrived_on", DT, R),
        _f("left_on", DT, R),  # the day the worker last left Thailand (gone home)
        _f("merged_into", REF),
    ),
    _entity(
        "person_name",
        _req("person_id", REF),
        _f("script", T, max_length=16),
        _f("kind", T, max_length=16),  # native | passport | thai | alias
        _f("full_name", T, R, 200),
        _f("given_name", T, R, 200),
        _f("family_name", T, R, 200),
        _f("honorific", T, max_length=16),
        # the names as typed when the name was converted (Zawgyi), kept for the audit trail
        _f("raw_input", FieldType.LIST, S, 400),
    ),
    _entity(
        "identity_document",
        _req("person_id", REF),
        _f("kind", T, max_length=24),
        _f("number", T, R, 40),
        _f("issuing_country", T, max_length=3),
        _f("issued_on", DT, R),
        _f("expires_on", DT, R),
        _f("status", T, max_length=16),  # current | expired | replaced | lost
    ),
    _entity(
        "employer",
        _f("name", T, R, 200),
        _f("name_th", T, R, 200),
        _f("sso_account", T, R, 10),
        _f("sso_branch", T, R, 6),
        _f("province_code", T, max_length=2),
        _f("district", T, max_length=120),
        _f("address", T),
        _f("contact_name", T, max_length=120),
        _f("phone", T, max_length=40),
    ),
    _entity(
        "employment",
        _req("person_id", REF),
        _f("employer_id", REF),
        _f("start_date", DT, R),
        _f("end_date", DT, R),
        _f("monthly_wage", D, R),
        _f("occupation", T, max_length=120),
        _f("section", INT, R),
        # laid_off | resigned | contract_ended | dismissed_misconduct | ...: any text, so an
        # older server or device takes a new code (services.eligibility reads the known ones)
        _f("end_reason", T, R, 24),
    ),
    _entity(
        "contribution_month",
        _req("person_id", REF),
        _f("employer_id", REF),
        _f("month", FieldType.MONTH, R),
        _f("wage", D, R),
        _f("section", INT, R),
        _f("source", T, max_length=24),  # payslip | sso_statement | employer | worker
        _f("status", T, R, 24),  # paid | deducted_not_remitted | not_deducted | unknown
    ),
    _entity(
        "case",
        _req("person_id", REF),
        _f("number", T, S, 32),
        _f("owner", T, max_length=80),
        _f("province_code", T, max_length=2),
        _f("status", T, F, 16),  # open | closed
        _f("opened_on", DT),
        _f("closed_on", DT),
        _f("merged_into", REF),
    ),
    _entity(
        "track",
        _req("case_id", REF),
        _f("kind", T, max_length=16),  # enrollment | claim | work_injury | enforcement
        _f("benefit", T, max_length=24),
        _f("path", T, max_length=24),  # enrollment document path: mou_passport | ci | ...
        _f("workflow", T, max_length=64),  # workflow id@version
        _f("state", T, F, 16),
        _f("event_date", DT, R),
        _f("opened_on", DT),
        _f("decided_on", DT, R),
        _f("outcome", T, R, 16),
    ),
    _entity(
        "step",
        _req("track_id", REF),
        _f("key", T, max_length=64),
        _f("position", INT),
        _f("state", T, F, 16),
        _f("data", FieldType.JSON, R),
    ),
    _entity(
        "checklist_item",
        _req("track_id", REF),
        _f("doc_key", T, max_length=64),
        _f("required", B),
        _f("status", T, max_length=16),  # missing | present | waived
        _f("attachment_ids", FieldType.LIST, S, 36),  # ids of attachment rows
        _f("note", T),
    ),
    _entity(
        "attachment",
        _f("sha256", T, S, 64),
        _f("filename", T, max_length=255),
        _f("mime", T, max_length=100),
        _f("size", INT),
        _f("person_id", REF),
        _f("case_id", REF),
        _f("document_id", REF),
        _f("description", T),
    ),
    _entity(
        "note",
        _f("case_id", REF, A),
        _f("person_id", REF, A),
        _f("body", T, A, 10_000),
        _f("author", T, A, 80),
        _f("written_at", FieldType.DATETIME, A),
        append_only=True,
    ),
    _entity(
        "consent",
        _req("person_id", REF),
        _f("scope", T, max_length=32),  # data_processing | share_with_sso | photos | ...
        _f("given", B, R),
        _f("given_on", DT, R),
        _f("method", T, max_length=16),  # verbal | signed | thumbprint
        _f("recorded_by", T, max_length=80),
        _f("withdrawn_on", DT, R),
    ),
    _entity(
        "audit_event",
        _f("at", FieldType.DATETIME, A),
        _f("user", T, A, 80),
        _f("device", T, A, 64),
        _f("action", T, A, 64),
        _f("entity", T, A, 32),
        _f("row_id", REF, A),
        _f("details", FieldType.JSON, A),
        append_only=True,
    ),
)

ENTITIES: Mapping[str, EntitySpec] = MappingProxyType({e.name: e for e in _ENTITIES})


AUDIT_ENTITY = "audit_event"
# The namespace of audit event ids derived from their stamps (a constant; any UUID would do)
AUDIT_ID_NAMESPACE = uuid.UUID("5a9a0003-6c1d-4f0e-8b2a-3e7d9c4b1a60")


def namespace_hash(namespace: uuid.UUID) -> Any:
    """SHA-1 fed with a namespace's bytes: what :func:`name_uuid` continues from."""
    return hashlib.sha1(namespace.bytes, usedforsecurity=False)


def name_uuid(prefix: Any, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` from ``prefix`` (:func:`namespace_hash`, perhaps
    fed more), without the two UUID objects ``uuid5`` builds: sync derives one per row.

    SHA-1 of namespace + name, its first 16 bytes, version 5 and the RFC 4122 variant,
    set on the hex digits (about 0.6 µs against 0.9 setting the bits of the bytes).
    """
    digest = prefix.copy()
    digest.update(name.encode())
    text = digest.hexdigest()
    # version 5: the 13th digit; the variant: the top two bits of the 17th digit are 10
    return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT[text[16]]}{text[17:20]}-{text[20:32]}"


# a hex digit -> the same digit with its top two bits set to the RFC 4122 variant (10)
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


_AUDIT_HASH = namespace_hash(AUDIT_ID_NAMESPACE)


def audit_event_id(stamp: str) -> str:
    """The id of the audit event (other than a creation event, ``creation_event_id``) a
    device records with the insert stamped ``stamp``.

    A hybrid logical clock stamp names its device and is never issued twice, so an id
    derived from it is as unique as a random one, and the wire can leave it out (the
    server derives it again from the stamp the change carries): a random id was about a
    quarter of the bytes a new case file pushes. Equal to ``uuid5(AUDIT_ID_NAMESPACE,
    stamp)``.
    """
    return name_uuid(_AUDIT_HASH, stamp)


def creation_event_id(row_id: str) -> str:
    """The id of the creation event of row ``row_id``: the row's id as a version 8 UUID.

    A row has one creation event, so its id names it as well as the insert's stamp did
    (``audit_event_id``, before the app's store revision 0010), and it is as time-ordered as
    row ids are (``models.base.new_id``): the events a pull derives land at the end of the
    audit trail's key index instead of at random pages, whose rewriting at every commit
    grew with the store. Only the version digit differs from the row's id; other audit
    events' ids are of version 5 (``audit_event_id``), 7 (``record_action``) or 4 (stores
    from before time-ordered ids), so none can collide. A row id that is not canonical UUID
    text (never sent by a server, which refuses such ids) gets a version 5 UUID of itself,
    so a pull never stops at one.
    """
    if CANONICAL_ID.fullmatch(row_id):
        return f"{row_id[:14]}8{row_id[15:]}"
    return name_uuid(_CREATION_HASH, row_id)


# the namespace of the ids of rows whose own id is not canonical (a constant)
_CREATION_HASH = namespace_hash(uuid.UUID("5a9a0004-2b7e-4d91-a3c5-6f18e0d4b2c7"))


def creation_event(
    entity: str, row_id: str, office: object, stamp: str, user: str
) -> dict[str, object]:
    """The ``<entity>.created`` audit event of a row created whole, as its catalogue fields.

    It says nothing its insert does not say already (who, when, from which device, which
    row), so it never travels (sync protocol 3): the creating device records it beside the
    row, and every other device derives the same event when it pulls the row (pull form
    4 names the account that pushed the insert; the device is its stamp's node, the time
    its stamp's wall clock). The server does not store it. It was half of the changes a
    new case file pushed and half of the bytes one pulled.
    """
    parsed = Stamp.parse(stamp)
    return {
        "id": creation_event_id(row_id),
        "office": office if isinstance(office, str) else "",
        "at": _utc_second(parsed.wall // 1000),
        "user": user,
        "device": parsed.node,
        "action": f"{entity}.created",
        "entity": entity,
        "row_id": row_id,
        "details": {},
    }


@functools.lru_cache(maxsize=64)
def _utc_second(seconds: int) -> str:
    """A second since 1970 as ISO 8601 UTC (a pull derives many events in the same second)."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")


def is_creation_event(values: Mapping[str, object]) -> bool:
    """Whether audit event ``values`` are a row's creation event (derived, never synced)."""
    return values.get("action") == f"{values.get('entity')}.created"


def entity(name: str) -> EntitySpec:
    """The spec of a synced entity; ``KeyError`` for an unknown name."""
    return ENTITIES[name]


@functools.cache
def fields_fingerprint() -> str:
    """A short digest of the names of every entity and field this catalogue has.

    An app ignores what a pulled page holds for an entity or field it does not know; a
    device that kept the digest its pages were read with can tell, after an update, that
    it has pages to read again (``SyncService.pull``).
    """
    names = sorted(f"{e}.{f}" for e, spec in ENTITIES.items() for f in spec.fields)
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


def overlong_length(spec: FieldSpec, value: object) -> int | None:
    """The length of ``value`` when it is longer than ``spec`` allows, else None.

    The sync server's rule (errno 105), counted as it counts: ``len()`` of the text, in
    code points; a list (a ``set`` field) by its longest item. A field without a limit,
    and a value that is neither text nor a list, is never too long.
    """
    limit = spec.max_length
    if limit is None:
        return None
    if isinstance(value, str):
        return len(value) if len(value) > limit else None
    if isinstance(value, list):
        longest = max((len(item) for item in value if isinstance(item, str)), default=0)
        return longest if longest > limit else None
    return None


def unknown_choice(spec: FieldSpec, value: object) -> bool:
    """Whether ``value`` is not one of the codes ``spec`` takes (never for null, nor for a
    field that takes any text). The sync server refuses such a value (errno 104); the
    device refuses it when it is saved."""
    return bool(spec.choices) and value is not None and value not in spec.choices


class WireError(ValueError):
    """A value does not fit its field's type (the server answers 4xx with this message)."""


def to_wire(spec: FieldSpec, value: object) -> object:
    """The JSON form of a field value: ISO strings for dates, strings for decimals."""
    if value is None:
        return None
    if spec.type is FieldType.DATE:
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if spec.type is FieldType.DECIMAL:
        return str(value)
    if spec.type is FieldType.DATETIME and isinstance(value, dt.datetime):
        return value.isoformat()
    if spec.type is FieldType.LIST and isinstance(value, list | tuple | set | frozenset):
        return sorted(str(v) for v in value) if isinstance(value, set | frozenset) else list(value)
    return value


def from_wire(spec: FieldSpec, value: object) -> object:
    """Check and convert a JSON value to the Python value stored in the field.

    Raises :class:`WireError` on a wrong type, so a malformed change is refused whole.
    Lengths are not checked: a pulled value is the server's, which checked it against its
    own catalogue (perhaps a newer one with a longer limit); refusing it would stop the
    pull. The device checks lengths where it makes its own changes
    (:mod:`desktop.domain.lengths`).
    """
    if value is None:
        if spec.required:
            raise WireError(f"{spec.name} is required")
        return None
    try:
        return _CONVERTERS[spec.type](spec, value)
    except (TypeError, ValueError, decimal.InvalidOperation) as exc:
        raise WireError(f"{spec.name}: {exc}") from exc


def wire_reader(spec: FieldSpec) -> Callable[[object], object]:
    """:func:`from_wire` for one field, as a function of the value alone: what a pull
    applies to each value of the rows it brings (hundreds of thousands in a first sync).

    A string for a text field is the common case and is itself the stored value, so it
    is taken at once; anything else goes through :func:`from_wire`, with its checks.
    """
    if spec.type is FieldType.TEXT:

        def read_text(value: object) -> object:
            return value if type(value) is str else from_wire(spec, value)

        return read_text

    def read(value: object) -> object:
        return from_wire(spec, value)

    return read


@functools.cache
def wire_readers(entity_name: str) -> Mapping[str, Callable[[object], object]]:
    """:func:`wire_reader` of each field of an entity, by field name."""
    fields = entity(entity_name).fields
    return MappingProxyType({name: wire_reader(spec) for name, spec in fields.items()})


def _text(spec: FieldSpec, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _int(spec: FieldSpec, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    return value


def _decimal(spec: FieldSpec, value: object) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError("expected a decimal as a string")
    number = decimal.Decimal(str(value))
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _bool(spec: FieldSpec, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("expected true or false")
    return value


def _date(spec: FieldSpec, value: object) -> dt.date:
    return dt.date.fromisoformat(_text(spec, value))


def _datetime(spec: FieldSpec, value: object) -> str:
    text = _text(spec, value)
    dt.datetime.fromisoformat(text)
    return text


def _month(spec: FieldSpec, value: object) -> str:
    text = _text(spec, value)
    if len(text) != 7 or text[4] != "-":
        raise ValueError("expected YYYY-MM")
    dt.date(int(text[:4]), int(text[5:]), 1)
    return text


def _partial_date(spec: FieldSpec, value: object) -> str:
    text = _text(spec, value)
    parts = text.split("-")
    if len(parts) > 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise ValueError("expected YYYY, YYYY-MM or YYYY-MM-DD")
    numbers = [int(p) for p in parts] + [1] * (3 - len(parts))
    dt.date(numbers[0], numbers[1], numbers[2])
    return text


# A row id as the app writes it (str(uuid.UUID)): checked by a pattern, not parsed (a pull
# checks tens of thousands); any other spelling uuid.UUID accepts is normalised to this form.
CANONICAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _ref(spec: FieldSpec, value: object) -> str:
    text = _text(spec, value)
    if CANONICAL_ID.fullmatch(text):
        return text
    return str(uuid.UUID(text))


def _json(spec: FieldSpec, value: object) -> object:
    if not isinstance(value, dict):
        raise TypeError("expected an object")
    return value


def _list(spec: FieldSpec, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError("expected a list of strings")
    return list(value)


_CONVERTERS: Mapping[FieldType, Callable[[FieldSpec, object], object]] = MappingProxyType(
    {
        FieldType.TEXT: _text,
        FieldType.INT: _int,
        FieldType.DECIMAL: _decimal,
        FieldType.BOOL: _bool,
        FieldType.DATE: _date,
        FieldType.DATETIME: _datetime,
        FieldType.MONTH: _month,
        FieldType.PARTIAL_DATE: _partial_date,
        FieldType.REF: _ref,
        FieldType.JSON: _json,
        FieldType.LIST: _list,
    }
)
