"""家庭成员, keys only, against the real server: 新增 / 编辑 / 删除 (confirmed), the household
rules' 422 list shown in the form, and 下一步 with no members."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from textual.widgets import DataTable

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.screens.authorization import AuthorizationScreen
from counter_tui.screens.confirm import ConfirmScreen
from counter_tui.screens.member_form import GUARDIAN, RELATION, MemberFormScreen
from counter_tui.screens.members import EMPTY, MembersScreen
from jiuzhutong.contract import ApplyMode, DraftCreate, DraftUpdate, LoginResponse, Relation
from jiuzhutong.domain.idnumber import mask_id_number

from .conftest import synthetic_id
from .helpers import focused_id, settle
from .test_flow_support import (  # noqa: F401
    error_at,
    flow_message,
    member_id,
    open_draft,
    quick_autosave,
    tui_data_dir,
    type_text,
)


async def _draft_at_members(api: ApiClient, name: str) -> tuple[str, str]:
    number = synthetic_id()
    draft = await api.create_draft(
        DraftCreate(name=name, id_number=number, mode=ApplyMode.in_person)
    )
    await api.update_draft(
        draft.id, DraftUpdate(step="members", notice_version="v1"), if_match=draft.version
    )
    return draft.id, number


def _rows(app: CounterApp) -> list[list[str]]:
    table = app.screen.query_one("#members-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def _relation(pilot, relation: Relation) -> None:  # type: ignore[no-untyped-def]
    """In the member form: Tab to 与申请人关系 and pick ``relation`` by keys."""
    order = [v for _, v in RELATION.options]
    await pilot.press("tab", "enter", *(["down"] * order.index(relation.value)), "enter")
    await settle(pilot)


async def test_add_edit_delete_members_by_keys(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    draft_id, _ = await _draft_at_members(api, "测试户主")
    spouse = member_id(date(1956, 2, 3))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft_id)
        assert isinstance(app.screen, MembersScreen)
        assert str(app.screen.query_one("#members-empty").render()) == EMPTY

        await pilot.press("n")  # 新增
        await settle(pilot)
        assert isinstance(app.screen, MemberFormScreen)
        assert focused_id(pilot) == "f-name"
        await type_text(pilot, "测试配偶")
        await pilot.press("tab")
        await type_text(pilot, spouse)
        await _relation(pilot, Relation.spouse)
        await pilot.press("f10")  # 保存
        await settle(pilot)
        assert isinstance(app.screen, MembersScreen)
        assert _rows(app) == [["测试配偶", "配偶", mask_id_number(spouse), "70", "✓ 计入"]]
        assert "配偶，计入共同生活家庭成员" in str(app.screen.query_one("#member-reason").render())
        server = await api.get_draft(draft_id)
        assert [(m.name, m.relation) for m in server.members] == [("测试配偶", Relation.spouse)]
        assert server.household_size == 2

        await pilot.press("e")  # 编辑: the name only
        await settle(pilot)
        assert isinstance(app.screen, MemberFormScreen)
        await type_text(pilot, "测试老伴")  # the name is selected on focus: typing replaces
        await pilot.press("f10")
        await settle(pilot)
        assert _rows(app)[0][0] == "测试老伴"
        member = (await api.get_draft(draft_id)).members[0]
        assert member.name == "测试老伴" and member.id_number == mask_id_number(spouse)

        await pilot.press("d")  # 删除: asks, 否 by default
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert flow_message(pilot) == "未删除"
        assert len((await api.get_draft(draft_id)).members) == 1
        await pilot.press("delete", "shift+tab", "enter")  # now 是
        await settle(pilot)
        assert flow_message(pilot) == "已删除 测试老伴"
        assert (await api.get_draft(draft_id)).members == []
        assert str(app.screen.query_one("#members-empty").render()) == EMPTY

        # No members: 下一步 goes straight on to 授权签名, with the applicant alone on the board.
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, AuthorizationScreen)
        assert [p.name for p in app.screen.board.persons] == ["测试户主"]
        assert (await api.get_draft(draft_id)).step == "authorization"


async def test_household_rules_are_listed_in_the_form(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    draft_id, applicant_number = await _draft_at_members(api, "测试家长")
    child = member_id(date(2016, 9, 1))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft_id)
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "测试孩子")
        await pilot.press("tab")
        await type_text(pilot, applicant_number)  # valid, but it is the applicant's
        await _relation(pilot, Relation.child)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, MemberFormScreen)  # stays open, nothing lost
        assert error_at(pilot, "id_number") == "身份证号与申请人重复"
        assert focused_id(pilot) == "f-id_number"

        await type_text(pilot, child)  # a minor: needs a guardian (server rule)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, MemberFormScreen)
        assert error_at(pilot, GUARDIAN) == "未成年人需指定监护人代为签字"
        assert focused_id(pilot) == "f-details-guardian_member_id"
        assert (await api.get_draft(draft_id)).members == []

        await pilot.press("enter", "enter")  # 监护人: the first in the list, the applicant
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, MembersScreen)
        server = await api.get_draft(draft_id)
        assert [m.name for m in server.members] == ["测试孩子"]
        assert server.members[0].details.guardian_member_id == server.applicant.id
        assert _rows(app)[0][4] == "✓ 计入"

        # Esc in a form with typed changes asks first (default 否: nothing is lost).
        await pilot.press("n")
        await settle(pilot)
        await type_text(pilot, "测试未存")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, MemberFormScreen)
        assert app.screen.query_one("#f-name").value == "测试未存"  # type: ignore[attr-defined]
