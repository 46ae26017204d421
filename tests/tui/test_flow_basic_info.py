"""基本信息, keys only, against the real server: filled field by field, checked field by field;
bad input refused with the server's exact words and never sent; 412 re-applied."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.screens.basic_info import (
    ACCOUNT,
    APPLICANT_FIELDS,
    ETHNICITY,
    HUKOU_ADDRESS,
    ID_NUMBER,
    NAME,
    BasicInfoScreen,
)
from counter_tui.screens.home import HomeScreen
from counter_tui.screens.members import MembersScreen
from counter_tui.widgets.drafts_table import DraftsTable
from jiuzhutong.contract import (
    ApplyMode,
    DraftCreate,
    DraftOut,
    DraftUpdate,
    LoginResponse,
    PersonDetails,
)
from jiuzhutong.domain.idnumber import make_id_number, mask_id_number

from .conftest import synthetic_id
from .helpers import focused_id, message, settle
from .test_flow_support import (  # noqa: F401
    error_at,
    flow_message,
    impossible_date_id,
    open_draft,
    paste,
    quick_autosave,
    tui_data_dir,
    type_text,
    wait_saved,
)

PHONE = next(s for s in APPLICANT_FIELDS if s.key == "details.phone")


async def _new_draft(api: ApiClient, name: str, **details: object) -> tuple[DraftOut, str]:
    number = synthetic_id()
    draft = await api.create_draft(
        DraftCreate(name=name, id_number=number, mode=ApplyMode.in_person)
    )
    update = DraftUpdate(step="basic_info", notice_version="v1")
    if details:
        update = DraftUpdate(
            step="basic_info", notice_version="v1", details=PersonDetails(**details)
        )
    draft = await api.update_draft(draft.id, update, if_match=draft.version)
    return draft, number


async def _pick(pilot, nth: int, *, menu: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Choose the n-th option of the focused choice, then Tab on: with → in place, or by
    opening its list (Enter, ↓ …, Enter)."""
    if menu:
        await pilot.press("enter", *(["down"] * (nth - 1)), "enter")
    else:
        await pilot.press(*(["right"] * nth))
    await settle(pilot)
    await pilot.press("tab")


async def test_every_field_by_keys_is_saved_as_typed(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    draft, number = await _new_draft(api, "测试填表")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft.id)
        screen = app.screen
        assert isinstance(screen, BasicInfoScreen)
        # Name and ID number are known: the cursor waits in the first field needing input.
        assert focused_id(pilot) == "f-details-ethnicity"
        derived = str(screen.query_one("#f-id_number-derived").render())
        assert derived.endswith("湖北省武汉市武昌区")
        assert screen.widget(ID_NUMBER).display_value == mask_id_number(number)
        # The ID number's county is proposed as 户籍所在地 for the clerk to confirm.
        picker = screen.query_one("#f-details-hukou_division")
        assert picker.code == "420106"  # type: ignore[attr-defined]

        await type_text(pilot, "汉族")
        await pilot.press("tab")
        await type_text(pilot, "138 0013 8000")  # grouped as people say it; sent as digits
        await pilot.press("tab", "tab")  # 市州 (武汉市) → 县 (武昌区): confirmed as proposed
        await pilot.press("tab")
        await _pick(pilot, 1, menu=True)  # 街道: the first street, from its list
        await _pick(pilot, 2, menu=True)  # 社区: the second community
        await pilot.press("tab")  # past the code field (filled by the pickers)
        await type_text(pilot, "积玉桥1号")
        await pilot.press("tab")
        await type_text(pilot, "和平大道2号")
        await pilot.press("tab")
        await _pick(pilot, 2)  # 城镇/农村 → 农村
        await _pick(pilot, 4)  # 婚姻 → 丧偶
        await _pick(pilot, 2)  # 健康 → 慢性病
        await pilot.press("5", "tab")  # 残疾类别: 5 picks the fifth, 肢体残疾
        await _pick(pilot, 2)  # 残疾等级 → 2级 (enabled by the category)
        await _pick(pilot, 2)  # 劳动能力 → 部分丧失劳动能力
        await type_text(pilot, "灵活就业")
        await pilot.press("tab")
        await type_text(pilot, "老伴患病，无固定收入")
        await pilot.press("tab")
        await type_text(pilot, "农商银行")
        await pilot.press("tab")
        await type_text(pilot, "6222021234567890123")
        await pilot.press("shift+tab")  # leaving the account: saved, then shown masked
        assert await wait_saved(pilot) == "已保存 10:30:15"  # the pinned clock
        assert screen.widget(ACCOUNT).display_value == "622202*********0123"
        await pilot.press("tab", "enter")  # Enter in the last field: the next step
        await settle(pilot)
        assert isinstance(app.screen, MembersScreen)

    saved = await api.get_draft(draft.id)
    d = saved.applicant.details
    assert d.ethnicity == "汉族"
    assert d.phone == "13800138000"
    assert d.hukou_division == "420106001002"
    assert d.hukou_address == "积玉桥1号" and d.residence_address == "和平大道2号"
    assert (d.hukou_type, d.marital_status, d.health) == ("农村", "丧偶", "慢性病")
    assert (d.disability_category, d.disability_grade) == ("肢体残疾", 2)
    assert d.work_ability == "部分丧失劳动能力"
    assert d.employment == "灵活就业" and d.apply_reason == "老伴患病，无固定收入"
    assert d.bank_name == "农商银行" and d.bank_account == "622202*********0123"
    assert saved.step == "members"


async def test_bad_input_is_refused_with_the_servers_words_and_never_sent(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    draft, number = await _new_draft(api, "测试校验", ethnicity="汉族")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft.id)
        screen = app.screen
        assert isinstance(screen, BasicInfoScreen)
        await settle(pilot)
        version = (await api.get_draft(draft.id)).version  # after the proposed 户籍所在地

        async def refused(field_id: str, text: str, *, by_paste: bool = False) -> str:
            screen.query_one(f"#{field_id}").focus()  # a field selects all on focus:
            await pilot.pause()  # typing replaces what was there
            await (paste(pilot, text) if by_paste else type_text(pilot, text))
            await pilot.press("tab")
            await settle(pilot)
            spec = screen.spec_of(screen.query_one(f"#{field_id}"))
            assert spec is not None
            return error_at(pilot, spec)

        good = make_id_number("420106", date(1950, 1, 1), 1)
        wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
        assert await refused("f-id_number", wrong_check) == "身份证号校验位错误"
        assert (
            await refused("f-id_number", impossible_date_id())
            == "出生日期不存在：1990年02月30日（身份证号第7至14位）"
        )
        future = make_id_number("420106", date(2099, 1, 1), 1)
        assert await refused("f-id_number", future) == "出生日期不能晚于今天"
        unknown = make_id_number("990106", date(1950, 1, 1), 1)
        assert await refused("f-id_number", unknown) == "行政区划代码不存在：990106"
        assert await refused("f-id_number", number[:17]) == "身份证号应为18位（现有17位）"
        minor = make_id_number("420106", date(2015, 6, 1), 7)
        assert (await refused("f-id_number", minor)).startswith("申请人应年满18周岁")

        assert await refused("f-details-phone", "1380013800") == "手机号应为11位（现有10位）"
        assert await refused("f-details-phone", "23800138000") == "手机号应以1开头"
        assert await refused("f-name", "测" * 41, by_paste=True) == (
            "姓名不能超过40个字符（现有41个）"
        )
        assert await refused("f-name", "测试😀") == "不能包含表情符号"
        assert await refused("f-name", "测\x07试", by_paste=True) == (
            "不能包含控制字符或不可见字符（U+0007）"
        )
        assert await refused("f-details-hukou_address", "路" * 501, by_paste=True) == (
            "不能超过500个字符（现有501个）"
        )
        assert await refused("f-details-employment", "无业\u200b", by_paste=True) == (
            "不能包含控制字符或不可见字符（U+200B）"
        )
        assert await refused("div-code", "420106999") == "行政区划代码不存在：420106999"
        assert error_at(pilot, "details.hukou_division") == "行政区划代码不存在：420106999"
        assert await refused("div-code", "420122") == (
            "行政区划代码已撤销：420122（原湖北省武汉市武昌县）"
        )

        # F10 lists what is wrong and missing at once and stays; the cursor goes to the first.
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, BasicInfoScreen)
        assert flow_message(pilot).startswith("请按提示修改")
        assert error_at(pilot, NAME) == "不能包含控制字符或不可见字符（U+0007）"
        assert error_at(pilot, "details.residence_address") == "此项必填"
        assert error_at(pilot, ETHNICITY) == ""
        assert focused_id(pilot) == "f-name"
        assert app.screen.widget(ID_NUMBER).value == minor  # kept for the clerk to correct

    after = await api.get_draft(draft.id)
    assert after.version == version  # none of the bad values was sent
    assert after.applicant.name == "测试校验"
    assert after.applicant.id_number == mask_id_number(number)
    assert after.applicant.details.phone is None
    assert after.applicant.details.hukou_address is None


async def test_stale_version_reapplied_refusal_shown_f5_reloads_esc_home(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    other, other_number = await _new_draft(api, "测试他人")
    draft, number = await _new_draft(api, "测试并发", ethnicity="汉族")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft.id)
        screen = app.screen
        assert isinstance(screen, BasicInfoScreen)
        await settle(pilot)
        # Another window saves this draft after the screen read it.
        current = await api.get_draft(draft.id)
        await api.update_draft(
            draft.id,
            DraftUpdate(details=PersonDetails(hukou_address="他人填写的地址")),
            if_match=current.version,
        )
        screen.query_one("#f-details-phone").focus()
        await type_text(pilot, "13900001111")
        await pilot.press("f2")  # save now (no waiting for the debounce)
        assert await wait_saved(pilot) == "已保存 10:30:15"
        assert flow_message(pilot) == "该申请刚被他人修改，已重新读取并保留您的修改"
        # Their value is shown, ours is kept and saved on top.
        assert screen.query_one("#f-details-hukou_address").value == "他人填写的地址"  # type: ignore[attr-defined]

        # F5 reads the draft again: another change elsewhere shows up.
        current = await api.get_draft(draft.id)
        await api.update_draft(
            draft.id,
            DraftUpdate(details=PersonDetails(employment="他人填写的就业")),
            if_match=current.version,
        )
        await pilot.press("f5")
        await settle(pilot)
        assert screen.query_one("#f-details-employment").value == "他人填写的就业"  # type: ignore[attr-defined]
        assert flow_message(pilot) == "已刷新 10:30:15"

        # A save the server refuses is shown at its field; the rest still saves.
        screen.query_one("#f-id_number").focus()
        await pilot.pause()
        await type_text(pilot, other_number)  # valid, but that resident has an open draft
        await pilot.press("tab")
        await settle(pilot)
        assert error_at(pilot, ID_NUMBER) == "该申请人已有未完成的申请草稿，请继续办理该草稿"
        assert flow_message(pilot).startswith("请按提示修改")
        screen.query_one("#f-details-residence_address").focus()
        await type_text(pilot, "新地址3号")
        await pilot.press("tab")
        assert await wait_saved(pilot) == "已保存 10:30:15"

        # Esc: home, never destructive: everything is saved and the draft is listed there.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert message(pilot, "#home-message").startswith("已保存，申请已列在首页")
        assert draft.id in [d.id for d in app.screen.query_one(DraftsTable).drafts]
    after = await api.get_draft(draft.id)
    assert after.applicant.details.phone == "13900001111"
    assert after.applicant.details.hukou_address == "他人填写的地址"
    assert after.applicant.details.residence_address == "新地址3号"
    assert after.applicant.id_number == mask_id_number(number)
    assert (await api.get_draft(other.id)).applicant.id_number == mask_id_number(other_number)


def test_hukou_address_is_required_by_the_form() -> None:
    assert HUKOU_ADDRESS.required and ID_NUMBER.required and not ACCOUNT.required


async def test_saved_bank_account_is_kept_when_left_empty_and_cleared_with_f8(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    draft, _ = await _new_draft(
        api,
        "测试清空账号",
        ethnicity="汉族",
        bank_name="农商银行",
        bank_account="6222021234567890123",
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft.id)
        screen = app.screen
        assert isinstance(screen, BasicInfoScreen)
        screen.widget(ACCOUNT).focus()  # the field empties: retype to change
        await pilot.pause()
        await pilot.press("shift+tab", "tab", "shift+tab")  # left empty: nothing changes
        await settle(pilot)
        assert (await api.get_draft(draft.id)).applicant.details.bank_account == (
            "622202*********0123"
        )
        await pilot.press("tab", "f8", "shift+tab")  # F8 清空, then leave the field
        await wait_saved(pilot)
        assert screen.widget(ACCOUNT).display_value == ""
    assert (await api.get_draft(draft.id)).applicant.details.bank_account is None
