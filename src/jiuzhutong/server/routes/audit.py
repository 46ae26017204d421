"""GET /admin/audit (admin only). No route changes or deletes audit rows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from jiuzhutong.contract import AuditEventOut
from jiuzhutong.server.deps import Token
from jiuzhutong.server.dispatch import caller_for
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/admin", tags=["audit"])
    audit = services.audit
    call = caller_for(services)

    @r.get("/audit", response_model=list[AuditEventOut], responses=error_responses(401, 403, 422))
    async def list_audit(
        token: Token,
        subject_id: Annotated[str | None, Query(max_length=64)] = None,
        action: Annotated[str | None, Query(max_length=40)] = None,
        after_id: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[AuditEventOut]:
        """审计记录，按 id 升序，从 after_id 之后开始。"""
        return await call(
            audit.list, token, subject_id=subject_id, action=action, after_id=after_id, limit=limit
        )

    return r
