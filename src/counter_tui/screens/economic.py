"""经济状况: the household economic check, its generated status, corrections and 确认.

On open the status is read. Before the first check (404) the check is started: one line per
data source shows its progress, repainted live from the application's SSE stream
(``economic.progress``); on ``economic.done`` the status is read. When the stream drops the
screen reads the status every few seconds instead, and again after the stream returns. A
422 (someone not yet 已授权) says who; 确认 is then unavailable.

The status shows the items per person and class, the household per-capita monthly income
against the local standard with the server's reference sentence (always 参考, never a
decision; 示例 when the standard is sample data), the property summary with its flags, the
deductions, and the corrections beside the generated values. c 更正/说明 opens a form for
the selected item; F10 confirms and goes on to 提交; r 重新核对 runs the check again.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, ClassVar

from pydantic import ValidationError
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.geometry import Region, Spacing
from textual.widgets import DataTable, Label, Static

from counter_tui.client import local_invalid
from counter_tui.errors import ClientError, Conflict, InvalidRequest, NotFound
from counter_tui.flow import FLOW_CSS, ApplicationFlow, FlowScreen, StableFooter, mark_current_row
from counter_tui.screens.base import CounterModal
from counter_tui.screens.confirm import ConfirmScreen
from counter_tui.screens.live import LiveEvent, StreamReconnected, StreamState, relay
from counter_tui.widgets.fields import Field
from counter_tui.widgets.message_line import MessageLine
from counter_tui.widgets.source_progress import SourceProgressList
from jiuzhutong.contract import ErrorItem
from jiuzhutong.contract.authorization import EventType
from jiuzhutong.contract.economic import (
    REFERENCE_ONLY_TEXT,
    SIMULATED_TEXT,
    CorrectionIn,
    CorrectionOut,
    EconomicItemOut,
    EconomicStatusOut,
    ItemKind,
    RigidExpense,
    SourceName,
    SourceProgress,
)

ECON_CSS = Path(__file__).parent.parent / "styles" / "economic.tcss"

POLL_SECONDS = 2.0  # how often the status is read while the live stream is down

RUNNING = "正在核对家庭经济状况，请稍候…（各数据来源的进度实时更新）"
LIVE_LOST = "实时进度连接中断，改为定时读取结果…"
NOT_AUTHORIZED = "尚有人员未完成授权，不能核对经济状况（按 Esc 回到授权签名）："
STALE = "家庭成员有变更，已重新发起家庭经济状况核对"
HINT = "↑↓ 选择项目 · c 更正/说明 · F10 确认并下一步 · PgUp/PgDn 翻页"
LEGEND = "金额栏“→”后为申报值，“※”表示有更正或说明（与系统生成值并列，不替换原值）。"
NO_ITEMS = "各数据来源均未返回记录。"
CONFIRMED = "已确认家庭经济状况"

# Short words for the table's 类别 column (the full ones are in the detail line).
EXPENSE_SHORT = {RigidExpense.disability: "残疾康复护理", RigidExpense.illness: "大病医疗自付"}

# Messages of the correction form (exact: tests compare them).
REASON_REQUIRED = "请填写更正或说明的理由"
AMOUNT_NOT_NUMBER = "金额应为数字，如 1200 或 1200.50"
AMOUNT_NEGATIVE = "金额不能为负数"
AMOUNT_DECIMALS = "金额最多保留两位小数（到分）"
AMOUNT_TOO_LARGE = "金额不能超过1000000000元"
MONTHS_INVALID = "月数应为1至120之间的整数"
MAX_AMOUNT = Decimal("1000000000")


# --- formatting -----------------------------------------------------------------------


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def class_text(item: EconomicItemOut) -> str:
    if item.income_class is not None:
        return item.income_class.value
    if item.property_class is not None:
        word = item.property_class.value
        return f"{word}×{item.quantity}" if item.quantity > 1 else word
    if item.expense_kind is not None:
        return EXPENSE_SHORT.get(item.expense_kind, item.expense_kind.value)
    return item.kind.value


def full_class(item: EconomicItemOut | CorrectionOut) -> str:
    for c in (item.income_class, item.property_class, item.expense_kind):
        if c is not None:
            return c.value
    return item.kind.value


def period_text(item: EconomicItemOut) -> str:
    if item.kind == ItemKind.property or item.period_start == item.period_end:
        return f"{item.period_end:%Y-%m-%d}"
    return f"{item.period_start:%Y.%m}–{item.period_end:%Y.%m}"


def counted_text(item: EconomicItemOut, *, compact: bool = False) -> str:
    if item.counted:
        return "✓ 扣减" if item.kind == ItemKind.expense else "✓ 计入"
    if compact:
        return "✗ 不计入"
    if item.excluded is not None:
        return f"✗ 不计入：{item.excluded.value}"
    return f"✗ {item.excluded_reason or '不计入'}"


def source_text(item: EconomicItemOut) -> str:
    return f"{item.source.value}·{SIMULATED_TEXT}" if item.simulated else item.source.value


def amount_text(
    item: EconomicItemOut, corrections: list[CorrectionOut], *, compact: bool = False
) -> str:
    """The generated amount, and beside it the declared one (→) or a note mark (※); in the
    compact table only the mark (the detail line below shows the declared value)."""
    text = money(item.amount)
    declared = [c for c in corrections if c.declared_amount is not None]
    if compact and corrections:
        text = f"{text} ※"
    elif declared:
        text = f"{text}→{money(declared[-1].declared_amount)}"
    elif corrections:
        text = f"{text} ※"
    return text


def correction_text(c: CorrectionOut) -> str:
    # No spaces in a CJK run: Rich wraps at spaces, and folds a long run anywhere.
    where = f"{c.person_name}·{c.source.value if c.source else '本人申报'}·{full_class(c)}"
    if c.declared_amount is None:
        figures = f"系统{money(c.generated_amount)}元，仅作说明"
    else:
        months = f"（{c.declared_months}个月）" if c.declared_months else ""
        figures = f"系统{money(c.generated_amount)}元→申报{money(c.declared_amount)}元{months}"
    text = f"{where}：{figures}；理由：{c.reason}"
    if c.note:
        text += f"；说明：{c.note}"
    return text


# --- the correction form ---------------------------------------------------------------


class CorrectionForm(CounterModal[EconomicStatusOut | None]):
    """更正/说明 of one generated item: declared amount and months (both optional: without
    an amount it is an annotation), the reason (required) and a note. Enter moves on, Enter in
    the last field or F10 posts; Esc cancels and the status screen is as it was."""

    CSS_PATH: ClassVar = [
        "../styles/dialogs.tcss",
        "../styles/flow.tcss",
        "../styles/economic.tcss",
    ]
    AUTO_FOCUS = ""
    HELP_TITLE = "更正/说明"
    HELP = (
        "对所选项目填写更正或说明。申报金额留空即为仅作说明；理由必填。\n"
        "申报值与系统生成值并列保存，不替换原值；提交后需重新确认。\n"
        "Tab / Enter 到下一项，最后一项按 Enter 或 F10 提交；Esc 取消。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "帮助", key_display="F1"),
        Binding("escape", "cancel", "取消", key_display="Esc"),
        Binding("f10", "submit", "提交", key_display="F10"),
    ]

    FIELDS: ClassVar[tuple[tuple[str, str, str], ...]] = (
        ("declared_amount", "申报金额（元）", "留空：仅作说明"),
        ("declared_months", "所涉月数", ""),
        ("reason", "理由 *", "必填"),
        ("note", "说明", "可不填"),
    )

    def __init__(self, flow: ApplicationFlow, item: EconomicItemOut) -> None:
        super().__init__()
        self.flow = flow
        self.item = item
        self._busy = False
        self.posted: list[CorrectionIn] = []  # what went to the server (tests read it)

    @property
    def has_months(self) -> bool:
        return self.item.kind != ItemKind.property

    @property
    def keys(self) -> list[str]:
        return [k for k, _, _ in self.FIELDS if k != "declared_months" or self.has_months]

    def compose(self) -> ComposeResult:
        item = self.item
        with Vertical(id="correction-dialog", classes="dialog"):
            yield Static(
                f"更正/说明：{item.person_name}·{item.source.value}·{full_class(item)}",
                classes="dialog-title",
                markup=False,
            )
            months = (
                f"，{item.months}个月，月均{money(item.monthly_amount)}元" if item.months else ""
            )
            simulated = f"（{SIMULATED_TEXT}）" if item.simulated else ""
            yield Static(
                f"系统生成{simulated}：{money(item.amount)}元{months}；期间{period_text(item)}",
                id="correction-generated",
                markup=False,
            )
            with Vertical(id="correction-form", classes="flow-form"):
                for key, label, placeholder in self.FIELDS:
                    if key == "declared_months" and not self.has_months:
                        continue
                    with Horizontal(classes="form-row"):
                        yield Label(label, classes="field-label")
                        yield Field(id=f"cf-{key}", placeholder=placeholder)
                    yield MessageLine(id=f"cf-{key}-error", classes="field-error")
            yield Static(
                "申报值与系统生成值并列保存；Enter 下一项，最后一项 Enter 或 F10 提交，Esc 取消",
                classes="dialog-hint",
                markup=False,
            )
            yield MessageLine(id="correction-message")
        yield StableFooter(compact=True)

    def on_mount(self) -> None:
        for key in self.keys:
            self.error_line(key).display = False
        if self.has_months and self.item.months:
            self.field("declared_months").value = str(self.item.months)
        self.call_after_refresh(self.field(self.keys[0]).focus)

    def field(self, key: str) -> Field:
        return self.query_one(f"#cf-{key}", Field)

    def error_line(self, key: str) -> MessageLine:
        return self.query_one(f"#cf-{key}-error", MessageLine)

    @property
    def message(self) -> MessageLine:
        return self.query_one("#correction-message", MessageLine)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        mark_current_row(self, event.widget)

    # --- checking ---------------------------------------------------------------------

    def check(self, key: str) -> tuple[Any, str | None]:
        """The field's value for the body, or the message saying what is wrong."""
        text = self.field(key).value.strip()
        if key == "declared_amount":
            return parse_amount(text)
        if key == "declared_months":
            if not text:
                return None, None
            if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 120:
                return None, MONTHS_INVALID
            return int(text), None
        if key == "reason":
            return (text, None) if text else (None, REASON_REQUIRED)
        return text or None, None

    def set_error(self, key: str, text: str | None) -> None:
        line = self.error_line(key)
        if text:
            line.show(text, "error")
        else:
            line.clear()
        line.display = bool(text)

    @on(Field.Blurred)
    def _left(self, event: Field.Blurred) -> None:
        key = (event.input.id or "").removeprefix("cf-")
        if key in self.keys and (event.input.value.strip() or key != "reason"):
            self.set_error(key, self.check(key)[1])

    @on(Field.Submitted)
    def _entered(self, event: Field.Submitted) -> None:
        event.stop()
        if event.input.id == f"cf-{self.keys[-1]}":
            self.action_submit()
        else:
            self.focus_next()

    def body(self) -> CorrectionIn | None:
        values: dict[str, Any] = {}
        first_bad: str | None = None
        for key in self.keys:
            value, error = self.check(key)
            self.set_error(key, error)
            if error and first_bad is None:
                first_bad = key
            values[key] = value
        if first_bad is None:
            if values.get("declared_amount") is None:
                values.pop("declared_months", None)  # an annotation touches no figures
            try:
                return CorrectionIn(item_id=self.item.id, **values)
            except ValidationError as exc:
                first_bad = self.show_items(local_invalid(exc).items)
        if first_bad is not None:
            self.field(first_bad).focus()
        self.message.show("请按提示修改", "error")
        return None

    def show_items(self, items: list[ErrorItem]) -> str | None:
        """Each problem at its field; the rest on the dialog's message line."""
        first: str | None = None
        unplaced: list[str] = []
        for item in items:
            key = (item.field or "").split(".")[-1]
            if key in self.keys:
                self.set_error(key, item.message)
                first = first or key
            else:
                unplaced.append(item.message)
        self.message.show("；".join(unplaced) or "请按提示修改", "error")
        return first

    # --- keys -------------------------------------------------------------------------

    def action_submit(self) -> None:
        if self._busy:
            return
        body = self.body()
        if body is not None:
            self._post(body)

    @work(exclusive=True, group="correction-post")
    async def _post(self, body: CorrectionIn) -> None:
        draft_id = self.flow.draft_id
        if draft_id is None:
            return
        self._busy = True
        self.message.show("正在提交…")
        self.posted.append(body)
        try:
            status = await self.app.client.add_correction(draft_id, body)  # type: ignore[attr-defined]
        except InvalidRequest as exc:
            focus = self.show_items(exc.items)
            if focus is not None:
                self.field(focus).focus()
            return
        except ClientError as exc:
            text = self.app.explain(exc)  # type: ignore[attr-defined]
            if text is not None:
                self.message.show(f"提交失败：{text}", "error")
            return
        finally:
            self._busy = False
        self.dismiss(status)

    def action_cancel(self) -> None:
        self.dismiss(None)


def parse_amount(text: str) -> tuple[Decimal | None, str | None]:
    """A declared amount in yuan: empty is None (an annotation), else the exact problem."""
    if not text:
        return None, None
    plain = text.replace(",", "").replace("，", "")
    body = plain[1:] if plain.startswith(("-", "+")) else plain
    whole, dot, frac = body.partition(".")
    digits_ok = (
        whole.isascii() and whole.isdigit() and (not dot or (frac.isascii() and frac.isdigit()))
    )
    if not digits_ok:
        return None, AMOUNT_NOT_NUMBER
    try:
        value = Decimal(plain)
    except InvalidOperation:
        return None, AMOUNT_NOT_NUMBER
    if value < 0:
        return None, AMOUNT_NEGATIVE
    if len(frac) > 2:
        return None, AMOUNT_DECIMALS
    if value > MAX_AMOUNT:
        return None, AMOUNT_TOO_LARGE
    return value, None


# --- the screen ----------------------------------------------------------------------------

COLUMNS = (
    ("人员", "person"),
    ("来源", "source"),
    ("类别", "class"),
    ("期间", "period"),
    ("金额", "amount"),
    ("月均", "monthly"),
    ("是否计入", "counted"),
)
# Narrower than this, the table is compact: the period moves last (→ scrolls to it), the
# amount carries only the ※ mark and 是否计入 only the word; the detail line says the rest.
WIDE_COLUMNS = 110
COMPACT_ORDER = ("person", "source", "class", "amount", "monthly", "counted", "period")


class EconomicScreen(FlowScreen):
    STEP = "economic"
    CSS_PATH: ClassVar[list[str | Path]] = [FLOW_CSS, ECON_CSS]  # type: ignore[misc]
    HELP_TITLE = "经济状况"
    HELP = (
        "全部成员授权后，系统向各数据来源核对家庭经济状况，每个来源的进度实时显示。\n"
        "核对完成后列出每人每类收入、财产和刚性支出，以及家庭人均月收入与低保标准的比较；\n"
        "比较和财产提示仅供参考，不是审核结论；“模拟”“示例”表示演示数据。\n"
        "↑↓ 选择项目，c 更正/说明（理由必填，申报值与原值并列保存）。\n"
        "r 重新核对（已有的更正不再适用）；F5 重新读取；F10 确认并下一步；Esc 回到授权签名。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f10", "next_step", "确认并下一步", key_display="F10"),
        # Nothing is typed on this screen: F2 still sends what is pending, off the legend so
        # the legend fits 80 columns.
        Binding("f2", "save_now", "保存", key_display="F2", show=False),
        Binding("c", "correct", "更正/说明", key_display="c"),
        Binding("r", "rerun", "重新核对", key_display="r"),
        Binding("pagedown", "page(1)", "下页", show=False, priority=True),
        Binding("pageup", "page(-1)", "上页", show=False, priority=True),
    ]

    def __init__(self, flow: ApplicationFlow | None = None) -> None:
        super().__init__(flow)
        # loading → running → ready; blocked (someone not 已授权); failed (a read failed)
        self.phase = "loading"
        self.status: EconomicStatusOut | None = None
        self.run_id: str | None = None
        self.live = False
        self.blocked_by: list[str] = []
        self.compact: bool | None = None  # the items table's layout, set from the width

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="econ-body"):
            yield Static("", id="econ-state", markup=False)
            yield SourceProgressList(id="econ-progress")
            yield Static("", id="econ-summary", markup=False)
            yield DataTable(id="econ-items", cursor_type="row", zebra_stripes=False)
            yield Static("", id="econ-item-detail", markup=False)
            yield Static("", id="econ-property", classes="econ-section", markup=False)
            yield Static("", id="econ-deductions", classes="econ-section", markup=False)
            yield Static("", id="econ-corrections", classes="econ-section", markup=False)
            yield Static("", id="econ-notice", classes="econ-section", markup=False)
            yield SourceProgressList(id="econ-sources", classes="econ-section")

    def on_mount(self) -> None:
        super().on_mount()
        self._columns()
        self._show_phase()
        self.set_interval(POLL_SECONDS, self._poll)
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        self.body.focus()
        self._load(start_if_missing=True)

    # --- widgets ------------------------------------------------------------------------

    @property
    def body(self) -> VerticalScroll:
        return self.query_one("#econ-body", VerticalScroll)

    @property
    def table(self) -> DataTable[str]:
        return self.query_one("#econ-items", DataTable)

    @property
    def progress(self) -> SourceProgressList:
        return self.query_one("#econ-progress", SourceProgressList)

    def _static(self, selector: str) -> Static:
        return self.query_one(selector, Static)

    # --- reading ------------------------------------------------------------------------

    @work(exclusive=True, group="econ-load")
    async def _load(self, start_if_missing: bool = False) -> None:
        draft_id = self.flow.draft_id
        if draft_id is None:
            return
        client = self.app.client
        try:
            status = await client.get_economic_status(draft_id)
        except NotFound as exc:
            if self.phase == "running" or not start_if_missing:
                if self.phase != "running":
                    self.message.show(exc.message, "info")
                return
            await self._start_check(draft_id)
            return
        except Conflict as exc:
            if exc.code == "economic_check_stale" and start_if_missing:
                await self._start_check(draft_id, STALE)
                return
            self.show_client_error(exc)
            return
        except ClientError as exc:
            if self.phase == "loading":
                self.phase = "failed"
                self._show_phase()
            self.show_client_error(exc, "读取经济状况失败：")
            return
        self._stop_stream()
        self._show_status(status)

    async def _start_check(self, draft_id: str, note: str | None = None) -> None:
        client = self.app.client
        # Events after the current sequence number belong to this run: the stream replays
        # them even if the run is over before the stream connects.
        after: int | None = 0
        with contextlib.suppress(ClientError):
            after = (await client.get_authorizations(draft_id)).last_event_seq
        try:
            started = await client.start_economic_check(draft_id)
        except InvalidRequest as exc:
            self.phase = "blocked"
            self.blocked_by = [i.message for i in exc.items]
            self._show_phase()
            self.message.show("尚有人员未授权，不能核对", "error")
            return
        except Conflict as exc:
            if exc.code != "economic_check_running":
                self.show_client_error(exc, "未能发起核对：")
                return
            self.run_id = None  # someone else's run: follow it from the start of the stream
            self.progress.reset(list(SourceName))
            after = None
        except ClientError as exc:
            self.phase = "failed"
            self._show_phase()
            self.show_client_error(exc, "未能发起核对：")
            return
        else:
            self.run_id = started.run_id
            self.progress.reset(started.sources)
        self.phase = "running"
        self._show_phase()
        self.message.show(note or "已发起家庭经济状况核对", "info" if note is None else "ok")
        self._stream(draft_id, after)

    @work(exclusive=True, group="econ-sse")
    async def _stream(self, draft_id: str, after: int | None) -> None:
        try:
            await relay(self, draft_id, after)
        except ClientError as exc:
            self.live = False  # no live progress: _poll reads the status instead
            self.show_client_error(exc, "实时进度不可用：")

    def _stop_stream(self) -> None:
        self.workers.cancel_group(self, "econ-sse")
        self.live = False

    def _poll(self) -> None:
        if self.phase == "running" and not self.live:
            self._load()

    @on(LiveEvent)
    def _event(self, message: LiveEvent) -> None:
        event = message.event
        if self.phase != "running":
            return
        if event.type == EventType.economic_progress:
            try:
                progress = SourceProgress.model_validate(event.data)
            except ValueError:
                return
            self.progress.apply(progress)
        elif event.type == EventType.economic_done:
            run = event.data.get("run_id")
            if self.run_id is None or run is None or run == self.run_id:
                self._load()

    @on(StreamReconnected)
    def _reconnected(self) -> None:
        if self.phase == "running":
            self._load()

    @on(StreamState)
    def _stream_state(self, message: StreamState) -> None:
        was = self.live
        self.live = message.connected
        if self.phase != "running":
            return
        if was and not message.connected:
            self.message.show(LIVE_LOST, "error")
        elif message.connected and self.message.text == LIVE_LOST:
            self.message.show("实时进度已恢复", "ok")

    # --- showing ------------------------------------------------------------------------

    def _show_phase(self) -> None:
        """Which parts are shown: progress while running, the status once it is there."""
        running = self.phase == "running"
        ready = self.phase == "ready" and self.status is not None
        self.progress.display = running
        for w in self.query("#econ-summary, #econ-items, #econ-item-detail, .econ-section"):
            w.display = ready
        state = self._static("#econ-state")
        if running:
            state.update(RUNNING)
        elif self.phase == "blocked":
            state.update("\n".join([NOT_AUTHORIZED, *(f"✗ {m}" for m in self.blocked_by)]))
        elif self.phase == "loading":
            state.update("正在读取经济状况…")
        elif self.phase == "failed":
            state.update("✗ 未能读取或发起核对，按 F5 重试")
        elif self.status is not None:
            state.update(self._state_text(self.status))
        state.set_class(self.phase == "blocked", "-error")
        self.refresh_bindings()

    def _state_text(self, s: EconomicStatusOut) -> str:
        clock = self.app.clock
        parts = []
        if s.confirmed:
            at = f" {clock.stamp(s.confirmed_at)}" if s.confirmed_at else ""
            parts.append(f"✓ 已确认{at}（如需修改，按 c 更正/说明后重新确认）")
        else:
            parts.append("… 待确认：请申请人逐项核对；有出入按 c 更正/说明，无误按 F10 确认")
        if not s.complete:
            missing = "、".join(m.value for m in s.missing_sources)
            parts.append(f"✗ 结果不完整：{missing} 未查询成功，请按 r 重新核对")
        head = f"家庭经济状况（系统生成于 {clock.stamp(s.generated_at)}"
        head += f"，【{SIMULATED_TEXT}】数据）" if s.simulated else "）"
        return "\n".join([head, *parts])

    def _show_status(self, status: EconomicStatusOut) -> None:
        if self.phase == "running":
            self.message.show("家庭经济状况核对完成，请申请人逐项核对", "ok")
        self.status = status
        self.phase = "ready"
        self._static("#econ-summary").update(self._summary_text(status))
        self._fill_table(status)
        self._static("#econ-property").update(self._property_text(status))
        self._static("#econ-deductions").update(self._deductions_text(status))
        self._static("#econ-corrections").update(self._corrections_text(status))
        self._static("#econ-notice").update(f"说明：{status.notice}")
        self.query_one("#econ-sources", SourceProgressList).load(status.sources)
        self._show_phase()
        self._show_selected()
        if self.table.row_count and not isinstance(self.focused, DataTable):
            self.table.focus()

    def _summary_text(self, s: EconomicStatusOut) -> str:
        lines = [
            f"家庭人均月收入：{money(s.per_capita_monthly)} 元/人·月"
            f"（家庭月收入 {money(s.household_monthly)} 元，计入 {s.household_size} 人）",
        ]
        if s.standard is not None:
            st = s.standard
            sample = "，示例数据" if st.sample else ""
            lines.append(
                f"低保标准：{money(st.monthly_amount)} 元/人·月"
                f"（{st.hukou_type.value}，{st.effective_from:%Y-%m-%d}起{sample}）"
            )
        else:
            lines.append("低保标准：未找到适用的标准")
        text = s.reference_text
        if not text.startswith(REFERENCE_ONLY_TEXT):
            text = f"{REFERENCE_ONLY_TEXT}：{text}"
        lines.append(text)
        by_class = " · ".join(f"{k.value} {money(v)}" for k, v in s.by_class.items())
        lines.append(
            f"月收入构成：{by_class} · 不计入 {money(s.excluded_monthly)}"
            f" · 刚性支出扣减 {money(s.deductions_monthly)}"
        )
        if s.corrected is not None:
            c = s.corrected
            lines.append(
                f"按申报值计算（并列显示）：家庭人均月收入 {money(c.per_capita_monthly)} 元/人·月"
                f"（家庭月收入 {money(c.household_monthly)} 元）"
            )
            ref = c.reference_text
            if not ref.startswith(REFERENCE_ONLY_TEXT):
                ref = f"{REFERENCE_ONLY_TEXT}：{ref}"
            lines.append(ref)
        return "\n".join(lines)

    def _corrections_of(self, s: EconomicStatusOut) -> dict[str, list[CorrectionOut]]:
        out: dict[str, list[CorrectionOut]] = {}
        for c in s.corrections:
            if c.item_id is not None:
                out.setdefault(c.item_id, []).append(c)
        return out

    def _columns(self) -> bool:
        """Set the table's columns for the screen's width; True when they changed."""
        compact = self.size.width < WIDE_COLUMNS + 10
        if compact == self.compact:
            return False
        self.compact = compact
        table = self.table
        table.clear(columns=True)
        labels = dict((key, label) for label, key in COLUMNS)
        order = COMPACT_ORDER if compact else tuple(key for _, key in COLUMNS)
        for key in order:
            table.add_column(labels[key], key=key)
        return True

    def on_resize(self, event: events.Resize) -> None:
        if self._columns() and self.status is not None:
            self._fill_table(self.status)

    def _fill_table(self, s: EconomicStatusOut) -> None:
        table = self.table
        keep = table.cursor_row
        table.clear()
        corrections = self._corrections_of(s)
        compact = bool(self.compact)
        order = [str(c.value) for c in table.columns]
        for item in s.items:
            cells = {
                "person": item.person_name,
                "source": source_text(item),
                "class": class_text(item),
                "period": period_text(item),
                "amount": amount_text(item, corrections.get(item.id, []), compact=compact),
                "monthly": money(item.monthly_amount),
                "counted": counted_text(item, compact=compact),
            }
            table.add_row(*(cells[k] for k in order), key=item.id)
        if table.row_count:
            table.move_cursor(row=min(max(keep, 0), table.row_count - 1), animate=False)
        table.display = bool(table.row_count)

    def _property_text(self, s: EconomicStatusOut) -> str:
        p = s.property
        held = [t for t in p.totals if t.count]
        lines = ["财产：" + ("；".join(
            f"{t.property_class.value}{t.count}项{money(t.total)}元" for t in held
        ) or "无")]  # fmt: skip
        lines.append(
            f"金融资产合计{money(p.financial_total)}元，人均{money(p.financial_per_capita)}元；"
            f"存款人均{money(p.deposits_per_capita)}元；车辆{p.vehicle_count}辆；"
            f"住房{p.housing_count}套"
        )
        for flag in p.flags:
            lines.append(f"⚠ {flag.label}（{REFERENCE_ONLY_TEXT}）：{flag.message}")
        if p.thresholds_sample:
            lines.append(f"财产参考线（示例）：{p.thresholds_source}")
        return "\n".join(lines)

    def _deductions_text(self, s: EconomicStatusOut) -> str:
        if not s.deductions:
            return "刚性支出扣减：无"
        lines = [f"刚性支出扣减（月均合计 {money(s.deductions_monthly)} 元）："]
        for d in s.deductions:
            lines.append(
                f"  {d.person_name}·{d.kind.value}：{money(d.amount)}元/{d.months}个月，"
                f"月均{money(d.monthly_amount)}元"
            )
        return "\n".join(lines)

    def _corrections_text(self, s: EconomicStatusOut) -> str:
        if not s.corrections:
            return "更正与说明：无"
        lines = [f"更正与说明（{len(s.corrections)} 条，与系统生成值并列，不替换原值）："]
        lines += [f"  {i}. {correction_text(c)}" for i, c in enumerate(s.corrections, 1)]
        lines.append(LEGEND)
        return "\n".join(lines)

    @property
    def selected(self) -> EconomicItemOut | None:
        s = self.status
        if s is None or not s.items or self.table.row_count == 0:
            return None
        return s.items[min(self.table.cursor_row, len(s.items) - 1)]

    def _show_selected(self) -> None:
        detail = self._static("#econ-item-detail")
        item = self.selected
        if self.status is not None and not self.status.items:
            detail.update(NO_ITEMS)
            return
        if item is None:
            detail.update("")
            return
        text = (
            f"所选：{item.person_name}·{item.source.value}·{full_class(item)}·{period_text(item)}"
        )
        if item.description:
            text += f"：{item.description}"
        if item.excluded_reason:
            text += f"；{item.excluded_reason}"
        if item.cost:
            text += f"；扣除必要成本{money(item.cost)}元"
        for c in self._corrections_of(self.status).get(item.id, []) if self.status else []:
            if c.declared_amount is None:
                text += f"\n  ※ 说明：{c.reason}"
            else:
                text += f"\n  ※ 更正：申报{money(c.declared_amount)}元；理由：{c.reason}"
            if c.note:
                text += f"（{c.note}）"
        detail.update(text)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_selected()
        self._follow_cursor()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_correct()

    def _follow_cursor(self) -> None:
        """The table grows with its rows inside the scrolling body: keep the cursor row (and
        the header above it) in view as ↑↓ move it."""
        table = self.table
        if not table.row_count or not table.display:
            return
        top = table.virtual_region.y
        row = top + table.header_height + table.cursor_row
        self.body.scroll_to_region(
            Region(0, row, 1, 1), animate=False, spacing=Spacing(table.header_height + 1, 0, 2, 0)
        )

    # --- keys ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        ready = self.phase == "ready" and self.status is not None
        if action == "next_step":
            return True if ready and self.status is not None and self.status.complete else None
        if action == "correct":
            return True if ready and self.selected is not None else None
        if action == "rerun":
            return True if self.phase in ("ready", "failed") else None
        return super().check_action(action, parameters)

    def action_page(self, direction: int) -> None:
        body = self.body
        height = max(1, body.scrollable_content_region.height - 1)
        body.scroll_to(y=body.scroll_y + direction * height, animate=False)

    def action_refresh(self) -> None:
        if self.phase in ("blocked", "failed", "loading"):
            self.phase = "loading"
            self._show_phase()
            self._load(start_if_missing=True)
        else:
            self._load()
            if self.phase == "ready":
                self.message.show(f"已刷新 {self.app.clock.time_of_day()}", "ok")

    def action_correct(self) -> None:
        item = self.selected
        if item is None or self.phase != "ready":
            return

        def closed(status: EconomicStatusOut | None) -> None:
            if status is None:
                self.message.show("未提交更正")
            else:
                self._show_status(status)
                self.message.show(f"已记录 {item.person_name} 的更正/说明，请重新确认", "ok")
            self.table.focus()

        self.app.push_screen(CorrectionForm(self.flow, item), closed)

    def action_rerun(self) -> None:
        draft_id = self.flow.draft_id
        if draft_id is None or self.phase not in ("ready", "failed"):
            return
        s = self.status
        if s is None or not s.corrections:
            self._rerun(draft_id)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._rerun(draft_id)

        detail = (
            f"已录入的 {len(s.corrections)} 条更正/说明不适用于新的核对结果，需重新录入并确认。"
        )
        self.app.push_screen(ConfirmScreen("重新核对家庭经济状况？", detail), answered)

    @work(exclusive=True, group="econ-load")
    async def _rerun(self, draft_id: str) -> None:
        await self._start_check(draft_id, "已重新发起家庭经济状况核对")

    def action_next_step(self) -> None:
        s = self.status
        if self.phase != "ready" or s is None:
            return
        if not s.complete:
            self.message.show("结果不完整，请按 r 重新核对后再确认", "error")
            return
        self._confirm()

    @work(exclusive=True, group="econ-confirm")
    async def _confirm(self) -> None:
        draft_id = self.flow.draft_id
        if draft_id is None:
            return
        self.message.show("正在确认…")
        try:
            status = await self.app.client.confirm_economic_status(draft_id)
        except ClientError as exc:
            self.show_client_error(exc, "确认失败：")
            return
        self._show_status(status)
        if not status.confirmed:
            self.message.show("确认未被接受，请刷新后重试", "error")
            return
        self.message.show(CONFIRMED, "ok")
        self.before_leaving()
        self.flow.forward(self.STEP)

    def draft_changed(self, draft: Any, *, reloaded: bool) -> None:
        if reloaded and self.phase == "ready":
            with contextlib.suppress(NoMatches):
                self._load()
