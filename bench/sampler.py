"""Profiling wrapper for a server process (py-spy is not installed here).

    python bench/sampler.py --out prof.json [--mode cprofile|sample] -m jiuzhutong serve ...

Runs the module like ``python -m``. SIGUSR1 opens a profiling window, SIGUSR2 closes it and
writes prof-N.json (N = 1, 2, ...), so a benchmark profiles just its load phases, not
start-up or logins. Without signals (sample mode) the whole run goes to prof.json when the
module returns (uvicorn stops on SIGINT/SIGTERM).

- ``--mode cprofile``: cProfile on the main thread, where uvicorn's event loop and every
  ``async def`` endpoint run: exact call counts and times, C calls included, nothing of
  other threads.
- ``--mode sample``: a background thread samples every thread's stack
  (sys._current_frames) and reports the hottest leaf functions ("self"), the functions most
  often on the stack ("inclusive") and each package's share. Threads whose leaf is a known
  wait (queue, lock, selector) count as idle, and the main thread's samples inside the event
  loop's C code (uvloop: epoll, socket I/O, HTTP parsing: idle or busy, a Python sampler
  can't tell) are counted apart. Samples are biased towards calls that release the GIL.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import runpy
import signal
import sys
import threading
import time

IDLE_LEAVES = {
    ("threading", "wait"),
    ("threading", "_wait_for_tstate_lock"),
    ("queue", "get"),
    ("selectors", "select"),
    ("concurrent.futures.thread", "_worker"),
    ("uvicorn.server", "serve"),
    ("uvicorn.server", "main_loop"),
    ("uvicorn.server", "on_tick"),
    ("uvicorn.server", "_serve"),
    ("socket", "accept"),
}
# The main thread shows only the frame that entered the event loop while the loop runs C
# (uvloop/libuv: epoll, socket I/O, httptools parsing): idle or busy, it can't be told apart.
LOOP_LEAVES = {
    ("asyncio.runners", "run"),
    ("uvloop", "run"),
    ("asyncio.base_events", "run_until_complete"),
}


def _module_of(filename: str) -> str:
    norm = filename.replace(os.sep, "/")
    for marker in ("/site-packages/", "/src/", "/lib/python3.11/", "/lib/python3.12/"):
        if marker in norm:
            rel = norm.split(marker, 1)[1]
            break
    else:
        rel = norm.rsplit("/", 1)[-1]
    if rel.endswith(".py"):
        rel = rel[:-3]
    rel = rel.removesuffix("/__init__")
    return rel.replace("/", ".")


class Profile:
    """Counters of one sampling window."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.samples = 0
        self.busy = 0
        self.loop_c = 0
        self.leaf = collections.Counter()
        self.inclusive = collections.Counter()
        self.packages = collections.Counter()
        self.stacks = collections.Counter()
        self.idle = collections.Counter()

    def add(self, names: list[tuple[str, str]]) -> None:
        self.samples += 1
        mod, func = names[0]
        short_func = func.rsplit(".", 1)[-1]
        if (mod, short_func) in LOOP_LEAVES:
            self.loop_c += 1
            return
        if (mod, short_func) in IDLE_LEAVES or (mod, func) in IDLE_LEAVES:
            self.idle[f"{mod}:{func}"] += 1
            return
        self.busy += 1
        self.leaf[f"{mod}:{func}"] += 1
        seen = set()
        pkgs = set()
        for m, fn in names:
            key = f"{m}:{fn}"
            if key not in seen:
                seen.add(key)
                self.inclusive[key] += 1
            pkgs.add(m.split(".", 1)[0])
        for p in pkgs:
            self.packages[p] += 1
        short = [f"{m}:{fn}" for m, fn in reversed(names[:12])]
        self.stacks[" > ".join(short)] += 1

    def report(self, interval: float, top: int = 150) -> dict:
        busy = max(self.busy, 1)

        def pct(counter: collections.Counter, n: int) -> list[list]:
            return [[k, v, round(100 * v / busy, 1)] for k, v in counter.most_common(n)]

        return {
            "interval_s": interval,
            "wall_s": round(time.monotonic() - self.t0, 2),
            "samples": self.samples,
            "busy_samples": self.busy,
            "event_loop_c_or_idle_samples": self.loop_c,
            "columns": ["function", "samples", "percent_of_busy"],
            "self": pct(self.leaf, 60),
            "inclusive": pct(self.inclusive, top),
            "packages": pct(self.packages, 30),
            "stacks": pct(self.stacks, 15),
            "idle_leaves": self.idle.most_common(10),
        }


class Sampler(threading.Thread):
    def __init__(self, interval: float) -> None:
        super().__init__(daemon=True, name="bench-sampler")
        self.interval = interval
        self.stop_event = threading.Event()
        self.profile: Profile | None = Profile()  # whole run until a window is asked for
        self._codes: dict[object, tuple[str, str]] = {}

    def _code_name(self, code) -> tuple[str, str]:
        got = self._codes.get(code)
        if got is None:
            got = (_module_of(code.co_filename), code.co_qualname)
            self._codes[code] = got
        return got

    def run(self) -> None:
        me = threading.get_ident()
        while not self.stop_event.wait(self.interval):
            profile = self.profile
            if profile is None:
                continue
            for tid, frame in sys._current_frames().items():
                if tid == me:
                    continue
                names = []
                f = frame
                while f is not None:
                    names.append(self._code_name(f.f_code))
                    f = f.f_back
                if names:
                    profile.add(names)


def cprofile_report(prof, top: int = 60) -> dict:
    """The hottest functions of a cProfile run (main thread only), as JSON-able rows."""
    import pstats

    st = pstats.Stats(prof)
    rows = []
    for (filename, line, func), (_cc, nc, tt, ct, _callers) in st.stats.items():
        name = f"{_module_of(filename)}:{func}" if filename != "~" else func
        rows.append([name, nc, round(tt, 4), round(ct, 4), line])
    total = sum(r[2] for r in rows)
    by_self = sorted(rows, key=lambda r: -r[2])[:top]
    by_cum = sorted(rows, key=lambda r: -r[3])[: top * 2]
    return {
        "total_self_s": round(total, 3),
        "columns": ["function", "calls", "self_s", "cumulative_s", "line"],
        "self": by_self,
        "cumulative": by_cum,
    }


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True, help="JSON file (windows: OUT-1.json, OUT-2.json...)")
    p.add_argument("--interval", type=float, default=0.002)
    p.add_argument(
        "--mode",
        choices=["sample", "cprofile"],
        default="sample",
        help="stack sampling (all threads) or cProfile (main thread: the event loop)",
    )
    p.add_argument("-m", dest="module", required=True)
    args, rest = p.parse_known_args()
    sampler = Sampler(args.interval)
    windows = 0
    base = args.out.removesuffix(".json")
    cprof = None

    def dump(profile: Profile, path: str) -> None:
        with open(path, "w") as f:
            json.dump(profile.report(sampler.interval), f, ensure_ascii=False, indent=1)

    def start_window(_sig, _frame) -> None:  # SIGUSR1: profile from now on, afresh
        nonlocal windows, cprof
        windows += 1
        if args.mode == "cprofile":
            import cProfile

            cprof = cProfile.Profile()
            cprof.enable()  # the handler runs on the main thread: that thread is profiled
        else:
            sampler.profile = Profile()

    def end_window(_sig, _frame) -> None:  # SIGUSR2: write the window, stop profiling
        nonlocal cprof
        path = f"{base}-{windows}.json"
        if args.mode == "cprofile":
            if cprof is not None:
                cprof.disable()
                with open(path, "w") as f:
                    json.dump(cprofile_report(cprof), f, ensure_ascii=False, indent=1)
                cprof = None
            return
        profile, sampler.profile = sampler.profile, None
        if profile is not None:
            dump(profile, path)

    signal.signal(signal.SIGUSR1, start_window)
    signal.signal(signal.SIGUSR2, end_window)
    sys.argv = [args.module, *rest]
    if args.mode == "sample":
        sampler.start()
    try:
        runpy.run_module(args.module, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        if args.mode == "sample":
            sampler.stop_event.set()
            sampler.join(2)
            if windows == 0 and sampler.profile is not None:
                dump(sampler.profile, args.out)


if __name__ == "__main__":
    main()
