from __future__ import annotations

from datetime import date

import pytest

from jiuzhutong.contract import Exclusion, PersonDetails, Relation
from jiuzhutong.domain.household import Person, check_household, classify_member, household_size
from jiuzhutong.domain.idnumber import make_id_number, parse_id_number

ON = date(2025, 6, 30)
_seq = iter(range(1, 1000))


def person(
    relation: Relation, birth: date = date(1980, 1, 1), ref: str | None = None, **details
) -> Person:
    seq = next(_seq)
    number = make_id_number("420106", birth, seq)
    return Person(
        ref=ref or f"m{seq}",
        name=f"成员{seq}",
        id_info=parse_id_number(number, today=ON),
        relation=relation,
        details=PersonDetails(**details),
    )


def same_id_as(other: Person, relation: Relation) -> Person:
    return Person("dup", "重复", other.id_info, relation, PersonDetails())


# --- classify_member (Art 7) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "counted", "reason"),
    [
        (person(Relation.applicant), True, "申请人本人，计入共同生活家庭成员"),
        (person(Relation.spouse), True, "配偶，计入共同生活家庭成员"),
        (person(Relation.child, date(2010, 1, 1)), True, "未成年子女，计入共同生活家庭成员"),
        (person(Relation.child, date(2000, 1, 1)), False, "成年子女已独立生活，不计入"),
        (
            person(Relation.child, date(2003, 1, 1), full_time_student=True),
            True,
            "在校接受全日制本科及以下学历教育的成年子女，计入共同生活家庭成员",
        ),
        (
            person(Relation.child, date(1990, 1, 1), cannot_live_independently=True),
            True,
            "不能独立生活的成年子女，计入共同生活家庭成员",
        ),
        (
            person(Relation.parent, date(1950, 1, 1)),
            True,
            "父母，具有法定赡养义务，计入共同生活家庭成员",
        ),
        (
            person(Relation.parent, date(1950, 1, 1), co_resident=False),
            False,
            "父母未与申请人长期共同居住，不计入",
        ),
        (
            person(Relation.sibling, legal_support_duty=True, co_resident=True),
            True,
            "兄弟姐妹，具有法定赡养、扶养或抚养义务且长期共同居住，计入共同生活家庭成员",
        ),
        (
            person(Relation.sibling, co_resident=True),
            False,
            "兄弟姐妹未确认具有法定赡养、扶养或抚养义务，不计入",
        ),
        (
            person(Relation.grandparent, date(1940, 1, 1), legal_support_duty=True),
            False,
            "祖父母未确认长期共同居住，不计入",
        ),
        (
            person(
                Relation.grandchild, date(2015, 1, 1), legal_support_duty=True, co_resident=True
            ),
            True,
            "孙子女，具有法定赡养、扶养或抚养义务且长期共同居住，计入共同生活家庭成员",
        ),
        (
            person(Relation.other, legal_support_duty=True, co_resident=False),
            False,
            "其他未确认长期共同居住，不计入",
        ),
    ],
)
def test_classify_relation_rules(p, counted, reason):
    assert classify_member(p, on=ON) == (counted, reason)


@pytest.mark.parametrize(
    ("exclusion", "reason"),
    [
        (Exclusion.clergy, "连续三年以上脱离家庭独立生活的宗教教职人员不计入共同生活家庭成员"),
        (Exclusion.prison, "服刑人员不计入共同生活家庭成员"),
        (Exclusion.rehab, "强制隔离戒毒人员不计入共同生活家庭成员"),
        (Exclusion.missing, "宣告失踪人员不计入共同生活家庭成员"),
    ],
)
def test_exclusions_are_never_counted(exclusion, reason):
    # even a spouse or a minor child, who otherwise always count
    for p in (
        person(Relation.spouse, exclusion=exclusion),
        person(Relation.child, date(2010, 1, 1), exclusion=exclusion),
        person(Relation.sibling, legal_support_duty=True, co_resident=True, exclusion=exclusion),
    ):
        assert classify_member(p, on=ON) == (False, reason)


def test_child_turning_18_on_the_day():
    child = person(Relation.child, date(2007, 6, 30))
    assert classify_member(child, on=date(2025, 6, 29))[0] is True
    assert classify_member(child, on=ON)[0] is False


def test_household_size_counts_only_counted_persons():
    persons = [
        person(Relation.applicant),
        person(Relation.spouse),
        person(Relation.child, date(2012, 1, 1), guardian_member_id="a"),
        person(Relation.child, date(1999, 1, 1)),  # independent adult child
        person(Relation.spouse, exclusion=Exclusion.prison),
        person(Relation.sibling, legal_support_duty=True, co_resident=True),
    ]
    assert household_size(persons, on=ON) == 4
    assert household_size([], on=ON) == 0


# --- check_household -------------------------------------------------------------------


def _codes(errors):
    return [(e.code, e.field) for e in errors]


def test_a_coherent_household_has_no_errors():
    applicant = person(Relation.applicant, ref="a")
    persons = [
        applicant,
        person(Relation.spouse),
        person(Relation.child, date(2015, 1, 1), guardian_member_id="a"),
        person(Relation.parent, date(1950, 1, 1), has_capacity=False, guardian_member_id="a"),
    ]
    assert check_household(persons, on=ON) == []


def test_empty_household():
    assert _codes(check_household([], on=ON)) == [("household_no_applicant", "applicant")]


def test_first_person_must_be_the_applicant():
    errors = check_household([person(Relation.spouse), person(Relation.child)], on=ON)
    assert _codes(errors) == [("household_no_applicant", "applicant.relation")]


def test_only_one_applicant():
    persons = [person(Relation.applicant), person(Relation.spouse), person(Relation.applicant)]
    assert _codes(check_household(persons, on=ON)) == [
        ("household_multiple_applicants", "members[1].relation")
    ]


def test_duplicate_id_numbers():
    applicant = person(Relation.applicant)
    spouse = person(Relation.spouse)
    persons = [
        applicant,
        spouse,
        same_id_as(applicant, Relation.child),
        same_id_as(spouse, Relation.parent),
    ]
    errors = check_household(persons, on=ON)
    assert _codes(errors) == [
        ("household_duplicate_id", "members[1].id_number"),
        ("household_duplicate_id", "members[2].id_number"),
    ]
    assert errors[0].message == "身份证号与申请人重复"
    assert errors[1].message == "身份证号与第1位家庭成员重复"


def test_two_spouses():
    persons = [person(Relation.applicant), person(Relation.spouse), person(Relation.spouse)]
    errors = check_household(persons, on=ON)
    assert _codes(errors) == [("household_multiple_spouses", "members[1].relation")]
    assert errors[0].message == "配偶只能有一位，第1位家庭成员已登记为配偶"


def test_minor_without_guardian():
    persons = [person(Relation.applicant), person(Relation.child, date(2012, 5, 1))]
    errors = check_household(persons, on=ON)
    assert _codes(errors) == [
        ("household_guardian_missing", "members[0].details.guardian_member_id")
    ]
    assert errors[0].message == "未成年人需指定监护人代为签字"


def test_person_without_capacity_needs_guardian():
    persons = [
        person(Relation.applicant),
        person(Relation.parent, date(1940, 1, 1), has_capacity=False),
    ]
    errors = check_household(persons, on=ON)
    assert _codes(errors) == [
        ("household_guardian_missing", "members[0].details.guardian_member_id")
    ]
    assert errors[0].message == "无完全民事行为能力人需指定监护人代为签字"


def test_guardian_must_be_in_the_household_and_not_self():
    child = person(Relation.child, date(2012, 5, 1), ref="c1", guardian_member_id="nobody")
    selfish = person(Relation.child, date(2013, 5, 1), ref="c2", guardian_member_id="c2")
    errors = check_household([person(Relation.applicant), child, selfish], on=ON)
    assert _codes(errors) == [
        ("household_guardian_unknown", "members[0].details.guardian_member_id"),
        ("household_guardian_unknown", "members[1].details.guardian_member_id"),
    ]


def test_guardian_must_be_an_adult_with_capacity_and_present():
    persons = [
        person(Relation.applicant, ref="a"),
        person(Relation.child, date(2009, 1, 1), ref="teen"),  # missing guardian, too
        person(Relation.child, date(2015, 1, 1), guardian_member_id="teen"),
        person(
            Relation.parent, date(1945, 1, 1), ref="gp", has_capacity=False, guardian_member_id="a"
        ),
        person(Relation.child, date(2016, 1, 1), guardian_member_id="gp"),
        person(Relation.spouse, ref="s", exclusion=Exclusion.prison),
        person(Relation.child, date(2017, 1, 1), guardian_member_id="s"),
    ]
    errors = check_household(persons, on=ON)
    assert _codes(errors) == [
        ("household_guardian_missing", "members[0].details.guardian_member_id"),
        ("household_guardian_invalid", "members[1].details.guardian_member_id"),
        ("household_guardian_invalid", "members[3].details.guardian_member_id"),
        ("household_guardian_invalid", "members[5].details.guardian_member_id"),
    ]
    assert "服刑" in errors[3].message


def test_adult_member_with_capacity_unstated_needs_no_guardian():
    persons = [person(Relation.applicant), person(Relation.sibling, date(1985, 1, 1))]
    assert check_household(persons, on=ON) == []


def test_minor_applicant():
    errors = check_household([person(Relation.applicant, date(2008, 1, 1))], on=ON)
    assert _codes(errors) == [("household_applicant_minor", "applicant.id_number")]
    assert errors[0].message == "申请人应年满18周岁（现17岁），请由其监护人或其他成年家庭成员申请"


def test_applicant_without_capacity():
    errors = check_household([person(Relation.applicant, has_capacity=False)], on=ON)
    assert _codes(errors) == [("household_applicant_no_capacity", "applicant.details.has_capacity")]


def test_applicant_cannot_be_excluded():
    errors = check_household([person(Relation.applicant, exclusion=Exclusion.missing)], on=ON)
    assert _codes(errors) == [("household_applicant_excluded", "applicant.details.exclusion")]


def test_all_problems_are_reported_at_once():
    applicant = person(Relation.applicant, date(2010, 1, 1))
    persons = [
        applicant,
        person(Relation.spouse),
        person(Relation.spouse),
        same_id_as(applicant, Relation.applicant),
        person(Relation.child, date(2020, 1, 1)),
    ]
    codes = {e.code for e in check_household(persons, on=ON)}
    assert codes == {
        "household_applicant_minor",
        "household_multiple_spouses",
        "household_multiple_applicants",
        "household_duplicate_id",
        "household_guardian_missing",
    }
