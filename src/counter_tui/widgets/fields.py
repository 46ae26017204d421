"""Form fields tuned for thin clients over SSH (UX.md, "Thin clients").

A blinking cursor repaints twice a second (~2 KB/s on an idle screen) and Textual's tall
bordered Input costs ~4x the bytes per keystroke of a one-line field, so every input in the
app is this one-line, non-blinking field. Its look is in styles/app.tcss.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Input


class Field(Input):
    """A one-line Input with the cursor blink off."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_blink = False  # before mount, so no blink timer ever runs

    @property
    def is_empty(self) -> bool:
        # A password of spaces is still a password; other fields are trimmed when read.
        return self.value == "" if self.password else not self.value.strip()
