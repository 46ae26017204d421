"""A finished response of a use case, already serialised.

Mutating use cases serialise inside their transaction so the idempotency record holds the
exact bytes the client got; reads do it too, which also spares the server a second pass.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: str
    etag: str | None = None

    @staticmethod
    def etag_of(version: int) -> str:
        return f'"{version}"'
