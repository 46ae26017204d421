"""A small HTTP/1.1 keep-alive load generator on raw asyncio (uvloop when available).

httpx alone manages only a few hundred requests a second here, so this writes pre-built
request bytes on one connection per virtual client, parses the status line and
Content-Length (chunked too, for safety), and times every request with perf_counter_ns.

It is meant to run in its OWN process so it competes for the CPU like any other client:

    python bench/loadgen.py < scenario.json > result.json     # what bench/api.py does
    python bench/loadgen.py --url http://127.0.0.1:8000/healthz -c 16 -d 5
    python bench/loadgen.py --fixed-server --port 9000        # trivial server, for the ceiling

Scenario (JSON on stdin)::

    {"host": "127.0.0.1", "port": 8000,
     "mode": "duration" | "count",
     "warmup_s": 1.0, "duration_s": 5.0,        # mode "duration": every client loops
     "warmup_requests": 0,                      # mode "count": each client runs its list once
     "clients": [                               # one connection per client
        {"requests": [{"method": "GET", "path": "/x", "headers": {...}, "body": null,
                       "if_match": false}, ...],
         "etag": "3",                           # initial ETag, for "if_match" requests
         "refresh": {"method": "GET", ...}},    # optional: untimed, re-reads the ETag after
        ...]}                                   #   a non-2xx so one 412 doesn't cascade

Every response's ETag header (if any) becomes the client's ETag; requests with
``"if_match": true`` send ``If-Match: "<etag>"``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

try:  # pragma: no cover - depends on the platform
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

SAMPLE_BODIES_PER_STATUS = 3


# --- request building ------------------------------------------------------------------


@dataclass
class Prepared:
    """A request as bytes; with if_match, ``head`` and ``tail`` surround the If-Match line."""

    head: bytes
    tail: bytes
    if_match: bool

    def render(self, etag: str | None) -> bytes:
        if self.if_match and etag is not None:
            return b"".join((self.head, b'If-Match: "', etag.encode(), b'"\r\n', self.tail))
        return self.head + self.tail


def prepare(spec: dict, host: str, port: int) -> Prepared:
    method = spec.get("method", "GET").upper()
    path = spec.get("path", "/")
    body = spec.get("body")
    body_bytes = b"" if body is None else (body.encode() if isinstance(body, str) else body)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}"]
    headers = {k.lower(): v for k, v in (spec.get("headers") or {}).items()}
    for name, value in (spec.get("headers") or {}).items():
        lines.append(f"{name}: {value}")
    if body is not None:
        if "content-type" not in headers:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body_bytes)}")
    elif method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: 0")
    head = ("\r\n".join(lines) + "\r\n").encode()
    return Prepared(head=head, tail=b"\r\n" + body_bytes, if_match=bool(spec.get("if_match")))


# --- response reading ------------------------------------------------------------------


class ConnectionClosed(Exception):
    pass


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bytes]:
    """Return (status, lower-cased header block, body)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        raise ConnectionClosed("server closed the connection") from exc
    status = int(head[9:12])
    low = head.lower()
    i = low.find(b"\r\ncontent-length:")
    if i >= 0:
        j = low.index(b"\r\n", i + 17)
        n = int(low[i + 17 : j])
        body = await reader.readexactly(n) if n else b""
    elif b"\r\ntransfer-encoding: chunked" in low:
        parts = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # end (no trailers expected)
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    elif status in (204, 304) or 100 <= status < 200:
        body = b""
    else:  # no length: body runs to close
        body = await reader.read()
        raise ConnectionClosed("response without length")
    return status, low, body


def header_value(low_head: bytes, name: bytes) -> bytes | None:
    i = low_head.find(b"\r\n" + name + b":")
    if i < 0:
        return None
    start = i + len(name) + 3
    return low_head[start : low_head.index(b"\r\n", start)].strip()


def etag_of(low_head: bytes) -> str | None:
    value = header_value(low_head, b"etag")
    if value is None:
        return None
    value = value.decode()
    if value.startswith("w/"):
        value = value[2:]
    return value.strip('"')


# --- the run ---------------------------------------------------------------------------


@dataclass
class Stats:
    latencies_ns: list[int] = field(default_factory=list)
    status: dict[int, int] = field(default_factory=dict)
    samples: dict[int, list[str]] = field(default_factory=dict)
    exceptions: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    unrecorded: int = 0  # warm-up and requests straddling the end
    all_2xx: int = 0  # every 2xx response, recorded or not (refreshes excluded)

    def note_status(self, status: int, body: bytes) -> None:
        self.status[status] = self.status.get(status, 0) + 1
        if not 200 <= status < 300:
            s = self.samples.setdefault(status, [])
            if len(s) < SAMPLE_BODIES_PER_STATUS:
                s.append(body[:300].decode("utf-8", "replace"))

    def note_exception(self, exc: BaseException) -> None:
        key = f"{type(exc).__name__}: {exc}"[:200]
        self.exceptions[key] = self.exceptions.get(key, 0) + 1


async def _client(
    host: str,
    port: int,
    cfg: dict,
    mode: str,
    t_measure: int,
    t_end: int,
    warmup_requests: int,
    stats: Stats,
) -> None:
    requests = [prepare(r, host, port) for r in cfg["requests"]]
    refresh = prepare(cfg["refresh"], host, port) if cfg.get("refresh") else None
    etag: str | None = cfg.get("etag")
    if etag is not None:
        etag = str(etag)
    perf = time.perf_counter_ns
    reader = writer = None
    n = len(requests)
    i = 0
    done = 0
    while True:
        if mode == "count":
            if i >= n:
                break
        elif perf() >= t_end:
            break
        req = requests[i % n]
        i += 1
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            t0 = perf()
            writer.write(req.render(etag))
            status, low, body = await read_response(reader)
            t1 = perf()
        except (ConnectionClosed, ConnectionError, OSError, ValueError) as exc:
            stats.note_exception(exc)
            stats.reconnects += 1
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.01)
            continue
        new_etag = etag_of(low)
        if new_etag is not None:
            etag = new_etag
        if b"\r\nconnection: close" in low:
            writer.close()
            reader = writer = None
        done += 1
        if 200 <= status < 300:
            stats.all_2xx += 1
        record = done > warmup_requests if mode == "count" else t_measure <= t0 and t1 <= t_end
        if record:
            stats.latencies_ns.append(t1 - t0)
            stats.note_status(status, body)
        else:
            stats.unrecorded += 1
        if refresh is not None and not 200 <= status < 300 and writer is not None:
            try:
                writer.write(refresh.render(etag))
                _, low, _ = await read_response(reader)
                etag = etag_of(low) or etag
            except (ConnectionClosed, ConnectionError, OSError, ValueError) as exc:
                stats.note_exception(exc)
                writer.close()
                reader = writer = None
    if writer is not None:
        writer.close()


def percentile(sorted_values: list[int], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of already sorted values."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(-(-q * len(sorted_values) // 100)) - 1))
    return float(sorted_values[k])


def summarize(stats: Stats, measured_s: float) -> dict:
    lat = sorted(stats.latencies_ns)
    ms = 1e6
    total = len(lat)
    ok = sum(v for k, v in stats.status.items() if 200 <= k < 300)
    return {
        "requests": total,
        "ok_2xx": ok,
        "non_2xx": total - ok,
        "exceptions": sum(stats.exceptions.values()),
        "measured_s": round(measured_s, 3),
        "rps": round(total / measured_s, 1) if measured_s > 0 else None,
        "latency_ms": {
            "mean": round(sum(lat) / total / ms, 3) if total else None,
            "p50": round(percentile(lat, 50) / ms, 3) if total else None,
            "p90": round(percentile(lat, 90) / ms, 3) if total else None,
            "p99": round(percentile(lat, 99) / ms, 3) if total else None,
            "max": round(lat[-1] / ms, 3) if total else None,
        },
        "status": {str(k): v for k, v in sorted(stats.status.items())},
        "non_2xx_samples": {str(k): v for k, v in stats.samples.items()},
        "exception_kinds": stats.exceptions,
        "reconnects": stats.reconnects,
        "unrecorded": stats.unrecorded,
        "all_2xx_incl_unrecorded": stats.all_2xx,
    }


async def run_async(scenario: dict) -> dict:
    host = scenario.get("host", "127.0.0.1")
    port = int(scenario["port"])
    mode = scenario.get("mode", "duration")
    warmup_ns = int(float(scenario.get("warmup_s", 1.0)) * 1e9)
    duration_ns = int(float(scenario.get("duration_s", 5.0)) * 1e9)
    stats = Stats()
    start = time.perf_counter_ns()
    t_measure = start + warmup_ns
    t_end = t_measure + duration_ns
    await asyncio.gather(
        *(
            _client(
                host,
                port,
                cfg,
                mode,
                t_measure,
                t_end,
                int(scenario.get("warmup_requests", 0)),
                stats,
            )
            for cfg in scenario["clients"]
        )
    )
    finished = time.perf_counter_ns()
    measured = duration_ns / 1e9 if mode == "duration" else (finished - start) / 1e9
    out = summarize(stats, measured)
    out["concurrency"] = len(scenario["clients"])
    out["mode"] = mode
    out["event_loop"] = "uvloop" if uvloop is not None else "asyncio"
    return out


def run(scenario: dict) -> dict:
    if uvloop is not None:
        return uvloop.run(run_async(scenario))
    return asyncio.run(run_async(scenario))


def run_in_subprocess(scenario: dict, python: str | None = None, timeout: float = 600) -> dict:
    """Run a scenario in a fresh process (so the load generator has its own interpreter)."""
    import subprocess

    proc = subprocess.run(
        [python or sys.executable, __file__],
        input=json.dumps(scenario).encode(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"loadgen failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return json.loads(proc.stdout)


# --- a trivial server, to measure the load generator's own ceiling --------------------

FIXED_BODY = b'{"status":"ok"}'
FIXED_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
    + str(len(FIXED_BODY)).encode()
    + b"\r\n\r\n"
    + FIXED_BODY
)


class _FixedProtocol(asyncio.Protocol):
    """Answers every request (GETs without bodies) with the same fixed response."""

    def connection_made(self, transport):  # type: ignore[override]
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data
        n = buf.count(b"\r\n\r\n")
        if n:
            self.transport.write(FIXED_RESPONSE * n)
            buf = buf[buf.rindex(b"\r\n\r\n") + 4 :]
        self.buf = buf


async def _serve_fixed(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_FixedProtocol, host, port, backlog=1024)
    print(f"fixed server on {host}:{port}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


def serve_fixed(host: str, port: int) -> None:
    runner = uvloop.run if uvloop is not None else asyncio.run
    with contextlib.suppress(KeyboardInterrupt):
        runner(_serve_fixed(host, port))


# --- command line ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url", help="GET this URL (instead of reading a scenario on stdin)")
    p.add_argument("-c", "--concurrency", type=int, default=16)
    p.add_argument("-d", "--duration", type=float, default=5.0)
    p.add_argument("-w", "--warmup", type=float, default=1.0)
    p.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    p.add_argument("--fixed-server", action="store_true", help="serve a fixed response")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    args = p.parse_args(argv)
    if args.fixed_server:
        serve_fixed(args.host, args.port)
        return 0
    if args.url:
        u = urlsplit(args.url)
        headers = dict(h.split(":", 1) for h in args.header)
        headers = {k.strip(): v.strip() for k, v in headers.items()}
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        req = {"method": "GET", "path": path, "headers": headers}
        scenario = {
            "host": u.hostname,
            "port": u.port or 80,
            "mode": "duration",
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "clients": [{"requests": [req]} for _ in range(args.concurrency)],
        }
    else:
        scenario = json.load(sys.stdin)
    result = run(scenario)
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
