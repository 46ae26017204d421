"""Household property (家庭财产, DOMAIN.md "Property"): totals and reference lines.

Hubei's property thresholds were not found, so the lines are configuration, loaded from a
TOML file and labelled 示例 while they are sample values. A figure above a line is a flag
marked 参考 for the person who decides; this module decides nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jiuzhutong.contract.economic import PropertyClass
from jiuzhutong.domain.errors import DomainError, DomainErrors

__all__ = [
    "FINANCIAL_CLASSES",
    "OVER_LINE",
    "SAMPLE_PROPERTY_THRESHOLDS_TOML",
    "PropertyClass",
    "PropertyFlag",
    "PropertyItem",
    "PropertySummary",
    "PropertyThresholds",
    "load_property_thresholds",
    "property_summary",
]

SAMPLE_PROPERTY_THRESHOLDS_TOML: Path = (
    Path(__file__).parent / "data" / "property_thresholds_sample.toml"
)
OVER_LINE = "超过参考线"
CENT = Decimal("0.01")

# Money-like movables that local rules usually cap together, per person.
FINANCIAL_CLASSES: frozenset[PropertyClass] = frozenset(
    {
        PropertyClass.deposit,
        PropertyClass.securities,
        PropertyClass.fund,
        PropertyClass.insurance,
        PropertyClass.claim,
        PropertyClass.online_financial,
    }
)

_KEYS = {"sample", "source", "financial_assets_per_capita", "max_vehicles", "max_housing_units"}


@dataclass(frozen=True)
class PropertyItem:
    person_ref: str
    property_class: PropertyClass
    value: Decimal  # yuan, at the valuation date
    quantity: int = 1  # vehicles, dwellings; 0 when the applicant declares it is not held
    description: str = ""


@dataclass(frozen=True)
class PropertyThresholds:
    financial_assets_per_capita: Decimal
    max_vehicles: int
    max_housing_units: int
    sample: bool
    source: str


@dataclass(frozen=True)
class PropertyFlag:
    code: str  # "financial_assets_over" | "vehicles_over" | "housing_over"
    message: str
    value: Decimal
    threshold: Decimal
    label: str = OVER_LINE
    reference_only: bool = True  # always: the flag informs, the county decides


@dataclass(frozen=True)
class PropertySummary:
    totals: dict[PropertyClass, Decimal]  # every class, zero when none
    counts: dict[PropertyClass, int]
    financial_total: Decimal
    financial_per_capita: Decimal
    deposits_total: Decimal
    deposits_per_capita: Decimal
    thresholds: PropertyThresholds
    flags: tuple[PropertyFlag, ...] = field(default_factory=tuple)

    @property
    def vehicle_count(self) -> int:
        return self.counts[PropertyClass.vehicle]

    @property
    def housing_count(self) -> int:
        return self.counts[PropertyClass.housing]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def property_summary(
    items: Iterable[PropertyItem], household_size: int, thresholds: PropertyThresholds
) -> PropertySummary:
    """Totals and counts per class, per-capita financial assets and deposits, 参考 flags."""
    if household_size < 1:
        raise DomainError("household_size_zero", "共同生活家庭成员人数为0，无法计算人均财产", None)
    items = list(items)
    errors: list[DomainError] = []
    for i, it in enumerate(items):
        if not Decimal(it.value).is_finite() or Decimal(it.value) < 0:
            errors.append(
                DomainError("property_value_invalid", "财产价值不能为负数", f"items[{i}].value")
            )
        if isinstance(it.quantity, bool) or not isinstance(it.quantity, int) or it.quantity < 0:
            errors.append(
                DomainError(
                    "property_quantity_invalid", "数量应为不小于0的整数", f"items[{i}].quantity"
                )
            )
    if errors:
        raise DomainErrors(errors)

    totals = {c: Decimal(0) for c in PropertyClass}
    counts = dict.fromkeys(PropertyClass, 0)
    for it in items:
        totals[it.property_class] += Decimal(it.value)
        counts[it.property_class] += it.quantity
    totals = {c: _money(v) for c, v in totals.items()}
    financial = sum((totals[c] for c in FINANCIAL_CLASSES), Decimal(0))
    financial_pc = _money(financial / household_size)
    deposits = totals[PropertyClass.deposit]
    deposits_pc = _money(deposits / household_size)

    flags: list[PropertyFlag] = []
    tag = "示例参考线" if thresholds.sample else "参考线"
    line = thresholds.financial_assets_per_capita
    if financial_pc > line:
        flags.append(
            PropertyFlag(
                "financial_assets_over",
                f"人均金融资产{financial_pc}元，{OVER_LINE}（{tag}{line}元），仅供参考",
                financial_pc,
                line,
            )
        )
    vehicles, housing = counts[PropertyClass.vehicle], counts[PropertyClass.housing]
    if vehicles > thresholds.max_vehicles:
        flags.append(
            PropertyFlag(
                "vehicles_over",
                f"家庭拥有车辆{vehicles}辆，{OVER_LINE}（{tag}{thresholds.max_vehicles}辆），"
                "仅供参考",
                Decimal(vehicles),
                Decimal(thresholds.max_vehicles),
            )
        )
    if housing > thresholds.max_housing_units:
        flags.append(
            PropertyFlag(
                "housing_over",
                f"家庭拥有住房{housing}套，{OVER_LINE}（{tag}{thresholds.max_housing_units}套），"
                "仅供参考",
                Decimal(housing),
                Decimal(thresholds.max_housing_units),
            )
        )
    return PropertySummary(
        totals=totals,
        counts=counts,
        financial_total=financial,
        financial_per_capita=financial_pc,
        deposits_total=deposits,
        deposits_per_capita=deposits_pc,
        thresholds=thresholds,
        flags=tuple(flags),
    )


def load_property_thresholds(path: Path | None = None) -> PropertyThresholds:
    """Read a thresholds TOML file; DomainErrors listing every problem if it is malformed."""
    path = path or SAMPLE_PROPERTY_THRESHOLDS_TOML
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainErrors(
            [DomainError("property_thresholds_unreadable", f"无法读取财产参考线文件{path}：{exc}")]
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DomainErrors([_err(f"文件{path.name}格式错误：{exc}", None)]) from exc
    return _parse(data)


def _parse(data: dict[str, Any]) -> PropertyThresholds:
    errors: list[DomainError] = []
    for key in sorted(set(data) - _KEYS):
        errors.append(_err(f"未知的配置项“{key}”", key))
    sample = data.get("sample", True)
    if not isinstance(sample, bool):
        errors.append(_err("sample 应为 true 或 false", "sample"))
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        errors.append(_err("source 应注明参考线的来源", "source"))
    line = _amount(data.get("financial_assets_per_capita"))
    if line is None:
        errors.append(
            _err(
                "financial_assets_per_capita 应为不小于0的金额（元）", "financial_assets_per_capita"
            )
        )
    counts: dict[str, int] = {}
    for key in ("max_vehicles", "max_housing_units"):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.append(_err(f"{key} 应为不小于0的整数", key))
        else:
            counts[key] = value
    if errors:
        raise DomainErrors(errors)
    assert line is not None and isinstance(source, str)
    return PropertyThresholds(
        financial_assets_per_capita=line,
        max_vehicles=counts["max_vehicles"],
        max_housing_units=counts["max_housing_units"],
        sample=sample,
        source=source.strip(),
    )


def _amount(value: object) -> Decimal | None:
    # Strings and integers keep the exact figure; a TOML float is read through its repr.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def _err(message: str, field: str | None) -> DomainError:
    return DomainError("property_thresholds_invalid", f"财产参考线配置错误：{message}", field)
