"""API benchmark of the jiuzhutong service.

    .venv/bin/python bench/api.py [--quick] [--profile] [--skip-postgres] [--skip-lookup]

Prints ONE JSON object on stdout (progress on stderr) and keeps a copy in bench/results/.
In one run, with the same load generator (bench/loadgen.py, its own process) and the same
concurrency:

1. ``loadgen_ceiling_rps``: the load generator against a trivial raw asyncio server, so we
   know it is not the bottleneck;
2. ``baseline_rps``: a bare async FastAPI endpoint served with the uvicorn settings of
   ``jiuzhutong serve`` (jiuzhutong.server.run.uvicorn_config — shared, not copied);
3. for SQLite and PostgreSQL, each on a fresh database with ``python -m jiuzhutong serve`` in
   its own process: GET /applications/{id} and PATCH /applications/{id} (If-Match, each
   client its own draft) at 16 concurrent clients for a fixed duration after a warm-up;
4. POST /applications/lookup among 10,000 and 1,000,000 synthetic applications (SQLite),
   sequential look-ups of random existing and absent numbers.

Targets are reported as booleans, never asserted. Every non-2xx and every connection error
is counted and shown.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx

import loadgen
from populate import cn_name, populate
from procs import BENCH_DIR, ROOT, ServerProcess, free_port, log

PYTHON = sys.executable
# `python -m jiuzhutong` once the package has a __main__; the same CLI module until then
JZT_MODULE = "jiuzhutong" if importlib.util.find_spec("jiuzhutong.__main__") else "jiuzhutong.cli"
HOST = "127.0.0.1"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
REGION = "420106"  # 武昌区: the bench clerk's region and that of every bench draft
ADMIN = ("bench.admin", "bench-admin-password-1")
CLERK = ("bench.clerk", "bench-clerk-password-1")

PATCH_BODIES = [
    {"details": {"residence_address": f"湖北省武汉市武昌区中北路{n}号"}, "step": "basic"}
    for n in range(1, 9)
]


# --- helpers ---------------------------------------------------------------------------


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JZT_")}
    env["JZT_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    env.setdefault("PYTHONPATH", str(ROOT / "src"))
    return env


def jzt(args: list[str], env: dict[str, str], stdin: str | None = None, timeout: float = 300):
    """Run ``python -m jiuzhutong ARGS``; raise with its output when it fails."""
    proc = subprocess.run(
        [PYTHON, "-m", JZT_MODULE, *args],
        input=stdin.encode() if stdin is not None else None,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"`jiuzhutong {' '.join(args)}` failed ({proc.returncode}):\n"
            + (proc.stdout + proc.stderr).decode("utf-8", "replace")[-3000:]
        )
    return proc


def serve_argv(
    port: int, db_url: str, profile_out: Path | None = None, mode: str = "cprofile"
) -> list[str]:
    args = ["serve", "--host", HOST, "--port", str(port), "--db", db_url]
    if profile_out is not None:
        return [PYTHON, str(BENCH_DIR / "sampler.py"), "--out", str(profile_out), "--mode",
                mode, "-m", JZT_MODULE, *args]  # fmt: skip
    return [PYTHON, "-m", JZT_MODULE, *args]


def _proc_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) of a live process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy_s() -> float | None:
    """CPU seconds the whole machine spent busy so far (all cores), from /proc/stat."""
    try:
        vals = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return None
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
    return (sum(vals[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_load(scenario: dict, server_pid: int | None = None) -> dict:
    """Run the load generator in its own process; add where the CPU went meanwhile.

    ``cpu`` is in cores (CPU seconds per wall second): the server process, the load
    generator, the whole machine, and the rest (other processes, e.g. a test run).
    """
    import resource

    def children() -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    t0, m0, c0 = time.monotonic(), _machine_busy_s(), children()
    s0 = _proc_cpu_s(server_pid) if server_pid else None
    res = loadgen.run_in_subprocess(scenario, python=PYTHON)
    wall = time.monotonic() - t0
    s1 = _proc_cpu_s(server_pid) if server_pid else None
    m1, c1 = _machine_busy_s(), children()
    cpu = {"loadgen_cores": round((c1 - c0) / wall, 2)}
    if s0 is not None and s1 is not None:
        cpu["server_cores"] = round((s1 - s0) / wall, 2)
    if m0 is not None and m1 is not None:
        cpu["machine_busy_cores"] = round((m1 - m0) / wall, 2)
        cpu["other_cores"] = round(
            cpu["machine_busy_cores"] - cpu["loadgen_cores"] - cpu.get("server_cores", 0), 2
        )
    res["cpu"] = cpu
    return res


def duration_scenario(port: int, clients: list[dict], warmup: float, duration: float) -> dict:
    return {
        "host": HOST,
        "port": port,
        "mode": "duration",
        "warmup_s": warmup,
        "duration_s": duration,
        "clients": clients,
    }


def brief(result: dict) -> str:
    lat = result["latency_ms"]
    return (
        f"{result['rps']} req/s, p50 {lat['p50']} ms, p99 {lat['p99']} ms, "
        f"non-2xx {result['non_2xx']}, exceptions {result['exceptions']}"
    )


def section(name: str, out: dict, fn, *args, **kwargs) -> None:
    """Run one part; on failure record the error in the output instead of stopping."""
    t0 = time.monotonic()
    load = os.getloadavg()[0]
    log(f"== {name} (load average {load:.2f})")
    try:
        out[name] = fn(*args, **kwargs)
    except Exception as exc:
        log(f"!! {name} failed: {exc}")
        traceback.print_exc(file=sys.stderr)
        out[name] = {"error": f"{type(exc).__name__}: {exc}"[:4000]}
    out[name]["section_s"] = round(time.monotonic() - t0, 1)
    out[name]["loadavg_1m_at_start"] = round(load, 2)


# --- 1. load generator ceiling and 2. baseline --------------------------------------


def bench_ceiling(conc: int, warmup: float, duration: float, tmp: Path) -> dict:
    port = free_port()
    argv = [PYTHON, str(BENCH_DIR / "loadgen.py"), "--fixed-server", "--host", HOST,
            "--port", str(port)]  # fmt: skip
    with ServerProcess(argv, port=port, log_path=tmp / "fixed.log", ready_path="/") as srv:
        clients = [{"requests": [{"method": "GET", "path": "/"}]} for _ in range(conc)]
        res = run_load(duration_scenario(port, clients, warmup, duration), srv.proc.pid)
    log("ceiling:", brief(res))
    return res


def bench_baseline(conc: int, warmup: float, duration: float, tmp: Path, tag: str) -> dict:
    port = free_port()
    logp = tmp / f"baseline-{tag}.log"
    argv = [PYTHON, str(BENCH_DIR / "baseline_app.py"), "--host", HOST, "--port", str(port)]
    env = server_env(tmp / "baseline-data")
    with ServerProcess(argv, port=port, log_path=logp, env=env, ready_path="/healthz") as srv:
        clients = [{"requests": [{"method": "GET", "path": "/ping"}]} for _ in range(conc)]
        res = run_load(duration_scenario(port, clients, warmup, duration), srv.proc.pid)
        config = None
        for line in srv.log_head().splitlines():
            if line.startswith("baseline-config: "):
                config = json.loads(line.split(": ", 1)[1])
    res["uvicorn_settings"] = config
    log(f"baseline ({tag}):", brief(res))
    return res


# --- 3. GET / PATCH a draft on SQLite and PostgreSQL --------------------------------


def bootstrap_staff(env: dict[str, str], db_url: str) -> None:
    """The first admin through the CLI (the only way in on an empty database)."""
    jzt(
        ["create-staff", "--db", db_url, "--username", ADMIN[0], "--display-name", "基准管理员",
         "--role", "admin", "--region", "42", "--password-stdin"],
        env,
        stdin=ADMIN[1] + "\n",
    )  # fmt: skip


def login(client: httpx.Client, who: tuple[str, str], counter: str) -> str:
    r = client.post(
        "/auth/login", json={"username": who[0], "password": who[1], "counter_id": counter}
    )
    r.raise_for_status()
    return r.json()["token"]


def create_clerk(client: httpx.Client, admin_token: str) -> None:
    r = client.post(
        "/staff",
        headers={"Authorization": f"Bearer {admin_token}"},
        json={
            "username": CLERK[0],
            "password": CLERK[1],
            "display_name": "基准经办人",
            "role": "clerk",
            "region": REGION,
        },
    )
    if r.status_code != 201:
        raise RuntimeError(f"POST /staff → {r.status_code}: {r.text[:500]}")


def make_id_number(i: int, base: date = date(1960, 1, 1)) -> str:
    from jiuzhutong.domain.idnumber import make_id_number as mk

    return mk(REGION, base + timedelta(days=i // 1000), i % 1000)


def create_drafts(client: httpx.Client, tokens: list[str]) -> list[tuple[str, str]]:
    """One draft per client, created by that client's session: [(draft id, version)]."""
    out = []
    for i, token in enumerate(tokens):
        r = client.post(
            "/applications",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"bench-{i}"},
            json={"name": cn_name(i), "id_number": make_id_number(i), "mode": "本人申请"},
        )
        if r.status_code != 201:
            raise RuntimeError(f"POST /applications → {r.status_code}: {r.text[:500]}")
        body = r.json()
        etag = (r.headers.get("etag") or str(body["version"])).removeprefix("W/").strip('"')
        out.append((body["id"], etag))
    return out


def draft_load(port: int, pid: int, conc: int, warmup: float, duration: float, window=None):
    """Set up sessions and drafts, then GET and PATCH under load. Returns the results.

    ``window(True/False)`` is called around each load run (profiling windows)."""
    window = window or (lambda _start: None)
    base = f"http://{HOST}:{port}"
    with httpx.Client(base_url=base, timeout=30) as client:
        admin_token = login(client, ADMIN, "bench-admin")
        create_clerk(client, admin_token)
        tokens = [login(client, CLERK, f"bench-{i}") for i in range(conc)]
        drafts = create_drafts(client, tokens)
        auth = [{"Authorization": f"Bearer {t}"} for t in tokens]
        get_clients = [
            {"requests": [{"method": "GET", "path": f"/applications/{d}", "headers": auth[i]}]}
            for i, (d, _) in enumerate(drafts)
        ]
        window(True)
        get_res = run_load(duration_scenario(port, get_clients, warmup, duration), pid)
        window(False)
        log("GET draft:", brief(get_res))
        patch_clients = []
        for i, (d, etag) in enumerate(drafts):
            bodies = PATCH_BODIES[i % len(PATCH_BODIES) :] + PATCH_BODIES[: i % len(PATCH_BODIES)]
            patch_clients.append(
                {
                    "requests": [
                        {
                            "method": "PATCH",
                            "path": f"/applications/{d}",
                            "headers": auth[i],
                            "body": json.dumps(b, ensure_ascii=False),
                            "if_match": True,
                        }
                        for b in bodies
                    ],
                    "etag": etag,
                    "refresh": {"method": "GET", "path": f"/applications/{d}", "headers": auth[i]},
                }
            )
        window(True)
        patch_res = run_load(duration_scenario(port, patch_clients, warmup, duration), pid)
        window(False)
        log("PATCH draft:", brief(patch_res))
        # every successful PATCH bumps the version by exactly one
        final = 0
        for i, (d, etag) in enumerate(drafts):
            r = client.get(f"/applications/{d}", headers=auth[i])
            r.raise_for_status()
            final += r.json()["version"] - int(etag)
    patch_2xx = patch_res["all_2xx_incl_unrecorded"]
    check = {"version_bumps": final, "patch_2xx": patch_2xx, "consistent": final == patch_2xx}
    return get_res, patch_res, check


def bench_backend(
    kind: str, conc: int, warmup: float, duration: float, tmp: Path, profile: str | None
):
    """One database kind: GET and PATCH under load. ``profile``: None, "sample", "cprofile"."""
    data_dir = tmp / f"data-{kind}{'-' + profile if profile else ''}"
    data_dir.mkdir()
    env = server_env(data_dir)
    dbname = None
    if kind == "sqlite":
        db_url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    else:
        dbname = f"jzt_bench_{secrets.token_hex(4)}"
        pg_admin(f"CREATE DATABASE {dbname}")
        db_url = PG_URL.format(db=dbname)
    try:
        t0 = time.monotonic()
        jzt(["migrate", "--db", db_url], env)
        bootstrap_staff(env, db_url)
        port = free_port()
        prof_path = BENCH_DIR / "results" / f"profile-{profile}-{kind}.json" if profile else None
        if prof_path:
            prof_path.parent.mkdir(exist_ok=True)
        with ServerProcess(
            serve_argv(port, db_url, prof_path, profile or "cprofile"),
            port=port,
            log_path=data_dir / "server.log",
            env=env,
        ) as srv:
            setup_s = time.monotonic() - t0
            window = None
            if prof_path is not None:
                pid = srv.proc.pid

                def window(start: bool) -> None:
                    os.kill(pid, signal.SIGUSR1 if start else signal.SIGUSR2)
                    time.sleep(0.2)  # let the server's main thread run the handler

            get_res, patch_res, check = draft_load(
                port, srv.proc.pid, conc, warmup, duration, window
            )
            log_tail = srv.log_tail(1500)
        out = {
            "db": db_url.split("://", 1)[0],
            "get_draft_rps": get_res["rps"],
            "get_draft_p50_ms": get_res["latency_ms"]["p50"],
            "get_draft_p99_ms": get_res["latency_ms"]["p99"],
            "get_draft_non_2xx": get_res["non_2xx"],
            "get_draft_exceptions": get_res["exceptions"],
            "update_draft_rps": patch_res["rps"],
            "update_draft_p50_ms": patch_res["latency_ms"]["p50"],
            "update_draft_p99_ms": patch_res["latency_ms"]["p99"],
            "update_draft_non_2xx": patch_res["non_2xx"],
            "update_draft_exceptions": patch_res["exceptions"],
            "update_draft_status": patch_res["status"],
            "update_version_check": check,
            "get_draft_cpu_cores": get_res["cpu"],
            "update_draft_cpu_cores": patch_res["cpu"],
            "setup_s": round(setup_s, 1),
            "get_draft": get_res,
            "update_draft": patch_res,
        }
        if get_res["non_2xx"] or patch_res["non_2xx"]:
            out["server_log_tail"] = log_tail
        if prof_path is not None:
            out["profile"] = {}
            for n, phase in ((1, "get_draft"), (2, "update_draft")):
                path = prof_path.with_name(f"{prof_path.stem}-{n}.json")
                if path.exists():
                    final_path = prof_path.with_name(f"{prof_path.stem}-{phase}.json")
                    path.replace(final_path)
                    out["profile"][phase] = summarize_profile(final_path, profile)
        return out
    finally:
        if dbname:
            pg_admin(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


def summarize_profile(path: Path, mode: str, top: int = 15) -> dict:
    """Sampling: percentages of busy samples. cProfile: seconds, self and cumulative."""
    prof = json.loads(path.read_text())
    if mode == "cprofile":
        total = prof["total_self_s"] or 1

        def row(r):
            return {
                "calls": r[1],
                "self_s": r[2],
                "cum_s": r[3],
                "cum_pct": round(100 * r[3] / total, 1),
            }

        service = [r for r in prof["cumulative"] if r[0].startswith("jiuzhutong.")]
        return {
            "file": str(path.relative_to(ROOT)),
            "mode": "cprofile (main thread)",
            "total_s": prof["total_self_s"],
            "self_top": {r[0]: row(r) for r in prof["self"][:top]},
            "jiuzhutong_cumulative_top": {r[0]: row(r) for r in service[:top]},
        }
    service = [r for r in prof["inclusive"] if r[0].startswith("jiuzhutong.")]
    return {
        "file": str(path.relative_to(ROOT)),
        "busy_samples": prof["busy_samples"],
        "event_loop_c_or_idle_samples": prof["event_loop_c_or_idle_samples"],
        "packages_pct": {k: pct for k, _, pct in prof["packages"][:top]},
        "jiuzhutong_inclusive_pct": {k: pct for k, _, pct in service[:top]},
        "self_pct": {k: pct for k, _, pct in prof["self"][:top]},
    }


# --- 4. look-up among many applications ----------------------------------------------


def synthetic_numbers(n: int) -> list[str]:
    from jiuzhutong.domain.idnumber import make_id_number as mk

    base = date(1940, 1, 1)
    return [mk(REGION, base + timedelta(days=i // 1000), i % 1000) for i in range(n)]


def absent_numbers(n: int) -> list[str]:
    from jiuzhutong.domain.idnumber import make_id_number as mk

    base = date(2010, 1, 1)  # after every synthetic birth date below 12M rows
    return [mk(REGION, base + timedelta(days=i // 1000), i % 1000) for i in range(n)]


def profile_lookup(mode: str, scenario: dict, db_url: str, env: dict, log_path: Path) -> dict:
    """The same look-ups again, with the server under bench/sampler.py (not for targets)."""
    port = free_port()
    prof_path = BENCH_DIR / "results" / f"profile-{mode}-lookup.json"
    prof_path.parent.mkdir(exist_ok=True)
    with ServerProcess(
        serve_argv(port, db_url, prof_path, mode), port=port, log_path=log_path, env=env
    ) as srv:
        os.kill(srv.proc.pid, signal.SIGUSR1)
        time.sleep(0.2)
        res = run_load({**scenario, "port": port}, srv.proc.pid)
        os.kill(srv.proc.pid, signal.SIGUSR2)
        time.sleep(0.5)
    out = {"lookup_p50_ms": res["latency_ms"]["p50"], "lookup_p99_ms": res["latency_ms"]["p99"]}
    path = prof_path.with_name(f"{prof_path.stem}-1.json")
    if path.exists():
        path.replace(prof_path)
        out["profile"] = summarize_profile(prof_path, mode)
    return out


def bench_lookup(
    sizes: list[int], n_lookups: int, tmp: Path, method: str, profile: str | None = None
) -> dict:
    data_dir = tmp / "data-lookup"
    data_dir.mkdir()
    env = server_env(data_dir)
    db_path = data_dir / "lookup.sqlite3"
    db_url = f"sqlite:///{db_path}"
    jzt(["migrate", "--db", db_url], env)
    bootstrap_staff(env, db_url)
    rng = random.Random(20240601)
    out: dict = {"db": "sqlite", "lookups_per_size": n_lookups}
    have = 0
    t_gen = time.monotonic()
    numbers = synthetic_numbers(max(sizes))
    out["id_generation_s"] = round(time.monotonic() - t_gen, 1)
    misses = absent_numbers(max(1, n_lookups // 10))
    clerk_ready = False
    for size in sorted(sizes):
        t0 = time.monotonic()
        info = populate(
            db_url, data_dir, numbers[have:size], REGION, start_index=have, method=method
        )
        populate_s = time.monotonic() - t0
        have = size
        log(f"populated {size:,} applications ({populate_s:.1f} s, {info['method']})")
        port = free_port()
        with ServerProcess(
            serve_argv(port, db_url), port=port, log_path=tmp / f"lookup-{size}.log", env=env
        ) as srv:
            with httpx.Client(base_url=f"http://{HOST}:{port}", timeout=30) as client:
                if not clerk_ready:
                    create_clerk(client, login(client, ADMIN, "bench-admin"))
                    clerk_ready = True
                token = login(client, CLERK, "bench-lookup")
                headers = {"Authorization": f"Bearer {token}"}
                check = lookup_check(client, headers, numbers[:size], misses, rng)
            hits = [numbers[rng.randrange(size)] for _ in range(n_lookups - len(misses))]
            targets = hits + misses
            rng.shuffle(targets)
            warm = [numbers[rng.randrange(size)] for _ in range(min(200, n_lookups // 10))]
            reqs = [
                {
                    "method": "POST",
                    "path": "/applications/lookup",
                    "headers": headers,
                    "body": json.dumps({"id_number": n}),
                }
                for n in warm + targets
            ]
            scenario = {
                "host": HOST,
                "port": port,
                "mode": "count",
                "warmup_requests": len(warm),
                "clients": [{"requests": reqs}],
            }
            res = run_load(scenario, srv.proc.pid)
        if profile and size == max(sizes):
            out[f"profile_size_{size}"] = profile_lookup(
                profile, scenario, db_url, env, tmp / f"lookup-{size}-{profile}.log"
            )
        log(f"lookup among {size:,}:", brief(res))
        out[f"size_{size}"] = {
            "applications": size,
            "populate_s": round(populate_s, 1),
            "populate": info,
            "db_size_mb": round(db_path.stat().st_size / 2**20, 1),
            "check": check,
            "lookup_p50_ms": res["latency_ms"]["p50"],
            "lookup_p99_ms": res["latency_ms"]["p99"],
            "lookup": res,
        }
    return out


def lookup_check(client, headers, numbers, misses, rng) -> dict:
    """A few look-ups by hand: hits must find exactly one draft, misses none."""
    bad = []
    for n in [numbers[rng.randrange(len(numbers))] for _ in range(5)] + misses[:5]:
        r = client.post("/applications/lookup", headers=headers, json={"id_number": n})
        expected = 0 if n in misses[:5] else 1
        if r.status_code != 200 or len(r.json()) != expected:
            bad.append({"status": r.status_code, "expected": expected, "body": r.text[:200]})
    return {"ok": not bad, "problems": bad}


# --- targets ---------------------------------------------------------------------------


def targets_of(out: dict) -> dict:
    t: dict[str, dict] = {}
    base = out.get("baseline_rps")

    def put(name, value, threshold, ok):
        t[name] = {"value": value, "threshold": threshold, "met": bool(ok)}

    for kind in ("sqlite", "postgres"):
        r = out.get(kind) or {}
        rps = r.get("get_draft_rps")
        thr = round(0.4 * base, 1) if base else None
        put(f"{kind}_get_draft_rps_ge_0.4x_baseline", rps, thr, rps and thr and rps >= thr)
    s = out.get("sqlite") or {}
    for name in ("get_draft_p99_ms", "update_draft_p99_ms"):
        v = s.get(name)
        put(f"sqlite_{name}_lt_50", v, 50, v is not None and v < 50)
    l1m, l10k = out.get("lookup_1m_p99_ms"), out.get("lookup_10k_p99_ms")
    put("lookup_1m_p99_ms_lt_5", l1m, 5, l1m is not None and l1m < 5)
    thr = round(2 * l10k, 3) if l10k is not None else None
    put("lookup_1m_p99_le_2x_10k", l1m, thr, l1m is not None and thr is not None and l1m <= thr)
    errors = 0
    for kind in ("sqlite", "postgres"):
        r = out.get(kind) or {}
        for k in ("get_draft_non_2xx", "get_draft_exceptions", "update_draft_non_2xx",
                  "update_draft_exceptions"):  # fmt: skip
            errors += r.get(k) or 0
    for k, v in (out.get("lookup") or {}).items():
        if k.startswith("size_"):
            errors += v["lookup"]["non_2xx"] + v["lookup"]["exceptions"]
    put("no_errors", errors, 0, errors == 0)
    return t


# --- main ------------------------------------------------------------------------------


def machine_info() -> dict:
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    try:
        import uvloop

        uv = uvloop.__version__
    except ImportError:
        uv = None
    import fastapi
    import uvicorn

    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "loadavg_at_start": load,
        "uvicorn": uvicorn.__version__,
        "fastapi": fastapi.__version__,
        "uvloop": uv,
    }


def wait_quiet(max_wait_s: float, busy_cores: float = 0.3) -> dict:
    """Wait (at most max_wait_s) until the machine is nearly idle; return what was seen."""
    t0 = time.monotonic()
    while True:
        m0 = _machine_busy_s()
        time.sleep(1.0)
        m1 = _machine_busy_s()
        busy = None if m0 is None or m1 is None else round(m1 - m0, 2)
        waited = time.monotonic() - t0
        if busy is None or busy <= busy_cores or waited >= max_wait_s:
            return {"machine_busy_cores_before": busy, "waited_for_quiet_s": round(waited, 1)}
        log(f"machine busy ({busy} cores), waiting for it to quieten ({waited:.0f} s)")
        time.sleep(4.0)


@contextmanager
def temp_dir(keep: bool):
    path = Path(tempfile.mkdtemp(prefix="jzt-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            import shutil

            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="jiuzhutong API benchmark (JSON on stdout)")
    p.add_argument("--quick", action="store_true", help="shorter runs, fewer look-ups")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--duration", type=float, help="seconds measured per run (5; quick 2)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per run (1; quick 0.5)")
    p.add_argument("--lookups", type=int, help="look-ups per size (2000; quick 500)")
    p.add_argument("--lookup-sizes", default="10000,1000000")
    p.add_argument(
        "--populate",
        choices=["fast", "store"],
        default="fast",
        help="bulk insert: bench/populate.py (fast) or jiuzhutong.store.bulk as is (slow)",
    )
    p.add_argument("--skip-postgres", action="store_true")
    p.add_argument("--skip-sqlite", action="store_true")
    p.add_argument("--skip-lookup", action="store_true")
    p.add_argument(
        "--profile",
        nargs="?",
        const="cprofile",
        choices=["cprofile", "sample"],
        help="extra runs with the servers under bench/sampler.py (bench/results/profile-*.json):"
        " cProfile of the event-loop thread (default) or stack sampling of all threads",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, databases)")
    p.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="S",
        help="first wait up to S seconds for the machine to be idle (shared machines)",
    )
    args = p.parse_args(argv)
    duration = args.duration or (2.0 if args.quick else 5.0)
    warmup = args.warmup if args.warmup is not None else (0.5 if args.quick else 1.0)
    n_lookups = args.lookups or (500 if args.quick else 2000)
    sizes = [int(s) for s in args.lookup_sizes.split(",") if s]
    conc = args.concurrency
    quiet = wait_quiet(args.wait_quiet) if args.wait_quiet else {}
    t_start = time.monotonic()
    out: dict = {
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": args.quick,
        "concurrency": conc,
        "warmup_s": warmup,
        "duration_s": duration,
        "machine": {**machine_info(), **quiet},
        "server_command": f"python -m {JZT_MODULE} serve --host {HOST} --port PORT --db URL",
    }
    with temp_dir(args.keep) as tmp:
        section("ceiling", out, bench_ceiling, conc, warmup, duration, tmp)
        section("baseline", out, bench_baseline, conc, warmup, duration, tmp, "first")
        kinds = ([] if args.skip_sqlite else ["sqlite"]) + (
            [] if args.skip_postgres else ["postgres"]
        )
        for kind in kinds:
            section(kind, out, bench_backend, kind, conc, warmup, duration, tmp, None)
        section("baseline_after", out, bench_baseline, conc, warmup, duration, tmp, "after")
        if not args.skip_lookup:
            section("lookup", out, bench_lookup, sizes, n_lookups, tmp, args.populate, args.profile)
        if args.profile:  # separate runs: profiling slows the server, so no targets here
            for kind in kinds:
                name = f"profile_{kind}"
                section(name, out, bench_backend, kind, conc, warmup, duration, tmp, args.profile)
    out["loadgen_ceiling_rps"] = out["ceiling"].get("rps")
    # the bare app is measured before and after the service runs; their mean is the baseline
    runs = [r for r in (out["baseline"].get("rps"), out["baseline_after"].get("rps")) if r]
    out["baseline_rps"] = round(sum(runs) / len(runs), 1) if runs else None
    out["baseline_rps_runs"] = runs
    if out["loadgen_ceiling_rps"] and out["baseline_rps"]:
        out["loadgen_headroom_x"] = round(out["loadgen_ceiling_rps"] / out["baseline_rps"], 1)
    lk = out.get("lookup") or {}
    for size, name in ((10_000, "lookup_10k"), (1_000_000, "lookup_1m")):
        if f"size_{size}" in lk:
            out[f"{name}_p99_ms"] = lk[f"size_{size}"]["lookup_p99_ms"]
            out[f"{name}_populate_s"] = lk[f"size_{size}"]["populate_s"]
    others = []
    for sec in ("ceiling", "baseline", "baseline_after", "sqlite", "lookup"):
        part = out.get(sec) or {}
        runs = [part] + [v for v in part.values() if isinstance(v, dict)]
        runs += [v["lookup"] for v in part.values() if isinstance(v, dict) and "lookup" in v]
        for r in runs:
            if isinstance(r.get("cpu"), dict) and "other_cores" in r["cpu"]:
                others.append(r["cpu"]["other_cores"])
    out["noise"] = {
        "max_other_cores": max(others) if others else None,
        "noisy": bool(others) and max(others) > 0.3,
        "note": "other_cores: CPU of processes other than the server and the load generator"
        " (PostgreSQL runs left out: there it includes the database server)",
    }
    out["targets"] = targets_of(out)
    out["meets_targets"] = all(v["met"] for v in out["targets"].values())
    out["total_s"] = round(time.monotonic() - t_start, 1)
    out["machine"]["loadavg_at_end"] = os.getloadavg()
    results = BENCH_DIR / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    text = json.dumps(out, ensure_ascii=False, indent=1)
    (results / f"api-{stamp}.json").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
