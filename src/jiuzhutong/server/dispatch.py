"""How the async endpoints run the synchronous use cases.

Decision: ``async def`` endpoints call the store directly, on both databases. Measured with
bench-style load (16 keep-alive clients, GET and PATCH of drafts, 2 CPUs shared with the
load generator): on SQLite the direct call gave 1.2-2.0k GET/s against 0.9-1.2k through
the threadpool, with a lower p99 — every write is serialised on one connection anyway, and
a request costs a few hundred microseconds of CPU, less than the threadpool hop. On
PostgreSQL, where one might expect overlapping network waits to favour threads, the hop
and GIL hand-offs still cost more than the sub-millisecond local round trips (0.4-0.5k vs
0.55-0.75k GET/s). ``in_threadpool`` remains for argon2 (tens of milliseconds of CPU in C,
which releases the GIL). Switch ``caller_for`` if a deployment's database is far away.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from starlette.concurrency import run_in_threadpool

from jiuzhutong.service import Services

T = TypeVar("T")


class Caller(Protocol):
    def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Awaitable[T]: ...


async def _direct(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    return fn(*args, **kwargs)


def caller_for(services: Services) -> Caller:
    del services  # the same answer for both databases today (see above)
    return _direct


async def in_threadpool(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Always off the event loop: for argon2 hashing and verification (tens of ms)."""
    return await run_in_threadpool(fn, *args, **kwargs)
