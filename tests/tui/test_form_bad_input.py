"""Bad input in the 家庭成员 form and in 为谁申请, field by field: the exact Chinese message
beside the field, the form stays open with what was typed, and nothing reaches the server.

(基本信息 has its own per-field test in test_flow_basic_info; 经济状况's correction form in
test_flow_economic.) Everyone here is synthetic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from textual.pilot import Pilot

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.screens.applicant import ApplicantScreen
from counter_tui.screens.member_form import MemberFormScreen
from jiuzhutong.contract import LoginResponse
from jiuzhutong.domain.idnumber import make_id_number

from .helpers import settle
from .test_flow_members import _draft_at_members
from .test_flow_support import (  # noqa: F401
    accept_notice,
    error_at,
    impossible_date_id,
    open_draft,
    open_flow,
    paste,
    quick_autosave,
    tui_data_dir,
    type_text,
)

GOOD = make_id_number("420106", date(1962, 5, 6), 41)
WRONG_CHECK = GOOD[:17] + ("0" if GOOD[17] != "0" else "1")


async def _refused(pilot: Pilot, field: str, text: str, *, by_paste: bool = False) -> str:
    """Type (or paste) into one field, leave it with Tab: the message under that field."""
    screen = pilot.app.screen
    screen.query_one(f"#f-{field.replace('.', '-')}").focus()  # selects all: typing replaces
    await pilot.pause()
    await (paste(pilot, text) if by_paste else type_text(pilot, text))
    await pilot.press("tab")
    await settle(pilot)
    return error_at(pilot, field)


async def test_member_form_refuses_each_bad_field_with_its_message(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    draft_id, _ = await _draft_at_members(api, "测试成员校验")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft_id)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, MemberFormScreen)

        assert await _refused(pilot, "name", "测试😀") == "不能包含表情符号"
        assert await _refused(pilot, "name", "测" * 41, by_paste=True) == (
            "姓名不能超过40个字符（现有41个）"
        )
        assert await _refused(pilot, "name", "测\x1b试", by_paste=True) == (
            "不能包含控制字符或不可见字符（U+001B）"
        )
        assert await _refused(pilot, "id_number", WRONG_CHECK) == "身份证号校验位错误"
        assert await _refused(pilot, "id_number", impossible_date_id()) == (
            "出生日期不存在：1990年02月30日（身份证号第7至14位）"
        )
        assert await _refused(pilot, "id_number", GOOD[:16]) == "身份证号应为18位（现有16位）"
        assert await _refused(pilot, "details.phone", "138001380000") == (
            "手机号应为11位（现有12位）"
        )
        assert await _refused(pilot, "details.employment", "务农\u202e", by_paste=True) == (
            "不能包含控制字符或不可见字符（U+202E）"
        )
        # Rare characters are names, not errors.
        assert await _refused(pilot, "name", "测试𠮷䶮") == ""

        await pilot.press("f10")  # 保存: refused at once, the form stays with its fields
        await settle(pilot)
        assert isinstance(app.screen, MemberFormScreen)
        assert app.screen.query_one("#f-name").value == "测试𠮷䶮"  # type: ignore[attr-defined]
    assert (await api.get_draft(draft_id)).members == []


async def test_applicant_form_refuses_each_bad_field_with_its_message(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_flow(pilot, demo_session)
        await accept_notice(pilot)
        assert isinstance(app.screen, ApplicantScreen)
        assert await _refused(pilot, "name", "  ") == "姓名不能为空"
        assert await _refused(pilot, "name", "😀") == "不能包含表情符号"
        assert await _refused(pilot, "id_number", WRONG_CHECK) == "身份证号校验位错误"
        future = make_id_number("420106", date(2099, 1, 1), 3)
        assert await _refused(pilot, "id_number", future) == "出生日期不能晚于今天"
        unknown = make_id_number("990106", date(1950, 1, 1), 3)
        assert await _refused(pilot, "id_number", unknown) == "行政区划代码不存在：990106"
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, ApplicantScreen)
        assert app.screen.flow.draft is None  # nothing created
        assert app.screen.query_one("#f-id_number").value == unknown  # type: ignore[attr-defined]
