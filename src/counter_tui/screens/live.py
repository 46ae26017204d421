"""A screen's live view of one application: the SSE stream relayed as Textual messages.

``relay`` runs inside a screen's worker (group ending in "-sse": it lasts as long as the
screen) and posts one ``LiveEvent`` per event, ``StreamState`` when the connection goes or
comes back, and ``StreamReconnected`` after a drop, when the screen should read everything
again to be safe. ``counter_tui.events.subscribe`` does the reconnecting with Last-Event-ID.
"""

from __future__ import annotations

from textual.message import Message
from textual.message_pump import MessagePump

from jiuzhutong.contract.authorization import EventOut


class LiveEvent(Message):
    """One event of the application's stream."""

    def __init__(self, event: EventOut) -> None:
        super().__init__()
        self.event = event


class StreamReconnected(Message):
    """The stream came back after a drop: read again what the screen shows."""


class StreamState(Message):
    def __init__(self, connected: bool) -> None:
        super().__init__()
        self.connected = connected


async def relay(target: MessagePump, draft_id: str, after: int | None) -> None:
    """Post the stream's events after seq ``after`` to ``target`` until cancelled; raises
    ClientError when the stream cannot be had at all (e.g. the session ended)."""
    from counter_tui.events import subscribe

    def reconnected() -> None:
        target.post_message(StreamReconnected())

    def state(connected: bool) -> None:
        target.post_message(StreamState(connected))

    async for event in subscribe(
        target.app.client,  # type: ignore[attr-defined]
        draft_id,
        last_event_id=after,
        on_reconnect=reconnected,
        on_state=state,
    ):
        target.post_message(LiveEvent(event))
