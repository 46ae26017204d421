from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiuzhutong.contract import HukouType
from jiuzhutong.domain.errors import DomainError, DomainErrors
from jiuzhutong.domain.property import (
    FINANCIAL_CLASSES,
    OVER_LINE,
    SAMPLE_PROPERTY_THRESHOLDS_TOML,
    PropertyClass,
    PropertyItem,
    PropertyThresholds,
    load_property_thresholds,
    property_summary,
)
from jiuzhutong.domain.standards import load_standards

D = Decimal
LINES = PropertyThresholds(D("24000"), 0, 1, True, "示例")


def test_classes_cover_movables_and_immovables():
    values = {c.value for c in PropertyClass}
    assert {"存款", "证券", "基金", "商业保险", "车辆", "住房", "其他"} <= values
    assert PropertyClass.vehicle not in FINANCIAL_CLASSES
    assert PropertyClass.housing not in FINANCIAL_CLASSES
    assert PropertyClass.other not in FINANCIAL_CLASSES


def test_totals_counts_and_per_capita():
    items = [
        PropertyItem("a", PropertyClass.deposit, D("10000")),
        PropertyItem("b", PropertyClass.deposit, D("2000.005")),
        PropertyItem("a", PropertyClass.securities, D("3000")),
        PropertyItem("a", PropertyClass.housing, D("500000")),
        PropertyItem("b", PropertyClass.other, D("9000"), description="公积金"),
    ]
    s = property_summary(items, 3, LINES)
    assert s.totals[PropertyClass.deposit] == D("12000.01")
    assert s.totals[PropertyClass.fund] == D("0.00")
    assert set(s.totals) == set(PropertyClass)
    assert s.counts[PropertyClass.deposit] == 2
    assert s.housing_count == 1 and s.vehicle_count == 0
    assert s.deposits_total == D("12000.01")
    assert s.deposits_per_capita == D("4000.00")
    # 其他 (公积金) and housing are not money the household can spend.
    assert s.financial_total == D("15000.01")
    assert s.financial_per_capita == D("5000.00")
    assert s.flags == ()


def test_flags_above_the_line_are_reference_only():
    items = [
        PropertyItem("a", PropertyClass.deposit, D("60000")),
        PropertyItem("a", PropertyClass.vehicle, D("80000")),
        PropertyItem("a", PropertyClass.housing, D("300000")),
        PropertyItem("b", PropertyClass.housing, D("200000")),
    ]
    s = property_summary(items, 2, LINES)
    codes = [f.code for f in s.flags]
    assert codes == ["financial_assets_over", "vehicles_over", "housing_over"]
    for f in s.flags:
        assert f.label == OVER_LINE == "超过参考线"
        assert f.reference_only is True
        assert "参考" in f.message and "示例" in f.message
    assert s.flags[0].value == D("30000.00") and s.flags[0].threshold == D("24000")


def test_exactly_at_the_line_is_not_over():
    s = property_summary([PropertyItem("a", PropertyClass.deposit, D("48000"))], 2, LINES)
    assert s.flags == ()


def test_non_sample_lines_are_not_called_sample():
    lines = PropertyThresholds(D("100"), 0, 1, False, "某市民政局文件")
    s = property_summary([PropertyItem("a", PropertyClass.deposit, D("1000"))], 1, lines)
    assert "示例" not in s.flags[0].message


def test_declared_not_held_does_not_count_as_a_vehicle():
    s = property_summary([PropertyItem("a", PropertyClass.vehicle, D("0"), quantity=0)], 1, LINES)
    assert s.vehicle_count == 0 and s.flags == ()


def test_invalid_values_are_listed_together():
    with pytest.raises(DomainErrors) as e:
        property_summary(
            [
                PropertyItem("a", PropertyClass.deposit, D("-1")),
                PropertyItem("a", PropertyClass.vehicle, D("1"), quantity=-1),
            ],
            1,
            LINES,
        )
    assert [x.field for x in e.value.errors] == ["items[0].value", "items[1].quantity"]


def test_household_of_zero_is_refused():
    with pytest.raises(DomainError) as e:
        property_summary([], 0, LINES)
    assert e.value.code == "household_size_zero"


def test_shipped_sample_lines_are_labelled():
    lines = load_property_thresholds()
    assert lines.sample is True
    assert "示例" in lines.source
    assert lines.financial_assets_per_capita == D("24000")
    assert (lines.max_vehicles, lines.max_housing_units) == (0, 1)
    assert "示例" in SAMPLE_PROPERTY_THRESHOLDS_TOML.read_text(encoding="utf-8")


def test_standards_loader_is_untouched_by_the_property_file():
    # The lines live in their own file because the standards loader refuses unknown keys.
    standard = load_standards().lookup("420106", HukouType.urban, date(2025, 1, 1))
    assert standard is not None and standard.monthly_amount == D("910")


def test_malformed_file_lists_every_problem(tmp_path: Path):
    f = tmp_path / "lines.toml"
    f.write_text(
        'sample = "yes"\nfinancial_assets_per_capita = "-5"\nmax_vehicles = 1.5\nextra = 1\n',
        encoding="utf-8",
    )
    with pytest.raises(DomainErrors) as e:
        load_property_thresholds(f)
    fields = {x.field for x in e.value.errors}
    assert fields == {
        "extra",
        "sample",
        "source",
        "financial_assets_per_capita",
        "max_vehicles",
        "max_housing_units",
    }
    assert all(x.code == "property_thresholds_invalid" for x in e.value.errors)


def test_unreadable_and_invalid_toml(tmp_path: Path):
    with pytest.raises(DomainErrors) as e:
        load_property_thresholds(tmp_path / "missing.toml")
    assert e.value.errors[0].code == "property_thresholds_unreadable"
    bad = tmp_path / "bad.toml"
    bad.write_text("sample = = true", encoding="utf-8")
    with pytest.raises(DomainErrors) as e:
        load_property_thresholds(bad)
    assert e.value.errors[0].code == "property_thresholds_invalid"


amounts = st.decimals(min_value=0, max_value=10_000_000, places=2, allow_nan=False)


@given(
    st.lists(st.tuples(st.sampled_from(list(PropertyClass)), amounts), max_size=20),
    st.integers(1, 12),
)
def test_totals_add_up(entries, size):
    items = [PropertyItem("p", c, v) for c, v in entries]
    s = property_summary(items, size, LINES)
    assert sum(s.totals.values()) == sum((v for _, v in entries), D(0))
    assert s.financial_total == sum((v for c, v in entries if c in FINANCIAL_CLASSES), D(0))
    assert abs(s.financial_per_capita * size - s.financial_total) <= D("0.005") * size
    assert all(f.reference_only for f in s.flags)
