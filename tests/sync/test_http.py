"""sync.client.http: what the client does with answers it cannot read."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest

from sync import protocol as p
from sync.client.http import ServerUnreachable, SyncClient, SyncHttpError


class _Answer:
    def __init__(self, content: bytes) -> None:
        self.status_code = 200
        self.headers: dict[str, str] = {}
        self.content = content
        self.num_bytes_downloaded = len(content)

    def json(self) -> Any:
        return json.loads(self.content)


class _Server:
    """Answers every request with the same body, and remembers what was asked."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.asked: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> _Answer:
        self.asked.append({"method": method, "url": url, **kwargs})
        return _Answer(self.content)


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"v":3,"since":0,"cursor":1,"more":false,"rows":[["person",null,1,{},null]],'
        b'"merges":[],"conflicts":[]}',
        b'{"since":0,"cursor":1,"more":false,"rows":[{"entity":"person"}],'
        b'"merges":[],"conflicts":[]}',
    ],
)
def test_an_unreadable_pull_page_is_a_protocol_error_not_a_crash(content: bytes) -> None:
    client = SyncClient(_Server(content), token="t")
    with pytest.raises(SyncHttpError) as refused:
        client.pull(0, 10, 3)
    assert (refused.value.status, refused.value.errno) == (502, p.Errno.INTERNAL)


def test_pull_asks_for_form_3_only_when_told() -> None:
    body = b'{"since":0,"cursor":0,"more":false,"rows":[],"merges":[],"conflicts":[]}'
    server = _Server(body)
    client = SyncClient(server, token="t")
    client.pull(0, 10)
    client.pull(0, 10, 3)
    assert [asked["params"] for asked in server.asked] == [
        {"since": 0, "limit": 10},
        {"since": 0, "limit": 10, "form": 3},
    ]


PORTAL = b"<html><body>Your data package has run out. Top up to continue.</body></html>"


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda c: c.info(), "GET /info"),
        (lambda c: c.me(), "GET /me"),
        (lambda c: c.push_batch(b"{}"), "POST /push"),
        (lambda c: c.pull(0, 10, 5), "GET /pull"),
        (lambda c: c.conflicts(), "GET /conflicts"),
    ],
)
def test_a_login_page_answering_in_the_servers_place_is_a_retryable_bad_gateway(
    call: Any, what: str
) -> None:
    """Mobile operators and hotel Wi-Fi answer every request with 200 and an HTML page
    (no credit, log in first): that is not the server and must not crash the sync."""
    client = SyncClient(_Server(PORTAL), token="t")
    with pytest.raises(SyncHttpError) as refused:
        call(client)
    assert (refused.value.status, refused.value.errno) == (502, p.Errno.INTERNAL)
    assert refused.value.retryable
    assert what in refused.value.message
    assert "login page" in refused.value.message


def test_json_of_the_wrong_shape_is_unreadable_too() -> None:
    client = SyncClient(_Server(b'[{"id": 1}]'), token="t")
    with pytest.raises(SyncHttpError) as refused:
        client.conflicts()
    assert refused.value.retryable


def test_a_prepared_push_body_is_sent_as_it_was_compressed_then(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The push prepares its next batch while the server works: the request sends the
    gzip made then, the same bytes a body compressed on the way would be, and does not
    compress it again; the prepared body still reads as its JSON."""
    answer = b'{"v":2,"results":[]}'
    body = b'{"v":3,"changes":[' + b",".join([b'[null,"person",null,"*",{},0,[1,0]]'] * 40) + b"]}"
    server = _Server(answer)
    client = SyncClient(server, token="t")
    client.push_batch(body)
    prepared = client.prepare(body)
    assert prepared == body
    assert json.loads(prepared) == json.loads(body)
    monkeypatch.setattr(gzip, "compress", lambda *_a, **_k: pytest.fail("compressed again"))
    client.push_batch(prepared)
    on_the_way, sent = server.asked
    assert sent["content"] == on_the_way["content"] != body
    assert gzip.decompress(sent["content"]) == body
    assert sent["headers"]["Content-Encoding"] == "gzip"
    small = client.prepare(b'{"v":3,"changes":[]}')  # too small to be worth compressing
    client.push_batch(small)
    assert server.asked[-1]["content"] == small
    assert "Content-Encoding" not in server.asked[-1]["headers"]


@pytest.mark.parametrize(
    ("ancestors", "log", "expected"),
    [
        (None, "parent", 40),  # the parent: its head then
        (None, "grandparent", None),  # not named: another log
        ("grandparent 25, first 30", "grandparent", 25),  # the lowest head on the way
        ("grandparent 90, first 30", "first", 30),
        ("grandparent 90, first 30", "grandparent", 40),
        ("grandparent 25 7", "grandparent", None),  # garbled: only the parent is known
        ("grandparent ٢٥", "grandparent", None),  # digits, not ASCII ones
        ("grandparent 25,", "grandparent", 25),
    ],
)
def test_a_log_continued_after_restores_names_how_far_it_holds_an_older_one(
    ancestors: str | None, log: str, expected: int | None
) -> None:
    """``X-Sapan-Parent-Log``/``-Head`` and ``X-Sapan-Ancestors`` as ``GET /v1/info``
    sends them after one restore or more: a device of ``log`` goes on from the head
    the client works out, or registers again (None)."""
    server = _Server(
        p.ServerInfo(server_time="2026-11-25T07:00:00+07:00").model_dump_json().encode()
    )
    answer = _Answer(server.content)
    answer.headers = {p.PARENT_LOG_HEADER: "parent", p.PARENT_HEAD_HEADER: "40"}
    if ancestors is not None:
        answer.headers[p.ANCESTORS_HEADER] = ancestors
    server.request = lambda method, url, **kwargs: answer  # type: ignore[method-assign]
    client = SyncClient(server)
    client.info()
    assert client.continued_head(log) == expected


class _ClosedOnce(_Server):
    """Answers as :class:`_Server`, but the first request of each method goes out on a
    kept-alive connection the other end had closed."""

    def __init__(self, content: bytes, error: type[Exception]) -> None:
        super().__init__(content)
        self.error = error
        self.failed: set[str] = set()

    def request(self, method: str, url: str, **kwargs: Any) -> _Answer:
        if method not in self.failed:
            self.failed.add(method)
            self.asked.append({"method": method, "url": url, "failed": True})
            raise self.error("Server disconnected without sending a response.")
        return super().request(method, url, **kwargs)


EMPTY_PAGE = b'{"since":0,"cursor":0,"more":false,"rows":[],"merges":[],"conflicts":[]}'


@pytest.mark.parametrize("error", [httpx.RemoteProtocolError, httpx.WriteError])
def test_a_read_sent_on_a_connection_the_server_had_closed_is_asked_again_once(
    error: type[Exception],
) -> None:
    """On a 2G link a pull page was still arriving when the server's keep-alive ran out:
    the next pull went out on the closed connection and the sync stopped as if the link
    had dropped, one page a sync (a field tester's proxy, 8 kB/s). A read is asked again."""
    server = _ClosedOnce(EMPTY_PAGE, error)
    client = SyncClient(server, token="t")

    page = client.pull(0, 10)

    assert page.cursor == 0
    assert [a["method"] for a in server.asked] == ["GET", "GET"]


def test_a_write_on_a_closed_connection_is_not_sent_twice_by_the_client() -> None:
    """A push or a merge may have arrived: the sync (or the coordinator) decides, as
    before; only reads are asked again here."""
    server = _ClosedOnce(b"{}", httpx.RemoteProtocolError)
    client = SyncClient(server, token="t")
    with pytest.raises(ServerUnreachable):
        client.push_batch(b"{}")
    assert [a["method"] for a in server.asked] == ["POST"]


def test_a_timeout_is_not_asked_again() -> None:
    server = _ClosedOnce(EMPTY_PAGE, httpx.ReadTimeout)
    with pytest.raises(ServerUnreachable):
        SyncClient(server, token="t").pull(0, 10)
    assert len(server.asked) == 1


def test_a_connection_refused_by_the_servers_address_is_told_from_no_link() -> None:
    """Nothing listens on the port (the server is down, this machine's network works):
    the refusal is kept on the error; a connection that was never made is not."""
    from tests.postgres import free_port

    with httpx.Client() as http:
        client = SyncClient(http, f"http://127.0.0.1:{free_port()}")
        with pytest.raises(ServerUnreachable) as down:
            client.info()
    assert down.value.refused
    offline = SyncClient(_ClosedOnce(EMPTY_PAGE, httpx.ConnectError), token="t")
    with pytest.raises(ServerUnreachable) as unreachable:
        offline.pull(0, 10)
    assert not unreachable.value.refused
