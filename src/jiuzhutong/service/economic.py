"""The household economic check (家庭经济状况核对): start, progress, status, corrections, confirm.

POST economic-check starts a run in its own write transaction and hands it to a job runner:
an asyncio loop on a thread of its own in the server process, so the queries of a slow
source never hold up a request, and a request's event loop ending (a test client's) does
not cancel a run. Each progress report of each source is an ``economic.progress`` event,
written in a short transaction of its own; the end writes the result and ``economic.done``.

The status is assembled on every read from the stored items (as generated), the
applicant's corrections (rows of their own, never merged into the items) and the current
household, with the standard of the applicant's 户籍 division as 参考.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import datetime

from jiuzhutong.contract import DraftStatus
from jiuzhutong.contract.authorization import EventType
from jiuzhutong.contract.economic import (
    CorrectionIn,
    EconomicItemOut,
    SourceProgress,
    SourceState,
)
from jiuzhutong.domain.economic import (
    EconomicStatus,
    assemble_status,
    check_corrections,
    confirm,
    correction_from_in,
    item_from_out,
)
from jiuzhutong.domain.household import Person
from jiuzhutong.domain.property import PropertyThresholds, load_property_thresholds
from jiuzhutong.domain.standards import StandardsTable, load_standards
from jiuzhutong.providers.check import CheckResult, run_economic_check
from jiuzhutong.providers.registry import Providers, build_providers
from jiuzhutong.service.auth import AuthService
from jiuzhutong.service.authorization import all_authorized
from jiuzhutong.service.clock import local_today
from jiuzhutong.service.context import Context
from jiuzhutong.service.drafts import DraftAccess
from jiuzhutong.service.errors import Conflict, Invalid, NotFound, Problem
from jiuzhutong.service.events import record_event
from jiuzhutong.service.reply import Reply
from jiuzhutong.service.views import domain_person
from jiuzhutong.store import Tx
from jiuzhutong.store.economic import RUNNING, CorrectionRecord, EconomicCheckRecord
from jiuzhutong.store.errors import UniqueViolation
from jiuzhutong.store.records import AuditEntry, DraftRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckJob:
    application_id: str
    run_id: str
    persons: tuple[Person, ...]
    persons_digest: bytes


def persons_digest(ctx: Context, draft: DraftRecord) -> bytes:
    """Who was checked: keyed digest of each person's id, ID number and name, in order.

    A later change of any of them (3a resets that person to 待授权) makes the result stale.
    """
    text = "|".join(f"{p.id}:{p.id_number}:{p.name}" for p in draft.persons)
    return ctx.store.cipher.blind_index(text, b"economic.persons")


def not_authorized_problems(names: Sequence[str]) -> list[Problem]:
    return [
        Problem("person_not_authorized", f"{name}尚未完成授权（应为“已授权”）", "authorizations")
        for name in names
    ]


class JobRunner:
    """An event loop on a daemon thread; runs are coroutines submitted to it."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _ensure(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="jzt-economic-jobs", daemon=True
                )
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    def submit(self, coro) -> Future:  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self._ensure())

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return

        async def _cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(_cancel_all(), loop).result(5)
        except Exception:  # closing must not fail because a run would not stop
            log.warning("economic check runs did not stop in time")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        if not thread.is_alive():
            loop.close()


class EconomicService:
    def __init__(self, ctx: Context, auth: AuthService, providers: Providers | None = None) -> None:
        self._ctx = ctx
        self._auth = auth
        s = ctx.settings
        self._providers = providers
        self.timeout_s = s.economic_timeout_s
        self.retries = s.economic_retries
        self.backoff_s = s.economic_backoff_s
        self.standards: StandardsTable = load_standards(s.standards_file)
        self.thresholds: PropertyThresholds = load_property_thresholds()
        self._runner = JobRunner()
        self._futures: dict[str, Future] = {}

    @property
    def providers(self) -> Providers:
        """Built once, on first use: the server touches it at start-up, where production
        refuses simulated sources; the admin CLI (migrate, create-staff) never needs them."""
        if self._providers is None:
            s = self._ctx.settings
            self._providers = build_providers(s.env, s.economic_latency_s)
        return self._providers

    @providers.setter
    def providers(self, value: Providers) -> None:
        self._providers = value

    # --- start -------------------------------------------------------------------------

    def start(self, token: str, application_id: str) -> Reply:
        try:
            job, reply = self._start(token, application_id)
        except UniqueViolation:  # a concurrent start inserted the row first
            raise already_running() from None
        future = self._runner.submit(self._run(job))
        self._futures[application_id] = future

        def _forget(f: Future, key: str = application_id) -> None:
            if self._futures.get(key) is f:
                self._futures.pop(key, None)

        future.add_done_callback(_forget)
        return reply

    def _start(self, token: str, application_id: str) -> tuple[CheckJob, Reply]:
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            draft = DraftAccess.visible(tx, actor, application_id)
            missing = all_authorized(tx, application_id)
            if missing:
                raise Invalid(not_authorized_problems(missing))
            existing = tx.economic.get(application_id, for_update=True)
            if (
                existing is not None
                and existing.state == RUNNING
                and not self._abandoned(existing, now)
            ):
                raise already_running()
            run_id = str(uuid.uuid4())
            tx.economic.start(application_id, run_id, now, actor.staff_id, new=existing is None)
            tx.audit.append(
                [
                    actor.audit(
                        "economic.start",
                        "application",
                        application_id,
                        f"run={run_id} persons={len(draft.persons)}",
                    )
                ],
                now,
            )
            job = CheckJob(
                application_id,
                run_id,
                tuple(domain_person(p) for p in draft.persons),
                persons_digest(ctx, draft),
            )
        body = json.dumps(
            {
                "application_id": application_id,
                "run_id": run_id,
                "state": SourceState.querying.value,
                "started_at": now.isoformat(),
                "sources": [s.name.value for s in self.providers.sources],
            },
            ensure_ascii=False,
        )
        log.info(
            "economic check %s of %s started by staff %s", run_id, application_id, actor.staff_id
        )
        return job, Reply(202, body)

    def _abandoned(self, row: EconomicCheckRecord, now: datetime) -> bool:
        """A run still marked running long after it must have ended (its process died)."""
        attempts = self.retries + 1
        bound = attempts * self.timeout_s + self.backoff_s * attempts * attempts + 60
        return (now - row.started_at).total_seconds() > bound

    # --- the run -----------------------------------------------------------------------

    async def _run(self, job: CheckJob) -> None:
        pending: list[SourceProgress] = []

        async def on_progress(progress: SourceProgress) -> None:
            # Sources report in bursts (ten 查询中 at the start): the reports that arrive
            # together go out in one short transaction, in order. A source goes on only
            # once its own report is committed, so its events never overtake each other.
            pending.append(progress)
            await asyncio.sleep(0)  # let the others of the burst report too
            if pending:
                batch = pending[:]
                pending.clear()
                self._events(job.application_id, batch)

        try:
            result = await run_economic_check(
                self.providers.sources,
                job.persons,
                timeout_s=self.timeout_s,
                retries=self.retries,
                backoff_s=self.backoff_s,
                on_progress=on_progress,
            )
            self._finish(job, result)
        except asyncio.CancelledError:
            self._fail(job)
            raise
        except Exception as exc:
            log.error("economic check %s failed: %s", job.run_id, type(exc).__name__)
            self._fail(job)

    def _events(self, application_id: str, batch: list[SourceProgress]) -> None:
        now = self._ctx.clock.now()
        with self._ctx.store.write() as tx:
            for progress in batch:
                record_event(
                    tx,
                    application_id,
                    EventType.economic_progress,
                    progress.model_dump(mode="json"),
                    at=now,
                )

    def _finish(self, job: CheckJob, result: CheckResult) -> None:
        ctx = self._ctx
        now = ctx.clock.now()
        names = {p.ref: p.name for p in job.persons}
        items = [it.to_out(names.get(it.person_ref, "")) for it in result.items]
        items_json = json.dumps([i.model_dump(mode="json") for i in items], ensure_ascii=False)
        sources_json = json.dumps(
            [s.model_dump(mode="json") for s in result.final_states], ensure_ascii=False
        )
        status = assemble_status(
            result.items,
            job.persons,
            standards=self.standards,
            thresholds=self.thresholds,
            generated_at=now,
            on=local_today(now),
            sources=result.final_states,
        )
        with ctx.store.write() as tx:
            stored = tx.economic.finish(
                job.application_id,
                job.run_id,
                items_json=items_json,
                sources_json=sources_json,
                persons_digest=job.persons_digest,
                generated_at=now,
            )
            if not stored:
                return  # a newer run superseded this one; it reports its own end
            record_event(
                tx,
                job.application_id,
                EventType.economic_done,
                {
                    "run_id": job.run_id,
                    "state": SourceState.done.value,
                    "per_capita_monthly": str(status.generated.income.per_capita_monthly),
                    "reference": status.generated.reference.value
                    if status.generated.reference
                    else None,
                    "complete": status.complete,
                    "missing_sources": [s.value for s in status.missing_sources],
                },
                at=now,
            )
            tx.audit.append(
                [
                    _system_audit(
                        "economic.done",
                        job.application_id,
                        f"run={job.run_id} items={len(items)} "
                        f"missing={len(status.missing_sources)}",
                    )
                ],
                now,
            )
        log.info("economic check %s done in %.0f ms", job.run_id, result.elapsed_s * 1000)

    def _fail(self, job: CheckJob) -> None:
        try:
            with self._ctx.store.write() as tx:
                if tx.economic.fail(job.application_id, job.run_id):
                    record_event(
                        tx,
                        job.application_id,
                        EventType.economic_done,
                        {
                            "run_id": job.run_id,
                            "state": "失败",
                            "message": "经济状况核对未能完成，请重新发起核对",
                        },
                    )
        except Exception as exc:  # the row stays "running" and is abandoned after its bound
            log.error(
                "economic check %s: could not record the failure: %s",
                job.run_id,
                type(exc).__name__,
            )

    def wait(self, application_id: str, timeout: float | None = None) -> None:
        """Until the run last started here for ``application_id`` ended (tests, bench)."""
        future = self._futures.get(application_id)
        if future is not None:
            future.result(timeout)

    def close(self) -> None:
        self._runner.close()

    # --- status ------------------------------------------------------------------------

    def status(self, token: str, application_id: str) -> Reply:
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            draft = DraftAccess.visible(tx, actor, application_id, submitted_ok=True)
            status = self.current(tx, draft, now)
            tx.audit.append([actor.audit("economic.read", "application", application_id)], now)
        return Reply(200, status.to_out().model_dump_json())

    def current(self, tx: Tx, draft: DraftRecord, now: datetime) -> EconomicStatus:
        """The stored result as a status; NotFound/Conflict when there is none to show."""
        row = tx.economic.get(draft.id)
        return self.assemble(tx, draft, require_result(row, self._ctx, draft), now)

    def assemble(
        self, tx: Tx, draft: DraftRecord, row: EconomicCheckRecord, now: datetime
    ) -> EconomicStatus:
        """The status from the stored result, corrections and the current household.

        The confirmation holds only while the status is the one the applicant confirmed:
        a later change that moves any figure (a member's details, the standard in force,
        a birthday that changes who counts) shows it unconfirmed again.
        """
        status = self._unconfirmed_status(tx, draft, row, now)
        if row.confirmed_at is not None and row.confirmed_digest == self.digest(status):
            status = confirm(status, row.confirmed_at)
        return status

    def digest(self, status: EconomicStatus) -> bytes:
        """Keyed digest of what the screen shows of an (unconfirmed) status."""
        shown = status.to_out().model_dump_json(exclude={"confirmed", "confirmed_at"})
        return self._ctx.store.cipher.blind_index(shown, b"economic.status")

    def _unconfirmed_status(
        self, tx: Tx, draft: DraftRecord, row: EconomicCheckRecord, now: datetime
    ) -> EconomicStatus:
        assert row.items_json is not None and row.result_run_id is not None
        items = [
            item_from_out(EconomicItemOut.model_validate(i)) for i in json.loads(row.items_json)
        ]
        sources = [SourceProgress.model_validate(s) for s in json.loads(row.sources_json or "[]")]
        corrections = [
            correction_from_in(
                CorrectionIn.model_validate_json(c.data_json), id=c.id, created_at=c.created_at
            )
            for c in tx.economic.corrections(draft.id, row.result_run_id)
        ]
        persons = [domain_person(p) for p in draft.persons]
        return assemble_status(
            items,
            persons,
            standards=self.standards,
            thresholds=self.thresholds,
            generated_at=row.generated_at or now,
            on=local_today(now),
            sources=sources,
            corrections=corrections,
        )

    # --- corrections and confirmation --------------------------------------------------

    def correct(self, token: str, application_id: str, data: CorrectionIn) -> Reply:
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            draft = DraftAccess.visible(tx, actor, application_id)
            row = require_result(tx.economic.get(application_id, for_update=True), ctx, draft)
            require_not_running(row)
            require_still_open(tx, application_id)
            status = self.assemble(tx, draft, row, now)
            correction_id = str(uuid.uuid4())
            new = correction_from_in(data, id=correction_id, created_at=now)
            prefix = f"corrections[{len(status.corrections)}]"
            errors = check_corrections(
                [*status.corrections, new],
                status.items,
                [domain_person(p) for p in draft.persons],
            )
            problems = [
                Problem(e.code, e.message, _strip(e.field, prefix))
                for e in errors
                if e.field is None or e.field == prefix or e.field.startswith(prefix + ".")
            ]
            if problems:
                raise Invalid(problems)
            assert row.result_run_id is not None
            tx.economic.add_correction(
                CorrectionRecord(
                    id=correction_id,
                    application_id=application_id,
                    run_id=row.result_run_id,
                    data_json=data.model_dump_json(),
                    created_at=now,
                    created_by=actor.staff_id,
                )
            )
            cleared = row.confirmed_at is not None
            if cleared:
                tx.economic.set_confirmed(application_id, None, None)
            target = f"item={data.item_id}" if data.item_id else f"person={data.person_ref}"
            kind = "declared" if data.declared_amount is not None else "annotation"
            tx.audit.append(
                [
                    actor.audit(
                        "economic.correct",
                        "application",
                        application_id,
                        f"correction={correction_id} {target} {kind}"
                        + (" confirmation_cleared" if cleared else ""),
                    )
                ],
                now,
            )
            status = self.assemble(tx, draft, _unconfirmed(row), now)
        return Reply(200, status.to_out().model_dump_json())

    def confirm(self, token: str, application_id: str) -> Reply:
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            draft = DraftAccess.visible(tx, actor, application_id)
            row = require_result(tx.economic.get(application_id, for_update=True), ctx, draft)
            require_not_running(row)
            require_still_open(tx, application_id)
            status = self.assemble(tx, draft, row, now)
            if not status.confirmed:  # never confirmed, or confirmed before it changed
                digest = self.digest(status)
                tx.economic.set_confirmed(application_id, now, actor.staff_id, digest)
                status = confirm(status, now)
            tx.audit.append([actor.audit("economic.confirm", "application", application_id)], now)
        return Reply(200, status.to_out().model_dump_json())


# --- helpers -----------------------------------------------------------------------------


def already_running() -> Conflict:
    return Conflict("economic_check_running", "经济状况核对正在进行中，请等待完成")


def require_result(
    row: EconomicCheckRecord | None, ctx: Context, draft: DraftRecord
) -> EconomicCheckRecord:
    if row is None or row.result_run_id is None or row.items_json is None:
        if row is not None and row.state == RUNNING:
            raise NotFound("经济状况核对正在进行中，尚无结果，请等待完成")
        raise NotFound("尚未进行家庭经济状况核对，请在全部成员授权后发起核对")
    if row.persons_digest != persons_digest(ctx, draft):
        raise Conflict(
            "economic_check_stale",
            "核对后家庭成员或其姓名、身份证号有变更，请重新发起家庭经济状况核对",
        )
    return row


def require_still_open(tx: Tx, application_id: str) -> None:
    """Re-read under the check row's lock: a submit that committed meanwhile wins."""
    head = tx.drafts.head(application_id)
    if head is None or head[1] != DraftStatus.draft.value:
        raise Conflict("application_submitted", "该申请已提交（受理），不能再修改、删除或重新核对")


def require_not_running(row: EconomicCheckRecord) -> None:
    if row.state == RUNNING:
        raise already_running()


def _strip(field: str | None, prefix: str) -> str | None:
    if field is None or field == prefix:
        return None
    return field.removeprefix(prefix + ".")


def _unconfirmed(row: EconomicCheckRecord) -> EconomicCheckRecord:
    return replace(row, confirmed_at=None, confirmed_by=None, confirmed_digest=None)


def _system_audit(action: str, subject_id: str, detail: str) -> AuditEntry:
    return AuditEntry(
        action=action,
        subject_type="application",
        subject_id=subject_id,
        staff_id=None,
        counter_id=None,
        detail=detail,
    )
