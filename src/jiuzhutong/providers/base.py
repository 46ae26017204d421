"""Provider interfaces: face verification, signature capture, economic data sources.

A county plugs in local adapters for these; everything else in the service stays as it is.
Every provider says whether it is simulated, so screens can label it 模拟 and production can
refuse it (registry.build_providers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from jiuzhutong.contract.economic import SourceName
from jiuzhutong.domain.economic import EconomicItem
from jiuzhutong.domain.household import Person

__all__ = [
    "SIGNATURE_HEIGHT",
    "SIGNATURE_MAX_CHARS",
    "SIGNATURE_MAX_POINTS",
    "SIGNATURE_WIDTH",
    "EconomicDataSource",
    "FaceResult",
    "FaceVerifier",
    "Signature",
    "SignatureCapture",
    "SourceError",
    "check_path_data",
]

# The signature box of the 告知书: SVG user units; path data must stay inside it.
SIGNATURE_WIDTH = 600
SIGNATURE_HEIGHT = 200
SIGNATURE_MAX_CHARS = 32_000  # a long name written slowly stays far below this
SIGNATURE_MAX_POINTS = 4_000


class SourceError(Exception):
    """A source could not answer; ``message`` is Chinese and names no personal data."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FaceResult:
    passed: bool
    reason: str  # Chinese, shown to the clerk
    provider_name: str  # "模拟人脸核验" for the simulated one
    simulated: bool


@dataclass(frozen=True)
class Signature:
    path_data: str  # SVG path "d": absolute M/L commands inside width × height
    width: int
    height: int
    provider_name: str
    simulated: bool


@runtime_checkable
class FaceVerifier(Protocol):
    name: str
    simulated: bool

    async def verify(self, *, id_number: str, name: str, image: bytes | None = None) -> FaceResult:
        """Compare the live face with the ID photo of ``id_number``; never raises on mismatch."""
        ...


@runtime_checkable
class SignatureCapture(Protocol):
    name: str
    simulated: bool

    async def capture(self, *, signer_name: str, document_id: str) -> Signature:
        """The handwritten signature of ``signer_name`` on ``document_id`` as SVG path data."""
        ...


@runtime_checkable
class EconomicDataSource(Protocol):
    """One agency's data (Art 13). ``fetch`` returns the records about one person.

    Items may leave ``id`` empty: the check runner stamps id, person_ref, source and
    simulated, so an adapter cannot mislabel what it returned.
    Raise SourceError (or anything) when the agency cannot answer; the runner retries.
    """

    name: SourceName
    simulated: bool

    async def fetch(self, person: Person) -> list[EconomicItem]: ...


_NUMBER = re.compile(r"\d{1,4}(?:\.\d{1,2})?")
_TOKEN = re.compile(r"[ML]|[0-9.]+")
_ALLOWED = re.compile(r"[ML0-9., \t\r\n]*")  # a character class: linear time, no backtracking


def check_path_data(
    d: str,
    *,
    width: int = SIGNATURE_WIDTH,
    height: int = SIGNATURE_HEIGHT,
    max_chars: int = SIGNATURE_MAX_CHARS,
    max_points: int = SIGNATURE_MAX_POINTS,
) -> str:
    """``d`` if it is absolute M/L path data inside the box; ValueError in Chinese otherwise.

    Only this small subset is accepted, so a signature stored from any provider (or the
    phone page) can be embedded in the signed document without script or unbounded size.
    """
    if not d or not d.strip():
        raise ValueError("签名为空")
    if len(d) > max_chars:
        raise ValueError(f"签名数据过长（超过{max_chars}个字符）")
    if not _ALLOWED.fullmatch(d):
        raise ValueError("签名数据格式不正确：只能包含 M、L 命令和坐标")
    tokens = _TOKEN.findall(d)
    if not tokens or tokens[0] != "M":
        raise ValueError("签名数据应以 M 命令开头")
    points = 0
    numbers: list[str] = []
    for token in [*tokens[1:], "M"]:  # the sentinel closes the last command
        if token not in ("M", "L"):
            if not _NUMBER.fullmatch(token):
                raise ValueError(f"签名数据格式不正确：坐标“{token[:12]}”无效")
            numbers.append(token)
            continue
        if not numbers or len(numbers) % 2:
            raise ValueError("签名数据格式不正确：每个命令后应有成对的坐标")
        for x, y in zip(numbers[::2], numbers[1::2], strict=True):
            if not (0 <= float(x) <= width and 0 <= float(y) <= height):
                raise ValueError(f"签名坐标超出签名框（{width}×{height}）")
        points += len(numbers) // 2
        numbers = []
    if points > max_points:
        raise ValueError(f"签名点数过多（超过{max_points}个）")
    return d
