"""Authorization of every person of an application (本机授权 / 远程授权), remote links and the
signed notice.

States: 待授权 → 人脸核验通过 → 已签名 → 已授权, or 失败 (with the reason; retry allowed) and
已过期 (the remote link ran out). Every change goes through ``transition``, which checks the
move against ``ALLOWED`` and writes the row, an audit row and an ``authorization`` event in
the caller's transaction. A person without a row is 待授权 (rows are made on first change),
so a new draft or an added member needs no write here.

Remote links: 128 random bits as base64url (22 characters), stored only as an HMAC; single
use; a newer link for the person supersedes the older one. Failed look-ups are counted per
client address in the database (several workers) and limited.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jiuzhutong.contract.authorization import (
    AuthMethod,
    AuthorizationBoard,
    AuthorizationOut,
    AuthState,
    EventType,
    IdentityCheck,
    LocalIdentityIn,
    LocalSignatureIn,
    PhoneSubmitIn,
    RemoteLinkOut,
    SignedDocumentOut,
)
from jiuzhutong.contract.enums import Relation
from jiuzhutong.documents import Document, current_notice, get_notice
from jiuzhutong.domain.idnumber import mask_id_number
from jiuzhutong.providers.base import check_path_data
from jiuzhutong.service.actor import Actor
from jiuzhutong.service.auth import AuthService
from jiuzhutong.service.clock import local_today
from jiuzhutong.service.context import Context
from jiuzhutong.service.drafts import DraftAccess
from jiuzhutong.service.errors import (
    Conflict,
    Gone,
    Invalid,
    NotFound,
    TooManyLinkLookups,
)
from jiuzhutong.service.events import record_event
from jiuzhutong.service.idempotency import IdempotencyRequest, remember, replay
from jiuzhutong.service.reply import Reply
from jiuzhutong.service.views import stored_id_info
from jiuzhutong.store import Tx
from jiuzhutong.store.authorization import (
    AuthorizationRecord,
    LinkRecord,
    SignedDocumentRecord,
)
from jiuzhutong.store.records import AuditEntry, DraftRecord, PersonRecord

S = AuthState
log = logging.getLogger("jiuzhutong.service.authorization")

# Which state may follow which. A reset to 待授权 (name or ID number changed) is forced
# from any state; everything else must be listed here.
ALLOWED: dict[AuthState, frozenset[AuthState]] = {
    S.pending: frozenset({S.pending, S.face_passed, S.failed, S.expired}),
    S.face_passed: frozenset({S.pending, S.face_passed, S.signed, S.failed, S.expired}),
    S.signed: frozenset({S.authorized}),
    S.authorized: frozenset(),
    S.failed: frozenset({S.pending, S.face_passed, S.failed, S.expired}),
    S.expired: frozenset({S.pending, S.face_passed, S.failed}),  # new link, or at the counter
}

GUARDIAN_AGE = 14  # under 14 (and persons without capacity) are signed for by the guardian
LINK_PURPOSE = b"link"
SIGNATURE_BOX = (600, 240)  # the phone page's pad; the counter provider draws inside it too
FACE_FAILED_REMOTE = "人脸核验未通过（模拟）：请重试，或到窗口由工作人员当面核验身份证件"


# --- small helpers -------------------------------------------------------------------------


def mask_name(name: str) -> str:
    """张三 → 张*, 张三丰 → 张*丰, 欧阳娜娜 → 欧**娜: enough for the person to recognise."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def new_link_token() -> str:
    """128 random bits, base64url without padding: 22 characters."""
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def _nonce_hash(nonce: str) -> bytes:
    return hashlib.sha256(nonce.encode()).digest()


def _person_index(draft: DraftRecord, person_id: str) -> int:
    for i, p in enumerate(draft.persons):
        if p.id == person_id:
            return i
    raise NotFound("未找到该家庭成员")


def signer_for(person: PersonRecord, draft: DraftRecord, today: date) -> PersonRecord:
    """The person, or their recorded guardian when under 14 or without full capacity."""
    details = person.details or {}
    needs_guardian = details.get("has_capacity") is False
    if not needs_guardian and person.id_number:
        needs_guardian = stored_id_info(person.id_number).age_on(today) < GUARDIAN_AGE
    guardian_id = details.get("guardian_member_id")
    if needs_guardian and guardian_id:
        for p in draft.persons:
            if p.id == guardian_id and p.id != person.id:
                return p
    return person


def _is_live(link: LinkRecord | None, now: datetime) -> bool:
    return (
        link is not None
        and link.used_at is None
        and link.superseded_at is None
        and link.expires_at > now
    )


def authorization_out(
    draft: DraftRecord,
    person: PersonRecord,
    row: AuthorizationRecord | None,
    link: LinkRecord | None,
    now: datetime,
    *,
    masked: bool = False,
) -> AuthorizationOut:
    signer_id = row.signer_person_id if row and row.signer_person_id else None
    signer = None
    if signer_id is None:
        expected = signer_for(person, draft, local_today(now))
        signer = expected if expected.id != person.id else None
    else:
        signer = next((p for p in draft.persons if p.id == signer_id), None)
    name = mask_name(person.name) if masked else person.name
    signer_name = None
    if signer is not None:
        signer_name = mask_name(signer.name) if masked else signer.name
    state = S(row.state) if row else S.pending
    live = link if _is_live(link, now) and state in (S.pending, S.failed) else None
    return AuthorizationOut(
        person_id=person.id,
        name=name,
        relation=Relation(person.relation),
        method=AuthMethod(row.method) if row and row.method else None,
        state=state,
        identity_check=IdentityCheck(row.identity_check) if row and row.identity_check else None,
        reason=row.reason if row else None,
        signer_person_id=signer.id if signer is not None else None,
        signer_name=signer_name,
        verified_by_staff_id=row.verified_by_staff_id if row else None,
        link_expires_at=live.expires_at if live else None,
        document_sha256=row.document_sha256 if row else None,
        updated_at=row.updated_at if row else person_updated_at(draft),
    )


def person_updated_at(draft: DraftRecord) -> datetime:
    return draft.updated_at


def _entry(actor: Actor | None, action: str, draft_id: str, detail: str | None) -> AuditEntry:
    if actor is not None:
        return actor.audit(action, "application", draft_id, detail)
    return AuditEntry(action, "application", draft_id, None, None, detail)


def transition(
    tx: Tx,
    actor: Actor | None,
    draft: DraftRecord,
    person: PersonRecord,
    row: AuthorizationRecord | None,
    to: AuthState,
    now: datetime,
    *,
    action: str,
    force: bool = False,
    link: LinkRecord | None = None,
    **changes: object,
) -> AuthorizationRecord:
    """The one way an authorization changes state: checked, audited, announced.

    ``changes`` are further columns of the row (method, identity_check, reason, …).
    Raises Conflict(authorization_state) for a move ``ALLOWED`` does not list.
    """
    current = S(row.state) if row is not None else S.pending
    if not force and to not in ALLOWED[current]:
        raise Conflict(
            "authorization_state",
            f"{person.name}的授权状态为“{current.value}”，不能变为“{to.value}”",
        )
    insert = row is None
    if row is None:
        row = AuthorizationRecord(
            person_id=person.id,
            application_id=draft.id,
            state=S.pending.value,
            method=None,
            identity_check=None,
            reason=None,
            signer_person_id=None,
            verified_by_staff_id=None,
            document_id=None,
            document_sha256=None,
            updated_at=now,
        )
    row.state = to.value
    for key, value in changes.items():
        if not hasattr(row, key) or key in ("person_id", "application_id", "state"):
            raise TypeError(f"not an authorization column: {key}")
        setattr(row, key, value)
    row.updated_at = now
    if insert:
        tx.authorizations.insert(row)
    else:
        tx.authorizations.update(row)
    detail = f"person={person.id} {current.value}->{to.value}"
    if row.method:
        detail += f" method={row.method}"
    tx.audit.append([_entry(actor, action, draft.id, detail)], now)
    out = authorization_out(draft, person, row, link, now)
    record_event(tx, draft.id, EventType.authorization, out.model_dump(mode="json"), at=now)
    return row


def all_authorized(tx: Tx, application_id: str) -> list[str]:
    """Names of the persons not yet 已授权, applicant first (empty: everyone authorized)."""
    draft = tx.drafts.get(application_id)
    if draft is None:
        return []
    rows = {r.person_id: r for r in tx.authorizations.list(application_id)}
    return [
        p.name for p in draft.persons if p.id not in rows or rows[p.id].state != S.authorized.value
    ]


# --- hooks for the household changes (service.members / service.drafts) --------------------


def person_added(tx: Tx, draft: DraftRecord, person: PersonRecord, now: datetime) -> None:
    """An added member starts at 待授权 (no row yet); the counter's board hears of it."""
    out = authorization_out(draft, person, None, None, now)
    record_event(tx, draft.id, EventType.authorization, out.model_dump(mode="json"), at=now)


def person_removed(tx: Tx, actor: Actor, draft: DraftRecord, person_id: str, now: datetime) -> None:
    """A person removed from the household loses their authorization and their links."""
    dropped = tx.authorizations.delete(person_id)
    dropped += tx.authorizations.supersede_links(person_id, now)
    if dropped:  # nothing to audit for a member who never began authorizing
        entry = _entry(actor, "authorization.remove", draft.id, f"person={person_id}")
        tx.audit.append([entry], now)
    record_event(
        tx,
        draft.id,
        EventType.authorization,
        {"person_id": person_id, "removed": True},
        at=now,
    )


def person_identity_changed(
    tx: Tx, actor: Actor, draft: DraftRecord, person: PersonRecord, now: datetime
) -> None:
    """A new name or ID number: whatever was verified or signed no longer applies."""
    superseded = tx.authorizations.supersede_links(person.id, now)
    row = tx.authorizations.get(person.id, for_update=True)
    if row is None and not superseded:
        return
    transition(
        tx,
        actor,
        draft,
        person,
        row,
        S.pending,
        now,
        action="authorization.reset",
        force=True,
        method=None,
        identity_check=None,
        reason="姓名或身份证号已修改，需重新授权",
        signer_person_id=None,
        verified_by_staff_id=None,
        document_id=None,
        document_sha256=None,
    )


# --- the signed document ---------------------------------------------------------------------


def _canonical(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def signed_record(
    *,
    document: Document,
    person: PersonRecord,
    signer: PersonRecord,
    signature: str,
    signed_at: datetime,
    method: AuthMethod,
    identity_check: IdentityCheck,
    verified_by_staff_id: str | None,
) -> tuple[dict, str]:
    """The canonical signed record and its SHA-256 (over the canonical JSON)."""
    record = {
        "document_version": document.version,
        "document_title": document.title,
        "document_sha256": document.sha256,
        "person_id": person.id,
        "person_name": person.name,
        "id_number_masked": mask_id_number(person.id_number),
        "signer_person_id": signer.id,
        "signer_name": signer.name,
        "signature_svg_path": signature,
        "signed_at": signed_at.isoformat(),
        "method": method.value,
        "identity_check": identity_check.value,
        "verified_by_staff_id": verified_by_staff_id,
    }
    return record, hashlib.sha256(_canonical(record).encode()).hexdigest()


def _sign_and_authorize(
    tx: Tx,
    actor: Actor | None,
    draft: DraftRecord,
    person: PersonRecord,
    row: AuthorizationRecord,
    signature: str,
    now: datetime,
) -> AuthorizationRecord:
    """人脸核验通过 → 已签名 (document stored with its SHA-256) → 已授权, in ``tx``."""
    document = current_notice()
    signer = signer_for(person, draft, local_today(now))
    if row.signer_person_id:
        signer = next((p for p in draft.persons if p.id == row.signer_person_id), signer)
    method = AuthMethod(row.method or AuthMethod.local.value)
    record, digest = signed_record(
        document=document,
        person=person,
        signer=signer,
        signature=signature,
        signed_at=now,
        method=method,
        identity_check=IdentityCheck(row.identity_check or IdentityCheck.face.value),
        verified_by_staff_id=row.verified_by_staff_id if method is AuthMethod.local else None,
    )
    doc_id = str(uuid.uuid4())
    tx.authorizations.insert_document(
        SignedDocumentRecord(
            id=doc_id,
            application_id=draft.id,
            person_id=person.id,
            document_version=document.version,
            sha256=digest,
            signed_at=now,
            record_json=_canonical({**record, "sha256": digest}),
        )
    )
    row = transition(
        tx,
        actor,
        draft,
        person,
        row,
        S.signed,
        now,
        action="authorization.sign",
        document_id=doc_id,
        document_sha256=digest,
        signer_person_id=signer.id,
        reason=None,
    )
    return transition(tx, actor, draft, person, row, S.authorized, now, action="authorization.done")


# --- the use cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PhonePage:
    """What the phone page shows: masked data only, and the nonce its form must post."""

    person_name_masked: str
    id_masked: str
    document: Document
    nonce: str


@dataclass(frozen=True)
class _LinkLookup:
    draft: DraftRecord
    person: PersonRecord
    link: LinkRecord
    row: AuthorizationRecord | None


class AuthorizationService:
    def __init__(self, ctx: Context, auth: AuthService, providers: Callable[[], object]) -> None:
        self._ctx = ctx
        self._auth = auth
        self._providers_factory = providers
        self._providers: object | None = None
        self._access = DraftAccess()

    def _provider(self, kind: str):
        if self._providers is None:
            self._providers = self._providers_factory()
        return getattr(self._providers, kind)

    def face_provider_label(self) -> str:
        return str(self._provider("face").name)

    # --- the board -------------------------------------------------------------------------

    def board(self, token: str, draft_id: str) -> AuthorizationBoard:
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.read() as tx:
            actor = self._auth.authenticate(tx, token, now)
            # the board and the signed documents stay readable once the case is submitted
            draft = self._access.visible(tx, actor, draft_id, submitted_ok=True)
            rows = {r.person_id: r for r in tx.authorizations.list(draft_id)}
            links = tx.authorizations.live_links(draft_id)
            due = [
                p
                for p in draft.persons
                if p.id in links
                and links[p.id].expires_at <= now
                and (rows.get(p.id) is None or rows[p.id].state in (S.pending, S.failed))
            ]
            if not due:
                return self._board(tx, draft, rows, links, now)
        with ctx.store.write() as tx:  # links ran out: 已过期, announced like any change
            actor = self._auth.authenticate(tx, token, now)
            draft = self._access.visible(tx, actor, draft_id)
            self._expire_due(tx, draft, now)
            rows = {r.person_id: r for r in tx.authorizations.list(draft_id)}
            links = tx.authorizations.live_links(draft_id)
            return self._board(tx, draft, rows, links, now)

    def sweep_expired(self) -> int:
        """Mark 已过期 where a link ran out unnoticed (announced like any change)."""
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.read() as tx:
            due = tx.authorizations.applications_with_expired_links(now)
        for application_id in due:
            with ctx.store.write() as tx:
                draft = tx.drafts.get(application_id)
                if draft is not None:
                    self._expire_due(tx, draft, now)
        return len(due)

    async def sweep_forever(self) -> None:
        """The server's background task: ``sweep_expired`` every JZT_LINK_SWEEP_SECONDS."""
        interval = self._ctx.settings.link_sweep_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                self.sweep_expired()
            except Exception:  # a busy database now is no reason to stop sweeping
                log.warning("expired-link sweep failed", exc_info=True)

    @staticmethod
    def _expire_due(tx: Tx, draft: DraftRecord, now: datetime) -> None:
        rows = {r.person_id: r for r in tx.authorizations.list(draft.id, for_update=True)}
        links = tx.authorizations.live_links(draft.id)
        for person in draft.persons:
            link = links.get(person.id)
            row = rows.get(person.id)
            if link is None or link.expires_at > now:
                continue
            if row is not None and S(row.state) not in (S.pending, S.failed):
                continue
            tx.authorizations.supersede_links(person.id, now)
            transition(
                tx,
                None,
                draft,
                person,
                row,
                S.expired,
                now,
                action="authorization.expire",
                reason="授权链接已过期，请重新生成",
            )

    @staticmethod
    def _board(
        tx: Tx,
        draft: DraftRecord,
        rows: dict[str, AuthorizationRecord],
        links: dict[str, LinkRecord],
        now: datetime,
    ) -> AuthorizationBoard:
        persons = [
            authorization_out(draft, p, rows.get(p.id), links.get(p.id), now) for p in draft.persons
        ]
        return AuthorizationBoard(
            application_id=draft.id,
            version=draft.version,
            last_event_seq=tx.events.last_seq(draft.id),
            persons=persons,
            all_authorized=all(p.state is S.authorized for p in persons),
        )

    # --- remote links ------------------------------------------------------------------------

    def create_link(
        self, token: str, draft_id: str, person_id: str, idem: IdempotencyRequest | None
    ) -> Reply:
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            replayed = replay(tx, actor, idem)
            if replayed is not None:
                return replayed
            draft = self._access.visible(tx, actor, draft_id)
            person = draft.persons[_person_index(draft, person_id)]
            row = tx.authorizations.get(person_id, for_update=True)
            if row is not None and row.state == S.authorized.value:
                raise Conflict("already_authorized", f"{person.name}已完成授权，无需再次授权")
            link_token = new_link_token()
            tx.authorizations.supersede_links(person_id, now)
            link = LinkRecord(
                id=str(uuid.uuid4()),
                application_id=draft.id,
                person_id=person_id,
                created_by=actor.staff_id,
                created_at=now,
                expires_at=now + timedelta(minutes=ctx.settings.link_minutes),
                used_at=None,
                superseded_at=None,
                page_nonce_hash=None,
            )
            tx.authorizations.insert_link(
                link, ctx.store.cipher.blind_index(link_token, LINK_PURPOSE)
            )
            if _at_counter(row):
                # identity checked at the counter: the page on the counter's tablet only
                # takes the signature; 本机授权 and the verifying clerk stay as recorded
                detail = f"person={person_id} tablet"
                tx.audit.append([actor.audit("authorization.link", "application", draft.id,
                                             detail)], now)  # fmt: skip
            else:
                transition(
                    tx,
                    actor,
                    draft,
                    person,
                    row,
                    S.pending,
                    now,
                    action="authorization.link",
                    link=link,
                    method=AuthMethod.remote.value,
                    identity_check=None,
                    reason=None,
                    verified_by_staff_id=None,
                    signer_person_id=None,
                )
            base = ctx.settings.public_base_url.rstrip("/")
            out = RemoteLinkOut(
                person_id=person_id,
                url=f"{base}/r/{link_token}",
                short_code=link_token,
                expires_at=link.expires_at,
            )
            reply = Reply(201, out.model_dump_json())
            remember(tx, actor, idem, reply, now)
        return reply

    def _rate_check(self, tx: Tx, address: str, now: datetime) -> None:
        settings = self._ctx.settings
        window = timedelta(seconds=settings.link_window_seconds)
        if tx.authorizations.failures_since(address, now - window) >= settings.link_max_failures:
            raise TooManyLinkLookups(settings.link_window_seconds)

    def _lookup(
        self, tx: Tx, link_token: str, address: str, now: datetime
    ) -> _LinkLookup | ServiceFailure:
        """The live link of ``link_token``, or the failure to report (after counting it)."""
        self._rate_check(tx, address, now)
        digest = self._ctx.store.cipher.blind_index(link_token[:64], LINK_PURPOSE)
        link = tx.authorizations.link_by_hash(digest, for_update=True)
        failure: ServiceFailure | None = None
        draft = person = None
        if link is None:
            failure = ServiceFailure(NotFound(Gone.message))
        elif link.used_at is not None or link.superseded_at is not None:
            failure = ServiceFailure(Gone())
        else:
            draft = tx.drafts.get(link.application_id)
            if draft is None or draft.status != "草稿":
                failure = ServiceFailure(Gone())
            else:
                person = next((p for p in draft.persons if p.id == link.person_id), None)
                if person is None:
                    failure = ServiceFailure(Gone())
        if failure is None and link is not None and link.expires_at <= now:
            assert draft is not None and person is not None
            self._expire_due(tx, draft, now)
            failure = ServiceFailure(Gone())
        if failure is not None:
            tx.authorizations.add_failure(address, now)
            return failure
        assert draft is not None and person is not None and link is not None
        return _LinkLookup(draft, person, link, tx.authorizations.get(person.id, for_update=True))

    def phone_page(self, link_token: str, address: str) -> PhonePage:
        """GET /r/{token}: a fresh per-page nonce (stored hashed) and the masked person."""
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            found = self._lookup(tx, link_token, address, now)
            if isinstance(found, _LinkLookup):
                if not _signable(found.row):
                    found = ServiceFailure(Gone())
                else:
                    nonce = secrets.token_urlsafe(18)
                    tx.authorizations.set_page_nonce(found.link.id, _nonce_hash(nonce))
        if isinstance(found, ServiceFailure):
            raise found.error
        person = found.person
        signer = signer_for(person, found.draft, local_today(now))
        name = mask_name(person.name)
        if signer.id != person.id:
            name += f"（由监护人{mask_name(signer.name)}代签）"
        return PhonePage(
            person_name_masked=name,
            id_masked=mask_id_number(person.id_number),
            document=current_notice(),
            nonce=nonce,
        )

    def phone_submit(self, link_token: str, address: str, data: PhoneSubmitIn) -> dict:
        """POST /r/{token}: consent + face result + signature, in one transaction.

        The signature path was checked by the caller against the page's own rules. A failed
        face check is recorded (失败, the link stays usable for a retry) and reported as 422.
        """
        ctx = self._ctx
        now = ctx.clock.now()
        error: Exception | None = None
        result: dict = {}
        with ctx.store.write() as tx:
            found = self._lookup(tx, link_token, address, now)
            if isinstance(found, ServiceFailure):
                error = found.error
            elif found.link.page_nonce_hash is None or not hmac.compare_digest(
                found.link.page_nonce_hash, _nonce_hash(data.nonce)
            ):
                tx.authorizations.add_failure(address, now)
                error = Invalid.one("nonce_invalid", "页面已过期，请刷新页面后重新签名", "nonce")
            elif not _signable(found.row):
                error = Gone()
            elif _at_counter(found.row):  # the counter's tablet: identity already checked
                draft, person, row, link = found.draft, found.person, found.row, found.link
                assert row is not None
                tx.authorizations.use_link(link.id, now)
                row = _sign_and_authorize(
                    tx, None, draft, person, row, data.signature_svg_path, now
                )
                out = authorization_out(draft, person, row, None, now, masked=True)
                result = out.model_dump(mode="json") | {"message": "签名业务已完成"}
            else:
                draft, person, row, link = found.draft, found.person, found.row, found.link
                signer = signer_for(person, draft, local_today(now))
                common = {
                    "method": AuthMethod.remote.value,
                    "identity_check": IdentityCheck.face.value,
                    "signer_person_id": signer.id,
                    "verified_by_staff_id": None,
                }
                if data.face_result != "pass":
                    transition(
                        tx, None, draft, person, row, S.failed, now,
                        action="authorization.identity", link=link,
                        reason=FACE_FAILED_REMOTE, **common,
                    )  # fmt: skip
                    error = Invalid.one("face_failed", FACE_FAILED_REMOTE, "face_result")
                else:
                    row = transition(
                        tx, None, draft, person, row, S.face_passed, now,
                        action="authorization.identity", reason=None, **common,
                    )  # fmt: skip
                    tx.authorizations.use_link(link.id, now)
                    row = _sign_and_authorize(
                        tx, None, draft, person, row, data.signature_svg_path, now
                    )
                    out = authorization_out(draft, person, row, None, now, masked=True)
                    result = out.model_dump(mode="json")
                    result["message"] = "签名业务已完成"
        if error is not None:
            raise error
        return result

    # --- counter (local) authorization -----------------------------------------------------------

    def _load(
        self, tx: Tx, token: str, draft_id: str, person_id: str, now: datetime
    ) -> tuple[Actor, DraftRecord, PersonRecord, AuthorizationRecord | None]:
        actor = self._auth.authenticate(tx, token, now)
        draft = self._access.visible(tx, actor, draft_id)
        person = draft.persons[_person_index(draft, person_id)]
        return actor, draft, person, tx.authorizations.get(person_id, for_update=True)

    async def local_identity(
        self,
        token: str,
        draft_id: str,
        person_id: str,
        data: LocalIdentityIn,
        idem: IdempotencyRequest | None,
    ) -> Reply:
        """本机授权 step 1: the clerk's in-person ID check, or the counter face provider."""
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.read() as tx:
            actor, draft, person, row = self._load(tx, token, draft_id, person_id, now)
            replayed = replay(tx, actor, idem)
            if replayed is not None:
                return replayed
            signer = signer_for(person, draft, local_today(now))
        passed, reason = True, None
        if data.check is IdentityCheck.face:
            face = self._provider("face")
            result = await face.verify(id_number=signer.id_number, name=signer.name)
            passed, reason = result.passed, (None if result.passed else result.reason)
            if face.simulated and data.simulated_face_pass is not None:
                passed = data.simulated_face_pass
                reason = (
                    None
                    if passed
                    else ("模拟人脸核验未通过（模拟）：请重试，或由窗口工作人员当面核验身份证件")
                )
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor, draft, person, row = self._load(tx, token, draft_id, person_id, now)
            replayed = replay(tx, actor, idem)
            if replayed is not None:
                return replayed
            if row is not None and row.state == S.authorized.value:
                raise Conflict("already_authorized", f"{person.name}已完成授权，无需再次授权")
            tx.authorizations.supersede_links(person_id, now)  # at the counter now
            signer = signer_for(person, draft, local_today(now))
            row = transition(
                tx, actor, draft, person, row, S.face_passed if passed else S.failed, now,
                action="authorization.identity",
                method=AuthMethod.local.value,
                identity_check=data.check.value,
                reason=reason,
                signer_person_id=signer.id,
                verified_by_staff_id=actor.staff_id,
            )  # fmt: skip
            out = authorization_out(draft, person, row, None, now)
            reply = Reply(200, out.model_dump_json())
            remember(tx, actor, idem, reply, now)
        return reply

    async def local_signature(
        self,
        token: str,
        draft_id: str,
        person_id: str,
        data: LocalSignatureIn,
        idem: IdempotencyRequest | None,
    ) -> Reply:
        """本机授权 step 2: the signature, given or captured by the counter signature provider."""
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.read() as tx:
            actor, draft, person, row = self._load(tx, token, draft_id, person_id, now)
            replayed = replay(tx, actor, idem)
            if replayed is not None:
                return replayed
            self._require_identity(person, row)
            signer = signer_for(person, draft, local_today(now))
        if data.signature_svg_path is not None:
            signature = _checked_signature(data.signature_svg_path)
        else:
            capture = self._provider("signature")
            captured = await capture.capture(
                signer_name=signer.name, document_id=f"{draft_id}:{person_id}"
            )
            signature = _checked_signature(captured.path_data)
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor, draft, person, row = self._load(tx, token, draft_id, person_id, now)
            replayed = replay(tx, actor, idem)
            if replayed is not None:
                return replayed
            row = self._require_identity(person, row)
            row = _sign_and_authorize(tx, actor, draft, person, row, signature, now)
            out = authorization_out(draft, person, row, None, now)
            reply = Reply(200, out.model_dump_json())
            remember(tx, actor, idem, reply, now)
        return reply

    @staticmethod
    def _require_identity(
        person: PersonRecord, row: AuthorizationRecord | None
    ) -> AuthorizationRecord:
        if row is None or row.state != S.face_passed.value or row.method != AuthMethod.local:
            state = S(row.state).value if row is not None else S.pending.value
            raise Conflict(
                "authorization_state",
                f"{person.name}的授权状态为“{state}”，请先在本机完成身份核验再签名",
            )
        return row

    # --- the signed document ---------------------------------------------------------------------

    def signed_document(self, token: str, draft_id: str, person_id: str) -> SignedDocumentOut:
        ctx = self._ctx
        now = ctx.clock.now()
        with ctx.store.write() as tx:
            actor = self._auth.authenticate(tx, token, now)
            draft = self._access.visible(tx, actor, draft_id, submitted_ok=True)
            person = draft.persons[_person_index(draft, person_id)]
            row = tx.authorizations.get(person_id)
            doc = tx.authorizations.document(row.document_id) if row and row.document_id else None
            if doc is None:
                raise NotFound(f"{person.name}尚未签署告知书")
            record = json.loads(doc.record_json)
            entry = actor.audit(
                "signed_document.read", "application", draft.id, f"person={person_id}"
            )
            tx.audit.append([entry], now)
        document = get_notice(record["document_version"])
        return SignedDocumentOut(
            person_id=record["person_id"],
            document_version=record["document_version"],
            document_title=document.title if document else record["document_title"],
            person_name=record["person_name"],
            id_number_masked=record["id_number_masked"],
            signer_name=record["signer_name"],
            signature_svg_path=record["signature_svg_path"],
            signed_at=datetime.fromisoformat(record["signed_at"]),
            method=AuthMethod(record["method"]),
            identity_check=IdentityCheck(record["identity_check"]),
            verified_by_staff_id=record["verified_by_staff_id"],
            sha256=doc.sha256,
        )


def _at_counter(row: AuthorizationRecord | None) -> bool:
    """Identity verified at the counter (本机授权), the signature still to come."""
    return (
        row is not None
        and row.state == S.face_passed.value
        and row.method == AuthMethod.local.value
    )


def _signable(row: AuthorizationRecord | None) -> bool:
    """A link's page may be shown and posted: before identity, after a failure, or on the
    counter's tablet after the clerk's identity step."""
    return row is None or S(row.state) in (S.pending, S.failed) or _at_counter(row)


@dataclass(frozen=True)
class ServiceFailure:
    """An error to raise once the transaction (holding the failure count) has committed."""

    error: Exception


def _checked_signature(path: str) -> str:
    width, height = SIGNATURE_BOX
    try:
        return check_path_data(path, width=width, height=height)
    except ValueError as exc:
        raise Invalid.one("signature_invalid", str(exc), "signature_svg_path") from None


def verify_signed_record(record_json: str) -> bool:
    """True when the stored record still hashes to the SHA-256 stored inside it."""
    record = json.loads(record_json)
    digest = record.pop("sha256", None)
    return digest == hashlib.sha256(_canonical(record).encode()).hexdigest()
