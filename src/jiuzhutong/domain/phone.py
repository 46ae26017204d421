"""Mainland mobile numbers: 11 digits, 1 then 3–9 (the 13x–19x ranges)."""

from __future__ import annotations

from stdnum.exceptions import ValidationError
from stdnum.util import clean

from jiuzhutong.domain.errors import DomainError

PHONE_LENGTH = 11


def validate_phone(text: str, *, field: str = "details.phone") -> str:
    """Return the 11 digits; DomainError "phone_invalid" with the precise reason otherwise."""
    try:
        # Full-width digits come from Chinese input methods; spaces and hyphens group digits.
        number = clean(text or "", " -\t\u3000").strip()
    except ValidationError:
        number = (text or "").strip()
    # A leading +86 / 0086 country code is common on business cards and in contacts.
    for prefix in ("+86", "0086"):
        if number.startswith(prefix) and len(number) == len(prefix) + PHONE_LENGTH:
            number = number[len(prefix) :]
    if not number:
        raise DomainError("phone_invalid", "手机号不能为空", field)
    if not (number.isascii() and number.isdigit()):
        raise DomainError("phone_invalid", "手机号只能包含数字", field)
    if len(number) != PHONE_LENGTH:
        raise DomainError(
            "phone_invalid", f"手机号应为{PHONE_LENGTH}位（现有{len(number)}位）", field
        )
    if number[0] != "1":
        raise DomainError("phone_invalid", "手机号应以1开头", field)
    if number[1] not in "3456789":
        raise DomainError("phone_invalid", "手机号第2位应为3至9", field)
    return number
