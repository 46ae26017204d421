"""Who counts as a co-resident household member (Art 7) and whether a household is coherent.

The persons are in form order: ``persons[0]`` is the applicant, ``persons[i + 1]`` is
``members[i]``; field paths follow that, so each error lands on the field the clerk fixes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from jiuzhutong.contract import Exclusion, PersonDetails, Relation
from jiuzhutong.domain.errors import DomainError
from jiuzhutong.domain.idnumber import IdInfo

ADULT_AGE = 18

_EXCLUSION_REASONS = {
    Exclusion.clergy: "连续三年以上脱离家庭独立生活的宗教教职人员不计入共同生活家庭成员",
    Exclusion.prison: "服刑人员不计入共同生活家庭成员",
    Exclusion.rehab: "强制隔离戒毒人员不计入共同生活家庭成员",
    Exclusion.missing: "宣告失踪人员不计入共同生活家庭成员",
}
# Art 7 (四): these relatives count only with a legal duty of support and long co-residence.
_SUPPORT_RELATIONS = frozenset(
    {Relation.sibling, Relation.grandparent, Relation.grandchild, Relation.other}
)


@dataclass(frozen=True)
class Person:
    ref: str  # stable id of the person in the draft (member id)
    name: str
    id_info: IdInfo
    relation: Relation  # Relation.applicant for the applicant
    details: PersonDetails


def _is_adult(person: Person, on: date) -> bool:
    return person.id_info.age_on(on) >= ADULT_AGE


def classify_member(person: Person, *, on: date) -> tuple[bool, str]:
    """(counted, reason in Chinese) for one person, relation taken towards the applicant."""
    d = person.details
    if d.exclusion is not None:
        return False, _EXCLUSION_REASONS[d.exclusion]
    rel = person.relation
    if rel is Relation.applicant:
        return True, "申请人本人，计入共同生活家庭成员"
    if rel is Relation.spouse:
        return True, "配偶，计入共同生活家庭成员"
    if rel is Relation.child:
        if not _is_adult(person, on):
            return True, "未成年子女，计入共同生活家庭成员"
        if d.full_time_student:
            return True, "在校接受全日制本科及以下学历教育的成年子女，计入共同生活家庭成员"
        if d.cannot_live_independently:
            return True, "不能独立生活的成年子女，计入共同生活家庭成员"
        return False, "成年子女已独立生活，不计入"
    if rel is Relation.parent:
        # The duty to support parents exists by law; only living apart takes them out.
        if d.co_resident is False:
            return False, "父母未与申请人长期共同居住，不计入"
        return True, "父母，具有法定赡养义务，计入共同生活家庭成员"
    if rel in _SUPPORT_RELATIONS:
        if not d.legal_support_duty:
            return False, f"{rel.value}未确认具有法定赡养、扶养或抚养义务，不计入"
        if not d.co_resident:
            return False, f"{rel.value}未确认长期共同居住，不计入"
        return (
            True,
            f"{rel.value}，具有法定赡养、扶养或抚养义务且长期共同居住，计入共同生活家庭成员",
        )
    raise AssertionError(f"unhandled relation {rel!r}")


def _path(index: int) -> str:
    return "applicant" if index == 0 else f"members[{index - 1}]"


def _who(index: int) -> str:
    return "申请人" if index == 0 else f"第{index}位家庭成员"


def check_household(persons: Sequence[Person], *, on: date) -> list[DomainError]:
    """Every problem at once (一次性告知), each with the field path of what to correct."""
    if not persons:
        return [DomainError("household_no_applicant", "请先填写申请人本人信息", "applicant")]
    errors: list[DomainError] = []
    errors.extend(_check_applicant(persons, on))
    errors.extend(_check_duplicates(persons))
    errors.extend(_check_guardians(persons, on))
    return errors


def _check_applicant(persons: Sequence[Person], on: date) -> list[DomainError]:
    errors = []
    applicant = persons[0]
    if applicant.relation is not Relation.applicant:
        errors.append(
            DomainError(
                "household_no_applicant", "申请人与本人关系应为“本人”", "applicant.relation"
            )
        )
    for i, p in enumerate(persons[1:], start=1):
        if p.relation is Relation.applicant:
            errors.append(
                DomainError(
                    "household_multiple_applicants",
                    "只能有一位申请人（本人），请选择该成员与申请人的关系",
                    f"{_path(i)}.relation",
                )
            )
    spouses = [i for i, p in enumerate(persons) if p.relation is Relation.spouse]
    for i in spouses[1:]:
        errors.append(
            DomainError(
                "household_multiple_spouses",
                f"配偶只能有一位，{_who(spouses[0])}已登记为配偶",
                f"{_path(i)}.relation",
            )
        )
    age = applicant.id_info.age_on(on)
    if age < ADULT_AGE:
        errors.append(
            DomainError(
                "household_applicant_minor",
                f"申请人应年满{ADULT_AGE}周岁（现{age}岁），请由其监护人或其他成年家庭成员申请",
                "applicant.id_number",
            )
        )
    if applicant.details.has_capacity is False:
        errors.append(
            DomainError(
                "household_applicant_no_capacity",
                "申请人应具有完全民事行为能力，请由其监护人或其他成年家庭成员申请",
                "applicant.details.has_capacity",
            )
        )
    if applicant.details.exclusion is not None:
        # Art 4: the applicant is one of the co-resident members, so cannot be an excluded one.
        errors.append(
            DomainError(
                "household_applicant_excluded",
                f"申请人不能是不计入共同生活家庭成员的人员（{applicant.details.exclusion.value}）",
                "applicant.details.exclusion",
            )
        )
    return errors


def _check_duplicates(persons: Sequence[Person]) -> list[DomainError]:
    errors = []
    first: dict[str, int] = {}
    for i, p in enumerate(persons):
        number = p.id_info.number
        if number in first:
            errors.append(
                DomainError(
                    "household_duplicate_id",
                    f"身份证号与{_who(first[number])}重复",
                    f"{_path(i)}.id_number",
                )
            )
        else:
            first[number] = i
    return errors


def _check_guardians(persons: Sequence[Person], on: date) -> list[DomainError]:
    errors = []
    by_ref = {p.ref: p for p in persons}
    for i, p in enumerate(persons[1:], start=1):
        minor = not _is_adult(p, on)
        if not minor and p.details.has_capacity is not False:
            continue
        field = f"{_path(i)}.details.guardian_member_id"
        who = "未成年人" if minor else "无完全民事行为能力人"
        ref = p.details.guardian_member_id
        guardian = by_ref.get(ref) if ref else None
        if not ref:
            errors.append(
                DomainError("household_guardian_missing", f"{who}需指定监护人代为签字", field)
            )
        elif guardian is None or guardian is p:
            errors.append(
                DomainError("household_guardian_unknown", "监护人应为本家庭中的另一位成员", field)
            )
        elif guardian.details.exclusion is not None:
            errors.append(
                DomainError(
                    "household_guardian_invalid",
                    f"监护人{guardian.name}属于“{guardian.details.exclusion.value}”情形，"
                    "无法代为签字，请另行指定",
                    field,
                )
            )
        elif not _is_adult(guardian, on) or guardian.details.has_capacity is False:
            errors.append(
                DomainError(
                    "household_guardian_invalid",
                    f"监护人{guardian.name}应为具有完全民事行为能力的成年家庭成员",
                    field,
                )
            )
    return errors


def household_size(persons: Sequence[Person], *, on: date) -> int:
    """Persons counted as co-resident members, the applicant included."""
    return sum(1 for p in persons if classify_member(p, on=on)[0])
