"""Authorization rows (one per person), remote links, signed documents, link rate limit."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, select, update

from jiuzhutong.security import FieldCipher
from jiuzhutong.store.models import (
    IS_OPEN,
    applications_t,
    authorizations_t,
    link_failures_t,
    remote_links_t,
    signed_documents_t,
)


@dataclass(slots=True)
class AuthorizationRecord:
    person_id: str
    application_id: str
    state: str
    method: str | None
    identity_check: str | None
    reason: str | None
    signer_person_id: str | None
    verified_by_staff_id: str | None
    document_id: str | None
    document_sha256: str | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LinkRecord:
    id: str
    application_id: str
    person_id: str
    created_by: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    superseded_at: datetime | None
    page_nonce_hash: bytes | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class SignedDocumentRecord:
    id: str
    application_id: str
    person_id: str
    document_version: str
    sha256: str
    signed_at: datetime
    record_json: str = field(repr=False)  # the canonical signed record


def _doc_aad(doc_id: str) -> bytes:
    return f"signed_documents:record:{doc_id}".encode()


def _hex(digest: bytes | None) -> str | None:
    return bytes(digest).hex() if digest is not None else None


def _raw(hex_digest: str | None) -> bytes | None:
    return bytes.fromhex(hex_digest) if hex_digest is not None else None


def _auth(r) -> AuthorizationRecord:
    return AuthorizationRecord(
        person_id=r.person_id,
        application_id=r.application_id,
        state=r.state,
        method=r.method,
        identity_check=r.identity_check,
        reason=r.reason,
        signer_person_id=r.signer_person_id,
        verified_by_staff_id=r.verified_by_staff_id,
        document_id=r.document_id,
        document_sha256=_hex(r.document_sha256),
        updated_at=r.updated_at,
    )


def _link(r) -> LinkRecord:
    return LinkRecord(
        id=r.id,
        application_id=r.application_id,
        person_id=r.person_id,
        created_by=r.created_by,
        created_at=r.created_at,
        expires_at=r.expires_at,
        used_at=r.used_at,
        superseded_at=r.superseded_at,
        page_nonce_hash=r.page_nonce_hash,
    )


class AuthorizationRepository:
    def __init__(self, conn: Connection, cipher: FieldCipher) -> None:
        self._conn = conn
        self._cipher = cipher

    # --- authorization rows ----------------------------------------------------------

    def list(self, application_id: str, *, for_update: bool = False) -> list[AuthorizationRecord]:
        t = authorizations_t
        stmt = select(t).where(t.c.application_id == application_id)
        if for_update:
            stmt = stmt.with_for_update()
        return [_auth(r) for r in self._conn.execute(stmt)]

    def get(self, person_id: str, *, for_update: bool = False) -> AuthorizationRecord | None:
        t = authorizations_t
        stmt = select(t).where(t.c.person_id == person_id)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._conn.execute(stmt).first()
        return _auth(row) if row is not None else None

    def insert(self, record: AuthorizationRecord) -> None:
        values = asdict(record)
        values["document_sha256"] = _raw(record.document_sha256)
        self._conn.execute(insert(authorizations_t).values(**values))

    def update(self, record: AuthorizationRecord) -> None:
        values = asdict(record)
        values["document_sha256"] = _raw(record.document_sha256)
        del values["person_id"], values["application_id"]
        t = authorizations_t
        self._conn.execute(update(t).where(t.c.person_id == record.person_id).values(**values))

    def delete(self, person_id: str) -> int:
        t = authorizations_t
        return self._conn.execute(delete(t).where(t.c.person_id == person_id)).rowcount or 0

    # --- remote links ------------------------------------------------------------------

    def insert_link(self, link: LinkRecord, token_hash: bytes) -> None:
        self._conn.execute(insert(remote_links_t).values(token_hash=token_hash, **asdict(link)))

    def link_by_hash(self, token_hash: bytes, *, for_update: bool = False) -> LinkRecord | None:
        t = remote_links_t
        stmt = select(t).where(t.c.token_hash == token_hash)
        if for_update:
            stmt = stmt.with_for_update()
        row = self._conn.execute(stmt).first()
        return _link(row) if row is not None else None

    def live_links(self, application_id: str) -> dict[str, LinkRecord]:
        """person id → the newest link neither used nor superseded (it may have expired)."""
        t = remote_links_t
        rows = self._conn.execute(
            select(t)
            .where(
                t.c.application_id == application_id,
                t.c.used_at.is_(None),
                t.c.superseded_at.is_(None),
            )
            .order_by(t.c.created_at)
        )
        return {r.person_id: _link(r) for r in rows}

    def applications_with_expired_links(self, now: datetime, *, limit: int = 100) -> list[str]:
        """Open drafts having a link that ran out but was neither used nor superseded."""
        t, a = remote_links_t, applications_t
        rows = self._conn.execute(
            select(t.c.application_id)
            .join(a, a.c.id == t.c.application_id)
            .where(
                t.c.used_at.is_(None),
                t.c.superseded_at.is_(None),
                t.c.expires_at <= now,
                IS_OPEN,
            )
            .distinct()
            .limit(limit)
        )
        return [r.application_id for r in rows]

    def supersede_links(self, person_id: str, now: datetime) -> int:
        t = remote_links_t
        result = self._conn.execute(
            update(t)
            .where(t.c.person_id == person_id, t.c.used_at.is_(None), t.c.superseded_at.is_(None))
            .values(superseded_at=now)
        )
        return result.rowcount or 0

    def use_link(self, link_id: str, now: datetime) -> None:
        t = remote_links_t
        self._conn.execute(update(t).where(t.c.id == link_id).values(used_at=now))

    def set_page_nonce(self, link_id: str, nonce_hash: bytes) -> None:
        t = remote_links_t
        self._conn.execute(update(t).where(t.c.id == link_id).values(page_nonce_hash=nonce_hash))

    # --- the link rate limit -----------------------------------------------------------

    def add_failure(self, address: str, at: datetime) -> None:
        self._conn.execute(insert(link_failures_t).values(address=address[:64], at=at))

    def failures_since(self, address: str, since: datetime) -> int:
        t = link_failures_t
        return int(
            self._conn.execute(
                select(func.count())
                .select_from(t)
                .where(t.c.address == address[:64], t.c.at >= since)
            ).scalar_one()
        )

    def prune_failures(self, before: datetime) -> None:
        t = link_failures_t
        self._conn.execute(delete(t).where(t.c.at < before))

    # --- signed documents --------------------------------------------------------------

    def insert_document(self, doc: SignedDocumentRecord) -> None:
        self._conn.execute(
            insert(signed_documents_t).values(
                id=doc.id,
                application_id=doc.application_id,
                person_id=doc.person_id,
                document_version=doc.document_version,
                sha256=bytes.fromhex(doc.sha256),
                record_enc=self._cipher.encrypt(doc.record_json, _doc_aad(doc.id)),
                signed_at=doc.signed_at,
            )
        )

    def document(self, doc_id: str) -> SignedDocumentRecord | None:
        t = signed_documents_t
        r = self._conn.execute(select(t).where(t.c.id == doc_id)).first()
        if r is None:
            return None
        return SignedDocumentRecord(
            id=r.id,
            application_id=r.application_id,
            person_id=r.person_id,
            document_version=r.document_version,
            sha256=bytes(r.sha256).hex(),
            signed_at=r.signed_at,
            record_json=self._cipher.decrypt(r.record_enc, _doc_aad(r.id)),
        )
