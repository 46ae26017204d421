"""PostgreSQL LISTEN on a dedicated psycopg connection, in a daemon thread.

Each server process runs one: a commit in any process NOTIFYs ``NOTIFY_CHANNEL`` and every
listener hands the payload to its callback (which wakes that process's SSE streams). The
connection is re-opened after an error; a missed wake-up is repaired by the streams, which
always read the events table from their last seq.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy import make_url

from jiuzhutong.store.events import NOTIFY_CHANNEL

log = logging.getLogger("jiuzhutong.store.listen")


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class NotifyListener:
    def __init__(self, url: str, callback: Callable[[str], None]) -> None:
        self._conninfo = _conninfo(url)
        self._callback = callback
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jzt-listen", daemon=True)

    def start(self, *, wait_s: float = 5.0) -> None:
        self._thread.start()
        self._ready.wait(wait_s)  # LISTEN is in place before the server takes requests

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)

    def _run(self) -> None:
        backoff = 0.2
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._ready.set()
                    backoff = 0.2
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            try:
                                self._callback(note.payload)
                            except Exception:  # a bad payload must not end the listener
                                log.exception("event notification callback failed")
            except psycopg.Error as exc:
                log.warning("LISTEN connection lost (%s); reconnecting", type(exc).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
