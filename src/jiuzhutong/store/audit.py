"""The append-only audit trail. Only INSERT and SELECT live here, on purpose."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select

from jiuzhutong.store.models import audit_t
from jiuzhutong.store.raw import RawExecutor, RawStatement
from jiuzhutong.store.records import AuditEntry, AuditRecord

_INSERT = RawStatement(
    insert(audit_t),
    ["at", "staff_id", "counter_id", "action", "subject_type", "subject_id", "detail"],
)
MAX_DETAIL = 500


class AuditRepository:
    def __init__(self, conn: Connection, raw: RawExecutor) -> None:
        self._conn = conn
        self._raw = raw

    def append(self, entries: Sequence[AuditEntry], at: datetime) -> None:
        params = [
            {
                "at": at,
                "staff_id": e.staff_id,
                "counter_id": e.counter_id,
                "action": e.action,
                "subject_type": e.subject_type,
                "subject_id": e.subject_id,
                "detail": e.detail[:MAX_DETAIL] if e.detail else e.detail,
            }
            for e in entries
        ]
        # deferred: nothing reads the rows back, and on PostgreSQL they then travel with
        # the COMMIT of the same transaction (store.raw)
        if len(params) == 1:
            self._raw.defer(_INSERT, params[0])
        else:
            self._raw.defer_many(_INSERT, params)

    def list(
        self,
        *,
        subject_id: str | None = None,
        action: str | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[AuditRecord]:
        stmt = select(audit_t).where(audit_t.c.id > after_id)
        if subject_id is not None:
            stmt = stmt.where(audit_t.c.subject_id == subject_id)
        if action is not None:
            stmt = stmt.where(audit_t.c.action == action)
        rows = self._conn.execute(stmt.order_by(audit_t.c.id).limit(limit))
        return [
            AuditRecord(
                id=r.id,
                at=r.at,
                staff_id=r.staff_id,
                counter_id=r.counter_id,
                action=r.action,
                subject_type=r.subject_type,
                subject_id=r.subject_id,
                detail=r.detail,
            )
            for r in rows
        ]
