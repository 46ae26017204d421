"""告知书, keys only, against the real server's GET /notice: 我已阅读并承诺 is gated."""

from __future__ import annotations

from collections.abc import Callable

from textual.containers import VerticalScroll
from textual.widgets import Button, Static

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.flow import NOTICE_READ_ALOUD, NOTICE_SCROLLED
from counter_tui.screens.applicant import ApplicantScreen
from counter_tui.screens.home import HomeScreen
from counter_tui.screens.notice import READ_ALOUD, NoticeScreen
from jiuzhutong.contract import LoginResponse

from .helpers import settle
from .test_flow_support import open_flow, quick_autosave, tui_data_dir  # noqa: F401


def _gate(app: CounterApp) -> tuple[bool, bool]:
    """(button enabled, F10 enabled) on the notice screen."""
    screen = app.screen
    assert isinstance(screen, NoticeScreen)
    button = screen.query_one("#accept", Button)
    return (not button.disabled, screen.check_action("next_step", ()) is True)


async def test_accept_only_after_reading_to_the_end_or_read_aloud(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    notice = await api.get_notice()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_flow(pilot, demo_session)
        screen = app.screen
        assert isinstance(screen, NoticeScreen)
        title = str(screen.query_one("#notice-title", Static).render())
        assert notice.title in title and notice.version in title
        shown = str(screen.query_one("#notice-text", Static).render())
        assert "承诺书" in shown and shown.rstrip().endswith("以手写签名方式授权和承诺。")
        scroll = screen.query_one("#notice-scroll", VerticalScroll)
        assert app.focused is scroll  # the keys scroll the text straight away
        assert _gate(app) == (False, False)

        await pilot.press("f10")  # not yet: nothing happens
        assert isinstance(app.screen, NoticeScreen)
        await pilot.press("down", "down", "pagedown", "space")
        await pilot.pause()
        assert 0 < scroll.scroll_y < scroll.max_scroll_y
        assert _gate(app) == (False, False)

        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        assert _gate(app) == (True, True)
        await pilot.press("home")  # reading back up keeps it available
        await pilot.pause()
        assert _gate(app) == (True, True)

        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, ApplicantScreen)
        flow = app.screen.flow
        assert flow.notice is not None and flow.notice.version == notice.version
        assert flow.notice_ack == NOTICE_SCROLLED

        # Esc: back to the notice (nothing was created; it stays read), Esc again: home.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, NoticeScreen)
        assert _gate(app) == (True, True)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

        # Read aloud across the counter instead: F6 records it and opens the way.
        await pilot.press("enter")
        await settle(pilot)
        assert _gate(app) == (False, False)
        await pilot.press("f6")
        await pilot.pause()
        assert _gate(app) == (True, True)
        hint = str(app.screen.query_one("#notice-hint", Static).render())
        assert hint == READ_ALOUD
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, ApplicantScreen)
        assert app.screen.flow.notice_ack == NOTICE_READ_ALOUD
