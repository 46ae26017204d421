"""What every full screen of the app shares: the stable keys of the Footer, help text slots."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.binding import Binding, BindingType
from textual.reactive import Reactive
from textual.screen import ModalScreen, Screen
from textual.widget import Widget

ResultType = TypeVar("ResultType")

# Textual's Screen.focused is a repainting reactive: every focus change repaints the whole
# screen (all 24 rows, ~5 KB per Tab over SSH) although only the two fields and their labels
# change, and those repaint themselves when their styles change. The same reactive without
# the repaint (its watcher still refreshes the bindings): CounterScreen and CounterModal.


class CounterScreen(Screen[None]):
    """Base of the app's full screens. Subclasses set HELP_TITLE/HELP for the F1 page.

    F1 and Esc are bound here rather than on the App so they lead the Footer on every
    screen, in the same place (the 3270 habit UX.md asks for). Esc 返回 only ever pops a
    screen that was pushed on top of another; where there is nothing to go back to it is
    shown greyed out, so the legend never moves and Esc never does anything destructive.
    """

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)  # see above

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


class CounterModal(ModalScreen[ResultType]):
    """Base of the app's dialogs: a focus change repaints only what changed (see above)."""

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
