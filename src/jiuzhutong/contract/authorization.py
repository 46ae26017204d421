"""Wire models of authorization, remote links, live events and submission (issue 3).

Every person in the household authorizes the economic check: identity verified (face, or an
in-person ID check by the clerk), then a handwritten signature on the notice. The counter
watches the states change over Server-Sent Events.
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from jiuzhutong.contract.enums import Relation
from jiuzhutong.contract.models import DraftOut
from jiuzhutong.contract.text import RequiredShortText


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthMethod(StrEnum):
    local = "本机授权"  # the person is at the counter
    remote = "远程授权"  # by a link the person opens on a phone


class AuthState(StrEnum):
    pending = "待授权"
    face_passed = "人脸核验通过"  # identity verified (face or in-person ID check)
    signed = "已签名"
    authorized = "已授权"
    failed = "失败"
    expired = "已过期"


class IdentityCheck(StrEnum):
    face = "人脸核验"
    id_card = "现场核验身份证"  # the non-face alternative, done by the clerk


class NoticeOut(BaseModel):
    version: str
    title: str
    text: str
    sha256: str


class AuthorizationOut(BaseModel):
    person_id: str
    name: str  # masked on the phone page; full for the region's staff
    relation: Relation
    method: AuthMethod | None
    state: AuthState
    identity_check: IdentityCheck | None
    reason: str | None  # why it failed / expired, in Chinese
    signer_person_id: str | None  # the guardian who signs for a minor or a person without capacity
    signer_name: str | None
    verified_by_staff_id: str | None  # local only
    link_expires_at: datetime | None  # the live remote link, if any
    document_sha256: str | None  # of the signed document once signed
    updated_at: datetime


class AuthorizationBoard(BaseModel):
    application_id: str
    version: int  # the draft's version
    last_event_seq: int  # resume the SSE stream from here
    persons: list[AuthorizationOut]  # applicant first
    all_authorized: bool


class RemoteLinkOut(BaseModel):
    person_id: str
    url: str  # {JZT_PUBLIC_BASE_URL}/r/{token}; the token is shown only here, once
    short_code: str  # the token itself, for typing in by hand
    expires_at: datetime


class LocalIdentityIn(_In):
    """The clerk's identity step at the counter."""

    check: IdentityCheck
    # with check=人脸核验 the counter face provider decides; the simulated one obeys this
    simulated_face_pass: bool | None = None


class LocalSignatureIn(_In):
    """Signature captured at the counter; None → the counter signature provider captures it."""

    signature_svg_path: Annotated[str, Field(min_length=1, max_length=20000)] | None = None


class PhoneSubmitIn(_In):
    """What the phone page posts to /r/{token}."""

    nonce: Annotated[str, Field(min_length=8, max_length=200)]
    face_consent: Literal[True]
    face_result: Literal["pass", "fail"]
    signature_svg_path: Annotated[str, Field(max_length=20000)] = ""


class SignedDocumentOut(BaseModel):
    person_id: str
    document_version: str
    document_title: str
    person_name: str
    id_number_masked: str
    signer_name: str  # the person, or their guardian
    signature_svg_path: str
    signed_at: datetime
    method: AuthMethod
    identity_check: IdentityCheck
    verified_by_staff_id: str | None
    sha256: str  # of the canonical signed record (document text + person + signature + time)


class EventType(StrEnum):
    authorization = "authorization"  # data: AuthorizationOut
    economic_progress = "economic.progress"  # data: SourceProgress
    economic_done = "economic.done"  # data: {"per_capita_monthly", "reference"}
    draft = "draft"  # data: {"version"}
    submitted = "submitted"  # data: CaseOut


class EventOut(BaseModel):
    """One SSE message: `id:` is seq, `event:` is type, `data:` is this model as JSON."""

    seq: int  # the application's event sequence number, from 1
    type: EventType
    application_id: str
    at: datetime
    data: dict[str, Any]


class CaseStatus(StrEnum):
    submitted = "已提交"  # 受理


class TimelineEntry(BaseModel):
    at: datetime
    status: str
    note: str


class CaseOut(BaseModel):
    application_id: str
    case_number: str  # e.g. 420106-2026-000123, unique per division
    status: CaseStatus
    submitted_at: datetime
    timeline: list[TimelineEntry]


class CaseFileOut(BaseModel):
    """A submitted case: its number and timeline, and the application as it was filed."""

    case: CaseOut
    application: DraftOut  # ID numbers masked unless revealed


class SubmitIn(_In):
    confirm: Literal[True] = True
    note: RequiredShortText | None = None
