"""Household members: /applications/{id}/members[/{member_id}]."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from jiuzhutong.contract import DraftOut, MemberIn, MemberUpdate
from jiuzhutong.server.deps import (
    ETAG_HEADER,
    IdempotencyKey,
    IfMatch,
    Token,
    idempotency,
    parse_if_match,
    reply_response,
)
from jiuzhutong.server.dispatch import caller_for
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/applications/{draft_id}/members", tags=["members"])
    members = services.members
    call = caller_for(services)

    @r.post(
        "",
        status_code=201,
        response_model=DraftOut,
        responses={
            201: {"headers": ETAG_HEADER},
            **error_responses(401, 404, 412, 422, 428),
        },
    )
    async def add_member(
        draft_id: str,
        data: MemberIn,
        request: Request,
        token: Token,
        if_match: IfMatch = None,
        key: IdempotencyKey = None,
    ) -> Response:
        """添加家庭成员；检查全部家庭规则，一次列出所有问题。"""
        idem = idempotency(services, request, key, await request.body())
        reply = await call(members.add, token, draft_id, parse_if_match(if_match), data, idem)
        return reply_response(reply)

    @r.patch(
        "/{member_id}",
        response_model=DraftOut,
        responses={
            200: {"headers": ETAG_HEADER},
            **error_responses(401, 404, 409, 412, 422, 428),
        },
    )
    async def update_member(
        draft_id: str,
        member_id: str,
        data: MemberUpdate,
        token: Token,
        if_match: IfMatch = None,
    ) -> Response:
        """修改家庭成员：只改发送的字段。"""
        version = parse_if_match(if_match)
        reply = await call(members.update, token, draft_id, member_id, version, data)
        return reply_response(reply)

    @r.delete(
        "/{member_id}",
        response_model=DraftOut,
        responses={
            200: {"headers": ETAG_HEADER},
            **error_responses(401, 404, 412, 422, 428),
        },
    )
    async def remove_member(
        draft_id: str, member_id: str, token: Token, if_match: IfMatch = None
    ) -> Response:
        """移除家庭成员；申请人本人不能移除。"""
        reply = await call(members.remove, token, draft_id, member_id, parse_if_match(if_match))
        return reply_response(reply)

    return r
