"""economic_check_ms_8_members: the economic check of the eight_member household, via the API.

    .venv/bin/python bench/economic.py [--runs 9] [--postgres]

``measure_economic_check()`` is what bench/authorization.py's main() calls; run alone, this
file prints its result as one JSON object.

Set-up (untimed): a fresh SQLite database (or PostgreSQL jzt_bench_<random>, dropped after),
the app on a real uvicorn in this process (the settings of ``jiuzhutong serve``), simulated
sources with latency 0, a clerk of 420116, the eight_member scenario household (三代同堂八口之家)
entered through the API, everyone 已授权 (本机授权 through the API when its routes are
mounted). Timed, ``runs`` times on the same draft: from sending POST
/applications/{id}/economic-check until the run's ``economic.done`` event arrives on the
already open SSE stream GET /applications/{id}/events (or, when that route is not mounted,
until the run has committed its result, observed in the service). The value is the median.
Targets are reported, never asserted.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn

TARGET_MS = 300.0
SCENARIO = "eight_member"
REGION = "420116"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log(msg: str) -> None:
    print(f"[economic] {msg}", file=sys.stderr, flush=True)


class _Server:
    def __init__(self, app: Any) -> None:
        from jiuzhutong.server.run import uvicorn_config

        self.port = _free_port()
        self.server = uvicorn.Server(uvicorn_config(app, "127.0.0.1", self.port, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        deadline = time.monotonic() + 2  # let a closed event stream end on its own
        while self.server.server_state.connections and time.monotonic() < deadline:
            time.sleep(0.02)
        self.server.should_exit = True
        self.thread.join(10)


def _staff_token(services: Any, client: httpx.Client) -> str:
    from jiuzhutong.security import hash_password
    from jiuzhutong.store.records import StaffRecord

    password = secrets.token_urlsafe(12)
    username = f"bench.clerk.{secrets.token_hex(3)}"
    record = StaffRecord(
        id=str(uuid.uuid4()),
        username=username,
        display_name="基准测试",
        role="clerk",
        region=REGION,
        can_reveal=False,
        active=True,
        created_at=services.clock.now(),
        password_hash=hash_password(password),
    )
    with services.store.write() as tx:
        tx.staff.insert(record)
    r = client.post(
        "/auth/login",
        json={"username": username, "password": password, "counter_id": "bench-1"},
    )
    r.raise_for_status()
    return r.json()["token"]


def _enter_household(client: httpx.Client) -> dict:
    """The scenario household through the API; returns the last DraftOut."""
    from jiuzhutong.providers.scenarios import default_book

    household = default_book().household(SCENARIO)
    applicant, *members = household.persons
    ids: dict[str, str] = {}

    def details(p: Any) -> dict:
        d = p.details.model_dump(mode="json", exclude_none=True)
        if "guardian_member_id" in d:
            d["guardian_member_id"] = ids[d["guardian_member_id"]]
        return d

    r = client.post(
        "/applications",
        json={"name": applicant.name, "id_number": applicant.id_number, "mode": "本人申请"},
    )
    r.raise_for_status()
    draft = r.json()
    ids[applicant.ref] = draft["applicant"]["id"]
    r = client.patch(
        f"/applications/{draft['id']}",
        json={"details": details(applicant) | {"phone": "13900002222"}},
        headers={"If-Match": f'"{draft["version"]}"'},
    )
    r.raise_for_status()
    draft = r.json()
    for p in members:
        r = client.post(
            f"/applications/{draft['id']}/members",
            json={
                "name": p.name,
                "id_number": p.id_number,
                "relation": p.relation.value,
                "details": details(p),
            },
            headers={"If-Match": f'"{draft["version"]}"'},
        )
        if r.status_code != 201:
            raise RuntimeError(f"adding {p.ref} failed: {r.status_code} {r.text[:300]}")
        draft = r.json()
        ids[p.ref] = draft["members"][-1]["id"]
    return draft


def _has_route(app: Any, suffix: str) -> bool:
    return any(path.endswith(suffix) for path in app.openapi()["paths"])


def _authorize_api(client: httpx.Client, draft: dict) -> None:
    """本机授权 of everyone: the clerk's in-person ID check, then the counter signature."""
    for p in [draft["applicant"], *draft["members"]]:
        base = f"/applications/{draft['id']}/persons/{p['id']}/local"
        r = client.post(f"{base}/identity", json={"check": "现场核验身份证"})
        if r.status_code != 200:
            raise RuntimeError(f"identity: {r.status_code} {r.text[:300]}")
        r = client.post(f"{base}/signature", json={})
        if r.status_code != 200:
            raise RuntimeError(f"signature: {r.status_code} {r.text[:300]}")


def _authorize(app: Any, services: Any, client: httpx.Client, draft: dict) -> str:
    persons = [draft["applicant"], *draft["members"]]
    if _has_route(app, "/local/identity"):
        _authorize_api(client, draft)
        return "api"
    from jiuzhutong.contract.authorization import AuthState
    from jiuzhutong.store.authorization import AuthorizationRecord

    with services.store.write() as tx:
        for p in persons:
            tx.authorizations.insert(
                AuthorizationRecord(
                    person_id=p["id"],
                    application_id=draft["id"],
                    state=AuthState.authorized.value,
                    method="本机授权",
                    identity_check="现场核验身份证",
                    reason=None,
                    signer_person_id=None,
                    verified_by_staff_id=None,
                    document_id=None,
                    document_sha256=None,
                    updated_at=services.clock.now(),
                )
            )
    return "store"


class _DoneWatcher:
    """Reads the SSE stream on a thread; ``wait(run_id)`` returns when its economic.done came.

    A plain socket rather than an HTTP client: ``close`` can then shut it down from another
    thread, so the server sees the client go and ends the stream before it stops.
    """

    def __init__(self, base_url: str, token: str, draft_id: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self._sock = socket.create_connection((host, int(port)), timeout=30)
        self._sock.sendall(
            (
                f"GET /applications/{draft_id}/events HTTP/1.1\r\nHost: {host}\r\n"
                f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        self._sock.settimeout(None)
        self._done: dict[str, float] = {}
        self._cond = threading.Condition()
        self._stop = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the event stream did not open")

    def _read(self) -> None:
        try:
            self._lines()
        except OSError as exc:  # shut down by close(), or the server went away
            if not self._stop:
                _log(f"event stream ended: {type(exc).__name__}")

    def _lines(self) -> None:
        f = self._sock.makefile("rb")
        status = f.readline().decode()
        if " 200 " not in status:
            raise RuntimeError(f"event stream: {status.strip()}")
        self._ready.set()
        event = None
        for raw in f:  # chunked framing lines are skipped: they match neither prefix
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "economic.done":
                data = json.loads(line.split(":", 1)[1])
                run_id = data.get("data", {}).get("run_id")
                with self._cond:
                    self._done[run_id] = time.perf_counter()
                    self._cond.notify_all()

    def wait(self, run_id: str, timeout: float = 30) -> float:
        with self._cond:
            if not self._cond.wait_for(lambda: run_id in self._done, timeout):
                raise RuntimeError(f"no economic.done for run {run_id}")
            return self._done[run_id]

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._sock.close()


def _timed_runs(
    client: httpx.Client, base_url: str, draft: dict, runs: int, warmup: int, wait_fallback: Any
) -> tuple[list[float], str]:
    """(ms per run, end signal): POST economic-check → its economic.done on the SSE stream."""
    watcher = None
    if wait_fallback is None or _has_paths(client, "/events"):
        token = client.headers["Authorization"].removeprefix("Bearer ")
        watcher = _DoneWatcher(base_url, token, draft["id"])
    samples: list[float] = []
    try:
        for i in range(warmup + runs):
            t0 = time.perf_counter()
            r = client.post(f"/applications/{draft['id']}/economic-check")
            if r.status_code != 202:
                raise RuntimeError(f"economic-check: {r.status_code} {r.text[:300]}")
            if watcher is not None:
                t1 = watcher.wait(r.json()["run_id"])
            else:
                wait_fallback(draft["id"])
                t1 = time.perf_counter()
            if i >= warmup:
                samples.append((t1 - t0) * 1000)
    finally:
        if watcher is not None:
            watcher.close()
    return samples, "sse economic.done" if watcher is not None else "result committed (service)"


def _has_paths(client: httpx.Client, suffix: str) -> bool:
    paths = client.get("/openapi.json").json()["paths"]
    return any(path.endswith(suffix) for path in paths)


def _result(
    samples: list[float], status: dict, draft: dict, backend: str, end: str, authorized: str
) -> dict[str, Any]:
    median = statistics.median(samples)
    return {
        "economic_check_ms_8_members": round(median, 1),
        "economic_check": {
            "backend": backend,
            "scenario": SCENARIO,
            "persons": 1 + len(draft["members"]),
            "sources": len(status["sources"]),
            "items": len(status["items"]),
            "complete": status["complete"],
            "reference": status["reference"],
            "runs": len(samples),
            "samples_ms": [round(x, 1) for x in samples],
            "min_ms": round(min(samples), 1),
            "max_ms": round(max(samples), 1),
            "end_signal": end,
            "authorized_via": authorized,
            "latency_s": 0.0,
            "target_ms": TARGET_MS,
            "meets_target": median < TARGET_MS,
        },
    }


def measure_economic_check(
    args: Any = None,
    server: Any = None,
    *,
    runs: int = 9,
    warmup: int = 2,
    backend: str = "sqlite",
) -> dict[str, Any]:
    """{"economic_check_ms_8_members": median ms, "economic_check": {...}}.

    With ``server`` (bench/authorization.py's running ``jiuzhutong serve``: ``url``, ``token``
    of an admin, ``db_url``) it measures against that process, authorizing through the API;
    ``args.economic_runs`` overrides ``runs`` there. Without, it starts its own database and
    in-process uvicorn (see the module docstring).
    """
    runs = getattr(args, "economic_runs", None) or runs
    if server is not None:
        _log(f"economic check: {runs} runs (+{warmup} warm-up) against {server.url}")
        with httpx.Client(base_url=server.url, timeout=30) as client:
            client.headers["Authorization"] = f"Bearer {server.token}"
            draft = _enter_household(client)
            _authorize_api(client, draft)
            samples, end = _timed_runs(client, server.url, draft, runs, warmup, None)
            status = client.get(f"/applications/{draft['id']}/economic-status").json()
        kind = server.db_url.split(":", 1)[0].split("+", 1)[0]
        return _result(samples, status, draft, kind, end, "api")
    return _measure_in_process(runs, warmup, backend)


def _measure_in_process(runs: int, warmup: int, backend: str) -> dict[str, Any]:
    import sqlalchemy as sa

    from jiuzhutong.server import create_app
    from jiuzhutong.service import build_services
    from jiuzhutong.settings import Settings, new_key

    tmp = Path(tempfile.mkdtemp(prefix="jzt-bench-economic-"))
    pg_name = None
    if backend == "postgres":
        pg_name = f"jzt_bench_{secrets.token_hex(4)}"
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{pg_name}"'))
        admin.dispose()
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{pg_name}"
    else:
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        encryption_key=new_key(),
        hmac_key=new_key(),
        economic_latency_s=0.0,
        log_level="WARNING",
    )
    services = build_services(settings)
    try:
        app = create_app(settings, services=services, migrate=True)
        with _Server(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as client:
            client.headers["Authorization"] = f"Bearer {_staff_token(services, client)}"
            _log(f"economic check: {runs} runs (+{warmup} warm-up), {backend}, in process")
            draft = _enter_household(client)
            authorized = _authorize(app, services, client, draft)
            samples, end = _timed_runs(
                client,
                base_url,
                draft,
                runs,
                warmup,
                lambda draft_id: services.economic.wait(draft_id, 30),
            )
            status = client.get(f"/applications/{draft['id']}/economic-status").json()
    finally:
        services.close()
        if pg_name:
            admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()
    return _result(samples, status, draft, backend, end, authorized)


def main(argv: list[str] | None = None) -> None:
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--postgres", action="store_true")
    args = p.parse_args(argv)
    out = measure_economic_check(runs=args.runs, backend="postgres" if args.postgres else "sqlite")
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
