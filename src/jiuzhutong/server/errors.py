"""Every error leaves as ErrorBody. Log lines name codes and fields, never values."""

from __future__ import annotations

import contextlib
import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from jiuzhutong.contract import ErrorBody, ErrorItem
from jiuzhutong.server.validation import translate
from jiuzhutong.service import errors as se

log = logging.getLogger("jiuzhutong.server")

STATUS: dict[type[se.ServiceError], int] = {
    se.Unauthenticated: 401,
    se.BadCredentials: 401,
    se.Forbidden: 403,
    se.NotFound: 404,
    se.Conflict: 409,
    se.StaleVersion: 412,
    se.Gone: 410,
    se.Invalid: 422,
    se.IdempotencyKeyInvalid: 422,
    se.IdempotencyKeyReused: 422,
    se.PreconditionRequired: 428,
    se.TooManyAttempts: 429,
    se.Busy: 503,
}

_DESCRIPTIONS = {
    401: "未登录或登录已失效（unauthenticated / bad_credentials）",
    403: "没有权限（forbidden）",
    404: "不存在或不在服务区域内（not_found）",
    409: "冲突（draft_exists 带 existing_id；username_taken；authorization_state）",
    410: "链接已失效（link_invalid）",
    412: "版本已过期（stale_version）",
    422: "请求内容有误，列出全部问题",
    428: "缺少 If-Match（precondition_required）",
    429: "登录失败次数过多（too_many_attempts）",
    503: "系统繁忙（busy）",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses an endpoint can return.

    422 is always listed (any parameter or header can be malformed) so FastAPI's own
    HTTPValidationError never appears: validation errors leave as ErrorBody too.
    """
    return {
        s: {"model": ErrorBody, "description": _DESCRIPTIONS[s]} for s in sorted({*statuses, 422})
    }


def error_response(
    status: int,
    items: list[ErrorItem],
    *,
    existing_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    content = ErrorBody(detail=items, existing_id=existing_id).model_dump(mode="json")
    if existing_id is None:
        del content["existing_id"]
    return JSONResponse(
        content,
        status_code=status,
        headers=headers,
    )


def _summary(items: list[ErrorItem]) -> str:
    return ", ".join(f"{i.code}@{i.field or '-'}" for i in items)


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, se.ServiceError)
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    items = [ErrorItem(code=p.code, message=p.message, field=p.field) for p in exc.problems]
    headers = None
    if isinstance(exc, se.TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    elif isinstance(exc, se.Unauthenticated | se.BadCredentials):
        headers = {"WWW-Authenticate": "Bearer"}
    log.info("%s %s -> %d %s", request.method, request.url.path, status, _summary(items))
    existing = exc.existing_id if isinstance(exc, se.Conflict) else None
    return error_response(status, items, existing_id=existing, headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = translate(exc.errors())
    log.info("%s %s -> 422 %s", request.method, request.url.path, _summary(items))
    return error_response(422, items)


_HTTP_CODES = {
    401: ("unauthenticated", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "请求的地址不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("body_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "请求体应为 JSON（Content-Type: application/json）"),
}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, message = _HTTP_CODES.get(exc.status_code, ("http_error", "请求无法处理"))
    log.info("%s %s -> %d %s", request.method, request.url.path, exc.status_code, code)
    return error_response(
        exc.status_code,
        [ErrorItem(code=code, message=message)],
        headers=getattr(exc, "headers", None),
    )


def log_unexpected(method: str, path: str, exc: BaseException) -> None:
    # The type and the frames, not the message: exception texts (pydantic's above all)
    # quote the values being processed, and those can be a resident's ID number.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s %s -> 500 %s\n%s", method, path, type(exc).__name__, frames)


INTERNAL_ERROR = ErrorItem(code="internal_error", message="服务器内部错误，请稍后重试或联系管理员")


class CatchAll:
    """Turns an unexpected exception into a 500 ErrorBody and stops it there.

    Starlette's own 500 handler re-raises so the server can log it, and uvicorn logs the
    exception's message — which can quote personal data. Here it ends, logged as above.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope["type"] != "http":
                raise
            log_unexpected(scope.get("method", "?"), scope.get("path", "?"), exc)
            # No per-message bookkeeping of whether the response started (this wraps
            # every request): if it had, the server refuses the second start, and then
            # there is nothing more to tell the client anyway.
            with contextlib.suppress(Exception):
                await error_response(500, [INTERNAL_ERROR])(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(se.ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(CatchAll)
