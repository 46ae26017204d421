"""Type-ahead: keys that arrive in one burst (a laggy SSH link, a paste) land where typed.

A slow link delivers "demo<Tab>abc" as one read; the App posts every key before any of
them is handled. Tab must move focus before the next character is routed, or "abc" would
land in the field that was just left.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.screens.basic_info import BasicInfoScreen
from jiuzhutong.contract import LoginResponse

from .helpers import focused_id, settle
from .test_flow_basic_info import _new_draft
from .test_flow_support import open_draft, quick_autosave, tui_data_dir  # noqa: F401


def _burst(app: CounterApp, text: str) -> None:
    """Post every key at once, without waiting for any to be handled."""
    for ch in text:
        if ch == "\t":
            app.post_message(events.Key("tab", None))
        else:
            app.post_message(events.Key(ch, ch))


async def test_burst_with_tabs_fills_each_field_in_turn(
    make_app: Callable[..., CounterApp],
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        counter = app.screen.query_one("#counter")
        counter.value = ""  # type: ignore[attr-defined]
        _burst(app, "demo\tsecret\tw3")
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#username").value == "demo"  # type: ignore[attr-defined]
        assert screen.query_one("#password").value == "secret"  # type: ignore[attr-defined]
        assert screen.query_one("#counter").value == "w3"  # type: ignore[attr-defined]


async def test_burst_with_enters_fills_each_form_field_in_turn(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    """Enter that moves to the next field of a form is in key order too: "汉族⏎138…" puts
    the phone number in 联系电话, not after 汉族 in 民族."""
    draft, _ = await _new_draft(api, "测试连按回车")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft.id)
        screen = app.screen
        assert isinstance(screen, BasicInfoScreen)
        assert focused_id(pilot) == "f-details-ethnicity"
        for ch in "汉族\r13800138000":
            if ch == "\r":
                app.post_message(events.Key("enter", "\r"))
            else:
                app.post_message(events.Key(ch, ch))
        await settle(pilot)
        assert screen.query_one("#f-details-ethnicity").value == "汉族"  # type: ignore[attr-defined]
        assert screen.query_one("#f-details-phone").value == "13800138000"  # type: ignore[attr-defined]
