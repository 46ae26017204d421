"""counter_tui.client: the API rules (keys, versions, retries, typed errors).

Transport-level rules are checked against httpx.MockTransport, where every request can be
seen; the round trips at the end run against the real embedded server.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import httpx
import pytest

from counter_tui import client as client_module
from counter_tui.client import ApiClient
from counter_tui.embedded import DemoCredentials, EmbeddedBackend
from counter_tui.errors import (
    ApiError,
    BackendTimeout,
    BackendUnreachable,
    BadResponse,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    PreconditionRequired,
    ServerError,
    StaleVersion,
    TooManyAttempts,
    Unauthorized,
)
from jiuzhutong.contract import (
    ApplyMode,
    DraftCreate,
    DraftUpdate,
    MemberIn,
    MemberUpdate,
    PersonDetails,
    Relation,
)

from .conftest import seed_draft, synthetic_id
from .fakes import FakeBackend

Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, **kwargs: object) -> ApiClient:
    return ApiClient(
        "http://api.test",
        token="t",
        transport=httpx.MockTransport(handler),
        retry_delays=(0.0, 0.0),
        **kwargs,  # type: ignore[arg-type]
    )


def _error_body(code: str, message: str = "问题", field: str | None = None, **extra: object):
    return {"detail": [{"code": code, "message": message, "field": field}], **extra}


# --- headers -------------------------------------------------------------------------


async def test_every_post_has_a_fresh_uuid4_idempotency_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with _client(handler) as api:
        await api.logout()
        api._token = "t"
        await api.logout()
    keys = [r.headers["Idempotency-Key"] for r in seen]
    assert len(set(keys)) == 2
    assert all(uuid.UUID(k).version == 4 for k in keys)


async def test_gets_carry_no_idempotency_key_and_the_bearer_token(fake: FakeBackend) -> None:
    async with fake.client() as api:
        await api.login("demo", "pw-2025", "c-1")
        await api.list_drafts()
    get = fake.requests[-1]
    assert get.method == "GET" and "Idempotency-Key" not in get.headers
    assert get.headers["Authorization"] == f"Bearer {fake.token}"
    login = fake.requests[0]
    assert "Authorization" not in login.headers
    assert json.loads(login.content) == {
        "username": "demo",
        "password": "pw-2025",
        "counter_id": "c-1",
    }


async def test_changes_send_if_match_and_only_the_fields_set() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with _client(handler) as api:
        await api.delete_draft("d/1", if_match=7)
        await api.delete_draft("d1", if_match='W/"8"')
        with pytest.raises(BadResponse):  # 204 is not a DraftOut
            await api.update_draft(
                "d1", DraftUpdate(step="members", details=PersonDetails(phone=None)), 3
            )
    assert seen[0].headers["If-Match"] == '"7"'
    assert seen[0].url.raw_path == b"/applications/d%2F1"  # ids are one path segment
    assert seen[1].headers["If-Match"] == 'W/"8"'
    assert seen[2].method == "PATCH" and seen[2].headers["If-Match"] == '"3"'
    # Unset fields are absent; an explicit None is sent, meaning "clear".
    assert json.loads(seen[2].content) == {"step": "members", "details": {"phone": None}}


async def test_member_calls_use_their_paths() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(422, json=_error_body("x"))

    member = MemberIn(name="测试成员", id_number=synthetic_id(900), relation=Relation.child)
    async with _client(handler) as api:
        for call in (
            api.add_member("d1", member, if_match=1),
            api.update_member("d1", "m1", MemberUpdate(relation=Relation.spouse), if_match=2),
            api.remove_member("d1", "m1", if_match=3),
        ):
            with pytest.raises(InvalidRequest):
                await call
    assert [(r.method, r.url.path, r.headers["If-Match"]) for r in seen] == [
        ("POST", "/applications/d1/members", '"1"'),
        ("PATCH", "/applications/d1/members/m1", '"2"'),
        ("DELETE", "/applications/d1/members/m1", '"3"'),
    ]
    assert "Idempotency-Key" in seen[0].headers


# --- retries -------------------------------------------------------------------------


def _flaky(failures: int, exc: type[Exception] = httpx.ConnectError) -> tuple[Handler, list]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= failures:
            raise exc("down", request=request)
        return httpx.Response(200, json={"status": "ok", "database": "sqlite", "version": "1"})

    return handler, seen


async def test_get_is_retried_on_connect_errors() -> None:
    handler, seen = _flaky(2)
    async with _client(handler) as api:
        assert (await api.health()).status == "ok"
    assert len(seen) == 3


async def test_retried_post_reuses_its_idempotency_key() -> None:
    handler, seen = _flaky(1)
    async with _client(handler) as api:
        with pytest.raises(BadResponse):  # a HealthOut body is not a DraftOut
            await api.create_draft(
                DraftCreate(name="测试甲", id_number=synthetic_id(901), mode=ApplyMode.in_person)
            )
    assert len(seen) == 2
    assert seen[0].headers["Idempotency-Key"] == seen[1].headers["Idempotency-Key"]


async def test_patch_is_not_retried_and_unreachable_is_typed() -> None:
    handler, seen = _flaky(5)
    async with _client(handler) as api:
        with pytest.raises(BackendUnreachable) as info:
            await api.update_draft("d1", DraftUpdate(step="x"), if_match=1)
    assert len(seen) == 1
    assert info.value.message == "无法连接服务"


async def test_read_timeout_is_not_retried() -> None:
    handler, seen = _flaky(5, httpx.ReadTimeout)
    async with _client(handler) as api:
        with pytest.raises(BackendTimeout):
            await api.health()
    assert len(seen) == 1


async def test_connect_retries_give_up() -> None:
    handler, seen = _flaky(99)
    async with _client(handler) as api:
        with pytest.raises(BackendUnreachable):
            await api.list_drafts()
    assert len(seen) == 3


# --- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (409, Conflict),
        (412, StaleVersion),
        (422, InvalidRequest),
        (428, PreconditionRequired),
        (429, TooManyAttempts),
        (500, ServerError),
        (418, ApiError),
    ],
)
async def test_status_maps_to_typed_error(status: int, error: type[ApiError]) -> None:
    body = _error_body("some_code", "具体问题", "details.phone", existing_id="d-9")
    async with _client(lambda r: httpx.Response(status, json=body)) as api:
        with pytest.raises(error) as info:
            await api.me()
    exc = info.value
    assert type(exc) is error
    assert exc.status == status and exc.code == "some_code" and exc.message == "具体问题"
    assert exc.by_field() == {"details.phone": ["具体问题"]}
    assert exc.existing_id == "d-9"


async def test_all_problems_are_kept() -> None:
    body = {
        "detail": [
            {"code": "id_checksum", "message": "身份证号校验位错误", "field": "id_number"},
            {"code": "phone_invalid", "message": "手机号应为11位", "field": "details.phone"},
        ]
    }
    async with _client(lambda r: httpx.Response(422, json=body)) as api:
        with pytest.raises(InvalidRequest) as info:
            await api.me()
    assert info.value.message == "身份证号校验位错误；手机号应为11位"
    assert len(info.value.items) == 2


async def test_non_contract_bodies() -> None:
    async with _client(lambda r: httpx.Response(502, text="<html>Bad Gateway")) as api:
        with pytest.raises(ServerError) as info:
            await api.me()
    assert info.value.message == "服务返回错误（HTTP 502）"
    async with _client(lambda r: httpx.Response(200, json={"nope": 1})) as api:
        with pytest.raises(BadResponse):
            await api.me()


async def test_login_refuses_overlong_input_locally() -> None:
    async with _client(lambda r: httpx.Response(500)) as api:
        with pytest.raises(InvalidRequest) as info:
            await api.login("u" * 65, "p", "c")
    assert info.value.items[0].field == "username"
    assert info.value.message == "不能超过64个字符"


async def test_logout_drops_the_token_even_when_the_server_is_gone() -> None:
    handler, _ = _flaky(99)
    async with _client(handler) as api:
        with pytest.raises(BackendUnreachable):
            await api.logout()
        assert api.token is None


def test_module_exports_the_errors() -> None:
    # Screens may catch from client or from errors: the same classes.
    assert client_module.StaleVersion is StaleVersion
    assert client_module.Conflict is Conflict


# --- against the real server ---------------------------------------------------------


async def test_health_and_me(backend: EmbeddedBackend, api: ApiClient) -> None:
    async with ApiClient(backend.base_url) as anon:
        assert (await anon.health()).status == "ok"
        with pytest.raises(Unauthorized):
            await anon.me()
    assert (await api.me()).username == "demo"


async def test_login_errors(backend: EmbeddedBackend, demo: DemoCredentials) -> None:
    async with ApiClient(backend.base_url) as anon:
        with pytest.raises(Unauthorized) as info:
            await anon.login("client-test-nobody", "x", "c")
    assert info.value.code == "bad_credentials"


async def test_draft_round_trip_with_versions(api: ApiClient) -> None:
    draft = await seed_draft(api, "测试往返甲")
    assert draft.applicant.id_number.count("*") == 8
    fetched = await api.get_draft(draft.id)
    assert fetched.version == draft.version

    updated = await api.update_draft(draft.id, DraftUpdate(step="basic_info"), draft.version)
    assert updated.version == draft.version + 1 and updated.step == "basic_info"
    with pytest.raises(StaleVersion):
        await api.update_draft(draft.id, DraftUpdate(step="members"), draft.version)

    summaries = {d.id: d for d in await api.list_drafts()}
    assert summaries[draft.id].version == updated.version

    with pytest.raises(StaleVersion):
        await api.delete_draft(draft.id, if_match=draft.version)
    await api.delete_draft(draft.id, if_match=updated.version)
    with pytest.raises(NotFound):
        await api.get_draft(draft.id)


async def test_second_open_draft_for_an_applicant_conflicts(api: ApiClient) -> None:
    number = synthetic_id()
    first = await api.create_draft(
        DraftCreate(name="测试冲突乙", id_number=number, mode=ApplyMode.in_person)
    )
    with pytest.raises(Conflict) as info:
        await api.create_draft(
            DraftCreate(name="测试冲突乙", id_number=number, mode=ApplyMode.in_person)
        )
    assert info.value.existing_id == first.id


async def test_members_round_trip(api: ApiClient) -> None:
    draft = await seed_draft(api, "测试户主丙")
    child = MemberIn(name="测试子女", id_number=synthetic_id(), relation=Relation.child)
    with_child = await api.add_member(draft.id, child, if_match=draft.version)
    assert len(with_child.members) == 1 and with_child.version == draft.version + 1
    member = with_child.members[0]
    renamed = await api.update_member(
        draft.id, member.id, MemberUpdate(name="测试子女乙"), if_match=with_child.version
    )
    assert renamed.members[0].name == "测试子女乙"
    removed = await api.remove_member(draft.id, member.id, if_match=renamed.version)
    assert removed.members == []
