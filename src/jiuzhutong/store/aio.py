"""PostgreSQL statements run on the event loop: a small pool of psycopg AsyncConnections.

The GET of a draft is one autocommitted statement (store.drafts: session check, draft head
and audit row). Run from a worker thread, each request also pays two thread hand-offs and
the GIL contention between the workers and the event loop, which on a 2-core machine that
PostgreSQL shares cost more than psycopg's own work. From the loop, with an asynchronous
connection per statement in flight, nothing leaves the loop's thread and the commits of
concurrent requests still overlap (group commit): measured on the bench machine, the bare
statement at 16 concurrent callers ran at ~8k/s for ~65-80 µs of Python CPU each
through psycopg's cursors, ~50 µs through libpq directly (_Conn).

Only autocommitted single statements run here: a connection goes back to the pool idle,
never inside a transaction. A connection that failed (or whose statement was cancelled
midway) is closed, not reused; the caller gets DatabaseUnavailable and decides (the draft
read then runs its ordinary synchronous transaction, which reports errors as always).

The pool is not tied to one event loop: connections wait on whichever loop runs the
statement (psycopg looks the loop up at each wait), and a caller waiting for a free
connection is woken on its own loop. That matters for the tests' TestClient, which runs
requests on short-lived loops of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import make_url
from sqlalchemy.dialects import postgresql

from jiuzhutong.store.errors import DatabaseUnavailable
from jiuzhutong.store.raw import RawStatement

log = logging.getLogger(__name__)

# as many as the synchronous engine's pool: one statement in flight per connection
ASYNC_POOL_SIZE = 8
# how long a statement waits for a free connection before DatabaseUnavailable (as the
# synchronous engine's pool_timeout)
POOL_TIMEOUT_S = 30.0
# how these connections show in pg_stat_activity
APPLICATION_NAME = "jiuzhutong-aio"
_DIALECT = postgresql.psycopg.dialect()  # type: ignore[attr-defined]


def conninfo(url: str) -> str:
    """The libpq connection string of a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class AsyncPool:
    def __init__(self, url: str, size: int = ASYNC_POOL_SIZE) -> None:
        self._conninfo = conninfo(url)
        self._size = size
        self._lock = threading.Lock()
        self._idle: list[_Conn] = []
        self._open = 0  # connections open or being opened
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = deque()
        self._closed = False

    async def fetchone(self, statement: RawStatement, params: Mapping[str, Any]) -> Any:
        """Run one statement in autocommit, prepared on the server, and return its first
        row (a tuple, or None). DatabaseUnavailable when the statement or the connection
        failed, or its outcome is unknown."""
        prepared = _prepared(statement)
        conn = await self._acquire()
        try:
            row = await conn.fetchone(prepared, params)
        except BaseException as exc:
            # cancelled midway or failed: its state is unknown, so it is not reused
            self._discard(conn)
            if isinstance(exc, psycopg.Error):
                raise DatabaseUnavailable(_first_line(exc)) from exc
            raise
        self._release(conn)
        return row

    # --- the pool -------------------------------------------------------------------------

    async def _acquire(self) -> _Conn:
        with self._lock:
            if self._closed:
                raise DatabaseUnavailable("connection pool closed")
            if self._idle:
                return self._idle.pop()
            if self._open < self._size:
                self._open += 1
                waiter = None
            else:
                loop = asyncio.get_running_loop()
                waiter = loop.create_future()
                self._waiters.append((loop, waiter))
        if waiter is None:
            try:
                return await _Conn.connect(self._conninfo)
            except BaseException as exc:
                with self._lock:
                    self._open -= 1
                if isinstance(exc, psycopg.Error):
                    raise DatabaseUnavailable(_first_line(exc)) from exc
                raise
        timer = loop.call_later(POOL_TIMEOUT_S, _expire, waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            # handed a connection just before the cancellation: pass it on
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())
            raise
        finally:
            timer.cancel()

    def _release(self, conn: _Conn) -> None:
        if not conn.idle():
            self._discard(conn)
            return
        with self._lock:
            if self._closed:
                self._finish(conn)
                self._open -= 1
                return
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                if waiter.done():
                    continue  # cancelled meanwhile
                try:
                    running = asyncio.get_running_loop()
                except RuntimeError:
                    running = None
                if loop is running:
                    waiter.set_result(conn)
                    return
                try:
                    loop.call_soon_threadsafe(self._deliver, waiter, conn)
                    return
                except RuntimeError:
                    continue  # that loop is closed
            self._idle.append(conn)

    def _deliver(self, waiter: asyncio.Future[Any], conn: _Conn) -> None:
        if waiter.done():
            self._release(conn)
        else:
            waiter.set_result(conn)

    def _discard(self, conn: _Conn) -> None:
        self._finish(conn)
        with self._lock:
            self._open -= 1
            # a waiter may now open a connection of its own: wake one to retry
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                if waiter.done():
                    continue
                self._open += 1
                try:
                    loop.call_soon_threadsafe(self._reopen_for, waiter)
                    return
                except RuntimeError:
                    self._open -= 1

    def _reopen_for(self, waiter: asyncio.Future[Any]) -> None:
        async def reopen() -> None:
            try:
                conn = await _Conn.connect(self._conninfo)
            except BaseException as exc:
                with self._lock:
                    self._open -= 1
                if not waiter.done():
                    waiter.set_exception(DatabaseUnavailable(_first_line(exc)))
                if not isinstance(exc, Exception):
                    raise
                return
            self._deliver(waiter, conn)

        if waiter.done():
            with self._lock:
                self._open -= 1
            return
        task = asyncio.get_running_loop().create_task(reopen())
        _background.add(task)
        task.add_done_callback(_background.discard)

    @staticmethod
    def _finish(conn: _Conn) -> None:
        try:
            conn.pgconn.finish()  # synchronous: no loop needed, nothing left to say
        except Exception:  # already gone
            log.debug("closing an async connection failed", exc_info=True)

    def close(self) -> None:
        """Close the idle connections now, the busy ones when they come back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            waiters, self._waiters = list(self._waiters), deque()
        for conn in idle:
            self._finish(conn)
        for loop, waiter in waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed
                loop.call_soon_threadsafe(_expire, waiter)


_background: set[asyncio.Task[None]] = set()


class _Prepared:
    """A statement as libpq takes it: $n placeholders, the parameter names in their order,
    the values it carries itself, and the name it is prepared under on every connection."""

    __slots__ = ("fixed", "name", "names", "query")

    def __init__(self, statement: RawStatement, name: bytes) -> None:
        sql, _order, fixed = statement.compiled(_DIALECT)
        names: list[str] = []

        def number(m: re.Match[str]) -> str:
            if m.group(1) is None:
                return "%"  # a literal %, escaped as %% in the pyformat text
            if m.group(1) not in names:
                names.append(m.group(1))
            return f"${names.index(m.group(1)) + 1}"

        self.query = _PYFORMAT.sub(number, sql).encode()
        self.names = tuple(names)
        self.fixed = fixed
        self.name = name


_PYFORMAT = re.compile(r"%\((\w+)\)s|%%")
_PREPARED: dict[int, _Prepared] = {}
_PREPARED_LOCK = threading.Lock()


def _prepared(statement: RawStatement) -> _Prepared:
    found = _PREPARED.get(id(statement))
    if found is None:
        with _PREPARED_LOCK:
            found = _PREPARED.get(id(statement))
            if found is None:
                name = f"jzt_aio_{len(_PREPARED)}".encode()
                # the RawStatements are module constants: their ids stay theirs
                found = _PREPARED[id(statement)] = _Prepared(statement, name)
    return found


class _Conn:
    """One autocommit connection, driven through libpq directly.

    psycopg's cursor machinery (its prepared-statement manager, result bookkeeping and
    generic wait loop) was about a third of the whole statement's CPU in this process;
    for one prepared statement with a one-row result, the connection's libpq handle and
    a Transformer for the values do the same: send, wait until the socket is readable,
    read the result, load the row."""

    __slots__ = ("_fd", "_prepared", "_tx", "conn", "pgconn")

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self.conn = conn
        self.pgconn = conn.pgconn
        self._fd = self.pgconn.socket
        self._tx = Transformer(conn)
        # statement name -> the parameter types it was prepared with
        self._prepared: dict[bytes, tuple[int, ...]] = {}

    @classmethod
    async def connect(cls, conninfo: str) -> _Conn:
        conn = await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, application_name=APPLICATION_NAME
        )
        return cls(conn)

    def idle(self) -> bool:
        return self.pgconn.transaction_status == pq.TransactionStatus.IDLE

    async def fetchone(self, statement: _Prepared, params: Mapping[str, Any]) -> Any:
        pgconn = self.pgconn
        tx = self._tx
        fixed = statement.fixed
        values = [params[n] if n in params else fixed[n] for n in statement.names]
        dumped = tx.dump_sequence(values, [PyFormat.AUTO] * len(values))
        types = tx.types
        prepared = self._prepared.get(statement.name)
        if prepared is None:
            pgconn.send_prepare(statement.name, statement.query, param_types=types)
            await self._flush()
            self._check(await self._result(), pq.ExecStatus.COMMAND_OK)
            prepared = self._prepared[statement.name] = types
        if prepared == types:
            pgconn.send_query_prepared(statement.name, dumped, param_formats=tx.formats)
        else:  # values of other types than it was prepared for (an int of another size...)
            pgconn.send_query_params(
                statement.query, dumped, param_types=types, param_formats=tx.formats
            )
        await self._flush()
        result = self._check(await self._result(), pq.ExecStatus.TUPLES_OK)
        if not result.ntuples:
            return None
        tx.set_pgresult(result)
        return tx.load_row(0, tuple)

    async def _flush(self) -> None:
        while self.pgconn.flush():  # 1: not all sent yet (rare: the statement is small)
            await self._ready(write=True)

    async def _result(self) -> pq.abc.PGresult:
        pgconn = self.pgconn
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                break
            await self._ready(write=False)
        result = pgconn.get_result()
        if result is None:
            raise psycopg.OperationalError("no result from the server")
        while pgconn.get_result() is not None:  # the end of this command's results
            pass
        return result

    def _check(self, result: pq.abc.PGresult, expected: pq.ExecStatus) -> pq.abc.PGresult:
        if result.status == expected:
            return result
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise psycopg.errors.error_from_result(result, encoding=self.conn.info.encoding)
        raise psycopg.OperationalError(f"unexpected result status {result.status}")

    async def _ready(self, *, write: bool) -> None:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        fd = self._fd
        if write:
            loop.add_writer(fd, _wake, waiter)
            try:
                await waiter
            finally:
                loop.remove_writer(fd)
        else:
            loop.add_reader(fd, _wake, waiter)
            try:
                await waiter
            finally:
                loop.remove_reader(fd)


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(DatabaseUnavailable("no free connection in the async pool"))
        waiter.exception()  # retrieved: a waiter cancelled meanwhile must not warn


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
