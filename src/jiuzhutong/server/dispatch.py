"""How the async endpoints run the synchronous use cases.

SQLite: ``async def`` endpoints call the store directly. Measured with bench-style load (16
keep-alive clients, GET and PATCH of drafts, 2 CPUs shared with the load generator): the
direct call gave 1.2-2.0k GET/s against 0.9-1.2k through the threadpool, with a lower p99 —
every write is serialised on one connection anyway, and a request costs a few hundred
microseconds of CPU, less than the threadpool hop.

PostgreSQL: a bounded pool of DB_WORKERS threads, one per pooled connection. A GET of a
draft is now one autocommitted statement (service.drafts, store.drafts), so what it waits
for is mostly PostgreSQL's WAL flush of that commit; on the event loop those flushes come
one after another with every client waiting behind each, from workers they overlap (group
commit) while the loop goes on parsing and answering HTTP (psycopg releases the GIL while
it waits). Measured (bench/api.py --quick, same run conditions): 0.89k GET/s through the
pool against 0.65k on the event loop. (Before the GET was one statement, with five round
trips of little work each, the hand-offs cost more than they saved: 0.4-0.5k vs 0.55-0.75k.)
The bound keeps the number of transactions in flight at the engine's pool size.

The masked GET of a draft on PostgreSQL no longer comes here at all in the common case:
DraftService.read_async runs its one statement on the event loop over asynchronous
connections (store.aio), so the commits still overlap without a thread hand-off, and only
what that statement does not serve (a cache miss, a session touch due, refusals, errors)
is given to the Caller. Measured (bench/api.py --quick, 16 clients, 2 cores): 1.7k GET/s
through the worker pool against 4.1-4.4k on the loop, with a baseline of ~9.2k.

``in_threadpool`` remains for argon2 (tens of milliseconds of CPU in C, which releases the
GIL).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from starlette.concurrency import run_in_threadpool

from jiuzhutong.service import Services

T = TypeVar("T")


class Caller(Protocol):
    def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Awaitable[T]: ...


async def _direct(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    return fn(*args, **kwargs)


class _Pooled:
    """A Caller that runs the use case on a worker of its own bounded pool."""

    def __init__(self, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jzt-db")

    async def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        # the caller's context vars travel along, as with starlette's run_in_threadpool
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False)


# = store.engine.make_engine's default pool_size: one pooled connection per worker
DB_WORKERS = 8
# one pool per Services (all routers of an app share it), gone with the Services
_pools: weakref.WeakKeyDictionary[Services, _Pooled] = weakref.WeakKeyDictionary()


def caller_for(services: Services) -> Caller:
    if services.store.database.is_sqlite:
        return _direct
    pooled = _pools.get(services)
    if pooled is None:
        pooled = _pools[services] = _Pooled(DB_WORKERS)
        weakref.finalize(services, pooled.shutdown)
    return pooled


async def in_threadpool(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Always off the event loop: for argon2 hashing and verification (tens of ms)."""
    return await run_in_threadpool(fn, *args, **kwargs)
