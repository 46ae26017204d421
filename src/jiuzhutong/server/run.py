"""Serving with uvicorn. One place builds the uvicorn.Config, so the benchmark can serve a
bare baseline app with exactly the settings the real one gets."""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def uvicorn_config(
    app: Any, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, **overrides: Any
) -> uvicorn.Config:
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "http": "httptools",
        "loop": "uvloop" if sys.platform != "win32" else "asyncio",
        # logging is set up by jiuzhutong.logs; uvicorn's dictConfig would replace it
        "log_config": None,
        "access_log": True,
        "lifespan": "on",
        "server_header": False,
        "timeout_graceful_shutdown": 5,
    }
    options.update(overrides)
    return uvicorn.Config(app, **options)


def serve(app: Any, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
    uvicorn.Server(uvicorn_config(app, host, port)).run()
