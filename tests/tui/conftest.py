"""Fixtures of the TUI suite: one real embedded jiuzhutong per session, apps, seed data.

Every Pilot test here drives the app with keys only. Seed data goes through the real HTTP
API with counter_tui.client; the people are synthetic (valid check digits from
jiuzhutong.domain.idnumber.make_id_number), never real residents.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.embedded import DemoCredentials, EmbeddedBackend
from jiuzhutong.contract import ApplyMode, DraftCreate, DraftOut, LoginResponse
from jiuzhutong.domain.idnumber import make_id_number

from .fakes import FakeBackend, fixed_clock

_seq = itertools.count(1)


@pytest.fixture(scope="session")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBackend]:
    """A real jiuzhutong server, started the way counter-tui starts it, in a fresh data dir."""
    data_dir: Path = tmp_path_factory.mktemp("counter-tui-data")
    # Lock-out after 3 failures instead of 5: the lock-out test needs fewer slow logins
    # (each costs a password hash on the server).
    server = EmbeddedBackend(data_dir, extra_env={"JZT_LOGIN_MAX_FAILURES": "3"}).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def demo(backend: EmbeddedBackend) -> DemoCredentials:
    """The credentials the very first start printed (the data dir was empty)."""
    assert backend.demo is not None, "first start must create the demo staff"
    return backend.demo


@pytest.fixture(scope="session")
def demo_session(backend: EmbeddedBackend, demo: DemoCredentials) -> LoginResponse:
    """One login for the whole session: the server hashes every password it checks, which
    costs ~0.5 s, so tests that are not about logging in share this session's token."""

    async def login() -> LoginResponse:
        async with ApiClient(backend.base_url) as client:
            return await client.login(demo.username, demo.password, "test-counter")

    return asyncio.run(login())


@pytest.fixture
async def api(backend: EmbeddedBackend, demo_session: LoginResponse) -> AsyncIterator[ApiClient]:
    """A logged-in client for seeding and for checking what the server holds."""
    async with ApiClient(backend.base_url, token=demo_session.token) as client:
        yield client


def synthetic_id(seq: int | None = None) -> str:
    """A fresh synthetic ID number (unique in this session: one open draft per applicant)."""
    n = next(_seq) if seq is None else seq
    return make_id_number("420106", date(1950 + n % 40, 1 + n % 12, 1 + n % 28), n % 1000)


async def seed_draft(api: ApiClient, name: str) -> DraftOut:
    return await api.create_draft(
        DraftCreate(name=name, id_number=synthetic_id(), mode=ApplyMode.in_person)
    )


@pytest.fixture
def make_app(backend: EmbeddedBackend) -> Callable[..., CounterApp]:
    """An app talking to the real test server, with the display clock pinned."""

    def make(**kwargs: object) -> CounterApp:
        kwargs.setdefault("clock", fixed_clock())
        kwargs.setdefault("backend_label", "测试服务")
        return CounterApp(ApiClient(backend.base_url), **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def fake() -> FakeBackend:
    return FakeBackend()
