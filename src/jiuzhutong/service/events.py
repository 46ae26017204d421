"""Live status: application events, their in-process fan-out and the cross-process one.

``record_event`` writes an event row in the caller's transaction (seq per application, from
1). Once that transaction commits, the streams of this process waiting on the application
wake up (``HUB``), and on PostgreSQL the NOTIFY sent inside the transaction — delivered by
the database only on commit — wakes the streams of every other server process through
their ``NotifyListener``. A woken stream reads the events table after its last seq, so a
wake-up carries no data and a lost one costs at most a keep-alive interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from jiuzhutong.contract import DraftStatus
from jiuzhutong.contract.authorization import EventOut, EventType
from jiuzhutong.service.auth import AuthService
from jiuzhutong.service.context import Context
from jiuzhutong.service.drafts import not_found
from jiuzhutong.store import Tx
from jiuzhutong.store.events import EventRecord

DELETED = DraftStatus.deleted.value
ORIGIN = uuid.uuid4().hex[:12]  # this process; its own notifications are already delivered


class Subscription:
    """One waiting stream; ``wake`` may be called from any thread."""

    __slots__ = ("_event", "_loop", "application_id")

    def __init__(self, application_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.application_id = application_id
        self._loop = loop
        self._event = asyncio.Event()

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: the stream has ended
            self._loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> bool:
        """True when woken (and re-armed), False after ``timeout`` seconds of quiet."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        self._event.clear()
        return True


class EventHub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = {}

    def subscribe(self, application_id: str) -> Subscription:
        sub = Subscription(application_id, asyncio.get_running_loop())
        with self._lock:
            self._subs.setdefault(application_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.application_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.application_id]

    def publish(self, application_id: str) -> None:
        with self._lock:
            subs = list(self._subs.get(application_id, ()))
        for sub in subs:
            sub.wake()

    def on_notify(self, payload: str) -> None:
        """A PostgreSQL notification: "<application id> <seq> <origin>"."""
        parts = payload.split(" ")
        if len(parts) == 3 and parts[2] != ORIGIN:
            self.publish(parts[0])

    def listeners(self, application_id: str) -> int:
        with self._lock:
            return len(self._subs.get(application_id, ()))


HUB = EventHub()


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def record_event(
    tx: Tx,
    application_id: str,
    type: EventType,
    data: dict,
    *,
    at: datetime | None = None,
) -> int:
    """Append an event in ``tx``; listeners wake once it commits. Returns the event's seq.

    ``data`` must be JSON-serialisable (datetimes are written in ISO form); ``at`` defaults
    to the system clock — pass the use case's clock time where there is one.
    """
    data_json = json.dumps(data, ensure_ascii=False, default=_json_default, sort_keys=True)
    when = at or datetime.now(UTC)
    seq = tx.events.append(application_id, EventType(type).value, data_json, when)
    tx.events.notify(f"{application_id} {seq} {ORIGIN}")
    tx.after_commit(lambda: HUB.publish(application_id))
    return seq


def event_out(r: EventRecord) -> EventOut:
    return EventOut(
        seq=r.seq,
        type=EventType(r.type),
        application_id=r.application_id,
        at=r.at,
        data=json.loads(r.data_json),
    )


def sse_message(event: EventOut) -> bytes:
    """One Server-Sent Events message: id, event and a one-line JSON data field."""
    return (
        f"id: {event.seq}\nevent: {event.type.value}\ndata: {event.model_dump_json()}\n\n"
    ).encode()


KEEP_ALIVE = b": keep-alive\n\n"


def parse_last_event_id(value: str | None) -> int:
    if value is None:
        return 0
    value = value.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else 0


class EventService:
    """The stream behind GET /applications/{id}/events."""

    def __init__(self, ctx: Context, auth: AuthService, hub: EventHub = HUB) -> None:
        self._ctx = ctx
        self._auth = auth
        self._hub = hub
        self._listener: Any = None

    def open(self, token: str, application_id: str) -> None:
        """Checks before the stream starts: logged in, and the application is in scope."""
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.read() as tx:
            actor = self._auth.authenticate(tx, token, now)
            # a submitted application keeps its stream (its last events say so); a deleted
            # draft, one out of scope or none at all is 404 like everywhere else
            draft = tx.drafts.get(application_id)
            if draft is None or draft.status == DELETED or not actor.serves(draft.region):
                raise not_found()

    def after(self, application_id: str, after_seq: int) -> list[EventOut]:
        with self._ctx.store.read() as tx:
            return [event_out(r) for r in tx.events.after(application_id, after_seq)]

    async def stream(
        self,
        application_id: str,
        last_seq: int,
        *,
        keep_alive_s: float | None = None,
    ) -> AsyncIterator[bytes]:
        """SSE bytes: what came after ``last_seq``, then each new event; comments when quiet.

        Subscribes before the first read, so nothing committed in between is missed.
        """
        keep_alive = keep_alive_s or self._ctx.settings.sse_keepalive_seconds
        sub = self._hub.subscribe(application_id)
        try:
            yield b"retry: 2000\n\n"
            while True:
                for event in self.after(application_id, last_seq):
                    last_seq = event.seq
                    yield sse_message(event)
                if not await sub.wait(keep_alive):
                    yield KEEP_ALIVE
        finally:
            self._hub.unsubscribe(sub)

    # --- PostgreSQL fan-out -------------------------------------------------------------

    def start_listening(self) -> None:
        """One LISTEN connection per server process (PostgreSQL only; SQLite has one)."""
        database = self._ctx.store.database
        if database.is_sqlite or self._listener is not None:
            return
        from jiuzhutong.store.listen import NotifyListener

        self._listener = NotifyListener(database.url, self._hub.on_notify)
        self._listener.start()

    def stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
