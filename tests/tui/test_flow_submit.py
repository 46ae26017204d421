"""提交 and the receipt, keys only: against the real embedded server (a ready draft is
submitted, the receipt names the server's case and is saved with masked numbers only; a draft
that is not ready lists every missing item inline; a timeout after the server committed is
retried with the same key and gives the same case), against the fakes (the key survives an
unreachable service), and snapshots at 80×24 and 120×40. Every person is synthetic."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from counter_tui.app import CounterApp
from counter_tui.client import ApiClient, Conflict, NotFound
from counter_tui.embedded import EmbeddedBackend
from counter_tui.screens.confirm import ConfirmScreen
from counter_tui.screens.home import HomeScreen
from counter_tui.screens.receipt import ReceiptScreen
from counter_tui.screens.submit import UNREACHABLE, SubmitScreen, problems_text, submit_key
from jiuzhutong.contract import (
    ApplyMode,
    DraftCreate,
    DraftUpdate,
    ErrorItem,
    LoginResponse,
    MemberIn,
    PersonDetails,
    Relation,
)
from jiuzhutong.contract.authorization import IdentityCheck, LocalIdentityIn
from jiuzhutong.domain.idnumber import mask_id_number

from .conftest import synthetic_id
from .fakes import CASE_NUMBER, add_submit_endpoints, fixed_clock
from .helpers import message, settle
from .test_flow_snapshots import MEMBERS, _app, _at, _draft, _ids, flow_fake
from .test_flow_support import (  # noqa: F401
    flow_message,
    member_id,
    open_draft,
    quick_autosave,
    tui_data_dir,
)

CASE_RE = re.compile(r"^420106-\d{4}-\d{6}$")
FULL_ID = re.compile(r"\d{17}[\dXx]")
READY_DETAILS = PersonDetails(
    hukou_division="420106", hukou_type="城镇", phone="13900001111", hukou_address="武昌区测试路1号"
)


# --- seeding through the API -----------------------------------------------------------


async def _seed(
    api: ApiClient, name: str, *, details: PersonDetails = READY_DETAILS, confirm: bool = True
) -> tuple[str, list[str]]:
    """A draft at 提交 with a spouse, everyone 已授权 at the counter, the check finished and
    (``confirm``) confirmed. Returns the draft id and the household's full ID numbers."""
    applicant = synthetic_id()
    draft = await api.create_draft(
        DraftCreate(name=name, id_number=applicant, mode=ApplyMode.in_person)
    )
    draft = await api.update_draft(
        draft.id,
        DraftUpdate(details=details, notice_version="v1", step="submit"),
        if_match=draft.version,
    )
    spouse = member_id(date(1953, 7, 8))
    draft = await api.add_member(
        draft.id,
        MemberIn(name=f"{name}配偶", id_number=spouse, relation=Relation.spouse),
        if_match=draft.version,
    )
    for person in [draft.applicant, *draft.members]:
        await api.local_identity(draft.id, person.id, LocalIdentityIn(check=IdentityCheck.id_card))
        await api.local_signature(draft.id, person.id)
    await api.start_economic_check(draft.id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        try:
            await api.get_economic_status(draft.id)
            break
        except NotFound:
            assert loop.time() < deadline, "the economic check did not finish"
            await asyncio.sleep(0.05)
    if confirm:
        assert (await api.confirm_economic_status(draft.id)).confirmed
    return draft.id, [applicant, spouse]


def _text(pilot: Pilot, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def _until(pilot: Pilot, cond: Callable[[], Any], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, f"timed out on {pilot.app.screen}"
        await pilot.pause(0.05)
    await settle(pilot)


async def _submit_by_keys(pilot: Pilot) -> None:
    """F10 提交, then 是 in the confirmation (默认“否”: ← moves to 是)."""
    await pilot.press("f10")
    await settle(pilot)
    assert isinstance(pilot.app.screen, ConfirmScreen)
    await pilot.press("left", "enter")
    await settle(pilot)


async def _summary_loaded(pilot: Pilot) -> None:
    await _until(pilot, lambda: "读取中" not in _text(pilot, "#sum-economic"))


# --- against the real server --------------------------------------------------------------


async def test_submit_by_keys_shows_and_saves_the_receipt(
    make_app: Callable[..., CounterApp],
    demo_session: LoginResponse,
    api: ApiClient,
    tui_data_dir: Path,  # noqa: F811
) -> None:
    draft_id, numbers = await _seed(api, "测试提交甲")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft_id)
        assert isinstance(app.screen, SubmitScreen)
        await _summary_loaded(pilot)
        applicant = _text(pilot, "#sum-applicant")
        assert "测试提交甲" in applicant and mask_id_number(numbers[0]) in applicant
        assert "湖北省武汉市武昌区（420106）" in applicant
        members = _text(pilot, "#sum-members")
        assert "计入家庭人口 2 人" in members
        assert "测试提交甲配偶" in members and mask_id_number(numbers[1]) in members
        assert _text(pilot, "#sum-authorization") == "授权签名    ✓ 全部已授权（2 人）"
        economic = _text(pilot, "#sum-economic")
        assert economic.startswith("经济状况    ✓ 已确认") and "家庭人均月收入" in economic
        assert "参考：" in economic
        for number in numbers:
            assert number not in applicant + members

        # 否 is the default: Enter at once submits nothing.
        await pilot.press("f10")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SubmitScreen) and flow_message(pilot) == "未提交"

        await _submit_by_keys(pilot)
        screen = app.screen
        assert isinstance(screen, ReceiptScreen), screen
        case_number = screen.case.case_number
        assert CASE_RE.match(case_number)
        # The server holds that case: another key is refused naming it.
        with pytest.raises(Conflict) as refused:
            await api.submit(draft_id, "another-key")
        assert f"案件编号{case_number}" in refused.value.message

        assert _text(pilot, "#receipt-heading") == f"✓ 申请已提交（受理）　案件编号 {case_number}"
        assert _text(pilot, "#receipt-who") == f"申请人 测试提交甲（{mask_id_number(numbers[0])}）"
        path = tui_data_dir / "receipts" / f"{case_number}.txt"
        assert path.is_file()
        assert _text(pilot, "#receipt-saved") == f"保存位置：{path}"
        saved = path.read_text("utf-8")
        assert saved == screen.text == _text(pilot, "#receipt-text")
        assert f"案件编号：{case_number}" in saved
        assert f"申请人：测试提交甲（身份证号 {mask_id_number(numbers[0])}）" in saved
        assert "户籍所在地：湖北省武汉市武昌区（420106）" in saved
        assert "3 个工作日内" in saved and "10 个工作日内" in saved and "12349" in saved
        assert not FULL_ID.search(saved), "a full ID number on the receipt"

        path.unlink()
        await pilot.press("p")  # save again
        await settle(pilot)
        assert path.read_text("utf-8") == saved
        assert message(pilot, "#receipt-message") == f"已保存回执：{path}"

        await pilot.press("enter")  # home
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert message(pilot, "#home-message").startswith(f"已提交 {case_number}；")


async def test_not_ready_lists_every_missing_item_inline(
    make_app: Callable[..., CounterApp], demo_session: LoginResponse, api: ApiClient
) -> None:
    no_phone = READY_DETAILS.model_copy(update={"phone": None})
    draft_id, _ = await _seed(api, "测试缺项乙", details=no_phone, confirm=False)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft_id)
        await _summary_loaded(pilot)
        assert _text(pilot, "#sum-economic").startswith("经济状况    ✗ 申请人尚未确认")
        assert app.screen.problems_shown == ""  # type: ignore[attr-defined]

        await _submit_by_keys(pilot)
        screen = app.screen
        assert isinstance(screen, SubmitScreen)  # stays, nothing lost
        assert screen.problems == ["请填写申请人的联系电话", "申请人尚未确认家庭经济状况"]
        assert screen.problems_shown == (
            "提交前还需补充以下 2 项（一次性告知）：\n"
            "  1. 请填写申请人的联系电话\n"
            "  2. 申请人尚未确认家庭经济状况\n"
            "按 Esc 返回上一步补充；补齐后再按 F10 提交。"
        )
        assert flow_message(pilot) == "未提交：尚有 2 项需补充"
        assert "测试缺项乙" in _text(pilot, "#sum-applicant")
        assert (await api.get_draft(draft_id)).id == draft_id  # still an open draft


class _TimeoutAfterCommit(httpx.AsyncBaseTransport):
    """The real server's transport, except that the first submit's answer is lost: the
    server commits the case, the counter sees a read timeout."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.submit_keys: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path.endswith("/submit"):
            self.submit_keys.append(request.headers.get("Idempotency-Key"))
            if len(self.submit_keys) == 1:
                await response.aread()
                await response.aclose()
                raise httpx.ReadTimeout("answer lost (test)", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_lost_answer_is_retried_with_the_same_key(
    backend: EmbeddedBackend, demo_session: LoginResponse, api: ApiClient
) -> None:
    draft_id, _ = await _seed(api, "测试重试丙")
    transport = _TimeoutAfterCommit()
    app = CounterApp(
        ApiClient(backend.base_url, transport=transport),
        clock=fixed_clock(),
        backend_label="测试服务",
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft_id)
        await _summary_loaded(pilot)
        await _submit_by_keys(pilot)
        assert isinstance(app.screen, SubmitScreen)
        assert flow_message(pilot).startswith("服务无响应，提交结果未知")
        # The case exists on the server already; a new key would only get a 409.
        with pytest.raises(Conflict):
            await api.submit(draft_id, "another-key")

        await _submit_by_keys(pilot)  # the same key: the server replays the same case
        screen = app.screen
        assert isinstance(screen, ReceiptScreen), flow_message(pilot)
        assert len(transport.submit_keys) == 2
        assert transport.submit_keys[0] and transport.submit_keys[0] == transport.submit_keys[1]
        with pytest.raises(Conflict) as refused:
            await api.submit(draft_id, "yet-another-key")
        assert f"案件编号{screen.case.case_number}" in refused.value.message


# --- against the fakes ----------------------------------------------------------------------


async def test_submitted_elsewhere_still_gives_the_receipt(
    make_app: Callable[..., CounterApp],
    demo_session: LoginResponse,
    api: ApiClient,
    tui_data_dir: Path,  # noqa: F811
) -> None:
    """The case was filed meanwhile with another key (another counter, or this one before a
    restart that forgot its key): 提交 gets a 409, reads the case back and gives its receipt."""
    draft_id, _ = await _seed(api, "测试他处提交")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_draft(pilot, demo_session, draft_id)
        await _summary_loaded(pilot)
        elsewhere = await api.submit(draft_id, "another-counter-key")
        await _submit_by_keys(pilot)
        screen = app.screen
        assert isinstance(screen, ReceiptScreen), flow_message(pilot)
        assert screen.case.case_number == elsewhere.case_number
        assert (tui_data_dir / "receipts" / f"{elsewhere.case_number}.txt").is_file()


def test_the_key_is_kept_while_the_service_is_unreachable() -> None:
    draft = _draft("submit", MEMBERS)
    fake = flow_fake(draft)
    submits = add_submit_endpoints(fake, draft, fail_submits=3)  # one 提交's three attempts
    app = _app(fake)

    async def run() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await _at(pilot, "submit")
            await _summary_loaded(pilot)
            await _submit_by_keys(pilot)
            screen = app.screen
            assert isinstance(screen, SubmitScreen)
            assert flow_message(pilot) == UNREACHABLE
            key = screen.idempotency_key
            assert key and len(submits) == 3
            # A new screen for the same draft (Esc and back) sends the same key too.
            assert SubmitScreen(screen.flow).idempotency_key == key

            await _submit_by_keys(pilot)
            assert isinstance(app.screen, ReceiptScreen)
            assert app.screen.case.case_number == CASE_NUMBER
            assert [r.headers["Idempotency-Key"] for r in submits] == [key] * 4
            # The case is known: a later submission of this draft id would get a new key.
            assert submit_key(draft.id) != key

    asyncio.run(run())


def test_problems_text_is_one_numbered_list() -> None:
    items = [ErrorItem(code="a", message="甲"), ErrorItem(code="b", message="乙")]
    assert problems_text(items).splitlines() == [
        "提交前还需补充以下 2 项（一次性告知）：",
        "  1. 甲",
        "  2. 乙",
        "按 Esc 返回上一步补充；补齐后再按 F10 提交。",
    ]


# --- snapshots ------------------------------------------------------------------------------

SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in a temporary directory, so the receipt's path on screen is the same each run."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("size", SIZES, ids=_ids)
def test_submit_screen(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    draft = _draft("submit", MEMBERS)
    fake = flow_fake(draft)
    add_submit_endpoints(fake, draft)

    async def run(pilot: Pilot) -> None:
        await _at(pilot, "submit")
        await _summary_loaded(pilot)

    assert snap_compare(_app(fake), terminal_size=size, run_before=run)


def test_submit_screen_missing_items(snap_compare: Callable[..., bool]) -> None:
    draft = _draft("submit", MEMBERS)
    fake = flow_fake(draft)
    missing = [
        ("field_required", "请填写申请人的联系电话"),
        ("economic_status_unconfirmed", "申请人尚未确认家庭经济状况"),
    ]
    add_submit_endpoints(fake, draft, missing=missing)

    async def run(pilot: Pilot) -> None:
        await _at(pilot, "submit")
        await _summary_loaded(pilot)
        await _submit_by_keys(pilot)

    assert snap_compare(_app(fake), terminal_size=(80, 24), run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=_ids)
def test_receipt_screen(
    snap_compare: Callable[..., bool], size: tuple[int, int], in_tmp: Path
) -> None:
    draft = _draft("submit", MEMBERS)
    fake = flow_fake(draft)
    add_submit_endpoints(fake, draft)

    async def run(pilot: Pilot) -> None:
        await _at(pilot, "submit")
        await _summary_loaded(pilot)
        await _submit_by_keys(pilot)
        assert isinstance(pilot.app.screen, ReceiptScreen)

    app = _app(fake, data_dir=Path("data"))
    assert snap_compare(app, terminal_size=size, run_before=run)
    assert (in_tmp / "data" / "receipts" / f"{CASE_NUMBER}.txt").is_file()
