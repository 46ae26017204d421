"""Applying the domain rules to one request and collecting every problem at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from jiuzhutong.contract import PersonDetails
from jiuzhutong.domain.divisions import DivisionRegistry
from jiuzhutong.domain.errors import DomainError
from jiuzhutong.domain.household import Person, check_household
from jiuzhutong.domain.idnumber import IdInfo, IdNumberError, parse_id_number
from jiuzhutong.domain.phone import validate_phone
from jiuzhutong.service.errors import Invalid, Problem


class Problems:
    """Collects problems; ``raise_if_any`` ends the request with all of them."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, error: DomainError, field: str | None = None) -> None:
        self.items.append(Problem(error.code, error.message, field or error.field))

    def add_problem(self, code: str, message: str, field: str | None) -> None:
        self.items.append(Problem(code, message, field))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise Invalid(self.items)


def parse_id(text: str, field: str, today: date, problems: Problems) -> IdInfo | None:
    try:
        return parse_id_number(text, today=today, field=field)
    except IdNumberError as exc:
        problems.add(exc)
        return None


def sent_details(details: PersonDetails | None) -> dict[str, Any]:
    """The fields the client actually sent (explicit nulls included), JSON-ready."""
    if details is None:
        return {}
    return details.model_dump(mode="json", exclude_unset=True)


def check_details(
    sent: dict[str, Any], registry: DivisionRegistry, problems: Problems, prefix: str = "details"
) -> dict[str, Any]:
    """Domain checks of the detail fields sent; returns them normalised (phone digits)."""
    out = dict(sent)
    phone = sent.get("phone")
    if phone is not None:
        try:
            out["phone"] = validate_phone(phone, field=f"{prefix}.phone")
        except DomainError as exc:
            problems.add(exc)
    code = sent.get("hukou_division")
    if code is not None:
        try:
            registry.validate(code, field=f"{prefix}.hukou_division")
        except DomainError as exc:
            problems.add(exc)
    return out


def merge_details(stored: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """Field by field; a null clears. Only non-null values are stored."""
    merged = dict(stored)
    for key, value in sent.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def person_path(index: int) -> str:
    """check_household's path of persons[index]."""
    return "applicant" if index == 0 else f"members[{index - 1}]"


def household_problems(
    persons: Sequence[Person], *, on: date, focus: int | None, problems: Problems
) -> None:
    """Household rules; errors about persons[focus] get paths into the request body."""
    prefix = person_path(focus) + "." if focus is not None else None
    for error in check_household(persons, on=on):
        field = error.field
        if prefix and field and field.startswith(prefix):
            field = field[len(prefix) :]
        problems.add(error, field)
