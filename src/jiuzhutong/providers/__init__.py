"""Providers: face verification, signature capture and the economic data sources.

Interfaces in ``base``; simulated implementations (模拟, refused in production) in
``simulated`` with their synthetic households in ``scenarios``; the concurrent check runner
in ``check``; the choice of providers per environment in ``registry``. May import the
domain and the contract, never HTTP, SQL or screens.
"""

from jiuzhutong.providers.base import (
    EconomicDataSource,
    FaceResult,
    FaceVerifier,
    Signature,
    SignatureCapture,
    SourceError,
    check_path_data,
)
from jiuzhutong.providers.check import CheckResult, ProgressCallback, run_economic_check
from jiuzhutong.providers.registry import (
    Providers,
    SimulatedProviderRefused,
    build_providers,
    ensure_allowed,
)

__all__ = [
    "CheckResult",
    "EconomicDataSource",
    "FaceResult",
    "FaceVerifier",
    "ProgressCallback",
    "Providers",
    "Signature",
    "SignatureCapture",
    "SimulatedProviderRefused",
    "SourceError",
    "build_providers",
    "check_path_data",
    "ensure_allowed",
    "run_economic_check",
]
