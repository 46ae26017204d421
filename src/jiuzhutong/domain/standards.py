"""低保标准: a dated table keyed by division-code prefix and 城镇/农村, loaded from TOML.

Hubei's current figures are not confirmed (DOMAIN.md), so amounts are configuration, and
every value carries its source and whether it is sample data the screens must label 示例.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from jiuzhutong.contract import HukouType
from jiuzhutong.domain.errors import DomainError, DomainErrors

SAMPLE_STANDARDS_TOML: Path = Path(__file__).parent / "data" / "standards_sample.toml"
_CODE_LENGTHS = (2, 4, 6, 9, 12)
_ENTRY_KEYS = {"division", "hukou_type", "monthly_amount", "effective_from", "source", "sample"}
_TOP_KEYS = {"sample", "standards"}


@dataclass(frozen=True)
class Standard:
    division_code: str  # prefix: "42" applies to all of Hubei, "4201" to Wuhan
    hukou_type: HukouType
    monthly_amount: Decimal  # yuan per person per month
    effective_from: date
    sample: bool
    source: str


class StandardsTable:
    def __init__(self, standards: Iterable[Standard] = ()) -> None:
        self.standards: tuple[Standard, ...] = tuple(
            sorted(standards, key=lambda s: (s.division_code, s.hukou_type, s.effective_from))
        )

    def lookup(self, division_code: str, hukou_type: HukouType, on: date) -> Standard | None:
        """Most specific prefix in force on ``on``; within it, the latest effective_from.

        A prefecture table that only starts next month must not hide the province-wide one
        in force today, so the date filter comes before the choice of prefix.
        """
        candidates = [
            s
            for s in self.standards
            if s.hukou_type == hukou_type
            and division_code.startswith(s.division_code)
            and s.effective_from <= on
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda s: (len(s.division_code), s.effective_from))


def load_standards(path: Path | None = None) -> StandardsTable:
    """Read a standards TOML file; DomainErrors listing every problem if it is malformed."""
    path = path or SAMPLE_STANDARDS_TOML
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DomainErrors(
            [DomainError("standards_unreadable", f"无法读取低保标准文件{path}：{exc}", None)]
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DomainErrors(
            [DomainError("standards_invalid", f"低保标准文件{path.name}格式错误：{exc}", None)]
        ) from exc
    return StandardsTable(_parse(data))


def _parse(data: dict[str, Any]) -> list[Standard]:
    errors: list[DomainError] = []
    for key in sorted(set(data) - _TOP_KEYS):
        errors.append(_err(f"未知的配置项“{key}”", key))
    default_sample = data.get("sample", True)
    if not isinstance(default_sample, bool):
        errors.append(_err("sample 应为 true 或 false", "sample"))
        default_sample = True
    entries = data.get("standards")
    if not isinstance(entries, list) or not entries:
        errors.append(_err("缺少 [[standards]] 条目", "standards"))
        raise DomainErrors(errors)

    result: list[Standard] = []
    seen: dict[tuple[str, HukouType, date], int] = {}
    for i, entry in enumerate(entries):
        where = f"standards[{i}]"
        if not isinstance(entry, dict):
            errors.append(_err(f"第{i + 1}条应为表（[[standards]]）", where))
            continue
        before = len(errors)
        for key in sorted(set(entry) - _ENTRY_KEYS):
            errors.append(_err(f"第{i + 1}条：未知的配置项“{key}”", f"{where}.{key}"))
        code = entry.get("division")
        if not (isinstance(code, str) and code.isascii() and code.isdigit()) or (
            len(code) not in _CODE_LENGTHS
        ):
            errors.append(
                _err(f"第{i + 1}条：division 应为2、4、6、9或12位数字字符串", f"{where}.division")
            )
        hukou = entry.get("hukou_type")
        if hukou not in {h.value for h in HukouType}:
            errors.append(
                _err(f"第{i + 1}条：hukou_type 应为“城镇”或“农村”", f"{where}.hukou_type")
            )
        amount = _amount(entry.get("monthly_amount"))
        if amount is None:
            errors.append(
                _err(
                    f"第{i + 1}条：monthly_amount 应为大于0的金额（元）", f"{where}.monthly_amount"
                )
            )
        effective = entry.get("effective_from")
        if not isinstance(effective, date) or isinstance(effective, datetime):
            errors.append(
                _err(
                    f"第{i + 1}条：effective_from 应为日期，如 2024-01-01",
                    f"{where}.effective_from",
                )
            )
        source = entry.get("source")
        if not isinstance(source, str) or not source.strip():
            errors.append(_err(f"第{i + 1}条：source 应注明数据来源", f"{where}.source"))
        sample = entry.get("sample", default_sample)
        if not isinstance(sample, bool):
            errors.append(_err(f"第{i + 1}条：sample 应为 true 或 false", f"{where}.sample"))
        if len(errors) > before:
            continue
        key = (code, HukouType(hukou), effective)
        if key in seen:
            errors.append(
                _err(f"第{i + 1}条与第{seen[key] + 1}条重复（同一区划、户籍类型和生效日期）", where)
            )
            continue
        seen[key] = i
        assert amount is not None
        result.append(Standard(code, HukouType(hukou), amount, effective, sample, source.strip()))
    if errors:
        raise DomainErrors(errors)
    return result


def _amount(value: object) -> Decimal | None:
    # Strings and integers keep the exact figure; a TOML float is read through its repr.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def _err(message: str, field: str) -> DomainError:
    return DomainError("standards_invalid", f"低保标准配置错误：{message}", field)
