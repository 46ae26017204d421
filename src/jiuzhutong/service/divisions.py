"""Divisions: stdnum's codes plus the streets and communities imported into the database.

The registry is built once and kept in memory; it changes only by an import, after which
``reload`` builds a new one (a running server picks up a CLI import on restart).
"""

from __future__ import annotations

import logging
from pathlib import Path

from jiuzhutong.contract import DivisionOut
from jiuzhutong.domain.divisions import (
    DEMO_DIVISIONS_CSV,
    Division,
    DivisionRegistry,
    read_divisions_csv,
)
from jiuzhutong.domain.errors import DomainErrors
from jiuzhutong.service.clock import Clock
from jiuzhutong.service.context import ServiceStore
from jiuzhutong.service.errors import Invalid, NotFound, Problem
from jiuzhutong.store.records import DivisionRecord

log = logging.getLogger(__name__)


def division_out(d: Division) -> DivisionOut:
    return DivisionOut(
        code=d.code,
        name=d.name,
        full_name=d.full_name,
        level=d.level,
        parent=d.parent,
        sample=d.sample,
    )


class DivisionService:
    def __init__(self, store: ServiceStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self.registry = DivisionRegistry()

    def reload(self) -> None:
        with self._store.read() as tx:
            rows = tx.divisions.all()
        self.registry = DivisionRegistry(
            Division(r.code, r.name, r.full_name, r.level, r.parent, r.sample) for r in rows
        )

    def load_demo_if_empty(self) -> bool:
        """Development only: ship-with demo streets so a fresh install has something to pick."""
        with self._store.read() as tx:
            if tx.divisions.count():
                return False
        self.import_text(DEMO_DIVISIONS_CSV.read_text(encoding="utf-8"), sample=True)
        log.info("loaded demo divisions (示例) into an empty divisions table")
        return True

    def import_file(self, path: Path) -> int:
        return self.import_text(path.read_text(encoding="utf-8-sig"))

    def import_text(self, text: str, *, sample: bool = False) -> int:
        """All or nothing: every bad line is reported (with its number) and nothing is stored."""
        try:
            divisions = read_divisions_csv(text, sample=sample)
        except DomainErrors as exc:
            raise Invalid(Problem.of(e) for e in exc.errors) from None
        records = [
            DivisionRecord(d.code, d.name, d.full_name, d.level, d.parent, d.sample)
            for d in divisions
        ]
        with self._store.write() as tx:
            count = tx.divisions.replace_counties(records, self._clock.now())
        self.reload()
        return count

    # --- endpoints -----------------------------------------------------------------------

    def children(self, parent: str | None) -> list[DivisionOut]:
        if parent is not None and self.registry.get(parent) is None:
            raise NotFound(f"行政区划代码不存在：{parent}")
        return [division_out(d) for d in self.registry.children(parent)]

    def get(self, code: str) -> DivisionOut:
        found = self.registry.get(code)
        if found is None:
            raise NotFound(f"行政区划代码不存在：{code}")
        return division_out(found)
