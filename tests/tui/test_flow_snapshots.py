"""Snapshots of the dibao flow's screens at 80x24 and 120x40, plus a light and a 16-colour theme.

Deterministic by construction, as test_snapshots.py: fixed contract models behind
httpx.MockTransport (fakes.py, extended here with the flow's endpoints), the display clock
pinned. Regenerate with ``pytest tests/tui --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from counter_tui import flow
from counter_tui.app import CounterApp
from jiuzhutong.contract import (
    ApplyMode,
    DivisionOut,
    DraftOut,
    DraftStatus,
    Gender,
    MemberOut,
    PersonDetails,
    Relation,
)
from jiuzhutong.contract.authorization import NoticeOut
from jiuzhutong.documents import current_notice

from .fakes import FAKE_PASSWORD, STAFF, FakeBackend, fixed_clock
from .helpers import open_home, settle
from .test_flow_support import quick_autosave, tui_data_dir, type_text  # noqa: F401

SIZES = [(80, 24), (120, 40)]
SAVED_AT = datetime(2025, 3, 5, 2, 29, tzinfo=UTC)  # 10:29:00 in the hall


def _person(
    pid: str,
    name: str,
    relation: Relation,
    masked: str,
    birth: date,
    gender: Gender,
    details: PersonDetails,
    reason: str,
    counted: bool = True,
) -> MemberOut:
    return MemberOut(
        id=pid,
        relation=relation,
        name=name,
        id_number=masked,
        id_revealed=False,
        birth_date=birth,
        age=2025 - birth.year - 1,
        gender=gender,
        division_code="420106",
        division_name="湖北省武汉市武昌区",
        details=details,
        counted=counted,
        count_reason=reason,
    )


APPLICANT = _person(
    "p-0",
    "测试居民甲",
    Relation.applicant,
    "420106********0014",
    date(1950, 2, 2),
    Gender.male,
    PersonDetails(
        ethnicity="汉族",
        phone="13800138000",
        hukou_division="420106001001",
        hukou_address="武昌区积玉桥1号",
        residence_address="武昌区和平大道2号",
        hukou_type="城镇",
        marital_status="已婚",
        health="慢性病",
        disability_category="无",
        work_ability="部分丧失劳动能力",
        employment="无业",
        apply_reason="老伴患病，无固定收入",
        bank_name="农商银行",
        bank_account="622202*********0123",
    ),
    "申请人本人，计入共同生活家庭成员",
)
MEMBERS = [
    _person(
        "p-1",
        "测试配偶",
        Relation.spouse,
        "420106********0021",
        date(1952, 3, 3),
        Gender.female,
        PersonDetails(health="重特大疾病"),
        "配偶，计入共同生活家庭成员",
    ),
    _person(
        "p-2",
        "测试子女",
        Relation.child,
        "420106********0035",
        date(1978, 6, 1),
        Gender.male,
        PersonDetails(),
        "成年子女已独立生活，不计入",
        counted=False,
    ),
]


def _draft(step: str, members: list[MemberOut]) -> DraftOut:
    return DraftOut(
        id="d-9",
        version=7,
        status=DraftStatus.draft,
        region="420106",
        mode=ApplyMode.in_person,
        entrustment=None,
        applicant=APPLICANT,
        members=members,
        household_size=1 + sum(m.counted for m in members),
        notice_version="v1",
        step=step,
        created_by=STAFF.id,
        counter_id="counter-1",
        created_at=SAVED_AT,
        updated_at=SAVED_AT,
    )


_DIVISIONS = {
    None: [
        ("4201", "武汉市", "湖北省武汉市", "prefecture"),
        ("4202", "黄石市", "湖北省黄石市", "prefecture"),
    ],
    "4201": [
        ("420102", "江岸区", "湖北省武汉市江岸区", "county"),
        ("420106", "武昌区", "湖北省武汉市武昌区", "county"),
    ],
    "420106": [("420106001", "积玉桥街道", "湖北省武汉市武昌区积玉桥街道", "street")],
    "420106001": [
        ("420106001001", "积玉桥社区", "湖北省武汉市武昌区积玉桥街道积玉桥社区", "community")
    ],
}


def _division(code: str, name: str, full: str, level: str) -> DivisionOut:
    parent = {4: "42", 6: code[:4], 9: code[:6], 12: code[:9]}[len(code)]
    return DivisionOut(
        code=code, name=name, full_name=full, level=level, parent=parent, sample=len(code) > 6
    )


def flow_fake(draft: DraftOut) -> FakeBackend:
    """The login/home fake plus the flow's endpoints, answering with fixed models."""
    fake = FakeBackend()
    doc = current_notice()
    notice = NoticeOut(version=doc.version, title=doc.title, text=doc.text, sha256=doc.sha256)
    state = {"draft": draft}

    def json_of(model: Any, status: int = 200) -> httpx.Response:
        return httpx.Response(status, content=model.model_dump_json())

    def divisions(request: httpx.Request) -> httpx.Response:
        rows = _DIVISIONS.get(request.url.params.get("parent"), [])
        return httpx.Response(
            200, content="[" + ",".join(_division(*r).model_dump_json() for r in rows) + "]"
        )

    def one_draft(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            d = state["draft"]
            state["draft"] = d.model_copy(update={"version": d.version + 1})
        return json_of(state["draft"])

    def drafts(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return json_of(state["draft"], 201)
        payload = "[" + ",".join(d.model_dump_json() for d in fake.drafts) + "]"
        return httpx.Response(200, content=payload)

    fake.override.update(
        {
            "/notice": lambda r: json_of(notice),
            "/divisions": divisions,
            "/applications": drafts,
            "/applications/d-9": one_draft,
            "/applications/lookup": lambda r: httpx.Response(200, content=json.dumps([])),
        }
    )
    return fake


def _app(fake: FakeBackend, **kwargs: Any) -> CounterApp:
    return CounterApp(
        fake.client(), clock=fixed_clock(), backend_label="http://jiuzhutong.test", **kwargs
    )


async def _home(pilot: Pilot) -> None:
    await settle(pilot)
    await open_home(pilot, "demo", FAKE_PASSWORD)


async def _at(pilot: Pilot, step: str) -> None:
    await _home(pilot)
    await flow.open_draft(pilot.app, "d-9")  # type: ignore[arg-type]
    await settle(pilot)
    await pilot.pause()


def _ids(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


@pytest.mark.parametrize("size", SIZES, ids=_ids)
def test_notice(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    async def run(pilot: Pilot) -> None:
        await _home(pilot)
        await pilot.press("enter")  # 最低生活保障申请
        await settle(pilot)
        await pilot.press("pagedown")
        await pilot.pause()

    app = _app(flow_fake(_draft("basic_info", [])))
    assert snap_compare(app, terminal_size=size, run_before=run)


async def _to_applicant(pilot: Pilot) -> None:
    await _home(pilot)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("f6", "f10")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES, ids=_ids)
def test_applicant_entrusted(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    async def run(pilot: Pilot) -> None:
        await _to_applicant(pilot)
        await pilot.press("shift+tab", "enter", "down", "enter", "tab")
        await type_text(pilot, "测试居民甲")
        await pilot.press("tab")
        await type_text(pilot, "42010619500202001")  # one short: the message shows on Tab
        await pilot.press("tab")
        await type_text(pilot, "测试委托人")
        await pilot.pause()

    app = _app(flow_fake(_draft("basic_info", [])))
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=_ids)
def test_resume_dialog(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    async def run(pilot: Pilot) -> None:
        await _to_applicant(pilot)
        from counter_tui.screens.resume import ResumeScreen

        pilot.app.push_screen(ResumeScreen(_draft("members", MEMBERS), pilot.app.clock))  # type: ignore[attr-defined]
        await settle(pilot)

    app = _app(flow_fake(_draft("basic_info", [])))
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=_ids)
def test_basic_info(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    async def run(pilot: Pilot) -> None:
        await _at(pilot, "basic_info")
        await pilot.press("tab")  # 姓名 → 身份证号: masked, retype to change
        await pilot.pause()

    app = _app(flow_fake(_draft("basic_info", [])))
    assert snap_compare(app, terminal_size=size, run_before=run)


def test_basic_info_16_colours(snap_compare: Callable[..., bool]) -> None:
    """TERM=xterm without COLORTERM: the ANSI theme; focus and states still readable."""

    async def run(pilot: Pilot) -> None:
        await _at(pilot, "basic_info")

    app = _app(flow_fake(_draft("basic_info", [])), theme="ansi-dark")
    assert snap_compare(app, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=_ids)
def test_help(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    """F1 on a flow screen: that screen's help page."""

    async def run(pilot: Pilot) -> None:
        await _at(pilot, "basic_info")
        await pilot.press("f1")
        await pilot.pause()

    app = _app(flow_fake(_draft("basic_info", [])))
    assert snap_compare(app, terminal_size=size, run_before=run)


def test_basic_info_light_theme(snap_compare: Callable[..., bool]) -> None:
    async def run(pilot: Pilot) -> None:
        await _at(pilot, "basic_info")

    app = _app(flow_fake(_draft("basic_info", [])), theme="textual-light")
    assert snap_compare(app, run_before=run)


def test_basic_info_offline(snap_compare: Callable[..., bool]) -> None:
    fake = flow_fake(_draft("basic_info", []))

    async def run(pilot: Pilot) -> None:
        await _at(pilot, "basic_info")

        def down(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("offline (test)", request=request)

        fake.override["/applications/d-9"] = down
        await type_text(pilot, "壮族")  # into 姓名 (all is filled): kept, banner shown
        await pilot.press("tab")
        await settle(pilot)

    assert snap_compare(_app(fake), terminal_size=(120, 40), run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=_ids)
def test_members(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    async def run(pilot: Pilot) -> None:
        await _at(pilot, "members")
        await pilot.press("down")  # the second row: its reason is shown below the table
        await pilot.pause()

    app = _app(flow_fake(_draft("members", MEMBERS)))
    assert snap_compare(app, terminal_size=size, run_before=run)


@pytest.mark.parametrize("size", SIZES, ids=_ids)
def test_member_form(snap_compare: Callable[..., bool], size: tuple[int, int]) -> None:
    async def run(pilot: Pilot) -> None:
        await _at(pilot, "members")
        await pilot.press("e")
        await settle(pilot)

    app = _app(flow_fake(_draft("members", MEMBERS)))
    assert snap_compare(app, terminal_size=size, run_before=run)
