"""PostgreSQL LISTEN/NOTIFY: a change through one server process reaches an SSE client of
another. Two `jiuzhutong serve` processes (uvicorn) on one PostgreSQL database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from .conftest import PASSWORD, insert_staff
from .live import free_port, sse

pytestmark = pytest.mark.postgres_only


def _serve(backend, port: int, data_dir) -> subprocess.Popen:
    enc, mac = backend.settings.encryption_key, backend.settings.hmac_key
    env = os.environ | {
        "JZT_DATABASE_URL": backend.url,
        "JZT_ENCRYPTION_KEY": enc.get_secret_value(),
        "JZT_HMAC_KEY": mac.get_secret_value(),
        "JZT_DATA_DIR": str(data_dir),
        "JZT_LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "jiuzhutong", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_up(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode()[-2000:] if proc.stderr else "exited")
        try:
            if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@pytest.fixture
def two_servers(backend, tmp_path) -> Iterator[tuple[str, str]]:
    procs, urls = [], []
    try:
        for name in ("a", "b"):
            port = free_port()
            procs.append(_serve(backend, port, tmp_path / name))
            urls.append(f"http://127.0.0.1:{port}")
        for url, proc in zip(urls, procs, strict=True):
            _wait_up(url, proc)
        yield urls[0], urls[1]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_change_via_a_reaches_a_client_of_b(backend, two_servers, people):
    a, b = two_servers
    username = insert_staff(backend, role="clerk", region="420106")
    login = httpx.post(f"{a}/auth/login", json={"username": username, "password": PASSWORD})
    assert login.status_code == 200, login.text
    h = {"Authorization": f"Bearer {login.json()['token']}"}
    body = {"name": "钱多多", "id_number": people.adult(), "mode": "本人申请"}
    draft = httpx.post(f"{a}/applications", json=body, headers=h).json()

    with sse(f"{b}/applications/{draft['id']}/events", h) as stream:
        assert stream.status == 200
        t0 = time.perf_counter()
        r = httpx.post(
            f"{a}/applications/{draft['id']}/persons/{draft['applicant']['id']}/link", headers=h
        )
        assert r.status_code == 201, r.text
        e = stream.next(3.0, event="authorization")
        assert e.at - t0 < 1.0
        assert e.data["data"]["state"] == "待授权" and e.data["seq"] == 1
        # and a local authorization through A, seen on B as 已授权
        pid = draft["applicant"]["id"]
        base = f"{a}/applications/{draft['id']}/persons/{pid}/local"
        httpx.post(f"{base}/identity", json={"check": "现场核验身份证"}, headers=h)
        httpx.post(f"{base}/signature", json={}, headers=h)
        done = stream.wait_for(lambda ev: ev.data["data"].get("state") == "已授权", 3.0)
        assert done.id == str(done.data["seq"])
