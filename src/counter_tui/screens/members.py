"""家庭成员: who lives with the applicant, and who counts (Art 7), in one table.

新增 (n / Insert), 编辑 (e / Enter) and 删除 (d / Delete, confirmed, default 否) open the member
form or the confirmation; each change is one request with If-Match through the autosave, so a
lost connection keeps it (shown as “… 待提交”) and sends it when the service returns. No
members: 下一步 (F10) goes straight on, as in the mini-program.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from counter_tui.autosave import Queued, Rejected, Saved
from counter_tui.flow import FlowScreen
from counter_tui.screens.confirm import ConfirmScreen
from counter_tui.screens.member_form import MemberFormScreen, Result
from counter_tui.widgets.id_input import masked
from jiuzhutong.contract import DraftOut, MemberOut

COLUMNS = (
    ("姓名", "name"),
    ("关系", "relation"),
    ("身份证号", "id"),
    ("年龄", "age"),
    ("是否计入", "counted"),
)
EMPTY = "暂无家庭成员。有家庭成员请按 n 新增；没有家庭成员可直接按 F10 下一步。"
PENDING = "… 待提交"
QUEUED = "无法连接服务，修改已保留，恢复后自动提交"


def counted_text(member: MemberOut) -> str:
    return "✓ 计入" if member.counted else "✗ 不计入"


class MembersScreen(FlowScreen):
    STEP = "members"
    HELP_TITLE = "家庭成员"
    HELP = (
        "列出与申请人共同生活的家庭成员，以及是否计入家庭人口和原因。\n"
        "n 或 Insert 新增；e 或 Enter 编辑所选成员；d 或 Delete 删除（会先确认，默认“否”）。\n"
        "没有家庭成员时直接按 F10 下一步。F5 重新读取；Esc 回到基本信息。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "add", "新增", key_display="n"),
        Binding("insert", "add", "新增", key_display="Ins", show=False),
        Binding("e", "edit", "编辑", key_display="e"),
        Binding("d", "delete", "删除", key_display="d"),
        Binding("delete", "delete", "删除", key_display="Del", show=False),
    ]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="household-summary", markup=False)
        yield DataTable(id="members-table", cursor_type="row", zebra_stripes=False)
        yield Static(EMPTY, id="members-empty", markup=False)
        yield Static("", id="member-reason", markup=False)

    def on_mount(self) -> None:
        table = self.table
        for label, key in COLUMNS:
            table.add_column(label, key=key)
        self._show()
        table.focus()

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#members-table", DataTable)

    # --- showing ----------------------------------------------------------------------

    @property
    def members(self) -> list[MemberOut]:
        return list(self.flow.draft.members) if self.flow.draft else []

    @property
    def selected(self) -> MemberOut | None:
        members = self.members
        if not members or self.table.row_count == 0:
            return None
        row = self.table.cursor_row
        if row >= len(members):
            return None  # a pending addition, not yet a member
        return members[row]

    def _show(self) -> None:
        draft = self.flow.draft
        if draft is None:
            return
        table = self.table
        keep = table.cursor_row
        table.clear()
        pending = self.flow.saver.pending_members(draft.id)
        touched = {e.member_id for e in pending if e.member_id}
        for m in draft.members:
            table.add_row(
                m.name,
                m.relation.value,
                masked(m.id_number),
                str(m.age),
                PENDING if m.id in touched else counted_text(m),
                key=m.id,
            )
        for e in pending:
            if e.op == "add_member":
                table.add_row(
                    str(e.body.get("name", "")),
                    str(e.body.get("relation", "")),
                    masked(str(e.body.get("id_number", ""))),
                    "",
                    PENDING,
                    key=f"pending-{e.id}",
                )
        if table.row_count:
            table.move_cursor(row=min(keep, table.row_count - 1), animate=False)
        empty = table.row_count == 0
        table.display = not empty
        self.query_one("#members-empty").display = empty
        a = draft.applicant
        self.query_one("#household-summary", Static).update(
            f"申请人 {a.name}（{masked(a.id_number)}）· 计入家庭人口 {draft.household_size} 人"
        )
        self._show_reason()
        self.refresh_bindings()

    def _show_reason(self) -> None:
        member = self.selected
        text = f"{member.name}：{member.count_reason}" if member else ""
        self.query_one("#member-reason", Static).update(text)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_reason()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def draft_changed(self, draft: DraftOut, *, reloaded: bool) -> None:
        self._show()
        if reloaded:
            self.message.show("该申请刚被他人修改，已重新读取", "info")

    # --- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "delete"):
            return self.is_mounted and self.selected is not None
        return super().check_action(action, parameters)

    def _form_closed(self, result: Result | None, verb: str = "已保存") -> None:
        if result is None:
            self._show()
            return
        kind, draft = result
        if kind == "saved" and draft is not None:
            self.flow.draft = draft
            self.message.show(verb, "ok")
        elif kind == "queued":
            self.message.show(QUEUED, "error")
        self._show()
        self.table.focus()

    def action_add(self) -> None:
        self.app.push_screen(
            MemberFormScreen(self.flow), lambda r: self._form_closed(r, "已新增家庭成员")
        )

    def action_edit(self) -> None:
        member = self.selected
        if member is not None:
            self.app.push_screen(
                MemberFormScreen(self.flow, member),
                lambda r: self._form_closed(r, f"已修改 {member.name} 的信息"),
            )

    def action_delete(self) -> None:
        member = self.selected
        if member is None:
            return
        who = f"{member.name}（{member.relation.value}，{masked(member.id_number)}）"
        detail = f"将从家庭成员中删除 {who}。"

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(member)
            else:
                self.message.show("未删除")

        self.app.push_screen(ConfirmScreen("确认删除？", detail), answered)

    @work(exclusive=True, group="member-delete")
    async def _delete(self, member: MemberOut) -> None:
        outcome = await self.flow.member_op("remove_member", None, member.id)
        if isinstance(outcome, Saved):
            self.flow.draft = outcome.draft
            self.message.show(f"已删除 {member.name}", "ok")
        elif isinstance(outcome, Queued):
            self.message.show(QUEUED, "error")
        elif isinstance(outcome, Rejected):
            self.show_errors(outcome.items)
        self._show()

    def action_refresh(self) -> None:
        self._reload()

    @work(exclusive=True, group="members-reload")
    async def _reload(self) -> None:
        if await self.fetch_fresh_draft() is not None:
            self._show()

    def action_next_step(self) -> None:
        self.flow.forward(self.STEP)
