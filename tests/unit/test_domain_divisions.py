from __future__ import annotations

import pytest

from jiuzhutong.domain.divisions import (
    DEMO_DIVISIONS_CSV,
    Division,
    DivisionRegistry,
    read_divisions_csv,
    region_contains,
)
from jiuzhutong.domain.errors import DomainError, DomainErrors

HUBEI_PREFECTURES = [
    ("4201", "武汉市"),
    ("4202", "黄石市"),
    ("4203", "十堰市"),
    ("4205", "宜昌市"),
    ("4206", "襄阳市"),
    ("4207", "鄂州市"),
    ("4208", "荆门市"),
    ("4209", "孝感市"),
    ("4210", "荆州市"),
    ("4211", "黄冈市"),
    ("4212", "咸宁市"),
    ("4213", "随州市"),
    ("4228", "恩施土家族苗族自治州"),
    ("4290", "省直辖县级行政区划"),
]


@pytest.fixture(scope="module")
def demo() -> list[Division]:
    return read_divisions_csv(DEMO_DIVISIONS_CSV.read_text(encoding="utf-8"), sample=True)


@pytest.fixture(scope="module")
def registry(demo) -> DivisionRegistry:
    return DivisionRegistry(demo)


# --- CSV ----------------------------------------------------------------------------


def test_demo_file_is_labelled_and_loads(demo):
    first_line = DEMO_DIVISIONS_CSV.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("#") and "示例" in first_line
    assert demo and all(d.sample for d in demo)
    assert {d.code[:6] for d in demo} == {"420106", "420102"}
    assert {d.level for d in demo} == {"street", "community"}


def test_demo_comment_marks_sample_even_without_the_flag():
    assert all(d.sample for d in read_divisions_csv(DEMO_DIVISIONS_CSV.read_text("utf-8")))


def test_good_file_loads_in_file_order_with_parents_and_full_names():
    text = "\ufeffcode,name\n420106005001,户部巷社区\n420106005,中华路街道\n\n429004001,沙嘴街道\n"
    rows = read_divisions_csv(text)
    assert rows == [
        Division(
            "420106005001",
            "户部巷社区",
            "湖北省武汉市武昌区中华路街道户部巷社区",
            "community",
            "420106005",
            False,
        ),
        Division(
            "420106005", "中华路街道", "湖北省武汉市武昌区中华路街道", "street", "420106", False
        ),
        Division("429004001", "沙嘴街道", "湖北省仙桃市沙嘴街道", "street", "429004", False),
    ]


def test_quoted_name_with_comma():
    (row,) = read_divisions_csv('code,name\n420106005,"中华路街道,示范"\n')
    assert row.name == "中华路街道,示范"


def test_bad_file_lists_every_bad_line_at_once():
    text = "\n".join(
        [
            "code,name",  # 1
            "420106005,中华路街道",  # 2 good
            "42010600,太短",  # 3 length
            "42010600A,字母",  # 4 digits
            "420106005,重复街道",  # 5 duplicate of 2
            "420199001,不存在的县",  # 6 unknown county
            "420106009001,无街道社区",  # 7 street not in file
            "420106006,",  # 8 empty name
            "420106007," + "长" * 41,  # 9 too long
            "420106008,多,一列",  # 10 columns
            "420106005001,户部巷社区",  # 11 good
            "420106010,正常" + "名" * 38,  # 12 good: exactly 40
        ]
    )
    with pytest.raises(DomainErrors) as exc:
        read_divisions_csv(text)
    got = [(e.code, e.field) for e in exc.value.errors]
    assert got == [
        ("division_csv_code", "lines[3].code"),
        ("division_csv_code", "lines[4].code"),
        ("division_csv_duplicate", "lines[5].code"),
        ("division_csv_parent", "lines[6].code"),
        ("division_csv_parent", "lines[7].code"),
        ("division_csv_name", "lines[8].name"),
        ("division_csv_name", "lines[9].name"),
        ("division_csv_columns", "lines[10]"),
    ]
    messages = [e.message for e in exc.value.errors]
    assert messages[0] == "第3行：代码应为9位（街道）或12位（社区）数字：42010600"
    assert messages[2] == "第5行：代码420106005与第2行重复"
    assert messages[3] == "第6行：所属县级行政区划代码不存在：420199"
    assert messages[4] == "第7行：所属街道（乡镇）420106009不在本文件中"
    assert messages[5] == "第8行：名称不能为空"
    assert messages[6] == "第9行：名称不能超过40个字符（现有41个）"
    assert messages[7] == "第10行：应有2列（代码,名称），现有3列"


def test_historical_county_is_not_a_parent():
    with pytest.raises(DomainErrors) as exc:
        read_divisions_csv("code,name\n422421001,某镇\n")
    assert [e.code for e in exc.value.errors] == ["division_csv_parent"]


@pytest.mark.parametrize("text", ["", "# 只有注释\n", "420106005,中华路街道\n", "代码,名称\n"])
def test_header_required(text):
    with pytest.raises(DomainErrors) as exc:
        read_divisions_csv(text)
    assert exc.value.errors[0].code == "division_csv_header"


# --- registry -----------------------------------------------------------------------


def test_children_of_none_are_hubei_prefectures(registry):
    assert [(d.code, d.name) for d in registry.children(None)] == HUBEI_PREFECTURES
    assert registry.children("42") == registry.children(None)
    assert all(d.level == "prefecture" and d.parent == "42" for d in registry.children(None))


def test_children_of_wuhan_are_its_current_districts(registry):
    kids = registry.children("4201")
    names = [d.name for d in kids]
    assert len(kids) == 13
    assert names[0] == "江岸区" and "武昌区" in names and "新洲区" in names
    assert "市辖区" not in names and "汉阳县" not in names
    assert all(d.level == "county" and d.parent == "4201" for d in kids)


def test_children_of_province_administered_counties(registry):
    assert [(d.code, d.full_name) for d in registry.children("4290")] == [
        ("429004", "湖北省仙桃市"),
        ("429005", "湖北省潜江市"),
        ("429006", "湖北省天门市"),
        ("429021", "湖北省神农架林区"),
    ]


def test_children_of_county_and_street_come_from_the_import(registry, demo):
    streets = registry.children("420106")
    assert streets == sorted((d for d in demo if d.parent == "420106"), key=lambda d: d.code)
    assert all(d.level == "street" for d in streets)
    communities = registry.children(streets[0].code)
    assert communities and all(d.parent == streets[0].code for d in communities)
    assert registry.children("420111") == []
    assert DivisionRegistry().children("420106") == []


def test_get_each_level(registry):
    assert registry.get("42") == Division("42", "湖北省", "湖北省", "province", None, False)
    assert registry.get("4201") == Division(
        "4201", "武汉市", "湖北省武汉市", "prefecture", "42", False
    )
    assert registry.get("420103") == Division(
        "420103", "江汉区", "湖北省武汉市江汉区", "county", "4201", False
    )
    street = registry.get("420106005")
    assert street is not None and street.full_name == "湖北省武汉市武昌区中华路街道"
    assert street.sample
    community = registry.get("420106005001")
    assert community is not None and community.level == "community"


@pytest.mark.parametrize(
    "code",
    ["", "4", "99", "4299", "4204", "4229", "420199", "422421", "420100", "42a106", "420106999"],
)
def test_get_unknown_or_no_longer_current(registry, code):
    assert registry.get(code) is None


def test_validate(registry):
    assert registry.validate("420106", field="details.hukou_division").name == "武昌区"
    with pytest.raises(DomainError) as exc:
        registry.validate("420199", field="details.hukou_division")
    assert exc.value.code == "division_unknown"
    assert exc.value.message == "行政区划代码不存在：420199"
    assert exc.value.field == "details.hukou_division"


def test_validate_names_an_abolished_code(registry):
    with pytest.raises(DomainError) as exc:
        registry.validate("422421", field="f")
    assert exc.value.code == "division_unknown"
    assert exc.value.message == "行政区划代码已撤销：422421（原湖北省荆州地区江陵县）"


@pytest.mark.parametrize(
    ("region", "code", "inside"),
    [
        ("4201", "420106003", True),
        ("42", "420106", True),
        ("420106", "420106", True),
        ("420106003", "420106003001", True),
        ("4201", "420201", False),
        ("420106", "4201", False),
        ("42010", "420106", False),
        ("", "420106", False),
    ],
)
def test_region_contains(region, code, inside):
    assert region_contains(region, code) is inside
