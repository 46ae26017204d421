"""经济状况, keys only, against the real embedded server: the check's progress from the SSE
stream, the status with the server's figures and reference sentence, a correction through
the form (empty reason refused with the exact message, nothing posted; a valid one kept by
the server), F10 确认 and on; 422 names who is not 已授权; a dead stream falls back to
reading. Snapshots at 80×24 and 120×40 from fixed data (fakes.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from counter_tui import flow
from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.screens.authorization import AuthorizationScreen
from counter_tui.screens.correction_form import (
    AMOUNT_DECIMALS,
    AMOUNT_NEGATIVE,
    AMOUNT_NOT_NUMBER,
    MONTHS_INVALID,
    REASON_REQUIRED,
    CorrectionForm,
    parse_amount,
)
from counter_tui.screens.economic import EconomicScreen
from counter_tui.widgets.message_line import MessageLine
from counter_tui.widgets.source_progress import SourceProgressList
from jiuzhutong.contract import (
    ApplyMode,
    DraftCreate,
    DraftOut,
    DraftUpdate,
    LoginResponse,
    MemberIn,
    Relation,
)
from jiuzhutong.contract.authorization import IdentityCheck, LocalIdentityIn
from jiuzhutong.contract.economic import SourceName, SourceState
from jiuzhutong.domain.idnumber import make_id_number

from .conftest import synthetic_id
from .fakes import add_economic_endpoints, econ_status, stream_through
from .helpers import resume_home
from .test_flow_snapshots import MEMBERS, _app, _home, flow_fake
from .test_flow_snapshots import _draft as snapshot_draft
from .test_flow_support import quick_autosave, tui_data_dir, type_text  # noqa: F401

_member_seq = iter(range(700, 999))
DETAILS = {"hukou_division": "420106", "hukou_type": "城镇", "phone": "13900001111"}


async def _seed(api: ApiClient, *, authorize: bool = True) -> DraftOut:
    """Applicant and spouse at the 经济状况 step; both 已授权 by 本机授权 unless told not."""
    draft = await api.create_draft(
        DraftCreate(name="测试经济甲", id_number=synthetic_id(), mode=ApplyMode.in_person)
    )
    draft = await api.update_draft(
        draft.id,
        DraftUpdate(details=DETAILS, step="economic", notice_version="v1"),  # type: ignore[arg-type]
        if_match=draft.version,
    )
    spouse = MemberIn(
        name="测试经济乙",
        id_number=make_id_number("420106", date(1958, 7, 9), next(_member_seq)),
        relation=Relation.spouse,
    )
    draft = await api.add_member(draft.id, spouse, if_match=draft.version)
    if authorize:
        for person in (draft.applicant, *draft.members):
            await api.local_identity(
                draft.id, person.id, LocalIdentityIn(check=IdentityCheck.id_card)
            )
            await api.local_signature(draft.id, person.id)
    return draft


async def _until(pilot: Pilot, cond: Callable[[], Any], timeout: float = 15.0) -> None:
    """Wait for the screen (the stream worker runs while a check does: no settle here)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            screen = pilot.app.screen
            raise AssertionError(f"timed out on {type(screen).__name__}: {_state(pilot.app)}")
        await pilot.pause(0.05)
    await pilot.pause()


def _screen(app: CounterApp) -> EconomicScreen:
    screen = app.screen
    assert isinstance(screen, EconomicScreen), screen
    return screen


def _ready(app: CounterApp) -> bool:
    s = app.screen
    return isinstance(s, EconomicScreen) and s.phase == "ready"


def _text(app: CounterApp, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def _state(app: CounterApp) -> str:
    try:
        return _text(app, "#econ-state")
    except Exception:  # not on the screen
        return ""


def _rows(app: CounterApp) -> list[dict[str, str]]:
    """The items table, each row by column key (the column order depends on the width)."""
    table = app.screen.query_one("#econ-items", DataTable)
    keys = [str(k.value) for k in table.columns]
    return [
        dict(zip(keys, (str(c) for c in table.get_row_at(i)), strict=True))
        for i in range(table.row_count)
    ]


def _error(app: CounterApp, key: str) -> str:
    return app.screen.query_one(f"#cf-{key}-error", MessageLine).text


async def _open(pilot: Pilot, session: LoginResponse, draft_id: str) -> None:
    """Home, then the draft continued at its saved step (经济状况), as 继续填写 does."""
    await resume_home(pilot, session)
    await flow.open_draft(pilot.app, draft_id)  # type: ignore[arg-type]
    await _until(pilot, lambda: isinstance(pilot.app.screen, EconomicScreen))


async def _clear(pilot: Pilot) -> None:
    await pilot.press("end", *(["backspace"] * 12))


async def test_check_status_correction_and_confirm_by_keys(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    draft = await _seed(api)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, demo_session, draft.id)
        await _until(pilot, lambda: _ready(app))
        screen = _screen(app)

        # Progress came from the stream: every source reported 查询中 and then 完成.
        history = screen.progress.history
        assert {p.source for p in history} == set(SourceName)
        for source in SourceName:
            states = [p.state for p in history if p.source == source]
            assert states[0] == SourceState.querying and states[-1] == SourceState.done, states
        final = app.screen.query_one("#econ-sources", SourceProgressList).lines()
        assert len(final) == 10
        assert all("✓ 完成" in line and "模拟" in line for line in final), final

        # The status as the server holds it.
        server = await api.get_economic_status(draft.id)
        summary = _text(app, "#econ-summary")
        assert f"家庭人均月收入：{server.per_capita_monthly:.2f} 元/人·月" in summary
        assert server.reference_text.startswith("参考")
        assert server.reference_text in summary.replace("\n", "")
        assert server.standard is not None and server.standard.sample
        assert f"低保标准：{server.standard.monthly_amount:.2f} 元/人·月" in summary
        assert "示例数据" in summary
        rows = _rows(app)
        assert len(rows) == len(server.items) > 0
        for row, item in zip(rows, server.items, strict=True):
            assert row["person"] == item.person_name
            assert row["source"] == f"{item.source.value}·模拟"
            assert row["amount"] == f"{item.amount:.2f}"
            assert row["counted"].startswith("✓") == item.counted
        assert "模拟" in _state(app) and "待确认" in _state(app)
        assert "超过参考线（参考）" in _text(app, "#econ-property")

        # c on the first item: an empty reason is refused with the exact message, nothing
        # is posted. The amount's own checks speak first.
        await pilot.press("c")
        await _until(pilot, lambda: isinstance(app.screen, CorrectionForm))
        form = app.screen
        assert isinstance(form, CorrectionForm)
        assert form.item.id == server.items[0].id
        assert app.focused is not None and app.focused.id == "cf-declared_amount"
        for typed, message in (
            ("abc", AMOUNT_NOT_NUMBER),
            ("-5", AMOUNT_NEGATIVE),
            ("12.345", AMOUNT_DECIMALS),
        ):
            await _clear(pilot)
            await type_text(pilot, typed)
            await pilot.press("tab")
            assert _error(app, "declared_amount") == message
            await pilot.press("shift+tab")
        await _clear(pilot)
        await type_text(pilot, "100")
        await pilot.press("tab")
        assert _error(app, "declared_amount") == ""
        if server.items[0].months:
            await _clear(pilot)
            await type_text(pilot, "0")
            await pilot.press("tab")
            assert _error(app, "declared_months") == MONTHS_INVALID
            await pilot.press("shift+tab")
            await _clear(pilot)
            await type_text(pilot, "12")
            await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "cf-reason"
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, CorrectionForm)
        assert _error(app, "reason") == REASON_REQUIRED
        assert app.focused is not None and app.focused.id == "cf-reason"
        assert form.posted == []
        assert (await api.get_economic_status(draft.id)).corrections == []

        # A valid one: posted, the screen repaints, the server holds it beside the item.
        await type_text(pilot, "已于上月离职")
        await pilot.press("tab")
        await type_text(pilot, "以单位证明为准")
        await pilot.press("enter")  # Enter in the last field submits
        await _until(pilot, lambda: isinstance(app.screen, EconomicScreen))
        await _until(pilot, lambda: bool(screen.status and screen.status.corrections))
        server = await api.get_economic_status(draft.id)
        [c] = server.corrections
        assert c.item_id == server.items[0].id and c.declared_amount == Decimal("100.00")
        assert c.reason == "已于上月离职" and c.note == "以单位证明为准"
        assert server.items[0].amount == c.generated_amount  # the generated value stays
        assert _rows(app)[0]["amount"] == f"{server.items[0].amount:.2f} ※"  # compact at 80
        assert "※ 更正：申报100.00元；理由：已于上月离职" in _text(app, "#econ-item-detail")
        corrections = _text(app, "#econ-corrections")
        assert "申报100.00元" in corrections and "理由：已于上月离职" in corrections
        if server.corrected is not None:
            assert server.corrected.reference_text in _text(app, "#econ-summary").replace("\n", "")

        # c, then Esc: nothing posted, the screen as it was.
        await pilot.press("c")
        await _until(pilot, lambda: isinstance(app.screen, CorrectionForm))
        await type_text(pilot, "5")
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, EconomicScreen))
        assert len((await api.get_economic_status(draft.id)).corrections) == 1
        assert _rows(app)[0]["amount"] == f"{server.items[0].amount:.2f} ※"

        # F10 确认并下一步: confirmed on the server, and on to 提交.
        assert screen.check_action("next_step", ()) is True
        await pilot.press("f10")
        await _until(pilot, lambda: not isinstance(app.screen, EconomicScreen))
        assert (await api.get_economic_status(draft.id)).confirmed is True


async def test_not_authorized_says_who_and_blocks_confirm(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    draft = await _seed(api, authorize=False)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(pilot, demo_session, draft.id)
        await _until(pilot, lambda: _screen(app).phase == "blocked")
        state = _state(app)
        assert "测试经济甲尚未完成授权" in state and "测试经济乙尚未完成授权" in state
        screen = _screen(app)
        assert screen.check_action("next_step", ()) is None
        assert screen.check_action("correct", ()) is None
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, EconomicScreen)
        await pilot.press("escape")  # back to 授权签名
        await _until(pilot, lambda: isinstance(app.screen, AuthorizationScreen))


async def test_a_dead_stream_falls_back_to_reading(
    make_app: Callable[..., CounterApp],
    demo_session: LoginResponse,
    api: ApiClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The event stream never connects: the screen reads the status by itself."""
    from counter_tui import events
    from counter_tui.screens import economic

    real = events.subscribe
    tried: list[httpx.Request] = []

    def down(request: httpx.Request) -> httpx.Response:
        tried.append(request)
        raise httpx.ConnectError("line down (test)", request=request)

    def subscribe(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        kwargs["transport"] = httpx.MockTransport(down)
        kwargs["backoff"] = (0.1,)
        return real(*args, **kwargs)

    monkeypatch.setattr(events, "subscribe", subscribe)
    monkeypatch.setattr(economic, "POLL_SECONDS", 0.3)
    draft = await _seed(api)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(pilot, demo_session, draft.id)
        await _until(pilot, lambda: _ready(app))
        assert tried, "the screen must have tried the stream"
        assert _screen(app).progress.history == []  # nothing came live
        server = await api.get_economic_status(draft.id)
        assert server.reference_text in _text(app, "#econ-summary").replace("\n", "")


def test_parse_amount() -> None:
    assert parse_amount("") == (None, None)
    assert parse_amount("1200") == (Decimal("1200"), None)
    assert parse_amount("1,200.50") == (Decimal("1200.50"), None)
    assert parse_amount("1e3") == (None, AMOUNT_NOT_NUMBER)
    assert parse_amount("一百") == (None, AMOUNT_NOT_NUMBER)
    assert parse_amount("-0.5") == (None, AMOUNT_NEGATIVE)
    assert parse_amount("0.001") == (None, AMOUNT_DECIMALS)
    assert parse_amount("1000000001")[1] == "金额不能超过1000000000元"


# --- snapshots (fixed data behind MockTransport) --------------------------------------


def _fake(**kwargs: Any):  # type: ignore[no-untyped-def]
    draft = _draft_out()
    fake = flow_fake(draft)
    posts = add_economic_endpoints(fake, draft.id, **kwargs)
    return fake, draft, posts


def _draft_out() -> DraftOut:
    return snapshot_draft("economic", MEMBERS[:1])


async def _at_economic(pilot: Pilot) -> None:
    await _home(pilot)
    await flow.open_draft(pilot.app, "d-9")  # type: ignore[arg-type]
    await _until(pilot, lambda: isinstance(pilot.app.screen, EconomicScreen))


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_economic_status_snapshot(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    fake, _, _ = _fake()

    async def run(pilot: Pilot) -> None:
        await _at_economic(pilot)
        await _until(pilot, lambda: _ready(pilot.app))  # type: ignore[arg-type]
        await pilot.pause()

    assert snap_compare(_app(fake), terminal_size=size, run_before=run)


@pytest.mark.parametrize("theme", ["textual-light", "ansi-dark"])
def test_economic_status_theme_snapshot(snap_compare: Callable[..., bool], theme: str) -> None:
    """A light terminal theme and the 16 ANSI colours: every state still a word and symbol."""
    fake, _, _ = _fake()

    async def run(pilot: Pilot) -> None:
        await _at_economic(pilot)
        await _until(pilot, lambda: _ready(pilot.app))  # type: ignore[arg-type]
        await pilot.pause()

    assert snap_compare(_app(fake, theme=theme), terminal_size=(80, 24), run_before=run)


def test_economic_progress_snapshot(
    snap_compare: Callable[..., bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, _, posts = _fake(running_until_done=6)
    stream_through(fake, monkeypatch)

    async def run(pilot: Pilot) -> None:
        await _at_economic(pilot)
        await _until(pilot, lambda: len(_screen(pilot.app).progress.history) == 10)  # type: ignore[arg-type]
        await pilot.pause()

    assert snap_compare(_app(fake), terminal_size=(80, 24), run_before=run)
    assert len(posts["check"]) == 1


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_correction_form_snapshot(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    fake, _, _ = _fake(status=econ_status(corrected=False))

    async def run(pilot: Pilot) -> None:
        await _at_economic(pilot)
        await _until(pilot, lambda: _ready(pilot.app))  # type: ignore[arg-type]
        await pilot.press("c")
        await _until(pilot, lambda: isinstance(pilot.app.screen, CorrectionForm))
        await type_text(pilot, "12.345")
        await pilot.press("tab", "tab", "f10")  # amount and reason wrong: both said
        await pilot.pause()

    assert snap_compare(_app(fake), terminal_size=size, run_before=run)


async def test_confirm_posts_once_and_moves_on_fake() -> None:
    """F10 on the fake: one confirm POST, no check started, then the flow goes on."""
    fake, _, posts = _fake()
    app = _app(fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await _at_economic(pilot)
        await _until(pilot, lambda: _ready(app))
        await pilot.press("f10")
        await _until(pilot, lambda: not isinstance(app.screen, EconomicScreen))
    assert len(posts["confirm"]) == 1
    assert posts["corrections"] == [] and posts["check"] == []
