"""Async HTTP client for the jiuzhutong API: the only place counter-tui speaks HTTP.

Every method returns contract models or raises one of ``counter_tui.errors``; screens never
see httpx. The rules of docs/API.md are applied here once:

- bearer token from ``login``, dropped on ``logout``;
- an ``Idempotency-Key`` (uuid4) on every POST, reused when the same call is retried, so a
  retry can never create a second draft;
- ``If-Match: "<version>"`` on every change, so a stale screen gets StaleVersion instead of
  overwriting someone else's work;
- a retry on connect errors only for requests that are safe to repeat (GET/DELETE and keyed
  POSTs), never on read timeouts of a change, whose outcome is unknown.

Server-sent events come in a later issue; they will be one more method on this class that
shares the base URL and token.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

# Re-exported so callers can catch errors from the module they call.
from counter_tui.errors import (
    ApiError,
    BackendTimeout,
    BackendUnreachable,
    BadResponse,
    ClientError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    PreconditionRequired,
    ServerError,
    StaleVersion,
    TooManyAttempts,
    Unauthorized,
    error_for,
)
from jiuzhutong.contract import (
    DivisionOut,
    DraftCreate,
    DraftOut,
    DraftSummary,
    DraftUpdate,
    ErrorBody,
    ErrorItem,
    HealthOut,
    LoginRequest,
    LoginResponse,
    LookupRequest,
    MemberIn,
    MemberUpdate,
    StaffOut,
)
from jiuzhutong.contract.authorization import (
    AuthorizationBoard,
    AuthorizationOut,
    CaseFileOut,
    CaseOut,
    LocalIdentityIn,
    LocalSignatureIn,
    NoticeOut,
    RemoteLinkOut,
    SubmitIn,
)
from jiuzhutong.contract.economic import CheckStartedOut, CorrectionIn, EconomicStatusOut

__all__ = [
    "ApiClient",
    "ApiError",
    "BackendTimeout",
    "BackendUnreachable",
    "BadResponse",
    "ClientError",
    "Conflict",
    "Forbidden",
    "InvalidRequest",
    "NotFound",
    "PreconditionRequired",
    "ServerError",
    "StaleVersion",
    "TooManyAttempts",
    "Unauthorized",
]

M = TypeVar("M", bound=BaseModel)

# A thin client over SSH to a hall server: connecting is quick or not happening at all,
# while a write may wait on SQLite's busy timeout, so reads get more time than connects.
DEFAULT_TIMEOUT = httpx.Timeout(connect=3.0, read=15.0, write=10.0, pool=5.0)
RETRY_DELAYS = (0.2, 0.6)  # seconds before the 2nd and 3rd attempt
_SAFE_TO_REPEAT = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "POST"})  # POST: keyed

_DRAFT_LIST = TypeAdapter(list[DraftSummary])
_DIVISION_LIST = TypeAdapter(list[DivisionOut])


def _etag(version: int | str) -> str:
    """If-Match value for a version number (an ETag passed through as is)."""
    if isinstance(version, int):
        return f'"{version}"'
    return version


def local_invalid(exc: ValidationError) -> InvalidRequest:
    """A request model refused here, reported exactly as the server would report it."""
    items = []
    for err in exc.errors():
        ctx = err.get("ctx") or {}
        if err["type"] == "string_too_long":
            message = f"不能超过{ctx.get('max_length')}个字符"
        elif err["type"] == "string_too_short":
            message = "不能为空"
        else:
            message = err["msg"]  # the contract's own validators already speak Chinese
        field = ".".join(str(p) for p in err["loc"]) or None
        items.append(ErrorItem(code=err["type"], message=message, field=field))
    return InvalidRequest(422, ErrorBody(detail=items))


def _seg(value: str) -> str:
    """One URL path segment: ids come from the server, but never trust them to be URL-safe."""
    return quote(value, safe="")


class ApiClient:
    """One clerk's connection to the service. Create once per app; ``aclose`` on exit."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._retry_delays = retry_delays
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "counter-tui"},
            # A hall proxy must not turn a POST into a GET by redirecting it.
            follow_redirects=False,
        )

    # --- lifecycle -------------------------------------------------------------------

    @property
    def token(self) -> str | None:
        return self._token

    @property
    def logged_in(self) -> bool:
        return self._token is not None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- transport -------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | None = None,
        if_match: int | str | None = None,
        params: dict[str, str] | None = None,
        auth: bool = True,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if auth and self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        if if_match is not None:
            headers["If-Match"] = _etag(if_match)
        if method == "POST":
            # One key per logical call, shared by its retries: that is what makes them safe.
            # A caller that may repeat the call itself later (提交) passes its own key.
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        content: bytes | None = None
        if body is not None:
            # exclude_unset: a PATCH sends only what the clerk touched; explicit None clears.
            content = body.model_dump_json(exclude_unset=True).encode()
            headers["Content-Type"] = "application/json"

        attempts = 1 + (len(self._retry_delays) if method in _SAFE_TO_REPEAT else 0)
        for attempt in range(attempts):
            try:
                response = await self._http.request(
                    method, path, content=content, headers=headers, params=params
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached the server, so trying again cannot apply anything twice.
                if attempt + 1 < attempts:
                    await asyncio.sleep(self._retry_delays[attempt])
                    continue
                raise BackendUnreachable() from exc
            except httpx.TimeoutException as exc:
                raise BackendTimeout() from exc
            except httpx.TransportError as exc:
                raise BackendUnreachable() from exc
            if response.status_code >= 400:
                raise self._error(response)
            return response
        raise AssertionError("unreachable")  # the loop either returns or raises

    @staticmethod
    def _error(response: httpx.Response) -> ApiError:
        try:
            body = ErrorBody.model_validate_json(response.content)
        except ValidationError:
            # Not our server's error body (a proxy page, a crash): still say what happened.
            body = ErrorBody(
                detail=[
                    ErrorItem(
                        code=f"http_{response.status_code}",
                        message=f"服务返回错误（HTTP {response.status_code}）",
                    )
                ]
            )
        return error_for(response.status_code, body)

    @staticmethod
    def _parse(model: type[M], response: httpx.Response) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise BadResponse() from exc

    async def _call(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        return self._parse(model, await self._request(method, path, **kwargs))

    # --- service and session ---------------------------------------------------------

    async def health(self) -> HealthOut:
        return await self._call(HealthOut, "GET", "/healthz", auth=False)

    async def login(self, username: str, password: str, counter_id: str) -> LoginResponse:
        """Log in and keep the token for every later call."""
        try:
            request = LoginRequest(username=username, password=password, counter_id=counter_id)
        except ValidationError as exc:
            raise local_invalid(exc) from exc
        result = await self._call(LoginResponse, "POST", "/auth/login", body=request, auth=False)
        self._token = result.token
        return result

    async def logout(self) -> None:
        """End the session on the server; the token is dropped locally whatever happens."""
        if self._token is None:
            return
        try:
            await self._request("POST", "/auth/logout")
        finally:
            self._token = None

    def forget_session(self) -> None:
        """Drop the token without telling the server (it already said the session is gone)."""
        self._token = None

    async def me(self) -> StaffOut:
        return await self._call(StaffOut, "GET", "/auth/me")

    # --- drafts ----------------------------------------------------------------------

    async def list_drafts(self) -> list[DraftSummary]:
        """Unfinished drafts of the caller's region, newest first."""
        response = await self._request("GET", "/applications")
        try:
            return _DRAFT_LIST.validate_json(response.content)
        except ValidationError as exc:
            raise BadResponse() from exc

    async def lookup_drafts(self, id_number: str) -> list[DraftSummary]:
        """Drafts of one applicant; the number goes in the body, never in a URL or log."""
        response = await self._request(
            "POST", "/applications/lookup", body=LookupRequest(id_number=id_number)
        )
        try:
            return _DRAFT_LIST.validate_json(response.content)
        except ValidationError as exc:
            raise BadResponse() from exc

    async def get_draft(self, draft_id: str, *, reveal: bool = False) -> DraftOut:
        params = {"reveal": "true"} if reveal else None
        return await self._call(DraftOut, "GET", f"/applications/{_seg(draft_id)}", params=params)

    async def create_draft(self, draft: DraftCreate) -> DraftOut:
        """Raises Conflict with ``existing_id`` when the applicant already has an open draft."""
        return await self._call(DraftOut, "POST", "/applications", body=draft)

    async def update_draft(
        self, draft_id: str, update: DraftUpdate, if_match: int | str
    ) -> DraftOut:
        return await self._call(
            DraftOut, "PATCH", f"/applications/{_seg(draft_id)}", body=update, if_match=if_match
        )

    async def delete_draft(self, draft_id: str, if_match: int | str) -> None:
        await self._request("DELETE", f"/applications/{_seg(draft_id)}", if_match=if_match)

    # --- household members -----------------------------------------------------------

    async def add_member(
        self,
        draft_id: str,
        member: MemberIn,
        if_match: int | str,
        *,
        idempotency_key: str | None = None,
    ) -> DraftOut:
        """新增 a member. The outbox passes its entry's id as the key: a POST that reached
        the server just before the TUI was killed is answered again, not added twice."""
        return await self._call(
            DraftOut,
            "POST",
            f"/applications/{_seg(draft_id)}/members",
            body=member,
            idempotency_key=idempotency_key,
            if_match=if_match,
        )

    async def update_member(
        self, draft_id: str, member_id: str, update: MemberUpdate, if_match: int | str
    ) -> DraftOut:
        return await self._call(
            DraftOut,
            "PATCH",
            f"/applications/{_seg(draft_id)}/members/{_seg(member_id)}",
            body=update,
            if_match=if_match,
        )

    async def remove_member(self, draft_id: str, member_id: str, if_match: int | str) -> DraftOut:
        return await self._call(
            DraftOut,
            "DELETE",
            f"/applications/{_seg(draft_id)}/members/{_seg(member_id)}",
            if_match=if_match,
        )

    # --- application flow --------------------------------------------------------------
    # The dibao flow's reads: the notice and the division pickers.

    async def get_notice(self, version: str | None = None) -> NoticeOut:
        """The current 告知书 (or one version of it): what the clerk shows and records."""
        path = "/notice" if version is None else f"/notice/{_seg(version)}"
        return await self._call(NoticeOut, "GET", path)

    async def list_divisions(self, parent: str | None = None) -> list[DivisionOut]:
        """Children of a division; no parent → Hubei's prefectures."""
        params = {"parent": parent} if parent else None
        response = await self._request("GET", "/divisions", params=params)
        try:
            return _DIVISION_LIST.validate_json(response.content)
        except ValidationError as exc:
            raise BadResponse() from exc

    async def get_division(self, code: str) -> DivisionOut:
        """One division; NotFound (行政区划代码不存在：…) for an unknown code."""
        return await self._call(DivisionOut, "GET", f"/divisions/{_seg(code)}")

    # --- authorization ---------------------------------------------------------------
    # 授权签名 (issue 3/4): the board, remote links, the counter's own authorization, and
    # what the SSE subscription (counter_tui.events) needs to reach the stream.

    async def get_authorizations(self, draft_id: str) -> AuthorizationBoard:
        """One row per person, applicant first, with the seq to resume the event stream."""
        return await self._call(
            AuthorizationBoard, "GET", f"/applications/{_seg(draft_id)}/authorizations"
        )

    async def create_link(self, draft_id: str, person_id: str) -> RemoteLinkOut:
        """A new single-use 远程授权 link (the previous one is superseded)."""
        return await self._call(
            RemoteLinkOut,
            "POST",
            f"/applications/{_seg(draft_id)}/persons/{_seg(person_id)}/link",
        )

    async def local_identity(
        self, draft_id: str, person_id: str, body: LocalIdentityIn
    ) -> AuthorizationOut:
        """本机授权 step 1: 现场核验身份证 by the clerk, or the counter face provider."""
        return await self._call(
            AuthorizationOut,
            "POST",
            f"/applications/{_seg(draft_id)}/persons/{_seg(person_id)}/local/identity",
            body=body,
        )

    async def local_signature(
        self, draft_id: str, person_id: str, body: LocalSignatureIn | None = None
    ) -> AuthorizationOut:
        """本机授权 step 2: the signature (None → the counter signature provider)."""
        return await self._call(
            AuthorizationOut,
            "POST",
            f"/applications/{_seg(draft_id)}/persons/{_seg(person_id)}/local/signature",
            body=body if body is not None else LocalSignatureIn(),
        )

    # --- economic check and submission ------------------------------------------------
    # 经济状况 and 提交 (issue 3's endpoints, issue 4's screens).

    async def start_economic_check(self, draft_id: str) -> CheckStartedOut:
        """Start the check (202); progress arrives as economic.progress events, then
        economic.done. InvalidRequest lists who is not 已授权; Conflict while one runs."""
        return await self._call(
            CheckStartedOut, "POST", f"/applications/{_seg(draft_id)}/economic-check"
        )

    async def get_economic_status(self, draft_id: str) -> EconomicStatusOut:
        """The generated status with corrections; NotFound before the first result."""
        return await self._call(
            EconomicStatusOut, "GET", f"/applications/{_seg(draft_id)}/economic-status"
        )

    async def add_correction(self, draft_id: str, body: CorrectionIn) -> EconomicStatusOut:
        """A correction or annotation with its reason (clears a confirmation)."""
        return await self._call(
            EconomicStatusOut,
            "POST",
            f"/applications/{_seg(draft_id)}/economic-status/corrections",
            body=body,
        )

    async def confirm_economic_status(self, draft_id: str) -> EconomicStatusOut:
        """确认: the applicant confirms the status as shown."""
        return await self._call(
            EconomicStatusOut, "POST", f"/applications/{_seg(draft_id)}/economic-status/confirm"
        )

    async def submit(
        self, draft_id: str, idempotency_key: str, body: SubmitIn | None = None
    ) -> CaseOut:
        """提交. The caller keeps ``idempotency_key`` until it has the CaseOut, so pressing
        提交 again after a timeout returns the same case instead of a 409."""
        return await self._call(
            CaseOut,
            "POST",
            f"/applications/{_seg(draft_id)}/submit",
            body=body if body is not None else SubmitIn(),
            idempotency_key=idempotency_key,
        )

    async def get_case(self, draft_id: str, *, reveal: bool = False) -> CaseFileOut:
        """A submitted case and the application as filed; NotFound before submission."""
        params = {"reveal": "true"} if reveal else None
        return await self._call(
            CaseFileOut, "GET", f"/applications/{_seg(draft_id)}/case", params=params
        )

    def events_url(self, draft_id: str) -> str:
        return f"{self.base_url}/applications/{_seg(draft_id)}/events"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}
