"""新增 / 编辑 a household member: the modal form of the 家庭成员 step.

The same fields, checks and messages as 基本信息 (``PersonForm``), plus what Art 7 needs to
decide who counts: relation, co-residence, exclusions, study, independence, duty of support,
capacity and the guardian who signs for a minor. The household rules are the server's: a
refused save lists every problem at its field (一次性告知) and the form stays open. F10 or
Enter in the last field saves; Esc closes, asking first when something was typed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Literal

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from counter_tui.autosave import Queued, Rejected, Saved
from counter_tui.flow import ApplicationFlow, StableFooter, mark_current_row
from counter_tui.screens.base import CounterModal
from counter_tui.screens.basic_info import (
    DISABILITY,
    EMPLOYMENT,
    ETHNICITY,
    GRADE,
    HEALTH,
    ID_NUMBER,
    NAME,
    PHONE,
    REQUIRED,
    UNCHANGED,
    WORK,
    YES_NO,
    FieldSpec,
    PersonForm,
    body_for,
)
from counter_tui.screens.confirm import ConfirmScreen
from counter_tui.widgets.division_picker import Choice
from counter_tui.widgets.message_line import MessageLine
from jiuzhutong.contract import DisabilityCategory, DraftOut, Exclusion, MemberOut, Relation

RELATION = FieldSpec(
    "relation",
    "与申请人关系",
    "select",
    True,
    tuple((r.value, r.value) for r in Relation if r is not Relation.applicant),
)
CO_RESIDENT = FieldSpec("details.co_resident", "共同生活", "select", options=YES_NO)
EXCLUSION = FieldSpec(
    "details.exclusion",
    "不计入情形",
    "select",
    options=tuple((e.value, e.value) for e in Exclusion),
    prompt="无",
)
STUDENT = FieldSpec("details.full_time_student", "全日制在校", "select", options=YES_NO)
DEPENDENT = FieldSpec("details.cannot_live_independently", "不能独立生活", "select", options=YES_NO)
SUPPORT = FieldSpec("details.legal_support_duty", "法定赡养义务", "select", options=YES_NO)
CAPACITY = FieldSpec("details.has_capacity", "完全行为能力", "select", options=YES_NO)
GUARDIAN = FieldSpec("details.guardian_member_id", "监护人", "select", prompt="未指定")
MEMBER_HEALTH = replace(HEALTH, required=False)
MEMBER_DISABILITY = replace(DISABILITY, required=False)
MEMBER_WORK = replace(WORK, required=False)
MEMBER_ETHNICITY = replace(ETHNICITY, required=False)

MEMBER_FIELDS: tuple[FieldSpec, ...] = (
    NAME,
    ID_NUMBER,
    RELATION,
    CO_RESIDENT,
    EXCLUSION,
    STUDENT,
    DEPENDENT,
    SUPPORT,
    CAPACITY,
    GUARDIAN,
    MEMBER_ETHNICITY,
    PHONE,
    MEMBER_HEALTH,
    MEMBER_DISABILITY,
    GRADE,
    MEMBER_WORK,
    EMPLOYMENT,
)

Result = tuple[Literal["saved", "queued"], DraftOut | None]


class MemberFormScreen(PersonForm, CounterModal[Result | None]):
    CSS_PATH: ClassVar = ["../styles/dialogs.tcss", "../styles/flow.tcss"]
    AUTO_FOCUS = ""  # the form focuses the first field needing input itself
    APPLICANT = False
    HELP_TITLE = "家庭成员"
    HELP = (
        "填写家庭成员的信息；带“此项必填”提示的项目必须填写。\n"
        "未成年人或无完全民事行为能力的成员，请选择代为签字的监护人。\n"
        "Tab / Shift+Tab 移动，Enter 到下一项，最后一项按 Enter 或 F10 保存。\n"
        "选择项：←/→ 切换，数字键选第几项，Enter 打开列表。\n"
        "Esc 关闭；已填写未保存的内容会先确认是否放弃。"
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "帮助", key_display="F1"),
        Binding("escape", "close", "返回", key_display="Esc"),
        Binding("f10", "save", "保存", key_display="F10"),
        Binding("f2", "save", "保存", key_display="F2", show=False),
    ]

    def __init__(self, flow: ApplicationFlow, member: MemberOut | None = None) -> None:
        super().__init__()
        self.flow = flow
        self.member = member
        self._known: dict[str, Any] = {}
        self._busy = False
        draft = flow.draft
        assert draft is not None
        persons = [draft.applicant, *draft.members]
        guardians = tuple(
            (f"{p.name}（{p.relation.value}）", p.id)
            for p in persons
            if member is None or p.id != member.id
        )
        self.FIELDS = tuple(  # type: ignore[misc]
            replace(GUARDIAN, options=guardians) if s is GUARDIAN else s for s in MEMBER_FIELDS
        )

    @property
    def title_text(self) -> str:
        return "新增家庭成员" if self.member is None else f"编辑家庭成员：{self.member.name}"

    def compose(self) -> ComposeResult:
        with Vertical(id="member-dialog", classes="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            # Not a Tab stop (see BasicInfoScreen.compose_body).
            with VerticalScroll(id="member-form", classes="flow-form", can_focus=False):
                yield from self.compose_fields(self.FIELDS)
            yield MessageLine(id="member-message")
        yield StableFooter(compact=True)

    def on_mount(self) -> None:
        for spec in self.FIELDS:
            self.error_line(spec).display = False
        if self.member is not None:
            self.fill_person(self.member, {})
        else:
            for spec in self.FIELDS:
                self._known[spec.key] = None
        self._sync_grade()
        self.call_after_refresh(self._focus_start)

    def _focus_start(self) -> None:
        spec = self.first_needing_input() or self.FIELDS[0]
        self.focus_target(spec).focus()

    @property
    def message(self) -> MessageLine:
        return self.query_one("#member-message", MessageLine)

    # --- events ----------------------------------------------------------------------

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        mark_current_row(self, event.widget)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        spec = self.spec_of(event.input)
        if spec is not None and spec.kind == "id":
            self.show_derived(self.member)

    @on(Input.Blurred)
    def _left(self, event: Input.Blurred) -> None:
        spec = self.spec_of(event.input)
        if spec is None:
            return
        _, error = self.read(spec)
        self.set_error(spec, error)

    def submit_form(self) -> None:
        self.action_save()

    @on(Choice.Changed)
    def _picked(self, event: Choice.Changed) -> None:
        spec = self.spec_of(event.choice)
        if spec is not None and spec.key == DISABILITY.key:
            self._sync_grade()

    def _sync_grade(self) -> None:
        grade = self.widget(GRADE)
        category = self.raw(MEMBER_DISABILITY)
        grade.disabled = category in (None, DisabilityCategory.none.value)
        if grade.disabled and grade.value is not None:
            grade.value = None

    # --- saving ----------------------------------------------------------------------

    def _changes(self) -> tuple[dict[str, Any] | None, int]:
        """The body to send (only changed fields when editing) or None with the problems
        shown; and how many problems there were."""
        body: dict[str, Any] = {}
        bad = 0
        for spec in self.FIELDS:
            value, error = self.read(spec)
            if error is None and self.is_missing(spec):
                error = REQUIRED
            self.set_error(spec, error)
            if error:
                bad += 1
                continue
            if value is UNCHANGED:
                continue
            if self.member is not None and self._known.get(spec.key, UNCHANGED) == value:
                continue
            if self.member is None and value is None:
                continue  # a new member: unset stays unset
            part = body_for(spec, value)
            if "details" in part:
                body.setdefault("details", {}).update(part["details"])
            else:
                body.update(part)
        if bad:
            return None, bad
        return body, 0

    def action_save(self) -> None:
        if self._busy:
            return
        body, bad = self._changes()
        if body is None:
            self.message.show(f"请按提示修改（{bad} 项）", "error")
            first = next(s for s in self.FIELDS if self.error_line(s).text)
            self.focus_target(first).focus()
            return
        if self.member is not None and not body:
            self.dismiss(None)  # nothing changed
            return
        self._save(body)

    @work(exclusive=True, group="member-save")
    async def _save(self, body: dict[str, Any]) -> None:
        self._busy = True
        self.message.show("正在保存…")
        try:
            if self.member is None:
                outcome = await self.flow.member_op("add_member", body)
            else:
                outcome = await self.flow.member_op("update_member", body, self.member.id)
        finally:
            self._busy = False
        if isinstance(outcome, Saved):
            self.dismiss(("saved", outcome.draft))
        elif isinstance(outcome, Queued):
            self.dismiss(("queued", None))
        elif isinstance(outcome, Rejected):
            self.show_errors(outcome.items)

    def show_errors(self, items: list[Any]) -> None:
        unplaced = self.show_items(items)
        text = "；".join(i.message for i in unplaced)
        self.message.show(text or f"请按提示修改（{len(items)} 项）", "error")
        first = next((s for s in self.FIELDS if self.error_line(s).text), None)
        if first is not None:
            self.focus_target(first).focus()

    # --- closing ---------------------------------------------------------------------

    def _dirty(self) -> bool:
        for spec in self.FIELDS:
            raw = self.raw(spec)
            if raw is UNCHANGED:
                continue
            known = self._known.get(spec.key)
            if spec.kind not in ("select", "division"):
                raw = raw.strip() or None if isinstance(raw, str) else raw
            if raw != known:
                return True
        return False

    def action_close(self) -> None:
        if not self._dirty():
            self.dismiss(None)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(
            ConfirmScreen("放弃未保存的修改？", "本成员的修改尚未保存。"), answered
        )
