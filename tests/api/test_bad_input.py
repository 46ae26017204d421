"""Bad input: 422 with the exact Chinese message and field, and the database unchanged."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from .conftest import create_draft, if_match, table_counts


def with_check_digit(body17: str) -> str:
    """A number whose check digit is right, so only the part under test is wrong."""
    return body17 + ric.calc_check_digit(body17 + "0")


def wrong_check_digit(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


NEXT_YEAR = date.today().year + 1

# (case, body change, expected (code, field, message) items); {id} is a fresh valid number
CREATE_CASES = [
    ("check digit", {"id_number": "{bad_check}"},
     [("id_checksum", "id_number", "身份证号校验位错误")]),
    ("impossible date", {"id_number": with_check_digit("42010619990230123")},
     [("id_birth_date_invalid", "id_number",
       "出生日期不存在：1999年02月30日（身份证号第7至14位）")]),
    ("future date", {"id_number": with_check_digit(f"420106{NEXT_YEAR}0101123")},
     [("id_birth_date_future", "id_number", "出生日期不能晚于今天")]),
    ("unknown division", {"id_number": with_check_digit("42999919800101123")},
     [("id_division_unknown", "id_number", "行政区划代码不存在：429999")]),
    ("17 characters", {"id_number": "{id17}"},
     [("id_length", "id_number", "身份证号应为18位（现有17位）")]),
    ("19 characters", {"id_number": "{id19}"},
     [("id_length", "id_number", "身份证号应为18位（现有19位）")]),
    ("letters", {"id_number": "{id_letter}"},
     [("id_format", "id_number", "前17位应为数字，最后一位为数字或X")]),
    ("overlong name", {"name": "张" * 41},
     [("name_too_long", "name", "姓名不能超过40个字符（现有41个）")]),
    ("control character", {"name": "张\x07三"},
     [("text_control", "name", "不能包含控制字符或不可见字符（U+0007）")]),
    ("zero-width character", {"name": "张\u200b三"},
     [("text_control", "name", "不能包含控制字符或不可见字符（U+200B）")]),
    ("emoji", {"name": "张三😀"}, [("text_emoji", "name", "不能包含表情符号")]),
    ("digits in a name", {"name": "张3"},
     [("name_char", "name", "姓名只能包含文字和间隔号“·”，不能包含“3”")]),
    ("empty name", {"name": "  "}, [("name_empty", "name", "姓名不能为空")]),
    ("wrong JSON types", {"name": 123, "id_number": 420106, "mode": True},
     [("string_type", "name", "类型错误：应为字符串"),
      ("string_type", "id_number", "类型错误：应为字符串"),
      ("enum", "mode", "取值无效，应为以下之一：本人申请、代他人申请")]),
    ("null name", {"name": None}, [("string_type", "name", "此项不能为空")]),
    ("unknown field", {"age": 40},
     [("extra_forbidden", "age", "不认识的字段“age”，请检查拼写")]),
    ("unknown mode", {"mode": "代办"},
     [("enum", "mode", "取值无效，应为以下之一：本人申请、代他人申请")]),
    ("missing fields", {"id_number": None, "mode": None},
     [("missing", "id_number", "此项必填"), ("missing", "mode", "此项必填")]),
]  # fmt: skip


def render(value, ids):
    return value.format(**ids) if isinstance(value, str) and "{" in value else value


@pytest.mark.parametrize(
    ("case", "change", "expected"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES]
)
def test_create_refused_and_nothing_written(backend, clerk, people, case, change, expected):
    good = people.adult()
    ids = {
        "bad_check": wrong_check_digit(good),
        "id17": good[:17],
        "id19": good + "1",
        "id_letter": good[:10] + "A" + good[11:],
    }
    body = {"name": "张三", "id_number": good, "mode": "本人申请"}
    for key, value in change.items():
        if value is None and case == "missing fields":
            body.pop(key)
        else:
            body[key] = render(value, ids)
    before = table_counts(backend)
    r = backend.client.post("/applications", json=body, headers=clerk.h)
    assert r.status_code == 422, r.text
    got = [(i["code"], i["field"], i["message"]) for i in r.json()["detail"]]
    assert got == expected
    assert table_counts(backend) == before


PATCH_CASES = [
    ({"details": {"phone": "1380013800"}},
     [("phone_invalid", "details.phone", "手机号应为11位（现有10位）")]),
    ({"details": {"phone": "23800138000"}},
     [("phone_invalid", "details.phone", "手机号应以1开头")]),
    ({"details": {"hukou_division": "420106999"}},
     [("division_unknown", "details.hukou_division", "行政区划代码不存在：420106999")]),
    ({"details": {"disability_grade": "二级", "co_resident": "也许", "hukou_type": "城市"}},
     [("enum", "details.hukou_type", "取值无效，应为以下之一：城镇、农村"),
      ("int_parsing", "details.disability_grade", "类型错误：应为整数"),
      ("bool_parsing", "details.co_resident", "类型错误：应为 true 或 false")]),
    ({"details": {"disability_grade": 5}},
     [("less_than_equal", "details.disability_grade", "不能大于4")]),
    ({"details": {"hukou_address": "路" * 501}},
     [("text_too_long", "details.hukou_address", "不能超过500个字符（现有501个）")]),
    ({"details": {"nickname": "x"}},
     [("extra_forbidden", "details.nickname", "不认识的字段“nickname”，请检查拼写")]),
    ({"name": None}, [("name_empty", "name", "姓名不能为空")]),
    ({"id_number": "{bad_check}"}, [("id_checksum", "id_number", "身份证号校验位错误")]),
    ({"step": ["a"]}, [("string_type", "step", "类型错误：应为字符串")]),
    ({"name": "李四", "details": {"phone": "1"}},  # one bad field spoils the whole request
     [("phone_invalid", "details.phone", "手机号应为11位（现有1位）")]),
]  # fmt: skip


@pytest.mark.parametrize(("change", "expected"), PATCH_CASES)
def test_patch_refused_and_nothing_written(backend, clerk, people, change, expected):
    number = people.adult()
    d = create_draft(backend, clerk, number)
    if change.get("id_number") == "{bad_check}":
        change = change | {"id_number": wrong_check_digit(number)}
    before = table_counts(backend)
    r = backend.client.patch(f"/applications/{d['id']}", json=change, headers=clerk.h | if_match(1))
    assert r.status_code == 422, r.text
    got = [(i["code"], i["field"], i["message"]) for i in r.json()["detail"]]
    assert got == expected
    assert table_counts(backend) == before
    after = backend.client.get(f"/applications/{d['id']}", headers=clerk.h).json()
    assert after["version"] == 1 and after["applicant"]["name"] == d["applicant"]["name"]


def test_not_json_at_all(backend, clerk):
    before = table_counts(backend)
    r = backend.client.post(
        "/applications",
        content=b"{not json",
        headers=clerk.h | {"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0] == {
        "code": "json_invalid", "message": "请求体不是有效的 JSON", "field": None,
    }  # fmt: skip
    assert table_counts(backend) == before
