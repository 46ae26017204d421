"""授权签名's status board: one row per person — 姓名, 关系, 方式, 状态 (symbol and word).

Colour never carries the meaning alone: every status is a symbol and a word
(✓ 已授权, … 待授权, ✗ 失败). ``update_person`` repaints one row in place, which is what an
SSE event does; ``load`` repaints the whole board (first read, F5, after a reconnect).
"""

from __future__ import annotations

from textual.widgets import DataTable

from jiuzhutong.contract.authorization import AuthorizationOut, AuthState

COLUMNS = (("姓名", "name"), ("关系", "relation"), ("方式", "method"), ("状态", "state"))

SYMBOL = {
    AuthState.authorized: "✓",
    AuthState.pending: "…",
    AuthState.face_passed: "…",
    AuthState.signed: "…",
    AuthState.failed: "✗",
    AuthState.expired: "✗",
}


def status_text(row: AuthorizationOut) -> str:
    return f"{SYMBOL.get(row.state, '…')} {row.state.value}"


def method_text(row: AuthorizationOut) -> str:
    return row.method.value if row.method is not None else "—"


def cells(row: AuthorizationOut) -> tuple[str, str, str, str]:
    """The row as shown: 姓名, 关系, 方式, 状态."""
    return (row.name, row.relation.value, method_text(row), status_text(row))


class StatusBoard(DataTable[str]):
    DEFAULT_CSS = """
    StatusBoard { height: 1fr; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, cell_padding=1)
        self.persons: list[AuthorizationOut] = []

    def on_mount(self) -> None:
        for label, key in COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected(self) -> AuthorizationOut | None:
        if not self.persons or self.row_count == 0:
            return None
        return self.persons[min(self.cursor_row, len(self.persons) - 1)]

    @property
    def all_authorized(self) -> bool:
        return bool(self.persons) and all(p.state == AuthState.authorized for p in self.persons)

    def load(self, persons: list[AuthorizationOut]) -> None:
        """Show ``persons``: the same people in the same order (F5, a reconnect, a re-read)
        only repaint the cells that changed; otherwise the rows are built anew."""
        persons = list(persons)
        same = self.row_count == len(persons) and [p.person_id for p in self.persons] == [
            p.person_id for p in persons
        ]
        if same:
            for row in persons:
                self.update_person(row)
            return
        keep = self.cursor_row
        self.persons = persons
        if self.row_count:
            self.clear()
        for p in persons:
            self.add_row(*cells(p), key=p.person_id)
        if self.row_count and keep != self.cursor_row:
            self.move_cursor(row=min(max(keep, 0), self.row_count - 1), animate=False)

    def update_person(self, row: AuthorizationOut) -> bool:
        """Repaint one person's row; False when the person is not on the board (re-read)."""
        for i, p in enumerate(self.persons):
            if p.person_id == row.person_id:
                old = cells(p)
                self.persons[i] = row
                for (_, key), was, now in zip(COLUMNS, old, cells(row), strict=True):
                    if now != was:
                        self.update_cell(row.person_id, key, now, update_width=True)
                return True
        return False

    def row_text(self, person_id: str) -> list[str]:
        return [str(c) for c in self.get_row(person_id)]
