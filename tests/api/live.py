"""A real uvicorn on 127.0.0.1 and a Server-Sent Events client, for the SSE tests.

httpx's ASGI transport buffers a whole response, so streams are tested over a socket.
"""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from jiuzhutong.server import create_app
from jiuzhutong.server.run import uvicorn_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(settings, services) -> Iterator[str]:
    """The app on a real uvicorn in a thread, sharing ``services`` (and so the store)."""
    port = free_port()
    app = create_app(settings, services=services)
    # access_log stays on: turning it off makes uvicorn drop the log capture's handler
    config = uvicorn_config(app, port=port, loop="asyncio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class SseEvent:
    id: str | None
    event: str | None
    data: Any
    at: float  # time.perf_counter() on arrival


@dataclass
class SseClient:
    """Reads one SSE stream in a thread; events (and comments) land in queues."""

    url: str
    headers: dict[str, str]
    events: queue.Queue = field(default_factory=queue.Queue)
    comments: queue.Queue = field(default_factory=queue.Queue)
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _connected: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    error: BaseException | None = None
    _response: Any = None

    def start(self, timeout: float = 5.0) -> SseClient:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._connected.wait(timeout):
            raise RuntimeError(f"SSE connect timed out: {self.error!r}")
        return self

    def _run(self) -> None:
        try:
            with (
                httpx.Client(timeout=httpx.Timeout(5.0, read=30.0)) as client,
                client.stream("GET", self.url, headers=self.headers) as r,
            ):
                self._response = r
                self.status = r.status_code
                self.response_headers = dict(r.headers)
                self._connected.set()
                if r.status_code != 200:
                    r.read()
                    return
                fields: dict[str, str] = {}
                data: list[str] = []
                for line in r.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if data:  # a block without data (retry:) dispatches nothing
                            payload = "\n".join(data)
                            try:
                                parsed: Any = json.loads(payload)
                            except ValueError:
                                parsed = payload
                            self.events.put(
                                SseEvent(fields.get("id"), fields.get("event"), parsed,
                                         time.perf_counter())
                            )  # fmt: skip
                        fields, data = {}, []
                    elif line.startswith(":"):
                        self.comments.put((line[1:].strip(), time.perf_counter()))
                    else:
                        name, _, value = line.partition(":")
                        value = value.removeprefix(" ")
                        if name == "data":
                            data.append(value)
                        else:
                            fields[name] = value
        except BaseException as exc:  # reported by the test through .error
            self.error = exc
            self._connected.set()

    def next(self, timeout: float = 2.0, *, event: str | None = None) -> SseEvent:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no SSE event {event or ''} within {timeout}s")
            try:
                e = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if event is None or e.event == event:
                return e

    def wait_for(self, predicate, timeout: float = 2.0) -> SseEvent:
        deadline = time.monotonic() + timeout
        while True:
            e = self.next(max(deadline - time.monotonic(), 0.001))
            if predicate(e):
                return e

    def close(self) -> None:
        """Stop reading and drop the connection (the server sees the client leave)."""
        self._stop.set()
        if self._response is not None:
            # a read blocked in another thread ends only when its socket is shut down
            with contextlib.suppress(Exception):
                stream = self._response.extensions["network_stream"]
                stream.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                self._response.close()
        if self._thread is not None:
            self._thread.join(timeout=2)


@contextmanager
def sse(url: str, headers: dict[str, str]) -> Iterator[SseClient]:
    client = SseClient(url, headers).start()
    try:
        yield client
    finally:
        client.close()
