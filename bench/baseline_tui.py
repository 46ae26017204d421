"""The start-up baseline of bench/tui.py: a bare Textual app with one Input and a Footer.

Nothing of counter-tui is imported; it shows ``MARKER`` (the text bench/tui.py waits for) as
the Input's placeholder, the cursor blink is off like counter-tui's fields, and Ctrl+Q quits.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer, Input

MARKER = "基准输入"


class BaselineApp(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = [("ctrl+q", "quit", "退出")]

    def compose(self) -> ComposeResult:
        field = Input(placeholder=MARKER)
        field.cursor_blink = False
        yield field
        yield Footer()


if __name__ == "__main__":
    BaselineApp().run()
