"""GET /divisions, GET /divisions/{code}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from jiuzhutong.contract import DivisionOut
from jiuzhutong.server.deps import Token
from jiuzhutong.server.dispatch import caller_for
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/divisions", tags=["divisions"])
    auth, divisions = services.auth, services.divisions
    call = caller_for(services)

    @r.get("", response_model=list[DivisionOut], responses=error_responses(401, 404))
    async def list_divisions(
        token: Token,
        parent: Annotated[str | None, Query(max_length=12, description="上级区划代码")] = None,
    ) -> list[DivisionOut]:
        """下级行政区划；不给 parent 时为湖北省各市州。"""
        await call(auth.read_actor, token)
        return divisions.children(parent)

    @r.get("/{code}", response_model=DivisionOut, responses=error_responses(401, 404))
    async def get_division(token: Token, code: str) -> DivisionOut:
        """一个行政区划。"""
        await call(auth.read_actor, token)
        return divisions.get(code)

    return r
