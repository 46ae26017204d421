"""Stored first responses of mutating POSTs, keyed by (staff, Idempotency-Key)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select

from jiuzhutong.security import FieldCipher
from jiuzhutong.store.models import idempotency_t
from jiuzhutong.store.raw import RawExecutor, RawStatement
from jiuzhutong.store.records import StoredResponse

t = idempotency_t
_GET = RawStatement(
    select(t.c.fingerprint, t.c.status, t.c.body_enc, t.c.etag).where(
        t.c.staff_id == bindparam("staff_id"), t.c.key == bindparam("key")
    )
)


def _aad(staff_id: str, key: str) -> bytes:
    return f"idempotency:{staff_id}:{key}".encode()


class IdempotencyRepository:
    def __init__(self, conn: Connection, raw: RawExecutor, cipher: FieldCipher) -> None:
        self._conn = conn
        self._raw = raw
        self._cipher = cipher

    def get(self, staff_id: str, key: str) -> StoredResponse | None:
        row = self._raw.execute(_GET, {"staff_id": staff_id, "key": key}).fetchone()
        if row is None:
            return None
        fingerprint, status, body_enc, etag = row
        body = self._cipher.decrypt(bytes(body_enc), _aad(staff_id, key))
        return StoredResponse(bytes(fingerprint), status, body, etag)

    def put(self, staff_id: str, key: str, response: StoredResponse, now: datetime) -> None:
        """UniqueViolation("pk_idempotency_keys") if a concurrent request stored it first."""
        self._conn.execute(
            insert(t).values(
                staff_id=staff_id,
                key=key,
                fingerprint=response.fingerprint,
                status=response.status,
                body_enc=self._cipher.encrypt(response.body, _aad(staff_id, key)),
                etag=response.etag,
                created_at=now,
            )
        )
