"""Staff accounts and their login sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from jiuzhutong.store.models import sessions_t, staff_t
from jiuzhutong.store.raw import RawExecutor, RawStatement
from jiuzhutong.store.records import SessionRecord, StaffRecord

_STAFF_COLS = (
    staff_t.c.id,
    staff_t.c.username,
    staff_t.c.display_name,
    staff_t.c.role,
    staff_t.c.region,
    staff_t.c.can_reveal,
    staff_t.c.active,
    staff_t.c.created_at,
    staff_t.c.password_hash,
)

# also the first columns of a combined read (store.drafts), parsed by session_from_row
SESSION_COLUMNS = (
    sessions_t.c.id.label("session_id"),
    sessions_t.c.counter_id,
    sessions_t.c.created_at.label("session_created_at"),
    sessions_t.c.last_seen_at,
    sessions_t.c.expires_at,
    *_STAFF_COLS,
)
SESSION_FROM = sessions_t.join(staff_t, sessions_t.c.staff_id == staff_t.c.id)
SESSION_WHERE = (
    sessions_t.c.token_hash == bindparam("token_hash"),
    sessions_t.c.ended_at.is_(None),
)
_SESSION_BY_TOKEN = RawStatement(
    select(*SESSION_COLUMNS).select_from(SESSION_FROM).where(*SESSION_WHERE)
)
_TOUCH = RawStatement(
    update(sessions_t)
    .where(sessions_t.c.id == bindparam("sid"))
    .values(last_seen_at=bindparam("now"))
)


def _staff(row: Row) -> StaffRecord:
    return StaffRecord(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        region=row.region,
        can_reveal=bool(row.can_reveal),
        active=bool(row.active),
        created_at=row.created_at,
        password_hash=row.password_hash,
    )


class StaffRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, staff: StaffRecord) -> None:
        self._conn.execute(
            insert(staff_t).values(
                id=staff.id,
                username=staff.username,
                display_name=staff.display_name,
                role=staff.role,
                region=staff.region,
                can_reveal=staff.can_reveal,
                active=staff.active,
                created_at=staff.created_at,
                password_hash=staff.password_hash,
            )
        )

    def get(self, staff_id: str) -> StaffRecord | None:
        row = self._conn.execute(select(*_STAFF_COLS).where(staff_t.c.id == staff_id)).first()
        return _staff(row) if row else None

    def by_username(self, username: str) -> StaffRecord | None:
        row = self._conn.execute(select(*_STAFF_COLS).where(staff_t.c.username == username)).first()
        return _staff(row) if row else None

    def list(self) -> list[StaffRecord]:
        rows = self._conn.execute(select(*_STAFF_COLS).order_by(staff_t.c.username))
        return [_staff(r) for r in rows]

    def count(self) -> int:
        return self._conn.execute(select(func.count()).select_from(staff_t)).scalar_one()

    def set_password_hash(self, staff_id: str, password_hash: str) -> None:
        self._conn.execute(
            update(staff_t).where(staff_t.c.id == staff_id).values(password_hash=password_hash)
        )


class SessionRepository:
    def __init__(self, conn: Connection, raw: RawExecutor) -> None:
        self._conn = conn
        self._raw = raw

    def insert(
        self,
        *,
        session_id: str,
        token_hash: bytes,
        staff_id: str,
        counter_id: str,
        now: datetime,
        expires_at: datetime,
    ) -> None:
        self._conn.execute(
            insert(sessions_t).values(
                id=session_id,
                token_hash=token_hash,
                staff_id=staff_id,
                counter_id=counter_id,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
            )
        )

    def by_token_hash(self, token_hash: bytes) -> SessionRecord | None:
        """The open (not logged-out) session with this token; expiry is the caller's rule."""
        raw = self._raw
        row = raw.execute(_SESSION_BY_TOKEN, {"token_hash": token_hash}).fetchone()
        return None if row is None else session_from_row(raw, row)

    def touch(self, session_id: str, now: datetime) -> None:
        self._raw.defer(_TOUCH, {"sid": session_id, "now": now})

    def end(self, session_id: str, now: datetime) -> None:
        self._conn.execute(
            update(sessions_t)
            .where(sessions_t.c.id == session_id, sessions_t.c.ended_at.is_(None))
            .values(ended_at=now)
        )


N_SESSION_COLUMNS = len(SESSION_COLUMNS)


def session_from_row(raw: RawExecutor, row: Sequence[Any]) -> SessionRecord:
    """A SessionRecord from the first N_SESSION_COLUMNS values of a SESSION_COLUMNS row."""
    (sid, counter_id, created_at, last_seen_at, expires_at, *s) = row[:N_SESSION_COLUMNS]
    staff = StaffRecord(
        id=s[0],
        username=s[1],
        display_name=s[2],
        role=s[3],
        region=s[4],
        can_reveal=bool(s[5]),
        active=bool(s[6]),
        created_at=raw.time(s[7]),
        password_hash=s[8],
    )
    return SessionRecord(
        id=sid,
        staff=staff,
        counter_id=counter_id,
        created_at=raw.time(created_at),
        last_seen_at=raw.time(last_seen_at),
        expires_at=raw.time(expires_at),
    )
