"""授权签名: every person in the household authorizes the economic check.

The status board lists one row per person (姓名, 关系, 方式, 状态 as symbol and word), repainted
live from the application's SSE stream: a worker relays it (counter_tui.screens.live) as one
``LiveEvent`` message per event, which repaints that row; after a reconnect the whole board is
read again, to be safe.

Enter (去授权) on a row asks 本机授权 or 远程授权:

- 本机授权: the clerk checks the person's ID card in person (现场核验身份证) or uses the
  counter face provider (人脸核验), then the counter signature provider captures the signature.
- 远程授权: a single-use link as a QR code (dark on light, quiet zone), with the short code
  and the expiry countdown beneath; r 重新生成 makes a new link (the old one stops working).

下一步 (F10) only when every row shows ✓ 已授权.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from counter_tui.errors import ClientError
from counter_tui.flow import FLOW_CSS, FlowScreen
from counter_tui.screens.live import LiveEvent, StreamReconnected, StreamState, relay
from counter_tui.widgets.qr_code import QrCode
from counter_tui.widgets.status_board import StatusBoard
from jiuzhutong.contract.authorization import (
    AuthorizationOut,
    AuthState,
    EventType,
    IdentityCheck,
    LocalIdentityIn,
    RemoteLinkOut,
)

AUTH_CSS = Path(__file__).parent.parent / "styles" / "authorization.tcss"

LOCAL = "本机授权"
REMOTE = "远程授权"
HINT = "选择人员后按 Enter 去授权（本机授权 或 远程授权）；全部“✓ 已授权”后按 F10 下一步。"
ALL_DONE = "✓ 全部已授权，按 F10 下一步"
NOT_ALL = "尚有人员未授权，全部“✓ 已授权”后才能下一步"
LIVE_LOST = "实时状态连接中断，正在重连…"


class ChoiceScreen(ModalScreen[str | None]):
    """A small list of choices: ↑↓ and Enter picks, Esc cancels (never destructive)."""

    CSS_PATH = AUTH_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "取消", key_display="Esc"),
    ]

    def __init__(self, title: str, choices: list[str]) -> None:
        super().__init__()
        self._title = title
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-dialog"):
            yield Static(self._title, id="choice-title", markup=False)
            yield OptionList(*(Option(c, id=c) for c in self._choices), id="choice-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class AuthorizationScreen(FlowScreen):
    STEP = "authorization"
    CSS_PATH: ClassVar[list[str | Path]] = [FLOW_CSS, AUTH_CSS]  # type: ignore[misc]
    HELP_TITLE = "授权签名"
    HELP = (
        "家庭中每个人都要授权核对经济状况：先核验身份（人脸或现场核验身份证），再签名。\n"
        "↑↓ 选择人员，Enter 去授权：本机授权（本人在窗口）或 远程授权（手机扫码）。\n"
        "远程授权显示二维码、短码和剩余有效时间；r 重新生成链接（旧链接随即失效）。\n"
        "状态随手机端操作实时更新；F5 重新读取。全部“✓ 已授权”后 F10 下一步；Esc 回到家庭成员。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "authorize", "去授权", key_display="Enter"),
        Binding("r", "regenerate", "重新生成", key_display="r"),
    ]

    def __init__(self, flow=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(flow)
        self.links: dict[str, RemoteLinkOut] = {}
        self.live = False
        self.last_seq: int | None = None

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="auth-body"):
            with Vertical(id="auth-left"):
                yield StatusBoard(id="auth-board")
                yield Static(HINT, id="auth-hint", markup=False)
            with Vertical(id="auth-right"):
                yield QrCode(id="auth-qr")
                yield Static("", id="auth-detail", markup=False)

    def on_mount(self) -> None:
        # The nested containers' children mount after the screen: start once they are there.
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        self.qr.display = False
        self.board.focus()
        self._load(start_stream=True)
        self.set_interval(1.0, self._tick)

    @property
    def board(self) -> StatusBoard:
        return self.query_one("#auth-board", StatusBoard)

    @property
    def qr(self) -> QrCode:
        return self.query_one("#auth-qr", QrCode)

    # --- reading ------------------------------------------------------------------------

    @work(exclusive=True, group="auth-load")
    async def _load(self, start_stream: bool = False) -> None:
        draft_id = self.flow.draft_id
        if draft_id is None:
            return
        try:
            board = await self.app.client.get_authorizations(draft_id)
        except ClientError as exc:
            self.show_client_error(exc, "读取授权状态失败：")
            return
        self.board.load(board.persons)
        self._show_selected()
        if start_stream:
            self._stream(draft_id, board.last_event_seq)

    @work(exclusive=True, group="auth-sse")
    async def _stream(self, draft_id: str, last_seq: int) -> None:
        try:
            await relay(self, draft_id, last_seq)
        except ClientError as exc:
            self.live = False
            self.show_client_error(exc, "实时状态不可用：")

    @on(LiveEvent)
    def _event(self, message: LiveEvent) -> None:
        event = message.event
        self.last_seq = event.seq
        if event.type != EventType.authorization:
            return
        if event.data.get("removed"):
            self._load()
            return
        try:
            row = AuthorizationOut.model_validate(event.data)
        except ValueError:
            self._load()
            return
        self._apply(row)

    @on(StreamReconnected)
    def _reconnected(self) -> None:
        self._load()

    @on(StreamState)
    def _stream_state(self, message: StreamState) -> None:
        was = self.live
        self.live = message.connected
        if was and not message.connected:
            self.message.show(LIVE_LOST, "error")
        elif not was and message.connected and self.message.text == LIVE_LOST:
            self.message.show("实时状态已恢复", "ok")

    def _apply(self, row: AuthorizationOut) -> None:
        if not self.board.update_person(row):
            self._load()
            return
        if row.state == AuthState.authorized:
            self.links.pop(row.person_id, None)
        self._show_selected()

    # --- showing ------------------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        person = self.board.selected
        link = self.links.get(person.person_id) if person else None
        qr = self.qr
        detail = self.query_one("#auth-detail", Static)
        if person is not None and link is not None and person.state != AuthState.authorized:
            if qr.data != link.url:
                qr.show(link.url, link.short_code, link.expires_at, self.app.clock.now())
            qr.display = True
            detail.update(f"{person.name}：请用手机扫码授权")
        else:
            qr.display = False
            detail.update(self._detail(person) if person else "")
        hint = self.query_one("#auth-hint", Static)
        hint.update(ALL_DONE if self.board.all_authorized else HINT)
        self.refresh_bindings()

    @staticmethod
    def _detail(p: AuthorizationOut) -> str:
        lines = [f"{p.name}（{p.relation.value}）", f"状态：{p.state.value}"]
        if p.identity_check is not None:
            lines.append(f"身份核验：{p.identity_check.value}")
        if p.signer_name:
            lines.append(f"签名人：{p.signer_name}")
        if p.reason:
            lines.append(f"原因：{p.reason}")
        return "\n".join(lines)

    def _tick(self) -> None:
        if self.qr.display:
            self.qr.tick(self.app.clock.now())

    # --- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_step":
            return True if self.board.all_authorized else None
        if action == "regenerate":
            person = self.board.selected
            return True if person is not None and person.person_id in self.links else None
        return super().check_action(action, parameters)

    def action_next_step(self) -> None:
        if not self.board.all_authorized:
            self.message.show(NOT_ALL, "error")
            return
        super().action_next_step()

    def action_refresh(self) -> None:
        self._load()

    def action_authorize(self) -> None:
        person = self.board.selected
        if person is None:
            return
        if person.state == AuthState.authorized:
            self.message.show(f"{person.name} 已授权", "ok")
            return

        def chosen(choice: str | None) -> None:
            if choice == LOCAL:
                self._ask_identity(person)
            elif choice == REMOTE:
                self._remote(person)

        self.app.push_screen(ChoiceScreen(f"去授权：{person.name}", [LOCAL, REMOTE]), chosen)

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.action_authorize()

    def action_regenerate(self) -> None:
        person = self.board.selected
        if person is not None:
            self._remote(person)

    def _ask_identity(self, person: AuthorizationOut) -> None:
        def chosen(choice: str | None) -> None:
            if choice is not None:
                self._local(person, IdentityCheck(choice))

        choices = [IdentityCheck.id_card.value, IdentityCheck.face.value]
        self.app.push_screen(ChoiceScreen(f"本机授权：{person.name}", choices), chosen)

    @work(exclusive=True, group="auth-action")
    async def _local(self, person: AuthorizationOut, check: IdentityCheck) -> None:
        draft_id = self.flow.draft_id
        if draft_id is None:
            return
        client = self.app.client
        self.message.show(f"{person.name}：{check.value}…", "ok")
        try:
            row = await client.local_identity(
                draft_id, person.person_id, LocalIdentityIn(check=check)
            )
            if not self.live:
                self._apply(row)
            if row.state != AuthState.face_passed:
                self.message.show(f"{person.name}：{row.reason or row.state.value}", "error")
                return
            row = await client.local_signature(draft_id, person.person_id)
        except ClientError as exc:
            self.show_client_error(exc, f"{person.name} 本机授权失败：")
            return
        if not self.live:  # no stream to repaint the row: use the answer
            self._apply(row)
        self.links.pop(person.person_id, None)
        self.message.show(f"{person.name}：{row.state.value}", "ok")

    @work(exclusive=True, group="auth-action")
    async def _remote(self, person: AuthorizationOut) -> None:
        draft_id = self.flow.draft_id
        if draft_id is None:
            return
        try:
            link = await self.app.client.create_link(draft_id, person.person_id)
        except ClientError as exc:
            self.show_client_error(exc, f"{person.name} 生成远程授权链接失败：")
            return
        self.links[person.person_id] = link
        self.qr.data = None  # repaint with the new link even for the same person
        self._show_selected()
        self.message.show(f"{person.name}：远程授权链接已生成", "ok")
