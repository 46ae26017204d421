"""One line of feedback under a form or table: progress, success or error.

Colour never carries the meaning alone (16-colour terminals, light themes): every kind has
its own leading symbol and word, and the colour only repeats it.
"""

from __future__ import annotations

from typing import Literal

from textual.widgets import Static

Kind = Literal["info", "ok", "error"]
_SYMBOL: dict[Kind, str] = {"info": "", "ok": "✓ ", "error": "✗ "}


class MessageLine(Static):
    """Shows one message; user text in it is never parsed as markup."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.text = ""
        self.kind: Kind = "info"

    def show(self, text: str, kind: Kind = "info") -> None:
        self.text = text
        self.kind = kind
        for k in _SYMBOL:
            self.set_class(k == kind and bool(text), f"-{k}")
        self.update(f"{_SYMBOL[kind]}{text}" if text else "")

    def clear(self) -> None:
        self.show("")
