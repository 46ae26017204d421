"""What every full screen of the app shares: the stable keys of the Footer, help text slots."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.screen import Screen


class CounterScreen(Screen[None]):
    """Base of the app's full screens. Subclasses set HELP_TITLE/HELP for the F1 page.

    F1 and Esc are bound here rather than on the App so they lead the Footer on every
    screen, in the same place (the 3270 habit UX.md asks for). Esc 返回 only ever pops a
    screen that was pushed on top of another; where there is nothing to go back to it is
    shown greyed out, so the legend never moves and Esc never does anything destructive.
    """

    HELP_TITLE: ClassVar[str] = "帮助"
    HELP: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "帮助", key_display="F1"),
        Binding("escape", "back", "返回", key_display="Esc"),
    ]

    def _can_go_back(self) -> bool:
        # The bottom of the stack is Textual's default screen; above it sits the login or
        # home screen, which has nothing behind it.
        stack = self.app.screen_stack
        return self in stack and stack.index(self) >= 2

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return True if self._can_go_back() else None
        return True

    def action_back(self) -> None:
        """Leave this screen. Screens holding unsaved input override this to save first."""
        if self._can_go_back():
            self.dismiss(None)
