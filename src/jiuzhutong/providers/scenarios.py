"""Synthetic households (模拟) the simulated economic sources answer from.

Named scenarios come from ``data/scenarios.toml``; their ID numbers are generated with
``make_id_number`` so they have valid check digits and belong to nobody. Any other ID
number gets modest pseudo-random records derived from a SHA-256 of the number and the
source, so the same person always gets the same answer without any fixture.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Any

from jiuzhutong.contract import PersonDetails, Relation
from jiuzhutong.contract.economic import PropertyClass, RigidExpense, SourceName
from jiuzhutong.domain.economic import EconomicItem, period_for
from jiuzhutong.domain.errors import DomainErrors
from jiuzhutong.domain.household import Person
from jiuzhutong.domain.idnumber import make_id_number, parse_id_number
from jiuzhutong.domain.income import ExcludedIncome, IncomeClass

SCENARIOS_TOML: Path = Path(__file__).parent / "data" / "scenarios.toml"

_HOUSEHOLD_KEYS = {"key", "title", "expected_reference", "persons"}
_PERSON_KEYS = {"ref", "name", "relation", "division", "birth", "seq", "details", "items"}
_ITEM_KEYS = {
    "source",
    "income_class",
    "property_class",
    "expense_kind",
    "excluded",
    "amount",
    "cost",
    "months",
    "quantity",
    "description",
}
DEFAULT_MONTHS = 12  # the usual look-back of an income check


class ScenarioError(ValueError):
    """The fixture file is malformed; the message says where (developer data, English)."""


@dataclass(frozen=True)
class ScenarioItem:
    source: SourceName
    amount: Decimal
    income_class: IncomeClass | None = None
    property_class: PropertyClass | None = None
    expense_kind: RigidExpense | None = None
    excluded: ExcludedIncome | None = None
    cost: Decimal = Decimal(0)
    months: int | None = None
    quantity: int = 1
    description: str = ""

    def to_item(self, person_ref: str, as_of: date) -> EconomicItem:
        if self.property_class is not None:
            # A stock is valued on one day: the end of the last closed month.
            start = end = period_for(as_of, 1)[1]
        else:
            start, end = period_for(as_of, self.months or DEFAULT_MONTHS)
        return EconomicItem(
            person_ref=person_ref,
            source=self.source,
            period_start=start,
            period_end=end,
            amount=self.amount,
            income_class=self.income_class,
            property_class=self.property_class,
            expense_kind=self.expense_kind,
            months=None if self.property_class is not None else self.months or DEFAULT_MONTHS,
            cost=self.cost,
            excluded=self.excluded,
            quantity=self.quantity,
            description=f"{self.description}（模拟）" if self.description else "模拟数据",
            simulated=True,
        )


@dataclass(frozen=True)
class ScenarioPerson:
    ref: str
    name: str
    relation: Relation
    id_number: str
    details: PersonDetails
    items: tuple[ScenarioItem, ...]

    def to_person(self, on: date) -> Person:
        return Person(
            self.ref,
            self.name,
            parse_id_number(self.id_number, today=on),
            self.relation,
            self.details,
        )


@dataclass(frozen=True)
class ScenarioHousehold:
    key: str
    title: str
    expected_reference: str  # on the shipped 示例 standard
    persons: tuple[ScenarioPerson, ...]  # applicant first

    def to_persons(self, on: date) -> list[Person]:
        return [p.to_person(on) for p in self.persons]


class ScenarioBook:
    def __init__(self, households: tuple[ScenarioHousehold, ...]) -> None:
        self.households = households
        self._by_key = {h.key: h for h in households}
        self._by_id: dict[str, ScenarioPerson] = {}
        for h in households:
            for p in h.persons:
                if p.id_number in self._by_id:
                    raise ScenarioError(f"duplicate scenario ID number in household {h.key}")
                self._by_id[p.id_number] = p

    def household(self, key: str) -> ScenarioHousehold:
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(f"unknown scenario household {key!r}") from None

    def person(self, id_number: str) -> ScenarioPerson | None:
        return self._by_id.get(id_number)

    def items_for(self, person: Person, source: SourceName, as_of: date) -> list[EconomicItem]:
        """What ``source`` holds about ``person`` as of ``as_of``: fixture or derived."""
        known = self._by_id.get(person.id_info.number)
        if known is not None:
            return [it.to_item(person.ref, as_of) for it in known.items if it.source is source]
        return derived_items(person, source, as_of)


@cache
def default_book() -> ScenarioBook:
    """The shipped scenarios, parsed once (they are immutable)."""
    return load_scenarios()


def load_scenarios(path: Path | None = None) -> ScenarioBook:
    path = path or SCENARIOS_TOML
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"cannot read scenarios {path}: {exc}") from exc
    if data.get("sample") is not True:
        # These are synthetic households; a file that says otherwise is not ours to load.
        raise ScenarioError(f"{path.name}: scenarios must be marked sample = true")
    households = data.get("households")
    if not isinstance(households, list) or not households:
        raise ScenarioError(f"{path.name}: no [[households]]")
    return ScenarioBook(tuple(_household(h, i) for i, h in enumerate(households)))


def _unknown(where: str, table: Mapping[str, Any], allowed: set[str]) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise ScenarioError(f"{where}: unknown keys {extra}")


def _household(h: dict[str, Any], i: int) -> ScenarioHousehold:
    where = f"households[{i}]"
    _unknown(where, h, _HOUSEHOLD_KEYS)
    persons = h.get("persons") or []
    if not persons:
        raise ScenarioError(f"{where}: no persons")
    key = _str(h, "key", where)
    return ScenarioHousehold(
        key=key,
        title=_str(h, "title", where),
        expected_reference=_str(h, "expected_reference", where),
        persons=tuple(_person(p, f"{where}({key}).persons[{j}]") for j, p in enumerate(persons)),
    )


def _person(p: dict[str, Any], where: str) -> ScenarioPerson:
    _unknown(where, p, _PERSON_KEYS)
    birth = p.get("birth")
    if not isinstance(birth, date):
        raise ScenarioError(f"{where}.birth: a TOML date is required")
    try:
        number = make_id_number(_str(p, "division", where), birth, int(p.get("seq", -1)))
        relation = Relation(_str(p, "relation", where))
        details = PersonDetails.model_validate(p.get("details", {}))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {exc}") from exc
    items = tuple(_item(it, f"{where}.items[{k}]") for k, it in enumerate(p.get("items", [])))
    return ScenarioPerson(
        _str(p, "ref", where), _str(p, "name", where), relation, number, details, items
    )


def _item(it: dict[str, Any], where: str) -> ScenarioItem:
    _unknown(where, it, _ITEM_KEYS)
    try:
        item = ScenarioItem(
            source=SourceName(_str(it, "source", where)),
            amount=_decimal(it.get("amount"), f"{where}.amount"),
            income_class=_enum(IncomeClass, it.get("income_class")),
            property_class=_enum(PropertyClass, it.get("property_class")),
            expense_kind=_enum(RigidExpense, it.get("expense_kind")),
            excluded=_enum(ExcludedIncome, it.get("excluded")),
            cost=_decimal(it.get("cost", "0"), f"{where}.cost"),
            months=it.get("months"),
            quantity=it.get("quantity", 1),
            description=it.get("description", ""),
        )
        item.to_item("check", date(2000, 1, 1))  # the domain's own validation, once, here
    except (ValueError, DomainErrors) as exc:
        raise ScenarioError(f"{where}: {exc}") from exc
    return item


def _str(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{where}.{key}: a non-empty string is required")
    return value


def _decimal(value: object, where: str) -> Decimal:
    # Money is written as strings in the fixture so no float ever touches it.
    if not isinstance(value, str):
        raise ScenarioError(f'{where}: write amounts as strings, e.g. "1200"')
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ScenarioError(f"{where}: not an amount: {value!r}") from None


def _enum(cls: type, value: object) -> Any:
    return None if value is None else cls(value)


# --- records for ID numbers without a scenario ---------------------------------------


def _draw(seed: bytes, k: int, low: int, high: int, step: int = 1) -> int:
    """A value in [low, high] from two bytes of the seed, rounded down to ``step``."""
    span = (high - low) // step + 1
    return low + (int.from_bytes(seed[2 * k : 2 * k + 2], "big") % span) * step


def derived_items(person: Person, source: SourceName, as_of: date) -> list[EconomicItem]:
    """Modest, stable records for a person who is in no scenario.

    The seed depends on the ID number and the source only, so a rerun, another process or
    another day in the same month gives the same records; "today" only moves the period.
    """
    seed = hashlib.sha256(f"jiuzhutong-sim|{source.name}|{person.id_info.number}".encode()).digest()
    gate = seed[31]  # 0..255: whether the person has such a record at all
    age = person.id_info.age_on(as_of)
    adult, working, senior = age >= 18, 18 <= age < 60, age >= 60
    items: list[ScenarioItem] = []
    if source is SourceName.tax and working and gate < 160:
        monthly = _draw(seed, 0, 1800, 4200, 10)
        items.append(
            ScenarioItem(
                source,
                Decimal(monthly * 12),
                income_class=IncomeClass.WAGES,
                cost=Decimal(monthly * 12 * _draw(seed, 1, 0, 6) // 100),
                months=12,
                description="工资薪金所得",
            )
        )
    elif source is SourceName.social_insurance and senior:
        items.append(
            ScenarioItem(
                source,
                Decimal(_draw(seed, 0, 150, 250, 5) * 12),
                income_class=IncomeClass.TRANSFER,
                excluded=ExcludedIncome.BASIC_PENSION,
                months=12,
                description="城乡居民基础养老金",
            )
        )
    elif source is SourceName.real_estate and adult and gate < 140:
        items.append(
            ScenarioItem(
                source,
                Decimal(_draw(seed, 0, 80, 400, 5) * 1000),
                property_class=PropertyClass.housing,
                description="住房1套",
            )
        )
    elif source is SourceName.business and working and gate < 20:
        amount = _draw(seed, 0, 1000, 3000, 100) * 12
        items.append(
            ScenarioItem(
                source,
                Decimal(amount),
                income_class=IncomeClass.BUSINESS,
                cost=Decimal(amount * 3 // 10),
                months=12,
                description="个体工商户经营所得",
            )
        )
    elif source is SourceName.housing_fund and working and gate < 60:
        items.append(
            ScenarioItem(
                source,
                Decimal(_draw(seed, 0, 2, 20) * 1000),
                property_class=PropertyClass.other,
                description="住房公积金账户余额",
            )
        )
    elif source is SourceName.vehicle and adult and gate < 15:
        items.append(
            ScenarioItem(
                source,
                Decimal(_draw(seed, 0, 20, 80) * 1000),
                property_class=PropertyClass.vehicle,
                description="小型汽车1辆",
            )
        )
    elif source is SourceName.deposit and adult and gate < 220:
        items.append(
            ScenarioItem(
                source,
                Decimal(_draw(seed, 0, 0, 15000, 100)),
                property_class=PropertyClass.deposit,
                description="活期存款",
            )
        )
    elif source is SourceName.insurance and adult and gate < 25:
        items.append(
            ScenarioItem(
                source,
                Decimal(_draw(seed, 0, 1, 10) * 1000),
                property_class=PropertyClass.insurance,
                description="商业保险现金价值",
            )
        )
    elif source is SourceName.securities and adult and gate < 12:
        items.append(
            ScenarioItem(
                source,
                Decimal(_draw(seed, 0, 1, 20) * 1000),
                property_class=PropertyClass.securities,
                description="证券账户市值",
            )
        )
    # 户籍 holds no money records: the registration itself is what the check confirms.
    return [it.to_item(person.ref, as_of) for it in items]
