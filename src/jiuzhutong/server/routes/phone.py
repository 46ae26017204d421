"""The phone page of a remote authorization link: GET and POST /r/{token} (no login).

The token is the credential. Every failure shows the same plain page (GET) or the same
message (POST); failed look-ups count against the client address (429 when too many).
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from jiuzhutong.contract.authorization import PhoneSubmitIn
from jiuzhutong.server.errors import error_responses
from jiuzhutong.server.phone.render import (
    SECURITY_HEADERS,
    render_invalid_page,
    render_phone_page,
    signature_path_problem,
)
from jiuzhutong.service import Services
from jiuzhutong.service import errors as se


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _invalid(status: int, headers: dict[str, str] | None = None) -> HTMLResponse:
    csp_nonce = secrets.token_urlsafe(16)
    return HTMLResponse(
        render_invalid_page(),
        status_code=status,
        headers=SECURITY_HEADERS(csp_nonce) | (headers or {}),
    )


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/r", tags=["phone"])
    authz = services.authorization

    @r.get(
        "/{token}",
        response_class=HTMLResponse,
        responses={404: {"description": "链接无效"}, 410: {"description": "链接已失效"}},
    )
    async def phone_page(token: str, request: Request) -> HTMLResponse:
        """手机授权页（扫码打开）；无效、过期或已用的链接显示同一个简单页面。"""
        try:
            page = authz.phone_page(token, client_address(request))
        except se.TooManyAttempts as exc:
            return _invalid(429, {"Retry-After": str(exc.retry_after_seconds)})
        except se.NotFound:
            return _invalid(404)
        except se.Gone:
            return _invalid(410)
        csp_nonce = secrets.token_urlsafe(16)
        body = render_phone_page(
            person_name_masked=page.person_name_masked,
            id_masked=page.id_masked,
            document=page.document,
            nonce=page.nonce,
            csp_nonce=csp_nonce,
            post_url=request.url.path,
            face_provider_label=authz.face_provider_label(),
        )
        return HTMLResponse(body, headers=SECURITY_HEADERS(csp_nonce))

    @r.post("/{token}", responses=error_responses(404, 410, 429))
    async def phone_submit(token: str, data: PhoneSubmitIn, request: Request) -> JSONResponse:
        """手机授权页提交：同意人脸识别、核验结果与签名一次提交（页面一次性 nonce）。"""
        if data.face_result == "pass":
            problem = signature_path_problem(data.signature_svg_path)
            if problem is not None:
                raise se.Invalid.one("signature_invalid", problem, "signature_svg_path")
        result = authz.phone_submit(token, client_address(request), data)
        return JSONResponse(result, headers={"Cache-Control": "no-store"})

    return r
