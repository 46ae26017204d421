"""The live status of one application: an SSE subscription to /applications/{id}/events.

``subscribe`` is an async iterator of ``EventOut``. It parses the ``text/event-stream`` lines
(``id:``, ``event:``, ``data:``, comments, ``retry:``), and when the connection drops it
reconnects with ``Last-Event-ID`` after a growing backoff, so nothing said while the line was
down is lost. ``on_reconnect`` is called after each successful reconnect (not the first
connect): the screen re-reads the board then, to be safe.

Only httpx and the contract: no textual here, so it is cheap to import and easy to test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from pydantic import ValidationError

from counter_tui.client import ApiClient
from counter_tui.errors import ClientError, error_for
from jiuzhutong.contract import ErrorBody, ErrorItem
from jiuzhutong.contract.authorization import EventOut

BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)  # seconds before each further reconnect attempt
# Keep-alive comments arrive every few seconds; a silent line this long is a dead one.
READ_TIMEOUT = 60.0


@dataclass
class SseMessage:
    id: str | None = None
    event: str = "message"
    data: list[str] = field(default_factory=list)


class SseParser:
    """Incremental ``text/event-stream`` parser (WHATWG rules, line by line)."""

    def __init__(self) -> None:
        self._current = SseMessage()
        self.retry_ms: int | None = None

    def feed(self, line: str) -> SseMessage | None:
        """One line without its newline; returns a message when a blank line ends one."""
        if line == "":
            msg, self._current = self._current, SseMessage()
            return msg if msg.data else None
        if line.startswith(":"):
            return None  # comment (keep-alive)
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "id":
            self._current.id = value
        elif name == "event":
            self._current.event = value
        elif name == "data":
            self._current.data.append(value)
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None


def to_event(msg: SseMessage) -> EventOut | None:
    try:
        return EventOut.model_validate_json("\n".join(msg.data))
    except ValidationError:
        return None  # not ours (or a newer type): skip it rather than stop listening


async def subscribe(
    client: ApiClient,
    draft_id: str,
    *,
    last_event_id: int | None = None,
    on_reconnect: Callable[[], Awaitable[None] | None] | None = None,
    on_state: Callable[[bool], None] | None = None,
    backoff: tuple[float, ...] = BACKOFF,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[EventOut]:
    """Yield the application's events for ever (until cancelled, or a 4xx answer).

    ``on_state(True)`` when connected, ``on_state(False)`` when the line dropped.
    Raises the client's typed error on a 4xx (401 session gone, 404 no such draft).
    """
    last = last_event_id
    failures = 0
    connected_before = False
    timeout = httpx.Timeout(connect=3.0, read=READ_TIMEOUT, write=10.0, pool=5.0)
    async with httpx.AsyncClient(timeout=timeout, transport=transport) as http:
        while True:
            headers = {"Accept": "text/event-stream", **client.auth_headers()}
            if last is not None:
                headers["Last-Event-ID"] = str(last)
            try:
                async with http.stream("GET", client.events_url(draft_id), headers=headers) as r:
                    if 400 <= r.status_code < 500:
                        await r.aread()
                        raise _error(r)
                    if r.status_code != 200:
                        raise httpx.TransportError(f"HTTP {r.status_code}")
                    failures = 0
                    if on_state is not None:
                        on_state(True)
                    if connected_before and on_reconnect is not None:
                        result = on_reconnect()
                        if result is not None:
                            await result
                    connected_before = True
                    parser = SseParser()
                    async for line in r.aiter_lines():
                        msg = parser.feed(line.rstrip("\r"))
                        if msg is None:
                            continue
                        event = to_event(msg)
                        if msg.id is not None and msg.id.isdigit():
                            last = int(msg.id)
                        elif event is not None:
                            last = event.seq
                        if event is not None:
                            yield event
            except ClientError:
                raise
            except (httpx.TransportError, httpx.StreamError):
                pass  # dropped, refused, timed out: reconnect below
            if on_state is not None:
                on_state(False)
            await asyncio.sleep(backoff[min(failures, len(backoff) - 1)])
            failures += 1


def _error(response: httpx.Response) -> ClientError:
    try:
        body = ErrorBody.model_validate_json(response.content)
    except ValidationError:
        body = ErrorBody(
            detail=[
                ErrorItem(
                    code=f"http_{response.status_code}",
                    message=f"服务返回错误（HTTP {response.status_code}）",
                )
            ]
        )
    return error_for(response.status_code, body)
