"""The HTTP side of the sync client: protocol calls over an injected ``httpx.Client``.

Tests pass Starlette's ``TestClient`` (an ``httpx.Client``) or a client pointed at a live
uvicorn; the app passes a plain ``httpx.Client``. Request bodies are gzip-compressed;
responses are decompressed by httpx. Counters of bytes on the wire feed the sync
summary and ``bench/sync.py``.
"""

from __future__ import annotations

import contextlib
import gzip
import importlib
import json
import re
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel

from desktop.domain.catalogue import AUDIT_ENTITY, audit_event_id
from sync import protocol as p

M = TypeVar("M", bound=BaseModel)

# What the byte counters add per request for the headers (a rough allowance): the
# metered-link estimates count the same, so they can be checked against the counters.
REQUEST_OVERHEAD_BYTES = 200
RESPONSE_OVERHEAD_BYTES = 150
# a merge asked again after its answer was lost may find the first still at work on a
# SQLite server (its lock): waited out up to this many times, each wait the server's
# Retry-After up to the cap
MERGE_BUSY_ASKS = 3
MERGE_BUSY_WAIT_CAP = 30.0
# how request bodies are compressed (see SyncClient._compressed)
GZIP_LEVEL = 8


def _transport_errors() -> tuple[type[Exception], ...]:
    # Starlette's TestClient is built on httpx2 when that is installed (tests)
    errors: list[type[Exception]] = [httpx.TransportError]
    with contextlib.suppress(ImportError):
        errors.append(importlib.import_module("httpx2").TransportError)
    return tuple(errors)


TRANSPORT_ERRORS = _transport_errors()
# What a failed certificate check reads as in a sync's error ("unreachable: ..."), and a
# connection the server's address refused (the server down, the network up).
UNTRUSTED = "UntrustedCertificate"
REFUSED = "ConnectionRefused"


class HttpResponse(Protocol):
    status_code: int
    headers: Any
    content: bytes
    num_bytes_downloaded: int

    def json(self) -> Any: ...


class HttpClient(Protocol):
    """What the sync client needs of ``httpx.Client`` (or Starlette's ``TestClient``)."""

    def request(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = ...,
        headers: dict[str, str] | None = ...,
        params: dict[str, Any] | None = ...,
    ) -> Any: ...

    def stream(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = ...,
        params: dict[str, Any] | None = ...,
    ) -> contextlib.AbstractContextManager[Any]: ...


class SyncHttpError(Exception):
    """The server refused a request: HTTP status, protocol ``errno`` and details."""

    def __init__(
        self,
        status: int,
        errno: int,
        message: str,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"HTTP {status} errno {errno}: {message}")
        self.status = status
        self.errno = errno
        self.message = message
        self.details = details or {}
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.status in (429, 502, 503, 504)


@dataclass(frozen=True)
class BlobStream:
    """An attachment download under way: where it starts, the blob's size, its bytes."""

    first: int
    size: int | None  # None when the server did not say (no Content-Length)
    pieces: Iterator[bytes]


def _blob_stream(response: Any) -> BlobStream:
    """Read ``Content-Range: bytes F-L/N`` (206) or ``Content-Length`` (200)."""
    if response.status_code == 206:
        match = _CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
        if match is None:
            raise SyncHttpError(502, p.Errno.INTERNAL, "a partial answer without its range")
        return BlobStream(int(match[1]), int(match[3]), response.iter_bytes())
    length = response.headers.get("content-length")
    size = int(length) if length is not None and length.isdigit() else None
    return BlobStream(0, size, response.iter_bytes())


_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


class ServerUnreachable(Exception):
    """No answer: offline, connection refused or dropped, timeout. ``refused``: the
    address answered that nothing listens there (the server is down, the network up)."""

    refused: bool = False


class UntrustedServer(ServerUnreachable):
    """The server (or something in its place: a captive portal, an interceptor) showed a
    TLS certificate this computer does not trust. Retrying will not help; a person must
    look, so it is told apart from a dropped link."""


class ServerChanged(ServerUnreachable):
    """The answer came from another change log than the one this device registered under
    (header ``X-Sapan-Log``): another server at the address, or a database restored from a
    backup and given a new log (``sapan server new-log``). Its answer is not used: a cursor
    of one log skips what another numbered below it, and an acknowledgement from another
    server would take changes out of the outbox that the device's own server never got.

    The device's own server is not reached, so whoever handles ServerUnreachable handles
    it too; the sync and the coordinator's requests tell it apart, to say what to do."""

    def __init__(self, expected: str, seen: str) -> None:
        super().__init__(f"the server's change log is {seen}, not {expected}")
        self.expected = expected
        self.seen = seen


def may_have_arrived(exc: ServerUnreachable) -> bool:
    """Whether a request that failed on the link may have reached the server: anything but
    a connection never made (or a certificate refused)."""
    cause = exc.__cause__
    never_sent = ("ConnectError", "ConnectTimeout")
    return not isinstance(exc, UntrustedServer) and type(cause).__name__ not in never_sent


def _stale_connection(exc: BaseException) -> bool:
    """Whether a request failed as one sent on a connection its other end had closed:
    no answer at all (the server's keep-alive ran out while the last answer was still on
    its way on a slow link), or the write refused. Not a timeout: a dead link is not
    asked twice."""
    return type(exc).__name__ in ("RemoteProtocolError", "WriteError")


def _unreachable(exc: BaseException) -> ServerUnreachable:
    """The ServerUnreachable a transport error is: untrusted when a certificate check failed
    anywhere in its chain (httpx wraps ssl's error in its own, twice), refused when the
    connection was."""
    seen: BaseException | None = exc
    refused = False
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return UntrustedServer(UNTRUSTED)
        refused |= isinstance(seen, ConnectionRefusedError)
        seen = seen.__cause__ or seen.__context__
    unreachable = ServerUnreachable(REFUSED if refused else type(exc).__name__)
    unreachable.refused = refused
    return unreachable


class PreparedBody(bytes):
    """JSON bytes of a request body, with their gzip form made ahead (:meth:`SyncClient.prepare`).

    Still the JSON for whoever reads the body (a test counting a batch's changes); the
    request sends ``gzipped`` instead of compressing the body again.
    """

    gzipped: bytes | None = None


class SyncClient:
    """Typed calls of the protocol. ``token`` is the device token (see ``register``)."""

    def __init__(
        self,
        http: HttpClient,
        base_url: str = "",
        token: str | None = None,
        compress: bool = True,
        expected_log: str | None = None,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.compress = compress
        # the change log this device registered under: an answer naming another one raises
        # ServerChanged before it is read (None: a device registered before servers named
        # their logs, or a server that does not)
        self.expected_log = expected_log
        self.log: str | None = None  # the log the last answer named
        self.head: int | None = None  # the log's head as the last GET /info named it
        # the log the server's continues and that log's head then (``sapan server new-log``)
        self.parent_log: str | None = None
        self.parent_head: int | None = None
        # the logs the parent continues in turn, nearest first, with their heads then
        self.ancestors: list[tuple[str, int]] = []
        # what the server accepts beyond its forms, as the last GET /info named it
        self.features: frozenset[str] = frozenset()
        self.bytes_sent = 0
        self.bytes_received = 0
        self.sleep: Callable[[float], None] = time.sleep  # tests pass their own
        self.scope_version: int | None = None  # as the registration's answer named it

    def _url(self, path: str) -> str:
        return f"{self.base_url}{p.PREFIX}{path}"

    def _headers(self, encoding: str = "gzip") -> dict[str, str]:
        headers = {"Accept-Encoding": encoding, p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        raw: bytes | None = None,
        json_body: bytes | None = None,
        params: dict[str, Any] | None = None,
    ) -> HttpResponse:
        headers = self._headers()
        content: bytes | None = raw
        if body is not None:
            json_body = body.model_dump_json().encode("utf-8")
        if json_body is not None:
            content = json_body
            headers["Content-Type"] = "application/json"
            compressed = self._compressed(content)
            if compressed is not None:
                content = compressed
                headers["Content-Encoding"] = "gzip"
        elif raw is not None:
            headers["Content-Type"] = "application/octet-stream"
        for asked in range(2):
            try:
                response: HttpResponse = self.http.request(
                    method, self._url(path), content=content, headers=headers, params=params
                )
                break
            except TRANSPORT_ERRORS as exc:
                # a kept-alive connection the server (or a proxy) closed as the request
                # went: a read is asked again, on a new connection, once
                if asked or method != "GET" or not _stale_connection(exc):
                    raise _unreachable(exc) from exc
        self.bytes_sent += len(content or b"") + REQUEST_OVERHEAD_BYTES
        self.bytes_received += response.num_bytes_downloaded + RESPONSE_OVERHEAD_BYTES
        self.log = response.headers.get(p.LOG_HEADER)
        if self.expected_log is not None and self.log is not None and self.log != self.expected_log:
            raise ServerChanged(self.expected_log, self.log)
        if response.status_code >= 400:
            raise _error(response)
        return response

    def _compressed(self, body: bytes) -> bytes | None:
        """A JSON ``body`` gzipped as requests send it, or None when it goes as it is."""
        if not self.compress or len(body) <= 256:
            return None
        if isinstance(body, PreparedBody):
            return body.gzipped
        # level 8: on a 2G link bytes cost more than the CPU (level 5 sends about 10 %
        # more for a push batch). Level 9 sent the same bytes (within 0.1 %, for batches
        # of 200 to 5,000 new case file rows or of 1,000 field edits) for a third more
        # CPU: about 26 ms against 19 per batch of 5,000 changes.
        return gzip.compress(body, compresslevel=GZIP_LEVEL)

    def prepare(self, body: bytes) -> PreparedBody:
        """A JSON ``body`` with what a request sends of it made now (compressed): the push
        prepares its next batch while the server works on the one before, and the request
        that sends it later does not compress it again."""
        prepared = PreparedBody(body)
        prepared.gzipped = self._compressed(body)
        return prepared

    def _call(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        return _parsed(model, method, path, self._request(method, path, **kwargs))

    # -- devices ---------------------------------------------------------------------------

    def info(self) -> p.ServerInfo:
        """The server's protocol and limits; keeps the log's head it names (``head``)."""
        response = self._request("GET", "/info")
        info = _parsed(p.ServerInfo, "GET", "/info", response)
        self.head = _number(response.headers.get(p.HEAD_HEADER))
        self.parent_log = response.headers.get(p.PARENT_LOG_HEADER)
        self.parent_head = _number(response.headers.get(p.PARENT_HEAD_HEADER))
        self.ancestors = _ancestors(response.headers.get(p.ANCESTORS_HEADER))
        named = response.headers.get(p.FEATURES_HEADER) or ""
        self.features = frozenset(part.strip() for part in named.split(",") if part.strip())
        return info

    @property
    def takes_merge_ids(self) -> bool:
        """Whether the server, as the last ``GET /v1/info`` named it, takes a merge's id
        from the device (``merge-id``)."""
        return p.MERGE_ID_FEATURE in self.features

    def continued_head(self, log: str) -> int | None:
        """How far the log the server last named (``GET /v1/info``) holds ``log``'s
        changes under the same seqs, when it continues ``log`` (``sapan server new-log``
        after a restore, once or more): the lowest head on the way back to it. None when
        it does not continue ``log``."""
        if self.parent_log is None or self.parent_head is None:
            return None
        head = self.parent_head
        for ancestor, ancestor_head in [(self.parent_log, self.parent_head), *self.ancestors]:
            head = min(head, ancestor_head)
            if ancestor == log:
                return head
        return None

    def register(self, username: str, password: str, device_name: str) -> p.RegisterResponse:
        """Register this device; keeps the new token for later calls."""
        request = p.RegisterRequest(username=username, password=password, device_name=device_name)
        response = self._request("POST", "/devices", body=request)
        answer = _parsed(p.RegisterResponse, "POST", "/devices", response)
        self.token = answer.token
        # the account's scope version, for the first pull (None: a server before it)
        self.scope_version = _number(response.headers.get(p.SCOPE_HEADER))
        return answer

    def rotate(self) -> p.RegisterResponse:
        answer = self._call(p.RegisterResponse, "POST", "/devices/rotate")
        self.token = answer.token
        return answer

    def me(self) -> p.Account:
        return self._call(p.Account, "GET", "/me")

    def case_block(self, above: int = 0) -> int:
        """This device's block of case numbers, reserved by the server on the first call,
        past ``above`` (the highest block in the case numbers the device holds)."""
        params = {"above": above} if above else None
        return self._call(p.CaseBlock, "POST", "/devices/case-block", params=params).case_block

    # -- changes ---------------------------------------------------------------------------

    def push(self, changes: list[p.Change]) -> p.PushResponse:
        """Push in the version 1 form (objects); kept for version 1 servers and tests."""
        return self._call(p.PushResponse, "POST", "/push", body=p.PushRequest(changes=changes))

    def push_batch(self, body: bytes) -> p.PushBatchResponse:
        """Push a version 2 batch already encoded as JSON (see :func:`encode_batch`)."""
        return self._call(p.PushBatchResponse, "POST", "/push", json_body=body)

    def pull(
        self,
        since: int,
        limit: int = p.DEFAULT_PAGE,
        form: int = 2,
        *,
        scope: int | None = None,
        offices: list[str] | None = None,
        until: int | None = None,
    ) -> p.PullPage:
        """One pull page; ``form`` 3 or 4 asks for the compact page (expanded here).

        ``scope``: the scope version this device last pulled under (a change is errno 123);
        ``offices`` and ``until`` narrow the page for a catch-up (docs/sync-protocol.md §6).
        """
        params: dict[str, int | str] = {"since": since, "limit": limit}
        if form >= 3:
            params["form"] = form
        if scope is not None:
            params["scope"] = scope
        if offices is not None:
            params["offices"] = ",".join(offices)
        if until is not None:
            params["until"] = until
        response = self._request("GET", "/pull", params=params)
        try:
            return p.parse_pull_page(response.content)
        except ValueError as exc:  # a page this client cannot read: nothing of it is applied
            raise _unreadable("GET", "/pull", exc) from None

    def merge(
        self, entity: str, source_id: str, target_id: str, merge_id: str | None = None
    ) -> p.MergeRecord:
        """Merge B into A; the record as form 6 writes it, with ``moved`` (a server before
        form 6 ignores the parameter and leaves ``moved`` out). Undo asks likewise.
        ``merge_id``: the merge's id, chosen here, for servers that name the ``merge-id``
        feature (left out otherwise: servers before it refuse the member); a request
        under one whose answer was lost is tried once more."""
        request = p.MergeRequest.model_validate(
            {"entity": entity, "source_id": source_id, "target_id": target_id, "id": merge_id}
        )
        body = request.model_dump_json(exclude_none=True).encode("utf-8")
        params = {"form": p.MOVED_FORM}
        try:
            response = self._request("POST", "/merges", json_body=body, params=params)
        except ServerUnreachable as exc:
            if merge_id is None or not may_have_arrived(exc):
                raise
            # its answer lost on the way back: asked once more under the same id, the
            # server answers the merge it made, or makes it now (never twice)
            response = self._asked_again("/merges", body, params)
        return _parsed(p.MergeRecord, "POST", "/merges", response)

    def _asked_again(self, path: str, body: bytes, params: dict[str, Any]) -> HttpResponse:
        """``POST path`` again, waiting out a busy answer a few times: the first request
        may still hold a SQLite server's lock (the link gave up on it, the server did
        not). Any other answer, or a busy one after the last wait, is the caller's."""
        for _wait in range(MERGE_BUSY_ASKS):
            try:
                return self._request("POST", path, json_body=body, params=params)
            except SyncHttpError as exc:
                if not exc.retryable:
                    raise
                self.sleep(min(exc.retry_after or 1.0, MERGE_BUSY_WAIT_CAP))
        return self._request("POST", path, json_body=body, params=params)

    def undo_merge(self, merge_id: str) -> p.MergeRecord:
        params = {"form": p.MOVED_FORM}
        return self._call(p.MergeRecord, "POST", f"/merges/{merge_id}/undo", params=params)

    def conflicts(self, status: str | None = None) -> list[p.ConflictRecord]:
        params = {"status": status} if status else None
        response = self._request("GET", "/conflicts", params=params)
        try:
            return [p.ConflictRecord.model_validate(item) for item in response.json()]
        except (ValueError, TypeError) as exc:
            raise _unreadable("GET", "/conflicts", exc) from None

    def resolve(self, conflict_id: str, flip: bool) -> p.ConflictRecord:
        body = p.ResolveRequest(choice="flip" if flip else "confirm")
        return self._call(p.ConflictRecord, "POST", f"/conflicts/{conflict_id}/resolve", body=body)

    # -- attachments -----------------------------------------------------------------------

    def attachment_start(self, start: p.UploadStart) -> p.UploadStatus:
        """Announce an upload; the answer lists the chunks the server already holds."""
        return self._call(p.UploadStatus, "POST", "/attachments/start", body=start)

    def attachment_chunk(self, sha256: str, index: int, data: bytes) -> None:
        """Send chunk ``index`` of the blob named ``sha256``."""
        self._request(
            "PUT", "/attachments/chunk", raw=data, params={"sha256": sha256, "index": index}
        )

    def attachment_verify(self, sha256: str) -> p.UploadStatus:
        """Ask the server to hash what it holds; a mismatch discards the upload there."""
        verify = p.UploadVerify(sha256=sha256)
        return self._call(p.UploadStatus, "POST", "/attachments/verify", body=verify)

    @contextlib.contextmanager
    def attachment_stream(self, sha256: str, start: int = 0) -> Iterator[BlobStream]:
        """The blob's bytes from ``start`` on, as they arrive (the caller checks them).

        Asks for ``Range: bytes=start-`` when resuming; a server that ignores the range
        answers with the whole blob, which the stream's ``first`` (0) tells. The bytes are
        asked for without gzip: scans do not compress, and ranges count identity bytes.
        A dropped link raises :class:`ServerUnreachable`, also while iterating.
        """
        headers = self._headers(encoding="identity")
        if start > 0:
            headers["Range"] = f"bytes={start}-"
        url = self._url("/attachments/content")
        response: Any = None
        try:
            with self.http.stream(
                "GET", url, headers=headers, params={"sha256": sha256}
            ) as response:
                if response.status_code >= 400:
                    response.read()
                    raise _error(response)
                yield _blob_stream(response)
        except TRANSPORT_ERRORS as exc:
            raise _unreachable(exc) from exc
        finally:
            self.bytes_sent += REQUEST_OVERHEAD_BYTES
            if response is not None:
                self.bytes_received += response.num_bytes_downloaded + RESPONSE_OVERHEAD_BYTES

    def upload_status(self, sha256: str) -> p.UploadStatus:
        return self._call(p.UploadStatus, "GET", "/attachments/status", params={"sha256": sha256})


def encode_batch(changes: list[tuple[str, str, str, str, str, int, str]], form: int = 2) -> bytes:
    """A push body (form 2 or 3) from outbox entries whose values are already compact JSON.

    Each change is ``(change_id, entity, row_id, field, value_json, base_version, hlc)``;
    the stored JSON text of the value is spliced in as it is, not parsed and re-encoded.
    Ids, names and stamps are plain ASCII made by the device; they are encoded anyway.
    A row insert goes without its change id (``null``): the server derives one from the
    device and the row (:func:`sync.protocol.insert_change_id`), the same on every resend,
    which saves a random, incompressible id per new row.

    Form 3 (docs/sync-protocol.md §5) also leaves out what the server can derive: the id
    of an audit event whose id is derived from its stamp (``null``), and each stamp after
    the first as ``[wall_delta, counter]`` against the change before it when both come
    from the same node. Together a third of the bytes of a new case file.
    """
    parts: list[str] = []
    stamps = p.StampWriter()  # the writer pull form 5 uses on the server
    for cid, entity, row, field, value, base, hlc in changes:
        insert = field == p.WHOLE_ROW
        row_text = _text(row)
        if form < 3:
            stamp = _text(hlc)
        else:
            stamp = stamps.json(hlc)
            if insert and entity == AUDIT_ENTITY and row == audit_event_id(hlc):
                row_text = "null"
        parts.append(
            f"[{'null' if insert else _text(cid)},{_text(entity)},{row_text},"
            f"{_text(field)},{value},{base:d},{stamp}]"
        )
    return (f'{{"v":{form:d},"changes":[' + ",".join(parts) + "]}").encode("utf-8")


# one encoder for every string: json.dumps with options builds a new encoder per call
_text = json.JSONEncoder(ensure_ascii=False).encode


def _unreadable(method: str, path: str, exc: Exception) -> SyncHttpError:
    """A success answer this client cannot read: a Wi-Fi or mobile-data login page
    answering in the server's place, a proxy, a broken server. Treated as a bad gateway
    (retryable): what the request changed on a real server is idempotent to send again."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return SyncHttpError(
        502,
        p.Errno.INTERNAL,
        f"unreadable answer to {method} {path}, not what a Sapan server sends "
        f"(a network login page?): {first}",
    )


def _ancestors(header: str | None) -> list[tuple[str, int]]:
    """``X-Sapan-Ancestors`` (``<log> <head>, ...``) as pairs; [] when missing or garbled:
    then only the parent is known, and a device of an older log registers again."""
    found: list[tuple[str, int]] = []
    for item in (header or "").split(","):
        parts = item.split()
        if not item.strip():
            continue
        head = _number(parts[1]) if len(parts) == 2 else None
        if head is None:
            return []
        found.append((parts[0], head))
    return found


def _number(header: str | None) -> int | None:
    """A header's whole number, or None when it is missing or not ASCII digits."""
    return int(header) if header is not None and header.isascii() and header.isdigit() else None


def _parsed(model: type[M], method: str, path: str, response: HttpResponse) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValueError as exc:
        raise _unreadable(method, path, exc) from None


def _error(response: HttpResponse) -> SyncHttpError:
    retry: float | None = None
    header = response.headers.get("Retry-After")
    if header is not None:
        try:
            retry = max(0.0, float(header))
        except ValueError:
            retry = None
    try:
        body = p.ErrorBody.model_validate_json(response.content)
    except ValueError:
        return SyncHttpError(response.status_code, p.Errno.INTERNAL, "unexpected answer", {}, retry)
    return SyncHttpError(body.status, body.errno, body.message, body.details, retry)
