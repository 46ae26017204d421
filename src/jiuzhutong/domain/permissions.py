"""What a role may do by default; the server may narrow it per staff member."""

from __future__ import annotations

from jiuzhutong.contract import Role

# PIPL Art 51: least privilege. Full ID numbers are for those who confirm cases (county)
# and for administration; counters, streets and investigators work with masked numbers.
_REVEAL_ROLES = frozenset({Role.county, Role.admin})


def default_can_reveal(role: Role) -> bool:
    return role in _REVEAL_ROLES


def can_manage_staff(role: Role) -> bool:
    return role is Role.admin
