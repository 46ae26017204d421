"""Application events (the SSE stream's history): a per-application sequence number, the
event rows (data encrypted: it may name residents) and, on PostgreSQL, NOTIFY on commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, text

from jiuzhutong.security import FieldCipher
from jiuzhutong.store.models import application_events_t, event_counters_t

# The channel every server process LISTENs on; the payload is "<application id> <seq> <origin>".
NOTIFY_CHANNEL = "jzt_events"

_NEXT_SEQ = text(
    "INSERT INTO event_counters (application_id, last_seq) VALUES (:a, 1) "
    "ON CONFLICT (application_id) DO UPDATE SET last_seq = event_counters.last_seq + 1 "
    "RETURNING last_seq"
)
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


@dataclass(frozen=True, slots=True)
class EventRecord:
    application_id: str
    seq: int
    type: str
    at: datetime
    data_json: str = field(repr=False)


def _aad(application_id: str, seq: int) -> bytes:
    return f"application_events:data:{application_id}:{seq}".encode()


class EventRepository:
    def __init__(self, conn: Connection, cipher: FieldCipher) -> None:
        self._conn = conn
        self._cipher = cipher

    def append(self, application_id: str, type_: str, data_json: str, at: datetime) -> int:
        """The next seq of the application, with its event row; both in this transaction."""
        seq = int(self._conn.execute(_NEXT_SEQ, {"a": application_id}).scalar_one())
        self._conn.execute(
            insert(application_events_t).values(
                application_id=application_id,
                seq=seq,
                type=type_,
                data_enc=self._cipher.encrypt(data_json, _aad(application_id, seq)),
                at=at,
            )
        )
        return seq

    def notify(self, payload: str) -> None:
        """PostgreSQL delivers a NOTIFY only when (and if) the transaction commits."""
        if self._conn.dialect.name == "postgresql":
            self._conn.execute(_NOTIFY, {"channel": NOTIFY_CHANNEL, "payload": payload})

    def last_seq(self, application_id: str) -> int:
        value = self._conn.execute(
            select(event_counters_t.c.last_seq).where(
                event_counters_t.c.application_id == application_id
            )
        ).scalar_one_or_none()
        return int(value or 0)

    def after(self, application_id: str, after_seq: int, limit: int = 500) -> list[EventRecord]:
        t = application_events_t
        rows = self._conn.execute(
            select(t.c.seq, t.c.type, t.c.at, t.c.data_enc)
            .where(t.c.application_id == application_id, t.c.seq > after_seq)
            .order_by(t.c.seq)
            .limit(limit)
        )
        return [
            EventRecord(
                application_id=application_id,
                seq=r.seq,
                type=r.type,
                at=r.at,
                data_json=self._cipher.decrypt(r.data_enc, _aad(application_id, r.seq)),
            )
            for r in rows
        ]

    def count(self, application_id: str) -> int:
        t = application_events_t
        return int(
            self._conn.execute(
                select(func.count()).select_from(t).where(t.c.application_id == application_id)
            ).scalar_one()
        )
