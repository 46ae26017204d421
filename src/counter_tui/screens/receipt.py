"""受理回执: what the resident takes home after 提交.

Shows the receipt exactly as it is saved (counter_tui.receipt): case number, time of
submission, the applicant with a masked ID number, what happens next with each time limit,
the hotline. The file is written on arrival to ``<data dir>/receipts/<case number>.txt`` and
the screen says where; p saves it again (and shows the path, for printing); Enter or Esc go
home. Not a draft screen: the application is a case now, nothing here edits it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from counter_tui.autosave import data_dir_of
from counter_tui.flow import StableFooter
from counter_tui.receipt import RECEIPTS_DIR, masked, receipt_text, save_receipt
from counter_tui.screens.base import CounterScreen
from counter_tui.widgets.message_line import MessageLine
from jiuzhutong.contract import DraftOut
from jiuzhutong.contract.authorization import CaseOut

if TYPE_CHECKING:
    from counter_tui.app import CounterApp
    from counter_tui.flow import ApplicationFlow

SUBMIT_CSS = Path(__file__).parent.parent / "styles" / "submit.tcss"
SAVED_AT = "保存位置：{path}"
NOT_SAVED = "回执未能保存：{error}（按 p 重试）"


class ReceiptScreen(CounterScreen):
    CSS_PATH = SUBMIT_CSS
    AUTO_FOCUS = ""
    HELP_TITLE = "受理回执"
    HELP = (
        "申请已提交（受理）。回执已自动保存为文本文件，可打印交给申请人。\n"
        "↑↓ / PgUp PgDn 翻看；p 再次保存回执并显示保存位置；Enter 或 Esc 返回首页。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "首页", key_display="Esc"),
        Binding("enter", "home", "返回首页", key_display="Enter"),
        Binding("p", "save", "保存回执", key_display="p"),
    ]

    app: CounterApp  # type: ignore[assignment]

    def __init__(
        self,
        case: CaseOut,
        draft: DraftOut,
        flow: ApplicationFlow | None = None,
        *,
        division_name: str | None = None,
        directory: Path | None = None,
    ) -> None:
        super().__init__()
        self.case = case
        self.draft = draft
        self.flow = flow
        self.division_name = division_name  # 户籍所在地's full name, when it was read
        self._directory = directory
        self.path: Path | None = None
        self.text = ""

    @property
    def directory(self) -> Path:
        """Where receipts go: ``<the app's data dir>/receipts`` unless given."""
        return self._directory or data_dir_of(self.app) / RECEIPTS_DIR

    def compose(self) -> ComposeResult:
        session = self.app.session
        self.text = receipt_text(
            self.case,
            self.draft,
            tz=self.app.clock.tz,
            division_name=self.division_name,
            clerk=session.staff.display_name if session else None,
            counter_id=session.counter_id if session else None,
        )
        a = self.draft.applicant
        yield Static(self.app.TITLE, id="title-bar", markup=False)
        yield Static(
            f"✓ 申请已提交（受理）　案件编号 {self.case.case_number}",
            id="receipt-heading",
            markup=False,
        )
        yield Static(f"申请人 {a.name}（{masked(a.id_number)}）", id="receipt-who", markup=False)
        with VerticalScroll(id="receipt-scroll"):
            yield Static(self.text, id="receipt-text", markup=False)
        yield Static("", id="receipt-saved", markup=False)
        yield MessageLine(id="receipt-message")
        yield StableFooter(compact=True)

    def on_mount(self) -> None:
        self.query_one("#receipt-scroll").focus()
        self.save()

    @property
    def message(self) -> MessageLine:
        return self.query_one("#receipt-message", MessageLine)

    def save(self) -> Path | None:
        """Write the receipt file; the screen says where (or why not)."""
        saved = self.query_one("#receipt-saved", Static)
        try:
            self.path = save_receipt(self.directory, self.case.case_number, self.text)
        except OSError as exc:
            self.path = None
            saved.update(NOT_SAVED.format(error=exc.strerror or exc))
            return None
        saved.update(SAVED_AT.format(path=self.path))
        return self.path

    # --- keys -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return True  # always home: there is no draft to go back to
        return super().check_action(action, parameters)

    def action_save(self) -> None:
        path = self.save()
        if path is not None:
            self.message.show(f"已保存回执：{path}", "ok")
        else:
            self.message.show("回执未能保存，请检查数据目录后按 p 重试", "error")

    def action_back(self) -> None:
        self.action_home()

    def action_home(self) -> None:
        done = f"已提交 {self.case.case_number}"
        if self.flow is not None:
            self.flow.home(done)
            return
        from counter_tui.screens.home import HomeScreen

        app = self.app
        homes = [s for s in app.screen_stack if isinstance(s, HomeScreen)]
        if homes:
            while app.screen is not homes[-1]:
                app.pop_screen()
            homes[-1].load_drafts(done)
