"""Household members of a draft: add, change, remove — each with every household rule."""

from __future__ import annotations

import uuid

from jiuzhutong.contract import MemberIn, MemberUpdate
from jiuzhutong.service import authorization as authz
from jiuzhutong.service.auth import AuthService
from jiuzhutong.service.clock import local_today
from jiuzhutong.service.context import Context
from jiuzhutong.service.drafts import (
    DraftAccess,
    draft_exists,
    require_version,
    retry_once_on_race,
)
from jiuzhutong.service.errors import Invalid, NotFound
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
from jiuzhutong.service.views import domain_person
from jiuzhutong.store.records import DraftRecord, PersonRecord


def _member_index(draft: DraftRecord, member_id: str) -> int:
    for i, person in enumerate(draft.persons):
        if person.id == member_id:
            return i
    raise NotFound("未找到该家庭成员")


class MemberService:
    def __init__(self, ctx: Context, auth: AuthService) -> None:
        self._ctx = ctx
        self._auth = auth
        self._access = DraftAccess()

    def add(
        self,
        token: str,
        draft_id: str,
        if_match: int | None,
        data: MemberIn,
        idem: IdempotencyRequest | None,
    ) -> Reply:
        return retry_once_on_race(lambda: self._add(token, draft_id, if_match, data, idem))

    def _add(
        self,
        token: str,
        draft_id: str,
        if_match: int | None,
        data: MemberIn,
        idem: IdempotencyRequest | None,
    ) -> Reply:
        ctx = self._ctx
        now = ctx.clock.now()
        today = local_today(now)
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            # a retry of a request that succeeded must replay, though the version moved on
            replayed = replay(tx, actor, idem)
            if replayed is not None:
                return replayed
            draft = self._access.for_change(tx, actor, draft_id, require_version(if_match))

            problems = Problems()
            info = parse_id(data.id_number, "id_number", today, problems)
            details = check_details(sent_details(data.details), ctx.divisions.registry, problems)
            member = PersonRecord(
                id=str(uuid.uuid4()),
                position=max(p.position for p in draft.persons) + 1,
                relation=data.relation.value,
                name=data.name,
                id_number=info.number if info else "",
                details=merge_details({}, details),
            )
            persons = []
            if info is not None:
                draft.persons.append(member)
                persons = [domain_person(p) for p in draft.persons]
                household_problems(persons, on=today, focus=len(persons) - 1, problems=problems)
            problems.raise_if_any()

            self._access.bump(tx, draft, now)
            tx.drafts.insert_person(draft.id, member, now)
            authz.person_added(tx, draft, member, now)  # starts at 待授权
            tx.audit.append(
                [actor.audit("member.add", "application", draft.id, f"member={member.id}")], now
            )
            reply = self._access.reply(draft, persons, now, 201)
            remember(tx, actor, idem, reply, now)
        return reply

    def update(
        self, token: str, draft_id: str, member_id: str, if_match: int | None, data: MemberUpdate
    ) -> Reply:
        version = require_version(if_match)
        return retry_once_on_race(lambda: self._update(token, draft_id, member_id, version, data))

    def _update(
        self, token: str, draft_id: str, member_id: str, if_match: int, data: MemberUpdate
    ) -> Reply:
        ctx = self._ctx
        now = ctx.clock.now()
        today = local_today(now)
        sent = data.model_fields_set
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            draft = self._access.for_change(tx, actor, draft_id, if_match)
            index = _member_index(draft, member_id)
            person = draft.persons[index]
            identity = (person.name, person.id_number)
            problems = Problems()
            changed: list[str] = []
            changes: dict[str, object] = {}
            id_ok = True

            if "name" in sent:
                if data.name is None:
                    problems.add_problem("name_empty", "姓名不能为空", "name")
                else:
                    person.name = data.name
                    changed.append("name")
            if "id_number" in sent:
                info = None
                if data.id_number is None:
                    problems.add_problem("id_empty", "身份证号不能为空", "id_number")
                else:
                    info = parse_id(data.id_number, "id_number", today, problems)
                id_ok = info is not None
                if info is not None and info.number != person.id_number:
                    person.id_number = info.number
                    changed.append("id_number")
                    if index == 0:
                        changes["applicant_id_number"] = info.number
            if "relation" in sent:
                if data.relation is None:
                    problems.add_problem("relation_empty", "请选择与申请人的关系", "relation")
                else:
                    person.relation = data.relation.value
                    changed.append("relation")
            if "details" in sent:
                if data.details is None:
                    person.details = {}
                    changed.append("details")
                else:
                    details = sent_details(data.details)
                    normalised = check_details(details, ctx.divisions.registry, problems)
                    person.details = merge_details(person.details, normalised)
                    changed.extend(f"details.{k}" for k in sorted(details))

            persons = [domain_person(p) for p in draft.persons] if id_ok else []
            if id_ok:
                household_problems(persons, on=today, focus=index, problems=problems)
            problems.raise_if_any()
            if index == 0 and "applicant_id_number" in changes:
                existing = tx.drafts.open_draft_of(person.id_number)
                if existing is not None and existing != draft.id:
                    raise draft_exists(existing)

            self._access.bump(tx, draft, now, changes)
            tx.drafts.update_person(draft.id, person, now)
            if (person.name, person.id_number) != identity:  # must authorize again
                authz.person_identity_changed(tx, actor, draft, person, now)
            detail = f"member={member_id}" + (" fields=" + ",".join(changed) if changed else "")
            tx.audit.append([actor.audit("member.update", "application", draft.id, detail)], now)
            reply = self._access.reply(draft, persons, now, 200)
        return reply

    def remove(self, token: str, draft_id: str, member_id: str, if_match: int | None) -> Reply:
        version = require_version(if_match)
        ctx = self._ctx
        now = ctx.clock.now()
        today = local_today(now)
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            draft = self._access.for_change(tx, actor, draft_id, version)
            index = _member_index(draft, member_id)
            if index == 0:
                raise Invalid.one("applicant_required", "申请人本人不能从家庭成员中删除", None)
            del draft.persons[index]
            persons = [domain_person(p) for p in draft.persons]
            problems = Problems()
            household_problems(persons, on=today, focus=None, problems=problems)
            problems.raise_if_any()

            self._access.bump(tx, draft, now)
            tx.drafts.delete_person(draft.id, member_id)
            authz.person_removed(tx, actor, draft, member_id, now)
            tx.audit.append(
                [actor.audit("member.remove", "application", draft.id, f"member={member_id}")],
                now,
            )
            reply = self._access.reply(draft, persons, now, 200)
        return reply
