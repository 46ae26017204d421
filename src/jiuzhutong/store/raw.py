"""The hot statements, run on the DBAPI connection itself.

SQLAlchemy Core builds and compiles them (once per dialect), but executing through a
Connection costs tens of microseconds of Python per statement — more than SQLite needs for
the statement itself. GET /applications/{id} is five statements, so the request paths the
counters hit all day (session check, draft read, audit insert, version compare-and-set) go
straight to the driver's cursor, inside the same transaction as everything else.

PostgreSQL: every statement is a network round trip, and so is the COMMIT. Statements
whose result nobody reads (audit rows, session touches, person updates) are deferred:
queued, then sent in one pipeline with the COMMIT (store.engine), one round trip for all.
(Pipelining the implicit BEGIN with the first statement too was measured slower: entering
and leaving psycopg's pipeline mode costs more CPU than the round trip it saves.)
The deferred statements stay in the same transaction, so an audit row is durable exactly
when the read it records commits; their errors surface at the next statement or at
COMMIT, and roll the transaction back like any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

# what SQLAlchemy's SQLite DATETIME type stores, so raw and Core rows compare equal
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


class RawStatement:
    def __init__(self, statement: ClauseElement, column_keys: Sequence[str] | None = None) -> None:
        self._statement = statement
        self._column_keys = list(column_keys) if column_keys is not None else None
        self._compiled: dict[str, tuple[str, list[str] | None, dict[str, Any]]] = {}

    def compiled(self, dialect: Dialect) -> tuple[str, list[str] | None, dict[str, Any]]:
        """(SQL text, parameter names in order for positional paramstyles or None, and the
        values of binds the statement carries itself, such as the 1 in version + 1)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            c = self._statement.compile(dialect=dialect, column_keys=self._column_keys)
            sql = str(c)
            order = list(c.positiontup) if c.positional else None
            fixed = {
                k: b.effective_value
                for k, b in c.binds.items()
                if not b.required and (k in order if order is not None else f"%({k})s" in sql)
            }
            found = (sql, order, fixed)
            self._compiled[dialect.name] = found
        return found


class RawExecutor:
    def __init__(
        self,
        driver_connection: Any,
        dialect: Dialect,
        deferred: list[tuple[str, Any]] | None = None,
    ) -> None:
        """``deferred``: where defer() queues statements for the transaction to send with
        its COMMIT (PostgreSQL write transactions); None runs them at once."""
        self._conn = driver_connection
        self._dialect = dialect
        self._sqlite = dialect.name == "sqlite"
        self._deferred = None if self._sqlite else deferred

    @property
    def driver(self) -> Any:
        return self._conn

    def execute(self, statement: RawStatement, params: Mapping[str, Any]) -> Any:
        sql, order, fixed = statement.compiled(self._dialect)
        cursor = self._conn.cursor()
        bound = self._params({**fixed, **params} if fixed else params, order)
        if self._sqlite:
            cursor.execute(sql, bound)
            return cursor
        if self._deferred:
            self.flush()  # they came first, so they run first
        cursor.execute(sql, bound)
        return cursor

    def defer(self, statement: RawStatement, params: Mapping[str, Any]) -> None:
        """Run a statement whose result is not needed, as late as the transaction allows."""
        if self._deferred is None:
            self.execute(statement, params).close()
            return
        sql, order, fixed = statement.compiled(self._dialect)
        self._deferred.append((sql, self._params({**fixed, **params} if fixed else params, order)))

    def defer_many(self, statement: RawStatement, rows: Iterable[Mapping[str, Any]]) -> None:
        if self._deferred is None:
            self.executemany(statement, rows)
            return
        for params in rows:
            self.defer(statement, params)

    def executemany(self, statement: RawStatement, rows: Iterable[Mapping[str, Any]]) -> None:
        sql, order, fixed = statement.compiled(self._dialect)
        if self._deferred:
            self.flush()
        cursor = self._conn.cursor()
        cursor.executemany(sql, [self._params({**fixed, **p}, order) for p in rows])
        cursor.close()

    def flush(self) -> None:
        """Send the deferred statements now (before a statement that must follow them)."""
        deferred = self._deferred
        if deferred:
            cursor = self._conn.cursor()
            for sql, params in deferred:
                cursor.execute(sql, params)
            cursor.close()
            deferred.clear()

    def _params(self, params: Mapping[str, Any], order: list[str] | None) -> Any:
        if self._sqlite:
            return tuple(
                _sqlite_time(v) if isinstance(v, datetime) else v
                for v in (params[name] for name in order or ())
            )
        return params

    def bind_time(self, value: datetime) -> Any:
        """A timestamp as this driver takes it (to convert once for many rows)."""
        return _sqlite_time(value) if self._sqlite else value

    def time(self, value: Any) -> datetime | None:
        """A timestamp column's value as an aware UTC datetime."""
        if value is None:
            return None
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value if value.tzinfo is UTC else value.astimezone(UTC)


def _sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime(_SQLITE_TIME)
