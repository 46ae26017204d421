"""The dibao application flow: its steps in order, and the state of one application.

告知书 → 为谁申请 → 基本信息 → 家庭成员 → 授权签名 → 经济状况 → 提交, as in the seed's
mini-program. ``STEP_SCREENS`` names each step's screen ("module:Class", imported when first
opened). A step's screen subclasses ``FlowScreen`` with its ``STEP`` and takes the
``ApplicationFlow`` in ``__init__``: ``flow.draft`` is the newest DraftOut, ``flow.version``
its version, ``flow.saver`` the autosave (If-Match, 412 re-apply, outbox).

Screens move forward with ``switch_screen``, so the stack stays home → one flow screen
(+ dialogs) and Esc never has a pile of stale forms behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Awaitable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from counter_tui.autosave import AutoSaver, Op, Outcome, replay, saver_for
from counter_tui.errors import ClientError
from counter_tui.screens.base import CounterScreen
from counter_tui.widgets.message_line import Kind, MessageLine
from counter_tui.widgets.offline_banner import OfflineBanner
from counter_tui.widgets.save_status import SaveStatus
from counter_tui.widgets.stable_footer import StableFooter
from counter_tui.widgets.step_bar import StepBar
from jiuzhutong.contract import DraftOut, ErrorItem
from jiuzhutong.contract.authorization import NoticeOut

if TYPE_CHECKING:
    from counter_tui.app import CounterApp

FLOW_CSS = Path(__file__).parent / "styles" / "flow.tcss"

# The flow's screens in order. "applicant" (为谁申请) is the mini-program's dialog between the
# notice and the form; it is not a step of the step bar and never a draft's saved step.
ORDER: tuple[str, ...] = (
    "notice",
    "applicant",
    "basic_info",
    "members",
    "authorization",
    "economic",
    "submit",
)
STEP_SCREENS: dict[str, str] = {
    "notice": "counter_tui.screens.notice:NoticeScreen",
    "applicant": "counter_tui.screens.applicant:ApplicantScreen",
    "basic_info": "counter_tui.screens.basic_info:BasicInfoScreen",
    "members": "counter_tui.screens.members:MembersScreen",
    "authorization": "counter_tui.screens.authorization:AuthorizationScreen",
    "economic": "counter_tui.screens.economic:EconomicScreen",
    "submit": "counter_tui.screens.submit:SubmitScreen",
}
# Where each screen sits on the step bar.
BAR_STEP: dict[str, str] = {"applicant": "basic_info"}
# Steps recorded in DraftUpdate.step, so a resumed draft reopens where the clerk was.
RECORDED_STEPS = frozenset({"basic_info", "members", "authorization", "economic", "submit"})

NOTICE_SCROLLED = "已阅读至末尾"
NOTICE_READ_ALOUD = "已向申请人宣读"
# How long ApplicationFlow.open holds a screen's first frame for its ``prepare`` (a slow line
# then sees the screen at once, filling in as its reads come back).
PREPARE_TIMEOUT = 0.25
# A screen's next step is imported this long after the screen is opened (it is idle then).
PRELOAD_DELAY = 0.25
_SAVES: set[asyncio.Future[None]] = set()  # saves a held screen waited for (kept referenced)


def screen_class(step: str) -> type[FlowScreen]:
    target = STEP_SCREENS[step]
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, FlowScreen)):
        raise TypeError(f"{target} is not a FlowScreen")
    return cls


def preload(step: str) -> None:
    """Import ``step``'s screen module ahead of time (a few ms, off the key's path)."""
    with contextlib.suppress(ImportError):  # opening the step reports it
        importlib.import_module(STEP_SCREENS[step].partition(":")[0])


def resume_step(saved: str | None) -> str:
    """The step a saved draft reopens at: its own (基本信息 when none was recorded)."""
    return saved if saved in RECORDED_STEPS else "basic_info"


def next_step(step: str) -> str | None:
    index = ORDER.index(step)
    return ORDER[index + 1] if index + 1 < len(ORDER) else None


class ApplicationFlow:
    """One application being filed at this counter: notice, draft, version, current step.

    It is the autosave's listener for its draft and forwards what happens to the screen
    showing the flow now.
    """

    def __init__(self, app: CounterApp) -> None:
        self.app = app
        self.saver: AutoSaver = saver_for(app)
        self.notice: NoticeOut | None = None
        self.notice_ack: str | None = None  # NOTICE_SCROLLED | NOTICE_READ_ALOUD
        self.draft: DraftOut | None = None
        self.step = "notice"
        self.after_notice: str | None = None  # a draft opened before its notice was read
        self.applicant_form: dict[str, Any] = {}  # 为谁申请's typed values, kept on Esc
        self.screen: FlowScreen | None = None
        self._recorded_step: str | None = None
        replay(app)  # what a killed run left in the outbox goes out first

    # --- the draft ------------------------------------------------------------------

    @property
    def draft_id(self) -> str | None:
        return self.draft.id if self.draft else None

    @property
    def version(self) -> int | None:
        if self.draft is None:
            return None
        return self.saver.versions.get(self.draft.id, self.draft.version)

    def adopt(self, draft: DraftOut) -> None:
        """Make ``draft`` this flow's application (created, or continued)."""
        if self.draft is not None and self.draft.id != draft.id:
            self.saver.unlisten(self.draft.id, self)
        self.draft = draft
        self._recorded_step = draft.step
        self.saver.track(draft)
        self.saver.listen(draft.id, self)
        self.record_notice()

    def record_notice(self) -> None:
        """DraftUpdate.notice_version as soon as both the draft and the read notice exist."""
        if self.draft is None or self.notice is None or self.notice_ack is None:
            return
        if self.draft.notice_version != self.notice.version:
            self.change({"notice_version": self.notice.version}, now=True)

    def change(self, body: dict[str, Any], *, now: bool = False) -> None:
        if self.draft is not None:
            self.saver.change(self.draft.id, body, now=now)

    def record_step(self, step: str) -> None:
        if self.draft is None or step not in RECORDED_STEPS or self._recorded_step == step:
            return
        self._recorded_step = step
        self.change({"step": step}, now=True)

    def pending_update(self) -> dict[str, Any]:
        return self.saver.pending_update(self.draft.id) if self.draft else {}

    async def member_op(
        self, op: Op, body: dict[str, Any] | None = None, member_id: str | None = None
    ) -> Outcome:
        """Add/change/remove a member through the autosave (If-Match, 412, outbox)."""
        assert self.draft is not None
        return await self.saver.member_op(self.draft.id, op, body, member_id)

    # --- autosave listener ----------------------------------------------------------

    def draft_saved(self, draft: DraftOut) -> None:
        self.draft = draft
        if self.screen is not None:
            self.screen.draft_changed(draft, reloaded=False)

    def draft_reloaded(self, draft: DraftOut) -> None:
        self.draft = draft
        if self.screen is not None:
            self.screen.draft_changed(draft, reloaded=True)

    def save_rejected(self, op: Op, items: list[ErrorItem]) -> None:
        if self.screen is not None:
            self.screen.show_errors(items, op=op)

    def save_state(self, state: str, text: str) -> None:
        if self.screen is not None:
            self.screen.show_save_state(state, text)

    def offline_changed(self, offline: bool, pending: int) -> None:
        if self.screen is not None:
            self.screen.show_offline(offline, pending)

    def draft_gone(self, message: str) -> None:
        self.draft = None
        self.home(f"{message}（该申请已不存在或已被删除）", "error")

    # --- navigation -----------------------------------------------------------------

    def attach(self, screen: FlowScreen) -> None:
        self.screen = screen
        self.step = screen.STEP

    def detach(self, screen: FlowScreen) -> None:
        if self.screen is screen:
            self.screen = None

    def open(self, step: str) -> None:
        """Show ``step`` in place of the current flow screen."""
        cls = screen_class(step)
        self.record_step(step)
        screen = cls(self)
        if isinstance(self.app.screen, FlowScreen):
            self.app.switch_screen(screen)
        else:
            self.app.push_screen(screen)
        following = next_step(step)
        if following is not None:
            # The next step's code is loaded while the clerk works here, not on 下一步.
            self.app.set_timer(PRELOAD_DELAY, partial(preload, following))
        ready = screen.prepare()
        if ready is not None:
            # Nothing is painted until the screen has what its first frame shows (and the
            # step just recorded is saved), so it appears once, complete, instead of empty
            # and then row by row. Keys typed meanwhile already go to the new screen.
            batch = self.app.batch_update()
            batch.__enter__()
            self.app.run_worker(
                self._hold(screen, ready, batch), group="flow-open", exit_on_error=False
            )

    async def _hold(
        self,
        screen: FlowScreen,
        ready: Awaitable[object],
        batch: contextlib.AbstractContextManager[None],
    ) -> None:
        # The step's save runs on its own (never cut short); the screen's reads run here, so
        # the batch ends right after they change the screen, without another turn of the loop.
        saving = asyncio.ensure_future(self.saver.drain())
        _SAVES.add(saving)
        saving.add_done_callback(_SAVES.discard)
        try:
            async with asyncio.timeout(PREPARE_TIMEOUT):
                await ready
                await asyncio.shield(saving)
        except TimeoutError:
            pass  # paint what there is; the screen fills in when its reads come back
        finally:
            batch.__exit__(None, None, None)
            if screen.is_attached:
                screen.call_after_refresh(screen.first_frame_shown)

    def forward(self, step: str) -> None:
        following = next_step(step)
        if following is None:
            self.home("已保存")
            return
        self.open(following)

    def back(self, step: str) -> None:
        """Esc: the previous screen of the flow; home from the first screen of a draft."""
        self.saver.flush()
        if step in ("notice", "basic_info") or step not in ORDER:
            self.home("已保存，申请已列在首页" if self.draft else None)
        else:  # the step before: 为谁申请 → 告知书, 家庭成员 → 基本信息, …, 提交 → 经济状况
            self.open(ORDER[ORDER.index(step) - 1])

    def accept_notice(self, ack: str) -> None:
        """我已阅读并承诺: on to 为谁申请, or back into a draft that was opened first."""
        self.notice_ack = ack
        if self.draft is not None:
            self.record_notice()
            self.open(self.after_notice or resume_step(self.draft.step))
        else:
            self.open("applicant")

    def continue_draft(self, draft: DraftOut) -> None:
        """继续填写: open a saved draft at its saved step with every field."""
        self.adopt(draft)
        self.open(resume_step(draft.step))

    def home(self, message: str | None = None, kind: Kind = "ok") -> None:
        """Back to the home screen, whose list is reloaded so the draft shows there."""
        from counter_tui.screens.home import HomeScreen

        app = self.app
        homes = [s for s in app.screen_stack if isinstance(s, HomeScreen)]
        if not homes:
            return
        home = homes[-1]
        while app.screen_stack[-1] is not home and len(app.screen_stack) > 2:
            app.pop_screen()
        home.load_drafts(message, kind)


async def open_draft(app: CounterApp, draft_id: str) -> None:
    """Continue a draft from outside the flow (e.g. the home list): read it and open it at
    its saved step; a draft whose notice was never recorded shows the notice first."""
    flow = ApplicationFlow(app)
    draft = await app.client.get_draft(draft_id)
    flow.adopt(draft)
    if draft.notice_version is None:
        flow.after_notice = resume_step(draft.step)
        flow.open("notice")
    else:
        flow.open(resume_step(draft.step))


def mark_current_row(screen: Screen, widget: Widget) -> None:
    """Give the focused field's ``.form-row`` the class ``-current`` (its label is shown
    reversed: focus readable without colour). Textual restyles on a focus change only below
    the outermost ancestor that has a ``:focus-within`` rule of its own, so a rule ending in
    the label left the old row's label styled; the row is marked explicitly (app.tcss also
    gives ``.form-row`` such a rule, for the login form). Toggling the class restyles that
    row only: a Tab repaints the two rows, not the screen."""
    row = next((a for a in widget.ancestors_with_self if a.has_class("form-row")), None)
    for old in screen.query(".form-row.-current"):
        if old is not row:
            old.remove_class("-current")
    if row is not None:
        row.add_class("-current")


class FlowScreen(CounterScreen):
    """Base of the flow's screens: title, step bar, offline banner, body, message and save
    status, Footer. Subclasses set STEP and implement ``compose_body``."""

    STEP: ClassVar[str] = "notice"
    CSS_PATH = FLOW_CSS
    # Each screen puts the cursor where input is needed itself; Textual's auto focus would
    # first focus (and restyle) something else.
    AUTO_FOCUS = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "save_now", "保存", key_display="F2"),
        Binding("f5", "refresh", "刷新", key_display="F5"),
        Binding("f10", "next_step", "下一步", key_display="F10"),
    ]

    app: CounterApp  # type: ignore[assignment]

    def __init__(self, flow: ApplicationFlow | None = None) -> None:
        super().__init__()
        self._flow = flow

    @property
    def flow(self) -> ApplicationFlow:
        if self._flow is None:
            self._flow = ApplicationFlow(self.app)
        return self._flow

    def compose(self) -> ComposeResult:
        self.flow.attach(self)
        yield Static(self.app.TITLE, id="title-bar", markup=False)
        yield StepBar(BAR_STEP.get(self.STEP, self.STEP))
        yield OfflineBanner()
        yield from self.compose_body()
        with Horizontal(id="flow-status"):
            yield MessageLine(id="flow-message")
            yield SaveStatus()
        # Compact: the flow's legend (F1 … F10, the screen's own keys, Ctrl+Q) fits 80 columns.
        yield StableFooter(compact=True)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def prepare(self) -> Awaitable[object] | None:
        """Called by ApplicationFlow.open once the screen is current: an awaitable of what
        the first frame must show (e.g. a read from the server). The flow paints nothing
        until it is done (at most PREPARE_TIMEOUT s), then calls ``first_frame_shown``. None
        (the default): paint at once. A screen pushed without the flow is never held."""
        return None

    def first_frame_shown(self) -> None:
        """After a held screen's first frame is painted: start what can wait (a stream)."""

    def on_mount(self) -> None:
        saver = self.flow.saver
        draft = self.flow.draft
        if draft is not None:
            self.show_offline(saver.offline, saver.pending_count(draft.id))
            if saver.pending_count(draft.id) == 0:
                self.show_save_state("saved", f"已保存 {self.saved_at(draft)}")
        elif saver.offline:
            self.show_offline(True, saver.pending_count())

    def saved_at(self, draft: DraftOut) -> str:
        """When the draft was last saved: hh:mm:ss today, else the date and minute."""
        clock = self.app.clock
        if clock.local(draft.updated_at).date() == clock.now().date():
            return clock.time_of_day(draft.updated_at)
        return clock.stamp(draft.updated_at)

    def on_unmount(self) -> None:
        if self._flow is not None:
            self._flow.detach(self)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        mark_current_row(self, event.widget)

    # --- what the flow tells the screen (override to show more) ---------------------

    @property
    def message(self) -> MessageLine:
        return self.query_one("#flow-message", MessageLine)

    def draft_changed(self, draft: DraftOut, *, reloaded: bool) -> None:
        """A save came back (or the draft was reloaded after someone else's change)."""

    def show_errors(self, items: list[ErrorItem], *, op: Op | None = None) -> None:
        text = "；".join(i.message for i in items)
        if text:
            self.message.show(text, "error")

    def show_save_state(self, state: str, text: str) -> None:
        with contextlib.suppress(NoMatches):  # the screen is gone or not composed yet
            self.query_one(SaveStatus).show(state, text)  # type: ignore[arg-type]

    def show_offline(self, offline: bool, pending: int) -> None:
        with contextlib.suppress(NoMatches):
            self.query_one(OfflineBanner).show(offline, pending)

    def show_client_error(self, exc: ClientError, prefix: str = "") -> None:
        """A failed read: the app takes over an expired session; else say what happened."""
        text = self.app.explain(exc)
        if text is not None:
            self.message.show(f"{prefix}{text}", "error")

    async def fetch_fresh_draft(self) -> DraftOut | None:
        """F5: send what is pending, then read the draft again and make it the flow's.

        None when there is no draft or the read failed (the failure is shown)."""
        draft = self.flow.draft
        if draft is None:
            return None
        await self.flow.saver.drain()
        try:
            fresh = await self.app.client.get_draft(draft.id)
        except ClientError as exc:
            self.show_client_error(exc, "未能刷新：")
            return None
        self.flow.saver.track(fresh)
        self.flow.draft = fresh
        self.message.show(f"已刷新 {self.app.clock.time_of_day()}", "ok")
        return fresh

    # --- keys -----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return True
        if action == "save_now":
            return True if self.flow.draft is not None else None
        return super().check_action(action, parameters)

    def action_back(self) -> None:
        self.before_leaving()
        self.flow.back(self.STEP)

    def action_save_now(self) -> None:
        self.before_leaving()
        if self.flow.saver.pending_count(self.flow.draft_id) == 0:
            self.message.show("所有修改均已保存", "ok")
        self.flow.saver.flush()

    def action_refresh(self) -> None:
        """F5: read the draft again (pending edits are sent first and stay on screen)."""

    def action_next_step(self) -> None:
        self.before_leaving()
        self.flow.forward(self.STEP)

    def before_leaving(self) -> None:
        """Hand what is being typed to the autosave (forms override this)."""
