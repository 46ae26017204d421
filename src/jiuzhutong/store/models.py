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
