"""A whole dibao application for a 3-person household, by keys only, against the real
embedded server: login, 告知书, 为谁申请, 基本信息, 家庭成员 (spouse and a minor child),
授权签名 (the spouse remotely: the board's SVG screenshot is rendered to PNG by Chromium, the QR
code in it decoded by zxing-cpp, and the link opened in Chromium, where the phone page is
completed; applicant and child at the counter), 经济状况, 提交 and the receipt. Then the case
on the server, field by field.

Everyone here is synthetic (valid check digits from make_id_number)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient
from counter_tui.embedded import DemoCredentials
from counter_tui.screens.applicant import ApplicantScreen
from counter_tui.screens.authorization import AuthorizationScreen
from counter_tui.screens.basic_info import BasicInfoScreen
from counter_tui.screens.economic import EconomicScreen
from counter_tui.screens.home import HomeScreen
from counter_tui.screens.member_form import RELATION, MemberFormScreen
from counter_tui.screens.members import MembersScreen
from counter_tui.screens.notice import NoticeScreen
from counter_tui.screens.receipt import ReceiptScreen
from counter_tui.screens.submit import SubmitScreen
from jiuzhutong.contract import Relation
from jiuzhutong.domain.idnumber import make_id_number, mask_id_number

from .helpers import focused_id, login, settle
from .svg_png import qr_codes_in
from .test_flow_support import flow_message, quick_autosave, tui_data_dir, type_text  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
MOBILE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True,
          "has_touch": True}  # fmt: skip

STROKES = [[(0.1, 0.5), (0.3, 0.3), (0.5, 0.6)], [(0.6, 0.4), (0.9, 0.5)]]  # 0..1 of the pad

APPLICANT = ("测试𠮷全家", make_id_number("420106", date(1958, 3, 14), 311))
SPOUSE = ("测试䶮配偶", make_id_number("420106", date(1960, 7, 2), 312))
CHILD = ("测试小孩", make_id_number("420106", date(2014, 9, 1), 313))


async def _until(pilot: Pilot, cond: Callable[[], Any], what: str, timeout: float = 15.0) -> None:
    """Wait for the screen to show something; a live SSE worker never completes, so
    settle() is not enough on the board and the economic screen."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}; screen {pilot.app.screen}")
        await pilot.pause(0.05)
    await pilot.pause()


async def _pick(pilot: Pilot, nth: int, *, menu: bool = False) -> None:
    if menu:
        await pilot.press("enter", *(["down"] * (nth - 1)), "enter")
    else:
        await pilot.press(*(["right"] * nth))
    await settle(pilot)
    await pilot.press("tab")


async def _add_member(pilot: Pilot, name: str, number: str, relation: Relation) -> None:
    await pilot.press("n")  # 新增
    await settle(pilot)
    assert isinstance(pilot.app.screen, MemberFormScreen)
    await type_text(pilot, name)
    await pilot.press("tab")
    await type_text(pilot, number)
    order = [v for _, v in RELATION.options]
    await pilot.press("tab", "enter", *(["down"] * order.index(relation.value)), "enter")
    await settle(pilot)
    if relation is Relation.child:
        # 监护人: six fields on (共同生活 … 完全行为能力), the first choice is the applicant
        await pilot.press(*(["tab"] * 7), "right")
        await settle(pilot)
    await pilot.press("f10")  # 保存
    await settle(pilot)
    assert isinstance(pilot.app.screen, MembersScreen), pilot.app.screen


async def _choose(pilot: Pilot, index: int) -> None:
    from counter_tui.screens.authorization import ChoiceScreen

    await _until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen), "a choice")
    await pilot.press(*(["down"] * index), "enter")
    await pilot.pause()


def _errors(pilot: Pilot) -> list[str]:
    """Every field message on the screen, for a failing assertion to show."""
    from counter_tui.widgets.message_line import MessageLine

    return [f"{m.id}: {m.text}" for m in pilot.app.screen.query(MessageLine) if m.text]


def _board_states(app: CounterApp) -> list[str]:
    screen = app.screen
    if not isinstance(screen, AuthorizationScreen):
        return []
    return [p.state.value for p in screen.board.persons]


async def _phone_completes(url: str) -> None:
    """The spouse opens the decoded link on a phone: consent, face check, signature."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = await browser.new_context(**MOBILE)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            response = await page.goto(url)
            assert response is not None and response.status == 200
            assert await page.text_content("#who-name") == "测***偶"  # masked on the phone
            await page.check("#face-consent")
            await page.click("#face-pass")
            await page.wait_for_selector("#pad", state="visible")
            box = await page.locator("#pad").bounding_box()
            assert box is not None
            for stroke in STROKES:
                x, y = stroke[0]
                await page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"])
                await page.mouse.down()
                for x, y in stroke[1:]:
                    await page.mouse.move(
                        box["x"] + x * box["width"], box["y"] + y * box["height"], steps=4
                    )
                await page.mouse.up()
            await page.click("#submit")
            await page.wait_for_selector("text=签名业务已完成", state="visible")
            assert errors == [], errors
        finally:
            await browser.close()


async def test_a_whole_application_by_keys(
    make_app: Callable[..., CounterApp],
    demo: DemoCredentials,
    api: ApiClient,
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "counter"
    app = make_app(data_dir=data_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        # --- login and the entry ----------------------------------------------------
        await login(pilot, demo.username, demo.password)
        assert isinstance(app.screen, HomeScreen)
        for _ in range(4):  # the drafts table may have the focus; the entries come first
            if focused_id(pilot) == "entries":
                break
            await pilot.press("shift+tab")
        assert focused_id(pilot) == "entries"
        await pilot.press("home", "enter")  # 最低生活保障申请
        await settle(pilot)

        # --- 告知书: read to the end, 我已阅读并承诺 --------------------------------------
        assert isinstance(app.screen, NoticeScreen)
        await pilot.press("end")
        await pilot.pause()
        await pilot.press("f10")
        await settle(pilot)

        # --- 为谁申请: 本人申请 ------------------------------------------------------------
        assert isinstance(app.screen, ApplicantScreen)
        assert focused_id(pilot) == "f-name"
        await type_text(pilot, APPLICANT[0])
        await pilot.press("tab")
        await type_text(pilot, APPLICANT[1])
        await pilot.press("enter")
        await settle(pilot)

        # --- 基本信息: every field ----------------------------------------------------------
        assert isinstance(app.screen, BasicInfoScreen)
        draft_id = app.screen.flow.draft_id
        assert draft_id is not None
        assert focused_id(pilot) == "f-details-ethnicity"
        await type_text(pilot, "回族")
        await pilot.press("tab")
        await type_text(pilot, "13912345678")
        await pilot.press("tab", "tab")  # 市州, 县: as the ID number proposes (武昌区)
        await pilot.press("tab")
        await _pick(pilot, 1, menu=True)  # 街道
        await _pick(pilot, 1, menu=True)  # 社区
        await pilot.press("tab")
        await type_text(pilot, "中山路88号")
        await pilot.press("tab")
        await type_text(pilot, "中山路88号3单元")
        await pilot.press("tab")
        await _pick(pilot, 1)  # 城镇
        await _pick(pilot, 2)  # 已婚
        await _pick(pilot, 2)  # 慢性病
        await pilot.press("1", "tab")  # 残疾类别 → 无 (残疾等级 stays disabled, not a stop)
        await _pick(pilot, 2)  # 部分丧失劳动能力
        await type_text(pilot, "无业")
        await pilot.press("tab")
        await type_text(pilot, "配偶失业，孩子上学")
        await pilot.press("tab")
        await type_text(pilot, "邮储银行")
        await pilot.press("tab")
        await type_text(pilot, "6217991234567890")
        await pilot.press("enter")  # Enter in the last field: 家庭成员
        await settle(pilot)

        # --- 家庭成员: spouse and a minor child (guardian: the applicant) ----------------
        assert isinstance(app.screen, MembersScreen), _errors(pilot)
        await _add_member(pilot, *SPOUSE, Relation.spouse)
        await _add_member(pilot, *CHILD, Relation.child)
        await pilot.press("f10")

        # --- 授权签名 -----------------------------------------------------------------------
        await _until(pilot, lambda: len(_board_states(app)) == 3, "the board")
        screen = app.screen
        assert isinstance(screen, AuthorizationScreen)
        assert [p.name for p in screen.board.persons] == [APPLICANT[0], SPOUSE[0], CHILD[0]]
        await _until(pilot, lambda: screen.live, "the live stream")

        await pilot.press("enter")  # the applicant, at the counter: ID card checked
        await _choose(pilot, 0)  # 本机授权
        await _choose(pilot, 0)  # 现场核验身份证
        await _until(pilot, lambda: _board_states(app)[0] == "已授权", "applicant 已授权")

        await pilot.press("down", "enter")  # the spouse, remotely
        await _choose(pilot, 1)  # 远程授权
        await _until(pilot, lambda: screen.qr.display and screen.qr.data, "the QR code")
        # The screen as a phone camera sees it: SVG screenshot → PNG (Chromium) → zxing-cpp.
        (url,) = await qr_codes_in(app.export_screenshot())
        spouse_id = screen.board.persons[1].person_id
        assert url == screen.links[spouse_id].url
        await _phone_completes(url)
        await _until(pilot, lambda: _board_states(app)[1] == "已授权", "spouse 已授权 (live)")

        await pilot.press("down", "enter")  # the child, at the counter (the guardian signs)
        await _choose(pilot, 0)
        await _choose(pilot, 0)
        await _until(pilot, lambda: _board_states(app) == ["已授权"] * 3, "all 已授权")
        await pilot.press("f10")

        # --- 经济状况: the check runs, then 确认 ------------------------------------------
        await _until(pilot, lambda: isinstance(app.screen, EconomicScreen), "经济状况")
        econ = app.screen
        assert isinstance(econ, EconomicScreen)
        await _until(pilot, lambda: econ.check_action("next_step", ()) is True, "the status")
        status = econ.status
        assert status is not None and status.household_size == 3
        await pilot.press("f10")  # 确认并下一步

        # --- 提交 and the receipt ---------------------------------------------------------
        await _until(pilot, lambda: isinstance(app.screen, SubmitScreen), "提交")
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        await pilot.press("left", "enter")  # 是
        await _until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "the receipt")
        receipt = app.screen
        assert isinstance(receipt, ReceiptScreen)
        case_number = receipt.case.case_number
        saved = (data_dir / "receipts" / f"{case_number}.txt").read_text("utf-8")
        assert f"案件编号：{case_number}" in saved
        for _, number in (APPLICANT, SPOUSE, CHILD):
            assert number not in saved
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)

    # --- the case on the server, field by field ----------------------------------------
    filed = await api.get_case(draft_id)
    assert filed.case.case_number == case_number
    assert filed.case.timeline[-1].note == f"提交申请，已受理，案件编号{case_number}"
    a = filed.application
    assert a.status.value == "已提交" and a.mode.value == "本人申请"
    assert a.notice_version == (await api.get_notice()).version
    assert (a.applicant.name, a.applicant.id_number) == (
        APPLICANT[0],
        mask_id_number(APPLICANT[1]),
    )
    assert (a.applicant.birth_date, a.applicant.gender.value) == (date(1958, 3, 14), "男")
    d = a.applicant.details
    assert d.model_dump(exclude_none=True) == {
        "ethnicity": "回族",
        "phone": "13912345678",
        "hukou_division": d.hukou_division,  # checked below: a community of 武昌区
        "hukou_address": "中山路88号",
        "residence_address": "中山路88号3单元",
        "hukou_type": "城镇",
        "marital_status": "已婚",
        "health": "慢性病",
        "disability_category": "无",
        "work_ability": "部分丧失劳动能力",
        "employment": "无业",
        "apply_reason": "配偶失业，孩子上学",
        "bank_name": "邮储银行",
        "bank_account": "621799******7890",
    }
    assert d.hukou_division is not None and len(d.hukou_division) == 12
    assert d.hukou_division.startswith("420106")
    members = [(m.name, m.relation, m.id_number, m.counted) for m in a.members]
    assert members == [
        (SPOUSE[0], Relation.spouse, mask_id_number(SPOUSE[1]), True),
        (CHILD[0], Relation.child, mask_id_number(CHILD[1]), True),
    ]
    assert a.members[1].details.guardian_member_id == a.applicant.id
    assert a.household_size == 3

    board = await api.get_authorizations(draft_id)
    rows = [(p.name, p.state.value, p.method.value if p.method else None) for p in board.persons]
    assert rows == [
        (APPLICANT[0], "已授权", "本机授权"),
        (SPOUSE[0], "已授权", "远程授权"),
        (CHILD[0], "已授权", "本机授权"),
    ]
    economic = await api.get_economic_status(draft_id)
    assert economic.confirmed and economic.household_size == 3
    assert economic.per_capita_monthly == status.per_capita_monthly
