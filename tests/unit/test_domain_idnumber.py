"""ID numbers: properties over generated numbers, and one example per error kind."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import numdb
from stdnum.cn import ric

from jiuzhutong.contract import Gender
from jiuzhutong.domain.idnumber import (
    IdErrorKind,
    IdInfo,
    IdNumberError,
    make_id_number,
    mask_id_number,
    parse_id_number,
)

TODAY = date(2025, 6, 30)


def _stdnum_codes() -> tuple[dict[str, str], list[str]]:
    """Every 6-digit code in stdnum's cn/loc, read independently of the code under test."""
    provinces: dict[str, str] = {}
    codes: list[str] = []
    for _, low, _, props, children in numdb.get("cn/loc").prefixes:
        provinces[low] = props["province"]
        codes.extend(low + c_low for _, c_low, _, c_props, _ in children if "county" in c_props)
    return provinces, codes


PROVINCES, ALL_CODES = _stdnum_codes()
HUBEI_CODES = [c for c in ALL_CODES if c.startswith("42")]
codes = st.one_of(st.sampled_from(HUBEI_CODES), st.sampled_from(ALL_CODES))
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
seqs = st.integers(min_value=0, max_value=999)


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def _error(text: str, **kwargs) -> IdNumberError:
    with pytest.raises(IdNumberError) as exc:
        parse_id_number(text, today=TODAY, **kwargs)
    return exc.value


@given(codes, births, seqs)
def test_every_generated_number_is_accepted_with_what_was_encoded(code, birth, seq):
    number = make_id_number(code, birth, seq)
    info = parse_id_number(number, today=TODAY)
    assert info.number == number
    assert info.birth_date == birth
    assert info.gender == (Gender.male if seq % 2 else Gender.female)
    assert info.division_code == code
    assert info.division_name.startswith(PROVINCES[code[:2]])


@given(codes, births, seqs, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_every_single_character_change_is_rejected(code, birth, seq, pos, char):
    number = make_id_number(code, birth, seq)
    if number[pos] == char:
        char = "0" if char != "0" else "1"
    changed = number[:pos] + char + number[pos + 1 :]
    with pytest.raises(IdNumberError):
        parse_id_number(changed, today=TODAY)


def test_every_single_character_change_of_one_number_exhaustively():
    number = make_id_number("420106", date(1958, 2, 28), 123)
    for pos in range(18):
        for char in "0123456789X":
            if char != number[pos]:
                changed = number[:pos] + char + number[pos + 1 :]
                with pytest.raises(IdNumberError):
                    parse_id_number(changed, today=TODAY)


@given(st.text(min_size=11, max_size=40))
def test_mask_keeps_first_six_and_last_four_only(text):
    masked = mask_id_number(text)
    assert len(masked) == len(text)
    assert masked[:6] == text[:6]
    assert masked[-4:] == text[-4:]
    assert set(masked[6:-4]) == {"*"}


@given(st.text(max_size=10))
def test_mask_hides_everything_of_a_short_value(text):
    assert mask_id_number(text) == "*" * len(text)


@settings(max_examples=50)
@given(codes, births, seqs)
def test_mask_of_an_id_number_hides_the_birth_date(code, birth, seq):
    number = make_id_number(code, birth, seq)
    assert mask_id_number(number) == number[:6] + "*" * 8 + number[-4:]


def test_mask_example():
    assert mask_id_number("420106199001011234") == "420106********1234"


# --- one example per error kind, in checking order ----------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_empty(text):
    e = _error(text)
    assert (e.kind, e.code, e.message, e.field) == (
        IdErrorKind.EMPTY,
        "id_empty",
        "身份证号不能为空",
        "id_number",
    )


def test_length():
    e = _error("42010619900101123")
    assert e.kind is IdErrorKind.LENGTH
    assert e.code == "id_length"
    assert e.message == "身份证号应为18位（现有17位）"


def test_length_is_checked_before_format():
    assert _error("4201061990010112AB9").kind is IdErrorKind.LENGTH


@pytest.mark.parametrize(
    "text", ["42010619900101123Y", "4201061990X1011234", "42010６1990O1011234"]
)
def test_format(text):
    e = _error(text)
    assert e.kind is IdErrorKind.FORMAT
    assert e.code == "id_format"
    assert e.message == "前17位应为数字，最后一位为数字或X"


def test_checksum():
    number = make_id_number("420106", date(1990, 1, 1), 123)
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    e = _error(wrong)
    assert e.kind is IdErrorKind.CHECKSUM
    assert e.code == "id_checksum"
    assert e.message == "身份证号校验位错误"


def test_checksum_is_checked_before_birth_date():
    body = "42010619900230123"
    wrong = body + ("0" if ric.calc_check_digit(body + "0") != "0" else "1")
    assert _error(wrong).kind is IdErrorKind.CHECKSUM


def test_birth_date_invalid():
    e = _error(_with_check("42010619900230123"))
    assert e.kind is IdErrorKind.BIRTH_DATE_INVALID
    assert e.code == "id_birth_date_invalid"
    assert e.message == "出生日期不存在：1990年02月30日（身份证号第7至14位）"


def test_birth_date_invalid_month_zero():
    e = _error(_with_check("42010619900015123"))
    assert e.message == "出生日期不存在：1990年00月15日（身份证号第7至14位）"


def test_birth_date_in_the_future():
    e = _error(make_id_number("420106", date(2025, 7, 1), 123))
    assert e.kind is IdErrorKind.BIRTH_DATE_FUTURE
    assert e.code == "id_birth_date_future"
    assert e.message == "出生日期不能晚于今天"


def test_birth_date_today_is_accepted():
    assert parse_id_number(make_id_number("420106", TODAY, 1), today=TODAY).birth_date == TODAY


def test_birth_date_before_1900():
    e = _error(make_id_number("420106", date(1899, 12, 31), 123))
    assert e.kind is IdErrorKind.BIRTH_DATE_FUTURE
    assert e.message == "出生日期不能早于1900年1月1日"


def test_birth_date_is_checked_before_division():
    assert _error(_with_check("42019919900230123")).kind is IdErrorKind.BIRTH_DATE_INVALID


def test_division_unknown():
    e = _error(make_id_number("420199", date(1990, 1, 1), 123))
    assert e.kind is IdErrorKind.DIVISION_UNKNOWN
    assert e.code == "id_division_unknown"
    assert e.message == "行政区划代码不存在：420199"


def test_division_unknown_province():
    assert _error(make_id_number("990101", date(1990, 1, 1), 1)).message == (
        "行政区划代码不存在：990101"
    )


def test_field_is_passed_through():
    assert _error("", field="members[2].id_number").field == "members[2].id_number"


def test_with_field_keeps_kind():
    e = _error("").with_field("applicant.id_number")
    assert isinstance(e, IdNumberError)
    assert e.kind is IdErrorKind.EMPTY
    assert e.field == "applicant.id_number"


# --- accepted inputs -------------------------------------------------------------------


def test_historical_division_code_is_accepted():
    # 422421 江陵县 belonged to 荆州地区, abolished in 1994; stdnum still knows it.
    periods = dict(numdb.get("cn/loc").info("422421"))["2421"]["county"]
    assert periods == "[-1994]江陵县"
    info = parse_id_number(make_id_number("422421", date(1965, 5, 4), 31), today=TODAY)
    assert info.division_code == "422421"
    assert info.division_name == "湖北省荆州地区江陵县"


def test_code_created_after_birth_is_accepted():
    # 武昌区 got 420106 in 1983; people born earlier carry it all the same.
    info = parse_id_number(make_id_number("420106", date(1950, 3, 1), 11), today=TODAY)
    assert info.division_name == "湖北省武汉市武昌区"


def test_renamed_prefecture_uses_name_of_birth_year():
    # 4206 was 襄樊市 until 2009 and 襄阳市 since 2010.
    old = parse_id_number(make_id_number("420602", date(1980, 1, 1), 1), today=TODAY)
    new = parse_id_number(make_id_number("420602", date(2015, 1, 1), 1), today=TODAY)
    assert old.division_name == "湖北省襄樊市襄城区"
    assert new.division_name == "湖北省襄阳市襄城区"


def test_province_direct_county_full_name():
    info = parse_id_number(make_id_number("429004", date(1990, 1, 1), 1), today=TODAY)
    assert info.division_name == "湖北省仙桃市"


def _number_ending_in_x() -> str:
    for seq in range(1000):
        number = make_id_number("420103", date(1988, 8, 8), seq)
        if number.endswith("X"):
            return number
    raise AssertionError("no X check digit among 1000 sequences")


def test_lower_case_x_is_accepted_and_normalised():
    number = _number_ending_in_x()
    info = parse_id_number(number.lower(), today=TODAY)
    assert info.number == number
    assert info.number.endswith("X")
    assert info.division_name == "湖北省武汉市江汉区"


def test_spaces_and_full_width_digits_are_normalised():
    number = make_id_number("420106", date(1990, 1, 1), 123)
    typed = " " + number[:6] + " " + number[6:14] + "－" + number[14:] + " "
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)
    assert parse_id_number(typed, today=TODAY).number == number
    assert parse_id_number(full_width, today=TODAY).number == number


def test_gender_from_the_17th_digit():
    assert parse_id_number(make_id_number("420106", date(1990, 1, 1), 123)).gender is Gender.male
    assert parse_id_number(make_id_number("420106", date(1990, 1, 1), 124)).gender is Gender.female


def test_today_defaults_to_the_real_today():
    info = parse_id_number(make_id_number("420106", date(1990, 1, 1), 1))
    assert info.birth_date == date(1990, 1, 1)


def test_age_on():
    info = IdInfo("x", date(2007, 6, 30), Gender.male, "420106", "湖北省武汉市武昌区")
    assert info.age_on(date(2025, 6, 29)) == 17
    assert info.age_on(date(2025, 6, 30)) == 18
    leap = IdInfo("x", date(2004, 2, 29), Gender.male, "420106", "湖北省武汉市武昌区")
    assert leap.age_on(date(2022, 2, 28)) == 17
    assert leap.age_on(date(2022, 3, 1)) == 18
    assert leap.age_on(date(2024, 2, 29)) == 20


def test_make_id_number_known_value():
    # The example number in stdnum's own documentation.
    assert make_id_number("360426", date(1991, 1, 1), 7) == "360426199101010071"


@pytest.mark.parametrize(
    ("code", "seq"), [("42010", 1), ("4201061", 1), ("42010a", 1), ("420106", -1), ("420106", 1000)]
)
def test_make_id_number_refuses_bad_input(code, seq):
    with pytest.raises(ValueError):
        make_id_number(code, date(1990, 1, 1), seq)
