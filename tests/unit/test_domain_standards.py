from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal

import pytest

from jiuzhutong.contract import HukouType
from jiuzhutong.domain.errors import DomainErrors
from jiuzhutong.domain.standards import (
    SAMPLE_STANDARDS_TOML,
    Standard,
    StandardsTable,
    load_standards,
)

URBAN, RURAL = HukouType.urban, HukouType.rural


def write(tmp_path, text: str):
    path = tmp_path / "standards.toml"
    path.write_text(text, encoding="utf-8")
    return path


def entry(division, hukou, amount, effective, source="测试"):
    return (
        f'[[standards]]\ndivision = "{division}"\nhukou_type = "{hukou}"\n'
        f'monthly_amount = "{amount}"\neffective_from = {effective}\nsource = "{source}"\n'
    )


def test_shipped_sample_is_labelled_and_has_wuhan_and_hubei():
    raw = SAMPLE_STANDARDS_TOML.read_text(encoding="utf-8")
    assert "示例" in raw.splitlines()[0]
    table = load_standards()
    assert table.standards and all(s.sample for s in table.standards)
    assert all("示例" in s.source for s in table.standards)
    on = date(2025, 1, 1)
    wuhan = table.lookup("420106", URBAN, on)
    assert wuhan is not None
    assert (wuhan.division_code, wuhan.monthly_amount, wuhan.effective_from) == (
        "4201",
        Decimal("910"),
        date(2024, 1, 1),
    )
    assert table.lookup("420106005001", RURAL, on).monthly_amount == Decimal("780")
    assert table.lookup("4202", URBAN, on).division_code == "42"
    assert table.lookup("429004", RURAL, on).division_code == "42"
    assert table.lookup("430102", URBAN, on) is None
    assert table.lookup("420106", URBAN, date(2023, 12, 31)) is None


def test_lookup_most_specific_prefix_then_latest_date(tmp_path):
    text = "sample = false\n" + "".join(
        [
            entry("42", "城镇", "700", "2020-01-01"),
            entry("4201", "城镇", "800", "2022-01-01"),
            entry("4201", "城镇", "850", "2023-07-01"),
            entry("420106", "城镇", "900", "2026-01-01"),  # not yet in force
            entry("4201", "农村", "600", "2022-01-01"),
        ]
    )
    table = load_standards(write(tmp_path, text))
    amount = lambda code, hukou, on: table.lookup(code, hukou, on).monthly_amount  # noqa: E731
    assert amount("420106", URBAN, date(2021, 6, 1)) == Decimal("700")
    assert amount("420106", URBAN, date(2022, 1, 1)) == Decimal("800")
    assert amount("420106", URBAN, date(2023, 6, 30)) == Decimal("800")
    assert amount("420106", URBAN, date(2023, 7, 1)) == Decimal("850")
    assert amount("420106", URBAN, date(2026, 1, 1)) == Decimal("900")
    assert amount("420106003", URBAN, date(2026, 2, 1)) == Decimal("900")
    assert amount("420107", URBAN, date(2026, 2, 1)) == Decimal("850")
    assert amount("420106", RURAL, date(2023, 1, 1)) == Decimal("600")
    assert table.lookup("420106", RURAL, date(2021, 1, 1)) is None
    assert not table.lookup("4201", URBAN, date(2024, 1, 1)).sample


def test_prefix_is_by_digits_not_by_number(tmp_path):
    table = load_standards(write(tmp_path, entry("4201", "城镇", "800", "2020-01-01")))
    assert table.lookup("4210", URBAN, date(2024, 1, 1)) is None
    assert table.lookup("42", URBAN, date(2024, 1, 1)) is None


def test_amount_keeps_decimal_precision(tmp_path):
    text = entry("42", "城镇", "798.1", "2024-01-01").replace('"798.1"', "798.1")
    table = load_standards(write(tmp_path, text))
    assert table.lookup("42", URBAN, date(2024, 1, 1)).monthly_amount == Decimal("798.1")


def test_default_sample_is_true(tmp_path):
    table = load_standards(write(tmp_path, entry("42", "城镇", "700", "2020-01-01")))
    assert table.standards[0].sample is True


def test_table_from_code():
    s = Standard("42", URBAN, Decimal(700), date(2020, 1, 1), False, "x")
    assert StandardsTable([s]).lookup("4201", URBAN, date(2021, 1, 1)) is s
    assert StandardsTable().lookup("4201", URBAN, date(2021, 1, 1)) is None


def test_toml_syntax_error_is_refused(tmp_path):
    with pytest.raises(DomainErrors) as exc:
        load_standards(write(tmp_path, "[[standards]\n"))
    (err,) = exc.value.errors
    assert err.code == "standards_invalid"
    assert err.message.startswith("低保标准文件standards.toml格式错误：")


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(DomainErrors) as exc:
        load_standards(tmp_path / "none.toml")
    assert exc.value.errors[0].code == "standards_unreadable"


def test_every_bad_field_is_listed(tmp_path):
    text = (
        "colour = 1\n"
        '[[standards]]\ndivision = 4201\nhukou_type = "城市"\nmonthly_amount = "-1"\n'
        'effective_from = "2024-01-01"\nsource = ""\nsample = "yes"\nextra = 1\n'
        + entry("420", "城镇", "abc", "2024-01-01T00:00:00")
        + entry("4201", "农村", "780", "2024-01-01")
        + entry("4201", "农村", "790", "2024-01-01")
    )
    with pytest.raises(DomainErrors) as exc:
        load_standards(write(tmp_path, text))
    assert [e.field for e in exc.value.errors] == [
        "colour",
        "standards[0].extra",
        "standards[0].division",
        "standards[0].hukou_type",
        "standards[0].monthly_amount",
        "standards[0].effective_from",
        "standards[0].source",
        "standards[0].sample",
        "standards[1].division",
        "standards[1].monthly_amount",
        "standards[1].effective_from",
        "standards[3]",
    ]
    assert all(e.code == "standards_invalid" for e in exc.value.errors)
    assert exc.value.errors[-1].message == (
        "低保标准配置错误：第4条与第3条重复（同一区划、户籍类型和生效日期）"
    )


@pytest.mark.parametrize("text", ["sample = true\n", "standards = 1\n", "standards = [1]\n"])
def test_no_entries_is_refused(tmp_path, text):
    with pytest.raises(DomainErrors):
        load_standards(write(tmp_path, text))


def test_sample_file_is_valid_toml():
    tomllib.loads(SAMPLE_STANDARDS_TOML.read_text(encoding="utf-8"))
