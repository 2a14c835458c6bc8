"""What the app's Sync page and background sync worker need, on top of :mod:`sync`.

The core sync service (:mod:`desktop.services.sync`) does one sync. The app also needs:
a cheap reachability probe that reads the server's ``Retry-After``; a backoff policy
with jitter; one sync run that records when it last succeeded; the data a sync will
send before it starts (for a metered link); the refused changes with a retry; and the
conflicts awaiting a coordinator. None of this imports Qt: the UI runs these functions
through its operation helper, off the GUI thread.

The app never sleeps here: its worker retries on a timer, so the core service is run
with ``max_retries=0`` and the worker honours ``Retry-After`` itself.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx
import truststore
from sqlalchemy import func, select

from desktop.domain import i18n
from desktop.domain.errors import UserError
from desktop.models.base import listed
from desktop.models.entities import Attachment, OutboxEntry
from desktop.models.secret_store import SecretStore
from desktop.models.store import Store
from desktop.models.sync_records import SyncConflict
from desktop.services import row_context, sync_attachments
from desktop.services import sync as core
from desktop.services.ui_queries import SERVER_SETTING
from sync.client.http import (
    REFUSED,
    UNTRUSTED,
    HttpClient,
    ServerUnreachable,
    SyncClient,
    SyncHttpError,
    UntrustedServer,
)
from sync.protocol import RegisterResponse

# Settings keys the Sync page writes and the worker reads.
METERED_KEY = "sync_metered"
METERED_LIMIT_KEY = "sync_metered_limit_kb"
LAST_SYNC_KEY = "last_sync_at"
OTHER_SERVER = core.OTHER_SERVER  # the refusal :func:`register` asks the person about
DEFAULT_METERED_LIMIT_KB = 1024
PROBE_TIMEOUT_SECONDS = 5.0
SYNC_TIMEOUT_SECONDS = 60.0

HttpFactory = Callable[[str], HttpClient]


def default_http(url: str) -> HttpClient:
    """An ``httpx.Client`` for ``url`` (the app's default; tests inject their own)."""
    return httpx.Client(timeout=SYNC_TIMEOUT_SECONDS, verify=trusted_roots())


def quick_http(url: str) -> HttpClient:
    """An ``httpx.Client`` that gives up after a few seconds: for small questions (is the
    server there, what is my role) asked while a person waits or a reader thread is held."""
    return httpx.Client(timeout=PROBE_TIMEOUT_SECONDS, verify=trusted_roots())


def trusted_roots() -> ssl.SSLContext:
    """Certificates checked against the operating system's trust store (Windows' certificate
    store, macOS's keychain, the system bundle on Linux, where ``SSL_CERT_FILE`` names
    another), not a bundle shipped with the app: a certificate authority an organisation
    installs on its laptops for its own server is trusted here as in the browser."""
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def close_http(http: HttpClient) -> None:
    close = getattr(http, "close", None)
    if callable(close):
        close()


# --- backoff ------------------------------------------------------------------------------


@dataclass
class Backoff:
    """Exponential backoff with jitter, never shorter than the server's ``Retry-After``.

    Delays grow ``base``, ``base*factor``, ... up to ``cap`` seconds; each is drawn from
    the upper half of its step ("equal jitter") so many laptops coming back online at
    once do not knock on the server together. ``rand`` is injectable for tests.
    """

    base: float = 5.0
    factor: float = 2.0
    cap: float = 900.0
    rand: Callable[[], float] = random.random
    failures: int = 0

    def next_delay(self, retry_after: float | None = None) -> float:
        """Seconds to wait before the next attempt, after one more failure."""
        step = min(self.cap, self.base * self.factor**self.failures)
        self.failures += 1
        delay = step / 2 + (step / 2) * self.rand()
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def reset(self) -> None:
        self.failures = 0


# --- reading the state --------------------------------------------------------------------


@dataclass(frozen=True)
class SyncOverview:
    """Everything the Sync page shows before a sync starts."""

    server_url: str | None
    registered: bool
    waiting: int
    failed: int
    bytes_waiting: int
    attachments_waiting: int
    attachment_bytes: int
    attachments_to_fetch: int
    fetch_bytes: int  # attachments only: what others changed is not known before the pull
    open_conflicts: int
    last_sync: str | None
    metered: bool
    metered_limit_kb: int
    # the office new rows belong to, and the ones the account lets this device choose
    office: str = ""
    offices: tuple[str, ...] = ()
    # the server account this device is registered under (None before registration)
    account: str | None = None

    @property
    def bytes_to_send(self) -> int:
        """Changes plus attachment contents a sync would send now."""
        return self.bytes_waiting + self.attachment_bytes

    @property
    def bytes_known(self) -> int:
        """What a sync will move at least: everything it sends, the attachments it fetches."""
        return self.bytes_to_send + self.fetch_bytes


@dataclass(frozen=True)
class FailedItem:
    """A change the server refused, parked in the outbox with its error (``seq`` 0: a
    file the last sync could not move, ``field`` its direction, ``row_id`` its SHA-256),
    with the case file it belongs to on this device, as far as it can tell."""

    seq: int
    entity: str
    field: str
    row_id: str
    error: str
    attempts: int
    person_name: str = ""
    case_number: str = ""
    case_id: str | None = None  # the case file to open to see the change in its context
    place: row_context.Place = row_context.NOWHERE  # where that case file shows it
    named_in: int = 0  # an employer: the case files naming it (row_context.Owner)

    @property
    def is_file(self) -> bool:
        return self.seq == 0


def server_address(store: Store) -> str | None:
    """The server this device is registered with, else the one typed in the settings."""
    return core.server_url(store) or (store.setting(SERVER_SETTING, None) or None)


def is_registered(store: Store, secrets: SecretStore | None = None) -> bool:
    return bool(core.server_url(store) and core.device_token(store, secrets))


def overview(
    store: Store, secrets: SecretStore | None = None, *, sizes: bool = True
) -> SyncOverview:
    """Counts and sizes for the Sync page and the metered-link check.

    ``sizes=False`` skips estimating the bytes waiting (a sample of the outbox encoded and
    compressed): the status bar refreshes often and shows only counts.
    """
    with store.read() as session:
        waiting = session.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.last_error.is_(None))
        )
        sent_bytes = core.push_bytes_estimate(session, int(waiting or 0)) if sizes else 0
        failed = session.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.last_error.is_not(None))
        )
        conflicts = session.scalar(
            select(func.count()).select_from(SyncConflict).where(SyncConflict.status == "open")
        )
    # Blobs the server has not verified yet, with the bytes their upload puts on the wire.
    files, file_bytes = sync_attachments.upload_estimate(store) if sizes else (0, 0)
    # Blobs named by rows already pulled but not here yet (or only in part).
    fetch, fetch_bytes = sync_attachments.download_estimate(store) if sizes else (0, 0)
    last = store.setting(LAST_SYNC_KEY, None)
    registered = is_registered(store, secrets)
    return SyncOverview(
        server_url=server_address(store),
        registered=registered,
        waiting=int(waiting or 0),
        failed=int(failed or 0),
        bytes_waiting=sent_bytes,
        attachments_waiting=int(files or 0),
        attachment_bytes=int(file_bytes or 0),
        attachments_to_fetch=fetch,
        fetch_bytes=fetch_bytes,
        open_conflicts=int(conflicts or 0),
        last_sync=str(last) if last else None,
        metered=bool(store.setting(METERED_KEY, False)),
        metered_limit_kb=int(store.setting(METERED_LIMIT_KEY, DEFAULT_METERED_LIMIT_KB)),
        office=store.office,
        offices=tuple(core.office_choices(store)),
        account=store.user if registered else None,
    )


def set_office(store: Store, office: str) -> str:
    """Choose the office this device works for among the account's (see
    :func:`desktop.services.sync.set_office`)."""
    return core.set_office(store, office)


def reason_text(
    error: str, translate: Callable[..., str], entity: str = "", field: str = ""
) -> str:
    """A stored sync error in the reader's language when it is a known kind (server error
    number, no connection), else as it was stored (an attachment's own problem). A change
    refused for its value names the detail at fault (the server's, else ``entity`` and
    ``field``, the change's own) as the Sync page names it."""
    if core.errno_of(error) is None and not error.startswith(core.SYNC_FAILURES):
        return error
    key, params = core.reason(error, entity, field)
    if "entity" in params:
        params["detail"] = i18n.detail_text(params.pop("entity"), params.pop("field"), translate)
    return translate(key, **params)


def failed_text(item: FailedItem, translate: Callable[..., str]) -> str:
    """What a failed item is about, in the reader's language: the detail of a refused
    change as the conflicts name theirs ("Person: phone"), or a file's direction."""
    if item.is_file:
        return translate(f"sync.transfer.{item.field}")
    return i18n.detail_text(item.entity, item.field, translate)


def failed_reason(item: FailedItem, translate: Callable[..., str]) -> str:
    """Why a failed item was refused, in the reader's language (see :func:`reason_text`)."""
    return reason_text(item.error, translate, item.entity, item.field)


def offline(error: str) -> bool:
    """True when a stored sync error is a dropped link (the app waits and tries again),
    not something a person must look at, such as an untrusted certificate."""
    return error.startswith("unreachable") and UNTRUSTED not in error


def refused(error: str) -> bool:
    """True when a stored sync error is a connection the server's address refused: the
    server is down, this computer's network works."""
    return offline(error) and REFUSED in error


def needs_a_person(error: str) -> bool:
    """True when a stored sync error will not mend itself by syncing again: the server
    is not the one this device's cursor belongs to (see ``SyncService.same_log``)."""
    return error.startswith(core.LOG_FAILURES)


def failed_items(store: Store, limit: int = 200) -> list[FailedItem]:
    """Refused changes, oldest first, then the attachments the last sync could not move
    (``attachment.upload`` / ``attachment.download``; every sync tries them again), each
    with the person and case file it belongs to (a file: that of a row naming it)."""
    problems = sync_attachments.problems(store)
    with store.read() as session:
        rows = session.execute(
            select(
                OutboxEntry.seq,
                OutboxEntry.entity,
                OutboxEntry.field,
                OutboxEntry.row_id,
                OutboxEntry.last_error,
                OutboxEntry.attempts,
            )
            .where(OutboxEntry.last_error.is_not(None))
            .order_by(OutboxEntry.seq)
            .limit(limit)
        ).all()
        items = [
            FailedItem(seq, entity, name, row_id, error or "", attempts)
            for seq, entity, name, row_id, error, attempts in rows
        ]
        for problem in problems:
            error = f"{problem.filename}: {problem.error}" if problem.filename else problem.error
            items.append(FailedItem(0, "attachment", problem.direction, problem.sha256, error, 1))
        items = items[:limit]
        # a file is placed by the attachment row that names it
        by_hash = dict(
            session.execute(
                select(Attachment.sha256, Attachment.id).where(
                    Attachment.sha256.in_(listed({i.row_id for i in items if i.is_file}))
                )
            ).all()
        )
        keys = [(i.entity, by_hash.get(i.row_id, "") if i.is_file else i.row_id) for i in items]
        owners = row_context.owners(session, keys)
    return [
        replace(
            item,
            person_name=owners[key].person_name,
            case_number=owners[key].case_number,
            case_id=owners[key].case_id,
            place=owners[key].place,
            named_in=owners[key].named_in,
        )
        for item, key in zip(items, keys, strict=True)
    ]


# --- talking to the server ----------------------------------------------------------------


# How far this device's clock may be from the server's before the app says so. Edits are
# ordered by the device's clock (HLC stamps): one set years ahead wins every concurrent
# edit, and a Windows laptop set to Thai time in the UTC zone is seven hours ahead.
CLOCK_TOLERANCE_S = 300.0


@dataclass(frozen=True)
class Probe:
    """Whether the server answered, how long it asked us to wait if it is busy, and how
    far this device's clock is from the server's (seconds; positive: the device is
    behind), when it answered."""

    reachable: bool
    retry_after: float | None = None
    busy: bool = False
    clock_offset: float | None = None
    # why the server cannot be used when a person must look (a stored sync error, as
    # :func:`reason_text` reads it): an untrusted certificate is not a dropped link
    error: str | None = None
    # what a sync would send again, the server having been restored (change values' bytes)
    resend_bytes: int = 0
    # the server's address refused the connection: the server is down, the network is up
    refused: bool = False


def probe(
    store: Store,
    http_factory: HttpFactory = quick_http,
    *,
    clock: Callable[[], float] = time.time,
) -> Probe:
    """One cheap ``GET /v1/info``: no token, a few hundred bytes."""
    url = server_address(store)
    if not url:
        raise UserError("sync.not_registered")
    http = http_factory(url)
    try:
        sent = clock()
        client = SyncClient(http, url)
        info = client.info()
        received = clock()
    except UntrustedServer as exc:
        return Probe(reachable=False, error=f"unreachable: {exc}")
    except ServerUnreachable as exc:
        return Probe(reachable=False, refused=exc.refused)
    except SyncHttpError as exc:
        if exc.retryable:
            return Probe(reachable=False, retry_after=exc.retry_after, busy=True)
        return Probe(reachable=True)  # it answered; the sync itself will report the error
    finally:
        close_http(http)
    return Probe(
        reachable=True,
        clock_offset=_offset(info.server_time, (sent + received) / 2),
        resend_bytes=core.resend_bytes(store, client),
    )


def _offset(server_time: str, local: float) -> float | None:
    """Server time minus this device's, at the middle of the request; None if unreadable."""
    try:
        moment = dt.datetime.fromisoformat(server_time)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.timestamp() - local


def clock_is_off(offset: float | None) -> bool:
    """True when the device's clock is far enough from the server's to say so."""
    return offset is not None and abs(offset) > CLOCK_TOLERANCE_S


@contextmanager
def device_session(
    store: Store, http_factory: HttpFactory, secrets: SecretStore | None = None
) -> Iterator[SyncClient]:
    """A client speaking for this registered device (its token from the keyring) over an
    HTTP client from ``http_factory``, closed afterwards; not registered: a UserError."""
    url = core.server_url(store)
    token = core.device_token(store, secrets)
    if not url or not token:
        raise UserError("sync.not_registered")
    http = http_factory(url)
    try:
        yield SyncClient(http, url, token, expected_log=core.server_log(store))
    finally:
        close_http(http)


def _no_sleep(_seconds: float) -> None:
    raise AssertionError("the app's sync never sleeps: max_retries is 0")  # pragma: no cover


def run_sync(
    store: Store,
    http_factory: HttpFactory = default_http,
    *,
    on_progress: Callable[[str, int, int], None] | None = None,
    now: Callable[[], dt.datetime] | None = None,
    secrets: SecretStore | None = None,
    retries: int = 0,
    refused_first: bool = False,
) -> core.SyncSummary:
    """One sync, for the app's worker and ``sapan sync`` alike; on success the time is
    kept as ``last_sync_at`` (UTC, ISO 8601), which the status bar and the Sync page show.

    ``retries``: how often a request is tried again after a dropped link or a busy server,
    waiting as it says (the app's worker passes 0: it keeps its own backoff, and a sync
    must not sleep on its thread); ``refused_first``: the refused changes go back in line
    first (``sapan sync --retry-failed``; the Sync page's Retry is :func:`retry_failed`).
    """
    with device_session(store, http_factory, secrets) as client:
        service = core.SyncService(
            store,
            client,
            max_retries=retries,
            sleep=time.sleep if retries else _no_sleep,
            on_progress=on_progress,
            secrets=secrets,
        )
        if refused_first:
            service.retry_failed()
        summary = service.sync()
    if summary.ok:
        when = (now or _utcnow)()
        store.set_setting(LAST_SYNC_KEY, when.isoformat(timespec="seconds"))
    return summary


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def register(
    store: Store,
    url: str,
    username: str,
    password: str,
    device_name: str,
    http_factory: HttpFactory = default_http,
    secrets: SecretStore | None = None,
    *,
    other_server: bool = False,
) -> RegisterResponse:
    """Register this device; returns the server's answer (device id, account). Bad input,
    plain ``http://`` to a server beyond the local network, and every refusal are a
    UserError; a device registered with another server's log needs ``other_server``
    (:func:`desktop.services.sync.register_device`)."""
    url = checked_server_url(url)
    if not username.strip() or not password:
        raise UserError("sync.bad_credentials")
    http = http_factory(url)
    try:
        answer = core.register_device(
            store,
            SyncClient(http, url),
            url,
            username.strip(),
            password,
            device_name,
            secrets,
            other_server=other_server,
        )
    finally:
        close_http(http)
    store.set_setting(SERVER_SETTING, url)
    return answer


def checked_server_url(typed: str) -> str:
    """A typed server address as it is kept, or a UserError before anything is sent or
    saved: malformed (:func:`_server_url`), or plain ``http://`` to a server beyond the
    local network (:func:`on_local_network`)."""
    url = _server_url(typed)
    if url.startswith("http://") and not on_local_network(url):
        raise UserError("sync.plain_http", url=url)
    return url


def _server_url(typed: str) -> str:
    """A typed server address, checked before any request: ``http(s)://host[:port][/path]``
    with a host and a port that can be (a malformed one reached httpx as a trace), and no
    user name or password in it (those would be shown back in every message)."""
    url = typed.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        _port = parts.port  # a malformed or out-of-range port is a ValueError
    except ValueError:
        raise UserError("sync.bad_server_url", url=url) from None
    if parts.username is not None or parts.password is not None:
        raise UserError("sync.server_url_credentials")  # not echoed: it holds a password
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError("sync.bad_server_url", url=url)
    return url


# Names that only resolve inside a network (RFC 6762, RFC 8375, and the usual router ones).
_LOCAL_SUFFIXES = (".local", ".lan", ".home.arpa", ".internal", ".localdomain")


def on_local_network(url: str) -> bool:
    """True when ``url``'s host can only be inside the local network: this computer, a
    private or link-local address, a name without dots (``http://sapan-server``) or under a
    local-only suffix. Plain ``http://`` is accepted for those alone: anything else would
    carry passports, bank accounts and the device token unencrypted across the internet."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host == "localhost" or "." not in host or host.endswith(_LOCAL_SUFFIXES)
    return address.is_loopback or address.is_private or address.is_link_local


class _NoNetwork:
    """An HTTP client for calls that never touch the network (retrying is local)."""

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        raise ServerUnreachable("no network needed")  # pragma: no cover

    def stream(self, method: str, url: str, **kwargs: Any) -> Any:
        raise ServerUnreachable("no network needed")  # pragma: no cover


def offline_http() -> HttpClient:
    """An HTTP client for work that never touches the network (it refuses every call)."""
    return _NoNetwork()


def retry_failed(store: Store) -> int:
    """Put every refused change back in line; the next sync sends them again."""
    return core.SyncService(store, SyncClient(offline_http())).retry_failed()


def set_metered(store: Store, metered: bool, limit_kb: int) -> None:
    """Whether the link is metered, and above how many KB the worker asks first."""
    if limit_kb < 0:
        raise UserError("sync.bad_metered_limit", limit=limit_kb)
    store.set_setting(METERED_KEY, bool(metered))
    store.set_setting(METERED_LIMIT_KEY, int(limit_kb))


def needs_confirmation(view: SyncOverview, resend_bytes: int = 0) -> bool:
    """On a metered link, a sync moving more than the limit asks the person first
    (``resend_bytes``: what it would send again to a restored server, :class:`Probe`)."""
    return view.metered and view.bytes_known + resend_bytes > view.metered_limit_kb * 1024
