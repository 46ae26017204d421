"""确认 dialog for destructive actions: 否 is the default, Esc means 否."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from counter_tui.screens.base import CounterModal


class ConfirmScreen(CounterModal[bool]):
    """Returns True only when the clerk moves to 是 and presses Enter (or clicks it)."""

    CSS_PATH = "../styles/dialogs.tcss"
    HELP_TITLE = "确认"
    HELP = "Tab 或 ←/→ 在“是”和“否”之间切换，Enter 确定；Esc 即为“否”。"
    BINDINGS: ClassVar[list[BindingType]] = [
        # A bare Esc waits ~100 ms over slow links to be told apart from a key sequence;
        # it can only ever mean 否 here, so a late Esc never deletes anything.
        Binding("escape", "answer(False)", "否", key_display="Esc"),
        Binding("n", "answer(False)", show=False),
        Binding("left", "app.focus_previous", show=False),
        Binding("right", "app.focus_next", show=False),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self._question = question
        self._detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog", classes="dialog"):
            yield Static(self._question, classes="dialog-title", markup=False)
            if self._detail:
                yield Static(self._detail, id="confirm-detail", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("是", id="yes", compact=True)
                yield Button("否", id="no", compact=True)
            yield Static("默认“否”；Tab 切换，Enter 确定", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
