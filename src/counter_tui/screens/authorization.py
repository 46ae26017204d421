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

Opened by the flow (家庭成员's 下一步, Esc from 经济状况), the board is read before anything is
painted (``prepare``): the first frame already has every row, the hint and the footer, and the
event stream connects only after it (from the board's seq, so nothing is missed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.widgets import DataTable, Footer, OptionList, Static
from textual.widgets.option_list import Option

from counter_tui.errors import ClientError
from counter_tui.flow import FlowScreen
from counter_tui.screens.base import CounterModal
from counter_tui.screens.live import LiveEvent, StreamReconnected, StreamState, relay
from counter_tui.widgets.qr_code import QrCode
from counter_tui.widgets.status_board import StatusBoard
from jiuzhutong.contract.authorization import (
    AuthorizationBoard,
    AuthorizationOut,
    AuthState,
    EventType,
    IdentityCheck,
    LocalIdentityIn,
    RemoteLinkOut,
)

AUTH_CSS = Path(__file__).parent.parent / "styles" / "authorization.tcss"
# The screens' own rules as default CSS: a new CSS_PATH makes Textual re-parse every stylesheet
# of the app and restyle every widget when the screen is first shown (~20 ms); default CSS is
# parsed once and applied to these screens only. Nothing else in the app styles these ids.
_AUTH_RULES = AUTH_CSS.read_text(encoding="utf-8")

LOCAL = "本机授权"
REMOTE = "远程授权"
HINT = "选择人员后按 Enter 去授权（本机授权 或 远程授权）；全部“✓ 已授权”后按 F10 下一步。"
ALL_DONE = "✓ 全部已授权，按 F10 下一步"
NOT_ALL = "尚有人员未授权，全部“✓ 已授权”后才能下一步"
LIVE_LOST = "实时状态连接中断，正在重连…"


class ChoiceScreen(CounterModal[str | None]):
    """A small list of choices: ↑↓ and Enter picks, Esc cancels (never destructive)."""

    DEFAULT_CSS = _AUTH_RULES
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
    DEFAULT_CSS = _AUTH_RULES
    AUTO_FOCUS = "#auth-board"
    HELP_TITLE = "授权签名"
    HELP = (
        "家庭中每个人都要授权核对经济状况：先核验身份（人脸或现场核验身份证），再签名。\n"
        "↑↓ 选择人员，Enter 去授权：本机授权（本人在窗口）或 远程授权（手机扫码）。\n"
        "远程授权显示二维码、短码和剩余有效时间；r 重新生成链接（旧链接随即失效）。\n"
        "状态随手机端操作实时更新；F5 重新读取。全部“✓ 已授权”后 F10 下一步；Esc 回到家庭成员。"
    )
    # Enter on the board is the board's own (a selected row: _selected); the footer never
    # showed this one while the board has the focus, so it is not shown at all: the legend is
    # then the same with and without focus, and the footer is built once, with the screen.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "authorize", "去授权", key_display="Enter", show=False),
        Binding("r", "regenerate", "重新生成", key_display="r"),
    ]

    def __init__(self, flow=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(flow)
        self.links: dict[str, RemoteLinkOut] = {}
        self.live = False
        self.last_seq: int | None = None
        self._composed = asyncio.Event()  # the board and its neighbours are mounted
        self._held = False  # ApplicationFlow.open holds the first frame for the first read
        self._read_once = False  # a read has been shown (or its failure)
        self._painted = False  # the first frame with the board is out: the stream may start
        self._stream_from: int | None = None  # the first read's last_event_seq
        self._streaming = False
        self._shown: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, Footer):
                # The legend is known before the footer mounts (this screen's and the app's
                # keys): telling it now builds it with the screen, not a frame later.
                widget.bindings_changed(self)
            yield widget

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="auth-body"):
            with Vertical(id="auth-left"):
                yield StatusBoard(id="auth-board")
                yield Static(HINT, id="auth-hint", markup=False)
            with Vertical(id="auth-right"):
                yield QrCode(id="auth-qr")
                yield Static("", id="auth-detail", markup=False)

    def prepare(self) -> Awaitable[None]:
        """ApplicationFlow.open paints nothing until this is done: the board read (one GET)
        and put on the screen, so the first frame already has every row."""
        self._held = True
        return self._read_first()

    async def _read_first(self) -> None:
        # Cancelled when the flow stops waiting (a slow line): first_frame_shown reads again.
        self._loaded(await self._read())

    def on_mount(self) -> None:
        # The nested containers' children mount after the screen: start once they are there.
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        self._composed.set()
        if not self._held:  # pushed directly: read now, paint as it comes
            self._painted = True
            self._load()
        self.set_interval(1.0, self._tick)

    def first_frame_shown(self) -> None:
        if not self.is_attached:  # left before it was painted
            return
        self._painted = True
        if not self._read_once:
            self._load()
        self._start_stream()

    @property
    def board(self) -> StatusBoard:
        return self.query_one("#auth-board", StatusBoard)

    @property
    def qr(self) -> QrCode:
        return self.query_one("#auth-qr", QrCode)

    # --- reading ------------------------------------------------------------------------

    @work(exclusive=True, group="auth-load")
    async def _load(self) -> None:
        self._loaded(await self._read())

    def _loaded(self, board: AuthorizationBoard | None) -> None:
        self._read_once = True
        if board is not None and not self._streaming:
            self._stream_from = board.last_event_seq
            # After the rows are painted: connecting (TLS context, request) would delay them.
            self.call_after_refresh(self._start_stream)

    async def _read(self) -> AuthorizationBoard | None:
        """Read the board and show it (None when it could not be read: the error is shown)."""
        draft_id = self.flow.draft_id
        if draft_id is None:
            return None
        try:
            board = await self.app.client.get_authorizations(draft_id)
        except ClientError as exc:
            await self._composed.wait()
            self.show_client_error(exc, "读取授权状态失败：")
            return None
        await self._composed.wait()
        with self.app.batch_update():
            self.board.load(board.persons)
            self._show_selected()
        return board

    def _start_stream(self) -> None:
        draft_id = self.flow.draft_id
        if self._streaming or not self._painted or self._stream_from is None or not draft_id:
            return
        self._streaming = True
        self._stream(draft_id, self._stream_from)

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
        """The right-hand side, the hint and the keys for the selected person; only what
        changed is repainted (the QR code and detail have fixed sizes: no re-layout)."""
        person = self.board.selected
        link = self.links.get(person.person_id) if person else None
        qr = self.qr
        if person is not None and link is not None and person.state != AuthState.authorized:
            if qr.data != link.url:
                qr.show(link.url, link.short_code, link.expires_at, self.app.clock.now())
            show_qr, detail = True, f"{person.name}：请用手机扫码授权"
        else:
            show_qr, detail = False, self._detail(person) if person else ""
        all_done = self.board.all_authorized
        hint = ALL_DONE if all_done else HINT
        shown = (show_qr, detail, hint)
        if shown != self._shown:
            before = self._shown or (False, "", HINT)
            self._shown = shown
            with self.app.batch_update():
                if qr.display != show_qr:
                    qr.display = show_qr
                if detail != before[1]:
                    self.query_one("#auth-detail", Static).update(detail)
                if hint != before[2]:
                    self.query_one("#auth-hint", Static).update(hint)
        self.refresh_bindings()  # the footer rebuilds only if 下一步 / 重新生成 changed

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
        if action in ("next_step", "regenerate"):
            try:
                board = self.board
            except NoMatches:  # the footer asks while the screen is still being built
                return None
            if action == "next_step":
                return True if board.all_authorized else None
            person = board.selected
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
