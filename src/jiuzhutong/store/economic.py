"""Economic checks and the applicant's corrections, encrypted at rest.

A check row holds the last run started and the last result stored; corrections are rows of
their own, tied to the result they were declared against, and are never merged into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from jiuzhutong.security import FieldCipher
from jiuzhutong.store.models import economic_checks_t, economic_corrections_t

c = economic_checks_t
k = economic_corrections_t

RUNNING = "running"
DONE = "done"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class EconomicCheckRecord:
    application_id: str
    run_id: str
    state: str  # running | done | failed (of the run last started)
    started_at: datetime
    started_by: str | None
    result_run_id: str | None  # the run whose items are stored; None before the first result
    generated_at: datetime | None
    items_json: str | None = field(repr=False)  # EconomicItemOut list as JSON
    sources_json: str | None
    persons_digest: bytes | None
    confirmed_at: datetime | None
    confirmed_by: str | None
    confirmed_digest: bytes | None = None  # of the status the applicant confirmed


@dataclass(frozen=True, slots=True)
class CorrectionRecord:
    id: str
    application_id: str
    run_id: str
    data_json: str = field(repr=False)  # CorrectionIn as JSON
    created_at: datetime
    created_by: str | None


def _items_aad(application_id: str) -> bytes:
    return f"economic.items:{application_id}".encode()


def _correction_aad(correction_id: str) -> bytes:
    return f"economic.correction:{correction_id}".encode()


class EconomicRepository:
    def __init__(self, conn: Connection, cipher: FieldCipher) -> None:
        self._conn = conn
        self._cipher = cipher

    def get(self, application_id: str, *, for_update: bool = False) -> EconomicCheckRecord | None:
        stmt = select(c).where(c.c.application_id == application_id)
        if for_update and self._conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        r = self._conn.execute(stmt).fetchone()
        if r is None:
            return None
        items = None
        if r.items_enc is not None:
            items = self._cipher.decrypt(bytes(r.items_enc), _items_aad(application_id))
        return EconomicCheckRecord(
            application_id=r.application_id,
            run_id=r.run_id,
            state=r.state,
            started_at=r.started_at,
            started_by=r.started_by,
            result_run_id=r.result_run_id,
            generated_at=r.generated_at,
            items_json=items,
            sources_json=r.sources,
            persons_digest=bytes(r.persons_digest) if r.persons_digest is not None else None,
            confirmed_at=r.confirmed_at,
            confirmed_by=r.confirmed_by,
            confirmed_digest=bytes(r.confirmed_digest) if r.confirmed_digest is not None else None,
        )

    def start(
        self, application_id: str, run_id: str, now: datetime, staff_id: str | None, *, new: bool
    ) -> None:
        """A new run; the previous result (if any) stays until this one finishes.

        ``new``: insert the row (UniqueViolation "pk_economic_checks" if a concurrent
        start inserted it first), else update it.
        """
        values = {"run_id": run_id, "state": RUNNING, "started_at": now, "started_by": staff_id}
        if new:
            self._conn.execute(insert(c).values(application_id=application_id, **values))
        else:
            self._conn.execute(update(c).where(c.c.application_id == application_id).values(values))

    def finish(
        self,
        application_id: str,
        run_id: str,
        *,
        items_json: str,
        sources_json: str,
        persons_digest: bytes,
        generated_at: datetime,
    ) -> bool:
        """Store the run's result, unless a newer run was started meanwhile (then False)."""
        cursor = self._conn.execute(
            update(c)
            .where(c.c.application_id == application_id, c.c.run_id == run_id)
            .values(
                state=DONE,
                result_run_id=run_id,
                generated_at=generated_at,
                items_enc=self._cipher.encrypt(items_json, _items_aad(application_id)),
                sources=sources_json,
                persons_digest=persons_digest,
                confirmed_at=None,
                confirmed_by=None,
                confirmed_digest=None,
            )
        )
        return cursor.rowcount == 1

    def fail(self, application_id: str, run_id: str) -> bool:
        cursor = self._conn.execute(
            update(c)
            .where(c.c.application_id == application_id, c.c.run_id == run_id)
            .values(state=FAILED)
        )
        return cursor.rowcount == 1

    def set_confirmed(
        self,
        application_id: str,
        at: datetime | None,
        staff_id: str | None,
        digest: bytes | None = None,
    ) -> None:
        """Record (or with ``at`` None clear) the applicant's confirmation."""
        self._conn.execute(
            update(c)
            .where(c.c.application_id == application_id)
            .values(confirmed_at=at, confirmed_by=staff_id, confirmed_digest=digest)
        )

    # --- corrections -------------------------------------------------------------------

    def add_correction(self, record: CorrectionRecord) -> None:
        self._conn.execute(
            insert(k).values(
                id=record.id,
                application_id=record.application_id,
                run_id=record.run_id,
                data_enc=self._cipher.encrypt(record.data_json, _correction_aad(record.id)),
                created_at=record.created_at,
                created_by=record.created_by,
            )
        )

    def corrections(self, application_id: str, run_id: str) -> list[CorrectionRecord]:
        rows = self._conn.execute(
            select(k)
            .where(k.c.application_id == application_id, k.c.run_id == run_id)
            .order_by(k.c.created_at, k.c.id)
        )
        return [
            CorrectionRecord(
                id=r.id,
                application_id=r.application_id,
                run_id=r.run_id,
                data_json=self._cipher.decrypt(bytes(r.data_enc), _correction_aad(r.id)),
                created_at=r.created_at,
                created_by=r.created_by,
            )
            for r in rows
        ]
