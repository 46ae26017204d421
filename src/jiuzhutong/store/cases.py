"""Submitted cases and their numbers: DDDDDD-YYYY-NNNNNN, consecutive per division and year.

The number comes from one atomic upsert on (division, year): INSERT … ON CONFLICT DO UPDATE
SET last_seq = last_seq + 1 RETURNING last_seq. On PostgreSQL the row lock it takes is held
to the end of the submitting transaction, so concurrent submits in one division queue on it
and a rolled-back submit gives its number back; on SQLite the whole write transaction runs
under BEGIN IMMEDIATE. Either way no two cases get the same number and none is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from jiuzhutong.security import FieldCipher
from jiuzhutong.store.models import case_counters_t, cases_t

t = cases_t
n = case_counters_t


@dataclass(frozen=True, slots=True)
class CaseRecord:
    application_id: str
    case_number: str
    division: str
    year: int
    seq: int
    submitted_at: datetime
    submitted_by: str | None
    timeline_json: str = field(repr=False)  # TimelineEntry list as JSON


def _aad(application_id: str) -> bytes:
    return f"case.timeline:{application_id}".encode()


class CaseRepository:
    def __init__(self, conn: Connection, cipher: FieldCipher) -> None:
        self._conn = conn
        self._cipher = cipher

    def next_seq(self, division: str, year: int) -> int:
        dialect = self._conn.dialect.name
        ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(n)
        stmt = (
            ins.values(division=division, year=year, last_seq=1)
            .on_conflict_do_update(
                index_elements=[n.c.division, n.c.year],
                set_={"last_seq": n.c.last_seq + 1},
            )
            .returning(n.c.last_seq)
        )
        return int(self._conn.execute(stmt).scalar_one())

    def insert(self, case: CaseRecord) -> None:
        """UniqueViolation("pk_cases") if the application already has a case."""
        self._conn.execute(
            insert(t).values(
                application_id=case.application_id,
                case_number=case.case_number,
                division=case.division,
                year=case.year,
                seq=case.seq,
                submitted_at=case.submitted_at,
                submitted_by=case.submitted_by,
                timeline_enc=self._cipher.encrypt(case.timeline_json, _aad(case.application_id)),
            )
        )

    def get(self, application_id: str) -> CaseRecord | None:
        r = self._conn.execute(select(t).where(t.c.application_id == application_id)).fetchone()
        if r is None:
            return None
        return CaseRecord(
            application_id=r.application_id,
            case_number=r.case_number,
            division=r.division,
            year=r.year,
            seq=r.seq,
            submitted_at=r.submitted_at,
            submitted_by=r.submitted_by,
            timeline_json=self._cipher.decrypt(bytes(r.timeline_enc), _aad(r.application_id)),
        )
