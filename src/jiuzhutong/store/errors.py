"""Exceptions of the store; the service translates them into its own errors."""

from __future__ import annotations


class StoreError(Exception):
    pass


class VersionConflict(StoreError):
    """The row was not at the expected version (or no longer exists) when it was written."""

    def __init__(self, current_version: int | None) -> None:
        super().__init__(f"version conflict (current {current_version})")
        self.current_version = current_version


class UniqueViolation(StoreError):
    def __init__(self, constraint: str) -> None:
        super().__init__(f"unique constraint {constraint} violated")
        self.constraint = constraint


class DatabaseBusy(StoreError):
    """SQLite stayed locked by another process for longer than busy_timeout."""


class DatabaseUnavailable(StoreError):
    """The database could not be reached or used (connection refused, file not openable)."""


class SchemaNotAtHead(StoreError):
    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(
            f"database schema is at {current or 'no revision'}, this version needs {head}; "
            "run `jiuzhutong migrate --db URL` first"
        )
        self.current = current
        self.head = head
