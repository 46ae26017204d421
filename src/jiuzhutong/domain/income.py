"""Household income per person and month (Art 12–14): five classes, exclusions, deductions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from jiuzhutong.domain.errors import DomainError, DomainErrors
from jiuzhutong.domain.standards import Standard

CENT = Decimal("0.01")
MARGINAL_FACTOR = Decimal("1.5")  # 低保边缘: below 1.5 × the local standard (Art 8)

BELOW = "低于标准"
MARGINAL = "低保边缘"
ABOVE = "高于标准"


class IncomeClass(StrEnum):
    WAGES = "工资性收入"
    BUSINESS = "经营净收入"
    PROPERTY = "财产净收入"
    TRANSFER = "转移净收入"
    OTHER = "其他收入"


class ExcludedIncome(StrEnum):
    """Income the rules say is not counted, whatever its class."""

    PREFERENTIAL_PENSION = "优待抚恤金"
    FAMILY_PLANNING = "计划生育奖励与扶助金"
    AWARDS = "奖学金/助学金/见义勇为等奖励"
    SOCIAL_ASSISTANCE = "政府社会救助资金"
    BASIC_PENSION = "城乡居民基础养老金"
    LOCAL = "地方规定不计入的收入"


@dataclass(frozen=True)
class IncomeItem:
    person_ref: str
    income_class: IncomeClass
    amount: Decimal  # gross over `months`
    months: int
    cost: Decimal = Decimal(0)  # necessary employment or business cost over the same months
    excluded: ExcludedIncome | None = None
    description: str = ""


@dataclass(frozen=True)
class Deduction:
    person_ref: str
    kind: str  # 残疾/重病 rigid costs
    amount: Decimal
    months: int


@dataclass(frozen=True)
class IncomeResult:
    household_monthly: Decimal
    per_capita_monthly: Decimal
    by_class: dict[IncomeClass, Decimal]
    excluded: list[IncomeItem] = field(default_factory=list)
    deductions_monthly: Decimal = Decimal(0)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _check(
    where: str, amount: Decimal, months: int, cost: Decimal = Decimal(0)
) -> list[DomainError]:
    errors = []
    if isinstance(months, bool) or not isinstance(months, int) or months < 1:
        errors.append(
            DomainError("income_months_invalid", "月数应为不小于1的整数", f"{where}.months")
        )
    if not Decimal(amount).is_finite() or Decimal(amount) < 0:
        errors.append(DomainError("income_amount_invalid", "金额不能为负数", f"{where}.amount"))
    if not Decimal(cost).is_finite() or Decimal(cost) < 0:
        errors.append(DomainError("income_amount_invalid", "成本不能为负数", f"{where}.cost"))
    return errors


def per_capita_monthly_income(
    items: Iterable[IncomeItem], deductions: Iterable[Deduction], household_size: int
) -> IncomeResult:
    """Monthly household and per-capita income, rounded to the fen with ROUND_HALF_UP.

    The per-capita figure is computed from the rounded household figure so that a clerk can
    reproduce it by hand from what the screen shows.
    """
    if household_size < 1:
        raise DomainError("household_size_zero", "共同生活家庭成员人数为0，无法计算人均收入", None)
    items, deductions = list(items), list(deductions)
    errors: list[DomainError] = []
    for i, it in enumerate(items):
        errors.extend(_check(f"items[{i}]", it.amount, it.months, it.cost))
    for i, d in enumerate(deductions):
        errors.extend(_check(f"deductions[{i}]", d.amount, d.months))
    if errors:
        raise DomainErrors(errors)

    exact = {c: Decimal(0) for c in IncomeClass}
    excluded = []
    for it in items:
        if it.excluded is not None:
            excluded.append(it)
            continue
        # A loss in one source does not offset another source: no rule allows it.
        net = max(Decimal(it.amount) - Decimal(it.cost), Decimal(0))
        exact[it.income_class] += net / it.months
    deducted = sum((Decimal(d.amount) / d.months for d in deductions), Decimal(0))
    # Rigid costs can bring income to nothing, not below it.
    household = _money(max(sum(exact.values(), Decimal(0)) - deducted, Decimal(0)))
    return IncomeResult(
        household_monthly=household,
        per_capita_monthly=_money(household / household_size),
        by_class={c: _money(v) for c, v in exact.items()},
        excluded=excluded,
        deductions_monthly=_money(deducted),
    )


def compare_with_standard(per_capita: Decimal, standard: Standard) -> str:
    """低于标准 below the standard; 低保边缘 below 1.5 × it; 高于标准 from there on."""
    if per_capita < standard.monthly_amount:
        return BELOW
    if per_capita < standard.monthly_amount * MARGINAL_FACTOR:
        return MARGINAL
    return ABOVE
