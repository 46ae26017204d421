"""F1 帮助: what the current screen is for and which keys work on it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from counter_tui.screens.base import CounterModal


class HelpScreen(CounterModal[None]):
    CSS_PATH = "../styles/dialogs.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "返回", key_display="Esc"),
        Binding("f1", "close", "关闭帮助", key_display="F1", show=False),
        Binding("enter", "close", show=False),
    ]

    def __init__(self, title: str, text: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self._title = title
        self._text = text
        self._keys = keys

    @classmethod
    def for_screen(cls, screen: Screen) -> HelpScreen:
        """Help for ``screen``: its HELP text plus the keys active on it right now, so the
        list can never disagree with the Footer."""
        app = screen.app
        keys: list[tuple[str, str]] = []
        seen: set[str] = set()
        seen.add("help")  # the key that opened this page
        for active in screen.active_bindings.values():
            binding = active.binding
            if not active.enabled:
                continue  # greyed out in the Footer: nothing to explain here
            # Only what the Footer shows: widgets' own keys (cursor movement) are English
            # and self-evident.
            action = binding.action.removeprefix("app.")
            if not binding.show or not binding.description or action in seen:
                continue
            seen.add(action)
            keys.append((app.get_key_display(binding), binding.description))
        title = getattr(screen, "HELP_TITLE", "帮助")
        text = getattr(screen, "HELP", "")
        return cls(title, text, keys)

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self._keys), default=0)
        lines = [f"{key:<{width}}  {what}" for key, what in self._keys]
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static(f"帮助 · {self._title}", classes="dialog-title", markup=False)
            if self._text:
                yield Static(self._text, id="help-text", markup=False)
            yield Static("\n".join(lines), id="help-keys", markup=False)
            yield Static("按 Esc、Enter 或 F1 关闭", classes="dialog-hint", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
