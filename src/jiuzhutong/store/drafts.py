"""Applications (drafts) and their persons, encrypted at rest.

Names, ID numbers and the PersonDetails JSON are AES-GCM ciphertext bound to their row and
column; the applicant's ID number also has an HMAC blind index for exact lookup and for the
one-open-draft-per-applicant unique index.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from jiuzhutong.domain.divisions import LEVELS as REGION_LEVELS
from jiuzhutong.security import FieldCipher
from jiuzhutong.store.aio import AsyncPool
from jiuzhutong.store.errors import VersionConflict
from jiuzhutong.store.models import (
    DRAFT,
    IS_OPEN,
    applications_t,
    audit_t,
    persons_t,
    sessions_t,
)
from jiuzhutong.store.raw import RawExecutor, RawStatement
from jiuzhutong.store.records import (
    DraftRecord,
    DraftSummaryRecord,
    EntrustmentRecord,
    PersonRecord,
    SessionRecord,
)
from jiuzhutong.store.staff import (
    N_SESSION_COLUMNS,
    SESSION_COLUMNS,
    SESSION_FROM,
    SESSION_WHERE,
    session_from_row,
)

a = applications_t
p = persons_t

_GET = RawStatement(
    select(
        a.c.id,
        a.c.version,
        a.c.status,
        a.c.region,
        a.c.mode,
        a.c.created_by,
        a.c.counter_id,
        a.c.notice_version,
        a.c.step,
        a.c.created_at,
        a.c.updated_at,
        a.c.entrusting_name_enc,
        a.c.entrusting_id_enc,
        a.c.resident_name_enc,
        a.c.entrusted_staff_id,
        a.c.entrusted_counter_id,
        a.c.entrusted_at,
        p.c.id.label("p_id"),
        p.c.position.label("p_position"),
        p.c.relation.label("p_relation"),
        p.c.name_enc.label("p_name_enc"),
        p.c.id_enc.label("p_id_enc"),
        p.c.details_enc.label("p_details_enc"),
    )
    .join_from(a, p, p.c.application_id == a.c.id)
    .where(a.c.id == bindparam("id"))
    .order_by(p.c.position)
)
_HEAD = RawStatement(select(a.c.version, a.c.status, a.c.region).where(a.c.id == bindparam("id")))
# the session check and the draft's head in one statement: on PostgreSQL one round trip
# (with the implicit BEGIN, see store.raw) instead of two; no row when no open session
_SESSION_HEAD = RawStatement(
    select(*SESSION_COLUMNS, a.c.version, a.c.status, a.c.region)
    .select_from(SESSION_FROM.outerjoin(a, a.c.id == bindparam("id")))
    .where(*SESSION_WHERE)
)

# PostgreSQL, GET of a draft in ONE statement run in autocommit (no BEGIN, no COMMIT round
# trip): the session-and-head read of _SESSION_HEAD plus the "draft.read" audit row,
# inserted only when every condition under which the service serves the read holds — the
# same rules as AuthService._check_session and DraftService.read, each as a condition here
# implied by the service's own check, so the row is never written for a read the service
# then refuses. The statement is its own transaction: the audit row is durable exactly when
# the read is. The service re-checks in Python and, if it would serve but no row was
# written (e.g. the session's last_seen is due for a touch), runs its ordinary transaction.
_s = (
    select(
        *SESSION_COLUMNS,
        a.c.version.label("app_version"),
        a.c.status.label("app_status"),
        a.c.region.label("app_region"),
    )
    .select_from(SESSION_FROM.outerjoin(a, a.c.id == bindparam("id")))
    .where(*SESSION_WHERE)
    .cte("s")
)
_at = bindparam("now", type_=audit_t.c.at.type)
_serves = and_(
    _s.c.expires_at > _at,
    _s.c.last_seen_at >= bindparam("idle_cutoff", type_=sessions_t.c.last_seen_at.type),
    _s.c.last_seen_at > bindparam("touch_cutoff", type_=sessions_t.c.last_seen_at.type),
    _s.c.active.is_(True),
    _s.c.app_status == DRAFT,
    # domain.divisions.region_contains: a valid region code that prefixes the draft's
    func.length(_s.c.region).in_([literal_column(str(n)) for n in sorted(REGION_LEVELS)]),
    _s.c.region.regexp_match("^[0-9]+$"),
    func.left(_s.c.app_region, func.length(_s.c.region)) == _s.c.region,
)
_ins = (
    insert(audit_t)
    .from_select(
        ["at", "staff_id", "counter_id", "action", "subject_type", "subject_id", "detail"],
        select(
            _at,
            _s.c.id,
            _s.c.counter_id,
            literal("draft.read"),
            literal("application"),
            bindparam("id"),
            null(),
        ).where(_serves),
    )
    .returning(audit_t.c.id)
    .cte("ins")
)
_SESSION_HEAD_AUDITED = RawStatement(
    select(
        *[_s.c[c.name] for c in SESSION_COLUMNS],
        _s.c.app_version,
        _s.c.app_status,
        _s.c.app_region,
        select(func.count()).select_from(_ins).scalar_subquery(),
    ).select_from(_s)
)
_BUMP_KEYS = frozenset({"draft_id", "expected", "now"})
_BUMPS: dict[frozenset[str], RawStatement] = {}


def _bump_statement(columns: frozenset[str]) -> RawStatement:
    """The compare-and-set UPDATE that also sets ``columns`` (one per combination, cached)."""
    found = _BUMPS.get(columns)
    if found is None:
        found = _BUMPS[columns] = RawStatement(
            update(a)
            .where(a.c.id == bindparam("draft_id"), a.c.version == bindparam("expected"), IS_OPEN)
            .values(
                version=a.c.version + 1,
                updated_at=bindparam("now"),
                **{c: bindparam(c) for c in sorted(columns)},
            )
        )
    return found


_UPDATE_PERSON = RawStatement(
    update(p)
    .where(p.c.id == bindparam("pid"), p.c.application_id == bindparam("draft_id"))
    .values(
        relation=bindparam("relation"),
        updated_at=bindparam("now"),
        name_enc=bindparam("name_enc"),
        id_enc=bindparam("id_enc"),
        id_blind=bindparam("id_blind"),
        details_enc=bindparam("details_enc"),
    )
)

_member_count = (
    select(func.count())
    .where(p.c.application_id == a.c.id, p.c.position > 0)
    .correlate(a)
    .scalar_subquery()
)
_SUMMARY_COLS = (
    a.c.id,
    a.c.version,
    a.c.step,
    a.c.updated_at,
    p.c.id.label("p_id"),
    p.c.name_enc.label("p_name_enc"),
    p.c.id_enc.label("p_id_enc"),
    _member_count.label("member_count"),
)
_SUMMARY_FROM = a.join(p, (p.c.application_id == a.c.id) & (p.c.position == 0))
_IN_REGION = (a.c.region >= bindparam("lo"), a.c.region < bindparam("hi"))
_LIST_OPEN = RawStatement(
    select(*_SUMMARY_COLS)
    .select_from(_SUMMARY_FROM)
    .where(IS_OPEN, *_IN_REGION)
    .order_by(a.c.updated_at.desc(), a.c.id)
    .limit(bindparam("limit"))
)
_LOOKUP_OPEN = RawStatement(
    select(*_SUMMARY_COLS)
    .select_from(_SUMMARY_FROM)
    .where(a.c.applicant_blind == bindparam("blind"), IS_OPEN, *_IN_REGION)
    .order_by(a.c.updated_at.desc())
)

_UPDATABLE = frozenset({"notice_version", "step", "status", "applicant_id_number"})


def region_range(region: str) -> tuple[str, str]:
    """[lo, hi) such that lo <= code < hi exactly when code starts with region (digits)."""
    return region, region[:-1] + chr(ord(region[-1]) + 1)


def _aad(column: str, row_id: str) -> bytes:
    return f"{column}:{row_id}".encode()


class DraftRepository:
    def __init__(self, conn: Connection, raw: RawExecutor, cipher: FieldCipher) -> None:
        self._conn = conn
        self._raw = raw
        self._cipher = cipher

    # --- reads -----------------------------------------------------------------------

    def get(self, draft_id: str) -> DraftRecord | None:
        raw = self._raw
        rows = raw.execute(_GET, {"id": draft_id}).fetchall()
        if not rows:
            return None
        (
            did,
            version,
            status,
            region,
            mode,
            created_by,
            counter_id,
            notice_version,
            step,
            created_at,
            updated_at,
            ent_name,
            ent_id,
            res_name,
            ent_staff,
            ent_counter,
            ent_at,
        ) = rows[0][:17]
        dec = self._cipher.decrypt
        entrustment = None
        if ent_at is not None:
            entrustment = EntrustmentRecord(
                entrusting_name=dec(bytes(ent_name), _aad("app.ent_name", did)),
                entrusting_id_number=dec(bytes(ent_id), _aad("app.ent_id", did)),
                resident_name=dec(bytes(res_name), _aad("app.res_name", did)),
                clerk_staff_id=ent_staff,
                counter_id=ent_counter,
                entrusted_at=raw.time(ent_at),
            )
        persons = []
        for row in rows:
            pid, position, relation, name_enc, id_enc, details_enc = row[17:]
            persons.append(
                PersonRecord(
                    id=pid,
                    position=position,
                    relation=relation,
                    name=dec(bytes(name_enc), _aad("person.name", pid)),
                    id_number=dec(bytes(id_enc), _aad("person.id", pid)),
                    details=json.loads(dec(bytes(details_enc), _aad("person.details", pid))),
                )
            )
        return DraftRecord(
            id=did,
            version=version,
            status=status,
            region=region,
            mode=mode,
            created_by=created_by,
            counter_id=counter_id,
            notice_version=notice_version,
            step=step,
            created_at=raw.time(created_at),
            updated_at=raw.time(updated_at),
            entrustment=entrustment,
            persons=persons,
        )

    def head(self, draft_id: str) -> tuple[int, str, str] | None:
        """(version, status, region) of a draft, without its persons."""
        row = self._raw.execute(_HEAD, {"id": draft_id}).fetchone()
        return None if row is None else (row[0], row[1], row[2])

    def session_and_head(
        self, token_hash: bytes, draft_id: str
    ) -> tuple[SessionRecord, tuple[int, str, str] | None] | None:
        """The open session with this token (as SessionRepository.by_token_hash) and the
        draft's head (as head()), or None when there is no such session."""
        raw = self._raw
        row = raw.execute(_SESSION_HEAD, {"token_hash": token_hash, "id": draft_id}).fetchone()
        if row is None:
            return None
        version, status, region = row[N_SESSION_COLUMNS:]
        head = None if version is None else (version, status, region)
        return session_from_row(raw, row), head

    def session_and_head_audited(
        self,
        token_hash: bytes,
        draft_id: str,
        *,
        now: datetime,
        idle_cutoff: datetime,
        touch_cutoff: datetime,
    ) -> SessionHeadAudited | None:
        """PostgreSQL only, and only as a transaction's first statement: session_and_head()
        plus the draft.read audit row when the read is to be served (see _SESSION_HEAD_AUDITED),
        committed by the statement itself. The bool: whether the row was written."""
        driver = self._raw.driver
        driver.autocommit = True  # no transaction is open yet: this sends nothing
        try:
            row = self._raw.execute(
                _SESSION_HEAD_AUDITED,
                {
                    "token_hash": token_hash,
                    "id": draft_id,
                    "now": now,
                    "idle_cutoff": idle_cutoff,
                    "touch_cutoff": touch_cutoff,
                },
            ).fetchone()
        finally:
            driver.autocommit = False
        return _audited_result(self._raw, row)

    def open_draft_of(self, id_number: str) -> str | None:
        """Id of the open draft whose applicant has this (normalised) ID number, anywhere."""
        return self._conn.execute(
            select(a.c.id).where(
                a.c.applicant_blind == self._cipher.blind_index(id_number), IS_OPEN
            )
        ).scalar()

    def list_open(self, region: str, *, limit: int) -> list[DraftSummaryRecord]:
        lo, hi = region_range(region)
        rows = self._raw.execute(_LIST_OPEN, {"lo": lo, "hi": hi, "limit": limit}).fetchall()
        return [self._summary(r) for r in rows]

    def lookup_open(self, id_number: str, region: str) -> list[DraftSummaryRecord]:
        lo, hi = region_range(region)
        params = {"blind": self._cipher.blind_index(id_number), "lo": lo, "hi": hi}
        return [self._summary(r) for r in self._raw.execute(_LOOKUP_OPEN, params).fetchall()]

    def _summary(self, r: tuple) -> DraftSummaryRecord:
        did, version, step, updated_at, pid, name_enc, id_enc, member_count = r
        return DraftSummaryRecord(
            id=did,
            version=version,
            applicant_name=self._cipher.decrypt(bytes(name_enc), _aad("person.name", pid)),
            applicant_id_number=self._cipher.decrypt(bytes(id_enc), _aad("person.id", pid)),
            member_count=member_count,
            step=step,
            updated_at=self._raw.time(updated_at),
        )

    # --- writes ----------------------------------------------------------------------

    def insert(self, draft: DraftRecord) -> None:
        """A new draft with its applicant (persons[0]); UniqueViolation on a second open one."""
        applicant = draft.persons[0]
        self._conn.execute(
            insert(a).values(
                id=draft.id,
                version=draft.version,
                status=draft.status,
                region=draft.region,
                mode=draft.mode,
                applicant_blind=self._cipher.blind_index(applicant.id_number),
                created_by=draft.created_by,
                counter_id=draft.counter_id,
                notice_version=draft.notice_version,
                step=draft.step,
                **entrustment_columns(self._cipher, draft.id, draft.entrustment),
                created_at=draft.created_at,
                updated_at=draft.updated_at,
            )
        )
        for person in draft.persons:
            self.insert_person(draft.id, person, draft.created_at)

    def bump_version(
        self,
        draft_id: str,
        expected_version: int,
        now: datetime,
        changes: Mapping[str, Any] | None = None,
    ) -> int:
        """Compare-and-set: write only if the draft is still open at ``expected_version``.

        The condition is in the UPDATE itself, so of two concurrent writers from the same
        version exactly one matches a row; the other gets VersionConflict.
        """
        params: dict[str, Any] = {"draft_id": draft_id, "expected": expected_version, "now": now}
        for key, value in (changes or {}).items():
            if key not in _UPDATABLE:
                raise ValueError(f"not an updatable draft column: {key}")
            if key == "applicant_id_number":
                params["applicant_blind"] = self._cipher.blind_index(value)
            else:
                params[key] = value
        cursor = self._raw.execute(_bump_statement(frozenset(params) - _BUMP_KEYS), params)
        matched = cursor.rowcount
        cursor.close()
        if matched != 1:
            current = self._conn.execute(
                select(a.c.version).where(a.c.id == draft_id, IS_OPEN)
            ).scalar()
            raise VersionConflict(current)
        return expected_version + 1

    def insert_person(self, draft_id: str, person: PersonRecord, now: datetime) -> None:
        self._conn.execute(
            insert(p).values(
                id=person.id,
                application_id=draft_id,
                position=person.position,
                relation=person.relation,
                created_at=now,
                updated_at=now,
                **person_columns(self._cipher, person),
            )
        )

    def update_person(self, draft_id: str, person: PersonRecord, now: datetime) -> None:
        params = {
            "pid": person.id,
            "draft_id": draft_id,
            "relation": person.relation,
            "now": now,
            **person_columns(self._cipher, person),
        }
        # the caller has the draft's row lock from bump_version; nothing reads this result
        self._raw.defer(_UPDATE_PERSON, params)

    def delete_person(self, draft_id: str, person_id: str) -> None:
        self._conn.execute(
            delete(p).where(p.c.id == person_id, p.c.application_id == draft_id, p.c.position > 0)
        )


SessionHeadAudited = tuple[SessionRecord, tuple[int, str, str] | None, bool]


def _audited_result(raw: RawExecutor, row: Any) -> SessionHeadAudited | None:
    if row is None:
        return None
    version, status, region, audited = row[N_SESSION_COLUMNS:]
    head = None if version is None else (version, status, region)
    return session_from_row(raw, row), head, audited == 1


# only its time() is used, which needs no connection
_PG_ROWS = RawExecutor(None, postgresql.psycopg.dialect())  # type: ignore[attr-defined]


async def session_and_head_audited_async(
    pool: AsyncPool,
    token_hash: bytes,
    draft_id: str,
    *,
    now: datetime,
    idle_cutoff: datetime,
    touch_cutoff: datetime,
) -> SessionHeadAudited | None:
    """DraftRepository.session_and_head_audited() on the event loop: the same statement,
    autocommitted on one of the pool's asynchronous connections (store.aio). Raises
    DatabaseUnavailable when it could not be run or its outcome is unknown."""
    row = await pool.fetchone(
        _SESSION_HEAD_AUDITED,
        {
            "token_hash": token_hash,
            "id": draft_id,
            "now": now,
            "idle_cutoff": idle_cutoff,
            "touch_cutoff": touch_cutoff,
        },
    )
    return _audited_result(_PG_ROWS, row)


def person_columns(cipher: FieldCipher, person: PersonRecord) -> dict[str, Any]:
    """The encrypted columns of a person row (also used by store.bulk)."""
    details = json.dumps(person.details, ensure_ascii=False, separators=(",", ":"))
    return {
        "name_enc": cipher.encrypt(person.name, _aad("person.name", person.id)),
        "id_enc": cipher.encrypt(person.id_number, _aad("person.id", person.id)),
        "id_blind": cipher.blind_index(person.id_number),
        "details_enc": cipher.encrypt(details, _aad("person.details", person.id)),
    }


def entrustment_columns(
    cipher: FieldCipher, draft_id: str, ent: EntrustmentRecord | None
) -> dict[str, Any]:
    if ent is None:
        return {}
    return {
        "entrusting_name_enc": cipher.encrypt(ent.entrusting_name, _aad("app.ent_name", draft_id)),
        "entrusting_id_enc": cipher.encrypt(ent.entrusting_id_number, _aad("app.ent_id", draft_id)),
        "entrusting_blind": cipher.blind_index(ent.entrusting_id_number),
        "resident_name_enc": cipher.encrypt(ent.resident_name, _aad("app.res_name", draft_id)),
        "entrusted_staff_id": ent.clerk_staff_id,
        "entrusted_counter_id": ent.counter_id,
        "entrusted_at": ent.entrusted_at,
    }
