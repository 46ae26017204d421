"""Authorization at the counter and by link: /applications/{id}/authorizations, …/persons/…"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from jiuzhutong.contract.authorization import (
    AuthorizationBoard,
    AuthorizationOut,
    LocalIdentityIn,
    LocalSignatureIn,
    RemoteLinkOut,
    SignedDocumentOut,
)
from jiuzhutong.server.deps import IdempotencyKey, Token, idempotency, reply_response
from jiuzhutong.server.dispatch import caller_for
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/applications/{draft_id}", tags=["authorization"])
    authz = services.authorization
    call = caller_for(services)

    @r.get(
        "/authorizations",
        response_model=AuthorizationBoard,
        responses=error_responses(401, 404),
    )
    async def authorization_board(draft_id: str, token: Token) -> AuthorizationBoard:
        """每位家庭成员的授权状态（申请人在前）；last_event_seq 用于续接实时状态流。"""
        return await call(authz.board, token, draft_id)

    @r.post(
        "/persons/{person_id}/link",
        status_code=201,
        response_model=RemoteLinkOut,
        responses=error_responses(401, 404, 409),
    )
    async def create_link(
        draft_id: str, person_id: str, request: Request, token: Token, key: IdempotencyKey = None
    ) -> Response:
        """生成远程授权链接（一次性；使之前的链接失效；有效期 JZT_LINK_MINUTES 分钟）。"""
        idem = idempotency(services, request, key, await request.body())
        return reply_response(await call(authz.create_link, token, draft_id, person_id, idem))

    @r.post(
        "/persons/{person_id}/local/identity",
        response_model=AuthorizationOut,
        responses=error_responses(401, 404, 409),
    )
    async def local_identity(
        draft_id: str,
        person_id: str,
        data: LocalIdentityIn,
        request: Request,
        token: Token,
        key: IdempotencyKey = None,
    ) -> Response:
        """本机授权第一步：工作人员现场核验身份证，或柜台人脸核验；记录核验人员。"""
        idem = idempotency(services, request, key, await request.body())
        reply = await authz.local_identity(token, draft_id, person_id, data, idem)
        return reply_response(reply)

    @r.post(
        "/persons/{person_id}/local/signature",
        response_model=AuthorizationOut,
        responses=error_responses(401, 404, 409),
    )
    async def local_signature(
        draft_id: str,
        person_id: str,
        data: LocalSignatureIn,
        request: Request,
        token: Token,
        key: IdempotencyKey = None,
    ) -> Response:
        """本机授权第二步：签名（未提供时由柜台签名设备采集）→ 已签名 → 已授权。"""
        idem = idempotency(services, request, key, await request.body())
        reply = await authz.local_signature(token, draft_id, person_id, data, idem)
        return reply_response(reply)

    @r.get(
        "/persons/{person_id}/signed-document",
        response_model=SignedDocumentOut,
        responses=error_responses(401, 404),
    )
    async def signed_document(draft_id: str, person_id: str, token: Token) -> SignedDocumentOut:
        """已签署的告知书（含 SHA-256）；每次查看写审计记录。"""
        return await call(authz.signed_document, token, draft_id, person_id)

    return r
