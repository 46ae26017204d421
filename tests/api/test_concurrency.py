"""Two clients PATCH the same draft from the same version at the same moment, over a real
uvicorn server: exactly one wins, the other gets 412, and the winner's value is stored."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn

from jiuzhutong.server.run import uvicorn_config

from .conftest import create_draft

ROUNDS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_url(backend):
    port = free_port()
    # the backend's own app and store; lifespan off so stopping the server closes nothing
    config = uvicorn_config(backend.client.app, "127.0.0.1", port, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def race(clients, url: str, version: int, values: list[str]) -> list[tuple[str, httpx.Response]]:
    """Both clients PATCH from ``version`` at once (a barrier releases them together)."""
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def patch(i: int) -> None:
        barrier.wait()
        r = clients[i].patch(url, json={"step": values[i]}, headers={"If-Match": f'"{version}"'})
        results[i] = (values[i], r)

    threads = [threading.Thread(target=patch, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    return results


def test_concurrent_patches_one_wins(backend, clerk, people, server_url, log_capture):
    start = len(log_capture.lines)
    d = create_draft(backend, clerk, people.adult())
    url = f"/applications/{d['id']}"
    clients = [httpx.Client(base_url=server_url, headers=clerk.h, timeout=10) for _ in range(2)]
    try:
        for c in clients:  # connections open before the race, so both start at once
            assert c.get("/healthz").status_code == 200
        version = 1
        for round_no in range(ROUNDS):
            values = [f"r{round_no}-c{i}" for i in range(2)]
            results = race(clients, url, version, values)
            statuses = sorted(r.status_code for _, r in results)
            assert statuses == [200, 412], [r.text for _, r in results]
            winner = next(v for v, r in results if r.status_code == 200)
            loser = next(r for _, r in results if r.status_code == 412)
            assert loser.json()["detail"][0]["code"] == "stale_version"
            version += 1
            stored = clients[0].get(url).json()
            assert stored["version"] == version and stored["step"] == winner
        # the real server's access log went through the suite's log capture too
        access = [line for line in log_capture.lines[start:] if line.startswith("uvicorn.access")]
        assert len(access) >= 2 * ROUNDS
    finally:
        for c in clients:
            c.close()


def test_store_compare_and_set_refuses_a_stale_writer(backend, clerk, people):
    """The version check is in the UPDATE itself, not only in the read before it."""
    from datetime import UTC, datetime

    from jiuzhutong.store.errors import VersionConflict

    d = create_draft(backend, clerk, people.adult())
    store = backend.services.store
    now = datetime.now(UTC)
    with store.write() as tx:
        assert tx.drafts.bump_version(d["id"], 1, now) == 2
    with pytest.raises(VersionConflict) as info, store.write() as tx:
        tx.drafts.bump_version(d["id"], 1, now)
    assert info.value.current_version == 2


@pytest.mark.postgres_only
def test_postgres_concurrent_transactions_one_wins(backend, clerk, people):
    """Two transactions in flight at once on PostgreSQL (no in-process lock there): both
    read version 1, both try to write it; the row lock plus the WHERE version = 1 lets one.
    (On SQLite whole write transactions queue on the writer lock, so the case can't arise.)"""
    from datetime import UTC, datetime

    from jiuzhutong.store.errors import VersionConflict

    d = create_draft(backend, clerk, people.adult())
    store = backend.services.store
    barrier = threading.Barrier(2)
    outcome: list[str] = []

    def writer() -> None:
        try:
            with store.write() as tx:
                assert tx.drafts.get(d["id"]).version == 1
                barrier.wait()
                tx.drafts.bump_version(d["id"], 1, datetime.now(UTC))
                time.sleep(0.05)  # hold the row lock while the other one waits on it
            outcome.append("won")
        except VersionConflict:
            outcome.append("conflict")

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(outcome) == ["conflict", "won"]
