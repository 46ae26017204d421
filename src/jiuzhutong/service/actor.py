"""Who is acting: the logged-in staff member, their session and counter."""

from __future__ import annotations

from dataclasses import dataclass

from jiuzhutong.contract import Role
from jiuzhutong.domain.divisions import region_contains
from jiuzhutong.store.records import AuditEntry, StaffRecord


@dataclass(frozen=True, slots=True)
class Actor:
    staff: StaffRecord
    session_id: str
    counter_id: str

    @property
    def staff_id(self) -> str:
        return self.staff.id

    @property
    def role(self) -> Role:
        return Role(self.staff.role)

    @property
    def region(self) -> str:
        return self.staff.region

    @property
    def can_reveal(self) -> bool:
        return self.staff.can_reveal

    def serves(self, region: str) -> bool:
        return region_contains(self.staff.region, region)

    def audit(
        self, action: str, subject_type: str, subject_id: str | None, detail: str | None = None
    ) -> AuditEntry:
        return AuditEntry(
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            staff_id=self.staff.id,
            counter_id=self.counter_id,
            detail=detail,
        )
