"""Logging setup of the jiuzhutong service.

One handler on the root logger; uvicorn's own loggers propagate into it (the server is
started with ``log_config=None``), so every line has the same shape. Log lines name
codes, fields and ids — never a person's ID number, name or bank account.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_HANDLER_NAME = "jiuzhutong"


def setup_logging(level: str | int = "INFO") -> None:
    root = logging.getLogger()
    if not any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # SQL echo would be noise at INFO; the engine hides bound parameters in any case.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
