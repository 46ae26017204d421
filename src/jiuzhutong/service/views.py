"""Records → contract models: masking, derived fields, household counting."""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from typing import Any

from jiuzhutong.contract import (
    ApplyMode,
    AuditEventOut,
    DraftOut,
    DraftStatus,
    DraftSummary,
    Entrustment,
    MemberOut,
    PersonDetails,
    Relation,
    Role,
    StaffOut,
)
from jiuzhutong.domain.divisions import DivisionRegistry
from jiuzhutong.domain.household import Person, classify_member, household_size
from jiuzhutong.domain.idnumber import IdInfo, mask_id_number, parse_id_number
from jiuzhutong.store.records import (
    AuditRecord,
    DraftRecord,
    DraftSummaryRecord,
    PersonRecord,
    StaffRecord,
)


def staff_out(staff: StaffRecord, registry: DivisionRegistry) -> StaffOut:
    division = registry.get(staff.region)
    return StaffOut(
        id=staff.id,
        username=staff.username,
        display_name=staff.display_name,
        role=Role(staff.role),
        region=staff.region,
        region_name=division.full_name if division else staff.region,
        can_reveal=staff.can_reveal,
    )


# Stored numbers and details were validated when written; re-deriving them on every read
# is the largest CPU cost of GET /applications/{id}, so the last few are kept parsed.
@lru_cache(maxsize=4096)
def stored_id_info(number: str) -> IdInfo:
    return parse_id_number(number, today=date.max)


@lru_cache(maxsize=4096)
def _stored_details(canonical_json: str) -> PersonDetails:
    return PersonDetails.model_validate_json(canonical_json)


def stored_details(details: dict[str, Any]) -> PersonDetails:
    return _stored_details(json.dumps(details, ensure_ascii=False, sort_keys=True))


def domain_person(record: PersonRecord) -> Person:
    return Person(
        ref=record.id,
        name=record.name,
        id_info=stored_id_info(record.id_number),
        relation=Relation(record.relation),
        details=stored_details(record.details),
    )


def mask_details(details: PersonDetails, reveal: bool) -> PersonDetails:
    if reveal or not details.bank_account:
        return details
    return details.model_copy(update={"bank_account": mask_id_number(details.bank_account)})


def member_out(person: Person, *, reveal: bool, on: date) -> MemberOut:
    info = person.id_info
    counted, reason = classify_member(person, on=on)
    return MemberOut(
        id=person.ref,
        relation=person.relation,
        name=person.name,
        id_number=info.number if reveal else mask_id_number(info.number),
        id_revealed=reveal,
        birth_date=info.birth_date,
        age=info.age_on(on),
        gender=info.gender,
        division_code=info.division_code,
        division_name=info.division_name,
        details=mask_details(person.details, reveal),
        counted=counted,
        count_reason=reason,
    )


def draft_out(
    draft: DraftRecord, *, reveal: bool, on: date, persons: list[Person] | None = None
) -> DraftOut:
    persons = persons if persons is not None else [domain_person(p) for p in draft.persons]
    ent = draft.entrustment
    entrustment = None
    if ent is not None:
        entrustment = Entrustment(
            entrusting_name=ent.entrusting_name,
            entrusting_id_number=ent.entrusting_id_number
            if reveal
            else mask_id_number(ent.entrusting_id_number),
            resident_name=ent.resident_name,
            clerk_staff_id=ent.clerk_staff_id,
            counter_id=ent.counter_id,
            entrusted_at=ent.entrusted_at,
        )
    members = [member_out(p, reveal=reveal, on=on) for p in persons]
    return DraftOut(
        id=draft.id,
        version=draft.version,
        status=DraftStatus(draft.status),
        region=draft.region,
        mode=ApplyMode(draft.mode),
        entrustment=entrustment,
        applicant=members[0],
        members=members[1:],
        household_size=household_size(persons, on=on),
        notice_version=draft.notice_version,
        step=draft.step,
        created_by=draft.created_by,
        counter_id=draft.counter_id,
        created_at=draft.created_at,
        updated_at=draft.updated_at,
    )


def summary_out(s: DraftSummaryRecord) -> DraftSummary:
    return DraftSummary(
        id=s.id,
        version=s.version,
        applicant_name=s.applicant_name,
        applicant_id_number=mask_id_number(s.applicant_id_number),
        member_count=s.member_count,
        step=s.step,
        updated_at=s.updated_at,
    )


def audit_out(r: AuditRecord) -> AuditEventOut:
    return AuditEventOut(
        id=r.id,
        at=r.at,
        staff_id=r.staff_id,
        counter_id=r.counter_id,
        action=r.action,
        subject_type=r.subject_type,
        subject_id=r.subject_id,
        detail=r.detail,
    )
