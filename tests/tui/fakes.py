"""Fixed contract data behind httpx.MockTransport, for snapshots and failure cases.

The real client code runs unchanged (headers, parsing, typed errors); only the network is
replaced, so a snapshot shows exactly these models and never changes from run to run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import httpx

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
