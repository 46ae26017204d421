"""The counter App: login, then home; global keys; the session; the client's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.actions import SkipAction
from textual.app import App
from textual.binding import Binding, BindingType

from counter_tui.clock import Clock
from counter_tui.errors import ClientError, Unauthorized

if TYPE_CHECKING:
    # Annotations only: the client (httpx) and embedded are not needed to import the app.
    from counter_tui.client import ApiClient
    from counter_tui.embedded import DemoCredentials
    from jiuzhutong.contract import StaffOut

DEFAULT_COUNTER_ID = "counter-1"
SESSION_EXPIRED = "登录已过期，请重新登录"


@dataclass
class Session:
    """Who sits at this counter now."""

    staff: StaffOut
    counter_id: str
    expires_at: datetime


class CounterApp(App[None]):
    TITLE = "湖北救助通 · 柜台"
    CSS_PATH = "styles/app.tcss"
    # The command palette is English, mouse-first and one more thing to repaint: off.
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        # Shown by each screen (CounterScreen) so it leads the Footer; here for the rest.
        Binding("f1", "help", "帮助", key_display="F1", show=False),
        Binding("ctrl+q", "quit", "退出", key_display="Ctrl+Q", priority=True),
        # Priority, so the App moves focus in the order keys arrive. As ordinary bindings,
        # Tab reaches the App only after bubbling up from the focused Input, and type-ahead
        # that arrived in the same burst (a laggy SSH link, a paste) is already queued on
        # the old field: "王五<Tab>4201…" would end up all in the name field.
        Binding("tab", "app.focus_next", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", show=False, priority=True),
        # Enter that only moves to the next field of a form, for the same reason; any other
        # Enter (a form's last field, tables, lists, buttons) goes on as usual.
        Binding("enter", "app.enter_moves_on", show=False, priority=True),
    ]

    def __init__(
        self,
        client: ApiClient | Callable[[], ApiClient],
        *,
        counter_id: str = DEFAULT_COUNTER_ID,
        demo: DemoCredentials | None = None,
        clock: Clock | None = None,
        backend_label: str = "",
        theme: str | None = None,
        handle_signals: bool = False,
        data_dir: Path | None = None,
    ) -> None:
        super().__init__()
        # A factory defers building the client (httpx, the contract) until the first request,
        # which comes after the login screen is drawn.
        self._client: ApiClient | None = None
        self._make_client: Callable[[], ApiClient] | None = None
        if callable(client):  # ApiClient itself is not callable
            self._make_client = client
        else:
            self._client = client
        self.counter_id = counter_id
        self.demo = demo  # kept in memory only, to show on the login screen of this run
        self.clock = clock or Clock()
        self.backend_label = backend_label or (self._client.base_url if self._client else "")
        self.session: Session | None = None
        # Where the outbox and saved receipts live; None: the platform's user data dir.
        self.data_dir = data_dir
        self._handle_signals = handle_signals
        # Thin clients: no animations, whatever TEXTUAL_ANIMATIONS says.
        self.animation_level = "none"
        if theme:
            self.theme = theme

    # --- lifecycle -------------------------------------------------------------------

    def on_mount(self) -> None:
        if self._handle_signals:
            # SIGTERM (systemd, a closing SSH session's shell) ends the app the normal way,
            # so the caller's cleanup (logout, stopping the embedded server) runs.
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(sig, self.exit)
        self.show_login()

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            assert self._make_client is not None
            self._client = self._make_client()
        return self._client

    async def on_unmount(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def action_quit(self) -> None:
        # A shared counter PC: end the session on the server instead of leaving the token
        # valid until it idles out. Best effort and quick; quitting never waits on the net.
        if self._client is not None and self._client.logged_in:
            with contextlib.suppress(ClientError, TimeoutError):
                await asyncio.wait_for(self.client.logout(), timeout=2.0)
        self.exit()

    def action_help_quit(self) -> None:
        # Textual's Ctrl+C hint is in English; clerks read Chinese.
        self.notify("按 Ctrl+Q 退出", timeout=3)

    def _enter_moves_on(self) -> bool:
        focused = self.focused
        moves_on = getattr(self.screen, "enter_moves_on", None)
        return focused is not None and moves_on is not None and bool(moves_on(focused))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False, not None: an inactive Enter binding must not hide the screen's own Enter
        # (去授权, 返回首页 …) from the Footer, which a priority binding would otherwise do.
        if action == "enter_moves_on":
            return self._enter_moves_on()
        return super().check_action(action, parameters)

    def action_enter_moves_on(self) -> None:
        if not self._enter_moves_on():
            raise SkipAction()  # the key goes on to the focused widget and the screen
        self.screen.focus_next()

    def action_help(self) -> None:
        from counter_tui.screens.help import HelpScreen

        self.push_screen(HelpScreen.for_screen(self.screen))

    # --- navigation ------------------------------------------------------------------

    def show_login(self, message: str | None = None) -> None:
        from counter_tui.screens.login import LoginScreen

        self.session = None
        screen = LoginScreen(message=message)
        if len(self.screen_stack) <= 1:
            self.push_screen(screen)
        else:
            # Drop whatever was above the base screen (dialogs of an expired session).
            while len(self.screen_stack) > 2:
                self.pop_screen()
            self.switch_screen(screen)

    def start_session(self, staff: StaffOut, counter_id: str, expires_at: datetime) -> None:
        from counter_tui.autosave import replay
        from counter_tui.screens.home import HomeScreen

        self.session = Session(staff=staff, counter_id=counter_id, expires_at=expires_at)
        self.switch_screen(HomeScreen())
        # What a killed run left for this clerk goes out now, not only when a flow opens.
        replay(self)

    async def end_session(self) -> None:
        """注销: end the session on the server, then back to the login screen."""
        # The token is dropped locally anyway; a session the server missed idles out.
        with contextlib.suppress(ClientError):
            await self.client.logout()
        self.show_login()

    def explain(self, error: ClientError) -> str | None:
        """The message a screen shows for an error, or None when the app took over: an
        expired session goes back to the login screen instead of failing on every key."""
        if isinstance(error, Unauthorized) and self.session is not None:
            self.client.forget_session()
            self.show_login(SESSION_EXPIRED)
            return None
        return error.message
