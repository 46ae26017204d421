"""Request and response models of the jiuzhutong HTTP API."""

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from jiuzhutong.contract.enums import (
    ApplyMode,
    DisabilityCategory,
    DraftStatus,
    Exclusion,
    Gender,
    HealthStatus,
    HukouType,
    MaritalStatus,
    Relation,
    Role,
    WorkAbility,
)
from jiuzhutong.contract.text import IdNumberText, LongText, Name, RequiredShortText, ShortText


class _In(BaseModel):
    """Inbound models refuse unknown fields, so a typo is an error rather than silently lost."""

    model_config = ConfigDict(extra="forbid")


# --- service -------------------------------------------------------------------------


class HealthOut(BaseModel):
    status: str  # "ok"
    database: str  # "sqlite" | "postgresql"
    version: str


# --- staff and sessions --------------------------------------------------------------


class LoginRequest(_In):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    counter_id: RequiredShortText = "counter-1"  # the window the clerk sits at


class StaffOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: Role
    region: str  # division code the staff serves (2, 4, 6, 9 or 12 digits)
    region_name: str
    can_reveal: bool  # may see full ID numbers (every reveal is audited)


class LoginResponse(BaseModel):
    token: str  # opaque bearer token; the server keeps only its hash
    expires_at: datetime  # absolute expiry (idle expiry comes sooner without use)
    idle_timeout_seconds: int
    staff: StaffOut


class StaffCreate(_In):
    username: Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[a-z0-9_.-]+$")]
    password: Annotated[str, Field(min_length=10, max_length=256)]
    display_name: Name
    role: Role
    region: Annotated[str, Field(pattern=r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$")]


# --- divisions -----------------------------------------------------------------------


class DivisionOut(BaseModel):
    code: str
    name: str  # own name, e.g. "江汉区"
    full_name: str  # e.g. "湖北省武汉市江汉区"
    level: str  # "province" | "prefecture" | "county" | "street" | "community"
    parent: str | None
    sample: bool  # True for the shipped 示例 data


# --- persons -------------------------------------------------------------------------


class PersonDetails(_In):
    """Everything the basic-info and member forms hold beyond name and ID number.

    Every field is optional so a draft can be saved field by field as the clerk types.
    """

    ethnicity: ShortText | None = None  # 民族
    phone: ShortText | None = None  # checked by the domain: 11 digits starting with 1
    hukou_division: ShortText | None = None  # 户籍所在地: 6/9/12-digit code
    hukou_address: LongText | None = None  # 户籍地址
    residence_address: LongText | None = None  # 现居住地址
    hukou_type: HukouType | None = None  # 城镇/农村
    marital_status: MaritalStatus | None = None
    health: HealthStatus | None = None
    disability_category: DisabilityCategory | None = None
    disability_grade: Annotated[int, Field(ge=1, le=4)] | None = None
    work_ability: WorkAbility | None = None
    employment: ShortText | None = None  # 就业情况
    # applicant only
    apply_reason: LongText | None = None
    bank_name: ShortText | None = None
    bank_account: ShortText | None = None  # masked in responses like ID numbers
    # members only: the co-residence facts the household rule needs (DOMAIN.md, Art 7)
    co_resident: bool | None = None  # 共同生活
    exclusion: Exclusion | None = None
    full_time_student: bool | None = None  # 全日制在校（本科及以下）
    cannot_live_independently: bool | None = None
    legal_support_duty: bool | None = None  # 有法定赡养、扶养或抚养义务且长期共同居住
    has_capacity: bool | None = None  # 完全民事行为能力; None = not stated (adult assumed)
    guardian_member_id: ShortText | None = None  # who signs for a minor / person without capacity


class MemberIn(_In):
    name: Name
    id_number: IdNumberText
    relation: Relation
    details: PersonDetails = PersonDetails()


class MemberUpdate(_In):
    name: Name | None = None
    id_number: IdNumberText | None = None
    relation: Relation | None = None
    details: PersonDetails | None = None  # only the fields sent are changed


class MemberOut(BaseModel):
    id: str
    relation: Relation
    name: str
    id_number: str  # masked (420106********1234) unless revealed
    id_revealed: bool
    birth_date: date
    age: int
    gender: Gender
    division_code: str  # from the ID number's address code
    division_name: str
    details: PersonDetails
    counted: bool  # counts as a co-resident household member (Art 7)
    count_reason: str  # why, in Chinese


# --- drafts --------------------------------------------------------------------------


class Entrustment(BaseModel):
    """Art 6: who entrusted whom, recorded when a resident entrusts the counter."""

    entrusting_name: str
    entrusting_id_number: str  # masked unless revealed
    resident_name: str
    clerk_staff_id: str
    counter_id: str
    entrusted_at: datetime


class DraftCreate(_In):
    name: Name
    id_number: IdNumberText
    mode: ApplyMode
    # where the person who entrusts the counter is not the resident themself
    entrusting_name: Name | None = None
    entrusting_id_number: IdNumberText | None = None


class DraftUpdate(_In):
    name: Name | None = None
    id_number: IdNumberText | None = None
    details: PersonDetails | None = None  # only the fields sent are changed
    notice_version: ShortText | None = None
    step: ShortText | None = None  # the step the clerk is at, so a resume reopens it


class DraftOut(BaseModel):
    id: str
    version: int
    status: DraftStatus
    region: str
    mode: ApplyMode
    entrustment: Entrustment | None
    applicant: MemberOut
    members: list[MemberOut]  # without the applicant
    household_size: int  # persons counted (applicant included)
    notice_version: str | None
    step: str | None
    created_by: str
    counter_id: str
    created_at: datetime
    updated_at: datetime


class DraftSummary(BaseModel):
    id: str
    version: int
    applicant_name: str
    applicant_id_number: str  # always masked
    member_count: int
    step: str | None
    updated_at: datetime


class LookupRequest(_In):
    """Exact look-up by ID number; in the body so the number never lands in an access log."""

    id_number: IdNumberText


# --- audit ---------------------------------------------------------------------------


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    staff_id: str | None
    counter_id: str | None
    action: str  # e.g. "draft.read", "draft.update", "member.add", "id.reveal", "auth.login"
    subject_type: str  # "application" | "staff" | "session"
    subject_id: str | None
    detail: str | None  # never a full ID number
