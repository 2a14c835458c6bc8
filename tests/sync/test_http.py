"""sync.client.http: what the client does with answers it cannot read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sync import protocol as p
from sync.client.http import SyncClient, SyncHttpError


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
