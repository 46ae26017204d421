"""已保存 hh:mm:ss: what the autosave did last, always in words (UX.md, "Forms")."""

from __future__ import annotations

from typing import Literal

from textual.widgets import Static

SaveState = Literal["idle", "pending", "saving", "saved", "queued", "error"]

_SYMBOL: dict[SaveState, str] = {
    "idle": "",
    "pending": "… ",
    "saving": "… ",
    "saved": "✓ ",
    "queued": "✗ ",
    "error": "✗ ",
}


class SaveStatus(Static):
    """Right-aligned status of the current draft's saving; text is never markup."""

    def __init__(self, *, id: str | None = "save-status") -> None:
        super().__init__("", id=id, markup=False)
        self.state: SaveState = "idle"
        self.text = ""

    def show(self, state: SaveState, text: str) -> None:
        if (state, text) == (self.state, self.text):
            return
        self.state = state
        self.text = text
        for s in _SYMBOL:
            self.set_class(s == state, f"-{s}")
        # Fixed width (flow.tcss): a new status repaints one line, never the layout.
        self.update(f"{_SYMBOL[state]}{text}" if text else "", layout=False)
