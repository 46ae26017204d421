"""GET /applications/{id}/events: the live status as Server-Sent Events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from jiuzhutong.server.deps import Token
from jiuzhutong.server.dispatch import caller_for
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services
from jiuzhutong.service.events import parse_last_event_id

SSE_HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",  # nginx: pass each message on at once
    "Connection": "keep-alive",
}


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/applications/{draft_id}", tags=["events"])
    events = services.events
    call = caller_for(services)

    @r.get(
        "/events",
        response_class=StreamingResponse,
        responses={
            200: {
                "content": {"text/event-stream": {}},
                "description": "id: 序号；event: 类型；data: EventOut（JSON）",
            },
            **error_responses(401, 404),
        },
    )
    async def application_events(
        draft_id: str,
        token: Token,
        last_event_id: Annotated[
            str | None, Header(alias="Last-Event-ID", description="从该序号之后续传")
        ] = None,
        after: int | None = None,
    ) -> StreamingResponse:
        """实时状态（SSE）：授权、经济状况核对进度、提交；断线重连时按 Last-Event-ID 补发。"""
        await call(events.open, token, draft_id)
        last = parse_last_event_id(last_event_id)
        if after is not None and last_event_id is None:
            last = max(after, 0)
        return StreamingResponse(
            events.stream(draft_id, last),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )

    return r
