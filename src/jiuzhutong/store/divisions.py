"""Imported streets and communities (codes python-stdnum does not know)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, func, insert, or_, select

from jiuzhutong.store.models import divisions_t as t
from jiuzhutong.store.records import DivisionRecord


class DivisionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def all(self) -> list[DivisionRecord]:
        rows = self._conn.execute(select(t).order_by(t.c.code))
        return [
            DivisionRecord(r.code, r.name, r.full_name, r.level, r.parent, bool(r.sample))
            for r in rows
        ]

    def count(self) -> int:
        return self._conn.execute(select(func.count()).select_from(t)).scalar_one()

    def replace_counties(self, divisions: Sequence[DivisionRecord], now: datetime) -> int:
        """Replace every row of the counties the file covers, and all sample rows.

        A county's file is its whole list: rows it no longer has go, and demo (示例) rows
        never mix with real ones. Other counties sharing the database keep theirs.
        """
        counties = sorted({d.code[:6] for d in divisions})
        conditions = [t.c.sample.is_(True)]
        conditions += [t.c.code.startswith(c, autoescape=True) for c in counties]
        self._conn.execute(delete(t).where(or_(*conditions)))
        if divisions:
            self._conn.execute(
                insert(t),
                [
                    {
                        "code": d.code,
                        "name": d.name,
                        "full_name": d.full_name,
                        "level": d.level,
                        "parent": d.parent,
                        "sample": d.sample,
                        "imported_at": now,
                    }
                    for d in divisions
                ],
            )
        return len(divisions)
