from __future__ import annotations

import pytest

from jiuzhutong.domain.errors import DomainError
from jiuzhutong.domain.phone import validate_phone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13800138000", "13800138000"),
        (" 138 0013 8000 ", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+8613800138000", "13800138000"),
        ("008619912345678", "19912345678"),
        ("１３８００１３８０００", "13800138000"),
    ],
)
def test_accepted(text, expected):
    assert validate_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "手机号不能为空"),
        ("1380013800", "手机号应为11位（现有10位）"),
        ("138001380001", "手机号应为11位（现有12位）"),
        ("1380013800a", "手机号只能包含数字"),
        ("027-8888888", "手机号应为11位（现有10位）"),
        ("23800138000", "手机号应以1开头"),
        ("12800138000", "手机号第2位应为3至9"),
    ],
)
def test_refused(text, message):
    with pytest.raises(DomainError) as exc:
        validate_phone(text)
    assert exc.value.code == "phone_invalid"
    assert exc.value.message == message
    assert exc.value.field == "details.phone"


def test_field():
    with pytest.raises(DomainError) as exc:
        validate_phone("1", field="members[0].details.phone")
    assert exc.value.field == "members[0].details.phone"
