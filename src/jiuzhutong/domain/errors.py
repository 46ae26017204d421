"""Errors the domain raises: a stable machine code plus a Chinese message for the clerk."""

from __future__ import annotations

import copy
from collections.abc import Iterable


class DomainError(Exception):
    """One problem, precise enough to show to the clerk as is."""

    code: str
    message: str
    field: str | None

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def with_field(self, field: str) -> DomainError:
        # A copy keeps the subclass and its extra attributes (IdNumberError.kind), so a rule
        # checked once can be reported under "members[2].id_number" as well as "id_number".
        other = copy.copy(self)
        other.field = field
        return other

    def __reduce__(self) -> tuple[object, ...]:
        # Subclasses take other constructor arguments than Exception.args holds; rebuilding
        # from the attributes keeps copy and pickle working for all of them.
        return (_restore, (type(self), dict(self.__dict__), self.args))

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, field={self.field!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DomainError):
            return NotImplemented
        return (type(self), self.code, self.message, self.field) == (
            type(other),
            other.code,
            other.message,
            other.field,
        )

    def __hash__(self) -> int:
        return hash((type(self), self.code, self.message, self.field))


def _restore(cls: type[DomainError], state: dict[str, object], args: tuple) -> DomainError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class DomainErrors(Exception):
    """Several problems at once: Art 10 asks that missing items be listed in one go (一次性告知)."""

    errors: list[DomainError]

    def __init__(self, errors: Iterable[DomainError]) -> None:
        self.errors = list(errors)
        super().__init__(self.errors)  # args rebuild the same object on copy and pickle

    def __str__(self) -> str:
        return "；".join(e.message for e in self.errors)
