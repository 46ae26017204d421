"""The 远程授权 QR code: half blocks, dark modules on a light background whatever the theme.

``qr_half_blocks`` draws the dark modules as the glyph (foreground), so the widget styles its
text explicitly black on white: an inverted code (light on dark, as a dark terminal theme
would give) fails many phone scanners. The 4-module quiet zone is part of the matrix. A
version 3 code is 37×19 cells, which fits 80×24 beside the status list. Beneath it: the short
code for typing in by hand and the expiry countdown, on one line so 80×24 still fits.

The encoder (segno) is imported when the first code is drawn, not when the board opens.
"""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

# Explicit colours, never theme variables: the code must read the same in every theme.
# Hex, not the ANSI names: Textual maps ANSI "black"/"white" through the theme's palette.
QR_STYLE = Style(color="#000000", bgcolor="#ffffff")


def qr_lines(data: str) -> list[str]:
    from counter_tui.qr import qr_half_blocks, qr_matrix

    return qr_half_blocks(qr_matrix(data))


def qr_text(data: str, lines: list[str] | None = None) -> Text:
    if lines is None:
        lines = qr_lines(data)
    return Text("\n".join(lines), style=QR_STYLE, no_wrap=True, overflow="crop")


def countdown(expires_at: datetime, now: datetime) -> str:
    """剩mm:ss until the link expires, or 已过期."""
    left = int((expires_at - now).total_seconds())
    if left <= 0:
        return "已过期"
    return f"剩{left // 60:02d}:{left % 60:02d}"


class QrCode(Vertical):
    """The code, then "短码 <token> 剩mm:ss" beneath it."""

    DEFAULT_CSS = """
    QrCode { width: auto; height: auto; }
    QrCode > #qr-image { width: auto; height: auto; color: #000000; background: #ffffff; }
    QrCode > #qr-caption { width: 37; height: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.data: str | None = None
        self.short_code = ""
        self.expires_at: datetime | None = None
        self._caption = ""
        self.lines: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="qr-image", markup=False)
        yield Static("", id="qr-caption", markup=False)

    def show(self, data: str, short_code: str, expires_at: datetime, now: datetime) -> None:
        self.data = data
        self.short_code = short_code
        self.expires_at = expires_at
        self.lines = qr_lines(data)
        self.query_one("#qr-image", Static).update(qr_text(data, self.lines))
        self._caption = ""
        self.tick(now)

    def caption(self, now: datetime) -> str:
        if self.expires_at is None:
            return ""
        return f"短码 {self.short_code} {countdown(self.expires_at, now)}"

    def tick(self, now: datetime) -> None:
        """Repaint the countdown only when its text changes (an idle screen sends nothing)."""
        text = self.caption(now)
        if text != self._caption:
            self._caption = text
            # One fixed line (37×1): no re-layout for the countdown.
            self.query_one("#qr-caption", Static).update(text, layout=False)
