"""Benchmark of issue 3's live paths: phone-page submit → SSE event, and the page's size.

    .venv/bin/python bench/authorization.py                 # SQLite, 50 submits
    .venv/bin/python bench/authorization.py --submits 200
    .venv/bin/python bench/authorization.py --postgres     # a fresh PostgreSQL database

Prints ONE JSON object on stdout (progress on stderr). ``main()`` runs every function in
``MEASUREMENTS`` and merges the dicts they return; add a measurement by appending a function
``(args, server) -> dict`` (``server`` is the running ``Server``: url, admin token, database).

Measured (loopback, the server in its own process as `jiuzhutong serve` runs it):
- ``sse_latency_p50_ms`` / ``sse_latency_p99_ms``: from just before the phone page's
  ``POST /r/{token}`` is sent to the arrival of the ``已授权`` event at an SSE client of the
  counter already listening on that application (target p99 < 100 ms);
- ``phone_page_bytes``: the body of ``GET /r/{token}`` (target < 100,000).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from economic import TARGET_MS as ECONOMIC_TARGET_MS  # noqa: E402
from economic import measure_economic_check  # noqa: E402
from procs import free_port, log  # noqa: E402

PYTHON = sys.executable
HOST = "127.0.0.1"
ADMIN = ("bench.authz", "bench-authz-password-1")
SIGNATURE = "M 10 10 L 50 60 L 90 20 M 120 40 L 160 80 L 200 30"
NONCE_RE = re.compile(r'data-nonce="([^"]+)"')
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TARGETS = {
    "sse_latency_p99_ms": 100.0,
    "phone_page_bytes": 100_000,
    "economic_check_ms_8_members": ECONOMIC_TARGET_MS,
}


@dataclass
class Server:
    url: str
    token: str  # an admin of 42 (all Hubei)
    db_url: str
    proc: subprocess.Popen

    @property
    def h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JZT_")}
    env |= {"JZT_DATA_DIR": str(data_dir), "JZT_LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    env.setdefault("PYTHONPATH", str(ROOT / "src"))
    return env


def _jzt(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    proc = subprocess.run(
        [PYTHON, "-m", "jiuzhutong", *args],
        input=stdin.encode() if stdin else None,
        capture_output=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError((proc.stdout + proc.stderr).decode(errors="replace")[-2000:])


def start_server(db_url: str, data_dir: Path) -> Server:
    env = _env(data_dir)
    _jzt(["migrate", "--db", db_url], env)
    _jzt(
        ["create-staff", "--db", db_url, "--username", ADMIN[0], "--display-name", "基准管理员",
         "--role", "admin", "--region", "42", "--password-stdin"],
        env,
        stdin=ADMIN[1] + "\n",
    )  # fmt: skip
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "jiuzhutong", "serve", "--host", HOST, "--port", str(port),
         "--db", db_url],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode(errors="replace")[-2000:])
        try:
            if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.1)
    r = httpx.post(f"{url}/auth/login", json={"username": ADMIN[0], "password": ADMIN[1]})
    r.raise_for_status()
    return Server(url, r.json()["token"], db_url, proc)


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()


def _id_number(i: int) -> str:
    """A distinct valid number per ``i`` (a fresh database per run)."""
    from jiuzhutong.domain.idnumber import make_id_number

    return make_id_number("420106", date(1960, 1, 1) + timedelta(days=i % 15000), i // 15000 + 50)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


async def _one_submit(client: httpx.AsyncClient, server: Server, i: int) -> tuple[float, int]:
    """Draft, link, page; SSE listening; submit. (submit → 已授权 seconds, page bytes)."""
    body = {"name": "基准申请人", "id_number": _id_number(i), "mode": "本人申请"}
    r = await client.post("/applications", json=body, headers=server.h)
    if r.status_code != 201:
        raise RuntimeError(f"POST /applications → {r.status_code}: {r.text[:300]}")
    draft = r.json()
    pid = draft["applicant"]["id"]
    r = await client.post(f"/applications/{draft['id']}/persons/{pid}/link", headers=server.h)
    r.raise_for_status()
    token = r.json()["short_code"]
    page = await client.get(f"/r/{token}")
    page.raise_for_status()
    nonce = NONCE_RE.search(page.text)
    assert nonce, "no nonce on the page"

    connected = asyncio.Event()
    arrived: list[float] = []

    async def listen() -> None:
        async with (
            httpx.AsyncClient(base_url=server.url, timeout=30) as sse,
            sse.stream("GET", f"/applications/{draft['id']}/events", headers=server.h) as stream,
        ):
            connected.set()
            async for line in stream.aiter_lines():
                if line.startswith("data:") and '"已授权"' in line:
                    arrived.append(time.perf_counter())
                    return

    task = asyncio.create_task(listen())
    await connected.wait()
    await asyncio.sleep(0.02)  # the replay of the earlier events is through
    post = {"nonce": nonce.group(1), "face_consent": True, "face_result": "pass",
            "signature_svg_path": SIGNATURE}  # fmt: skip
    t0 = time.perf_counter()
    r = await client.post(f"/r/{token}", json=post)
    r.raise_for_status()
    await asyncio.wait_for(task, 5)
    return arrived[0] - t0, len(page.content)


def measure_sse_latency(args: argparse.Namespace, server: Server) -> dict:
    async def run() -> tuple[list[float], int]:
        latencies: list[float] = []
        size = 0
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            for i in range(args.warmup):
                await _one_submit(client, server, 10_000 + i)
            for i in range(args.submits):
                latency, size = await _one_submit(client, server, i)
                latencies.append(latency)
        return latencies, size

    log(f"sse latency: {args.submits} submits (+{args.warmup} warm-up)")
    latencies, size = asyncio.run(run())
    ms = [x * 1000 for x in latencies]
    return {
        "sse_submits": len(ms),
        "sse_latency_p50_ms": round(statistics.median(ms), 2),
        "sse_latency_p99_ms": round(_percentile(ms, 0.99), 2),
        "sse_latency_max_ms": round(max(ms), 2),
        "phone_page_bytes": size,
    }


# (args, server) -> dict; main() merges them. Append further measurements here.
MEASUREMENTS: list[Callable[[argparse.Namespace, Server], dict]] = [
    measure_sse_latency,
    measure_economic_check,  # bench/economic.py: economic_check_ms_8_members (target < 300)
]


def _pg_admin(sql: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--submits", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    p.add_argument(
        "--postgres",
        action="store_true",
        help=f"a fresh PostgreSQL database on {PG_ADMIN_URL} (dropped afterwards)",
    )
    args = p.parse_args(argv)
    pg_name = None
    with tempfile.TemporaryDirectory(prefix="jzt-bench-authz-") as tmp:
        db_url = args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        if args.postgres:
            pg_name = f"jzt_bench_authz_{os.urandom(4).hex()}"
            _pg_admin(f'CREATE DATABASE "{pg_name}"')
            db_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{pg_name}"
        try:
            server = start_server(db_url, Path(tmp))
            result: dict = {"database": db_url.split(":", 1)[0].split("+", 1)[0]}
            try:
                for measure in MEASUREMENTS:
                    result |= measure(args, server)
            finally:
                stop_server(server)
        finally:
            if pg_name:
                _pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    result["targets"] = TARGETS
    result["meets_targets"] = {
        k: result[k] < v for k, v in TARGETS.items() if isinstance(result.get(k), int | float)
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return result


if __name__ == "__main__":
    main()
