"""更正/说明: the form for a correction or annotation of one generated item, with its reason."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from pydantic import ValidationError
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Static

from counter_tui.client import local_invalid
from counter_tui.errors import ClientError, InvalidRequest
from counter_tui.flow import ApplicationFlow, StableFooter, mark_current_row
from counter_tui.screens.base import CounterModal
from counter_tui.screens.economic_text import full_class, money, period_text
from counter_tui.widgets.fields import Field
from counter_tui.widgets.message_line import MessageLine
from jiuzhutong.contract import ErrorItem
from jiuzhutong.contract.economic import (
    SIMULATED_TEXT,
    CorrectionIn,
    EconomicItemOut,
    EconomicStatusOut,
    ItemKind,
)

# Messages of the correction form (exact: tests compare them).
REASON_REQUIRED = "请填写更正或说明的理由"
AMOUNT_NOT_NUMBER = "金额应为数字，如 1200 或 1200.50"
AMOUNT_NEGATIVE = "金额不能为负数"
AMOUNT_DECIMALS = "金额最多保留两位小数（到分）"
AMOUNT_TOO_LARGE = "金额不能超过1000000000元"
MONTHS_INVALID = "月数应为1至120之间的整数"
MAX_AMOUNT = Decimal("1000000000")


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
