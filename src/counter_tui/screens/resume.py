"""继续填写 / 重新开始: the resident already has an unfinished application.

Mirrors the mini-program's prompt after 我已阅读并承诺. 继续填写 is focused first (it loses
nothing); 重新开始 deletes the old draft, and the caller asks once more before it does;
Esc means neither and goes back to the form.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from counter_tui.clock import Clock
from counter_tui.labels import step_name
from counter_tui.screens.base import CounterModal
from counter_tui.widgets.id_input import masked
from jiuzhutong.contract import DraftOut

ResumeChoice = Literal["continue", "restart"]


def describe_draft(draft: DraftOut, clock: Clock) -> str:
    who = f"{draft.applicant.name}（{masked(draft.applicant.id_number)}）"
    return (
        f"{who}已有未完成的申请：\n"
        f"进行到「{step_name(draft.step)}」，家庭成员 {len(draft.members)} 人，"
        f"最后保存 {clock.stamp(draft.updated_at)}。"
    )


class ResumeScreen(CounterModal[ResumeChoice | None]):
    CSS_PATH: ClassVar[list[str]] = ["../styles/dialogs.tcss", "../styles/flow.tcss"]
    HELP_TITLE = "未完成的申请"
    HELP = (
        "继续填写：打开原申请，回到上次的步骤，已填内容都在。\n"
        "重新开始：删除原申请后新建（删除前会再确认一次）。\n"
        "Tab 或 ←/→ 切换，Enter 确定；Esc 返回，不做任何改动。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "choose(None)", "返回", key_display="Esc"),
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    def __init__(self, draft: DraftOut, clock: Clock) -> None:
        super().__init__()
        self.draft = draft
        self._clock = clock

    def compose(self) -> ComposeResult:
        with Vertical(id="resume-dialog", classes="dialog"):
            yield Static("该申请人有未完成的申请", classes="dialog-title", markup=False)
            yield Static(describe_draft(self.draft, self._clock), id="resume-detail", markup=False)
            with Horizontal(id="resume-buttons", classes="dialog-buttons"):
                yield Button("继续填写", id="continue", compact=True)
                yield Button("重新开始", id="restart", compact=True)
            yield Static("Tab 切换，Enter 确定；Esc 返回", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#continue", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        choice: ResumeChoice = "continue" if event.button.id == "continue" else "restart"
        self.dismiss(choice)

    def action_choose(self, choice: ResumeChoice | None) -> None:
        self.dismiss(choice)
