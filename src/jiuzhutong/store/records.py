"""Plain records the repositories return and take: decrypted, no SQLAlchemy objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class StaffRecord:
    id: str
    username: str
    display_name: str
    role: str
    region: str
    can_reveal: bool
    active: bool
    created_at: datetime
    password_hash: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    staff: StaffRecord
    counter_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime


@dataclass(slots=True)
class PersonRecord:
    id: str
    position: int  # 0 = the applicant
    relation: str
    name: str = field(repr=False)
    id_number: str = field(repr=False)
    details: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass(frozen=True, slots=True)
class EntrustmentRecord:
    entrusting_name: str = field(repr=False)
    entrusting_id_number: str = field(repr=False)
    resident_name: str = field(repr=False)
    clerk_staff_id: str
    counter_id: str
    entrusted_at: datetime


@dataclass(slots=True)
class DraftRecord:
    id: str
    version: int
    status: str
    region: str
    mode: str
    created_by: str
    counter_id: str
    notice_version: str | None
    step: str | None
    created_at: datetime
    updated_at: datetime
    entrustment: EntrustmentRecord | None
    persons: list[PersonRecord]  # ordered by position; persons[0] is the applicant


@dataclass(frozen=True, slots=True)
class DraftSummaryRecord:
    id: str
    version: int
    applicant_name: str = field(repr=False)
    applicant_id_number: str = field(repr=False)
    member_count: int
    step: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An audit row to append. ``detail`` must never hold a full ID number."""

    action: str
    subject_type: str
    subject_id: str | None
    staff_id: str | None
    counter_id: str | None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    staff_id: str | None
    counter_id: str | None
    action: str
    subject_type: str
    subject_id: str | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class StoredResponse:
    fingerprint: bytes
    status: int
    body: str = field(repr=False)
    etag: str | None


@dataclass(frozen=True, slots=True)
class DivisionRecord:
    code: str
    name: str
    full_name: str
    level: str
    parent: str | None
    sample: bool
