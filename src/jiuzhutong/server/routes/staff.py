"""POST /staff, GET /staff (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from jiuzhutong.contract import StaffCreate, StaffOut
from jiuzhutong.server.deps import IdempotencyKey, Token, idempotency, reply_response
from jiuzhutong.server.dispatch import caller_for, in_threadpool
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/staff", tags=["staff"])
    staff = services.staff
    call = caller_for(services)

    @r.post(
        "",
        status_code=201,
        response_model=StaffOut,
        responses=error_responses(401, 403, 409, 422),
    )
    async def create_staff(
        data: StaffCreate, request: Request, token: Token, key: IdempotencyKey = None
    ) -> Response:
        """创建工作人员账号（仅系统管理员，且只能在其所辖区域内）。"""
        idem = idempotency(services, request, key, await request.body())
        # in the threadpool: the new password is hashed with argon2, which is slow
        reply = await in_threadpool(staff.create, token, data, idem)
        return reply_response(reply)

    @r.get("", response_model=list[StaffOut], responses=error_responses(401, 403))
    async def list_staff(token: Token) -> list[StaffOut]:
        """所辖区域内的工作人员（仅系统管理员）。"""
        return await call(staff.list, token)

    return r
