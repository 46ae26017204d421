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
from pathlib import Path
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.css.query import NoMatches
from textual.geometry import Region, Spacing
from textual.widgets import DataTable, Static

from counter_tui.errors import ClientError, Conflict, InvalidRequest, NotFound
from counter_tui.flow import FLOW_CSS, ApplicationFlow, FlowScreen
from counter_tui.screens.confirm import ConfirmScreen
from counter_tui.screens.correction_form import CorrectionForm
from counter_tui.screens.economic_text import (
    amount_text,
    class_text,
    correction_text,
    counted_text,
    full_class,
    money,
    period_text,
    source_text,
)
from counter_tui.screens.live import LiveEvent, StreamReconnected, StreamState, relay
from counter_tui.widgets.source_progress import SourceProgressList
from jiuzhutong.contract.authorization import EventType
from jiuzhutong.contract.economic import (
    REFERENCE_ONLY_TEXT,
    SIMULATED_TEXT,
    CorrectionOut,
    EconomicItemOut,
    EconomicStatusOut,
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
