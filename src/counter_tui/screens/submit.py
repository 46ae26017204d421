"""提交: the application summarised once more, then submitted with one key.

The summary is read from ``flow.draft`` (applicant, masked ID numbers, 户籍所在地, addresses,
members), the authorization board (everyone 已授权) and the economic status (confirmed, the
per-capita monthly income and its 参考 label). F10 提交 asks for confirmation (默认“否”), then
POSTs submit with an Idempotency-Key made once per draft and kept until the CaseOut arrives:
pressing 提交 again after a timeout or an unreachable service replays the same case instead of
a 409. A 422 lists everything still missing at once (一次性告知), inline above the summary;
nothing is lost and the screen stays. On success the receipt screen takes over.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from counter_tui.errors import (
    BackendTimeout,
    BackendUnreachable,
    ClientError,
    Conflict,
    InvalidRequest,
    NotFound,
)
from counter_tui.flow import FLOW_CSS, FlowScreen
from counter_tui.receipt import masked
from counter_tui.screens.confirm import ConfirmScreen
from jiuzhutong.contract import ApplyMode, DivisionOut, DraftOut, ErrorItem, MemberOut
from jiuzhutong.contract.authorization import AuthorizationBoard, AuthState, CaseOut
from jiuzhutong.contract.economic import EconomicStatusOut

if TYPE_CHECKING:
    from counter_tui.flow import ApplicationFlow

SUBMIT_CSS = Path(__file__).parent.parent / "styles" / "submit.tcss"

PROBLEMS_HEAD = "提交前还需补充以下 {n} 项（一次性告知）："
PROBLEMS_TAIL = "按 Esc 返回上一步补充；补齐后再按 F10 提交。"
UNREACHABLE = "无法连接服务，申请尚未提交；恢复后再按 F10 提交（沿用同一提交编号，不会重复提交）"
TIMED_OUT = "服务无响应，提交结果未知；请稍后再按 F10，将沿用同一提交编号，不会重复提交"
PENDING_EDITS = "尚有修改未保存到服务，恢复连接、保存后才能提交"
SUBMITTING = "正在提交…"
HINT = "请与申请人逐项核对以上内容；无误后按 F10 提交。"
LABEL_CELLS = 12  # 现居住地址 and a gap

# One Idempotency-Key per draft for the life of the process, made on the first 提交 and
# dropped once the case is known: a new screen for the same draft (Esc and back, F5) keeps it.
_KEYS: dict[str, str] = {}


def submit_key(draft_id: str) -> str:
    """The draft's submit key: the same one until ``forget_key``."""
    key = _KEYS.get(draft_id)
    if key is None:
        key = _KEYS[draft_id] = str(uuid.uuid4())
    return key


def forget_key(draft_id: str) -> None:
    _KEYS.pop(draft_id, None)


def problems_text(items: list[ErrorItem]) -> str:
    """The 422's items as one numbered list, in the server's order."""
    lines = [PROBLEMS_HEAD.format(n=len(items))]
    lines += [f"  {i}. {item.message}" for i, item in enumerate(items, 1)]
    lines.append(PROBLEMS_TAIL)
    return "\n".join(lines)


def money(amount: Decimal) -> str:
    return f"{amount:.2f} 元"


def _pad(text: str, cells: int) -> str:
    """``text`` padded with spaces to ``cells`` terminal cells (CJK characters take two)."""
    return text + " " * max(cells - cell_len(text), 0)


class SubmitScreen(FlowScreen):
    STEP = "submit"
    CSS_PATH: ClassVar[list[str | Path]] = [FLOW_CSS, SUBMIT_CSS]  # type: ignore[misc]
    HELP_TITLE = "提交"
    HELP = (
        "提交前与申请人逐项核对：申请人、户籍、家庭成员、授权签名、经济状况。\n"
        "↑↓ / PgUp PgDn 翻看；F10 提交（会先确认，默认“否”）；F5 重新读取；Esc 回到上一步。\n"
        "有缺项时一次列出全部缺项，补齐后再提交。提交后显示受理回执并自动保存为文件。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f10", "next_step", "提交", key_display="F10"),
    ]

    def __init__(self, flow: ApplicationFlow | None = None) -> None:
        super().__init__(flow)
        self.board: AuthorizationBoard | None = None
        self.economic: EconomicStatusOut | None = None
        self.economic_error: str | None = None
        self.division_name: str | None = None
        self.problems: list[str] = []
        self.submitting = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="submit-problems", markup=False)
        with VerticalScroll(id="submit-summary"):
            yield Static("", id="sum-applicant")
            yield Static("", id="sum-members")
            yield Static("", id="sum-authorization")
            yield Static("", id="sum-economic")
            yield Static(HINT, id="submit-hint", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#submit-problems").display = False
        self._show_draft()
        self.query_one("#submit-summary").focus()
        self._load()

    # --- reading --------------------------------------------------------------------

    @property
    def idempotency_key(self) -> str | None:
        """The key the next 提交 sends (None before the draft is known)."""
        draft_id = self.flow.draft_id
        return submit_key(draft_id) if draft_id else None

    @work(exclusive=True, group="submit-load")
    async def _load(self) -> None:
        draft = self.flow.draft
        if draft is None:
            return
        client = self.app.client
        hukou = draft.applicant.details.hukou_division
        board, economic, division = await asyncio.gather(
            client.get_authorizations(draft.id),
            client.get_economic_status(draft.id),
            client.get_division(hukou) if hukou else asyncio.sleep(0),
            return_exceptions=True,
        )
        if isinstance(board, AuthorizationBoard):
            self.board = board
        elif isinstance(board, ClientError):
            self.board = None
            self.show_client_error(board, "读取授权状态失败：")
        if isinstance(economic, EconomicStatusOut):
            self.economic, self.economic_error = economic, None
        elif isinstance(economic, NotFound):
            self.economic, self.economic_error = None, "尚未进行家庭经济状况核对"
        elif isinstance(economic, ClientError):
            self.economic, self.economic_error = None, economic.message
        if isinstance(division, DivisionOut):
            self.division_name = division.full_name
        for failure in (board, economic, division):
            if isinstance(failure, BaseException) and not isinstance(failure, ClientError):
                raise failure
        self._show_draft()

    # --- showing --------------------------------------------------------------------

    def _show_draft(self) -> None:
        draft = self.flow.draft
        if draft is None:
            return
        self.query_one("#sum-applicant", Static).update(self._applicant(draft))
        self.query_one("#sum-members", Static).update(self._members(draft))
        self.query_one("#sum-authorization", Static).update(self._authorization())
        self.query_one("#sum-economic", Static).update(self._economic())

    def _applicant(self, draft: DraftOut) -> Text:
        a = draft.applicant
        d = a.details
        rows = [("申请人", f"{a.name}　{masked(a.id_number)}")]
        mode = draft.mode.value
        if draft.mode == ApplyMode.entrusted and draft.entrustment is not None:
            e = draft.entrustment
            mode += f"（委托人 {e.entrusting_name}　{masked(e.entrusting_id_number)}）"
        rows.append(("申请方式", mode))
        hukou = d.hukou_division
        if hukou:
            where = f"{self.division_name}（{hukou}）" if self.division_name else hukou
        else:
            where = "✗ 未填写"
        rows.append(("户籍所在地", where))
        rows.append(("户籍类型", d.hukou_type.value if d.hukou_type else "未填写"))
        rows.append(("户籍地址", d.hukou_address or "未填写"))
        rows.append(("现居住地址", d.residence_address or "未填写"))
        if d.apply_reason:
            rows.append(("申请理由", d.apply_reason))
        text = Text()
        for i, (label, value) in enumerate(rows):
            if i:
                text.append("\n")
            text.append(_pad(label, LABEL_CELLS), style="bold")
            text.append(value)  # user text: appended as is, never parsed as markup
        return text

    def _members(self, draft: DraftOut) -> Text:
        text = Text(f"家庭成员　计入家庭人口 {draft.household_size} 人", style="bold")
        if not draft.members:
            text.append("\n  无家庭成员（单人户）", style="")
            return text
        rows = [("姓名", "关系", "身份证号", "是否计入")]
        rows += [self._member_row(m) for m in draft.members]
        widths = [max(cell_len(r[c]) for r in rows) for c in range(3)]
        for n, row in enumerate(rows):
            cells = [_pad(v, w) for v, w in zip(row[:3], widths, strict=True)] + [row[3]]
            text.append("\n  " + "  ".join(cells), style="underline" if n == 0 else "")
        return text

    @staticmethod
    def _member_row(m: MemberOut) -> tuple[str, str, str, str]:
        counted = "✓ 计入" if m.counted else "✗ 不计入"
        return (m.name, m.relation.value, masked(m.id_number), counted)

    def _authorization(self) -> Text:
        board = self.board
        if board is None:
            text = "… 读取中"
        elif board.all_authorized:
            text = f"✓ 全部已授权（{len(board.persons)} 人）"
        else:
            waiting = [p for p in board.persons if p.state != AuthState.authorized]
            names = "、".join(f"{p.name}（{p.state.value}）" for p in waiting)
            text = f"✗ 尚未全部授权：{names}"
        line = Text(_pad("授权签名", LABEL_CELLS), style="bold")
        line.append(text)
        return line

    def _economic(self) -> Text:
        status = self.economic
        text = Text(_pad("经济状况", LABEL_CELLS), style="bold")
        if status is None:
            text.append(f"✗ {self.economic_error}" if self.economic_error else "… 读取中")
            return text
        text.append("✓ 已确认" if status.confirmed else "✗ 申请人尚未确认")
        view = status.corrected
        income = f"\n  家庭人均月收入 {money(status.per_capita_monthly)}"
        if view is not None:
            income += f"（含申报更正 {money(view.per_capita_monthly)}）"
        reference = view.reference if view is not None else status.reference
        income += f"　参考：{reference.value if reference is not None else '无法比较'}"
        if status.simulated:
            income += "（模拟）"
        text.append(income)
        text.append(f"\n  {view.reference_text if view is not None else status.reference_text}")
        return text

    def show_problems(self, items: list[ErrorItem]) -> None:
        self.problems = [i.message for i in items]
        widget = self.query_one("#submit-problems", Static)
        widget.update(problems_text(items))
        widget.display = bool(items)

    @property
    def problems_shown(self) -> str:
        """The inline list as the clerk reads it ("" when there is none)."""
        widget = self.query_one("#submit-problems", Static)
        return str(widget.render()) if widget.display else ""

    def draft_changed(self, draft: DraftOut, *, reloaded: bool) -> None:
        self._show_draft()

    # --- keys -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_step":
            return True if self.flow.draft is not None and not self.submitting else None
        if action == "back" and self.submitting:
            return None  # the answer decides where to go: the receipt, or stay here
        return super().check_action(action, parameters)

    def action_refresh(self) -> None:
        self._reload()

    @work(exclusive=True, group="submit-reload")
    async def _reload(self) -> None:
        if await self.fetch_fresh_draft() is not None:
            self._show_draft()
            self._load()

    def action_next_step(self) -> None:
        """F10 提交: confirm, then submit."""
        draft = self.flow.draft
        if draft is None or self.submitting:
            return
        a = draft.applicant
        detail = (
            f"将提交 {a.name}（{masked(a.id_number)}）的最低生活保障申请，"
            f"计入家庭人口 {draft.household_size} 人。提交后即受理，不能再修改。"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._submit()
            else:
                self.message.show("未提交")

        self.app.push_screen(ConfirmScreen("确认提交申请？", detail), answered)

    @work(exclusive=True, group="submit")
    async def _submit(self) -> None:
        draft = self.flow.draft
        if draft is None:
            return
        self.submitting = True
        self.refresh_bindings()
        try:
            case = await self._send(draft)
        finally:
            self.submitting = False
            self.refresh_bindings()
        if case is not None:
            self._submitted(case, draft)

    async def _send(self, draft: DraftOut) -> CaseOut | None:
        saver = self.flow.saver
        self.message.show(SUBMITTING)
        await saver.drain()  # what the clerk changed goes first: it is part of the application
        if saver.pending_count(draft.id):
            self.message.show(PENDING_EDITS, "error")
            return None
        key = submit_key(draft.id)
        try:
            case = await self.app.client.submit(draft.id, key)
        except InvalidRequest as exc:
            self.show_problems(exc.items)
            self.message.show(f"未提交：尚有 {len(exc.items)} 项需补充", "error")
            return None
        except BackendUnreachable:
            self.message.show(UNREACHABLE, "error")
            return None
        except BackendTimeout:
            self.message.show(TIMED_OUT, "error")
            return None
        except Conflict as exc:
            # Submitted before: by this counter with a key a restart forgot, or by another
            # counter. The case is read back, so the receipt can still be given.
            if not any(i.code == "already_submitted" for i in exc.items):
                self.message.show(exc.message, "error")
                return None
            try:
                filed = await self.app.client.get_case(draft.id)
            except ClientError:
                self.message.show(exc.message, "error")
                return None
            forget_key(draft.id)
            return filed.case
        except ClientError as exc:
            self.show_client_error(exc, "未提交：")
            return None
        forget_key(draft.id)
        return case

    def _submitted(self, case: CaseOut, draft: DraftOut) -> None:
        from counter_tui.screens.receipt import ReceiptScreen

        flow = self.flow
        flow.saver.unlisten(draft.id, flow)  # no longer a draft: nothing more to save
        app = self.app
        receipt = ReceiptScreen(case, draft, flow, division_name=self.division_name)
        if self not in app.screen_stack:
            app.push_screen(receipt)
            return
        while app.screen is not self:
            app.pop_screen()  # a help page opened meanwhile
        app.switch_screen(receipt)
