"""Login screen, driven by keys only against the real embedded server."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.embedded import DemoCredentials, free_port
from counter_tui.screens.home import HomeScreen
from counter_tui.screens.login import BAD_CREDENTIALS, LOCKED_OUT, UNREACHABLE, LoginScreen

from .fakes import FakeBackend
from .helpers import focused_id, login, message, settle, type_text


async def test_first_start_shows_demo_hint_and_logs_in_with_it(
    make_app: Callable[..., CounterApp], demo: DemoCredentials
) -> None:
    app = make_app(demo=demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LoginScreen)
        hint = str(app.screen.query_one("#demo-hint").render())
        assert f"示例账号 {demo.username} / 密码 {demo.password}" in hint
        assert focused_id(pilot) == "username"  # first empty field
        assert message(pilot, "#backend-status").startswith("服务已连接")
        # Thin clients: no blinking cursor anywhere, no animations.
        inputs = list(app.screen.query(Input))
        assert len(inputs) == 3 and not any(i.cursor_blink for i in inputs)
        assert app.animation_level == "none"
        await login(pilot, demo.username, demo.password)
        assert isinstance(app.screen, HomeScreen)
        assert app.session is not None and app.session.counter_id == "counter-1"
        assert app.session.staff.username == demo.username


async def test_no_hint_without_first_start_credentials(
    make_app: Callable[..., CounterApp],
) -> None:
    app = make_app()  # later starts: ensure-demo-staff said created=false
    async with app.run_test() as pilot:
        await settle(pilot)
        assert not app.screen.query("#demo-hint")


async def test_wrong_password_shows_error_and_keeps_username(
    make_app: Callable[..., CounterApp], demo: DemoCredentials
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot, demo.username, "wrong")
        assert isinstance(app.screen, LoginScreen)
        assert message(pilot, "#login-message") == BAD_CREDENTIALS
        # Password cleared, cursor back in it, username kept.
        assert focused_id(pilot) == "password"
        assert app.screen.query_one("#password").value == ""  # type: ignore[attr-defined]
        assert app.screen.query_one("#username").value == demo.username  # type: ignore[attr-defined]
        # Correcting the password is enough.
        await type_text(pilot, demo.password)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_too_many_attempts(make_app: Callable[..., CounterApp]) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await login(pilot, "locked-out", "x")
        assert message(pilot, "#login-message") == BAD_CREDENTIALS
        for _ in range(5):  # the test server locks after 3 failures (5 by default)
            await type_text(pilot, "x")
            await pilot.press("enter")
            await settle(pilot)
            if message(pilot, "#login-message") == LOCKED_OUT:
                break
        assert message(pilot, "#login-message") == LOCKED_OUT


async def test_counter_id_from_command_line_and_enter_walks_to_empty_fields(
    make_app: Callable[..., CounterApp], demo: DemoCredentials
) -> None:
    app = make_app(counter_id="window-07")
    async with app.run_test() as pilot:
        await settle(pilot)
        assert app.screen.query_one("#counter").value == "window-07"  # type: ignore[attr-defined]
        await type_text(pilot, demo.username)
        await pilot.press("enter")  # password still empty: Enter moves there
        assert focused_id(pilot) == "password"
        assert message(pilot, "#login-message") == ""
        await type_text(pilot, demo.password)
        await pilot.press("enter")  # all filled: submits from the password field
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.session is not None and app.session.counter_id == "window-07"


async def test_enter_in_last_field_names_the_missing_one(
    make_app: Callable[..., CounterApp],
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("tab", "tab", "enter")  # Enter in 窗口编号 with nothing typed
        assert message(pilot, "#login-message") == "请输入用户名"
        assert focused_id(pilot) == "username"


async def test_unreachable_backend() -> None:
    # A port nobody listens on: connect errors, retried, then a clear message.
    client = ApiClient(f"http://127.0.0.1:{free_port()}", retry_delays=(0.0, 0.0))
    app = CounterApp(client, backend_label="测试服务")
    async with app.run_test() as pilot:
        await settle(pilot)
        assert message(pilot, "#backend-status").startswith(UNREACHABLE)
        await login(pilot, "demo", "x")
        assert message(pilot, "#login-message") == UNREACHABLE
        assert isinstance(app.screen, LoginScreen)


async def test_help_opens_with_f1_and_closes_with_esc(
    make_app: Callable[..., CounterApp],
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert type(app.screen).__name__ == "HelpScreen"
        keys = str(app.screen.query_one("#help-keys").render())
        assert "F5" in keys and "刷新" in keys and "Ctrl+Q" in keys
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert focused_id(pilot) == "username"  # focus returns where it was


async def test_ctrl_q_quits(make_app: Callable[..., CounterApp]) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0


async def test_esc_on_login_keeps_what_was_typed(fake: FakeBackend) -> None:
    app = CounterApp(fake.client())
    async with app.run_test() as pilot:
        await settle(pilot)
        await type_text(pilot, "demo")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        assert app.screen.query_one("#username", Input).value == "demo"
        assert focused_id(pilot) == "username"
