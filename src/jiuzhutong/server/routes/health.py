"""GET /healthz."""

from __future__ import annotations

from fastapi import APIRouter

from jiuzhutong.contract import HealthOut
from jiuzhutong.server.dispatch import caller_for
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services


def router(services: Services) -> APIRouter:
    r = APIRouter(tags=["service"])

    call = caller_for(services)

    @r.get("/healthz", response_model=HealthOut, responses=error_responses(503))
    async def healthz() -> HealthOut:
        """服务与数据库是否可用（无需登录）。"""
        return await call(services.health)

    return r
