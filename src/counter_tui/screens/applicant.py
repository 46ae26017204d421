"""为谁申请: 本人申请 or 代他人申请, the resident's name and ID number; creates the draft.

代他人申请 records an entrustment (Art 6). The person who entrusts the counter is the
resident themself unless another person is named: then both that person's name and ID
number are needed. When the resident already has an unfinished application (found when the
ID number is entered, or a 409 draft_exists on creation), a dialog offers 继续填写 or
重新开始.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Input, Static

from counter_tui.errors import (
    BackendTimeout,
    BackendUnreachable,
    ClientError,
    Conflict,
    InvalidRequest,
    NotFound,
    StaleVersion,
)
from counter_tui.flow import FlowScreen
from counter_tui.screens.basic_info import ID_NUMBER, NAME, FieldSpec, PersonForm, check_value
from counter_tui.screens.confirm import ConfirmScreen
from counter_tui.screens.resume import ResumeChoice, ResumeScreen, describe_draft
from counter_tui.widgets.division_picker import Choice
from counter_tui.widgets.id_input import describe
from jiuzhutong.contract import ApplyMode, DraftCreate, DraftOut, ErrorItem

MODE = FieldSpec(
    "mode",
    "申请方式",
    "select",
    True,
    tuple((m.value, m.value) for m in ApplyMode),
)
ENTRUSTING_NAME = FieldSpec("entrusting_name", "委托人姓名", "name")
ENTRUSTING_ID = FieldSpec("entrusting_id_number", "委托人身份证号", "id")
ENTRUST_HINT = "委托人不是申请人本人时填写；申请人本人委托窗口代为办理时两项都留空"
UNREACHABLE = "无法连接服务，申请尚未创建；恢复连接后按 F10 重试"


class ApplicantScreen(PersonForm, FlowScreen):
    STEP = "applicant"
    FIELDS = (MODE, NAME, ID_NUMBER, ENTRUSTING_NAME, ENTRUSTING_ID)
    APPLICANT = True
    HELP_TITLE = "为谁申请"
    HELP = (
        "选择本人申请或代他人申请，填写申请人姓名和身份证号，按 F10 新建申请。\n"
        "代他人申请时，委托人不是申请人本人的，填写委托人的姓名和身份证号。\n"
        "该申请人已有未完成的申请时，可选择继续填写或重新开始。\n"
        "Esc 返回告知书，已填内容保留。"
    )

    def __init__(self, flow=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(flow)
        self._known: dict[str, Any] = {}
        self._busy = False
        self._asked: set[str] = set()  # ID numbers already offered for 继续填写

    def compose_body(self) -> ComposeResult:
        # Not a Tab stop of its own: focusing the form would repaint all of it (and show
        # the clerk no cursor); its fields scroll into view when they are focused.
        with VerticalScroll(id="form", classes="flow-form", can_focus=False):
            yield Static("为谁申请", classes="section-title", markup=False)
            yield from self.compose_fields(self.FIELDS[:3])
            with Vertical(id="entrusting"):
                yield Static(ENTRUST_HINT, classes="form-hint", markup=False)
                yield from self.compose_fields(self.FIELDS[3:])

    def on_mount(self) -> None:
        for spec in self.FIELDS:
            self.error_line(spec).display = False
        mode = self.widget(MODE)
        mode.value = self.flow.applicant_form.get("mode", ApplyMode.in_person.value)
        for spec in self.FIELDS[1:]:
            value = self.flow.applicant_form.get(spec.key)
            if value:
                self.widget(spec).value = value
        self._sync_mode()
        self.call_after_refresh(self._focus_start)

    def _focus_start(self) -> None:
        spec = next((s for s in self._visible() if self.is_missing(s)), NAME)
        self.focus_target(spec).focus()

    # --- form state ----------------------------------------------------------------

    @property
    def entrusted(self) -> bool:
        return self.raw(MODE) == ApplyMode.entrusted.value

    def last_field(self) -> FieldSpec:
        return self._visible()[-1]

    def _visible(self) -> tuple[FieldSpec, ...]:
        return self.FIELDS if self.entrusted else self.FIELDS[:3]

    def _sync_mode(self) -> None:
        self.query_one("#entrusting").display = self.entrusted

    def _remember(self) -> None:
        """Keep what was typed in the flow, so Esc and coming back lose nothing."""
        form: dict[str, Any] = {"mode": self.raw(MODE)}
        for spec in self.FIELDS[1:]:
            form[spec.key] = self.widget(spec).value
        self.flow.applicant_form = form

    def _check(self, spec: FieldSpec) -> tuple[Any, str | None]:
        value, error = check_value(spec, self.widget(spec).value, today=self.today)
        if spec in (ENTRUSTING_NAME, ENTRUSTING_ID) and not self.widget(spec).value.strip():
            return None, None  # optional; the pair is checked on submit
        return value, error

    # --- events --------------------------------------------------------------------

    @on(Choice.Changed)
    def _mode_changed(self, event: Choice.Changed) -> None:
        if self.spec_of(event.choice) is MODE:
            self._sync_mode()
            self._remember()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        spec = self.spec_of(event.input)
        if spec is None:
            return
        self._remember()
        if spec.kind == "id":
            line = self.query_one(f"#{spec.widget_id}-derived", Static)
            info = self.widget(spec).parse(self.today)
            line.update(describe(info) if info else "")

    @on(Input.Blurred)
    def _left(self, event: Input.Blurred) -> None:
        spec = self.spec_of(event.input)
        if spec is None:
            return
        value, error = self._check(spec)
        self.set_error(spec, error)
        if spec is ID_NUMBER and value is not None and value not in self._asked:
            self._asked.add(value)
            self._look_up(value)

    # --- keys ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "refresh":
            return None  # nothing saved yet to read again
        return super().check_action(action, parameters)

    def action_back(self) -> None:
        self._remember()
        super().action_back()

    def action_next_step(self) -> None:
        if self._busy:
            return
        request = self._request()
        if request is not None:
            self._create(request)

    def _request(self) -> DraftCreate | None:
        """The DraftCreate, or None with every problem shown at its field."""
        values: dict[str, Any] = {}
        bad: list[FieldSpec] = []
        for spec in self._visible()[1:]:
            value, error = self._check(spec)
            self.set_error(spec, error)
            if error:
                bad.append(spec)
            values[spec.key] = value
        if self.entrusted:
            typed_name = bool(self.widget(ENTRUSTING_NAME).value.strip())
            typed_id = bool(self.widget(ENTRUSTING_ID).value.strip())
            # The server's words for an incomplete pair (Art 6 needs both).
            if typed_name and not typed_id:
                self.set_error(ENTRUSTING_ID, "请填写委托人身份证号")
                bad.append(ENTRUSTING_ID)
            elif typed_id and not typed_name:
                self.set_error(ENTRUSTING_NAME, "请填写委托人姓名")
                bad.append(ENTRUSTING_NAME)
        if bad:
            self.message.show(f"请按提示修改（{len(bad)} 项）", "error")
            self.focus_target(bad[0]).focus()
            return None
        return DraftCreate(
            name=values["name"],
            id_number=values["id_number"],
            mode=ApplyMode(self.raw(MODE)),
            entrusting_name=values.get("entrusting_name") if self.entrusted else None,
            entrusting_id_number=values.get("entrusting_id_number") if self.entrusted else None,
        )

    # --- work ----------------------------------------------------------------------

    @work(exclusive=True, group="lookup")
    async def _look_up(self, id_number: str) -> None:
        try:
            found = await self.app.client.lookup_drafts(id_number)
        except ClientError:
            return  # creating will tell (409) if there is one
        if found:
            await self._offer_existing(found[0].id)

    @work(exclusive=True, group="create")
    async def _create(self, request: DraftCreate) -> None:
        self._busy = True
        self.message.show("正在新建申请…")
        try:
            draft = await self.app.client.create_draft(request)
        except Conflict as exc:
            if exc.existing_id:
                self.message.clear()
                await self._offer_existing(exc.existing_id)
            else:
                self.show_errors(exc.items)
            return
        except InvalidRequest as exc:
            self.show_errors(exc.items)
            return
        except (BackendUnreachable, BackendTimeout):
            self.message.show(UNREACHABLE, "error")
            return
        except ClientError as exc:
            self.show_client_error(exc, "未能新建申请：")
            return
        finally:
            self._busy = False
        self.flow.applicant_form = {}
        self.flow.adopt(draft)
        self.flow.open("basic_info")

    async def _offer_existing(self, draft_id: str) -> None:
        try:
            existing = await self.app.client.get_draft(draft_id)
        except NotFound:
            self.message.show("该申请人已有未完成的申请，但不在您的服务区域内", "error")
            return
        except ClientError as exc:
            self.show_client_error(exc, "未能读取原申请：")
            return

        def chosen(choice: ResumeChoice | None) -> None:
            if choice == "continue":
                self.flow.applicant_form = {}
                self.flow.continue_draft(existing)
            elif choice == "restart":
                self._confirm_restart(existing)
            else:
                self.message.show("未做改动；可修改后按 F10 新建，或按 Esc 返回")

        self.app.push_screen(ResumeScreen(existing, self.app.clock), chosen)

    def _confirm_restart(self, existing: DraftOut) -> None:
        detail = describe_draft(existing, self.app.clock) + "\n将删除原申请，然后新建。"

        def answered(yes: bool | None) -> None:
            if yes:
                self._restart(existing)
            else:
                self.message.show("未删除原申请")

        self.app.push_screen(ConfirmScreen("确认删除原申请并重新开始？", detail), answered)

    @work(exclusive=True, group="restart")
    async def _restart(self, existing: DraftOut) -> None:
        try:
            await self.app.client.delete_draft(existing.id, if_match=existing.version)
        except StaleVersion:
            self.message.show("原申请刚被修改过，未删除；请按 F10 重试", "error")
            return
        except NotFound:
            pass  # already gone: create anyway
        except ClientError as exc:
            self.show_client_error(exc, "未能删除原申请：")
            return
        request = self._request()
        if request is not None:
            self._create(request)

    def show_errors(self, items: list[ErrorItem], *, op: Any = None) -> None:
        unplaced = self.show_items(items)
        text = "；".join(i.message for i in unplaced)
        self.message.show(text or f"请按提示修改（{len(items)} 项）", "error")
        bad = next((s for s in self._visible() if self.error_line(s).text), None)
        if bad is not None:
            self.focus_target(bad).focus()
