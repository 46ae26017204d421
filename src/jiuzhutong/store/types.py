"""Column types shared by the models and the migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python; timestamptz on PostgreSQL, UTC text on SQLite.

    SQLite keeps no zone, so values are normalised to UTC going in and tagged UTC coming
    out; its text form then sorts in time order and range queries work on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to UtcDateTime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def region_string(length: int = 12) -> String:
    # Byte-wise ordering on PostgreSQL whatever the database's collation, so the region
    # prefix range (region >= '4201' AND region < '4202') can use a plain b-tree index.
    return String(length).with_variant(String(length, collation="C"), "postgresql")


Digest = LargeBinary(32)
Blob = LargeBinary()
AuditId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only
