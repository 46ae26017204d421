"""经济状况's progress per data source: one line per source, repainted per progress event.

Each line is the source's name, its state as symbol and word (… 查询中, ✓ 完成, ✗ 失败,
· 待查询 before its first report), the attempt, 模拟 for a simulated source and the server's
message. Colour never carries the meaning alone; the words are the same in 16 colours and a
light theme. ``history`` keeps every report in the order it arrived (the live stream's).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static

from jiuzhutong.contract.economic import SIMULATED_TEXT, SourceName, SourceProgress, SourceState

SYMBOL: dict[SourceState, str] = {
    SourceState.querying: "…",
    SourceState.done: "✓",
    SourceState.failed: "✗",
}
WAITING = "· 待查询"


def pad(text: str, cells: int) -> str:
    """``text`` padded with spaces to ``cells`` terminal cells (CJK is two cells wide)."""
    return text + " " * max(0, cells - cell_len(text))


def state_text(state: SourceState) -> str:
    return f"{SYMBOL.get(state, '…')} {state.value}"


def source_line(source: SourceName, progress: SourceProgress | None) -> str:
    if progress is None:
        return f"{pad(source.value, 8)}  {WAITING}"
    simulated = SIMULATED_TEXT if progress.simulated else ""
    return (
        f"{pad(source.value, 8)}  {pad(state_text(progress.state), 9)}"
        f"第{progress.attempt}次  {pad(simulated, 4)}  {progress.message}"
    )


class SourceProgressList(Static):
    """The sources of one check run and the last report of each."""

    DEFAULT_CSS = """
    SourceProgressList { height: auto; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes, markup=False)
        self.rows: dict[SourceName, SourceProgress | None] = {}
        self.history: list[SourceProgress] = []

    def reset(self, sources: Iterable[SourceName]) -> None:
        """A new run: every source waits for its first report."""
        self.rows = {s: None for s in sources}
        self.history = []
        self._paint()

    def apply(self, progress: SourceProgress) -> None:
        """One progress report (an ``economic.progress`` event): repaint its line."""
        self.history.append(progress)
        self.rows[progress.source] = progress
        self._paint()

    def load(self, sources: Iterable[SourceProgress]) -> None:
        """The final state per source, as the status reports it."""
        self.rows = {p.source: p for p in sources}
        self._paint()

    def count(self, state: SourceState) -> int:
        return sum(1 for p in self.rows.values() if p is not None and p.state == state)

    @property
    def summary(self) -> str:
        done = self.count(SourceState.done)
        failed = self.count(SourceState.failed)
        querying = len(self.rows) - done - failed
        return (
            f"数据来源 {len(self.rows)} 个：✓ 完成 {done} · … 查询中 {querying} · ✗ 失败 {failed}"
        )

    def lines(self) -> list[str]:
        return [source_line(s, p) for s, p in self.rows.items()]

    def _paint(self) -> None:
        text = Text("\n".join([self.summary, *self.lines()]), no_wrap=True, overflow="ellipsis")
        self.update(text)
