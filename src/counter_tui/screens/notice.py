"""告知书: the full notice from GET /notice; 我已阅读并承诺 once it was read.

The text wraps to the screen and scrolls by keys (↓/↑, PageDown/PageUp, 空格, End/Home).
我已阅读并承诺 (F10, or Enter on the button) becomes available when the text has been
scrolled to its end, or when the clerk confirms with F6 that it was read aloud to the
resident (many applicants cannot read a screen across a counter). The notice version goes
on the draft (DraftUpdate.notice_version) as soon as the draft exists.
"""

from __future__ import annotations

import re
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from counter_tui.errors import ClientError
from counter_tui.flow import NOTICE_READ_ALOUD, NOTICE_SCROLLED, FlowScreen
from jiuzhutong.contract.authorization import NoticeOut

ACCEPT = "我已阅读并承诺"
HINT = "请读到末尾（↓/PgDn/空格/End），或宣读后按 F6"
READ_TO_END = "已读到末尾，可按 F10 或 Enter「我已阅读并承诺」"
READ_ALOUD = "已记录：已向申请人宣读。可按 F10「我已阅读并承诺」"
NOT_YET = "请先读到告知书末尾，或向申请人宣读后按 F6"
LOADING = "正在获取告知书…"
# "1. 共同生活…": a terminal wraps at the space and leaves "1." alone on a line, since a run
# of CJK has no break opportunity before it. Display only: the recorded text is unchanged.
_ENUMERATOR_SPACE = re.compile(r"(?m)^(\s*\d+\.) (?=\S)")


def display_text(text: str) -> str:
    return _ENUMERATOR_SPACE.sub(r"\1", text)


class NoticeScreen(FlowScreen):
    STEP = "notice"
    HELP_TITLE = "告知书"
    HELP = (
        "请申请人阅读《告知书、申请授权及承诺书》全文。\n"
        "↓/↑ 逐行，PageDown/PageUp 或空格翻页，End 到末尾，Home 回到开头。\n"
        "读到末尾后，或工作人员已向申请人宣读并按 F6 确认后，\n"
        "按 F10（或 Enter）「我已阅读并承诺」进入下一步。Esc 回到首页。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f6", "read_aloud", "已宣读", key_display="F6"),
        Binding("f10", "next_step", ACCEPT, key_display="F10"),
        Binding("space", "page_down", show=False),
    ]

    def __init__(self, flow=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(flow)
        self.notice: NoticeOut | None = None
        self._text = ""
        self.read_to_end = False
        self.read_aloud = False

    def compose_body(self) -> ComposeResult:
        yield Static(LOADING, id="notice-title", markup=False)
        with VerticalScroll(id="notice-scroll"):
            yield Static("", id="notice-text", markup=False)
        with Horizontal(id="notice-actions"):
            yield Button(ACCEPT, id="accept", compact=True, disabled=True)
            yield Static(HINT, id="notice-hint", markup=False)

    def on_mount(self) -> None:
        # Back from 为谁申请: what was read (or read aloud) stays read.
        self.read_to_end = self.flow.notice_ack == NOTICE_SCROLLED
        self.read_aloud = self.flow.notice_ack == NOTICE_READ_ALOUD
        scroll = self.query_one("#notice-scroll", VerticalScroll)
        scroll.focus()
        self.watch(scroll, "scroll_y", self._scrolled, init=False)
        self.watch(scroll, "max_scroll_y", self._scrolled, init=False)
        if self.flow.notice is not None:
            self._show(self.flow.notice)
        else:
            self.load()

    # --- state ---------------------------------------------------------------------

    @property
    def available(self) -> bool:
        return self.notice is not None and (self.read_to_end or self.read_aloud)

    def _show(self, notice: NoticeOut) -> None:
        self.notice = notice
        text = notice.text
        first, _, rest = text.partition("\n")
        if first.strip() == notice.title.strip():
            text = rest.lstrip("\n")
        self.query_one("#notice-title", Static).update(f"{notice.title}（{notice.version}）")
        self._text = display_text(text)
        self.query_one("#notice-text", Static).update(self._text)
        self.message.clear()
        if self.read_aloud:
            self._unlock(READ_ALOUD)
        elif self.read_to_end:
            self._unlock(READ_TO_END)
        # A screen tall enough for the whole text has nothing to scroll: check after layout.
        self.call_after_refresh(self._scrolled)
        self.refresh_bindings()

    def _scrolled(self, *_: object) -> None:
        if self.notice is None or self.read_to_end:
            return
        scroll = self.query_one("#notice-scroll", VerticalScroll)
        shown = self.query_one("#notice-text", Static)
        if shown.size.height <= self._text.rstrip("\n").count("\n"):
            return  # the text is not laid out yet: its wrapped lines cannot be fewer
        if scroll.scroll_y >= scroll.max_scroll_y:
            self.read_to_end = True
            self._unlock(READ_TO_END)

    def _unlock(self, text: str) -> None:
        self.query_one("#accept", Button).disabled = False
        self.query_one("#notice-hint", Static).update(text)
        self.refresh_bindings()

    # --- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_step":
            return True if self.available else None
        if action == "read_aloud":
            return True if self.notice is not None else None
        if action == "refresh":
            return True
        return super().check_action(action, parameters)

    def action_page_down(self) -> None:
        self.query_one("#notice-scroll", VerticalScroll).scroll_page_down(animate=False)

    def action_read_aloud(self) -> None:
        if self.notice is None:
            return
        self.read_aloud = True
        self._unlock(READ_ALOUD)

    def action_refresh(self) -> None:
        self.load()

    def action_next_step(self) -> None:
        if not self.available or self.notice is None:
            self.message.show(NOT_YET, "error")
            return
        self.flow.notice = self.notice
        self.flow.accept_notice(NOTICE_READ_ALOUD if self.read_aloud else NOTICE_SCROLLED)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "accept":
            self.action_next_step()

    # --- work ----------------------------------------------------------------------

    @work(exclusive=True, group="notice")
    async def load(self) -> None:
        self.message.show(LOADING)
        try:
            notice = await self.app.client.get_notice()
        except ClientError as exc:
            self.show_client_error(exc, "无法获取告知书：")
            if self.message.text:
                self.message.show(f"{self.message.text}（F5 重试）", "error")
            return
        self.flow.notice = notice
        self._show(notice)
