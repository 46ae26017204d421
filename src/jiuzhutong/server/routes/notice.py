"""GET /notice, GET /notice/{version}."""

from __future__ import annotations

from fastapi import APIRouter

from jiuzhutong.contract.authorization import NoticeOut
from jiuzhutong.server.deps import Token
from jiuzhutong.server.dispatch import caller_for
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services, notice


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/notice", tags=["authorization"])
    auth = services.auth
    call = caller_for(services)

    @r.get("", response_model=NoticeOut, responses=error_responses(401))
    async def current_notice(token: Token) -> NoticeOut:
        """当前版本的《告知书、申请授权及承诺书》。"""
        await call(auth.read_actor, token)
        return notice.current()

    @r.get("/{version}", response_model=NoticeOut, responses=error_responses(401, 404))
    async def notice_version(token: Token, version: str) -> NoticeOut:
        """指定版本的告知书（已签名记录所依据的旧版本）。"""
        await call(auth.read_actor, token)
        return notice.version(version)

    return r
