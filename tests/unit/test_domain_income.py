from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jiuzhutong.contract import HukouType
from jiuzhutong.domain.errors import DomainError, DomainErrors
from jiuzhutong.domain.income import (
    Deduction,
    ExcludedIncome,
    IncomeClass,
    IncomeItem,
    compare_with_standard,
    per_capita_monthly_income,
)
from jiuzhutong.domain.standards import Standard

D = Decimal
STANDARD = Standard("4201", HukouType.urban, D("910"), date(2024, 1, 1), True, "示例")


def test_five_classes():
    assert [c.value for c in IncomeClass] == [
        "工资性收入",
        "经营净收入",
        "财产净收入",
        "转移净收入",
        "其他收入",
    ]


def test_wages_minus_cost_business_net_and_monthly_conversion():
    items = [
        IncomeItem("a", IncomeClass.WAGES, D("36000"), 12, cost=D("2400")),  # 2800/month
        IncomeItem("b", IncomeClass.BUSINESS, D("9000"), 6, cost=D("3000")),  # 1000/month
        IncomeItem("b", IncomeClass.PROPERTY, D("1200"), 12),  # 100
        IncomeItem("c", IncomeClass.TRANSFER, D("300"), 1),  # 300
        IncomeItem("c", IncomeClass.OTHER, D("100"), 4),  # 25
    ]
    r = per_capita_monthly_income(items, [], 3)
    assert r.by_class == {
        IncomeClass.WAGES: D("2800.00"),
        IncomeClass.BUSINESS: D("1000.00"),
        IncomeClass.PROPERTY: D("100.00"),
        IncomeClass.TRANSFER: D("300.00"),
        IncomeClass.OTHER: D("25.00"),
    }
    assert r.household_monthly == D("4225.00")
    assert r.per_capita_monthly == D("1408.33")
    assert r.excluded == []
    assert r.deductions_monthly == D("0.00")


def test_excluded_incomes_are_not_counted_but_listed():
    counted = IncomeItem("a", IncomeClass.WAGES, D("1000"), 1)
    excluded = [
        IncomeItem("a", IncomeClass.TRANSFER, D("500"), 1, excluded=kind) for kind in ExcludedIncome
    ]
    r = per_capita_monthly_income([counted, *excluded], [], 1)
    assert r.household_monthly == D("1000.00")
    assert r.by_class[IncomeClass.TRANSFER] == D("0.00")
    assert r.excluded == excluded
    assert len(ExcludedIncome) == 6


def test_rigid_costs_are_deducted_monthly():
    items = [IncomeItem("a", IncomeClass.WAGES, D("24000"), 12)]  # 2000
    deductions = [Deduction("b", "残疾", D("3600"), 12), Deduction("c", "重病", D("500"), 1)]
    r = per_capita_monthly_income(items, deductions, 2)
    assert r.deductions_monthly == D("800.00")
    assert r.household_monthly == D("1200.00")
    assert r.per_capita_monthly == D("600.00")
    assert r.by_class[IncomeClass.WAGES] == D("2000.00")


def test_deductions_cannot_make_income_negative():
    items = [IncomeItem("a", IncomeClass.WAGES, D("100"), 1)]
    r = per_capita_monthly_income(items, [Deduction("a", "重病", D("500"), 1)], 1)
    assert r.household_monthly == D("0.00")
    assert r.per_capita_monthly == D("0.00")


def test_a_loss_does_not_offset_other_income():
    items = [
        IncomeItem("a", IncomeClass.WAGES, D("1000"), 1),
        IncomeItem("b", IncomeClass.BUSINESS, D("100"), 1, cost=D("400")),
    ]
    r = per_capita_monthly_income(items, [], 1)
    assert r.by_class[IncomeClass.BUSINESS] == D("0.00")
    assert r.household_monthly == D("1000.00")


def test_rounding_half_up_to_the_fen():
    # 0.125 per person: ROUND_HALF_EVEN would give 0.12
    r = per_capita_monthly_income([IncomeItem("a", IncomeClass.OTHER, D("0.25"), 1)], [], 2)
    assert r.per_capita_monthly == D("0.13")
    r = per_capita_monthly_income([IncomeItem("a", IncomeClass.OTHER, D("100"), 3)], [], 1)
    assert r.household_monthly == D("33.33")
    r = per_capita_monthly_income([IncomeItem("a", IncomeClass.OTHER, D("200"), 3)], [], 1)
    assert r.household_monthly == D("66.67")
    assert r.household_monthly.as_tuple().exponent == -2


def test_empty_income():
    r = per_capita_monthly_income([], [], 2)
    assert r.household_monthly == D("0.00") and r.per_capita_monthly == D("0.00")
    assert set(r.by_class) == set(IncomeClass)


def test_household_size_zero():
    with pytest.raises(DomainError) as exc:
        per_capita_monthly_income([], [], 0)
    assert exc.value.code == "household_size_zero"


def test_bad_items_are_listed_at_once():
    items = [
        IncomeItem("a", IncomeClass.WAGES, D("100"), 0),
        IncomeItem("a", IncomeClass.WAGES, D("-1"), 1, cost=D("-2")),
    ]
    with pytest.raises(DomainErrors) as exc:
        per_capita_monthly_income(items, [Deduction("a", "重病", D("1"), -3)], 1)
    assert [(e.code, e.field) for e in exc.value.errors] == [
        ("income_months_invalid", "items[0].months"),
        ("income_amount_invalid", "items[1].amount"),
        ("income_amount_invalid", "items[1].cost"),
        ("income_months_invalid", "deductions[0].months"),
    ]


@pytest.mark.parametrize(
    ("per_capita", "outcome"),
    [
        ("0", "低于标准"),
        ("909.99", "低于标准"),
        ("910", "低保边缘"),
        ("910.00", "低保边缘"),
        ("1364.99", "低保边缘"),
        ("1365", "高于标准"),
        ("1365.00", "高于标准"),
        ("5000", "高于标准"),
    ],
)
def test_compare_with_standard_boundaries(per_capita, outcome):
    assert compare_with_standard(D(per_capita), STANDARD) == outcome


def test_end_to_end_with_the_sample_standard():
    items = [IncomeItem("a", IncomeClass.WAGES, D("30000"), 12, cost=D("1200"))]  # 2400
    r = per_capita_monthly_income(items, [Deduction("b", "残疾", D("200"), 1)], 3)
    assert r.per_capita_monthly == D("733.33")
    assert compare_with_standard(r.per_capita_monthly, STANDARD) == "低于标准"
