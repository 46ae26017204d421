"""Failed logins, counted in the database so every worker sees the same count."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select

from jiuzhutong.store.models import login_failures_t as t


class LoginFailureRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def record(self, username: str, at: datetime) -> None:
        self._conn.execute(insert(t).values(username=username, at=at))

    def count_since(self, username: str, since: datetime) -> int:
        return self._conn.execute(
            select(func.count()).where(t.c.username == username, t.c.at > since)
        ).scalar_one()

    def prune_before(self, before: datetime) -> None:
        """Rows older than the window no longer count; dropping them keeps the table small."""
        self._conn.execute(delete(t).where(t.c.at < before))
