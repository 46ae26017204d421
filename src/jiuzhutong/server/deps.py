"""Request pieces every router needs: the bearer token, If-Match, Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request, Response
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection

from jiuzhutong.service import Services
from jiuzhutong.service.errors import (
    IdempotencyKeyInvalid,
    Invalid,
    StaleVersion,
    Unauthenticated,
)
from jiuzhutong.service.idempotency import IdempotencyRequest
from jiuzhutong.service.reply import Reply


class BearerToken(HTTPBearer):
    """The bearer token as a plain string, or our own 401 ErrorBody when it is missing.

    One security dependency (listed in OpenAPI) instead of HTTPBearer plus a wrapper:
    each dependency level is measurable on the hottest endpoint.
    """

    async def __call__(self, request: HTTPConnection) -> str:  # type: ignore[override]
        authorization = request.headers.get("authorization")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            token = token.strip()
            if scheme.lower() == "bearer" and token:
                return token
        raise Unauthenticated()


bearer_token = BearerToken(auto_error=False, description="POST /auth/login 返回的 token")
Token = Annotated[str, Depends(bearer_token)]

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='当前版本号，取自上次响应的 ETag，如 "3"（引号与 W/ 可省略）',
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="1–200个可打印字符；同一键重试返回首次响应"),
]


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


def parse_bool_query(request: Request, name: str) -> bool:
    """A boolean query parameter, read as FastAPI would (422 ErrorBody when not a boolean)."""
    value = request.query_params.get(name)
    if value is None:
        return False
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise Invalid.one("bool_parsing", "类型错误：应为 true 或 false", name)


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    text = text.removeprefix("W/").strip().strip('"')
    if not text.isascii() or not text.isdigit():
        raise StaleVersion.malformed()
    return int(text)


def idempotency(
    services: Services, request: Request, key: str | None, body: bytes
) -> IdempotencyRequest | None:
    if key is None:
        return None
    if not 1 <= len(key) <= 200 or not all(" " <= ch <= "~" for ch in key):
        raise IdempotencyKeyInvalid()
    return IdempotencyRequest(
        key=key, fingerprint=services.fingerprint(request.method, request.url.path, body)
    )


def reply_response(reply: Reply) -> Response:
    headers = {"ETag": reply.etag} if reply.etag else None
    return Response(
        content=reply.body,
        status_code=reply.status,
        media_type="application/json",
        headers=headers,
    )


ETAG_HEADER = {"ETag": {"description": '草稿当前版本，如 "3"', "schema": {"type": "string"}}}
