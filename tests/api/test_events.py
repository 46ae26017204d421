"""GET /applications/{id}/events: Server-Sent Events against a real uvicorn on 127.0.0.1.

Changes are made through the in-process TestClient (or another server); the stream is read
over a socket, since httpx's ASGI transport buffers whole responses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from jiuzhutong.service.events import HUB

from .conftest import create_draft
from .live import live_server, sse


@pytest.fixture
def server(backend) -> Iterator[str]:
    settings = backend.settings
    old = settings.sse_keepalive_seconds
    settings.sse_keepalive_seconds = 0.3  # short, so a test sees comments without waiting
    try:
        with live_server(settings, backend.services) as url:
            yield url
    finally:
        settings.sse_keepalive_seconds = old


@pytest.fixture
def draft(backend, clerk, people):
    return create_draft(backend, clerk, people.adult(), name="赵一鸣")


def events_url(server: str, d: dict) -> str:
    return f"{server}/applications/{d['id']}/events"


def make_link(backend, clerk, d) -> dict:
    r = backend.client.post(
        f"/applications/{d['id']}/persons/{d['applicant']['id']}/link", headers=clerk.h
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_stream_headers_and_live_event(backend, server, clerk, draft):
    with sse(events_url(server, draft), clerk.h) as stream:
        assert stream.status == 200
        assert stream.response_headers["content-type"].startswith("text/event-stream")
        assert stream.response_headers["x-accel-buffering"] == "no"
        assert "no-cache" in stream.response_headers["cache-control"]
        t0 = time.perf_counter()
        make_link(backend, clerk, draft)
        e = stream.next(2.0, event="authorization")
        assert e.at - t0 < 1.0
        assert e.id == str(e.data["seq"]) and e.data["application_id"] == draft["id"]
        assert e.data["type"] == "authorization"
        assert e.data["data"]["state"] == "待授权" and e.data["data"]["method"] == "远程授权"
        assert e.data["data"]["person_id"] == draft["applicant"]["id"]


def test_last_event_id_replays_what_was_missed(backend, server, clerk, draft):
    for _ in range(3):
        make_link(backend, clerk, draft)
    board = backend.client.get(f"/applications/{draft['id']}/authorizations", headers=clerk.h)
    last = board.json()["last_event_seq"]
    assert last == 3
    with sse(events_url(server, draft), clerk.h | {"Last-Event-ID": "1"}) as stream:
        assert [stream.next().id, stream.next().id] == ["2", "3"]
        make_link(backend, clerk, draft)
        assert stream.next().id == "4"
    with sse(events_url(server, draft), clerk.h) as stream:  # no Last-Event-ID: from the start
        assert [stream.next().id for _ in range(4)] == ["1", "2", "3", "4"]


def test_keep_alive_comments(backend, server, clerk, draft):
    with sse(events_url(server, draft), clerk.h) as stream:
        comment, _ = stream.comments.get(timeout=2.0)
        assert comment == "keep-alive"


def test_stream_needs_login_and_scope(backend, server, clerk_102, draft):
    with sse(events_url(server, draft), {}) as stream:
        assert stream.status == 401
    with sse(events_url(server, draft), clerk_102.h) as stream:
        assert stream.status == 404


def test_disconnect_ends_the_stream(backend, server, clerk, draft):
    stream = sse(events_url(server, draft), clerk.h)
    stream.__enter__()
    deadline = time.monotonic() + 2
    while HUB.listeners(draft["id"]) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert HUB.listeners(draft["id"]) == 1
    stream.__exit__(None, None, None)
    deadline = time.monotonic() + 3
    while HUB.listeners(draft["id"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert HUB.listeners(draft["id"]) == 0


def test_deleted_draft_has_no_stream(backend, server, clerk, draft):
    r = backend.client.delete(f"/applications/{draft['id']}", headers=clerk.h | {"If-Match": '"1"'})
    assert r.status_code == 204, r.text
    with sse(events_url(server, draft), clerk.h) as stream:
        assert stream.status == 404
