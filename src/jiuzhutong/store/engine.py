"""Engine setup and transactions for SQLite and PostgreSQL.

SQLite: WAL, busy_timeout, foreign keys, synchronous=NORMAL; write transactions start with
``BEGIN IMMEDIATE`` (so a transaction that reads and then writes never has to upgrade its
lock, which fails at once under WAL instead of waiting) and take an in-process lock first,
so the threads of one process queue in Python rather than spinning on busy_timeout.
PostgreSQL: psycopg 3, READ COMMITTED; writers are serialised per row by the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from jiuzhutong.store.errors import DatabaseBusy, DatabaseUnavailable, UniqueViolation

SQLITE_BUSY_TIMEOUT_MS = 5000
_IMMEDIATE = "jzt_immediate"


def make_engine(url: str, *, pool_size: int = 8) -> Engine:
    sa_url = make_url(url)
    # Bound parameters hold ciphertext and blind indexes, not plain personal data, but
    # hiding them keeps SQL logs and exception texts free of anything row-specific.
    common: dict[str, Any] = {"hide_parameters": True}
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            sa_url,
            pool_size=pool_size,
            max_overflow=8,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **common,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(sa_url, pool_size=pool_size, max_overflow=8, pool_pre_ping=False, **common)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # SQLAlchemy emits BEGIN itself (below); the driver's legacy implicit BEGIN would
        # start DML transactions as DEFERRED and leave SELECTs outside any transaction.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        driver = conn.connection.driver_connection
        if driver.in_transaction:
            return  # Database.write() began it already (see there)
        # straight to the driver: exec_driver_sql would cost more than the BEGIN itself
        immediate = conn.get_execution_options().get(_IMMEDIATE)
        driver.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """An engine plus the two kinds of transaction the repositories run in."""

    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self.dialect = self.engine.dialect.name  # "sqlite" | "postgresql"
        self.is_sqlite = self.dialect == "sqlite"
        self._write_lock = threading.Lock() if self.is_sqlite else None
        # SQLite has one writer at a time anyway; keeping its connection open spares every
        # write transaction a pool checkout and return
        self._writer: Connection | None = None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction; commits on success, rolls back on any exception."""
        if self._write_lock is None:
            with _translate_errors(), self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with self._write_lock, _translate_errors():
            conn = self._writer_connection()
            # BEGIN and COMMIT go to the driver directly; SQLAlchemy's own transaction
            # bookkeeping costs more than the statements on this path. If a repository
            # ran a Core statement, the Connection autobegan (the begin hook then sees
            # the open transaction and emits nothing) and must end the transaction itself.
            driver = conn.connection.driver_connection
            driver.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                if conn.in_transaction():
                    conn.commit()
                else:
                    driver.commit()
            except BaseException:
                # also after a failed COMMIT: the connection must not stay in a transaction
                try:
                    if conn.in_transaction():
                        conn.rollback()
                    elif driver.in_transaction:
                        driver.rollback()
                finally:
                    if conn.invalidated or conn.closed:
                        self._writer = None
                raise

    def _writer_connection(self) -> Connection:
        if self._writer is None or self._writer.closed or self._writer.invalidated:
            self._writer = self.engine.connect().execution_options(**{_IMMEDIATE: True})
        return self._writer

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (one consistent snapshot on SQLite's WAL)."""
        with _translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn
            # nothing to commit; ending the block commits the empty transaction

    def dispose(self) -> None:
        if self._write_lock is not None:
            with self._write_lock:
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None
        self.engine.dispose()


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except IntegrityError as exc:
        name = unique_constraint_name(exc)
        if name is not None:
            raise UniqueViolation(name) from exc
        raise
    except OperationalError as exc:
        text = str(exc.orig).lower()
        if "database is locked" in text or "busy" in text:
            raise DatabaseBusy() from exc
        raise DatabaseUnavailable(str(exc.orig).strip().splitlines()[0]) from exc


def unique_constraint_name(exc: IntegrityError) -> str | None:
    """The violated unique constraint or index, as named in models.py, if it is one."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg
        if getattr(orig, "sqlstate", None) == "23505":
            return diag.constraint_name
        return None
    message = str(orig)
    if not message.startswith("UNIQUE constraint failed"):
        return None
    # SQLite names the columns, not the index: "UNIQUE constraint failed: staff.username"
    columns = message.split(":", 1)[1].strip()
    return _SQLITE_UNIQUE.get(columns, columns)


_SQLITE_UNIQUE = {
    "staff.username": "uq_staff_username",
    "applications.applicant_blind": "uq_applications_open_applicant",
    "sessions.token_hash": "uq_sessions_token_hash",
    "idempotency_keys.staff_id, idempotency_keys.key": "pk_idempotency_keys",
    "divisions.code": "pk_divisions",
}
