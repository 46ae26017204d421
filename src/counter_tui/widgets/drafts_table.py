"""The table of a region's unfinished drafts on the home screen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from counter_tui.clock import Clock
from counter_tui.labels import step_name
from jiuzhutong.contract import DraftSummary
from jiuzhutong.domain.idnumber import mask_id_number

COLUMNS = (
    ("申请人", "name"),
    ("身份证号", "id"),
    ("家庭成员", "members"),
    ("步骤", "step"),
    ("最后保存", "saved"),
)


def masked(number: str) -> str:
    """The server always masks; masking again here means a server bug can't show a number."""
    return number if "*" in number else mask_id_number(number)


class DraftsTable(DataTable[str]):
    """One row per draft, keyed by draft id; the cursor keeps its draft across refreshes."""

    # DataTable's own Enter is hidden; here it opens the draft, so the Footer says so.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "继续办理", key_display="Enter"),
    ]

    def __init__(self, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._clock = clock
        self._drafts: list[DraftSummary] = []

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            self.add_column(label, key=key)

    @property
    def drafts(self) -> list[DraftSummary]:
        return list(self._drafts)

    @property
    def selected(self) -> DraftSummary | None:
        if not self._drafts:
            return None
        return self._drafts[min(self.cursor_row, len(self._drafts) - 1)]

    def show(self, drafts: Sequence[DraftSummary]) -> None:
        keep = self.selected.id if self.selected else None
        self._drafts = list(drafts)
        self.clear()
        for d in self._drafts:
            self.add_row(
                d.applicant_name,
                masked(d.applicant_id_number),
                str(d.member_count),
                step_name(d.step),
                self._clock.stamp(d.updated_at),
                key=d.id,
            )
        ids = [d.id for d in self._drafts]
        if keep in ids:
            self.move_cursor(row=ids.index(keep), animate=False)
