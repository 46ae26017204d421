"""登录: username, password, counter id; Enter submits once every field is filled."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Static

from counter_tui.errors import (
    BackendTimeout,
    BackendUnreachable,
    ClientError,
    InvalidRequest,
    TooManyAttempts,
    Unauthorized,
)
from counter_tui.screens.base import CounterScreen
from counter_tui.widgets.fields import Field
from counter_tui.widgets.message_line import MessageLine
from counter_tui.widgets.stable_footer import StableFooter

if TYPE_CHECKING:
    from counter_tui.app import CounterApp

BAD_CREDENTIALS = "用户名或密码错误"
LOCKED_OUT = "尝试次数过多，请稍后再试"
UNREACHABLE = "无法连接服务"

# Field id → what to ask for when it is empty on submit.
_REQUIRED = {
    "username": "请输入用户名",
    "password": "请输入密码",
    "counter": "请输入窗口编号",
}
_LABELS = {"username": "用户名", "password": "密码", "counter_id": "窗口编号"}


class LoginScreen(CounterScreen):
    CSS_PATH = "../styles/login.tcss"
    HELP_TITLE = "登录"
    HELP = (
        "输入用户名、密码和窗口编号后按 Enter 登录。\n"
        "Tab / Shift+Tab 在输入框之间移动；某项未填时 Enter 跳到该项。\n"
        "F5 检查与服务的连接。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "refresh", "刷新", key_display="F5"),
    ]

    app: CounterApp  # type: ignore[assignment]

    def __init__(self, message: str | None = None) -> None:
        super().__init__()
        self._initial_message = message
        self._busy = False

    def compose(self) -> ComposeResult:
        app = self.app
        yield Static(app.TITLE, id="title-bar", markup=False)
        with Vertical(id="login-box"):
            yield Static("柜台登录", id="login-title", markup=False)
            with Horizontal(classes="form-row"):
                yield Label("用户名", classes="field-label")
                yield Field(id="username", placeholder="工作人员账号")
            with Horizontal(classes="form-row"):
                yield Label("密码", classes="field-label")
                yield Field(id="password", password=True)
            with Horizontal(classes="form-row"):
                yield Label("窗口编号", classes="field-label")
                yield Field(id="counter", value=app.counter_id)
            yield MessageLine(id="login-message")
            if app.demo is not None:
                # Shown on the very first start only: the TUI never stores this password.
                yield Static(
                    f"首次启动 · 示例账号 {app.demo.username} / 密码 {app.demo.password}",
                    id="demo-hint",
                    markup=False,
                )
            yield MessageLine(id="backend-status")
        yield StableFooter()

    def on_mount(self) -> None:
        if self._initial_message:
            self._message.show(self._initial_message, "error")
        self._focus_first_empty()
        # After the first paint: the screen is there at once, the service's answer follows.
        self.call_after_refresh(self.check_backend)

    # --- helpers ---------------------------------------------------------------------

    @property
    def _message(self) -> MessageLine:
        return self.query_one("#login-message", MessageLine)

    def _fields(self) -> list[Field]:
        return [self.query_one(f"#{name}", Field) for name in _REQUIRED]

    def _first_empty(self) -> Field | None:
        return next((f for f in self._fields() if f.is_empty), None)

    def _focus_first_empty(self) -> None:
        (self._first_empty() or self.query_one("#username", Field)).focus()

    # --- keys ------------------------------------------------------------------------

    def on_input_submitted(self, event: Field.Submitted) -> None:
        event.stop()
        fields = self._fields()
        empty = self._first_empty()
        if empty is None:
            self.submit()
            return
        if fields.index(empty) < fields.index(event.input):  # type: ignore[arg-type]
            # Something before this field is missing: say so, don't just jump back.
            self._message.show(_REQUIRED[empty.id or ""], "error")
        empty.focus()

    def action_refresh(self) -> None:
        self.check_backend()

    # --- work ------------------------------------------------------------------------

    @work(exclusive=True, group="health")
    async def check_backend(self) -> None:
        status = self.query_one("#backend-status", MessageLine)
        label = self.app.backend_label
        try:
            await self.app.client.health()
        except ClientError:
            status.show(f"{UNREACHABLE}：{label}（F5 重试）", "error")
        else:
            status.show(f"服务已连接：{label}", "ok")

    def submit(self) -> None:
        if self._busy:
            return
        self._busy = True
        username, password, counter = (f.value for f in self._fields())
        # Names are trimmed; a password is taken exactly as typed.
        username, counter = username.strip(), counter.strip()
        self._message.show("正在登录…")
        self._login(username, password, counter)

    @work(exclusive=True, group="login")
    async def _login(self, username: str, password: str, counter_id: str) -> None:
        try:
            result = await self.app.client.login(username, password, counter_id)
        except ClientError as exc:
            self._busy = False
            self._show_failure(exc)
            return
        self._busy = False
        self.app.start_session(result.staff, counter_id, result.expires_at)

    def _show_failure(self, exc: ClientError) -> None:
        password = self.query_one("#password", Field)
        if isinstance(exc, Unauthorized):
            text = BAD_CREDENTIALS
            password.value = ""
        elif isinstance(exc, TooManyAttempts):
            text = LOCKED_OUT
            password.value = ""
        elif isinstance(exc, BackendUnreachable | BackendTimeout):
            text = UNREACHABLE
        elif isinstance(exc, InvalidRequest):
            # e.g. an overlong counter id: name the field, then the precise problem.
            text = "；".join(
                f"{_LABELS.get(item.field or '', '')}{item.message}" for item in exc.items
            )
        else:
            text = exc.message
        self._message.show(text, "error")
        self._focus_first_empty()
