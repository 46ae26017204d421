"""基本信息: every field of the applicant, saved field by field as the clerk types.

The ID number fills birth date, gender and region by itself (shown beside it) and proposes
the 户籍所在地 county; the clerk confirms rather than retypes. Values are checked with the
contract's own types and the domain rules the server applies, so a message here is word for
word the server's ("身份证号校验位错误", "手机号应为11位（现有10位）"); a refused save's
items are shown at their fields all the same.

``PersonForm`` (the field table, checks, reading and filling) is shared with the member
form, so both speak with one voice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import TypeAdapter, ValidationError
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from counter_tui.client import local_invalid
from counter_tui.flow import FlowScreen
from counter_tui.widgets.division_picker import Choice, DivisionPicker
from counter_tui.widgets.fields import Field
from counter_tui.widgets.id_input import (
    ClearableMaskedField,
    IdInput,
    MaskedField,
    describe,
    describe_parts,
)
from counter_tui.widgets.message_line import MessageLine
from jiuzhutong.contract import (
    DisabilityCategory,
    DraftOut,
    ErrorItem,
    HealthStatus,
    HukouType,
    MaritalStatus,
    MemberOut,
    PersonDetails,
    Relation,
    WorkAbility,
)
from jiuzhutong.contract.text import IdNumberText, Name
from jiuzhutong.domain.errors import DomainError
from jiuzhutong.domain.household import Person, check_household
from jiuzhutong.domain.idnumber import IdNumberError, parse_id_number
from jiuzhutong.domain.phone import validate_phone

Kind = Literal["text", "name", "id", "masked", "select", "division"]
REQUIRED = "此项必填"  # the server's word for a missing field
FIX_FIELDS = "请按提示修改（{n} 项）"
UNCHANGED = object()  # a masked field still holding the server's value


def _choices(enum: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    return tuple((e.value, e.value) for e in enum)


YES_NO: tuple[tuple[str, Any], ...] = (("是", True), ("否", False))
GRADES: tuple[tuple[str, Any], ...] = tuple((f"{n}级", n) for n in range(1, 5))


@dataclass(frozen=True)
class FieldSpec:
    key: str  # the wire path: "name", "id_number", "details.phone"
    label: str
    kind: Kind = "text"
    required: bool = False
    options: tuple[tuple[str, Any], ...] = ()
    placeholder: str = ""
    prompt: str = "请选择"

    @property
    def widget_id(self) -> str:
        return "f-" + self.key.replace(".", "-")

    @property
    def error_id(self) -> str:
        return "e-" + self.key.replace(".", "-")

    @property
    def detail(self) -> str | None:
        return self.key.removeprefix("details.") if self.key.startswith("details.") else None


NAME = FieldSpec("name", "姓名", "name", required=True)
ID_NUMBER = FieldSpec("id_number", "身份证号", "id", required=True)
ETHNICITY = FieldSpec("details.ethnicity", "民族", required=True, placeholder="如：汉族")
PHONE = FieldSpec("details.phone", "手机号", placeholder="11位手机号")
HUKOU = FieldSpec("details.hukou_division", "户籍所在地", "division", required=True)
HUKOU_ADDRESS = FieldSpec("details.hukou_address", "户籍地址", required=True)
RESIDENCE = FieldSpec("details.residence_address", "现居住地址", required=True)
HUKOU_TYPE = FieldSpec("details.hukou_type", "城镇/农村", "select", True, _choices(HukouType))
MARITAL = FieldSpec("details.marital_status", "婚姻状况", "select", True, _choices(MaritalStatus))
HEALTH = FieldSpec("details.health", "健康状况", "select", True, _choices(HealthStatus))
DISABILITY = FieldSpec(
    "details.disability_category", "残疾类别", "select", True, _choices(DisabilityCategory)
)
GRADE = FieldSpec("details.disability_grade", "残疾等级", "select", options=GRADES)
WORK = FieldSpec("details.work_ability", "劳动能力", "select", True, _choices(WorkAbility))
EMPLOYMENT = FieldSpec("details.employment", "就业情况", placeholder="如：无业、务农、灵活就业")
REASON = FieldSpec("details.apply_reason", "申请理由", required=True)
BANK = FieldSpec("details.bank_name", "开户银行", placeholder="发放低保金的银行")
ACCOUNT = FieldSpec("details.bank_account", "银行账号", "masked")

APPLICANT_FIELDS: tuple[FieldSpec, ...] = (
    NAME,
    ID_NUMBER,
    ETHNICITY,
    FieldSpec("details.phone", "手机号", required=True, placeholder="11位手机号"),
    HUKOU,
    HUKOU_ADDRESS,
    RESIDENCE,
    HUKOU_TYPE,
    MARITAL,
    HEALTH,
    DISABILITY,
    GRADE,
    WORK,
    EMPLOYMENT,
    REASON,
    BANK,
    ACCOUNT,
)


# --- checks -----------------------------------------------------------------------------


_NAME: TypeAdapter[str] = TypeAdapter(Name)
_ID_TEXT: TypeAdapter[str] = TypeAdapter(IdNumberText)


def _first_message(exc: ValidationError) -> str:
    items = local_invalid(exc).items
    return items[0].message if items else "取值无效"


def body_for(spec: FieldSpec, value: Any) -> dict[str, Any]:
    """{"details": {"phone": "138…"}} for details.phone; {"name": "…"} for name."""
    if spec.detail is not None:
        return {"details": {spec.detail: value}}
    return {spec.key: value}


def check_value(
    spec: FieldSpec, raw: Any, *, today: date, applicant: bool = True
) -> tuple[Any, str | None]:
    """(value to send, None) or (None, the server's message). Empty text → None (clears).

    The contract's types run first, exactly as the server validates a body, then the domain
    rules (ID number, phone, and for the applicant the household's age rule).
    """
    if spec.kind in ("select", "division"):
        return raw, None
    text = raw if isinstance(raw, str) else ""
    if spec.kind == "id":
        if not text.strip():
            return None, "身份证号不能为空"
        try:
            _ID_TEXT.validate_python(text)
            info = parse_id_number(text, today=today)
        except ValidationError as exc:
            return None, _first_message(exc)
        except IdNumberError as exc:
            return None, exc.message
        if applicant and spec.key == "id_number":
            person = Person("applicant", "申请人", info, Relation.applicant, PersonDetails())
            problems = [
                e for e in check_household([person], on=today) if e.field == "applicant.id_number"
            ]
            if problems:
                return None, problems[0].message
        return info.number, None
    if spec.kind == "name" or spec.key == "name":
        try:
            return _NAME.validate_python(text), None
        except ValidationError as exc:
            return None, _first_message(exc)
    if not text.strip():
        return None, None
    assert spec.detail is not None
    try:
        details = PersonDetails.model_validate({spec.detail: text})
    except ValidationError as exc:
        return None, _first_message(exc)
    value = getattr(details, spec.detail)
    if spec.detail == "phone":
        try:
            value = validate_phone(value)
        except DomainError as exc:
            return None, exc.message
    return value, None


def server_value(spec: FieldSpec, person: MemberOut) -> Any:
    """The person's saved value for a field, as a Choice/Field holds it."""
    if spec.key == "name":
        return person.name
    if spec.key == "id_number":
        return person.id_number
    if spec.key == "relation":
        return person.relation.value
    assert spec.detail is not None
    value = getattr(person.details, spec.detail)
    return value.value if hasattr(value, "value") else value


def pending_value(spec: FieldSpec, pending: dict[str, Any]) -> Any:
    """The outbox's unsent value for a field, or UNCHANGED."""
    if spec.detail is not None:
        details = pending.get("details") or {}
        return details.get(spec.detail, UNCHANGED)
    return pending.get(spec.key, UNCHANGED)


# --- the shared form ------------------------------------------------------------------------


class PersonForm:
    """Mixin of a screen holding person fields: rows, reading, filling, messages."""

    FIELDS: ClassVar[tuple[FieldSpec, ...]] = ()
    APPLICANT: ClassVar[bool] = True

    _known: dict[str, Any]

    # --- building ---------------------------------------------------------------------

    def compose_fields(self, specs: Sequence[FieldSpec]) -> ComposeResult:
        client = self.app.client  # type: ignore[attr-defined]
        for spec in specs:
            if spec.kind == "division":
                yield DivisionPicker(client, label=spec.label, id=spec.widget_id)
            else:
                with Horizontal(classes="form-row"):
                    yield Label(spec.label, classes="field-label")
                    yield self._make_widget(spec)
                    if spec.kind == "id":
                        yield Static("", id=f"{spec.widget_id}-derived", classes="id-derived")
            yield MessageLine(id=spec.error_id, classes="field-error")

    def _make_widget(self, spec: FieldSpec) -> Widget:
        if spec.kind == "id":
            return IdInput(id=spec.widget_id)
        if spec.kind == "masked":
            return ClearableMaskedField(id=spec.widget_id, placeholder=spec.placeholder)
        if spec.kind == "select":
            return Choice(spec.options, prompt=spec.prompt, title=spec.label, id=spec.widget_id)
        return Field(id=spec.widget_id, placeholder=spec.placeholder)

    # --- lookups ----------------------------------------------------------------------

    def last_field(self) -> FieldSpec:
        """The field where Enter submits the form instead of moving on."""
        return self.FIELDS[-1]

    def enter_moves_on(self, widget: Widget) -> bool:
        """Asked by the App's Enter (a priority key, like Tab): True when Enter in ``widget``
        only moves to the next field. The App then moves focus at once, in key order, so
        type-ahead after the Enter lands in the next field, not in this one."""
        spec = self.spec_of(widget)
        return isinstance(widget, Input) and spec is not None and spec is not self.last_field()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the last field submits the form; from the others the App's priority
        Enter has already moved on (this covers an Enter that did not come as a key)."""
        spec = self.spec_of(event.input)
        if spec is None:
            return
        event.stop()
        if spec is self.last_field():
            self.submit_form()
        else:
            self.focus_next()  # type: ignore[attr-defined]

    def submit_form(self) -> None:
        """What Enter in the last field does: 下一步 (a dialog form saves instead)."""
        self.action_next_step()  # type: ignore[attr-defined]

    def spec_of(self, widget: Widget | None) -> FieldSpec | None:
        while widget is not None:
            wid = widget.id or ""
            for spec in self.FIELDS:
                if wid == spec.widget_id:
                    return spec
            parent = widget.parent
            widget = parent if isinstance(parent, Widget) else None
        return None

    def spec_for_key(self, key: str | None) -> FieldSpec | None:
        return next((s for s in self.FIELDS if s.key == key), None)

    def widget(self, spec: FieldSpec) -> Any:
        return self.query_one(f"#{spec.widget_id}")  # type: ignore[attr-defined]

    def focus_target(self, spec: FieldSpec) -> Widget:
        w = self.widget(spec)
        return w.first_select if isinstance(w, DivisionPicker) else w

    def error_line(self, spec: FieldSpec) -> MessageLine:
        return self.query_one(f"#{spec.error_id}", MessageLine)  # type: ignore[attr-defined]

    @property
    def today(self) -> date:
        return self.app.clock.now().date()  # type: ignore[attr-defined]

    # --- reading --------------------------------------------------------------------

    def raw(self, spec: FieldSpec) -> Any:
        """The widget's value: text, a choice, a code, or UNCHANGED (masked)."""
        w = self.widget(spec)
        if isinstance(w, MaskedField):
            value = w.wire_value
            return UNCHANGED if value is None else value
        if isinstance(w, Choice):
            return w.value
        if isinstance(w, DivisionPicker):
            return w.code
        return w.value

    def read(self, spec: FieldSpec) -> tuple[Any, str | None]:
        """(value, error) of a field now; UNCHANGED for an untouched masked field."""
        raw = self.raw(spec)
        if raw is UNCHANGED:
            return UNCHANGED, None
        return check_value(spec, raw, today=self.today, applicant=self.APPLICANT)

    def is_missing(self, spec: FieldSpec) -> bool:
        if spec is GRADE or spec.key == GRADE.key:
            category = self.raw(DISABILITY) if self.spec_for_key(DISABILITY.key) else None
            return category not in (None, DisabilityCategory.none.value) and (
                self.raw(spec) is None
            )
        if not spec.required:
            return False
        raw = self.raw(spec)
        if raw is UNCHANGED:
            return False
        return raw is None or (isinstance(raw, str) and not raw.strip())

    # --- filling --------------------------------------------------------------------

    def fill(self, spec: FieldSpec, value: Any, *, masked: bool = False) -> None:
        """Show a value without it counting as the clerk's change."""
        self._known[spec.key] = UNCHANGED if masked and value else value
        w = self.widget(spec)
        if isinstance(w, MaskedField):
            if masked:
                w.set_server_masked(value)
            else:
                w.set_known(value or "")
        elif isinstance(w, Choice):
            legal = {v for _, v in w.options}
            w.value = value if value in legal else None
        elif isinstance(w, DivisionPicker):
            w.set_code(value)
        else:
            w.value = "" if value is None else str(value)

    def fill_person(self, person: MemberOut, pending: dict[str, Any]) -> None:
        for spec in self.FIELDS:
            value = pending_value(spec, pending)
            if value is not UNCHANGED:
                self.fill(spec, value)
            else:
                self.fill(spec, server_value(spec, person), masked=spec.kind in ("id", "masked"))
        self.show_derived(person)

    def show_derived(self, person: MemberOut | None = None) -> None:
        spec = self.spec_for_key("id_number")
        if spec is None:
            return
        line = self.query_one(f"#{spec.widget_id}-derived", Static)  # type: ignore[attr-defined]
        w = self.widget(spec)
        info = w.parse(self.today)
        if info is not None:
            text = describe(info)
        elif person is not None and w.holds_server_value:
            a = person
            text = describe_parts(a.birth_date, a.gender.value, a.division_name)
        elif w.holds_server_value:
            return  # keep what the saved draft said
        else:
            text = ""
        if str(line.render()) != text:
            line.update(text, layout=False)

    # --- messages -------------------------------------------------------------------

    def set_error(self, spec: FieldSpec, text: str | None) -> None:
        line = self.error_line(spec)
        if (text or "") == line.text and line.display == bool(text):
            return  # unchanged: no relayout for every field left without a problem
        if text:
            line.show(text, "error")
        else:
            line.clear()
        line.display = bool(text)

    def show_items(self, items: Sequence[ErrorItem]) -> list[ErrorItem]:
        """Put each item at its field; returns the ones no field of this form matches."""
        unplaced: list[ErrorItem] = []
        placed: set[str] = set()
        for item in items:
            spec = self.spec_for_key(item.field)
            if spec is None:
                unplaced.append(item)
                continue
            if spec.key in placed:
                continue  # the first problem of a field is the one to fix first
            placed.add(spec.key)
            self.set_error(spec, item.message)
        return unplaced

    def check_all(self) -> list[FieldSpec]:
        """Validate every field (as on submit); returns those with a problem, in order."""
        bad = []
        for spec in self.FIELDS:
            _, error = self.read(spec)
            if error is None and self.is_missing(spec):
                error = REQUIRED
            self.set_error(spec, error)
            if error:
                bad.append(spec)
        return bad

    def first_needing_input(self) -> FieldSpec | None:
        for spec in self.FIELDS:
            if self.error_line(spec).text or self.is_missing(spec):
                return spec
        return None


class BasicInfoScreen(PersonForm, FlowScreen):
    STEP = "basic_info"
    CSS_PATH = FlowScreen.CSS_PATH
    FIELDS = APPLICANT_FIELDS
    APPLICANT = True
    HELP_TITLE = "基本信息"
    HELP = (
        "填写申请人的基本信息；每项修改都会自动保存（右下角显示“已保存 时间”）。\n"
        "Tab / Shift+Tab 在各项之间移动；Enter 到下一项，最后一项按 Enter 进入下一步。\n"
        "选择项：←/→ 逐个切换，数字键 1–9 直接选第几项，Enter 打开列表（↑/↓、Enter）。\n"
        "身份证号会自动显示出生日期、性别和地区；离开该项后只显示前6位和后4位。\n"
        "F2 立即保存；F5 重新读取；F10 下一步（家庭成员）；Esc 回到首页，已填内容均已保存。"
    )

    def __init__(self, flow=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(flow)
        self._known = {}
        self._loaded = False
        self._rejected = False

    def compose_body(self) -> ComposeResult:
        # Not a Tab stop of its own: focusing the form would repaint all of it (and show
        # the clerk no cursor); its fields scroll into view when they are focused.
        with VerticalScroll(id="form", classes="flow-form", can_focus=False):
            yield from self.compose_fields(self.FIELDS)

    def on_mount(self) -> None:
        for spec in self.FIELDS:
            self.error_line(spec).display = False
        draft = self.flow.draft
        if draft is not None:
            self._load(draft)
        self.call_after_refresh(self._focus_start)

    def _load(self, draft: DraftOut) -> None:
        pending = self.flow.pending_update()
        self.fill_person(draft.applicant, pending)
        self._sync_grade()
        self._loaded = True
        if draft.applicant.details.hukou_division is None and pending_value(HUKOU, pending) in (
            UNCHANGED,
            None,
        ):
            # The ID number's county, for the clerk to confirm (or change).
            self.widget(HUKOU).propose(draft.applicant.division_code)

    def _focus_start(self) -> None:
        spec = self.first_needing_input() or self.FIELDS[0]
        self.focus_target(spec).focus()

    # --- the clerk's edits ----------------------------------------------------------

    def _offer(self, spec: FieldSpec, *, now: bool, show_error: bool) -> None:
        """Hand the field's value to the autosave if it is valid and new."""
        value, error = self.read(spec)
        if value is UNCHANGED:
            if show_error:
                self.set_error(spec, None)
            if now:
                self.flow.saver.flush()
            return
        if error is not None:
            if show_error:
                self.set_error(spec, error)
            return
        self.set_error(spec, None)
        if spec.key in self._known and self._known[spec.key] == value:
            if now:
                self.flow.saver.flush()  # typed already, waiting for the debounce: send now
            return
        self._known[spec.key] = value
        self.flow.change(body_for(spec, value), now=now)

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        spec = self.spec_of(event.input)
        if spec is None or not self._loaded:
            return
        if spec.kind == "id":
            self.show_derived(self.flow.draft.applicant if self.flow.draft else None)
        self._offer(spec, now=False, show_error=False)

    @on(Input.Blurred)
    def _left(self, event: Input.Blurred) -> None:
        spec = self.spec_of(event.input)
        if spec is None or not self._loaded:
            return
        self._offer(spec, now=True, show_error=True)
        if spec.kind == "id":
            self._propose_hukou()

    @on(Choice.Changed)
    def _picked(self, event: Choice.Changed) -> None:
        spec = self.spec_of(event.choice)
        if spec is None or not self._loaded:
            return
        self._offer(spec, now=True, show_error=True)
        if spec.key == DISABILITY.key and self._sync_grade():
            self._offer(GRADE, now=True, show_error=True)

    @on(DivisionPicker.Changed)
    def _division(self, event: DivisionPicker.Changed) -> None:
        spec = self.spec_of(event.picker)
        if spec is not None and self._loaded:
            self._offer(spec, now=True, show_error=True)

    @on(DivisionPicker.Invalid)
    def _division_refused(self, event: DivisionPicker.Invalid) -> None:
        spec = self.spec_of(event.picker)
        if spec is not None:
            self.set_error(spec, event.message)

    def _sync_grade(self) -> bool:
        """残疾等级 only with a disability; True when a grade was cleared (to save)."""
        grade = self.widget(GRADE)
        category = self.raw(DISABILITY)
        disabled = category in (None, DisabilityCategory.none.value)
        grade.disabled = disabled
        if disabled and grade.value is not None:
            grade.value = None
            return True
        return False

    def _propose_hukou(self) -> None:
        """The ID number's county as 户籍所在地 when none is chosen yet."""
        picker = self.widget(HUKOU)
        info = self.widget(ID_NUMBER).parse(self.today)
        if info is None or picker.code is not None:
            return
        picker.propose(info.division_code)

    # --- what the flow reports ------------------------------------------------------

    def draft_changed(self, draft: DraftOut, *, reloaded: bool) -> None:
        if not reloaded:
            return
        # Someone else saved meanwhile: show their values, except where an edit is pending
        # (it is being re-applied on top) or the clerk is typing.
        pending = self.flow.pending_update()
        for spec in self.FIELDS:
            if pending_value(spec, pending) is not UNCHANGED:
                continue
            w = self.widget(spec)
            if getattr(w, "has_focus", False):
                continue
            masked = spec.kind in ("id", "masked")
            self.fill(spec, server_value(spec, draft.applicant), masked=masked)
        self.show_derived(draft.applicant)
        self.message.show("该申请刚被他人修改，已重新读取并保留您的修改", "info")

    def show_errors(self, items: list[ErrorItem], *, op: Any = None) -> None:
        self._rejected = True
        unplaced = self.show_items(items)
        # A refused value is not saved: forget it so retyping the same value is offered.
        for item in items:
            spec = self.spec_for_key(item.field)
            if spec is not None:
                self._known.pop(spec.key, None)
        text = "；".join(i.message for i in unplaced)
        self.message.show(text or FIX_FIELDS.format(n=len(items) - len(unplaced)), "error")

    # --- keys -----------------------------------------------------------------------

    def before_leaving(self) -> None:
        focused = self.focused
        spec = self.spec_of(focused) if focused is not None else None
        if spec is not None and isinstance(focused, Input):
            self._offer(spec, now=True, show_error=True)

    def action_next_step(self) -> None:
        self.before_leaving()
        bad = self.check_all()
        if bad:
            self.message.show(FIX_FIELDS.format(n=len(bad)), "error")
            self.focus_target(bad[0]).focus()
            return
        self._go_on()

    @work(exclusive=True, group="basic-next")
    async def _go_on(self) -> None:
        self._rejected = False
        await self.flow.saver.drain()
        if self._rejected:
            return  # the server refused something: it is shown at its field
        self.flow.forward(self.STEP)

    def action_refresh(self) -> None:
        self._reload()

    @work(exclusive=True, group="basic-reload")
    async def _reload(self) -> None:
        fresh = await self.fetch_fresh_draft()
        if fresh is not None:
            self._load(fresh)
