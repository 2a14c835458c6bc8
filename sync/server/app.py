"""The ASGI application: routes of protocol v1, error mapping, compression, audit.

The process keeps nothing between requests except the engine's connection pool and a
clock for server-made stamps, so several processes can serve one PostgreSQL database.
Build it with :func:`create_app`; ``sapan serve`` runs it under uvicorn.
"""

from __future__ import annotations

import email.message
import json
import logging
import os
import re
import traceback
import zlib
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

from argon2 import PasswordHasher
from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json, to_json
from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from desktop.domain.catalogue import CANONICAL_ID
from desktop.domain.gc_tuning import tune_gc
from desktop.domain.hlc import HybridClock
from sync import protocol as p
from sync.protocol import Errno
from sync.server import ingest, uploads
from sync.server.auth import (
    MAX_CASE_BLOCK,
    Caller,
    authenticate,
    case_block,
    make_hasher,
    now_iso,
    register_device,
    rotate_token,
)
from sync.server.db import (
    attachment_offices,
    attachments,
    audit,
    make_engine,
    read_counter,
    read_log_id,
)
from sync.server.errors import ApiError
from sync.server.migrate import upgrade

log = logging.getLogger("sapan.server")

# The status the audit records for a request whose client went away before its body had
# all arrived (a dropped link): nginx's "client closed request". Nothing was stored; the
# device sends it again. No client ever reads it.
CLIENT_GONE = 499

# How long a connection may stay open without a request (uvicorn's default is 5 s, counted
# from when the answer was written: on a 2G link a laptop still receiving a pull page
# then sent its next request on a connection the server had closed, which read as a
# dropped link). Keeping idle connections this long costs a file descriptor each.
KEEP_ALIVE_SECONDS = 75


@dataclass
class Settings:
    """What a server process needs; everything else lives in the database."""

    db_url: str = "sapan-server.db"
    max_batch: int = p.MAX_BATCH
    max_body_bytes: int = p.MAX_BODY_BYTES
    cheap_hashing: bool = False  # tests only
    migrate: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class _Context:
    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.hasher: PasswordHasher = make_hasher(settings.cheap_hashing)
        self.clock = HybridClock(ingest.SERVER_DEVICE)
        # read once: a new id (``sapan server new-log``) is made with the servers stopped
        with engine.connect().execution_options(sync_readonly=True) as conn:
            self.lineage = read_log_id(conn)


def _error_response(error: ApiError, log_id: str) -> JSONResponse:
    headers = {p.PROTOCOL_HEADER: str(p.PROTOCOL_VERSION), p.LOG_HEADER: log_id}
    if error.errno in (Errno.SERVICE_BUSY, Errno.SIGN_IN_LOCKED):
        headers["Retry-After"] = str(error.details.get("retry_after", 2))
    elif error.errno is Errno.RANGE_NOT_SATISFIABLE:
        headers["Content-Range"] = f"bytes */{error.details.get('size', 0)}"
    return JSONResponse(error.body().model_dump(), status_code=error.status, headers=headers)


def _log_bug(request: Request, exc: BaseException) -> None:
    """A server bug in the log: the request's method and path, and :func:`bug_text`."""
    log.error("unhandled error on %s %s\n%s", request.method, request.url.path, bug_text(exc))


def bug_text(exc: BaseException) -> str:
    """Where a bug happened, as the server's log keeps it: each exception of the chain by
    its kind and frames (and a failed statement by its SQL, whose values are never
    bound into it), never a message: a database's refusal quotes the row it refused,
    and a request's values are people's data (as the app's crash reports, README)."""
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(parts) < 5:
        statement = getattr(current, "statement", None)
        kind = type(current).__qualname__ + (f" in: {statement}" if statement else "")
        parts.append(f"{kind}\n{''.join(traceback.format_tb(current.__traceback__))}")
        current = current.__cause__  # what it was raised from (a driver's error)
    return "caused by ".join(parts).rstrip()


def _busy_error(exc: OperationalError) -> ApiError:
    """The answer to a database that cannot be reached or is locked: busy, retry soon."""
    log.warning("database unavailable: %s", type(exc.orig).__name__)
    return ApiError(503, Errno.SERVICE_BUSY, "the server is busy, retry later", retry_after=2)


class BodyTooLarge(HTTPException):
    """A streamed body passed the limit while the app read it (answered 413, errno 106).

    An HTTPException, so FastAPI's body reading passes it on instead of turning it into
    a 400 "error parsing the body"; the handler in :func:`create_app` renders it.
    """

    def __init__(self) -> None:
        super().__init__(413, "request body too large")


class RequestLimits:
    """ASGI middleware: refuse oversized bodies and inflate gzip-compressed requests."""

    def __init__(self, app: ASGIApp, max_bytes: int, log_id: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.log_id = log_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        encoding = headers.get(b"content-encoding", b"identity").lower()
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, send, 413, Errno.BATCH_TOO_LARGE, "request body too large")
            return
        if encoding in (b"identity", b""):
            await self.app(scope, self._counted(receive), send)
            return
        if encoding != b"gzip":
            await self._refuse(scope, send, 415, Errno.BAD_ENCODING, "unsupported encoding")
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientDisconnect()
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(scope, send, 413, Errno.BATCH_TOO_LARGE, "request too large")
                return
            if not message.get("more_body", False):
                break
        inflater = zlib.decompressobj(wbits=31)
        try:
            plain = inflater.decompress(bytes(body), self.max_bytes + 1)
        except zlib.error:
            await self._refuse(scope, send, 400, Errno.BAD_ENCODING, "body is not valid gzip")
            return
        if len(plain) > self.max_bytes or inflater.unconsumed_tail:
            await self._refuse(scope, send, 413, Errno.BATCH_TOO_LARGE, "request too large")
            return
        if not inflater.eof:
            await self._refuse(scope, send, 400, Errno.BAD_ENCODING, "gzip body is truncated")
            return
        if inflater.unused_data:
            # a second member or garbage after the first: refused, never silently dropped
            await self._refuse(scope, send, 400, Errno.BAD_ENCODING, "data after the gzip body")
            return
        new_headers = [
            (k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")
        ]
        new_headers.append((b"content-length", str(len(plain)).encode()))
        # in place, not a copy: the router notes the matched route in this scope, and the
        # audit record (an outer middleware holding the same dict) names it
        scope["headers"] = new_headers
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": plain, "more_body": False}

        await self.app(scope, replay, send)

    def _counted(self, receive: Receive) -> Receive:
        """``receive`` counting body bytes: past the limit, :class:`BodyTooLarge`.

        A body without Content-Length (``Transfer-Encoding: chunked``) is not refused
        up front; this stops it as soon as it passes the limit, whoever reads it, instead
        of buffering all of it first.
        """
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge()
            return message

        return counted

    async def _refuse(self, scope: Scope, send: Send, status: int, errno: Errno, msg: str) -> None:
        response = _error_response(ApiError(status, errno, msg), self.log_id)
        await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def parse_json(raw: bytes) -> Any:
    """A JSON body decoded as the push's fast path decodes it (pydantic-core's jiter).

    ``json.loads`` is laxer: it reads UTF-16 and UTF-32 and skips a UTF-8 BOM, takes
    lone surrogates (which cannot be encoded again), NaN and Infinity (not JSON), and
    recurses without bound (RecursionError, a 500). Every failure here is a
    ``json.JSONDecodeError``, which FastAPI and :func:`push_body` answer with errno 100.
    """
    try:
        return from_json(raw, allow_inf_nan=False)
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc), "", 0) from None


class _StrictJsonRequest(Request):
    """A request whose JSON body is read by :func:`parse_json`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """The route class of every endpoint: FastAPI reads JSON bodies with :func:`parse_json`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(_StrictJsonRequest(request.scope, request.receive))

        return strict


# Requests that carry a body are authenticated before it is read (``_authenticated_first``
# in ``create_app``), except these, which need no token.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
OPEN = frozenset({("POST", f"{p.PREFIX}/devices")})


def caller_dep(request: Request) -> Caller:
    """The authenticated caller of a request (FastAPI dependency): the one found before
    its body was read, else looked up now."""
    found: Caller | None = getattr(request.state, "caller", None)
    if found is not None:
        return found
    ctx: _Context = request.app.state.ctx
    with ctx.engine.connect().execution_options(sync_readonly=True) as conn:
        found = authenticate(conn, request.headers.get("authorization"))
    request.state.caller = found
    return found


CallerDep = Annotated[Caller, Depends(caller_dep)]

# Sequence numbers are 64-bit signed integers in the database (BIGINT): a larger one in a
# query parameter is refused as a bad request instead of failing the query.
MAX_SEQ = 2**63 - 1
# A pull form (docs/sync-protocol.md §6); a merge or an undo takes one too, for the record
# it answers with (§7).
PullForm = Annotated[int, Query(ge=min(p.PULL_FORMS), le=max(p.PULL_FORMS))]
# The highest case-number block a device holds numbers of (POST /devices/case-block).
CaseBlockAbove = Annotated[int, Query(ge=0, le=MAX_CASE_BLOCK)]

# Either push form. FastAPI would build Python objects with json.loads and validate
# them against the union, which first tries (and fails) the version 1 form change by
# change; push_body validates a version 2 body from its bytes in one pass instead.
_PUSH_BODY: TypeAdapter[p.PushRequest | p.PushBatch] = TypeAdapter(p.PushRequest | p.PushBatch)


def _is_json(content_type: str | None) -> bool:
    """Whether FastAPI would read a body of this content type as JSON (strict mode)."""
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def push_body(request: Request) -> p.PushRequest | p.PushBatch:
    """The push body of either form (FastAPI dependency), refused as FastAPI would refuse it.

    Same outcomes as a declared body parameter: no body is a missing body, a body that
    is not declared JSON is validated as raw bytes (and so does not fit), invalid JSON is
    ``json_invalid``; every error location starts with ``body``.
    """
    raw = await request.body()
    if not raw:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    if not _is_json(request.headers.get("content-type")):
        return _judge_body(raw)  # validated as bytes, so refused as not fitting, as before
    try:
        # the version 2 form alone: validating against the union first tries the
        # version 1 form, which fails change by change before the batch is tried
        return p.PushBatch.model_validate_json(raw)
    except ValidationError as exc:
        _refuse_changes(exc)
    # A version 1 body, or a refusal: judged as FastAPI judges it, so the outcome and
    # the errors stay the same (version 1 bodies are rare: older devices only). The same
    # parser as the fast path, so what that refuses as JSON is refused here too.
    try:
        data = parse_json(raw)
    except json.JSONDecodeError:  # not JSON, not UTF-8, too deep, NaN, lone surrogate
        invalid = {"type": "json_invalid", "loc": ("body", 0), "msg": "JSON decode error"}
        raise RequestValidationError([invalid | {"input": {}}]) from None
    return _judge_body(data)


def _refuse_changes(exc: ValidationError) -> None:
    """Refuse a version 2 batch whose changes alone do not fit the form (an id not in
    canonical text, a ``base_version`` that is not an integer, a stamp past 9999), naming
    them as a value's refusal does (``index``, ``indexes``): the device sets them aside
    and sends the rest, where a refusal naming no change would stop its every push.

    Anything else (the body not a batch, ``v`` wrong, not JSON) returns: it is judged as
    FastAPI judges it."""
    errors = exc.errors(include_url=False)
    at = {_change_at(e["loc"]) for e in errors}
    if not errors or None in at:  # an error outside the changes
        return
    indexes = sorted(i for i in at if i is not None)
    first = errors[0]
    position = first["loc"][2] if len(first["loc"]) > 2 else None
    part = _WIRE_PARTS[position] if isinstance(position, int) else "change"
    raise ApiError(
        400,
        Errno.INVALID_PAYLOAD,
        f"change {indexes[0]}: {part}: {first['msg']}",
        errors=[{"loc": ["body", *e["loc"]], "type": e["type"]} for e in errors[:20]],
        index=indexes[0],
        indexes=indexes,
    )


# what each position of a version 2 change (p.WireChange) holds, for a refusal's message
_WIRE_PARTS = ("change_id", "entity", "row_id", "field", "value", "base_version", "hlc")


def _change_at(loc: tuple[int | str, ...]) -> int | None:
    """The batch position of a change an error location (``changes``, i, …) is in."""
    if len(loc) > 1 and loc[0] == "changes" and isinstance(loc[1], int):
        return loc[1]
    return None


def _judge_body(data: Any) -> p.PushRequest | p.PushBatch:
    """Validate a decoded body as FastAPI does, raising its RequestValidationError."""
    try:
        return _PUSH_BODY.validate_python(data, from_attributes=True)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in errors]
        ) from None


def _push_body_openapi() -> tuple[dict[str, Any], dict[str, Any]]:
    """The OpenAPI of a route declaring the push body, and its models, made by FastAPI."""
    shadow = FastAPI()

    @shadow.post("/push")
    def described(body: p.PushRequest | p.PushBatch) -> None:
        """Only described, never served."""

    spec = shadow.openapi()
    operation = spec["paths"]["/push"]["post"]
    extra = {
        "requestBody": operation["requestBody"],
        "responses": {"422": operation["responses"]["422"]},
    }
    return extra, spec["components"]["schemas"]


PushBody = Annotated[p.PushRequest | p.PushBatch, Depends(push_body)]


WORKER_DB_ENV = "SAPAN_SERVER_DB"  # the database of ``worker_app`` processes


def worker_app() -> FastAPI:
    """The app of one of several server processes (``sapan serve --workers N``).

    uvicorn starts each worker in a fresh interpreter and builds its app by calling this
    factory there, with the database URL in the environment. The parent process has
    migrated the database already, so the workers do not race to migrate it. Each worker
    tunes its own collector once its app is built.
    """
    app = create_app(Settings(db_url=os.environ[WORKER_DB_ENV], migrate=False))
    tune_gc()
    return app


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """The server application over ``settings.db_url`` (or a ready ``engine``)."""
    settings = settings or Settings()
    engine = engine or make_engine(settings.db_url)
    if settings.migrate:
        upgrade(engine)
    ctx = _Context(settings, engine)
    app = FastAPI(
        title="Sapan sync server",
        version=str(p.PROTOCOL_VERSION),
        description="Field-level sync of Sapan case files. See docs/sync-protocol.md.",
        openapi_url=f"{p.PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.router.route_class = StrictJsonRoute  # before any route is added
    app.state.ctx = ctx
    app.add_middleware(GZipMiddleware, minimum_size=512)
    app.add_middleware(RequestLimits, max_bytes=settings.max_body_bytes, log_id=ctx.lineage.log)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        request.state.errno = int(exc.errno)
        audited = getattr(request.state, "audit", None)
        if "locked" in exc.details and audited is not None:  # whose wait: account or address
            audited["locked"] = exc.details["locked"]
        return _error_response(exc, ctx.lineage.log)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            error = ApiError(400, Errno.MALFORMED_JSON, "the body is not valid JSON")
        else:
            # locations and reasons only: the offending input may hold personal data
            where = [{"loc": list(e.get("loc", ())), "type": e.get("type")} for e in errors[:20]]
            error = ApiError(400, Errno.INVALID_PAYLOAD, "the request does not fit", errors=where)
        request.state.errno = int(error.errno)
        return _error_response(error, ctx.lineage.log)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        # Starlette's and FastAPI's own refusals (no route, a method the route does not
        # serve, a streamed body past the limit) in the error body like every other
        error = _http_error(exc)
        request.state.errno = int(error.errno)
        response = _error_response(error, ctx.lineage.log)
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        # anything unforeseen outside the audit middleware (which answers its own): the
        # error body with errno 999, where it happened in the log. Starlette then raises
        # the exception again for the server to see; the client already has its answer.
        _log_bug(request, exc)
        return _error_response(
            ApiError(500, Errno.INTERNAL, "internal server error"), ctx.lineage.log
        )

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> JSONResponse:
        error = _busy_error(exc)
        request.state.errno = int(error.errno)
        return _error_response(error, ctx.lineage.log)

    def _body_route(scope: Scope) -> str | None:
        """The path of the route a request with a body goes to (``None``: no body, or an
        unknown path or method, left to the router, which answers 404 or 405). Found
        before the body is read, so the audit names it even when the link drops while a
        compressed body is still arriving (inflated before the router sees it)."""
        if scope["method"] not in BODY_METHODS:
            return None
        for route in app.router.routes:
            if route.matches(scope)[0] is Match.FULL:
                return str(getattr(route, "path", ""))
        return None

    def _authenticated_first(request: Request) -> Response | None:
        """Authenticate a request with a body before anything reads the body: the caller
        goes into ``request.state`` (``caller_dep`` takes it from there), a refusal is
        answered and audited here, so a client without a valid token never has its body
        read, inflated or parsed."""
        try:
            caller_dep(request)  # keeps the caller in request.state
            return None
        except ApiError as exc:
            error = exc
        except OperationalError as exc:
            error = _busy_error(exc)
        request.state.errno = int(error.errno)
        _write_audit(request, error.status)
        return _error_response(error, ctx.lineage.log)

    @app.middleware("http")
    async def _audit(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request.state.audit = {}
        request.state.route = path = _body_route(request.scope)
        if path is not None and (request.method, path) not in OPEN:
            refused = await run_in_threadpool(_authenticated_first, request)
            if refused is not None:
                return refused
        try:
            response = await call_next(request)
        except ClientDisconnect:
            # the link dropped while the body was on its way: an everyday event on a 2G
            # link, not a bug; every route reads its whole body before it stores anything
            log.info("the client went away during %s %s", request.method, request.url.path)
            await run_in_threadpool(_write_audit, request, CLIENT_GONE)
            return Response(status_code=CLIENT_GONE)
        except Exception as exc:
            # A bug: answered here, 500 errno 999, where it happened in the log and the
            # audit. Not raised on: Starlette would hand it to uvicorn, whose log prints
            # its message, and a database's refusal quotes the row it refused.
            _log_bug(request, exc)
            request.state.errno = int(Errno.INTERNAL)
            await run_in_threadpool(_write_audit, request, 500)
            return _error_response(
                ApiError(500, Errno.INTERNAL, "internal server error"), ctx.lineage.log
            )
        response.headers[p.PROTOCOL_HEADER] = str(p.PROTOCOL_VERSION)
        response.headers[p.LOG_HEADER] = ctx.lineage.log
        # In a worker thread, as every database call: on SQLite the record waits for the
        # write lock while a push holds it, and here, on the event loop, it held up every
        # connection meanwhile, a bare GET /v1/info and uvicorn's own answers included.
        await run_in_threadpool(_write_audit, request, response.status_code)
        return response

    def _write_audit(request: Request, status: int) -> None:
        """One audit record of a request: who, which route, status, errno, counts."""
        route = getattr(request.scope.get("route"), "path", None) or request.state.route
        caller: Caller | None = getattr(request.state, "caller", None)
        detail = dict(request.state.audit)
        errno = getattr(request.state, "errno", None)
        if errno is not None:
            detail["errno"] = errno
        try:
            with engine.begin() as conn:
                conn.execute(
                    audit.insert().values(
                        at=now_iso(),
                        account=caller.username if caller else None,
                        device_id=caller.device_id if caller else None,
                        method=request.method[:8],
                        route=(route or "(no route)")[:120],
                        status=status,
                        detail=json.dumps(detail, sort_keys=True),
                    )
                )
        except OperationalError:
            log.error("could not write the audit record")

    @app.get(f"{p.PREFIX}/info", response_model=p.ServerInfo)
    def info(response: Response) -> p.ServerInfo:
        """Protocol version and limits; no token needed. The log's head goes in a header
        (``X-Sapan-Head``): a device past it stops before it sends anything; so does the log
        this one continues, with its head then, after ``sapan server new-log``."""
        with engine.connect().execution_options(sync_readonly=True) as conn:
            response.headers[p.HEAD_HEADER] = str(read_counter(conn))
        response.headers[p.FEATURES_HEADER] = ", ".join(p.FEATURES)
        if ctx.lineage.parent is not None and ctx.lineage.parent_head is not None:
            response.headers[p.PARENT_LOG_HEADER] = ctx.lineage.parent
            response.headers[p.PARENT_HEAD_HEADER] = str(ctx.lineage.parent_head)
        if ctx.lineage.ancestors:
            response.headers[p.ANCESTORS_HEADER] = ", ".join(
                f"{log} {head}" for log, head in ctx.lineage.ancestors
            )
        return p.ServerInfo(
            max_batch=settings.max_batch,
            max_body_bytes=settings.max_body_bytes,
            server_time=now_iso(),
        )

    @app.post(f"{p.PREFIX}/devices", response_model=p.RegisterResponse, status_code=201)
    def register(
        body: p.RegisterRequest, request: Request, response: Response
    ) -> p.RegisterResponse:
        """Register this device for an account; the token is shown only here. The
        account's scope version goes in a header (``X-Sapan-Scope``): the device's first
        pull goes under it."""
        # the peer's address; behind a reverse proxy the ASGI server takes the one its
        # X-Forwarded-For names, from the proxies it trusts (docs/server-operations.md)
        address = request.client.host if request.client else None
        device_id, token, caller = register_device(
            engine, ctx.hasher, body.username, body.password, body.device_name, address
        )
        request.state.caller = caller
        response.headers[p.SCOPE_HEADER] = str(caller.scope_version)
        return p.RegisterResponse(device_id=device_id, token=token, account=caller.account())

    @app.post(f"{p.PREFIX}/devices/rotate", response_model=p.RegisterResponse)
    def rotate(caller: CallerDep) -> p.RegisterResponse:
        """Replace this device's token; the old one is refused from now on."""
        token = rotate_token(engine, caller)
        return p.RegisterResponse(device_id=caller.device_id, token=token, account=caller.account())

    @app.post(f"{p.PREFIX}/devices/case-block", response_model=p.CaseBlock)
    def device_case_block(caller: CallerDep, above: CaseBlockAbove = 0) -> p.CaseBlock:
        """This device's block of case numbers, reserved on the first call past ``above``,
        the highest block in the case numbers the device already holds."""
        return p.CaseBlock(case_block=case_block(engine, caller, above))

    @app.get(f"{p.PREFIX}/me", response_model=p.Account)
    def me(caller: CallerDep) -> p.Account:
        return caller.account()

    push_extra, push_models = _push_body_openapi()

    # the body is read by push_body (one pass); FastAPI's description of it is kept
    @app.post(
        f"{p.PREFIX}/push",
        response_model=p.PushResponse | p.PushBatchResponse,
        openapi_extra=push_extra,
    )
    def push(caller: CallerDep, body: PushBody, request: Request) -> p.PushResponse | Response:
        """Apply a batch of changes atomically; idempotent by change id.

        Either form is accepted: version 1 objects, or the version 2 batch of arrays
        (answered with arrays in the batch's order).
        """
        if len(body.changes) > settings.max_batch:
            raise ApiError(
                413, Errno.BATCH_TOO_LARGE, "too many changes", max_batch=settings.max_batch
            )
        try:
            edits = p.edits_of(body, caller.device_id)
        except p.BadChange as exc:
            raise ApiError(400, Errno.INVALID_PAYLOAD, str(exc), index=exc.index) from None
        results = ingest.push(engine, ctx.clock, caller, edits)
        counts: dict[p.PushStatus, int] = {}
        for result in results:  # by member, not .value: an enum property is slow on 3.11
            counts[result.status] = counts.get(result.status, 0) + 1
        by_status = {status.value: count for status, count in counts.items()}
        request.state.audit = {"changes": len(body.changes), **by_status}
        if isinstance(body, p.PushBatch):
            # the JSON of a PushBatchResponse, written directly: FastAPI would build the
            # model, dump it, validate it again and encode it (about 5 % of a bulk push).
            # Each status as its text (str() of a StrEnum member): pydantic-core encodes an
            # enum member through Python, 0.7 µs a change, ten times the plain text.
            answer = {
                "v": 2,
                "results": [(str(r.status), r.seq, r.errno, r.conflict_id) for r in results],
            }
            return Response(to_json(answer), media_type="application/json")
        return p.PushResponse(results=[p.PushResult(**r._asdict()) for r in results])

    @app.get(f"{p.PREFIX}/pull", response_model=p.PullPage)
    def pull(
        caller: CallerDep,
        request: Request,
        since: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
        limit: Annotated[int, Query(ge=1, le=p.MAX_PAGE)] = p.DEFAULT_PAGE,
        form: PullForm = 2,
        scope: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
        offices: Annotated[str | None, Query(max_length=4000)] = None,
        until: Annotated[int | None, Query(ge=0, le=MAX_SEQ)] = None,
    ) -> Response:
        """The log after ``since`` within the caller's scope, grouped by row (a PullPage,
        the schema given here; with ``form=3`` a CompactPullPage, with ``form=4`` a
        CompactPullPage4 naming the creators of the rows it creates, with ``form=5`` a
        CompactPullPage5 whose stamps may be differences, with ``form=6`` a
        CompactPullPage6 whose merge records list the rows each merge moved, with
        ``form=7`` a CompactPullPage7 naming the log's head: rows as arrays, described in
        docs/sync-protocol.md §6, not here).

        ``scope``: the scope version the device last pulled under; another one than the
        account's is refused with errno 123 and the account's offices (a ScopeChanged).
        ``offices`` (comma-separated, within the scope) and ``until`` (a seq) narrow the
        page, for the catch-up on offices the account gained."""
        if scope is not None and scope != caller.scope_version:
            changed = p.ScopeChanged(
                scope=caller.scope_version,
                offices=caller.account().offices,
                all_offices=caller.all_offices,
            )
            raise ApiError(
                409, Errno.SCOPE_CHANGED, "the account's offices changed", **changed.model_dump()
            )
        only = None
        if offices is not None:
            only = frozenset(o for o in offices.split(",") if o)
            if not only or not all(caller.may(o) for o in only):
                raise ApiError(403, Errno.OUT_OF_SCOPE, "an office outside your scope")
        page = ingest.pull(engine, caller, since, limit, form, only=only, until=until)
        request.state.audit = {"rows": page.rows, "since": since, "cursor": page.cursor}
        # already JSON of the response model (see ingest.pull)
        return Response(page.body, media_type="application/json")

    # A merge record is written without null members: ``moved`` only for a caller that asks
    # for form 6 or later, since devices before it refuse a record with a key they do not know.
    @app.post(
        f"{p.PREFIX}/merges",
        response_model=p.MergeRecord,
        response_model_exclude_none=True,
        status_code=201,
    )
    def merge(body: p.MergeRequest, caller: CallerDep, form: PullForm = 2) -> p.MergeRecord:
        """Merge person or case B (source) into A (target); ``form`` 6 or later: the
        record lists the rows the merge moved (docs/sync-protocol.md §7)."""
        return ingest.merge(engine, ctx.clock, caller, body, form)

    @app.post(
        f"{p.PREFIX}/merges/{{merge_id}}/undo",
        response_model=p.MergeRecord,
        response_model_exclude_none=True,
    )
    def undo(merge_id: str, caller: CallerDep, form: PullForm = 2) -> p.MergeRecord:
        merge_id = _known_id(merge_id, "merge")
        return ingest.undo_merge(engine, ctx.clock, caller, merge_id, form)

    @app.get(f"{p.PREFIX}/conflicts", response_model=list[p.ConflictRecord])
    def conflicts(
        caller: CallerDep, status: p.ConflictStatus | None = None
    ) -> list[p.ConflictRecord]:
        return ingest.list_conflicts(engine, caller, status)

    @app.post(f"{p.PREFIX}/conflicts/{{conflict_id}}/resolve", response_model=p.ConflictRecord)
    def resolve(conflict_id: str, body: p.ResolveRequest, caller: CallerDep) -> p.ConflictRecord:
        return ingest.resolve_conflict(
            engine, ctx.clock, caller, _known_id(conflict_id, "conflict"), body.choice == "flip"
        )

    _attachment_routes(app, ctx)

    def openapi() -> dict[str, Any]:
        """FastAPI's description plus the push body's models (see ``push_body``), with
        the errors as they are answered: the protocol's error body (``ErrorBody``) for
        every 4xx and 5xx, not FastAPI's ``422`` validation answer, which is never sent."""
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            found = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model in push_models.items():
                found.setdefault(name, model)
            found["ErrorBody"] = p.ErrorBody.model_json_schema()
            for name in ("HTTPValidationError", "ValidationError"):
                found.pop(name, None)
            error = {
                "description": "the error body of docs/sync-protocol.md §2; react to errno",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                },
            }
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    answers = operation.setdefault("responses", {})
                    answers.pop("422", None)
                    answers["4XX"] = answers["5XX"] = error
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _http_error(exc: HTTPException) -> ApiError:
    """The :class:`ApiError` answering one of Starlette's or FastAPI's HTTPExceptions."""
    if exc.status_code == 404:
        return ApiError(404, Errno.NOT_FOUND, "no such path")
    if exc.status_code == 405:
        return ApiError(405, Errno.METHOD_NOT_ALLOWED, "method not allowed on this path")
    if exc.status_code == 413:
        return ApiError(413, Errno.BATCH_TOO_LARGE, "request body too large")
    if 400 <= exc.status_code < 500:
        return ApiError(exc.status_code, Errno.INVALID_PAYLOAD, "the request does not fit")
    return ApiError(500, Errno.INTERNAL, "internal server error")


def _known_id(text: str, kind: str) -> str:
    """``text`` if it could be the id of a merge or conflict (canonical UUID text).

    Anything else names nothing: answered 404 before a query, so text a database
    refuses (NUL on PostgreSQL) or cannot hold never reaches one.
    """
    if CANONICAL_ID.fullmatch(text) is None:
        raise ApiError(404, Errno.NOT_FOUND, f"no such {kind}")
    return text


def _check_name(sha256: str) -> str:
    if not p.SHA256_RE.match(sha256):
        raise ApiError(400, Errno.BAD_ATTACHMENT_NAME, "attachments are named by SHA-256 hex")
    return sha256


def _attachment_routes(app: FastAPI, ctx: _Context) -> None:
    engine = ctx.engine

    @app.post(f"{p.PREFIX}/attachments/start", response_model=p.UploadStatus)
    def start(body: p.UploadStart, caller: CallerDep) -> p.UploadStatus:
        """Begin (or resume) an upload; the answer lists chunks already stored.

        The upload belongs to the caller's account; another account's unfinished upload
        of the same hash is taken over or refused (``403``), see ``sync.server.uploads``.
        """
        _check_name(body.sha256)
        if body.size > p.MAX_ATTACHMENT_BYTES:
            raise ApiError(413, Errno.ATTACHMENT_TOO_LARGE, "attachment too large")
        return uploads.start(engine, caller, body)

    @app.put(f"{p.PREFIX}/attachments/chunk", response_model=p.UploadStatus)
    async def chunk(
        request: Request,
        caller: CallerDep,
        sha256: Annotated[str, Query(max_length=200)],
        index: Annotated[int, Query(ge=0, lt=p.MAX_CHUNKS)],
    ) -> p.UploadStatus:
        """Store chunk ``index`` (raw bytes in the body, ``chunk_size`` long but the last)
        of an upload the caller's account started."""
        _check_name(sha256)
        data = await request.body()
        # off the event loop: the write waits for the upload's row lock
        return await run_in_threadpool(uploads.write_chunk, engine, caller, sha256, index, data)

    @app.get(f"{p.PREFIX}/attachments/status", response_model=p.UploadStatus)
    def upload_status(
        caller: CallerDep, sha256: Annotated[str, Query(max_length=200)]
    ) -> p.UploadStatus:
        return uploads.status(engine, _check_name(sha256))

    @app.post(f"{p.PREFIX}/attachments/verify", response_model=p.UploadStatus)
    def verify(body: p.UploadVerify, caller: CallerDep) -> p.UploadStatus:
        """Check the stored chunks against the name; a mismatch discards them all."""
        return uploads.verify(engine, caller, _check_name(body.sha256))

    @app.get(f"{p.PREFIX}/attachments/content")
    def content(
        caller: CallerDep,
        sha256: Annotated[str, Query(max_length=200)],
        range_header: Annotated[str | None, Header(alias="Range", max_length=200)] = None,
    ) -> Response:
        """The verified bytes, for callers whose scope holds an attachment row with this hash.

        A ``Range: bytes=N-`` header (or ``N-M``, ``-N``) gets ``206`` with that part only,
        so a device resumes a cut download where it stopped. The body is streamed one
        stored chunk at a time, each read on its own short connection: a 200 MB scan is
        never held in memory, and a slow 2G download holds no database connection.
        """
        _check_name(sha256)
        with engine.connect().execution_options(sync_readonly=True) as conn:
            row = conn.execute(select(attachments).where(attachments.c.sha256 == sha256)).first()
            if row is None or not row.complete:
                raise ApiError(404, Errno.NOT_FOUND, "no such attachment")
            if row.account_id != caller.account_id and not _in_scope(conn, caller, sha256):
                raise ApiError(403, Errno.OUT_OF_SCOPE, "attachment outside your scope")
        size, chunk_size = int(row.size), int(row.chunk_size)
        headers = {"Accept-Ranges": "bytes", "ETag": f'"{sha256}"'}
        part = byte_range(range_header, size)
        status = 200
        first, last = 0, size - 1
        if part is not None:
            first, last = part
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        headers["Content-Length"] = str(last - first + 1)

        def body() -> Iterator[bytes]:
            for idx in range(first // chunk_size, last // chunk_size + 1) if size else ():
                with engine.connect().execution_options(sync_readonly=True) as conn:
                    data = conn.execute(uploads.CHUNK, {"sha256": sha256, "idx": idx}).scalar_one()
                start = idx * chunk_size
                yield bytes(data[max(first - start, 0) : last - start + 1])

        return StreamingResponse(
            body(), status_code=status, headers=headers, media_type="application/octet-stream"
        )


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header asks for, or None to send everything.

    One range of bytes is served (RFC 9110 §14): ``N-``, ``N-M`` and the suffix ``-N``.
    A header this server does not serve (several ranges, other units, garbage) is
    ignored, as the RFC allows: the answer is the whole blob. A range that starts past
    the end gets ``416`` with the size, so the device can start again.
    """
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    match = _RANGE_RE.fullmatch(spec.strip())
    if unit.strip().lower() != "bytes" or match is None:
        return None
    first_text, last_text = match.groups()
    if not first_text and not last_text:
        return None
    if not first_text:  # suffix: the last N bytes
        if int(last_text) == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(size - int(last_text), 0), size - 1
    first = int(first_text)
    last = size - 1 if not last_text else min(int(last_text), size - 1)
    if last_text and int(last_text) < first:
        return None  # an invalid range is ignored (RFC 9110 §14.1.1)
    if first >= size:
        raise _unsatisfiable(size)
    return first, last


_RANGE_RE = re.compile(r"(\d{0,18})-(\d{0,18})")


def _unsatisfiable(size: int) -> ApiError:
    return ApiError(416, Errno.RANGE_NOT_SATISFIABLE, "the range starts past the end", size=size)


def _in_scope(conn: Any, caller: Caller, sha256: str) -> bool:
    """True when an attachment row naming this hash was ever logged to one of the caller's
    offices (``attachment_offices``, kept by the ingest: one key lookup)."""
    if caller.all_offices:
        return True
    offices = conn.execute(
        select(attachment_offices.c.office).where(attachment_offices.c.sha256 == sha256)
    ).scalars()
    return any(caller.may(office) for office in offices)
