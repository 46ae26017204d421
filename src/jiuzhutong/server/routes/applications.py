"""Draft applications: /applications and /applications/{id}."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from jiuzhutong.contract import DraftCreate, DraftOut, DraftSummary, DraftUpdate, LookupRequest
from jiuzhutong.server.deps import (
    ETAG_HEADER,
    IdempotencyKey,
    IfMatch,
    Token,
    bearer_token,
    idempotency,
    parse_bool_query,
    parse_if_match,
    reply_response,
)
from jiuzhutong.server.dispatch import caller_for
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services

GET_DRAFT_OPENAPI = {
    "parameters": [
        {"name": "draft_id", "in": "path", "required": True, "schema": {"type": "string"}},
        {
            "name": "reveal",
            "in": "query",
            "required": False,
            "schema": {"type": "boolean", "default": False},
            "description": "显示完整身份证号（需 can_reveal，每次留审计）",
        },
    ],
    "security": [{"BearerToken": []}],
}


class _BareRoute(APIRoute):
    """An APIRoute (matched, documented in OpenAPI and wrapped in the app's exception
    handlers as any other) whose endpoint takes the Request and returns the Response
    itself: no dependency solving, no response model validation — the endpoint declares
    neither. Only for endpoints of exactly that shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        params = list(inspect.signature(self.endpoint).parameters.values())
        if len(params) != 1 or params[0].annotation not in (Request, "Request"):
            raise TypeError(f"{self.endpoint.__name__}: a _BareRoute endpoint takes the Request")
        return self.endpoint


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/applications", tags=["applications"])
    drafts = services.drafts
    call = caller_for(services)

    # async def + call(): the store directly on SQLite, the threadpool on PostgreSQL —
    # measured, see jiuzhutong.server.dispatch.

    # The hottest endpoint takes the bare Request: FastAPI's per-parameter solving (token
    # dependency, path and query parameters) costs about a third of what the whole read
    # costs. The parameters are declared for OpenAPI in openapi_extra instead, and parsed
    # here exactly as the declared ones would be; and with no parameter left to solve, the
    # route runs the endpoint itself (_BareRoute) rather than FastAPI's request handler.
    async def get_application(request: Request) -> Response:
        """读取草稿；每次读取都写审计记录。"""
        token = await bearer_token(request)
        # no query string (nearly every read): no parsing of it either
        reveal = parse_bool_query(request, "reveal") if request.scope["query_string"] else False
        # PostgreSQL: its one audited statement on the event loop (see DraftService.read_async)
        reply = await drafts.read_async(call, token, request.path_params["draft_id"], reveal=reveal)
        return reply_response(reply)

    r.add_api_route(
        "/{draft_id}",
        get_application,
        methods=["GET"],
        response_model=DraftOut,
        responses={200: {"headers": ETAG_HEADER}, **error_responses(401, 403, 404, 422)},
        openapi_extra=GET_DRAFT_OPENAPI,
        route_class_override=_BareRoute,
    )

    @r.post(
        "",
        status_code=201,
        response_model=DraftOut,
        responses={
            201: {"headers": ETAG_HEADER},
            **error_responses(401, 409, 422),
        },
    )
    async def create_application(
        data: DraftCreate, request: Request, token: Token, key: IdempotencyKey = None
    ) -> Response:
        """新建申请草稿（本人申请 / 代他人申请）。同一申请人只能有一份未完成草稿。"""
        idem = idempotency(services, request, key, await request.body())
        return reply_response(await call(drafts.create, token, data, idem))

    @r.get("", response_model=list[DraftSummary], responses=error_responses(401))
    async def list_applications(token: Token) -> list[DraftSummary]:
        """本区域未完成的草稿，最近修改的在前。"""
        return await call(drafts.list_open, token)

    @r.post("/lookup", response_model=list[DraftSummary], responses=error_responses(401, 422))
    async def lookup_applications(data: LookupRequest, token: Token) -> list[DraftSummary]:
        """按申请人身份证号精确查找本区域的草稿（号码放在请求体中，不进访问日志）。"""
        return await call(drafts.lookup, token, data)

    @r.patch(
        "/{draft_id}",
        response_model=DraftOut,
        responses={
            200: {"headers": ETAG_HEADER},
            **error_responses(401, 404, 409, 412, 422, 428),
        },
    )
    async def update_application(
        draft_id: str, data: DraftUpdate, token: Token, if_match: IfMatch = None
    ) -> Response:
        """修改草稿：只改发送的字段；details 按字段合并，null 表示清除。"""
        reply = await call(drafts.update, token, draft_id, parse_if_match(if_match), data)
        return reply_response(reply)

    @r.delete("/{draft_id}", status_code=204, responses=error_responses(401, 404, 412, 428))
    async def delete_application(draft_id: str, token: Token, if_match: IfMatch = None) -> Response:
        """删除草稿（标记为已删除，不物理删除）。"""
        await call(drafts.delete, token, draft_id, parse_if_match(if_match))
        return Response(status_code=204)

    return r
