"""Fixed contract data behind httpx.MockTransport, for snapshots and failure cases.

The real client code runs unchanged (headers, parsing, typed errors); only the network is
replaced, so a snapshot shows exactly these models and never changes from run to run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from counter_tui.client import ApiClient
from counter_tui.clock import Clock
from jiuzhutong.contract import DraftSummary, LoginResponse, Role, StaffOut

FAKE_URL = "http://jiuzhutong.test"
FAKE_PASSWORD = "pw-2025"
HALL_TZ = timezone(timedelta(hours=8))
NOW = datetime(2025, 3, 5, 2, 30, 15, tzinfo=UTC)  # 10:30:15 in the hall


def fixed_clock() -> Clock:
    return Clock(tz=HALL_TZ, now=lambda: NOW)


STAFF = StaffOut(
    id="staff-1",
    username="demo",
    display_name="示例经办人",
    role=Role.clerk,
    region="420106",
    region_name="湖北省武汉市武昌区",
    can_reveal=False,
)

# Synthetic applicants; masked numbers as the server sends them.
DRAFTS = [
    DraftSummary(
        id="d-3",
        version=4,
        applicant_name="测试居民甲",
        applicant_id_number="420106********0014",
        member_count=2,
        step="members",
        updated_at=datetime(2025, 3, 5, 1, 58, tzinfo=UTC),
    ),
    DraftSummary(
        id="d-2",
        version=2,
        applicant_name="阿依古丽·测试",
        applicant_id_number="420111********002X",
        member_count=0,
        step="basic_info",
        updated_at=datetime(2025, 3, 4, 7, 12, tzinfo=UTC),
    ),
    DraftSummary(
        id="d-1",
        version=1,
        applicant_name="测试居民乙",
        applicant_id_number="420102********0031",
        member_count=1,
        step=None,
        updated_at=datetime(2025, 2, 27, 8, 5, tzinfo=UTC),
    ),
]


def _error(status: int, code: str, message: str) -> httpx.Response:
    body = {"detail": [{"code": code, "message": message, "field": None}]}
    return httpx.Response(status, json=body)


@dataclass
class FakeBackend:
    """Enough of the API for the login and home screens, with every request recorded."""

    drafts: list[DraftSummary] = field(default_factory=lambda: list(DRAFTS))
    requests: list[httpx.Request] = field(default_factory=list)
    token: str = "tok-1"
    # Overrides: path -> response factory, to inject failures.
    override: dict[str, Callable[[httpx.Request], httpx.Response]] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path in self.override:
            return self.override[path](request)
        if path == "/healthz":
            return httpx.Response(200, json={"status": "ok", "database": "sqlite", "version": "t"})
        if path == "/auth/login":
            body = json.loads(request.content)
            if body["username"] != "demo" or body["password"] != FAKE_PASSWORD:
                return _error(401, "bad_credentials", "用户名或密码错误")
            login = LoginResponse(
                token=self.token,
                expires_at=NOW + timedelta(hours=12),
                idle_timeout_seconds=1800,
                staff=STAFF,
            )
            return httpx.Response(200, content=login.model_dump_json())
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, "unauthenticated", "请先登录")
        if path == "/auth/logout":
            return httpx.Response(204)
        if path == "/auth/me":
            return httpx.Response(200, content=STAFF.model_dump_json())
        if path == "/applications" and request.method == "GET":
            payload = "[" + ",".join(d.model_dump_json() for d in self.drafts) + "]"
            return httpx.Response(200, content=payload)
        if path.startswith("/applications/") and request.method == "DELETE":
            draft_id = path.rsplit("/", 1)[1]
            match = [d for d in self.drafts if d.id == draft_id]
            if not match:
                return _error(404, "not_found", "未找到该申请")
            if request.headers.get("If-Match") != f'"{match[0].version}"':
                return _error(412, "stale_version", "该申请已被修改")
            self.drafts.remove(match[0])
            return httpx.Response(204)
        return _error(404, "not_found", "未找到")

    def client(self) -> ApiClient:
        return ApiClient(
            FAKE_URL, transport=httpx.MockTransport(self.handle), retry_delays=(0.0, 0.0)
        )


# ======================================================================================
# 提交 and the receipt (tests/tui/test_flow_submit.py): the board, the economic status, the
# applicant's division and POST …/submit of one draft, as fixed models. Kept to itself: the
# 经济状况 screen's fakes are another block.
# ======================================================================================

SUBMITTED_AT = datetime(2025, 3, 5, 2, 31, 7, tzinfo=UTC)  # 10:31:07 in the hall
CASE_NUMBER = "420106-2025-000123"


def submit_board(draft_id: str, persons: list[tuple[str, str, str]]):  # type: ignore[no-untyped-def]
    """Everyone 已授权: ``persons`` are (person_id, name, relation value)."""
    from jiuzhutong.contract import Relation
    from jiuzhutong.contract.authorization import (
        AuthMethod,
        AuthorizationBoard,
        AuthorizationOut,
        AuthState,
        IdentityCheck,
    )

    rows = [
        AuthorizationOut(
            person_id=pid,
            name=name,
            relation=Relation(relation),
            method=AuthMethod.local,
            state=AuthState.authorized,
            identity_check=IdentityCheck.id_card,
            reason=None,
            signer_person_id=None,
            signer_name=None,
            verified_by_staff_id=STAFF.id,
            link_expires_at=None,
            document_sha256="0" * 64,
            updated_at=NOW,
        )
        for pid, name, relation in persons
    ]
    return AuthorizationBoard(
        application_id=draft_id, version=7, last_event_seq=9, persons=rows, all_authorized=True
    )


def submit_economic(household_size: int, *, confirmed: bool = True):  # type: ignore[no-untyped-def]
    """A confirmed status: 城镇, per capita 412.50 元 against a sample standard of 910 元."""
    from datetime import date
    from decimal import Decimal

    from jiuzhutong.contract import HukouType
    from jiuzhutong.contract.economic import (
        EconomicStatusOut,
        IncomeClassName,
        PropertySummaryOut,
        ReferenceLabel,
        StandardOut,
    )

    zero = Decimal("0.00")
    per_capita = Decimal("412.50")
    return EconomicStatusOut(
        items=[],
        corrections=[],
        deductions=[],
        household_size=household_size,
        by_class={IncomeClassName.wages: per_capita * household_size},
        household_monthly=per_capita * household_size,
        per_capita_monthly=per_capita,
        deductions_monthly=zero,
        excluded_monthly=zero,
        property=PropertySummaryOut(
            totals=[],
            financial_total=zero,
            financial_per_capita=zero,
            deposits_total=zero,
            deposits_per_capita=zero,
            vehicle_count=0,
            housing_count=1,
            flags=[],
            thresholds_sample=True,
            thresholds_source="示例数据",
        ),
        division_code="420106",
        hukou_type=HukouType.urban,
        standard=StandardOut(
            monthly_amount=Decimal("910.00"),
            division_code="4201",
            hukou_type=HukouType.urban,
            effective_from=date(2025, 1, 1),
            sample=True,
            source="示例数据",
        ),
        reference=ReferenceLabel.below,
        reference_text=(
            "参考：家庭人均月收入412.50元，低于低保标准。城镇低保标准910.00元/人·月（示例数据），"
            "低保边缘线1365.00元。仅供参考，不是审核结论。"
        ),
        confirmed=confirmed,
        confirmed_at=NOW if confirmed else None,
        generated_at=NOW,
        sources=[],
        missing_sources=[],
        complete=True,
        simulated=True,
        notice="本结果由模拟数据源生成（模拟），不是真实的核对结果。",
    )


def submit_case(draft_id: str):  # type: ignore[no-untyped-def]
    from jiuzhutong.contract.authorization import CaseOut, CaseStatus, TimelineEntry

    return CaseOut(
        application_id=draft_id,
        case_number=CASE_NUMBER,
        status=CaseStatus.submitted,
        submitted_at=SUBMITTED_AT,
        timeline=[
            TimelineEntry(at=NOW, status="草稿", note="创建申请"),
            TimelineEntry(
                at=SUBMITTED_AT, status="已提交", note=f"提交申请，已受理，案件编号{CASE_NUMBER}"
            ),
        ],
    )


def add_submit_endpoints(  # type: ignore[no-untyped-def]
    fake: FakeBackend,
    draft,
    *,
    fail_submits: int = 0,
    missing: list[tuple[str, str]] | None = None,
) -> list[httpx.Request]:
    """Answer the summary's reads and the submit for ``draft`` (a DraftOut).

    ``fail_submits``: that many submit requests fail to connect first (the client retries a
    keyed POST twice by itself, so 3 = one 提交 that ends unreachable). ``missing``: submit
    answers 422 with these (code, message) items. Returns the submit requests as they come.
    """
    base = f"/applications/{draft.id}"
    persons = [(draft.applicant.id, draft.applicant.name, draft.applicant.relation.value)]
    persons += [(m.id, m.name, m.relation.value) for m in draft.members]
    board = submit_board(draft.id, persons)
    economic = submit_economic(draft.household_size, confirmed=not missing)
    case = submit_case(draft.id)
    submits: list[httpx.Request] = []

    def submit(request: httpx.Request) -> httpx.Response:
        submits.append(request)
        if len(submits) <= fail_submits:
            raise httpx.ConnectError("offline (test)", request=request)
        if missing:
            body = {
                "detail": [
                    {"code": code, "message": message, "field": None} for code, message in missing
                ]
            }
            return httpx.Response(422, json=body)
        return httpx.Response(201, content=case.model_dump_json())

    division = {
        "code": "420106001001",
        "name": "积玉桥社区",
        "full_name": "湖北省武汉市武昌区积玉桥街道积玉桥社区",
        "level": "community",
        "parent": "420106001",
        "sample": True,
    }
    fake.override.update(
        {
            f"{base}/authorizations": lambda r: httpx.Response(
                200, content=board.model_dump_json()
            ),
            f"{base}/economic-status": lambda r: httpx.Response(
                200, content=economic.model_dump_json()
            ),
            "/divisions/420106001001": lambda r: httpx.Response(200, json=division),
            f"{base}/submit": submit,
        }
    )
    return submits


# ======================================================================================
# 经济状况 (tests/tui/test_flow_economic.py): a fixed generated status of a two-person
# household with one correction, and the economic endpoints of one draft. Kept to itself:
# the 提交 screen's fakes are the block above.
# ======================================================================================

ECON_PERSONS = (("p-0", "测试居民甲"), ("p-1", "测试配偶"))


def econ_sources(*, done: int | None = None):  # type: ignore[no-untyped-def]
    """Progress of the ten sources: all 完成 (``done`` None), or the first ``done`` 完成, the
    next one retrying, the rest 查询中."""
    from jiuzhutong.contract.economic import SourceName, SourceProgress, SourceState

    counts = {SourceName.social_insurance: 2, SourceName.deposit: 2, SourceName.vehicle: 1}
    counts[SourceName.real_estate] = 1
    rows = []
    for i, source in enumerate(SourceName):
        n = counts.get(source, 0)
        if done is None or i < done:
            attempt = 2 if source == SourceName.deposit else 1
            msg = f"{source.value}（模拟）查询完成，{n}条记录"
            if attempt == 2:
                msg = f"{source.value}（模拟）第1次查询超时，重试后查询完成，{n}条记录"
            rows.append(
                SourceProgress(
                    source=source,
                    state=SourceState.done,
                    attempt=attempt,
                    message=msg,
                    simulated=True,
                    item_count=n,
                )
            )
        elif i == done:
            rows.append(
                SourceProgress(
                    source=source,
                    state=SourceState.querying,
                    attempt=2,
                    message=f"{source.value}（模拟）第1次查询超时，正在重试",
                    simulated=True,
                )
            )
        else:
            rows.append(
                SourceProgress(
                    source=source,
                    state=SourceState.querying,
                    attempt=1,
                    message=f"正在查询{source.value}（模拟）",
                    simulated=True,
                )
            )
    return rows


def econ_status(*, confirmed: bool = False, corrected: bool = True):  # type: ignore[no-untyped-def]
    """Generated: pension 1200.00/month counted, basic pension excluded, an illness cost of
    300.00/month deducted → 450.00 per capita against the sample standard of 910; with the
    correction (pension declared 12000 over 12 months) → 350.00."""
    from datetime import date
    from decimal import Decimal as D

    from jiuzhutong.contract import HukouType
    from jiuzhutong.contract.economic import (
        CorrectionOut,
        DeductionOut,
        EconomicItemOut,
        EconomicStatusOut,
        EconomicViewOut,
        ExcludedIncomeName,
        IncomeClassName,
        ItemKind,
        PropertyClass,
        PropertyFlagOut,
        PropertySummaryOut,
        PropertyTotalOut,
        ReferenceLabel,
        RigidExpense,
        SourceName,
        StandardOut,
    )

    start, end, day = date(2024, 3, 1), date(2025, 2, 28), date(2025, 2, 28)
    (a, a_name), (b, b_name) = ECON_PERSONS

    def item(n, person, name, source, kind, amount, **kw):  # type: ignore[no-untyped-def]
        prop = kind == ItemKind.property
        return EconomicItemOut(
            id=f"{source.name}.{person}.{n}",
            kind=kind,
            person_ref=person,
            person_name=name,
            source=source,
            period_start=day if prop else start,
            period_end=day if prop else end,
            amount=D(amount),
            months=None if prop else 12,
            simulated=True,
            **kw,
        )

    items = [
        item(
            0,
            a,
            a_name,
            SourceName.social_insurance,
            ItemKind.income,
            "14400",
            income_class=IncomeClassName.transfer,
            monthly_amount=D("1200.00"),
            description="企业职工基本养老金（模拟）",
        ),
        item(
            1,
            a,
            a_name,
            SourceName.social_insurance,
            ItemKind.income,
            "2940",
            income_class=IncomeClassName.transfer,
            monthly_amount=D("245.00"),
            excluded=ExcludedIncomeName.basic_pension,
            counted=False,
            excluded_reason="不计入收入：城乡居民基础养老金",
            description="城乡居民基础养老金（模拟）",
        ),
        item(
            0,
            b,
            b_name,
            SourceName.social_insurance,
            ItemKind.expense,
            "3600",
            expense_kind=RigidExpense.illness,
            monthly_amount=D("300.00"),
            description="重特大疾病医疗自付费用（模拟）",
        ),
        item(
            0,
            a,
            a_name,
            SourceName.real_estate,
            ItemKind.property,
            "285000",
            property_class=PropertyClass.housing,
            description="住房1套（模拟）",
        ),
        item(
            0,
            a,
            a_name,
            SourceName.vehicle,
            ItemKind.property,
            "28000",
            property_class=PropertyClass.vehicle,
            description="小型汽车1辆（模拟）",
        ),
        item(
            0,
            a,
            a_name,
            SourceName.deposit,
            ItemKind.property,
            "8100",
            property_class=PropertyClass.deposit,
            description="活期存款（模拟）",
        ),
        item(
            0,
            b,
            b_name,
            SourceName.deposit,
            ItemKind.property,
            "3000",
            property_class=PropertyClass.deposit,
            description="活期存款（模拟）",
        ),
    ]
    amounts = {PropertyClass.deposit: (2, "11100"), PropertyClass.vehicle: (1, "28000")}
    amounts[PropertyClass.housing] = (1, "285000")
    prop = PropertySummaryOut(
        totals=[
            PropertyTotalOut(
                property_class=c,
                count=amounts.get(c, (0, "0"))[0],
                total=D(amounts.get(c, (0, "0"))[1]),
            )
            for c in PropertyClass
        ],
        financial_total=D("11100.00"),
        financial_per_capita=D("5550.00"),
        deposits_total=D("11100.00"),
        deposits_per_capita=D("5550.00"),
        vehicle_count=1,
        housing_count=1,
        flags=[
            PropertyFlagOut(
                code="vehicles_over",
                message="家庭拥有车辆1辆，超过参考线（示例参考线0辆），仅供参考",
                value=D(1),
                threshold=D(0),
            )
        ],
        thresholds_sample=True,
        thresholds_source="示例数据：财产参考线为演示而设，未经任何部门公布",
    )
    by_class = {c: D("0.00") for c in IncomeClassName}

    def ref(per_capita: str) -> str:
        return (
            f"参考：家庭人均月收入{per_capita}元，低于低保标准。城镇低保标准910元/人·月"
            "（示例数据），低保边缘线1365.00元。仅供参考，不是审核结论。"
        )

    corrections = []
    view = None
    if corrected:
        corrections = [
            CorrectionOut(
                id="c-1",
                item_id=items[0].id,
                person_ref=a,
                person_name=a_name,
                source=SourceName.social_insurance,
                kind=ItemKind.income,
                income_class=IncomeClassName.transfer,
                generated_amount=D("14400"),
                declared_amount=D("12000.00"),
                declared_months=12,
                reason="2024年起停发高温补贴",
                note="以社保中心证明为准",
                created_at=NOW,
            )
        ]
        view = EconomicViewOut(
            by_class=by_class | {IncomeClassName.transfer: D("1000.00")},
            household_monthly=D("700.00"),
            per_capita_monthly=D("350.00"),
            deductions_monthly=D("300.00"),
            excluded_monthly=D("245.00"),
            property=prop,
            reference=ReferenceLabel.below,
            reference_text=ref("350.00"),
        )
    return EconomicStatusOut(
        items=items,
        corrections=corrections,
        deductions=[
            DeductionOut(
                item_id=items[2].id,
                person_ref=b,
                person_name=b_name,
                kind=RigidExpense.illness,
                amount=D("3600"),
                months=12,
                monthly_amount=D("300.00"),
            )
        ],
        household_size=2,
        by_class=by_class | {IncomeClassName.transfer: D("1200.00")},
        household_monthly=D("900.00"),
        per_capita_monthly=D("450.00"),
        deductions_monthly=D("300.00"),
        excluded_monthly=D("245.00"),
        property=prop,
        division_code="420106",
        hukou_type=HukouType.urban,
        standard=StandardOut(
            monthly_amount=D("910"),
            division_code="4201",
            hukou_type=HukouType.urban,
            effective_from=date(2024, 1, 1),
            sample=True,
            source="示例数据：武汉市城镇低保标准，来自一个不可靠的网页，未经核实",
        ),
        reference=ReferenceLabel.below,
        reference_text=ref("450.00"),
        corrected=view,
        confirmed=confirmed,
        confirmed_at=NOW if confirmed else None,
        generated_at=NOW,
        sources=econ_sources(),
        missing_sources=[],
        complete=True,
        simulated=True,
        notice=(
            "本结果由模拟数据源生成（模拟），不是真实的核对结果。低保标准为示例数据。"
            "财产参考线为示例数据。与标准的比较和财产提示仅供参考，不是审核结论；"
            "请申请人逐项核对，如有出入可更正或说明，确认后提交。"
        ),
    )


class EconHang(httpx.AsyncByteStream):
    """An SSE stream that says ``frames`` and then stays open, quiet (a check under way)."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = frames

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        import asyncio

        yield b"retry: 2000\n\n"
        for frame in self.frames:
            yield frame
        await asyncio.Event().wait()


def econ_progress_frames(draft_id: str, progress: list) -> list[bytes]:  # type: ignore[type-arg]
    frames = []
    for seq, p in enumerate(progress, start=10):
        data = json.dumps(
            {
                "seq": seq,
                "type": "economic.progress",
                "application_id": draft_id,
                "at": NOW.isoformat(),
                "data": p.model_dump(mode="json"),
            },
            ensure_ascii=False,
        )
        frames.append(f"id: {seq}\nevent: economic.progress\ndata: {data}\n\n".encode())
    return frames


def add_economic_endpoints(  # type: ignore[no-untyped-def]
    fake: FakeBackend, draft_id: str, status=None, *, running_until_done: int | None = None
) -> dict[str, list[httpx.Request]]:
    """Answer the economic endpoints of ``draft_id``.

    ``status`` (an EconomicStatusOut; default ``econ_status()``) is what GET returns. With
    ``running_until_done``, the check is under way: GET is 404, POST …/economic-check is 202
    and the event stream reports that many sources 完成 and stays open. Corrections are
    recorded and answered with the status as it was; confirm answers it confirmed.
    Returns the POSTs per endpoint as they come.
    """
    from jiuzhutong.contract.economic import CheckStartedOut, SourceName, SourceState

    base = f"/applications/{draft_id}"
    state = {"status": status if status is not None else econ_status()}
    posts: dict[str, list[httpx.Request]] = {"check": [], "corrections": [], "confirm": []}

    def read(request: httpx.Request) -> httpx.Response:
        if running_until_done is not None:
            return _error(404, "not_found", "经济状况核对正在进行中，尚无结果，请等待完成")
        return httpx.Response(200, content=state["status"].model_dump_json())

    def check(request: httpx.Request) -> httpx.Response:
        posts["check"].append(request)
        started = CheckStartedOut(
            application_id=draft_id,
            run_id="run-1",
            state=SourceState.querying,
            started_at=NOW,
            sources=list(SourceName),
        )
        return httpx.Response(202, content=started.model_dump_json())

    def correct(request: httpx.Request) -> httpx.Response:
        posts["corrections"].append(request)
        return httpx.Response(200, content=state["status"].model_dump_json())

    def confirm(request: httpx.Request) -> httpx.Response:
        posts["confirm"].append(request)
        s = state["status"].model_copy(update={"confirmed": True, "confirmed_at": NOW})
        state["status"] = s
        return httpx.Response(200, content=s.model_dump_json())

    def stream(request: httpx.Request) -> httpx.Response:
        progress = econ_sources(done=running_until_done) if running_until_done is not None else []
        return httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            stream=EconHang(econ_progress_frames(draft_id, progress)),
        )

    fake.override.update(
        {
            f"{base}/economic-status": read,
            f"{base}/economic-check": check,
            f"{base}/economic-status/corrections": correct,
            f"{base}/economic-status/confirm": confirm,
            f"{base}/events": stream,
        }
    )
    return posts


def stream_through(fake: FakeBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Screens' event streams (counter_tui.events.subscribe) go through the fake as well."""
    from counter_tui import events

    real = events.subscribe

    def subscribe(*args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        kwargs.setdefault("transport", httpx.MockTransport(fake.handle))
        return real(*args, **kwargs)

    monkeypatch.setattr(events, "subscribe", subscribe)
