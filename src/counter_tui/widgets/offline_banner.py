"""The banner shown while the service cannot be reached and edits wait in the outbox."""

from __future__ import annotations

from textual.widgets import Static

OFFLINE_TEXT = "无法连接服务，修改已保留，恢复后自动提交"


class OfflineBanner(Static):
    """Hidden while online. Symbol, words and reverse video, so it reads without colour."""

    def __init__(self, *, id: str | None = "offline-banner") -> None:
        super().__init__(f"✗ {OFFLINE_TEXT}", id=id, markup=False)
        self.display = False

    def show(self, offline: bool, pending: int = 0) -> None:
        text = f"✗ {OFFLINE_TEXT}"
        if offline and pending:
            text += f"（{pending} 项待提交）"
        self.update(text)
        self.display = offline

    @property
    def text(self) -> str:
        return str(self.render())
