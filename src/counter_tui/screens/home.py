"""首页: who is logged in, the flows that exist, and the region's unfinished drafts."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from counter_tui import entries, flow
from counter_tui.errors import ClientError, NotFound, StaleVersion
from counter_tui.labels import role_name
from counter_tui.screens.base import CounterScreen
from counter_tui.screens.confirm import ConfirmScreen
from counter_tui.widgets.drafts_table import DraftsTable, masked
from counter_tui.widgets.message_line import Kind, MessageLine
from counter_tui.widgets.stable_footer import StableFooter
from jiuzhutong.contract import DraftSummary

if TYPE_CHECKING:
    from counter_tui.app import CounterApp

EMPTY = "暂无未完成的申请"


class HomeScreen(CounterScreen):
    CSS_PATH = "../styles/home.tcss"
    HELP_TITLE = "首页"
    HELP = (
        "上方是登录的工作人员和窗口，下方是本辖区未完成的申请。\n"
        "↑/↓ 选择申请；d 或 Delete 删除所选申请，\n"
        "删除前会再确认一次，默认“否”。\n"
        "F5 刷新列表；F9 注销，回到登录界面。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f5", "refresh", "刷新", key_display="F5"),
        Binding("d", "delete", "删除", key_display="d"),
        Binding("delete", "delete", "删除", key_display="Del", show=False),
        Binding("f9", "logout", "注销", key_display="F9"),
    ]

    app: CounterApp  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._entries: list[entries.Entry] = []

    def compose(self) -> ComposeResult:
        app = self.app
        session = app.session
        assert session is not None, "HomeScreen needs a session"
        staff = session.staff
        yield Static(app.TITLE, id="title-bar", markup=False)
        yield Static(
            f"{staff.display_name}（{role_name(staff.role)}）"
            f"  辖区 {staff.region_name}  窗口 {session.counter_id}",
            id="who",
            markup=False,
        )
        self._entries = entries.available(staff.role)
        if self._entries:
            yield OptionList(*(Option(e.title, id=e.key) for e in self._entries), id="entries")
        yield Static("未完成的申请", id="drafts-heading", markup=False)
        yield DraftsTable(app.clock, id="drafts")
        yield Static(EMPTY, id="drafts-empty", markup=False)
        yield MessageLine(id="home-message")
        yield StableFooter()

    def on_mount(self) -> None:
        # Focus: Textual's auto-focus picks the first entry, or the table when there are
        # no entries; _show_drafts moves it only off a table that has just been hidden.
        self.query_one("#drafts-empty").display = False
        self.load_drafts()

    # --- helpers ---------------------------------------------------------------------

    @property
    def _message(self) -> MessageLine:
        return self.query_one("#home-message", MessageLine)

    @property
    def _table(self) -> DraftsTable:
        return self.query_one(DraftsTable)

    def _show_drafts(self, drafts: list[DraftSummary]) -> None:
        table = self._table
        table.show(drafts)
        empty = not drafts
        table.display = not empty
        self.query_one("#drafts-empty").display = empty
        heading = "未完成的申请" if empty else f"未完成的申请（{len(drafts)} 件）"
        self.query_one("#drafts-heading", Static).update(heading)
        # Keep the clerk's focus on a refresh; move it only off a table that just hid.
        focused = self.focused
        if focused is None or focused is table:
            if not empty:
                table.focus()
            elif self._entries:
                self.query_one("#entries").focus()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "delete":
            # Hidden, not greyed, when there is nothing to delete: one less thing to read.
            return self.is_mounted and self._table.selected is not None
        return super().check_action(action, parameters)

    # --- actions ---------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.load_drafts()

    def action_logout(self) -> None:
        self._logout()

    def action_delete(self) -> None:
        draft = self._table.selected
        if draft is None:
            return
        who = f"{draft.applicant_name}（{masked(draft.applicant_id_number)}）"
        detail = f"将删除{who}的未完成申请。"

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(draft)
            else:
                self._message.show("未删除")

        self.app.push_screen(ConfirmScreen("确认删除？", detail), answered)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        entry = next(e for e in self._entries if e.key == event.option.id)
        self.app.push_screen(entries.load_screen(entry)())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a draft: 继续办理 at its saved step, with every field."""
        if event.data_table is self._table and (draft := self._table.selected) is not None:
            self._continue(draft)

    # --- work ------------------------------------------------------------------------

    @work(exclusive=True, group="continue")
    async def _continue(self, draft: DraftSummary) -> None:
        try:
            await flow.open_draft(self.app, draft.id)
        except NotFound:
            self.load_drafts("该申请已不存在", "info")
        except ClientError as exc:
            if (text := self.app.explain(exc)) is not None:
                self._message.show(f"未能打开：{text}", "error")

    @work(exclusive=True, group="drafts")
    async def load_drafts(self, done: str | None = None, kind: Kind = "ok") -> None:
        """Reload the list; ``done`` is the outcome of the last action, kept on screen."""
        try:
            drafts = await self.app.client.list_drafts()
        except ClientError as exc:
            if (text := self.app.explain(exc)) is not None:
                self._message.show(f"{text}（F5 重试）", "error")
            return
        self._show_drafts(drafts)
        stamp = f"已刷新 {self.app.clock.time_of_day()}"
        if done:
            self._message.show(f"{done}；{stamp}", kind)
        else:
            self._message.show(stamp)

    @work(exclusive=True, group="delete")
    async def _delete(self, draft: DraftSummary) -> None:
        try:
            await self.app.client.delete_draft(draft.id, if_match=draft.version)
        except StaleVersion:
            self.load_drafts("该申请刚被修改过，未删除；请核对后重试", "error")
            return
        except NotFound:
            self.load_drafts("该申请已不存在", "info")
            return
        except ClientError as exc:
            if (text := self.app.explain(exc)) is not None:
                self._message.show(f"未删除：{text}", "error")
            return
        self.load_drafts(f"已删除 {draft.applicant_name} 的申请")

    @work(exclusive=True, group="session")
    async def _logout(self) -> None:
        await self.app.end_session()
