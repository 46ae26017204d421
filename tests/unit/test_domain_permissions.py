from __future__ import annotations

import pytest

from jiuzhutong.contract import Role
from jiuzhutong.domain.permissions import can_manage_staff, default_can_reveal


@pytest.mark.parametrize(
    ("role", "reveal", "manage"),
    [
        (Role.clerk, False, False),
        (Role.township, False, False),
        (Role.county, True, False),
        (Role.investigator, False, False),
        (Role.admin, True, True),
    ],
)
def test_role_defaults(role, reveal, manage):
    assert default_can_reveal(role) is reveal
    assert can_manage_staff(role) is manage


def test_every_role_is_covered():
    assert {r for r in Role if default_can_reveal(r)} == {Role.county, Role.admin}
    assert {r for r in Role if can_manage_staff(r)} == {Role.admin}
