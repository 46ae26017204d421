"""Resident ID numbers (GB 11643-1999), checked with python-stdnum.

Each check has its own kind and message so the clerk learns exactly what to correct. The
division check accepts every code stdnum knows, whatever its dates: stdnum's own
``get_birth_place`` refuses a code created after the birth year, which would turn away
everyone born in 武昌区 before 1983 — the older residents dibao serves most.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from stdnum.cn import ric
from stdnum.exceptions import ValidationError
from stdnum.util import clean

from jiuzhutong.contract import Gender
from jiuzhutong.domain.divisions import loc_full_name, loc_known
from jiuzhutong.domain.errors import DomainError

ID_LENGTH = 18
EARLIEST_BIRTH = date(1900, 1, 1)


class IdErrorKind(StrEnum):
    EMPTY = "id_empty"
    LENGTH = "id_length"
    FORMAT = "id_format"
    CHECKSUM = "id_checksum"
    BIRTH_DATE_INVALID = "id_birth_date_invalid"
    BIRTH_DATE_FUTURE = "id_birth_date_future"
    DIVISION_UNKNOWN = "id_division_unknown"


class IdNumberError(DomainError):
    kind: IdErrorKind

    def __init__(self, kind: IdErrorKind, message: str, field: str | None = "id_number") -> None:
        super().__init__(kind.value, message, field)
        self.kind = kind


@dataclass(frozen=True)
class IdInfo:
    number: str  # normalised: 18 chars, upper-case X
    birth_date: date
    gender: Gender
    division_code: str
    division_name: str

    def age_on(self, on: date) -> int:
        """Completed years (周岁); a 29 February birthday falls on 1 March in common years."""
        b = self.birth_date
        return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def _normalise(text: str) -> str:
    # stdnum's clean maps full-width digits (from Chinese input methods) to ASCII; spaces and
    # hyphens are what people type to group the digits.
    try:
        return clean(text, " -\t\u3000").strip().upper()
    except ValidationError:
        return text.strip().upper()


def parse_id_number(text: str, *, today: date | None = None, field: str = "id_number") -> IdInfo:
    """Check a number in a fixed order and return what it encodes; IdNumberError otherwise."""
    today = today or date.today()
    number = _normalise(text or "")
    if not number:
        raise IdNumberError(IdErrorKind.EMPTY, "身份证号不能为空", field)
    if len(number) != ID_LENGTH:
        raise IdNumberError(
            IdErrorKind.LENGTH, f"身份证号应为{ID_LENGTH}位（现有{len(number)}位）", field
        )
    body, last = number[:-1], number[-1]
    if not (body.isascii() and body.isdigit()) or last not in "0123456789X":
        raise IdNumberError(IdErrorKind.FORMAT, "前17位应为数字，最后一位为数字或X", field)
    if last != ric.calc_check_digit(number):
        raise IdNumberError(IdErrorKind.CHECKSUM, "身份证号校验位错误", field)
    try:
        birth = ric.get_birth_date(number)
    except ValidationError:
        y, m, d = number[6:10], number[10:12], number[12:14]
        raise IdNumberError(
            IdErrorKind.BIRTH_DATE_INVALID,
            f"出生日期不存在：{y}年{m}月{d}日（身份证号第7至14位）",
            field,
        ) from None
    if birth > today:
        raise IdNumberError(IdErrorKind.BIRTH_DATE_FUTURE, "出生日期不能晚于今天", field)
    if birth < EARLIEST_BIRTH:
        raise IdNumberError(IdErrorKind.BIRTH_DATE_FUTURE, "出生日期不能早于1900年1月1日", field)
    code = number[:6]
    if not loc_known(code):
        raise IdNumberError(IdErrorKind.DIVISION_UNKNOWN, f"行政区划代码不存在：{code}", field)
    # The name in force in the birth year is the best stdnum can say about when it was issued.
    name = loc_full_name(code, birth.year)
    assert name is not None
    gender = Gender.male if int(number[16]) % 2 == 1 else Gender.female
    return IdInfo(number, birth, gender, code, name)


def mask_id_number(number: str) -> str:
    """Keep the first 6 and the last 4 characters: "420106********1234"."""
    if len(number) <= 10:
        return "*" * len(number)  # keeping 6 + 4 would show all of it
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def make_id_number(division_code: str, birth: date, seq: int) -> str:
    """A synthetic number with a valid check digit, for fixtures and benchmarks."""
    if len(division_code) != 6 or not division_code.isdigit():
        raise ValueError(f"division_code must be 6 digits: {division_code!r}")
    if not 0 <= seq <= 999:
        raise ValueError(f"seq must be 0..999: {seq}")
    body = f"{division_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq:03d}"
    # calc_check_digit expects the check position to be present and ignores it.
    return body + ric.calc_check_digit(body + "0")
