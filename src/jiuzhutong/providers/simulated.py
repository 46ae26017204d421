"""Simulated providers for development and tests: deterministic, and labelled 模拟.

None of them contacts anything. They are refused when JZT_ENV=production (registry.py),
and every name, reason and description they produce says 模拟 so a screen can never pass
them off as a real check.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Literal

from jiuzhutong.contract.economic import SourceName
from jiuzhutong.domain.economic import EconomicItem
from jiuzhutong.domain.household import Person
from jiuzhutong.providers.base import (
    SIGNATURE_HEIGHT,
    SIGNATURE_WIDTH,
    FaceResult,
    Signature,
    SourceError,
    check_path_data,
)
from jiuzhutong.providers.scenarios import ScenarioBook, default_book

Fault = Literal["fail", "hang"]  # injected per call, for tests of retries and timeouts


class SimulatedFaceVerifier:
    """Passes unless told otherwise; ``failing_ids`` fail so a test can show the retry path."""

    name = "模拟人脸核验"
    simulated = True

    def __init__(self, *, passes: bool = True, failing_ids: Iterable[str] = ()) -> None:
        self.passes = passes
        self.failing_ids = frozenset(failing_ids)

    async def verify(self, *, id_number: str, name: str, image: bytes | None = None) -> FaceResult:
        if self.passes and id_number not in self.failing_ids:
            return FaceResult(True, "模拟人脸核验通过（模拟，未进行真实比对）", self.name, True)
        return FaceResult(
            False,
            "模拟人脸核验未通过（模拟）：请重试，或由窗口工作人员当面核验身份证件",
            self.name,
            True,
        )


class CounterSignatureCapture:
    """A stand-in for the counter's signature pad: a squiggle per character of the name.

    The strokes are derived from a SHA-256 of the document and the name, so a document
    shows the same signature every time it is rendered, and the path stays inside the box.
    """

    name = "模拟柜台签名板"
    simulated = True
    margin = 20

    def __init__(self, width: int = SIGNATURE_WIDTH, height: int = SIGNATURE_HEIGHT) -> None:
        self.width, self.height = width, height

    async def capture(self, *, signer_name: str, document_id: str) -> Signature:
        d = self.path_for(signer_name, document_id)
        return Signature(check_path_data(d), self.width, self.height, self.name, True)

    def path_for(self, signer_name: str, document_id: str) -> str:
        chars = [c for c in signer_name if not c.isspace()] or ["?"]
        usable_w = self.width - 2 * self.margin
        cell = min(120.0, usable_w / len(chars))
        top, bottom = self.margin, self.height - self.margin
        parts: list[str] = []
        for i, ch in enumerate(chars):
            seed = hashlib.sha256(f"{document_id}|{signer_name}|{i}|{ch}".encode()).digest()
            x0 = self.margin + i * cell
            for stroke in range(2 + seed[0] % 2):
                points = []
                for k in range(4 + seed[stroke + 1] % 3):
                    b = seed[(4 + stroke * 8 + k * 2) % 32], seed[(5 + stroke * 8 + k * 2) % 32]
                    x = x0 + cell * 0.1 + (b[0] / 255) * cell * 0.8
                    y = top + (b[1] / 255) * (bottom - top)
                    points.append(f"{x:.1f} {y:.1f}")
                parts.append("M" + points[0] + "".join(" L" + p for p in points[1:]))
        return " ".join(parts)


class SimulatedEconomicSource:
    """One agency, answering from the scenario book after ``latency_s`` seconds.

    ``faults`` are consumed one per ``fetch`` call ("fail" raises SourceError, "hang"
    never answers, so the runner's timeout fires); after them ``always`` applies, then
    normal answers. Tests use this instead of sleeping.
    """

    simulated = True

    def __init__(
        self,
        name: SourceName,
        *,
        latency_s: float = 0.0,
        as_of: date | None = None,
        book: ScenarioBook | None = None,
        faults: Sequence[Fault] = (),
        always: Fault | None = None,
    ) -> None:
        if latency_s < 0:
            raise ValueError(f"latency_s must be >= 0: {latency_s}")
        self.name = name
        self.latency_s = latency_s
        self.as_of = as_of
        self.book = book or default_book()
        self.faults = list(faults)
        self.always = always
        self.calls = 0

    @property
    def display_name(self) -> str:
        return f"{self.name.value}（模拟）"

    def __repr__(self) -> str:
        return f"SimulatedEconomicSource({self.name.name}, latency_s={self.latency_s})"

    async def fetch(self, person: Person) -> list[EconomicItem]:
        call = self.calls
        self.calls += 1
        fault = self.faults[call] if call < len(self.faults) else self.always
        # sleep(0) still yields, so latency 0 exercises the same interleaving as real I/O.
        await asyncio.sleep(self.latency_s)
        if fault == "fail":
            raise SourceError(f"{self.display_name}返回错误（模拟故障）")
        if fault == "hang":
            await asyncio.Event().wait()  # until the runner's timeout cancels us
        as_of = self.as_of or date.today()
        return self.book.items_for(person, self.name, as_of)


def simulated_sources(
    *,
    latency_s: float = 0.0,
    as_of: date | None = None,
    book: ScenarioBook | None = None,
    faults: Mapping[SourceName, Sequence[Fault]] | None = None,
    always: Mapping[SourceName, Fault] | None = None,
) -> list[SimulatedEconomicSource]:
    """All ten sources, in SourceName order."""
    faults, always = faults or {}, always or {}
    return [
        SimulatedEconomicSource(
            name,
            latency_s=latency_s,
            as_of=as_of,
            book=book,
            faults=faults.get(name, ()),
            always=always.get(name),
        )
        for name in SourceName
    ]
