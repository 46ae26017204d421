"""Submitting an application (提交/受理): every precondition at once, then a case number.

One write transaction: the session, the idempotent replay, every missing precondition
reported together (一次性告知), the draft's status moved to 已提交 by the same
compare-and-set as any draft change (so of two concurrent submits of one draft exactly one
wins), the next case number of the division and year from an atomic upsert, the case row,
the ``submitted`` event, the audit row and the idempotency record.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from jiuzhutong.contract import DraftStatus
from jiuzhutong.contract.authorization import (
    CaseFileOut,
    CaseOut,
    CaseStatus,
    EventType,
    SubmitIn,
    TimelineEntry,
)
from jiuzhutong.service.auth import AuthService
from jiuzhutong.service.authorization import all_authorized
from jiuzhutong.service.clock import local_today
from jiuzhutong.service.context import Context
from jiuzhutong.service.drafts import not_found
from jiuzhutong.service.economic import (
    EconomicService,
    not_authorized_problems,
    persons_digest,
)
from jiuzhutong.service.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionRequired,
    Problem,
)
from jiuzhutong.service.events import record_event
from jiuzhutong.service.idempotency import IdempotencyRequest, remember, replay
from jiuzhutong.service.reply import Reply
from jiuzhutong.service.rules import Problems, household_problems
from jiuzhutong.service.views import domain_person, draft_out
from jiuzhutong.store import Tx
from jiuzhutong.store.cases import CaseRecord
from jiuzhutong.store.economic import RUNNING
from jiuzhutong.store.errors import UniqueViolation, VersionConflict
from jiuzhutong.store.records import DraftRecord

log = logging.getLogger(__name__)

# the applicant's fields a case cannot be accepted without, with their names on screen
REQUIRED_APPLICANT_FIELDS = (
    ("hukou_division", "户籍所在地"),
    ("hukou_type", "户籍类型（城镇/农村）"),
    ("phone", "联系电话"),
)


class IdempotencyKeyRequired(PreconditionRequired):
    """428: a submit without Idempotency-Key could create a case twice on a retry."""

    code = "idempotency_key_required"
    message = "提交申请须带 Idempotency-Key 请求头（每次提交生成一个新键，重试时沿用同一个键）"


class NotSubmitted(NotFound):
    code = "not_submitted"
    message = "该申请尚未提交，没有案件"


class _Lost(Exception):
    """The draft moved on between our read and our write: run again, now seeing why."""


class SubmissionService:
    def __init__(self, ctx: Context, auth: AuthService, economic: EconomicService) -> None:
        self._ctx = ctx
        self._auth = auth
        self._economic = economic

    def submit(
        self,
        token: str,
        application_id: str,
        data: SubmitIn,
        idem: IdempotencyRequest | None,
    ) -> Reply:
        if idem is None:
            raise IdempotencyKeyRequired()
        # A concurrent submit of the same draft (or the same key) that committed first
        # makes ours lose the compare-and-set; the second run replays the stored response
        # (same key) or reports the case that now exists (another key → 409).
        for attempt in (1, 2):
            try:
                return self._submit(token, application_id, data, idem)
            except (_Lost, UniqueViolation):
                log.info("submit of %s lost a race (attempt %d)", application_id, attempt)
                if attempt == 2:
                    raise Conflict("conflict", "该申请正被同时提交，请刷新后查看") from None
        raise AssertionError("unreachable")

    def _submit(
        self, token: str, application_id: str, data: SubmitIn, idem: IdempotencyRequest
    ) -> Reply:
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            replayed = replay(tx, actor, idem)
            if replayed is not None:
                return replayed
            draft = tx.drafts.get(application_id)
            if draft is None or not actor.serves(draft.region):
                raise not_found()
            if draft.status == CaseStatus.submitted.value:
                case = tx.cases.get(application_id)
                number = f"，案件编号{case.case_number}" if case else ""
                raise Conflict("already_submitted", f"该申请已提交（受理）{number}，不能重复提交")
            if draft.status != DraftStatus.draft.value:
                raise not_found()

            division = self._check_ready(tx, draft, now)

            try:
                tx.drafts.bump_version(
                    draft.id, draft.version, now, {"status": CaseStatus.submitted.value}
                )
            except VersionConflict:
                raise _Lost() from None
            year = local_today(now).year
            seq = tx.cases.next_seq(division, year)
            number = f"{division}-{year}-{seq:06d}"
            timeline = _timeline(tx, draft, now, number, data.note)
            tx.cases.insert(
                CaseRecord(
                    application_id=draft.id,
                    case_number=number,
                    division=division,
                    year=year,
                    seq=seq,
                    submitted_at=now,
                    submitted_by=actor.staff_id,
                    timeline_json=json.dumps(
                        [t.model_dump(mode="json") for t in timeline], ensure_ascii=False
                    ),
                )
            )
            out = CaseOut(
                application_id=draft.id,
                case_number=number,
                status=CaseStatus.submitted,
                submitted_at=now,
                timeline=timeline,
            )
            record_event(tx, draft.id, EventType.submitted, out.model_dump(mode="json"), at=now)
            tx.audit.append(
                [actor.audit("application.submit", "application", draft.id, f"case={number}")],
                now,
            )
            reply = Reply(201, out.model_dump_json())
            remember(tx, actor, idem, reply, now)
        log.info("application %s submitted as case %s", application_id, number)
        return reply

    def read_case(self, token: str, application_id: str, *, reveal: bool = False) -> Reply:
        """The submitted case with the application as filed; an audited read like a draft's.

        404 for a draft not (yet) submitted, with a message saying so, and outside the
        caller's region."""
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            draft = tx.drafts.get(application_id)
            if draft is None or not actor.serves(draft.region):
                raise not_found()
            case = tx.cases.get(application_id)
            if draft.status != CaseStatus.submitted.value or case is None:
                raise NotSubmitted()
            if reveal and not actor.can_reveal:
                raise Forbidden("您没有查看完整身份证号的权限")
            entries = [actor.audit("case.read", "application", draft.id, case.case_number)]
            if reveal:
                entries.append(
                    actor.audit(
                        "id.reveal", "application", draft.id, f"persons={len(draft.persons)}"
                    )
                )
            tx.audit.append(entries, now)
        out = CaseFileOut(
            case=_case_out(case),
            application=draft_out(draft, reveal=reveal, on=local_today(case.submitted_at)),
        )
        return Reply(200, out.model_dump_json())

    def _check_ready(self, tx: Tx, draft: DraftRecord, now: datetime) -> str:
        """The case's county, or Invalid with everything still missing (一次性告知)."""
        problems: list[Problem] = []
        if not draft.notice_version:
            problems.append(
                Problem(
                    "notice_not_recorded",
                    "尚未记录申请人阅读并签署的告知书版本",
                    "notice_version",
                )
            )
        applicant = draft.persons[0].details
        for name, label in REQUIRED_APPLICANT_FIELDS:
            if applicant.get(name) in (None, ""):
                problems.append(
                    Problem("field_required", f"请填写申请人的{label}", f"applicant.details.{name}")
                )
        household = Problems()
        household_problems(
            [domain_person(p) for p in draft.persons],
            on=local_today(now),
            focus=None,
            problems=household,
        )
        problems.extend(household.items)
        problems.extend(not_authorized_problems(all_authorized(tx, draft.id)))
        problems.extend(self._economic_problems(tx, draft, now))
        division = _division(draft)
        if division is None:
            problems.append(
                Problem(
                    "division_unknown",
                    "无法确定受理的区县：请填写申请人在本服务区域内的户籍所在地",
                    "applicant.details.hukou_division",
                )
            )
        if problems:
            raise Invalid(problems)
        assert division is not None
        return division

    def _economic_problems(self, tx: Tx, draft: DraftRecord, now: datetime) -> list[Problem]:
        # locked (PostgreSQL) so a correction cannot clear the confirmation under our feet
        row = tx.economic.get(draft.id, for_update=True)
        field = "economic_status"
        if row is None or row.result_run_id is None:
            if row is not None and row.state == RUNNING:
                return [Problem("economic_check_running", "家庭经济状况核对尚在进行中", field)]
            return [Problem("economic_status_missing", "尚未进行家庭经济状况核对", field)]
        if row.persons_digest != persons_digest(self._ctx, draft):
            return [
                Problem(
                    "economic_check_stale",
                    "核对后家庭成员或其姓名、身份证号有变更，请重新发起家庭经济状况核对",
                    field,
                )
            ]
        problems = []
        if row.state == RUNNING:
            problems.append(
                Problem("economic_check_running", "新一次家庭经济状况核对尚在进行中", field)
            )
        sources = json.loads(row.sources_json or "[]")
        done = {s["source"] for s in sources if s.get("state") == "完成"}
        missing = [s["source"] for s in sources if s["source"] not in done]
        if missing:
            problems.append(
                Problem(
                    "economic_check_incomplete",
                    f"以下来源未查询成功，核对结果不完整：{'、'.join(missing)}；请重新发起核对",
                    field,
                )
            )
        if row.confirmed_at is None:
            problems.append(
                Problem("economic_status_unconfirmed", "申请人尚未确认家庭经济状况", field)
            )
        elif not self._economic.assemble(tx, draft, row, now).confirmed:
            problems.append(
                Problem(
                    "economic_status_unconfirmed",
                    "确认后家庭情况有变更，核对结果随之变化，请申请人重新确认家庭经济状况",
                    field,
                )
            )
        return problems


def _case_out(case: CaseRecord) -> CaseOut:
    return CaseOut(
        application_id=case.application_id,
        case_number=case.case_number,
        status=CaseStatus.submitted,
        submitted_at=case.submitted_at,
        timeline=[TimelineEntry.model_validate(t) for t in json.loads(case.timeline_json)],
    )


def _division(draft: DraftRecord) -> str | None:
    """The county (6 digits) the case is accepted in: the draft's region, else the applicant's
    户籍 division inside it (a draft made by provincial or city staff)."""
    region = draft.region
    if len(region) >= 6:
        return region[:6]
    hukou = str(draft.persons[0].details.get("hukou_division") or "")
    if len(hukou) >= 6 and hukou.startswith(region):
        return hukou[:6]
    return None


def _timeline(
    tx: Tx, draft: DraftRecord, now: datetime, number: str, note: str | None
) -> list[TimelineEntry]:
    entries = [TimelineEntry(at=draft.created_at, status=DraftStatus.draft.value, note="创建申请")]
    row = tx.economic.get(draft.id)
    if row is not None and row.confirmed_at is not None:
        entries.append(
            TimelineEntry(
                at=row.confirmed_at, status=DraftStatus.draft.value, note="申请人确认家庭经济状况"
            )
        )
    text = f"提交申请，已受理，案件编号{number}"
    if note:
        text += f"（{note}）"
    entries.append(TimelineEntry(at=now, status=CaseStatus.submitted.value, note=text))
    return entries
