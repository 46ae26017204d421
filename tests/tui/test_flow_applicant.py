"""为谁申请, keys only, against the real server: creation, entrustment, 继续填写/重新开始."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Button

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.errors import NotFound
from counter_tui.screens.applicant import ENTRUSTING_ID, ENTRUSTING_NAME, ApplicantScreen
from counter_tui.screens.basic_info import ID_NUMBER, BasicInfoScreen
from counter_tui.screens.confirm import ConfirmScreen
from counter_tui.screens.members import MembersScreen
from counter_tui.screens.resume import ResumeScreen
from jiuzhutong.contract import (
    ApplyMode,
    DraftCreate,
    DraftUpdate,
    LoginResponse,
    PersonDetails,
)
from jiuzhutong.domain.idnumber import mask_id_number

from .conftest import synthetic_id
from .helpers import focused_id, settle
from .test_flow_support import (  # noqa: F401
    accept_notice,
    error_at,
    flow_message,
    open_flow,
    quick_autosave,
    tui_data_dir,
    type_text,
)


async def _to_applicant(pilot, session: LoginResponse) -> None:  # type: ignore[no-untyped-def]
    await open_flow(pilot, session)
    await accept_notice(pilot)
    assert isinstance(pilot.app.screen, ApplicantScreen)


async def test_in_person_creates_the_draft_and_records_notice_and_step(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    number = synthetic_id()
    notice = await api.get_notice()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_applicant(pilot, demo_session)
        assert focused_id(pilot) == "f-name"  # the first field needing input
        assert not app.screen.query_one("#entrusting").display  # only for 代他人申请
        await pilot.press("f10")  # empty form: every problem at once, cursor on the first
        await settle(pilot)
        assert error_at(pilot, "name") == "姓名不能为空"
        assert error_at(pilot, "id_number") == "身份证号不能为空"
        assert error_at(pilot, ENTRUSTING_NAME) == ""
        assert focused_id(pilot) == "f-name"
        await type_text(pilot, "测试本人")
        await pilot.press("tab")
        await type_text(pilot, number)
        derived = str(app.screen.query_one("#f-id_number-derived").render())
        assert "男" in derived or "女" in derived
        assert "湖北省武汉市武昌区" in derived
        await pilot.press("enter")  # Enter in the last field: create, on to 基本信息
        await settle(pilot)
        assert isinstance(app.screen, BasicInfoScreen)
        draft_id = app.screen.flow.draft_id
        assert draft_id is not None
    draft = await api.get_draft(draft_id)
    assert draft.mode is ApplyMode.in_person and draft.entrustment is None
    assert draft.applicant.name == "测试本人"
    assert draft.applicant.id_number == mask_id_number(number)
    assert draft.notice_version == notice.version
    assert draft.step == "basic_info"


async def test_entrusted_records_who_entrusted_whom(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    resident, entrusting = synthetic_id(), synthetic_id()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_applicant(pilot, demo_session)
        await pilot.press("shift+tab", "enter", "down", "enter")  # 申请方式 → 代他人申请
        await pilot.pause()
        assert app.screen.query_one("#entrusting").display
        await pilot.press("tab")
        await type_text(pilot, "测试居民")
        await pilot.press("tab")
        await type_text(pilot, resident)
        await pilot.press("tab")
        await type_text(pilot, "测试委托人")
        await pilot.press("f10")  # the pair is incomplete: the server's words, nothing sent
        await settle(pilot)
        assert isinstance(app.screen, ApplicantScreen)
        assert error_at(pilot, ENTRUSTING_ID) == "请填写委托人身份证号"
        assert focused_id(pilot) == "f-entrusting_id_number"
        assert await api.lookup_drafts(resident) == []

        await type_text(pilot, entrusting)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BasicInfoScreen)
        draft_id = app.screen.flow.draft_id
        assert draft_id is not None
    draft = await api.get_draft(draft_id)
    assert draft.mode is ApplyMode.entrusted
    ent = draft.entrustment
    assert ent is not None
    assert ent.resident_name == "测试居民" and draft.applicant.name == "测试居民"
    assert ent.entrusting_name == "测试委托人"
    assert ent.entrusting_id_number == mask_id_number(entrusting)
    assert ent.clerk_staff_id == demo_session.staff.id
    assert ent.counter_id == "test-counter"  # the session's counter (demo_session)


async def _seed_unfinished(api: ApiClient, name: str, number: str) -> str:
    draft = await api.create_draft(
        DraftCreate(name=name, id_number=number, mode=ApplyMode.in_person)
    )
    details = PersonDetails(phone="13912345678", ethnicity="回族", hukou_address="旧地址1号")
    draft = await api.update_draft(
        draft.id, DraftUpdate(details=details, step="members"), if_match=draft.version
    )
    return draft.id


async def test_existing_draft_is_offered_and_continued_at_its_step(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    number = synthetic_id()
    old_id = await _seed_unfinished(api, "测试续办", number)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_applicant(pilot, demo_session)
        await type_text(pilot, "测试续办")
        await pilot.press("tab")
        await type_text(pilot, number)
        await pilot.press("tab")  # leaving the ID number looks the resident up
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ResumeScreen)
        detail = str(dialog.query_one("#resume-detail").render())
        assert "测试续办" in detail and "家庭成员" in detail  # its saved step
        assert "*" in detail and number not in detail
        assert focused_id(pilot) == "continue"
        await pilot.press("enter")  # 继续填写
        await settle(pilot)
        assert isinstance(app.screen, MembersScreen)  # at the saved step
        assert app.screen.flow.draft_id == old_id
        await pilot.press("escape")  # back to 基本信息: every saved field is there
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BasicInfoScreen)
        assert screen.query_one("#f-name").value == "测试续办"  # type: ignore[attr-defined]
        assert screen.query_one("#f-details-phone").value == "13912345678"  # type: ignore[attr-defined]
        assert screen.query_one("#f-details-ethnicity").value == "回族"  # type: ignore[attr-defined]
        ident = screen.widget(ID_NUMBER)
        assert ident.display_value == mask_id_number(number)
    assert [d.id for d in await api.lookup_drafts(number)] == [old_id]


async def test_restart_deletes_the_old_draft_only_after_confirmation(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    number = synthetic_id()
    old_id = await _seed_unfinished(api, "测试重来", number)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await _to_applicant(pilot, demo_session)
        await type_text(pilot, "测试重来")
        await pilot.press("tab")
        await type_text(pilot, number)
        await pilot.press("tab")
        await settle(pilot)
        assert isinstance(app.screen, ResumeScreen)
        await pilot.press("escape")  # neither: back to the form, nothing changed
        await settle(pilot)
        assert isinstance(app.screen, ApplicantScreen)

        await pilot.press("f10")  # creating says 409 draft_exists: the dialog again
        await settle(pilot)
        assert isinstance(app.screen, ResumeScreen)
        await pilot.press("tab")
        assert focused_id(pilot) == "restart"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.query_one("#no", Button).has_focus  # the default is 否
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ApplicantScreen)
        assert flow_message(pilot) == "未删除原申请"
        assert (await api.get_draft(old_id)).id == old_id

        await pilot.press("f10", "tab", "enter")  # dialog, 重新开始, confirm …
        await settle(pilot)
        await pilot.press("shift+tab", "enter")  # … with 是
        await settle(pilot)
        assert isinstance(app.screen, BasicInfoScreen)
        new_id = app.screen.flow.draft_id
    assert new_id is not None and new_id != old_id
    with pytest.raises(NotFound):
        await api.get_draft(old_id)
    assert [d.id for d in await api.lookup_drafts(number)] == [new_id]
