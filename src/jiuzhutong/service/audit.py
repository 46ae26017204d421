"""Reading the audit trail (admins only). There is deliberately no way to change it."""

from __future__ import annotations

from jiuzhutong.contract import AuditEventOut
from jiuzhutong.domain.permissions import can_manage_staff
from jiuzhutong.service.auth import AuthService
from jiuzhutong.service.context import Context
from jiuzhutong.service.errors import Forbidden
from jiuzhutong.service.views import audit_out

MAX_LIMIT = 500


class AuditService:
    def __init__(self, ctx: Context, auth: AuthService) -> None:
        self._ctx = ctx
        self._auth = auth

    def list(
        self,
        token: str,
        *,
        subject_id: str | None = None,
        action: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[AuditEventOut]:
        actor = self._auth.read_actor(token)
        if not can_manage_staff(actor.role):
            raise Forbidden("只有系统管理员可以查看审计记录")
        with self._ctx.store.read() as tx:
            rows = tx.audit.list(
                subject_id=subject_id,
                action=action,
                after_id=after_id,
                limit=max(1, min(limit, MAX_LIMIT)),
            )
        return [audit_out(r) for r in rows]
