"""POST /auth/login, POST /auth/logout, GET /auth/me."""

from __future__ import annotations

from fastapi import APIRouter, Response

from jiuzhutong.contract import LoginRequest, LoginResponse, StaffOut
from jiuzhutong.server.deps import Token
from jiuzhutong.server.dispatch import caller_for
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/auth", tags=["auth"])
    auth = services.auth
    call = caller_for(services)

    # def, not async def: argon2 verification takes tens of milliseconds and would stall
    # every other request on the event loop; the threadpool keeps them moving.
    @r.post("/login", response_model=LoginResponse, responses=error_responses(401, 422, 429))
    def login(data: LoginRequest) -> LoginResponse:
        """登录，返回不透明的 token（服务端只保存其 SHA-256）。"""
        return auth.login(data)

    @r.post("/logout", status_code=204, responses=error_responses(401))
    async def logout(token: Token) -> Response:
        """结束当前会话。"""
        await call(auth.logout, token)
        return Response(status_code=204)

    @r.get("/me", response_model=StaffOut, responses=error_responses(401))
    async def me(token: Token) -> StaffOut:
        """当前登录的工作人员。"""
        return await call(auth.me, token)

    return r
