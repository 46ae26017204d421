"""Administrative divisions: GB/T 2260 codes from python-stdnum, streets from a county's CSV.

Province, prefecture and county codes (2, 4, 6 digits) come from ``stdnum``'s ``cn/loc``
database, which also keeps historical codes. Streets (9 digits) and communities (12 digits)
are statistical codes python-stdnum does not have, so the deploying county imports them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from stdnum import numdb

from jiuzhutong.domain.errors import DomainError, DomainErrors

HUBEI = "42"
LEVELS = {2: "province", 4: "prefecture", 6: "county", 9: "street", 12: "community"}
NAME_MAX = 40
DEMO_DIVISIONS_CSV: Path = Path(__file__).parent / "data" / "divisions_demo.csv"

# stdnum lists these Hubei codes without an end year although GB/T 2260 dropped them
# (神农架 moved to 429021, 随州 to 421300); without this they would be offered as current.
_NOT_CURRENT_IN_STDNUM = frozenset({"422900", "422921", "429001"})
# stdnum spells the 90 group the way older editions did; GB/T 2260 now says 行政区划.
_RENAMED = {
    "省直辖县级行政单位": "省直辖县级行政区划",
    "自治区直辖县级行政单位": "自治区直辖县级行政区划",
}
# Grouping levels that are not part of a postal-style full name (湖北省仙桃市, 北京市东城区).
_NOT_IN_FULL_NAME = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})

_PERIOD = re.compile(r"^\[(\d*)-(\d*)\](.+)$")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    full_name: str
    level: str  # "province" | "prefecture" | "county" | "street" | "community"
    parent: str | None
    sample: bool


@dataclass(frozen=True)
class _Period:
    start: int | None
    end: int | None
    name: str

    def covers(self, year: int) -> bool:
        return (self.start is None or year >= self.start) and (self.end is None or year <= self.end)


def _periods(value: str) -> list[_Period]:
    """'[-2009]襄樊市,[2010-]襄阳市' → one period per name, in stdnum's chronological order."""
    result = []
    for part in value.split(","):
        m = _PERIOD.match(part)
        if m:
            start, end, name = m.groups()
            result.append(_Period(int(start) if start else None, int(end) if end else None, name))
        else:
            result.append(_Period(None, None, part))
    return result


@lru_cache(maxsize=1)
def _loc_index() -> tuple[dict[str, str], dict[str, list[_Period]]]:
    """Provinces by 2-digit code and every 6-digit code stdnum knows, with its name history."""
    provinces: dict[str, str] = {}
    codes: dict[str, list[_Period]] = {}
    for length, low, high, props, children in numdb.get("cn/loc").prefixes:
        if length != 2 or "province" not in props:
            continue
        for p in range(int(low), int(high) + 1):
            provinces[f"{p:02d}"] = props["province"]
            for c_len, c_low, c_high, c_props, _ in children:
                if c_len != 4 or "county" not in c_props:
                    continue
                for c in range(int(c_low), int(c_high) + 1):
                    codes[f"{p:02d}{c:04d}"] = _periods(c_props["county"])
    return provinces, codes


def _pick(periods: list[_Period], year: int | None) -> str:
    chosen = periods[-1]
    if year is not None:
        chosen = next((p for p in periods if p.covers(year)), chosen)
    return _RENAMED.get(chosen.name, chosen.name)


def loc_known(code6: str) -> bool:
    """True when stdnum knows the 6-digit address code, current or historical."""
    provinces, codes = _loc_index()
    return code6[:2] in provinces and code6 in codes


def loc_current(code6: str) -> bool:
    _, codes = _loc_index()
    periods = codes.get(code6)
    return bool(periods) and periods[-1].end is None and code6 not in _NOT_CURRENT_IN_STDNUM


def loc_name(code6: str, year: int | None = None) -> str | None:
    """Own name of a 6-digit code; the name in force in ``year`` when stdnum knows one."""
    _, codes = _loc_index()
    periods = codes.get(code6)
    return _pick(periods, year) if periods else None


def loc_full_name(code6: str, year: int | None = None) -> str | None:
    """'湖北省武汉市江汉区' for 420103; names as in force in ``year`` where stdnum dates them."""
    provinces, _ = _loc_index()
    province = provinces.get(code6[:2])
    own = loc_name(code6, year)
    if province is None or own is None:
        return None
    if code6[2:] == "0000":
        return province
    if code6[4:] == "00":
        return province + own
    prefecture = loc_name(code6[:4] + "00", year)
    if prefecture is None or prefecture in _NOT_IN_FULL_NAME or prefecture == province:
        return province + own
    return province + prefecture + own


def region_contains(region: str, code: str) -> bool:
    """Prefix rule: "4201" contains "420106003"; a region contains itself."""
    if len(region) not in LEVELS or not region.isascii() or not region.isdigit():
        return False
    return code.startswith(region)


class DivisionRegistry:
    """Current divisions: stdnum for 2/4/6 digits, imported streets and communities for 9/12."""

    def __init__(self, extra: Iterable[Division] = ()) -> None:
        self._extra: dict[str, Division] = {}
        self._extra_children: dict[str, list[Division]] = {}
        for d in extra:
            self._extra[d.code] = d
        for d in sorted(self._extra.values(), key=lambda d: d.code):
            if d.parent is not None:
                self._extra_children.setdefault(d.parent, []).append(d)

    def get(self, code: str) -> Division | None:
        if not code.isascii() or not code.isdigit():
            return None
        if len(code) in (9, 12):
            return self._extra.get(code)
        provinces, _ = _loc_index()
        if len(code) == 2:
            name = provinces.get(code)
            return Division(code, name, name, "province", None, False) if name else None
        if len(code) == 4:
            # A prefecture is stdnum's xxxx00 entry.
            code6 = code + "00"
            if not loc_current(code6) or code6[2:] == "0000":
                return None
            name = loc_name(code6)
            full = loc_full_name(code6)
            assert name is not None and full is not None
            return Division(code, name, full, "prefecture", code[:2], False)
        if len(code) == 6:
            if code[4:] == "00" or not loc_current(code):
                return None
            name = loc_name(code)
            full = loc_full_name(code)
            assert name is not None and full is not None
            return Division(code, name, full, "county", code[:4], False)
        return None

    def children(self, parent: str | None) -> list[Division]:
        """None → Hubei's prefectures; a code → its direct current sub-divisions, by code."""
        if parent is None:
            parent = HUBEI
        if len(parent) in (2, 4):
            _, codes = _loc_index()
            width = len(parent) + 2
            seen = sorted({c[:width] for c in codes if c.startswith(parent)})
            found = [self.get(c) for c in seen if c != parent + "00"]
            # xx01 市辖区 groups a city's districts in GB/T 2260; nobody lives "in" it.
            return [d for d in found if d is not None and not (width == 6 and d.name == "市辖区")]
        return list(self._extra_children.get(parent, []))

    def validate(self, code: str, *, field: str) -> Division:
        found = self.get(code)
        if found is not None:
            return found
        if len(code) == 6 and loc_known(code):
            message = f"行政区划代码已撤销：{code}（原{loc_full_name(code)}）"
        else:
            message = f"行政区划代码不存在：{code}"
        raise DomainError("division_unknown", message, field)


def read_divisions_csv(text: str, *, sample: bool = False) -> list[Division]:
    """Streets and communities from ``code,name`` CSV text; all bad lines reported at once.

    Lines starting with '#' are comments. A leading comment that says 示例 marks the whole
    file as sample data, so demo rows can never be shown as real ones by mistake.
    """
    errors: list[DomainError] = []
    rows: list[tuple[int, str, str]] = []
    header_seen = False
    text = text.removeprefix("\ufeff")  # Excel writes a BOM in front of UTF-8
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith("#"):
            if not header_seen and "示例" in line:
                sample = True
            continue
        cells = next(csv.reader([line]))
        if not header_seen:
            header_seen = True
            if [c.strip().lower() for c in cells] != ["code", "name"]:
                errors.append(
                    DomainError(
                        "division_csv_header",
                        f"第{lineno}行：表头应为“code,name”",
                        f"lines[{lineno}]",
                    )
                )
            continue
        if len(cells) != 2:
            errors.append(
                DomainError(
                    "division_csv_columns",
                    f"第{lineno}行：应有2列（代码,名称），现有{len(cells)}列",
                    f"lines[{lineno}]",
                )
            )
            continue
        rows.append((lineno, cells[0].strip(), cells[1].strip()))
    if not header_seen:
        errors.append(DomainError("division_csv_header", "文件为空或缺少表头“code,name”", None))

    first_line: dict[str, int] = {}
    for lineno, code, _ in rows:
        first_line.setdefault(code, lineno)
    streets = {code for _, code, _ in rows if len(code) == 9 and code.isdigit()}

    by_code: dict[str, Division] = {}
    pending: list[tuple[int, str, str]] = []
    for lineno, code, name in rows:
        problems = _row_problems(lineno, code, name, first_line, streets)
        errors.extend(problems)
        if not problems:
            pending.append((lineno, code, name))
    # Streets first so a community's full name can build on its street, whatever the order.
    pending.sort(key=lambda r: len(r[1]))
    for _, code, name in pending:
        if len(code) == 9:
            parent = code[:6]
            parent_full = loc_full_name(parent)
        else:
            parent = code[:9]
            parent_full = by_code[parent].full_name if parent in by_code else None
        if parent_full is None:
            continue  # its parent line was refused; that error is already listed
        by_code[code] = Division(code, name, parent_full + name, LEVELS[len(code)], parent, sample)
    if errors:
        raise DomainErrors(sorted(errors, key=_line_of))
    return [by_code[code] for _, code, _ in rows]


def _row_problems(
    lineno: int, code: str, name: str, first_line: dict[str, int], streets: set[str]
) -> list[DomainError]:
    where = f"第{lineno}行："
    problems: list[DomainError] = []
    code_field, name_field = f"lines[{lineno}].code", f"lines[{lineno}].name"
    if not (code.isascii() and code.isdigit()) or len(code) not in (9, 12):
        problems.append(
            DomainError(
                "division_csv_code",
                f"{where}代码应为9位（街道）或12位（社区）数字：{code or '（空）'}",
                code_field,
            )
        )
    elif first_line[code] != lineno:
        problems.append(
            DomainError(
                "division_csv_duplicate",
                f"{where}代码{code}与第{first_line[code]}行重复",
                code_field,
            )
        )
    elif len(code) == 9 and not loc_current(code[:6]):
        problems.append(
            DomainError(
                "division_csv_parent",
                f"{where}所属县级行政区划代码不存在：{code[:6]}",
                code_field,
            )
        )
    elif len(code) == 12 and code[:9] not in streets:
        problems.append(
            DomainError(
                "division_csv_parent",
                f"{where}所属街道（乡镇）{code[:9]}不在本文件中",
                code_field,
            )
        )
    if not name:
        problems.append(DomainError("division_csv_name", f"{where}名称不能为空", name_field))
    elif len(name) > NAME_MAX:
        problems.append(
            DomainError(
                "division_csv_name",
                f"{where}名称不能超过{NAME_MAX}个字符（现有{len(name)}个）",
                name_field,
            )
        )
    return problems


def _line_of(error: DomainError) -> int:
    m = re.match(r"lines\[(\d+)\]", error.field or "")
    return int(m.group(1)) if m else 0
