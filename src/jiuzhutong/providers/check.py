"""Run the economic check: every source at once, each with its own timeout and retries.

One slow or broken agency must not hold up or sink the others: each source runs in its own
task, a source that keeps failing ends 失败 and the result lists it as missing, and the
check still returns what the others said. Progress goes out per source (查询中 → 完成/失败)
through an async callback, which the service turns into events for the screen.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from jiuzhutong.contract.economic import SIMULATED_TEXT, SourceName, SourceProgress, SourceState
from jiuzhutong.domain.economic import EconomicItem
from jiuzhutong.domain.errors import DomainErrors
from jiuzhutong.domain.household import Person
from jiuzhutong.providers.base import EconomicDataSource, SourceError

ProgressCallback = Callable[[SourceProgress], Awaitable[None]]

DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF_S = 0.2


@dataclass(frozen=True)
class CheckResult:
    items: tuple[EconomicItem, ...]  # in source order, then person order
    states: dict[SourceName, SourceProgress]  # final state per queried source, in source order
    elapsed_s: float

    @property
    def missing(self) -> list[SourceName]:
        """Sources without a completed answer: failed ones and any never queried."""
        return [
            n
            for n in SourceName
            if n not in self.states or self.states[n].state is not SourceState.done
        ]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def final_states(self) -> list[SourceProgress]:
        return list(self.states.values())


async def _ignore(_: SourceProgress) -> None:
    return None


async def run_economic_check(
    sources: Sequence[EconomicDataSource],
    persons: Sequence[Person],
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    retries: int = DEFAULT_RETRIES,
    backoff_s: float = DEFAULT_BACKOFF_S,
    on_progress: ProgressCallback | None = None,
) -> CheckResult:
    """Query every source about every person; never raises because a source failed.

    ``timeout_s`` bounds one attempt of one source (all persons together); a failed or
    timed-out attempt is retried up to ``retries`` times after ``backoff_s × attempt``.
    Errors raised by ``on_progress`` itself do propagate: losing progress events is a bug
    in the caller, not a missing source, and must not be reported as one.
    """
    if timeout_s <= 0:
        raise ValueError(f"timeout_s must be > 0: {timeout_s}")
    if retries < 0:
        raise ValueError(f"retries must be >= 0: {retries}")
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise ValueError(f"each source may appear once: {[n.value for n in names]}")
    notify = on_progress or _ignore
    started = time.perf_counter()
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [
                group.create_task(_run_source(s, persons, timeout_s, retries, backoff_s, notify))
                for s in sources
            ]
    except BaseExceptionGroup as group_error:
        # Only the progress callback can get here; hand its own error back, not a group.
        first = group_error.exceptions[0]
        raise first from (group_error if len(group_error.exceptions) > 1 else None)
    items: list[EconomicItem] = []
    states: dict[SourceName, SourceProgress] = {}
    for source, task in zip(sources, tasks, strict=True):
        found, final = task.result()
        items.extend(found)
        states[source.name] = final
    return CheckResult(tuple(items), states, time.perf_counter() - started)


def _label(source: EconomicDataSource) -> str:
    return f"{source.name.value}（{SIMULATED_TEXT}）" if source.simulated else source.name.value


async def _run_source(
    source: EconomicDataSource,
    persons: Sequence[Person],
    timeout_s: float,
    retries: int,
    backoff_s: float,
    notify: ProgressCallback,
) -> tuple[list[EconomicItem], SourceProgress]:
    label = _label(source)
    attempts = retries + 1
    reason = ""
    for attempt in range(1, attempts + 1):
        if attempt == 1:
            message = f"正在查询{label}"
        else:
            message = f"{label}第{attempt - 1}次查询{reason}，正在重试（第{attempt}次）"
        await notify(_progress(source, SourceState.querying, attempt, message))
        try:
            async with asyncio.timeout(timeout_s):
                found = await _fetch_all(source, persons)
        except TimeoutError:
            reason = f"超时（{timeout_s:g}秒）"
        except Exception as exc:
            # Anything an adapter raises is that source failing; CancelledError is not an
            # Exception, so cancelling the whole check still cancels it.
            reason = f"失败：{_describe(exc)}"
        else:
            done = _progress(
                source,
                SourceState.done,
                attempt,
                f"{label}查询完成，{len(found)}条记录",
                item_count=len(found),
            )
            await notify(done)
            return found, done
        if attempt < attempts and backoff_s > 0:
            await asyncio.sleep(backoff_s * attempt)
    failed = _progress(
        source,
        SourceState.failed,
        attempts,
        f"{label}查询失败：{reason.removeprefix('失败：')}（已尝试{attempts}次），结果中缺少该来源",
    )
    await notify(failed)
    return [], failed


async def _fetch_all(source: EconomicDataSource, persons: Sequence[Person]) -> list[EconomicItem]:
    # Persons are queried at once too; the TaskGroup cancels the rest when one fails.
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(source.fetch(p)) for p in persons]
    items: list[EconomicItem] = []
    for person, task in zip(persons, tasks, strict=True):
        for n, item in enumerate(task.result()):
            if not isinstance(item, EconomicItem):
                raise SourceError("返回的数据格式不正确")
            # The runner, not the adapter, says whose record it is, where it came from and
            # whether it is simulated: an adapter cannot mislabel what it returned.
            items.append(
                replace(
                    item,
                    id=f"{source.name.name}.{person.ref}.{n}",
                    person_ref=person.ref,
                    source=source.name,
                    simulated=item.simulated or source.simulated,
                )
            )
    return items


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        return _describe(exc.exceptions[0])
    if isinstance(exc, SourceError):
        return exc.message
    if isinstance(exc, DomainErrors):
        return f"返回的数据不合规（{exc}）"
    if isinstance(exc, TimeoutError):
        return "超时"
    # Not str(exc): an adapter's exception text may quote the request, ID number included.
    return f"数据源异常（{type(exc).__name__}）"


def _progress(
    source: EconomicDataSource,
    state: SourceState,
    attempt: int,
    message: str,
    item_count: int | None = None,
) -> SourceProgress:
    return SourceProgress(
        source=source.name,
        state=state,
        attempt=attempt,
        message=message,
        simulated=source.simulated,
        item_count=item_count,
    )
