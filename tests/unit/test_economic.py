from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from jiuzhutong.contract import Exclusion, HukouType, PersonDetails, Relation
from jiuzhutong.contract.economic import (
    CorrectionIn,
    EconomicStatusOut,
    ExcludedIncomeName,
    IncomeClassName,
    ItemKind,
    PropertyClass,
    ReferenceLabel,
    RigidExpense,
    SourceName,
    SourceProgress,
    SourceState,
)
from jiuzhutong.domain import income
from jiuzhutong.domain.economic import (
    Correction,
    EconomicItem,
    applicant_hukou,
    assemble_status,
    confirm,
    correction_from_in,
    item_from_out,
    period_for,
)
from jiuzhutong.domain.errors import DomainErrors
from jiuzhutong.domain.household import Person
from jiuzhutong.domain.idnumber import make_id_number, parse_id_number
from jiuzhutong.domain.income import ExcludedIncome, IncomeClass
from jiuzhutong.domain.property import PropertyThresholds
from jiuzhutong.domain.standards import load_standards

D = Decimal
ON = date(2025, 7, 15)
AT = datetime(2025, 7, 15, 10, 0, tzinfo=UTC)
START, END = date(2024, 7, 1), date(2025, 6, 30)
STANDARDS = load_standards()
LINES = PropertyThresholds(D("24000"), 0, 1, True, "示例数据")


def person(ref, name, birth, seq, relation, **details) -> Person:
    details.setdefault("hukou_division", "420106")
    details.setdefault("hukou_type", HukouType.urban)
    number = make_id_number("420106", birth, seq)
    return Person(ref, name, parse_id_number(number, today=ON), relation, PersonDetails(**details))


A = person("a", "甲某", date(1980, 1, 1), 11, Relation.applicant)
B = person("b", "乙某", date(1982, 2, 2), 22, Relation.spouse)


def wages(ref="a", amount="24000", months=12, cost="0", **kw) -> EconomicItem:
    return EconomicItem(
        person_ref=ref,
        source=SourceName.tax,
        period_start=START,
        period_end=END,
        amount=D(amount),
        income_class=IncomeClass.WAGES,
        months=months,
        cost=D(cost),
        **kw,
    )


def prop(ref, cls, amount, *, source=SourceName.deposit, **kw) -> EconomicItem:
    return EconomicItem(
        person_ref=ref,
        source=source,
        period_start=END,
        period_end=END,
        amount=D(amount),
        property_class=cls,
        **kw,
    )


def stamp(items):
    return [replace(it, id=f"{it.source.name}.{it.person_ref}.{i}") for i, it in enumerate(items)]


def done(source=SourceName.tax, simulated=False):
    return SourceProgress(
        source=source, state=SourceState.done, attempt=1, message="完成", simulated=simulated
    )


def status(items, persons=(A, B), **kw):
    kw.setdefault("sources", [done(n) for n in SourceName])
    return assemble_status(
        items, list(persons), standards=STANDARDS, thresholds=LINES, generated_at=AT, **kw
    )


# --- contract mirrors --------------------------------------------------------------


def test_wire_enums_mirror_the_domain():
    assert [c.value for c in IncomeClassName] == [c.value for c in IncomeClass]
    assert [c.value for c in ExcludedIncomeName] == [c.value for c in ExcludedIncome]
    assert {r.value for r in ReferenceLabel} == {income.BELOW, income.MARGINAL, income.ABOVE}
    assert [s.value for s in SourceName] == [
        "户籍",
        "税务",
        "社保",
        "不动产",
        "市场主体",
        "公积金",
        "车船",
        "银行存款",
        "商业保险",
        "证券",
    ]
    assert [s.value for s in SourceState] == ["查询中", "完成", "失败"]


# --- periods and items -------------------------------------------------------------


def test_period_is_whole_months_before_the_check():
    assert period_for(ON, 12) == (START, END)
    assert period_for(date(2025, 1, 3), 1) == (date(2024, 12, 1), date(2024, 12, 31))
    assert period_for(date(2024, 3, 31), 2) == (date(2024, 1, 1), date(2024, 2, 29))
    with pytest.raises(ValueError):
        period_for(ON, 0)


def test_item_kinds_and_monthly_amount():
    w = wages(amount="31200", cost="1200")
    assert w.kind is ItemKind.income and w.monthly_amount == D("2500.00")
    p = prop("a", PropertyClass.deposit, "100")
    assert p.kind is ItemKind.property and p.monthly_amount is None
    e = EconomicItem(
        person_ref="a",
        source=SourceName.social_insurance,
        period_start=START,
        period_end=END,
        amount=D("9600"),
        expense_kind=RigidExpense.disability,
        months=12,
    )
    assert e.kind is ItemKind.expense and e.monthly_amount == D("800.00")


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"property_class": PropertyClass.deposit}, "kind"),  # two classes
        ({"months": None}, "months"),
        ({"months": 0}, "months"),
        ({"amount": D("-1")}, "amount"),
        ({"period_start": date(2026, 1, 1)}, "period_end"),
        ({"quantity": -1}, "quantity"),
    ],
)
def test_invalid_items_are_refused(kw, field):
    base = {
        "person_ref": "a",
        "source": SourceName.tax,
        "period_start": START,
        "period_end": END,
        "amount": D("1"),
        "income_class": IncomeClass.WAGES,
        "months": 12,
    }
    with pytest.raises(DomainErrors) as e:
        EconomicItem(**{**base, **kw})
    assert field in [x.field for x in e.value.errors]


def test_cost_and_exclusion_belong_to_income_only():
    with pytest.raises(DomainErrors):
        prop("a", PropertyClass.deposit, "1", cost=D("1"))
    with pytest.raises(DomainErrors):
        prop("a", PropertyClass.deposit, "1", excluded=ExcludedIncome.LOCAL)


# --- assembling ----------------------------------------------------------------------


def test_income_rule_exclusions_deductions_and_reference():
    items = stamp(
        [
            wages("a", "31200", cost="1200"),  # 2500 / month
            EconomicItem(
                person_ref="b",
                source=SourceName.social_insurance,
                period_start=START,
                period_end=END,
                amount=D("2160"),
                income_class=IncomeClass.TRANSFER,
                months=12,
                excluded=ExcludedIncome.BASIC_PENSION,
            ),
            EconomicItem(
                person_ref="b",
                source=SourceName.social_insurance,
                period_start=START,
                period_end=END,
                amount=D("9600"),
                expense_kind=RigidExpense.illness,
                months=12,
            ),
            prop("a", PropertyClass.deposit, "5000"),
        ]
    )
    s = status(items)
    g = s.generated
    assert s.household_size == 2
    assert g.income.by_class[IncomeClass.WAGES] == D("2500.00")
    assert g.income.deductions_monthly == D("800.00")
    assert g.income.household_monthly == D("1700.00")
    assert g.income.per_capita_monthly == D("850.00")
    assert g.excluded_monthly == D("180.00")
    assert s.standard is not None and s.standard.monthly_amount == D("910")
    assert g.reference is ReferenceLabel.below
    assert g.reference_text.startswith("参考：") and "不是审核结论" in g.reference_text
    assert "示例数据" in g.reference_text
    assert g.property.deposits_per_capita == D("2500.00")

    out = s.to_out()
    assert out.reference is ReferenceLabel.below and out.reference_only is True
    assert out.per_capita_monthly == D("850.00")
    assert out.household_size == 2
    pension = next(i for i in out.items if i.excluded is not None)
    assert pension.counted is False
    assert pension.excluded_reason == "不计入收入：城乡居民基础养老金"
    assert pension.excluded is ExcludedIncomeName.basic_pension
    assert [d.monthly_amount for d in out.deductions] == [D("800.00")]
    assert out.deductions[0].person_name == "乙某"
    assert out.standard is not None and out.standard.sample is True
    assert out.confirmed is False and out.corrected is None
    assert out.complete and out.missing_sources == []


@pytest.mark.parametrize(
    "monthly, label",
    [("900", ReferenceLabel.below), ("1000", ReferenceLabel.marginal), ("1400", "高于标准")],
)
def test_reference_labels_on_the_sample_standard(monthly, label):
    s = status(stamp([wages("a", str(D(monthly) * 12))]), persons=[A])
    assert s.generated.reference == label


def test_members_not_counted_are_shown_but_not_counted():
    prisoner = person("c", "丙某", date(1990, 3, 3), 33, Relation.child, exclusion=Exclusion.prison)
    items = stamp([wages("a", "12000"), wages("c", "120000")])
    s = status(items, persons=[A, prisoner])
    assert s.household_size == 1
    assert s.generated.income.household_monthly == D("1000.00")
    out = {i.person_ref: i for i in s.to_out().items}
    assert out["c"].counted is False
    assert "不计入共同生活家庭成员" in out["c"].excluded_reason


def test_standard_follows_the_applicants_hukou():
    rural = person(
        "r",
        "丁某",
        date(1970, 1, 1),
        13,
        Relation.applicant,
        hukou_division="422801",
        hukou_type=HukouType.rural,
    )
    assert applicant_hukou([rural]) == ("422801", HukouType.rural)
    s = status(stamp([wages("r", "7200")]), persons=[rural])
    assert s.standard.division_code == "42" and s.standard.monthly_amount == D("593.9")
    assert s.to_out().hukou_type is HukouType.rural
    # The ID number's address code stands in when no 户籍所在地 was entered.
    no_division = replace(rural, details=PersonDetails(hukou_type=HukouType.urban))
    assert applicant_hukou([no_division]) == ("420106", HukouType.urban)
    # An explicit division wins.
    s = status(
        stamp([wages("r", "7200")]),
        persons=[rural],
        division_code="420106",
        hukou_type=HukouType.urban,
    )
    assert s.standard.monthly_amount == D("910")


def test_without_hukou_type_there_is_no_comparison():
    unknown = replace(A, details=PersonDetails(hukou_division="420106"))
    s = status(stamp([wages()]), persons=[unknown])
    assert s.standard is None and s.generated.reference is None
    assert "城镇/农村" in s.generated.reference_text
    assert s.to_out().reference is None


def test_items_of_unknown_persons_are_refused():
    with pytest.raises(DomainErrors) as e:
        status(stamp([wages("zz")]))
    assert e.value.errors[0].code == "economic_item_person_unknown"


def test_sources_missing_and_simulated_labels():
    states = [
        done(SourceName.tax, simulated=True),
        SourceProgress(
            source=SourceName.deposit, state=SourceState.querying, attempt=1, message="查询中"
        ),
        SourceProgress(
            source=SourceName.deposit, state=SourceState.failed, attempt=3, message="失败"
        ),
    ]
    s = status(stamp([wages(simulated=True)]), sources=states)
    assert [x.source for x in s.sources] == [SourceName.tax, SourceName.deposit]
    assert s.sources[1].state is SourceState.failed  # the last event is the final state
    assert SourceName.deposit in s.missing_sources and SourceName.hukou in s.missing_sources
    assert SourceName.tax not in s.missing_sources
    out = s.to_out()
    assert out.simulated and not out.complete
    assert "模拟" in out.notice and "银行存款" in out.notice and "不完整" in out.notice
    assert "仅供参考" in out.notice and "示例" in out.notice


# --- corrections ---------------------------------------------------------------------


def car_household():
    return stamp(
        [
            wages("a", "24000"),
            prop("a", PropertyClass.vehicle, "90000", source=SourceName.vehicle),
            prop("b", PropertyClass.deposit, "1000"),
        ]
    )


def test_corrections_never_overwrite_generated_values():
    items = car_household()
    before = status(items)
    corrections = [
        Correction(id="c1", item_id=items[0].id, declared_amount=D("12000"), reason="已离职半年"),
        Correction(id="c2", item_id=items[1].id, declared_amount=D("0"), reason="车辆已卖出"),
    ]
    s = status(items, corrections=corrections)
    # The generated items and figures are exactly what they were without corrections.
    assert s.items == tuple(items)
    assert s.generated == before.generated
    assert s.generated.income.per_capita_monthly == D("1000.00")
    assert [f.code for f in s.generated.property.flags] == ["vehicles_over"]
    # The declared values give a second view beside them.
    assert s.corrected is not None
    assert s.corrected.income.per_capita_monthly == D("500.00")
    assert s.corrected.reference is ReferenceLabel.below
    assert s.corrected.property.vehicle_count == 0 and s.corrected.property.flags == ()

    out = s.to_out()
    assert out.per_capita_monthly == D("1000.00") and out.items[0].amount == D("24000")
    assert out.corrected.per_capita_monthly == D("500.00")
    c1 = out.corrections[0]
    assert (c1.generated_amount, c1.declared_amount) == (D("24000"), D("12000"))
    assert c1.person_name == "甲某" and c1.source is SourceName.tax
    assert c1.kind is ItemKind.income and c1.income_class is IncomeClassName.wages


def test_annotation_only_changes_no_figures():
    items = car_household()
    s = status(items, corrections=[Correction(id="n", item_id=items[1].id, reason="残疾人代步车")])
    assert s.corrected is None
    out = s.to_out()
    assert out.corrections[0].declared_amount is None
    assert out.corrections[0].reason == "残疾人代步车"


def test_latest_declaration_wins_and_new_items_are_added():
    items = car_household()
    corrections = [
        Correction(id="1", item_id=items[0].id, declared_amount=D("0"), reason="第一次"),
        Correction(id="2", item_id=items[0].id, declared_amount=D("18000"), reason="更正"),
        Correction(
            id="3",
            person_ref="b",
            income_class=IncomeClass.OTHER,
            declared_amount=D("600"),
            declared_months=6,
            reason="零工收入，未在来源中",
        ),
        Correction(
            id="4",
            person_ref="b",
            expense_kind=RigidExpense.illness,
            declared_amount=D("1200"),
            declared_months=12,
            reason="门诊自付",
        ),
    ]
    s = status(items, corrections=corrections)
    c = s.corrected.income
    assert c.by_class[IncomeClass.WAGES] == D("1500.00")
    assert c.by_class[IncomeClass.OTHER] == D("100.00")
    assert c.deductions_monthly == D("100.00")
    assert c.household_monthly == D("1500.00")
    out = s.to_out().corrections
    assert out[2].source is None and out[2].generated_amount is None
    assert out[2].person_name == "乙某" and out[3].kind is ItemKind.expense


def test_declared_months_prorate_the_generated_cost():
    items = stamp([wages("a", "12000", cost="1200")])
    c = Correction(
        id="1",
        item_id=items[0].id,
        declared_amount=D("3000"),
        declared_months=6,
        reason="只工作了6个月",
    )
    s = status(items, persons=[A], corrections=[c])
    assert s.corrected.income.household_monthly == D("400.00")  # (3000 - 600) / 6


def test_invalid_corrections_are_listed_together():
    items = car_household()
    bad = [
        Correction(id="1", item_id="nope", declared_amount=D("1"), reason="x"),
        Correction(
            id="2", item_id=items[1].id, declared_amount=D("1"), declared_months=3, reason="x"
        ),
        Correction(id="3", person_ref="zz", property_class=PropertyClass.deposit, reason=" "),
        Correction(id="4", person_ref="a", declared_amount=D("1"), reason="x"),
        Correction(
            id="5",
            person_ref="a",
            income_class=IncomeClass.OTHER,
            declared_amount=D("1"),
            reason="x",
        ),
    ]
    with pytest.raises(DomainErrors) as e:
        status(items, corrections=bad)
    assert [(x.code, x.field) for x in e.value.errors] == [
        ("correction_item_unknown", "corrections[0].item_id"),
        ("correction_months_invalid", "corrections[1].declared_months"),
        ("correction_reason_missing", "corrections[2].reason"),
        ("correction_person_unknown", "corrections[2].person_ref"),
        ("correction_class_invalid", "corrections[3]"),
        ("correction_months_missing", "corrections[4].declared_months"),
    ]


def test_correction_in_validation():
    ok = CorrectionIn(item_id="tax.a.0", declared_amount="1200.50", reason=" 已离职 ")
    assert ok.reason == "已离职" and ok.declared_amount == D("1200.50")
    CorrectionIn(item_id="tax.a.0", reason="仅说明")  # annotation only
    CorrectionIn(person_ref="a", property_class="车辆", declared_amount=0, reason="已卖出")
    for bad in [
        {"reason": "缺少对象"},
        {"item_id": "x", "person_ref": "a", "reason": "两种对象"},
        {"person_ref": "a", "income_class": "工资性收入", "property_class": "存款", "reason": "r"},
        {"person_ref": "a", "income_class": "工资性收入", "declared_amount": 1, "reason": "r"},
        {"item_id": "x", "reason": ""},
        {"item_id": "x", "reason": "好😀"},
        {"item_id": "x", "reason": "长" * 101},
        {"item_id": "x", "declared_amount": -1, "reason": "r"},
        {"item_id": "x", "declared_amount": "1.001", "reason": "r"},
        {"item_id": "x", "reason": "r", "unknown": 1},
    ]:
        with pytest.raises(ValidationError):
            CorrectionIn.model_validate(bad)


def test_correction_from_in_keeps_everything():
    data = CorrectionIn(
        person_ref="b",
        income_class=IncomeClassName.other,
        declared_amount=D("600"),
        declared_months=6,
        reason="零工",
        note="口头申报",
    )
    c = correction_from_in(data, id="c9", created_at=AT)
    assert c.income_class is IncomeClass.OTHER
    assert (c.id, c.person_ref, c.declared_amount, c.declared_months) == ("c9", "b", D("600"), 6)
    assert c.note == "口头申报" and c.created_at == AT


# --- confirmation and the wire -------------------------------------------------------


def test_confirm_marks_without_changing_figures():
    s = status(car_household())
    c = confirm(s, AT)
    assert c.confirmed and not s.confirmed
    assert c.generated == s.generated
    out = c.to_out()
    assert out.confirmed is True and out.confirmed_at == AT


def test_wire_round_trip():
    items = car_household()
    s = status(items, corrections=[Correction(id="1", item_id=items[0].id, reason="说明")])
    out = s.to_out()
    again = EconomicStatusOut.model_validate_json(out.model_dump_json())
    assert again == out
    assert [item_from_out(i) for i in again.items] == items
    assert again.property.flags[0].label == "超过参考线"
    assert again.property.flags[0].reference_only is True
    assert again.property.thresholds_sample is True
    assert [t.property_class for t in again.property.totals] == list(PropertyClass)
