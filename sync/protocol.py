"""The Sapan sync wire protocol, version 2: shared types for the client and the server.

Everything travels as JSON over HTTP under ``/v1`` (version 2 only added request forms,
so the paths stay); request and response bodies may be gzip-compressed
(``Content-Encoding: gzip`` / ``Accept-Encoding: gzip``). The unit of change is one field
of one row (design.md §4), except that a row created on a device travels once, whole
(field ``*``), and the server keeps per-field state derived from it. Version 2 adds the
compact push batch (:class:`PushBatch`: arrays, device and user taken from the token);
the server still accepts the version 1 form (:class:`PushRequest`).
``docs/sync-protocol.md`` is the full description; this module is its executable half.
Error responses carry a numbered :class:`Errno` so clients react to the number, never to
the text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import math
import re
import sys
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt
from pydantic.json_schema import SkipJsonSchema

from desktop.domain.catalogue import (
    AUDIT_ENTITY,
    CANONICAL_ID,
    ENTITIES,
    FieldSpec,
    FieldType,
    audit_event_id,
    name_uuid,
    namespace_hash,
    overlong_length,
    unknown_choice,
)
from desktop.domain.hlc import MAX_COUNTER, MAX_WALL, STAMP_PATTERN, stamp_text
from desktop.domain.hlc import Stamp as HlcStamp

# 3: a row's creation audit event is derived by every device, never sent or stored
PROTOCOL_VERSION = 3
# push bodies this server accepts: v1 objects, v2 arrays, v3 arrays with derivable parts left out
PUSH_FORMS = (1, 2, 3)
# pull pages this server writes: 2 (rows as objects), 3 (rows as arrays, derivable parts left
# out), 4 (form 3 naming who created the rows the page creates), 5 (form 4 with stamps as
# differences from the one before, as push form 3 sends them), 6 (form 5 whose merge
# records list the rows the merge moved), 7 (form 6 naming the log's head, for progress)
PULL_FORMS = (2, 3, 4, 5, 6, 7)
# The first form whose merge records carry ``moved``, in pull pages and in the answers to a
# merge or an undo that ask for it (``?form=6``). Devices before it refuse a record with a
# key they do not know, so the key never reaches them.
MOVED_FORM = 6
# The first form whose pages carry ``head``: the highest seq the page was read up to (what
# a device can tell its progress from). Earlier forms never carry it, for the same reason.
HEAD_FORM = 7
# Version 2 only added forms to version 1's routes, so the paths keep their v1 prefix.
PREFIX = "/v1"
PROTOCOL_HEADER = "X-Sapan-Protocol"
# Every answer names the server's change log (UUID text): a cursor is a seq of one log, so
# a device that registered under one stops when another answers (docs/sync-protocol.md §3)
LOG_HEADER = "X-Sapan-Log"
# ``GET /v1/info`` also names the log's head (its highest seq): a device whose cursor is past
# it is talking to a database restored from an older backup, and stops before it sends
HEAD_HEADER = "X-Sapan-Head"
# and, for a log made by ``sapan server new-log`` (a database restored from a backup), the
# log it continues and that log's head then: a device of that log that had reached no
# further lost nothing in the restore, and goes on under the new log
PARENT_LOG_HEADER = "X-Sapan-Parent-Log"
PARENT_HEAD_HEADER = "X-Sapan-Parent-Head"
# ... and, after more than one restore, the logs that one continues in turn, nearest first,
# each with its head then: ``<log> <head>, <log> <head>``
ANCESTORS_HEADER = "X-Sapan-Ancestors"
# What this server accepts beyond its protocol version and forms, comma-separated, in
# ``GET /v1/info``'s answer: a header, which clients that do not know it ignore (the info
# body's model refuses members it does not know). ``merge-id``: a merge request may name
# the merge's id (MergeRequest.id).
FEATURES_HEADER = "X-Sapan-Features"
MERGE_ID_FEATURE = "merge-id"
FEATURES = (MERGE_ID_FEATURE,)
# The registration's answer names the account's scope version (a header: the answer's
# body model refuses members it does not know), so a new device's first pull goes under
# it instead of being answered errno 123 and asked again.
SCOPE_HEADER = "X-Sapan-Scope"

DEFAULT_BATCH = 1000  # changes in a device's first push batch (what servers took before 5000)
MAX_BATCH = 5000  # changes in one push, at most (a server's own limit is in /info)
MAX_BODY_BYTES = 8 * 1024 * 1024  # after decompression
DEFAULT_PAGE = 2000  # log entries in one pull page
MAX_PAGE = 10_000
MAX_CHUNK_BYTES = 1024 * 1024
# The smallest chunk size an upload may announce (its last chunk may be shorter): with the
# largest attachment it bounds the chunks of an upload, so no request makes the server
# keep or compute per-chunk state for millions of one-byte chunks.
MIN_CHUNK_BYTES = 64 * 1024
MAX_ATTACHMENT_BYTES = 200 * 1024 * 1024
MAX_CHUNKS = MAX_ATTACHMENT_BYTES // MIN_CHUNK_BYTES  # 3,200


def chunk_count(size: int, chunk_size: int) -> int:
    """How many chunks an upload of ``size`` bytes has: ``ceil(size / chunk_size)``, and an
    empty file is one."""
    return max(1, -(-size // chunk_size))


# The pseudo-field that carries the tombstone; every entity has it besides its catalogue fields.
DELETED_FIELD = "deleted"
# A new row travels whole: one change with this field, the value an object of its fields.
# Rows of append-only entities only ever travel this way.
WHOLE_ROW = "*"
MERGEABLE = frozenset({"person", "case"})


class Errno(enum.IntEnum):
    """Numbered error codes in every error body (``errno``); stable across versions."""

    MALFORMED_JSON = 100
    INVALID_PAYLOAD = 101
    UNKNOWN_ENTITY = 102
    UNKNOWN_FIELD = 103
    WRONG_TYPE = 104
    VALUE_TOO_LONG = 105
    BATCH_TOO_LARGE = 106
    REQUIRED_VALUE = 107
    BAD_ENCODING = 108
    MISSING_TOKEN = 110
    INVALID_TOKEN = 111
    DEVICE_REVOKED = 112
    BAD_CREDENTIALS = 113
    ACCOUNT_DISABLED = 114
    DEVICE_MISMATCH = 115
    NO_CASE_BLOCK = 116
    SIGN_IN_LOCKED = 117
    OUT_OF_SCOPE = 120
    ROLE_FORBIDDEN = 121
    ROW_OFFICE_UNKNOWN = 122
    SCOPE_CHANGED = 123
    BAD_ATTACHMENT_NAME = 130
    HASH_MISMATCH = 131
    CHUNK_REJECTED = 132
    UPLOAD_NOT_STARTED = 133
    ATTACHMENT_TOO_LARGE = 134
    RANGE_NOT_SATISFIABLE = 135
    UPLOAD_NOT_YOURS = 136
    APPEND_ONLY = 140
    NOT_FOUND = 150
    MERGE_INVALID = 151
    METHOD_NOT_ALLOWED = 152
    ALREADY_RESOLVED = 153
    MERGE_UNDER_LATER = 154
    SERVICE_BUSY = 201
    INTERNAL = 999


class Role(enum.StrEnum):
    CASEWORKER = "caseworker"
    COORDINATOR = "coordinator"
    OFFICE = "office"
    ADMIN = "admin"


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer."""

    status: int
    errno: int
    error: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- devices and accounts -------------------------------------------------------------


# Text without NUL characters: PostgreSQL refuses them in text columns and SQLite stores
# them, so both backends refuse them here, before any query, with one answer (errno 101).
NO_NUL = r"^[^\x00]*$"


# the most items a ``list`` field holds (languages spoken, the scans of a checklist item):
# one row pulled by every device of its office must not carry megabytes
MAX_LIST_ITEMS = 200
# the longest account name and password a device registers with (accounts are made to fit)
MAX_USERNAME = 80
MAX_PASSWORD = 1024


class RegisterRequest(_Model):
    username: str = Field(min_length=1, max_length=MAX_USERNAME, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    device_name: str = Field(min_length=1, max_length=120, pattern=NO_NUL)


class Account(_Model):
    username: str
    role: Role
    offices: list[str]
    all_offices: bool = False


class RegisterResponse(_Model):
    device_id: str
    token: str
    account: Account


class CaseBlock(_Model):
    """The block of case numbers reserved for the calling device (``PREFIX-BLOCK-SERIAL``)."""

    case_block: int


class ServerInfo(_Model):
    protocol: int = PROTOCOL_VERSION
    push_forms: list[int] = Field(default_factory=lambda: list(PUSH_FORMS))
    pull_forms: list[int] = Field(default_factory=lambda: list(PULL_FORMS))
    max_batch: int = MAX_BATCH
    max_body_bytes: int = MAX_BODY_BYTES
    max_page: int = MAX_PAGE
    max_chunk_bytes: int = MAX_CHUNK_BYTES
    server_time: str


# --- push -----------------------------------------------------------------------------


def _wall_in_range(stamp: str) -> str:
    if int(stamp[:16]) > MAX_WALL:
        raise ValueError("a stamp's time is past the year 9999")
    return stamp


# an HLC stamp as text (desktop.domain.hlc): ASCII digits, a printable node, by 9999
Stamp = Annotated[str, Field(max_length=80, pattern=STAMP_PATTERN), AfterValidator(_wall_in_range)]


# Ids as devices write them (str(uuid.UUID)): lowercase, hyphenated. Other spellings
# uuid.UUID reads ({...}, upper case, no hyphens, urn:uuid:) are refused, not rewritten:
# the server would store the canonical text while the pushing device keeps its own
# spelling, and the two would no longer name the same row or change.
UUID_PATTERN = f"^{CANONICAL_ID.pattern}$"
UuidText = Annotated[str, Field(pattern=UUID_PATTERN)]
# Strict: lax mode would take 1.0, true or "1" for 1, values no device writes.
BaseVersion = Annotated[StrictInt, Field(ge=0)]


class Change(_Model):
    """One field of one row, as the device wrote it, with what the edit started from."""

    change_id: UuidText
    entity: str = Field(max_length=64)
    row_id: UuidText
    field: str = Field(max_length=64)
    value: Any = None
    base_version: BaseVersion
    hlc: Stamp
    device_id: str = Field(max_length=64)
    user_id: str = Field(max_length=80)


class PushRequest(_Model):
    """Version 1 push: every change an object carrying its own device and user."""

    changes: list[Change]


Name = Annotated[str, Field(max_length=64)]
# change_id, entity, row_id, field, value, base_version, hlc; change_id may be null for a
# row insert (field ``*``): it is then derived from the device and the row (insert_change_id).
# Form 3 only (checked in edits_of): row_id null for an audit event insert (derived from its
# stamp) and hlc as [wall_delta, counter] against the change before it.
StampDelta = tuple[StrictInt, StrictInt]
WireChange = tuple[
    UuidText | None, Name, UuidText | None, Name, Any, BaseVersion, Stamp | StampDelta
]
# the namespace of derived insert change ids (a constant of the protocol; any UUID would do)
INSERT_NAMESPACE = uuid.UUID("5a9a0002-1d5e-4c1e-9b6f-0d3c6a1e2f40")
_INSERT_HASH = namespace_hash(INSERT_NAMESPACE)


class PushBatch(_Model):
    """Push forms 2 and 3: changes as arrays (see :data:`WireChange`), in the order made.

    The device and account are the authenticated ones, so they are not repeated per change.
    """

    v: Literal[2, 3]
    changes: list[WireChange]


class Edit(NamedTuple):
    """One pushed change as the server handles it, whichever form it arrived in."""

    change_id: str
    entity: str
    row_id: str
    field: str
    value: Any
    base_version: int
    hlc: str


def insert_change_id(device_id: str, entity: str, row_id: str) -> str:
    """The change id of a row insert sent without one: one per (device, entity, row).

    A device inserts a row once, so this is as unique as a random id, and a resent insert
    gets the same id (idempotent). Another device inserting the same row id gets another.
    """
    return _insert_ids(device_id)(entity, row_id)


def _insert_ids(device_id: str) -> Callable[[str, str], str]:
    """:func:`insert_change_id` for one device: its part of the hash is taken once."""
    prefix = _INSERT_HASH.copy()
    prefix.update(f"{device_id}/".encode())

    def derive(entity: str, row_id: str) -> str:
        return name_uuid(prefix, f"{entity}/{row_id}")

    return derive


class BadChange(ValueError):
    """A change of a push batch the form does not allow; ``index`` says which."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(reason)
        self.index = index


class MissingChangeId(BadChange):
    """A change other than a row insert came without a change id."""

    def __init__(self, index: int) -> None:
        super().__init__(index, "change_id may be null only for a row insert (field *)")


class StampChain:
    """Stamps of a push batch (form 3) or pull page (form 5), some given as differences.

    A stamp is given whole, or as ``[wall_delta, counter]`` against the stamp before it in
    the same body: the same node, its wall clock moved by ``wall_delta`` milliseconds.
    Consecutive changes of one device differ in a few milliseconds, so the difference
    takes a few bytes where the whole stamp takes about 35.
    """

    def __init__(self) -> None:
        self.wall = 0
        self.node = ""  # none yet: a difference has nothing to apply to

    def whole(self, stamp: str) -> str:
        """``stamp`` (text the :data:`Stamp` pattern accepted), now the one before the next."""
        parsed = HlcStamp.parse(stamp)
        self.wall, self.node = parsed.wall, parsed.node
        return stamp

    def resolve(self, delta: StampDelta) -> str:
        """The whole stamp ``delta`` means (``ValueError``: nothing before it, out of range)."""
        if not self.node:
            raise ValueError("a stamp difference needs a whole stamp before it")
        wall = self.wall + delta[0]
        if not (0 <= wall <= MAX_WALL and 0 <= delta[1] <= MAX_COUNTER):
            raise ValueError("a stamp difference gives a stamp out of range")
        self.wall = wall
        return stamp_text(wall, delta[1], self.node)


class StampWriter:
    """Writes stamps as :class:`StampChain` reads them: a difference when the node is the same."""

    def __init__(self) -> None:
        self.wall = 0
        self.node = ""

    def json(self, stamp: str) -> str:
        wall_text, counter, node = stamp.split("-", 2)
        wall = int(wall_text)
        if node == self.node:
            text = f"[{wall - self.wall:d},{int(counter):d}]"
        else:
            text = json.dumps(stamp)
            self.node = node
        self.wall = wall
        return text


def _stamps(body: PushBatch) -> list[str]:
    """Every change's full stamp: form 3 deltas resolved against the change before."""
    found: list[str] = []
    chain = StampChain()
    for index, change in enumerate(body.changes):
        hlc = change[6]
        if isinstance(hlc, str):
            found.append(chain.whole(hlc) if body.v >= 3 else hlc)  # checked by Stamp
            continue
        if body.v < 3:
            raise BadChange(index, "hlc must be a stamp (a delta needs form 3)")
        try:
            found.append(chain.resolve(hlc))
        except ValueError as exc:
            raise BadChange(index, f"hlc: {exc}") from None
    return found


def edits_of(body: PushRequest | PushBatch, device_id: str) -> list[Edit]:
    """The changes of either push form (ids are canonical UUID text, see :data:`UuidText`).

    ``device_id`` is the authenticated device: null insert change ids are derived from it.
    Raises :class:`BadChange` for what the form does not allow (a null change id on
    anything but a row insert; in form 3, a null row id on anything but an audit event
    insert or a stamp delta with no stamp before it).
    """
    if isinstance(body, PushBatch):
        found: list[Edit] = []
        derived = _insert_ids(device_id)
        stamps = _stamps(body)
        for index, (cid, entity, row, field, value, base, _hlc) in enumerate(body.changes):
            hlc = stamps[index]
            if row is not None:
                row_id = row
            elif body.v >= 3 and entity == AUDIT_ENTITY and field == WHOLE_ROW:
                row_id = audit_event_id(hlc)
            else:
                raise BadChange(index, "row_id may be null only for an audit event insert (v 3)")
            if cid is not None:
                change_id = cid
            elif field == WHOLE_ROW:
                change_id = derived(entity, row_id)
            else:
                raise MissingChangeId(index)
            found.append(Edit(change_id, entity, row_id, field, value, base, hlc))
        return found
    return [
        Edit(c.change_id, c.entity, c.row_id, c.field, c.value, c.base_version, c.hlc)
        for c in body.changes
    ]


class PushStatus(enum.StrEnum):
    ACCEPTED = "accepted"  # applied or merged; ``seq`` is its place in the log
    DUPLICATE = "duplicate"  # this change id was accepted before; ``seq`` is that place
    CONFLICT = "conflict"  # concurrent same-field edit; a conflict record keeps both values
    REJECTED = "rejected"  # refused for this change only; ``errno`` says why


class PushResult(_Model):
    change_id: str
    status: PushStatus
    seq: int | None = None
    errno: int | None = None
    conflict_id: str | None = None


class PushResponse(_Model):
    results: list[PushResult]


# status, seq, errno, conflict_id: one per change, in the batch's order
WireResult = tuple[PushStatus, int | None, int | None, str | None]


class PushBatchResponse(_Model):
    """The answer to a :class:`PushBatch`: results as arrays in the batch's order."""

    v: Literal[2] = 2
    results: list[WireResult]


# --- pull -----------------------------------------------------------------------------


# Creation and RowUpdate are dataclasses, not models: a pull page builds one per row
# (tens of thousands a sync), and a pydantic model costs several times as much to make.
# Validated as models are where a page of form 2 holds them (extra keys refused).


@dataclasses.dataclass(slots=True)
class Creation:
    """Who created a row whole, and when: what a device derives the row's creation event from."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    hlc: str  # the stamp of the row's insert (its node is the creating device)
    user_id: str  # the account that pushed it


@dataclasses.dataclass(slots=True)
class RowUpdate:
    """The newest values of the fields of one row changed within a page."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    entity: str
    id: str
    version: int  # the highest seq of this row in the page: becomes the row's version
    values: dict[str, Any]
    # read from pull form 4 on (the page holds the row's insert; not for an audit event);
    # no page of form 2 has it, so the published schema leaves it out
    created: SkipJsonSchema[Creation | None] = None


class Side(_Model):
    value: Any
    hlc: str
    device_id: str
    user_id: str


ConflictStatus = Literal["open", "confirmed", "flipped"]


class ConflictRecord(_Model):
    id: str
    seq: int
    entity: str
    row_id: str
    field: str
    office: str
    applied: Side  # the value in force
    other: Side  # the value that lost
    status: ConflictStatus
    resolved_by: str | None = None


# One row a merge re-pointed from B to A: [entity, row id, field]; the field is ``deleted``
# (:data:`DELETED_FIELD`) for a row of B the merge retired because it repeated one of A's.
MovedRow = Annotated[list[str], Field(min_length=3, max_length=3)]


class MergeRecord(_Model):
    id: str
    seq: int
    entity: str
    source_id: str  # B
    target_id: str  # A: B was merged into A
    office: str
    merged_by: str
    undone: bool = False
    # Form 6 (MOVED_FORM) on: what the merge moved from B to A (and undo moves back), as
    # the server recorded it; None from an older server, or for a merge it recorded
    # before it kept the list (docs/sync-protocol.md §7).
    moved: list[MovedRow] | None = None


class ScopeChanged(_Model):
    """``details`` of a pull refused with errno 123: the account's offices changed since
    the scope version the device named (docs/sync-protocol.md §6, "Scope changes")."""

    scope: int  # the version to name from now on
    offices: list[str]  # the account's offices now (empty with ``all_offices``)
    all_offices: bool = False


class PullPage(_Model):
    since: int
    cursor: int  # pass as ``since`` next time; commit it together with this page
    more: bool
    hlc: str | None = None  # the highest stamp in the page, for the device clock
    rows: list[RowUpdate]
    merges: list[MergeRecord]
    conflicts: list[ConflictRecord]
    # form 7 (HEAD_FORM) on: the log's highest seq this pull reads up to, else None
    head: int | None = None


# entity, id (null: an audit event whose id is derived from ``stamp``), version as a
# difference from the row before it in the page, values, stamp (null unless the id is null)
CompactRow = tuple[str, str | None, int, dict[str, Any], Stamp | None]
# form 4: the same, then the account that created the row whole when the page holds its
# insert (``stamp`` is then the insert's stamp); null otherwise
CompactRow4 = tuple[str, str | None, int, dict[str, Any], Stamp | None, str | None]
# form 5: form 4 whose stamps may be differences from the stamp before (StampChain)
CompactRow5 = tuple[str, str | None, int, dict[str, Any], Stamp | StampDelta | None, str | None]


class CompactPullPage(_Model):
    """Pull page form 3 (``?form=3``): :class:`PullPage` with its rows as arrays.

    See docs/sync-protocol.md §6; :meth:`expand` gives the :class:`PullPage` it means.
    """

    v: Literal[3]
    since: int
    cursor: int
    more: bool
    hlc: str | None = None
    rows: list[CompactRow]
    merges: list[MergeRecord]
    conflicts: list[ConflictRecord]

    def expand(self) -> PullPage:
        """The page with full rows; ``ValueError`` for a null id it cannot derive."""
        rows: list[RowUpdate] = []
        version = 0
        chained = self.v >= 5  # stamps may be differences (only form 5 rows validate so)
        chain = StampChain()
        for row in self.rows:
            entity, row_id, delta, values = row[:4]
            given: str | StampDelta | None = row[4]
            version += delta
            stamp: str | None
            if given is None or isinstance(given, str):
                stamp = chain.whole(given) if chained and given is not None else given
            else:
                try:
                    stamp = chain.resolve(given)
                except ValueError as exc:
                    raise ValueError(f"row {len(rows)}: {exc}") from None
            creator = row[5] if len(row) == 6 else None
            created: Creation | None = None
            if creator is not None:
                if stamp is None or row_id is None or entity == AUDIT_ENTITY:
                    raise ValueError(f"row {len(rows)}: a creator needs a row id and its stamp")
                created = Creation(stamp, creator)
            elif row_id is None:
                if entity != AUDIT_ENTITY or stamp is None:
                    raise ValueError(f"row {len(rows)}: a null id needs an audit event stamp")
                row_id = audit_event_id(stamp)
            # checked already as this page's arrays: built without validating again
            rows.append(RowUpdate(entity, row_id, version, values, created))
        return PullPage.model_construct(
            since=self.since,
            cursor=self.cursor,
            more=self.more,
            hlc=self.hlc,
            rows=rows,
            merges=self.merges,
            conflicts=self.conflicts,
        )


class CompactPullPage4(CompactPullPage):
    """Pull page form 4 (``?form=4``): form 3 whose rows also name their creator.

    A row the page creates (its insert is in the page; not an audit event) carries the
    account that pushed the insert and the insert's stamp, from which the device derives
    the row's creation event (:func:`desktop.domain.catalogue.creation_event`).
    """

    v: Literal[4]  # type: ignore[assignment]
    rows: list[CompactRow4]  # type: ignore[assignment]


class CompactPullPage5(CompactPullPage):
    """Pull page form 5 (``?form=5``): form 4 with stamps as :class:`StampChain` gives them."""

    v: Literal[5]  # type: ignore[assignment]
    rows: list[CompactRow5]  # type: ignore[assignment]


class CompactPullPage6(CompactPullPage5):
    """Pull page form 6 (``?form=6``): form 5 whose merge records carry ``moved``."""

    v: Literal[6]  # type: ignore[assignment]


class CompactPullPage7(CompactPullPage6):
    """Pull page form 7 (``?form=7``): form 6 that names the log's ``head``."""

    v: Literal[7]  # type: ignore[assignment]
    head: int

    def expand(self) -> PullPage:
        page = super().expand()
        page.head = self.head
        return page


_COMPACT = re.compile(rb'\s*\{\s*"v"\s*:\s*([34567])\b')
_COMPACT_FORMS: dict[bytes, type[CompactPullPage]] = {
    b"3": CompactPullPage,
    b"4": CompactPullPage4,
    b"5": CompactPullPage5,
    b"6": CompactPullPage6,
    b"7": CompactPullPage7,
}


def parse_pull_page(body: bytes) -> PullPage:
    """A pull answer of any form as a :class:`PullPage` (``ValueError`` if malformed)."""
    compact = _COMPACT.match(body)  # the server writes "v" first
    if compact is None:
        return PullPage.model_validate_json(body)
    return _COMPACT_FORMS[compact.group(1)].model_validate_json(body).expand()


# --- merges and conflicts -------------------------------------------------------------


class MergeRequest(_Model):
    entity: Literal["person", "case"]
    source_id: UuidText
    target_id: UuidText
    # The merge's id, when the client chooses it (the server makes one otherwise): the
    # same request sent again is answered with the record it made, merging nothing twice.
    id: UuidText | None = None


class ResolveRequest(_Model):
    choice: Literal["confirm", "flip"]


# --- attachments ----------------------------------------------------------------------


class UploadStart(_Model):
    sha256: str = Field(max_length=200)
    size: int = Field(ge=0)
    chunk_size: int = Field(ge=MIN_CHUNK_BYTES, le=MAX_CHUNK_BYTES)


class UploadStatus(_Model):
    sha256: str
    size: int
    chunk_size: int
    chunks: int  # how many chunks the file has
    received: list[int]  # chunk indexes already stored
    complete: bool


class UploadVerify(_Model):
    sha256: str = Field(max_length=200)


# --- value checks shared by both ends ------------------------------------------------

# \Z, not $: ``$`` also matches before a final newline, so "…\n" would pass a .match().
# [0-9], not \d: \d matches every Unicode digit (Thai, Arabic-Indic, ...), which no
# device writes and int() reads as if they were ASCII.
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_YEAR = re.compile(r"[0-9]{4}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# what ``datetime.isoformat()`` writes for an aware time (timespec auto or "seconds"),
# the only spellings devices send; fromisoformat alone would also take "20250101T1200",
# times without an offset, "Z", week dates and more
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?[+-][0-9]{2}:[0-9]{2}"
)
# How deep a value of a ``json`` field may nest (the object itself is level 1). Devices
# write flat step data and audit details; a bound far below the JSON parser's own (about
# 200) keeps every stored value re-encodable and every pull page readable.
MAX_JSON_DEPTH = 32


class ValueProblem(Exception):
    """A change's value does not fit its field; ``errno`` says how. Inside a whole row
    (field ``*``), ``field`` names the field of the row at fault, when one is."""

    def __init__(self, errno: Errno, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.errno = errno
        self.reason = reason
        self.field = field


def field_spec(entity: str, field: str) -> FieldSpec:
    """The catalogue spec of ``entity.field`` (``deleted``, ``*`` included); raises ValueProblem."""
    spec = ENTITIES.get(entity)
    if spec is None:
        raise ValueProblem(Errno.UNKNOWN_ENTITY, "unknown entity")
    if field == WHOLE_ROW:
        from desktop.domain.catalogue import Merge

        # a new row: written once (append); its fields merge by their own classes later
        return FieldSpec(WHOLE_ROW, FieldType.JSON, Merge.APPEND)
    if field == DELETED_FIELD:
        from desktop.domain.catalogue import Merge

        return FieldSpec(DELETED_FIELD, FieldType.BOOL, Merge.LWW)
    found = spec.fields.get(field)
    if found is None:
        raise ValueProblem(Errno.UNKNOWN_FIELD, "unknown field")
    return found


def safe_filename(name: str) -> bool:
    """True when ``name`` is a bare file name: no folders, no parent references, no NUL."""
    return not (
        name in ("", ".", "..")
        or any(ch in name for ch in ("/", "\\", "\x00"))
        or name.startswith("~")
        or re.match(r"^[A-Za-z]:", name) is not None
    )


def check_value(entity: str, field: str, value: Any) -> None:
    """Raise :class:`ValueProblem` unless ``value`` is valid JSON for ``entity.field``."""
    if field == WHOLE_ROW:
        _check_whole_row(entity, value)
        return
    quick = _QUICK.get(entity, {}).get(field)
    if quick is None or not quick(value):
        _check_field(entity, field, field_spec(entity, field), value)


def _check_field(entity: str, field: str, spec: FieldSpec, value: Any) -> None:
    if value is None:
        if spec.required or field == DELETED_FIELD:
            raise ValueProblem(Errno.REQUIRED_VALUE, "value required")
        return
    kind = spec.type
    if not _TYPE_CHECKS[kind](value):
        raise ValueProblem(Errno.WRONG_TYPE, f"expected {kind.value}")
    if kind is FieldType.LIST and len(value) > MAX_LIST_ITEMS:
        raise ValueProblem(Errno.VALUE_TOO_LONG, f"more than {MAX_LIST_ITEMS} items")
    if overlong_length(spec, value) is not None:
        raise ValueProblem(Errno.VALUE_TOO_LONG, f"longer than {spec.max_length}")
    if unknown_choice(spec, value):
        raise ValueProblem(Errno.WRONG_TYPE, "not one of " + ", ".join(spec.choices))
    if entity == "attachment" and field == "filename" and not safe_filename(value):
        raise ValueProblem(Errno.BAD_ATTACHMENT_NAME, "not a bare file name")
    if entity == "attachment" and field == "sha256" and not SHA256_RE.match(value):
        raise ValueProblem(Errno.BAD_ATTACHMENT_NAME, "not a SHA-256 hex digest")


def _check_whole_row(entity: str, value: Any) -> None:
    quick = _QUICK.get(entity)
    if quick is None:
        raise ValueProblem(Errno.UNKNOWN_ENTITY, "unknown entity")
    if not isinstance(value, dict):
        raise ValueProblem(Errno.WRONG_TYPE, "expected an object of fields")
    if not isinstance(value.get("office"), str):
        raise ValueProblem(Errno.REQUIRED_VALUE, "office required", "office")
    for name in _REQUIRED[entity]:
        if value.get(name) is None:  # left out or null: a name of no person, a step of no track
            raise ValueProblem(Errno.REQUIRED_VALUE, "value required", name)
    for name, item in value.items():
        test = quick.get(name)
        if test is None or name == DELETED_FIELD:  # not a field of a row; nor is ``*``
            raise ValueProblem(Errno.UNKNOWN_FIELD, "unknown field", name)
        if not test(item):
            try:
                _check_field(entity, name, ENTITIES[entity].fields[name], item)
            except ValueProblem as problem:
                problem.field = name
                raise


def _is_date(value: Any) -> bool:
    return (
        isinstance(value, str)
        and _DATE.fullmatch(value) is not None
        and _parses(dt.date.fromisoformat, value)
    )


def _is_datetime(value: Any) -> bool:
    # its instant in UTC too: "9999-12-31T23:59:59-23:59" reads, but falls in the year
    # 10000, which every device converting it to its own time zone fails on (a security test)
    return (
        isinstance(value, str)
        and _DATETIME.fullmatch(value) is not None
        and _parses(lambda text: dt.datetime.fromisoformat(text).astimezone(dt.UTC), value)
    )


def _is_text(value: Any) -> bool:
    # NUL: PostgreSQL refuses it in text and SQLite stores it; refused on both
    return isinstance(value, str) and "\x00" not in value


def _is_json(value: Any) -> bool:
    return isinstance(value, dict) and _plain_json(value, MAX_JSON_DEPTH)


def _plain_json(value: Any, room: int) -> bool:
    """Whether ``value`` nests at most ``room`` levels and holds only storable JSON.

    Storable: finite numbers (NaN and Infinity are not JSON; a page holding them cannot
    be read) and text without NUL, keys included. Recursion stops at ``room``, so a
    value nested as deep as the parser allows costs no more than one nested 32 deep.
    A plain loop, not all() over a generator: a push checks every step's data and every
    audit event's details, mostly small flat objects.
    """
    if room <= 0:
        return False
    if type(value) is dict:
        try:
            if "\x00" in "".join(value):  # every key at once
                return False
        except TypeError:  # a key that is not text: not a JSON object
            return False
        value = value.values()
    for item in value:
        kind = type(item)
        if kind is str:
            if "\x00" in item:
                return False
        elif kind is dict or kind is list:
            if not _plain_json(item, room - 1):
                return False
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif not (item is None or kind is int or kind is bool):
            return False
    return True


_TYPE_CHECKS: dict[FieldType, Callable[[Any], bool]] = {
    FieldType.TEXT: _is_text,
    FieldType.INT: lambda v: isinstance(v, int) and not isinstance(v, bool) and abs(v) < 2**53,
    FieldType.BOOL: lambda v: isinstance(v, bool),
    FieldType.DECIMAL: lambda v: isinstance(v, str) and _is_decimal(v),
    FieldType.DATE: _is_date,
    FieldType.DATETIME: _is_datetime,
    FieldType.MONTH: lambda v: isinstance(v, str) and _MONTH.fullmatch(v) is not None,
    FieldType.PARTIAL_DATE: lambda v: (
        isinstance(v, str)
        and (_YEAR.fullmatch(v) is not None or _MONTH.fullmatch(v) is not None or _is_date(v))
    ),
    # canonical text only (see UuidText): another spelling would name another row
    FieldType.REF: lambda v: isinstance(v, str) and CANONICAL_ID.fullmatch(v) is not None,
    FieldType.JSON: _is_json,
    FieldType.LIST: lambda v: isinstance(v, list) and all(_is_text(i) for i in v),
}


Quick = Callable[[Any], bool]


def _quick_check(entity: str, name: str, spec: FieldSpec) -> Quick:
    """A cheap test per field, prepared once: True only for values :func:`_check_field` accepts.

    False means "not sure": the full check then decides and raises the precise problem,
    so only the common, valid values take the short way (a push checks every field of
    every new row).
    """
    kind = spec.type
    limit = spec.max_length if spec.max_length is not None else sys.maxsize
    nullable = not (spec.required or name == DELETED_FIELD)
    if entity == "attachment" and name in ("filename", "sha256"):
        return lambda _v: False  # name rules: always the full check
    if spec.choices:
        codes = frozenset(spec.choices)  # short codes: no NUL, within the limit
        if nullable:
            return lambda v: v is None or (type(v) is str and v in codes)
        return lambda v: type(v) is str and v in codes
    # the two commonest kinds get one flat test each (a push runs one per field per row)
    if kind is FieldType.TEXT:
        if nullable:
            return lambda v: v is None or (type(v) is str and len(v) <= limit and "\x00" not in v)
        return lambda v: type(v) is str and len(v) <= limit and "\x00" not in v
    if kind is FieldType.REF and spec.max_length is None:
        # canonical UUID text is what devices send; other spellings take the full check
        match = CANONICAL_ID.fullmatch
        if nullable:
            return lambda v: v is None or (type(v) is str and match(v) is not None)
        return lambda v: type(v) is str and match(v) is not None
    if kind is FieldType.LIST:
        ok = _quick_list(limit)
    elif kind in (FieldType.INT, FieldType.BOOL, FieldType.JSON):
        ok = _TYPE_CHECKS[kind]  # not text: no length to check
    else:
        ok = _quick_text_shaped(_TYPE_CHECKS[kind], limit)  # dates, decimals, months, ...
    return (lambda v: v is None or ok(v)) if nullable else ok


def _quick_list(limit: int) -> Quick:
    return lambda v: (
        type(v) is list
        and len(v) <= MAX_LIST_ITEMS
        and all(type(i) is str and len(i) <= limit and "\x00" not in i for i in v)
    )


def _quick_text_shaped(type_ok: Quick, limit: int) -> Quick:
    return lambda v: type_ok(v) and len(v) <= limit


# entity -> field -> quick test; ``deleted`` included (single-field changes may set it)
_QUICK: dict[str, dict[str, Quick]] = {
    entity: {
        **{name: _quick_check(entity, name, spec) for name, spec in entity_spec.fields.items()},
        DELETED_FIELD: lambda v: v is True or v is False,
    }
    for entity, entity_spec in ENTITIES.items()
}


# entity -> its required fields besides ``office`` (the references that place a row:
# a name's person, a step's track), which a new row sent whole must hold
_REQUIRED: dict[str, tuple[str, ...]] = {
    entity: tuple(n for n, f in spec.fields.items() if f.required and n != "office")
    for entity, spec in ENTITIES.items()
}


def _parses(parse: Any, text: str) -> bool:
    try:
        parse(text)
    except (ValueError, OverflowError):  # an instant past the calendar's ends overflows
        return False
    return True


# a decimal's magnitude (below 10**15) and its places after the point: far beyond any
# amount (the app takes at most 10**12, desktop.domain.amounts), small to write out
MAX_DECIMAL_DIGITS = 15
MAX_DECIMAL_PLACES = 12


def _is_decimal(text: str) -> bool:
    """Whether ``text`` is a finite decimal as devices write it: ``str(Decimal(...))``.

    ``Decimal()`` alone also reads " 12 ", "1_000", "1e5", "+5", "012" and non-ASCII
    digits, each stored as sent though it means the text ``str()`` would write; only that
    text, which reads back to itself, is accepted ("12.50", "-3", "1E+5").
    """
    if len(text) > 32:
        return False
    try:
        number = decimal.Decimal(text)
    except decimal.InvalidOperation:
        return False
    return (
        number.is_finite()
        and str(number) == text
        # "1E+999999999" is 12 characters: written out, as a device shows an amount, a
        # gigabyte of digits on every device that pulls it (a security test)
        and (number.is_zero() or number.adjusted() < MAX_DECIMAL_DIGITS)
        and int(number.as_tuple().exponent) >= -MAX_DECIMAL_PLACES
    )
