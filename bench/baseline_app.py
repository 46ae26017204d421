"""A bare FastAPI app served with exactly the uvicorn settings of `jiuzhutong serve`.

    python bench/baseline_app.py --host 127.0.0.1 --port 8001

The settings come from the backend's own function (jiuzhutong.server.run.uvicorn_config), so
the baseline and the real service share them rather than copy them. Prints the effective
settings as one JSON line on stderr (prefixed "baseline-config:") for the report.
"""

from __future__ import annotations

import argparse
import json
import sys

from fastapi import FastAPI

app = FastAPI()


@app.get("/ping")
async def ping() -> dict:
    return {"status": "ok", "n": 1}


@app.get("/healthz")
async def healthz() -> dict:
    return {"status": "ok"}


CONFIG_FIELDS = (
    "loop",
    "http",
    "ws",
    "lifespan",
    "workers",
    "backlog",
    "limit_concurrency",
    "timeout_keep_alive",
    "access_log",
    "log_level",
    "proxy_headers",
    "server_header",
    "date_header",
    "h11_max_incomplete_event_size",
    "log_config",
    "timeout_graceful_shutdown",
)


def make_config(host: str, port: int):
    """(uvicorn.Config, where the settings came from, how logging was set up)."""
    try:
        from jiuzhutong.server.run import uvicorn_config
    except ImportError as exc:
        import uvicorn

        source = f"FALLBACK: jiuzhutong.server.run.uvicorn_config not importable ({exc})"
        return uvicorn.Config(app, host=host, port=port), source, None
    # `jiuzhutong serve` sets up logging before serving (uvicorn gets log_config=None and
    # its access log goes through that handler), so the baseline does the same.
    try:
        from jiuzhutong.logs import setup_logging
        from jiuzhutong.settings import Settings

        level = Settings().log_level
        setup_logging(level)
        logging = f"jiuzhutong.logs.setup_logging({level!r})"
    except ImportError as exc:
        logging = f"not set up ({exc})"
    return uvicorn_config(app, host, port), "jiuzhutong.server.run.uvicorn_config", logging


def describe(config) -> dict:
    out = {}
    for name in CONFIG_FIELDS:
        value = getattr(config, name, None)
        out[name] = value if isinstance(value, str | int | float | bool | None) else repr(value)
    return out


def serve(config) -> None:
    import uvicorn

    server = uvicorn.Server(config)
    if (config.workers or 1) > 1:
        from uvicorn.supervisors import Multiprocess

        sock = config.bind_socket()
        Multiprocess(config, target=server.run, sockets=[sock]).run()
    else:
        server.run()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8001)
    args = p.parse_args()
    config, source, logging = make_config(args.host, args.port)
    info = {"source": source, "logging": logging, **describe(config)}
    print("baseline-config: " + json.dumps(info), file=sys.stderr, flush=True)
    serve(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
