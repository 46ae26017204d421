"""Snapshots of the login and home screens at 80x24 and 120x40.

Deterministic by construction: the app talks to fixed contract models through
httpx.MockTransport (tests/tui/fakes.py), the display clock and time zone are pinned, and
the backend label is fixed, so nothing in the picture depends on ports, dates or run order.
Regenerate with ``pytest tests/tui --snapshot-update`` and look at the SVGs before committing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from counter_tui.app import CounterApp
from counter_tui.embedded import DemoCredentials

from .fakes import FAKE_PASSWORD, FakeBackend, fixed_clock
from .helpers import open_home

SIZES = [(80, 24), (120, 40)]


def _app(fake: FakeBackend, **kwargs: Any) -> CounterApp:
    return CounterApp(
        fake.client(), clock=fixed_clock(), backend_label="http://jiuzhutong.test", **kwargs
    )


async def _settle(pilot: Pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _log_in(pilot: Pilot) -> None:
    # Home snapshots are about home: the session starts without typing (login by keys is
    # covered in test_login.py and test_login_error below).
    await _settle(pilot)
    await open_home(pilot, "demo", FAKE_PASSWORD)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_login(snap_compare: Callable[..., bool], fake: FakeBackend, size: tuple[int, int]) -> None:
    app = _app(fake, demo=DemoCredentials("demo", FAKE_PASSWORD))
    assert snap_compare(app, terminal_size=size, run_before=_settle)


def test_login_error(snap_compare: Callable[..., bool], fake: FakeBackend) -> None:
    async def wrong_password(pilot: Pilot) -> None:
        await _settle(pilot)
        await pilot.press(*"demo", "tab", *"wrong", "enter")
        await _settle(pilot)

    assert snap_compare(_app(fake), run_before=wrong_password)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_home(snap_compare: Callable[..., bool], fake: FakeBackend, size: tuple[int, int]) -> None:
    assert snap_compare(_app(fake), terminal_size=size, run_before=_log_in)


def test_home_light_theme(snap_compare: Callable[..., bool], fake: FakeBackend) -> None:
    assert snap_compare(_app(fake, theme="textual-light"), run_before=_log_in)


def test_home_empty(snap_compare: Callable[..., bool]) -> None:
    assert snap_compare(_app(FakeBackend(drafts=[])), run_before=_log_in)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_delete_confirmation(
    snap_compare: Callable[..., bool], fake: FakeBackend, size: tuple[int, int]
) -> None:
    async def ask(pilot: Pilot) -> None:
        await _log_in(pilot)
        await pilot.press("down", "d")
        await pilot.pause()

    assert snap_compare(_app(fake), terminal_size=size, run_before=ask)
