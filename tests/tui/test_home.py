"""Home screen, keys only: seeded drafts against the real server, failures via fakes."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

import httpx
import pytest
from textual.app import ComposeResult
from textual.widgets import Static

from counter_tui import entries
from counter_tui.app import SESSION_EXPIRED, CounterApp
from counter_tui.client import ApiClient
from counter_tui.embedded import DemoCredentials
from counter_tui.errors import NotFound, Unauthorized
from counter_tui.screens.base import CounterScreen
from counter_tui.screens.confirm import ConfirmScreen
from counter_tui.screens.home import EMPTY, HomeScreen
from counter_tui.screens.login import LoginScreen
from counter_tui.widgets.drafts_table import DraftsTable
from jiuzhutong.contract import LoginResponse, Role

from .conftest import seed_draft
from .fakes import FAKE_PASSWORD, FakeBackend, fixed_clock
from .helpers import login, message, open_home, resume_home, settle


def _names(app: CounterApp) -> list[str]:
    return [d.applicant_name for d in app.screen.query_one(DraftsTable).drafts]


async def _to_row(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    """Move the cursor with ↓ until the row of ``name`` is selected."""
    table = pilot.app.screen.query_one(DraftsTable)
    await pilot.press("home")
    for _ in range(len(table.drafts)):
        if table.selected is not None and table.selected.applicant_name == name:
            return
        await pilot.press("down")
    assert table.selected is not None and table.selected.applicant_name == name


async def test_home_lists_seeded_drafts_esc_stays_f5_refreshes(
    make_app: Callable[..., CounterApp], demo: DemoCredentials, api: ApiClient
) -> None:
    first = await seed_draft(api, "测试列表甲")
    second = await seed_draft(api, "测试列表乙")
    app = make_app(counter_id="window-03")
    async with app.run_test(size=(80, 24)) as pilot:
        await login(pilot, demo.username, demo.password)
        assert isinstance(app.screen, HomeScreen)
        names = _names(app)
        assert names.index("测试列表乙") < names.index("测试列表甲")  # newest first
        table = app.screen.query_one(DraftsTable)
        row = table.get_row(second.id)
        assert row[0] == "测试列表乙"
        assert "*" in row[1] and row[1] == second.applicant.id_number  # masked
        assert row[3] == "未开始"
        who = str(app.screen.query_one("#who", Static).render())
        staff = app.session.staff  # type: ignore[union-attr]
        assert staff.display_name in who and "window-03" in who and staff.region_name in who
        assert first.id in [d.id for d in table.drafts]
        assert app.focused is app.screen.query_one("#entries")  # the flows come first

        # Esc on home has nothing to go back to and does nothing (never logs out).
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen) and app.session is not None

        # F5 picks up what others saved meanwhile.
        await seed_draft(api, "测试刷新丙")
        assert "测试刷新丙" not in _names(app)
        await pilot.press("f5")
        await settle(pilot)
        assert "测试刷新丙" in _names(app)
        assert message(pilot, "#home-message") == "已刷新 10:30:15"  # the pinned clock


async def test_delete_asks_no_keeps_yes_removes(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    draft = await seed_draft(api, "测试删除丁")
    app = make_app()
    async with app.run_test() as pilot:
        await resume_home(pilot, demo_session)
        await _to_row(pilot, "测试删除丁")

        # d asks; the default answer is 否, so Enter keeps the draft.
        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        assert app.focused is not None and app.focused.id == "no"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert message(pilot, "#home-message") == "未删除"
        assert (await api.get_draft(draft.id)).id == draft.id

        # Esc on the question is 否 as well.
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert (await api.get_draft(draft.id)).id == draft.id

        # Delete, move to 是, Enter: gone from the table and from the server.
        await pilot.press("d")
        await pilot.press("shift+tab")
        assert app.focused is not None and app.focused.id == "yes"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "测试删除丁" not in _names(app)
        assert message(pilot, "#home-message").startswith("已删除 测试删除丁 的申请")
        with pytest.raises(NotFound):
            await api.get_draft(draft.id)
        assert draft.id not in [d.id for d in await api.list_drafts()]


async def test_delete_with_stale_version_is_refused_and_refreshes(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    from jiuzhutong.contract import DraftUpdate

    draft = await seed_draft(api, "测试并发戊")
    app = make_app()
    async with app.run_test() as pilot:
        await resume_home(pilot, demo_session)
        await _to_row(pilot, "测试并发戊")
        # Someone else saves the draft after this screen read it.
        await api.update_draft(draft.id, DraftUpdate(step="basic_info"), if_match=draft.version)
        await pilot.press("d", "left", "enter")  # ← to 是
        await settle(pilot)
        assert message(pilot, "#home-message").startswith("该申请刚被修改过，未删除")
        assert (await api.get_draft(draft.id)).version == draft.version + 1
        table = app.screen.query_one(DraftsTable)
        assert table.get_row(draft.id)[3] == "基本信息"  # the refreshed row


async def test_logout_returns_to_login(
    make_app: Callable[..., CounterApp], demo: DemoCredentials
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await open_home(pilot, demo.username, demo.password)
        token = app.client.token
        assert token is not None
        await pilot.press("f9")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert app.session is None and app.client.token is None
        assert app.focused is not None and app.focused.id == "username"
        # The old token is dead on the server, not just forgotten here.
        async with ApiClient(app.client.base_url, token=token) as stale:
            with pytest.raises(Unauthorized):
                await stale.me()


async def test_ctrl_q_at_home_ends_the_server_session(
    make_app: Callable[..., CounterApp], demo: DemoCredentials
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await open_home(pilot, demo.username, demo.password)
        token = app.client.token
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    async with ApiClient(app.client.base_url, token=token) as stale:
        with pytest.raises(Unauthorized):
            await stale.me()


async def test_empty_state(fake: FakeBackend) -> None:
    fake.drafts = []
    app = CounterApp(fake.client(), clock=fixed_clock())
    async with app.run_test() as pilot:
        await open_home(pilot, "demo", FAKE_PASSWORD)
        assert str(app.screen.query_one("#drafts-empty", Static).render()) == EMPTY
        assert app.screen.query_one("#drafts-empty").display
        assert not app.screen.query_one(DraftsTable).display
        await pilot.press("d")  # nothing to delete: no dialog
        assert isinstance(app.screen, HomeScreen)


async def test_expired_session_goes_back_to_login(fake: FakeBackend) -> None:
    app = CounterApp(fake.client(), clock=fixed_clock())
    async with app.run_test() as pilot:
        await open_home(pilot, "demo", FAKE_PASSWORD)
        assert isinstance(app.screen, HomeScreen)
        fake.token = "rotated"  # the server no longer knows our token
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert message(pilot, "#login-message") == SESSION_EXPIRED
        assert app.client.token is None


async def test_list_failure_is_shown_with_retry_hint(fake: FakeBackend) -> None:
    app = CounterApp(fake.client(), clock=fixed_clock())
    async with app.run_test() as pilot:
        await open_home(pilot, "demo", FAKE_PASSWORD)
        fake.override["/applications"] = lambda r: httpx.Response(502, text="<html>bad gw")
        await pilot.press("f5")
        await settle(pilot)
        assert message(pilot, "#home-message") == "服务返回错误（HTTP 502）（F5 重试）"
        assert len(_names(app)) == 3  # the last good list stays


async def test_home_help_lists_the_footer_keys(fake: FakeBackend) -> None:
    app = CounterApp(fake.client(), clock=fixed_clock())
    async with app.run_test() as pilot:
        await open_home(pilot, "demo", FAKE_PASSWORD)
        await pilot.press("f1")
        keys = str(app.screen.query_one("#help-keys", Static).render())
        for word in ("F5", "刷新", "删除", "F9", "注销", "Ctrl+Q"):
            assert word in keys
        assert "返回" not in keys  # greyed out on home: nothing to go back to
        await pilot.press("f1")  # F1 again closes
        assert isinstance(app.screen, HomeScreen)


# --- entries registry ----------------------------------------------------------------


class _FlowScreen(CounterScreen):
    def compose(self) -> ComposeResult:
        yield Static("流程", id="flow")


def test_no_entry_is_shown_before_its_flow_exists() -> None:
    # 最低生活保障申请 exists (issue 4); the others are not built yet and stay hidden.
    for role in Role:
        assert [e.key for e in entries.available(role)] == ["dibao"]
    titles = [e.title for e in entries.ENTRIES]
    assert titles == ["最低生活保障申请", "我的办件", "我要救助", "工作台"]


async def test_built_entries_show_by_role_and_open_their_screen(
    fake: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("counter_tui_test_flows")
    module._FlowScreen = _FlowScreen  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(
        entries,
        "ENTRIES",
        (
            entries.Entry("dibao", "最低生活保障申请", f"{module.__name__}:_FlowScreen"),
            entries.Entry("my_cases", "我的办件", None),
            entries.Entry("workbench", "工作台", "x:y", roles=entries.CASE_WORK_ROLES),
        ),
    )
    assert [e.key for e in entries.available(Role.clerk)] == ["dibao"]
    assert [e.key for e in entries.available(Role.county)] == ["dibao", "workbench"]

    fake.drafts = []
    app = CounterApp(fake.client(), clock=fixed_clock())
    async with app.run_test() as pilot:
        await open_home(pilot, "demo", FAKE_PASSWORD)  # a clerk
        options = app.screen.query_one("#entries")
        assert options.option_count == 1  # type: ignore[attr-defined]
        assert app.focused is options  # nothing else to do on an empty list
        await pilot.press("enter")
        assert isinstance(app.screen, _FlowScreen)
        await pilot.press("escape")  # back, never destructive
        assert isinstance(app.screen, HomeScreen)


async def test_enter_on_a_draft_continues_it_at_its_step(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    from counter_tui.screens.members import MembersScreen
    from jiuzhutong.contract import DraftUpdate

    draft = await seed_draft(api, "测试首页继续")
    await api.update_draft(
        draft.id, DraftUpdate(step="members", notice_version="v1"), if_match=draft.version
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await resume_home(pilot, demo_session)
        for _ in range(3):  # from the entries (if any) to the table
            if isinstance(app.focused, DraftsTable):
                break
            await pilot.press("tab")
        assert isinstance(app.focused, DraftsTable)
        await _to_row(pilot, "测试首页继续")
        legend = [b.description for (_, b, _, _) in app.screen.active_bindings.values() if b.show]
        assert "继续办理" in legend  # the Footer says what Enter does on the table
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, MembersScreen)
        assert app.screen.flow.draft_id == draft.id
