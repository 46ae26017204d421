"""授权签名 opened by the flow: nothing is painted until the board is read (ApplicationFlow.open
holds the first frame for the screen's ``prepare``), at most PREPARE_TIMEOUT; a slow line sees
the screen then and the rows when they come. The event stream starts after the first frame."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from counter_tui import flow

from .fakes import stream_through
from .test_authorization_board import _auth_fake, _rows, _screen, _until
from .test_flow_snapshots import _app, _home


@pytest.mark.parametrize("delay", [0.0, 2 * flow.PREPARE_TIMEOUT], ids=["quick", "slow"])
async def test_the_board_is_read_before_it_is_painted(
    delay: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, _draft = _auth_fake()
    stream_through(fake, monkeypatch)
    board = fake.override["/applications/d-9/authorizations"]

    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(delay)
        return board(request)

    fake.override["/applications/d-9/authorizations"] = answer  # type: ignore[assignment]
    app = _app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await _home(pilot)
        await flow.open_draft(app, "d-9")  # the draft's step: 授权签名
        if delay:
            await pilot.pause(0.05)
            assert app._batch_count == 1 and _rows(app) == []  # held: nothing painted yet
        else:
            await _until(pilot, lambda: len(_rows(app)) == 3)
            assert app._batch_count == 0  # the hold ended with the rows on the screen
        await pilot.pause(flow.PREPARE_TIMEOUT + 0.05)
        assert app._batch_count == 0  # never held longer than PREPARE_TIMEOUT
        await _until(pilot, lambda: len(_rows(app)) == 3)
        await _until(pilot, lambda: _screen(app).live)
