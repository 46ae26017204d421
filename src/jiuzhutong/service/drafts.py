"""Draft applications: create, read, change, list, look up, delete.

Every use case runs in one transaction: session check, the change (compare-and-set on the
version), the audit row, and for POSTs the idempotency record.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any, TypeVar

from jiuzhutong.contract import (
    ApplyMode,
    DraftCreate,
    DraftStatus,
    DraftSummary,
    DraftUpdate,
    LookupRequest,
    Relation,
)
from jiuzhutong.domain.household import Person
from jiuzhutong.security import token_hash
from jiuzhutong.service.actor import Actor
from jiuzhutong.service.auth import TOUCH_INTERVAL, AuthService
from jiuzhutong.service.cache import DraftResponseCache
from jiuzhutong.service.clock import local_today
from jiuzhutong.service.context import Context
from jiuzhutong.service.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionRequired,
    StaleVersion,
)
from jiuzhutong.service.idempotency import IdempotencyRequest, remember, replay
from jiuzhutong.service.reply import Reply
from jiuzhutong.service.rules import (
    Problems,
    check_details,
    household_problems,
    merge_details,
    parse_id,
    sent_details,
)
from jiuzhutong.service.views import domain_person, draft_out, summary_out
from jiuzhutong.store import Tx
from jiuzhutong.store.drafts import SessionHeadAudited, session_and_head_audited_async
from jiuzhutong.store.errors import DatabaseUnavailable, UniqueViolation, VersionConflict
from jiuzhutong.store.records import DraftRecord, EntrustmentRecord, PersonRecord

log = logging.getLogger(__name__)

LIST_LIMIT = 200
T = TypeVar("T")
# runs a synchronous use case from an async endpoint (server.dispatch's Caller)
Run = Callable[..., Awaitable[Any]]


def draft_exists(existing_id: str | None) -> Conflict:
    return Conflict(
        "draft_exists",
        "该申请人已有未完成的申请草稿，请继续办理该草稿",
        field="id_number",
        existing_id=existing_id,
    )


SUBMITTED = "已提交"  # CaseStatus.submitted: the application left the draft stage (issue 3)


def not_found() -> NotFound:
    return NotFound("未找到该申请，或不在您的服务区域内")


def retry_once_on_race(action: Callable[[], T]) -> T:
    """A unique index refused a concurrent twin (PostgreSQL): run again, now seeing it.

    The second run replays the stored idempotent response, or reports the conflict
    found by the ordinary checks (409 draft_exists).
    """
    try:
        return action()
    except UniqueViolation:
        pass
    try:
        return action()
    except UniqueViolation:
        raise Conflict("conflict", "数据正被同时修改，请刷新后重试") from None


class DraftAccess:
    """Loading a draft the actor may see, and checking its version before a change."""

    @staticmethod
    def visible(tx: Tx, actor: Actor, draft_id: str, *, submitted_ok: bool = False) -> DraftRecord:
        """The open draft, or 404; a submitted one is 409 (it can no longer change) unless
        ``submitted_ok`` (reads that still make sense after submission)."""
        draft = tx.drafts.get(draft_id)
        if draft is None or draft.status != DraftStatus.draft or not actor.serves(draft.region):
            if draft is not None and draft.status == SUBMITTED and actor.serves(draft.region):
                if submitted_ok:
                    return draft
                raise Conflict(
                    "application_submitted", "该申请已提交（受理），不能再修改、删除或重新核对"
                )
            raise not_found()
        return draft

    @classmethod
    def for_change(cls, tx: Tx, actor: Actor, draft_id: str, if_match: int) -> DraftRecord:
        draft = cls.visible(tx, actor, draft_id)
        if draft.version != if_match:
            raise StaleVersion(draft.version)
        return draft

    @staticmethod
    def bump(tx: Tx, draft: DraftRecord, now: datetime, changes: dict | None = None) -> DraftRecord:
        try:
            version = tx.drafts.bump_version(draft.id, draft.version, now, changes)
        except VersionConflict as exc:
            raise StaleVersion(exc.current_version) from None
        draft.version = version
        draft.updated_at = now
        return draft

    @staticmethod
    def reply(draft: DraftRecord, persons: list[Person], now: datetime, status: int) -> Reply:
        out = draft_out(draft, reveal=False, on=local_today(now), persons=persons)
        return Reply(status, out.model_dump_json(), Reply.etag_of(draft.version))


def require_version(if_match: int | None) -> int:
    if if_match is None:
        raise PreconditionRequired()
    return if_match


class DraftService:
    def __init__(self, ctx: Context, auth: AuthService) -> None:
        self._ctx = ctx
        self._auth = auth
        self._access = DraftAccess()
        self._cache = DraftResponseCache()

    # --- create ------------------------------------------------------------------------

    def create(self, token: str, data: DraftCreate, idem: IdempotencyRequest | None) -> Reply:
        return retry_once_on_race(lambda: self._create(token, data, idem))

    def _create(self, token: str, data: DraftCreate, idem: IdempotencyRequest | None) -> Reply:
        ctx = self._ctx
        now = ctx.clock.now()
        today = local_today(now)
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            replayed = replay(tx, actor, idem)
            if replayed is not None:
                return replayed

            problems = Problems()
            info = parse_id(data.id_number, "id_number", today, problems)
            entrusting_id = _check_entrustment(data, today, problems)
            applicant = None
            if info is not None:
                applicant = PersonRecord(
                    id=str(uuid.uuid4()),
                    position=0,
                    relation=Relation.applicant.value,
                    name=data.name,
                    id_number=info.number,
                    details={},
                )
                household_problems([domain_person(applicant)], on=today, focus=0, problems=problems)
            problems.raise_if_any()
            assert applicant is not None and info is not None

            existing = tx.drafts.open_draft_of(info.number)
            if existing is not None:
                raise draft_exists(existing)

            draft_id = str(uuid.uuid4())
            entrustment = None
            if data.mode is ApplyMode.entrusted:
                # Art 6: the resident entrusts the counter themself unless another person
                # is named as the one who entrusts
                entrustment = EntrustmentRecord(
                    entrusting_name=data.entrusting_name or data.name,
                    entrusting_id_number=entrusting_id or info.number,
                    resident_name=data.name,
                    clerk_staff_id=actor.staff_id,
                    counter_id=actor.counter_id,
                    entrusted_at=now,
                )
            draft = DraftRecord(
                id=draft_id,
                version=1,
                status=DraftStatus.draft.value,
                region=actor.region,
                mode=data.mode.value,
                created_by=actor.staff_id,
                counter_id=actor.counter_id,
                notice_version=None,
                step=None,
                created_at=now,
                updated_at=now,
                entrustment=entrustment,
                persons=[applicant],
            )
            tx.drafts.insert(draft)
            audit = [actor.audit("draft.create", "application", draft_id, f"mode={data.mode}")]
            if entrustment is not None:
                audit.append(actor.audit("draft.entrust", "application", draft_id))
            tx.audit.append(audit, now)
            reply = self._access.reply(draft, [domain_person(applicant)], now, 201)
            remember(tx, actor, idem, reply, now)
        log.info("draft %s created by staff %s", draft_id, actor.staff_id)
        return reply

    # --- read ----------------------------------------------------------------------------

    async def read_async(
        self, run: Run, token: str, draft_id: str, *, reveal: bool = False
    ) -> Reply:
        """read() for an async endpoint; ``run`` runs a synchronous use case (the server's
        dispatch). PostgreSQL, masked: the one audited statement of _read_in_one_statement
        on the event loop (store.aio), and from the response cache the reply without
        leaving the loop; only a cache miss (once per draft version) goes to ``run`` for
        the draft itself. Whatever that statement does not serve — no such session, a
        touch due, not served, a database error — runs as read() does, through ``run``."""
        pool = self._ctx.store.database.async_pool if token and not reveal else None
        if pool is None:
            return await run(self.read, token, draft_id, reveal=reveal)
        now = self._ctx.clock.now()
        try:
            found = await session_and_head_audited_async(
                pool,
                token_hash(token),
                draft_id,
                now=now,
                idle_cutoff=now - self._auth.idle_limit,
                touch_cutoff=now - TOUCH_INTERVAL,
            )
        except DatabaseUnavailable as exc:
            # whether its audit row was written is unknown: the ordinary read writes one
            # for sure (at worst the read is recorded twice, never not at all)
            log.warning("draft read on the event loop failed (%s); read again", exc)
            return await run(self.read, token, draft_id)
        if found is None or not found[2]:
            # nothing written: the ordinary transaction decides, as in read()
            return await run(self._read_in_transaction, token, draft_id, False)
        today = local_today(now)
        reply = self._audited_reply(found, draft_id, now, today)
        if reply is not None:
            return reply
        return await run(self._render_current, draft_id, today)

    def read(self, token: str, draft_id: str, *, reveal: bool = False) -> Reply:
        if not reveal and token and self._ctx.store.dialect == "postgresql":
            reply = self._read_in_one_statement(token, draft_id)
            if reply is not None:
                return reply
        return self._read_in_transaction(token, draft_id, reveal)

    def _read_in_transaction(self, token: str, draft_id: str, reveal: bool) -> Reply:
        ctx = self._ctx
        now = ctx.clock.now()
        today = local_today(now)
        body = None
        with ctx.store.write() as tx:
            # the session and the draft's head in one statement (one round trip on
            # PostgreSQL); an empty token matches no session
            found = tx.drafts.session_and_head(token_hash(token), draft_id) if token else None
            actor = self._auth.authenticate_session(tx, found[0] if found else None, now)
            assert found is not None
            head = found[1]
            if head is None:
                raise not_found()
            version, status, region = head
            if status != DraftStatus.draft or not actor.serves(region):
                raise not_found()
            if reveal and not actor.can_reveal:
                raise Forbidden("您没有查看完整身份证号的权限")
            draft = None
            if not reveal:
                body = self._cache.get(draft_id, version, today)
            if body is None:
                draft = tx.drafts.get(draft_id)
                assert draft is not None
            entries = [actor.audit("draft.read", "application", draft_id)]
            if reveal:
                assert draft is not None
                entries.append(
                    actor.audit(
                        "id.reveal", "application", draft_id, f"persons={len(draft.persons)}"
                    )
                )
            tx.audit.append(entries, now)
        if body is None:
            assert draft is not None
            # serialised after commit: the write lock is held only for the SQL
            body = draft_out(draft, reveal=reveal, on=today).model_dump_json()
            if not reveal:
                self._cache.put(draft_id, version, today, body)
        return Reply(200, body, Reply.etag_of(version))

    def _read_in_one_statement(self, token: str, draft_id: str) -> Reply | None:
        """PostgreSQL: the read and its audit row in one autocommitted statement, i.e. one
        round trip instead of BEGIN, SELECT, INSERT+COMMIT (store.drafts
        session_and_head_audited). None when the statement wrote no audit row (no such
        session, not served, a session touch due...): the caller then runs the ordinary
        transaction, which decides and audits as always."""
        ctx = self._ctx
        now = ctx.clock.now()
        today = local_today(now)
        with ctx.store.write() as tx:
            found = tx.drafts.session_and_head_audited(
                token_hash(token),
                draft_id,
                now=now,
                idle_cutoff=now - self._auth.idle_limit,
                touch_cutoff=now - TOUCH_INTERVAL,
            )
        if found is None or not found[2]:
            # not served as it stands, or a touch is due: the ordinary transaction
            # decides (and answers 401/404) by the service's rules alone
            return None
        reply = self._audited_reply(found, draft_id, now, today)
        return reply if reply is not None else self._render_current(draft_id, today)

    def _audited_reply(
        self, found: SessionHeadAudited, draft_id: str, now: datetime, today: date
    ) -> Reply | None:
        """After the audited statement wrote its row: the service's own checks, then the
        cached response of the draft's version, or None when it has to be rendered."""
        session, head, _audited = found
        # the statement's conditions imply these checks; they stay the authority
        actor, due = self._auth.check_session(session, now)
        if due or head is None or head[1] != DraftStatus.draft or not actor.serves(head[2]):
            raise not_found()
        version = head[0]
        body = self._cache.get(draft_id, version, today)
        return None if body is None else Reply(200, body, Reply.etag_of(version))

    def _render_current(self, draft_id: str, today: date) -> Reply:
        """The draft as it is now, for a read already checked and audited. A transaction of
        its own, after the audited statement: the draft may have changed in between, so
        its own version is the one answered."""
        with self._ctx.store.read() as tx:
            draft = tx.drafts.get(draft_id)
        if draft is None or draft.status != DraftStatus.draft:
            raise not_found()
        body = draft_out(draft, reveal=False, on=today).model_dump_json()
        self._cache.put(draft_id, draft.version, today, body)
        return Reply(200, body, Reply.etag_of(draft.version))

    def list_open(self, token: str) -> list[DraftSummary]:
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            rows = tx.drafts.list_open(actor.region, limit=LIST_LIMIT)
            tx.audit.append(
                [actor.audit("draft.list", "application", None, f"count={len(rows)}")], now
            )
        return [summary_out(r) for r in rows]

    def lookup(self, token: str, request: LookupRequest) -> list[DraftSummary]:
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            problems = Problems()
            info = parse_id(request.id_number, "id_number", local_today(now), problems)
            problems.raise_if_any()
            assert info is not None
            rows = tx.drafts.lookup_open(info.number, actor.region)
            tx.audit.append(
                [actor.audit("draft.lookup", "application", None, f"count={len(rows)}")], now
            )
        return [summary_out(r) for r in rows]

    # --- change ----------------------------------------------------------------------------

    def update(self, token: str, draft_id: str, if_match: int | None, data: DraftUpdate) -> Reply:
        version = require_version(if_match)
        return retry_once_on_race(lambda: self._update(token, draft_id, version, data))

    def _update(self, token: str, draft_id: str, if_match: int, data: DraftUpdate) -> Reply:
        ctx = self._ctx
        now = ctx.clock.now()
        today = local_today(now)
        sent = data.model_fields_set
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            draft = self._access.for_change(tx, actor, draft_id, if_match)
            applicant = draft.persons[0]
            identity = (applicant.name, applicant.id_number)
            problems = Problems()
            changes: dict[str, object] = {}
            changed: list[str] = []
            id_ok = True

            if "name" in sent:
                if data.name is None:
                    problems.add_problem("name_empty", "姓名不能为空", "name")
                else:
                    applicant.name = data.name
                    changed.append("name")
            if "id_number" in sent:
                if data.id_number is None:
                    problems.add_problem("id_empty", "身份证号不能为空", "id_number")
                    id_ok = False
                else:
                    info = parse_id(data.id_number, "id_number", today, problems)
                    id_ok = info is not None
                    if info is not None and info.number != applicant.id_number:
                        existing = tx.drafts.open_draft_of(info.number)
                        if existing is not None and existing != draft.id:
                            raise draft_exists(existing)
                        applicant.id_number = info.number
                        changes["applicant_id_number"] = info.number
                        changed.append("id_number")
            if "details" in sent:
                details_sent = sent_details(data.details) if data.details is not None else None
                if details_sent is None:  # "details": null clears them all
                    applicant.details = {}
                    changed.append("details")
                else:
                    normalised = check_details(details_sent, ctx.divisions.registry, problems)
                    applicant.details = merge_details(applicant.details, normalised)
                    changed.extend(f"details.{k}" for k in sorted(details_sent))
            for column in ("notice_version", "step"):
                if column in sent:
                    changes[column] = getattr(data, column)
                    setattr(draft, column, getattr(data, column))
                    changed.append(column)

            # the household rules run even when a field failed, so all problems come at once;
            # only an unreadable ID number leaves nothing to check them against
            persons = [domain_person(p) for p in draft.persons] if id_ok else []
            if id_ok:
                household_problems(persons, on=today, focus=0, problems=problems)
            problems.raise_if_any()

            self._access.bump(tx, draft, now, changes)
            tx.drafts.update_person(draft.id, applicant, now)
            if (applicant.name, applicant.id_number) != identity:
                from jiuzhutong.service.authorization import person_identity_changed

                person_identity_changed(tx, actor, draft, applicant, now)  # authorize again
            detail = "fields=" + ",".join(changed) if changed else None
            tx.audit.append([actor.audit("draft.update", "application", draft.id, detail)], now)
            reply = self._access.reply(draft, persons, now, 200)
        return reply

    def delete(self, token: str, draft_id: str, if_match: int | None) -> None:
        version = require_version(if_match)
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            draft = self._access.for_change(tx, actor, draft_id, version)
            self._access.bump(tx, draft, now, {"status": DraftStatus.deleted.value})
            tx.audit.append([actor.audit("draft.delete", "application", draft.id)], now)
        log.info("draft %s deleted by staff %s", draft_id, actor.staff_id)


def _check_entrustment(data: DraftCreate, today: date, problems: Problems) -> str | None:
    """Art 6 fields; the normalised ID number of the person entrusting, when one is named."""
    name, number = data.entrusting_name, data.entrusting_id_number
    if data.mode is ApplyMode.in_person:
        for field, value in (("entrusting_name", name), ("entrusting_id_number", number)):
            if value is not None:
                problems.add_problem(
                    "entrustment_not_applicable", "本人申请时无需填写委托人信息", field
                )
        return None
    if (name is None) != (number is None):
        missing = "entrusting_id_number" if number is None else "entrusting_name"
        message = "请填写委托人身份证号" if number is None else "请填写委托人姓名"
        problems.add_problem("entrustment_incomplete", message, missing)
        return None
    if number is None:
        return None
    info = parse_id(number, "entrusting_id_number", today, problems)
    return info.number if info else None
