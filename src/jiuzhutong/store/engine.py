"""Engine setup and transactions for SQLite and PostgreSQL.

SQLite: WAL, busy_timeout, foreign keys, synchronous=NORMAL; write transactions start with
``BEGIN IMMEDIATE`` (so a transaction that reads and then writes never has to upgrade its
lock, which fails at once under WAL instead of waiting) and take an in-process lock first,
so the threads of one process queue in Python rather than spinning on busy_timeout.
PostgreSQL: psycopg 3, READ COMMITTED; writers are serialised per row by the database.

SQLite checkpoints: with synchronous=NORMAL a WAL commit does not fsync, but the automatic
checkpoint (every ~1000 pages) runs inside whichever COMMIT crosses the threshold and
fsyncs the database file there: 5-35 ms stalls on the thread that serves every client,
which was the whole of PATCH's p99. So the serving connections never checkpoint
(wal_autocheckpoint=0) and a background thread of this Database runs a PASSIVE checkpoint
every CHECKPOINT_INTERVAL_S (it never blocks writers or readers; its fsync releases the
GIL), and a RESTART one when the WAL has grown large, so the file cannot grow without bound
while readers keep old snapshots. Durability is unchanged: the WAL is the durable copy
either way, and closing the last connection checkpoints as before.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from jiuzhutong.store.aio import AsyncPool
from jiuzhutong.store.errors import DatabaseBusy, DatabaseUnavailable, UniqueViolation

SQLITE_BUSY_TIMEOUT_MS = 5000
_IMMEDIATE = "jzt_immediate"
CHECKPOINT_INTERVAL_S = 0.25
# WAL frames (pages) after which the checkpointer tries RESTART instead of PASSIVE
CHECKPOINT_RESTART_FRAMES = 8000
# Connection.info key of the statements a repository handed to RawExecutor.defer()
DEFERRED = "jzt_deferred"
_POOL_LOCK = threading.Lock()


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
        self._checkpointer: _Checkpointer | None = None
        self._async_pool: AsyncPool | None = None
        if self.is_sqlite:
            path = self.engine.url.database
            if path and path != ":memory:" and not path.startswith("file:"):
                self._checkpointer = _Checkpointer(path)
                _no_autocheckpoint(self.engine)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction; commits on success, rolls back on any exception."""
        if self._write_lock is None:
            with _translate_errors(), self.engine.connect() as conn:
                # only for this transaction: info outlives the checkout, and a read
                # transaction must not queue statements nobody would send
                deferred: list[tuple[str, Any]] = []
                conn.info[DEFERRED] = deferred
                try:
                    with conn.begin():
                        yield conn
                        if deferred:
                            _flush_deferred(conn, deferred)
                finally:
                    conn.info.pop(DEFERRED, None)
            return
        if self._checkpointer is not None:
            self._checkpointer.start()
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

    @property
    def async_pool(self) -> AsyncPool | None:
        """PostgreSQL: the pool of asynchronous connections for statements run on the event
        loop (store.aio), opened on first use; None on SQLite."""
        if self.is_sqlite:
            return None
        pool = self._async_pool
        if pool is None:
            with _POOL_LOCK:
                pool = self._async_pool
                if pool is None:
                    url = self.engine.url.render_as_string(hide_password=False)
                    pool = self._async_pool = AsyncPool(url)
        return pool

    def dispose(self) -> None:
        pool, self._async_pool = self._async_pool, None  # opened again if used again
        if pool is not None:
            pool.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self._write_lock is not None:
            with self._write_lock:
                if self._writer is not None:
                    self._writer.close()
                    self._writer = None
        self.engine.dispose()


def _flush_deferred(conn: Connection, deferred: list[tuple[str, Any]]) -> None:
    """The deferred statements (results unused: audit rows, session touches) and the
    COMMIT that follows them in one pipeline, i.e. one network round trip instead of one
    each. Still inside the transaction: an error here rolls everything back."""
    driver = conn.connection.driver_connection
    with driver.pipeline():
        cursor = driver.cursor()
        for sql, params in deferred:
            cursor.execute(sql, params)
        deferred.clear()
        conn.commit()  # queued in the pipeline; the block's end syncs and raises any error


def _no_autocheckpoint(engine: Engine) -> None:
    """This engine's connections leave checkpoints to the Database's _Checkpointer (only
    there: a bare engine, as store.bulk or the migrations use, keeps SQLite's default)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA wal_autocheckpoint=0").close()


class _Checkpointer:
    """Runs the WAL checkpoints of one SQLite file on a daemon thread (module docstring)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(
                    target=self._run, name="jzt-wal-checkpoint", daemon=True
                )
                self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=10)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, timeout=0, isolation_level=None)
        except sqlite3.Error:
            return
        try:
            conn.execute("PRAGMA wal_autocheckpoint=0")
            while not self._stop.wait(CHECKPOINT_INTERVAL_S):
                self._checkpoint(conn)
            self._checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def _checkpoint(conn: sqlite3.Connection) -> None:
        try:
            _busy, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if frames >= CHECKPOINT_RESTART_FRAMES and done == frames:
                # all copied but readers keep the WAL from being reused: RESTART waits
                # (busy_timeout 0 here, so not at all) for them and rewinds the file
                conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        except sqlite3.Error:
            pass  # busy or closing: the next round tries again


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
