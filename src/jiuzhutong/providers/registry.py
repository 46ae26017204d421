"""Which providers the service uses; simulated ones are refused in production.

A county deploying the service replaces these with adapters to its face verification
service and its data exchange; until then, production must not start on simulated data,
because a 模拟 economic status would look like a real check to the people who decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jiuzhutong.providers.base import EconomicDataSource, FaceVerifier, SignatureCapture
from jiuzhutong.providers.scenarios import ScenarioBook
from jiuzhutong.providers.simulated import (
    CounterSignatureCapture,
    SimulatedFaceVerifier,
    simulated_sources,
)

PRODUCTION = "production"


class SimulatedProviderRefused(RuntimeError):
    """Raised at start-up; the message tells the operator what to configure."""


@dataclass(frozen=True)
class Providers:
    face: FaceVerifier
    signature: SignatureCapture
    sources: tuple[EconomicDataSource, ...]

    @property
    def simulated(self) -> bool:
        return any(p.simulated for p in (self.face, self.signature, *self.sources))

    def simulated_names(self) -> list[str]:
        names = [p.name for p in (self.face, self.signature) if p.simulated]
        names += [f"经济状况数据源“{s.name.value}”" for s in self.sources if s.simulated]
        return names


def _is_production(env: str) -> bool:
    # Env is a StrEnum; a plain string from the environment may differ in case or spaces.
    return str(env).strip().lower() == PRODUCTION


def ensure_allowed(env: str, providers: Providers) -> Providers:
    """``providers`` unchanged, or SimulatedProviderRefused when production gets simulated ones."""
    if _is_production(env) and providers.simulated:
        raise SimulatedProviderRefused(
            "JZT_ENV=production 时不能使用模拟提供方（"
            + "、".join(providers.simulated_names())
            + "）。请配置本地对接的人脸核验、签名和各部门经济状况数据源后再启动；"
            "模拟数据只用于开发和测试。"
        )
    return providers


def build_providers(
    env: str,
    latency_s: float = 0.0,
    *,
    as_of: date | None = None,
    book: ScenarioBook | None = None,
) -> Providers:
    """The development providers (all simulated); refused with a clear error in production.

    ``latency_s`` delays each simulated source answer, to make progress visible in demos;
    ``as_of`` pins the check date of the simulated records (default: the day of the query).
    """
    if _is_production(env):
        # Fail before building anything, so nothing simulated exists in a production process.
        ensure_allowed(
            env,
            Providers(SimulatedFaceVerifier(), CounterSignatureCapture(), ()),
        )
    return Providers(
        face=SimulatedFaceVerifier(),
        signature=CounterSignatureCapture(),
        sources=tuple(simulated_sources(latency_s=latency_s, as_of=as_of, book=book)),
    )
