"""SQLAlchemy models: the schema of record. Migrations in store/migrations/ build exactly this.

Hot queries use the tables through SQLAlchemy Core (``Model.__table__``); the declarative
classes are the schema's readable form and what Alembic compares against.

Personal data of residents is stored only as AES-GCM ciphertext (``*_enc`` columns) plus
HMAC blind indexes (``*_blind``) for exact lookup; see jiuzhutong.security.FieldCipher.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jiuzhutong.store.types import AuditId, Blob, Digest, UtcDateTime, region_string

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DRAFT = "草稿"  # DraftStatus.draft; the partial unique index needs the literal
# Queries compare with the literal too: neither SQLite nor a generic PostgreSQL plan can use
# a partial index when the status comes in as a bound parameter.
IS_OPEN = text(f"applications.status = '{DRAFT}'")
OPEN_DRAFT_INDEX = "uq_applications_open_applicant"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(region_string())
    can_reveal: Mapped[bool] = mapped_column(Boolean)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Session(Base):
    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(Digest, unique=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    counter_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)  # absolute expiry
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Application(Base):
    """A dibao application; for now only drafts (status 草稿 / 已删除)."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    region: Mapped[str] = mapped_column(region_string())
    mode: Mapped[str] = mapped_column(String(10))
    applicant_blind: Mapped[bytes] = mapped_column(Digest)
    created_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    counter_id: Mapped[str] = mapped_column(String(100))
    notice_version: Mapped[str | None] = mapped_column(String(100))
    step: Mapped[str | None] = mapped_column(String(100))
    # Art 6 entrustment (代他人申请): who entrusted the counter, for whom, by whom, when
    entrusting_name_enc: Mapped[bytes | None] = mapped_column(Blob)
    entrusting_id_enc: Mapped[bytes | None] = mapped_column(Blob)
    entrusting_blind: Mapped[bytes | None] = mapped_column(Digest)
    resident_name_enc: Mapped[bytes | None] = mapped_column(Blob)
    entrusted_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    entrusted_counter_id: Mapped[str | None] = mapped_column(String(100))
    entrusted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # one open draft per applicant, anywhere (API: 409 draft_exists)
        Index(
            OPEN_DRAFT_INDEX,
            "applicant_blind",
            unique=True,
            sqlite_where=text(f"status = '{DRAFT}'"),
            postgresql_where=text(f"status = '{DRAFT}'"),
        ),
        Index("ix_applications_status_region_updated", "status", "region", "updated_at"),
    )


class Person(Base):
    """The applicant (position 0) and the household members of an application."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    position: Mapped[int] = mapped_column(Integer)
    relation: Mapped[str] = mapped_column(String(10))
    name_enc: Mapped[bytes] = mapped_column(Blob)
    id_enc: Mapped[bytes] = mapped_column(Blob)
    id_blind: Mapped[bytes] = mapped_column(Digest, index=True)
    details_enc: Mapped[bytes] = mapped_column(Blob)  # PersonDetails as JSON
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_persons_application_position", "application_id", "position"),)


class AuditEvent(Base):
    """Append-only: triggers refuse UPDATE and DELETE (see the initial migration)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(AuditId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    staff_id: Mapped[str | None] = mapped_column(String(36))
    counter_id: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_audit_events_subject", "subject_id", "id"),)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[bytes] = mapped_column(Digest)
    status: Mapped[int] = mapped_column(Integer)
    body_enc: Mapped[bytes] = mapped_column(Blob)  # the response may name residents
    etag: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LoginFailure(Base):
    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(AuditId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_login_failures_username_at", "username", "at"),)


class DivisionRow(Base):
    """Streets (9 digits) and communities (12 digits) a county imported; 2/4/6 are stdnum's."""

    __tablename__ = "divisions"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    parent: Mapped[str | None] = mapped_column(String(12))
    sample: Mapped[bool] = mapped_column(Boolean)
    imported_at: Mapped[datetime] = mapped_column(UtcDateTime)


staff_t = Staff.__table__
sessions_t = Session.__table__
applications_t = Application.__table__
persons_t = Person.__table__
audit_t = AuditEvent.__table__
idempotency_t = IdempotencyKey.__table__
login_failures_t = LoginFailure.__table__
divisions_t = DivisionRow.__table__


# --- issue 3: authorization, remote links, signed documents, live events -----------------


class Authorization(Base):
    """One row per person of an application: how far their authorization got."""

    __tablename__ = "authorizations"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    state: Mapped[str] = mapped_column(String(10))
    method: Mapped[str | None] = mapped_column(String(10))
    identity_check: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(200))
    signer_person_id: Mapped[str | None] = mapped_column(String(36))
    verified_by_staff_id: Mapped[str | None] = mapped_column(String(36))
    document_id: Mapped[str | None] = mapped_column(String(36))
    # binary, as every digest here: a hex digest can hold 18 digits in a row, which the
    # log checks (rightly) take for an ID number
    document_sha256: Mapped[bytes | None] = mapped_column(Digest)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RemoteLink(Base):
    """A single-use link for one person; the token is stored only as its HMAC."""

    __tablename__ = "remote_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(Digest, unique=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    person_id: Mapped[str] = mapped_column(String(36))
    created_by: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    page_nonce_hash: Mapped[bytes | None] = mapped_column(Digest)  # of the last page served

    __table_args__ = (Index("ix_remote_links_person_id", "person_id", "created_at"),)


class LinkFailure(Base):
    """Failed token look-ups per client address, for the rate limit (several workers)."""

    __tablename__ = "link_failures"

    id: Mapped[int] = mapped_column(AuditId, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_link_failures_address_at", "address", "at"),)


class SignedDocument(Base):
    """The signed notice of one person: the canonical record (encrypted) and its SHA-256."""

    __tablename__ = "signed_documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(36))
    document_version: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[bytes] = mapped_column(Digest)
    record_enc: Mapped[bytes] = mapped_column(Blob)  # SignedDocumentOut as canonical JSON
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EventCounter(Base):
    """The last event sequence number of each application (seq is per application)."""

    __tablename__ = "event_counters"

    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class ApplicationEvent(Base):
    """What the counter's SSE stream shows; ``seq`` is the SSE event id."""

    __tablename__ = "application_events"

    id: Mapped[int] = mapped_column(AuditId, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    data_enc: Mapped[bytes] = mapped_column(Blob)  # may name residents
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("uq_application_events_application_seq", "application_id", "seq", unique=True),
    )


authorizations_t = Authorization.__table__
remote_links_t = RemoteLink.__table__
link_failures_t = LinkFailure.__table__
signed_documents_t = SignedDocument.__table__
event_counters_t = EventCounter.__table__
application_events_t = ApplicationEvent.__table__


# --- issue 3: economic check, corrections, cases and their numbering -----------------------


class EconomicCheck(Base):
    """The latest economic check of an application: its run and the result it produced.

    ``run_id`` is the run last started; ``result_run_id`` the run whose items are stored
    (the previous result stays readable while a new run is under way). Items, as the
    EconomicItemOut list, are encrypted: they are a resident's incomes and property.
    """

    __tablename__ = "economic_checks"

    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    run_id: Mapped[str] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(10))  # running | done | failed
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_by: Mapped[str | None] = mapped_column(String(36))
    result_run_id: Mapped[str | None] = mapped_column(String(36))
    generated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    items_enc: Mapped[bytes | None] = mapped_column(Blob)
    sources: Mapped[str | None] = mapped_column(Text)  # final SourceProgress list as JSON
    persons_digest: Mapped[bytes | None] = mapped_column(Digest)  # who was checked (keyed)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(36))
    confirmed_digest: Mapped[bytes | None] = mapped_column(Digest)  # of the status confirmed


class EconomicCorrection(Base):
    """The applicant's correction or annotation: a row of its own, never merged into items."""

    __tablename__ = "economic_corrections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    run_id: Mapped[str] = mapped_column(String(36))  # the result it was declared against
    data_enc: Mapped[bytes] = mapped_column(Blob)  # CorrectionIn as JSON
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (Index("ix_economic_corrections_application_run", "application_id", "run_id"),)


class Case(Base):
    """A submitted (受理) application and its case number, unique per division and year."""

    __tablename__ = "cases"

    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), primary_key=True)
    case_number: Mapped[str] = mapped_column(String(20), unique=True)
    division: Mapped[str] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    submitted_by: Mapped[str | None] = mapped_column(String(36))
    timeline_enc: Mapped[bytes] = mapped_column(Blob)  # TimelineEntry list (notes may name people)

    __table_args__ = (UniqueConstraint("division", "year", "seq"),)


class CaseCounter(Base):
    """The last case number of a division in a year; bumped by one atomic upsert."""

    __tablename__ = "case_counters"

    division: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


economic_checks_t = EconomicCheck.__table__
economic_corrections_t = EconomicCorrection.__table__
cases_t = Case.__table__
case_counters_t = CaseCounter.__table__
