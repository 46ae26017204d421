"""Economic check and submission: /applications/{id}/economic-* and /applications/{id}/submit."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from jiuzhutong.contract.authorization import CaseFileOut, CaseOut, SubmitIn
from jiuzhutong.contract.economic import CheckStartedOut, CorrectionIn, EconomicStatusOut
from jiuzhutong.server.deps import IdempotencyKey, Token, idempotency, reply_response
from jiuzhutong.server.dispatch import caller_for
from jiuzhutong.server.errors import error_responses
from jiuzhutong.service import Services

STARTED = {
    "description": "已开始核对；进度以 economic.progress 事件推送，结束时推送 economic.done",
    "model": CheckStartedOut,
}


def router(services: Services) -> APIRouter:
    r = APIRouter(prefix="/applications", tags=["economic"])
    economic = services.economic
    # the data sources are built here, at start-up: production refuses simulated ones now
    # rather than at the first check
    economic.providers  # noqa: B018
    submission = services.submission
    call = caller_for(services)

    @r.post(
        "/{draft_id}/economic-check",
        status_code=202,
        responses={202: STARTED, **error_responses(401, 404, 409, 422)},
    )
    async def start_economic_check(draft_id: str, token: Token) -> Response:
        """全部成员“已授权”后发起家庭经济状况核对（422 列出尚未授权的成员；进行中 409）。"""
        return reply_response(await call(economic.start, token, draft_id))

    @r.get(
        "/{draft_id}/economic-status",
        response_model=EconomicStatusOut,
        responses=error_responses(401, 404, 409),
    )
    async def get_economic_status(draft_id: str, token: Token) -> Response:
        """核对结果：各来源记录、人均月收入、财产汇总与低保标准（参考）；核对前 404。"""
        return reply_response(await call(economic.status, token, draft_id))

    @r.post(
        "/{draft_id}/economic-status/corrections",
        response_model=EconomicStatusOut,
        responses=error_responses(401, 404, 409, 422),
    )
    async def add_economic_correction(draft_id: str, data: CorrectionIn, token: Token) -> Response:
        """申请人的更正或说明：与生成值并列保存，不覆盖生成值；会清除已有的确认。"""
        return reply_response(await call(economic.correct, token, draft_id, data))

    @r.post(
        "/{draft_id}/economic-status/confirm",
        response_model=EconomicStatusOut,
        responses=error_responses(401, 404, 409),
    )
    async def confirm_economic_status(draft_id: str, token: Token) -> Response:
        """申请人确认家庭经济状况。"""
        return reply_response(await call(economic.confirm, token, draft_id))

    @r.post(
        "/{draft_id}/submit",
        status_code=201,
        response_model=CaseOut,
        responses=error_responses(401, 404, 409, 422, 428),
    )
    async def submit_application(
        draft_id: str,
        request: Request,
        token: Token,
        data: SubmitIn | None = None,
        key: IdempotencyKey = None,
    ) -> Response:
        """提交申请（受理）。必须带 Idempotency-Key（缺少时 428）；422 一次性列出全部缺项；
        同一键重试返回同一案件；已提交后换键再提交 409。"""
        idem = idempotency(services, request, key, await request.body())
        reply = await call(submission.submit, token, draft_id, data or SubmitIn(), idem)
        return reply_response(reply)

    @r.get(
        "/{draft_id}/case",
        response_model=CaseFileOut,
        responses=error_responses(401, 403, 404),
    )
    async def get_case(draft_id: str, token: Token, reveal: bool = False) -> Response:
        """已提交的案件：案件编号、进度，以及提交时的申请内容（身份证号默认脱敏；
        ?reveal=true 需要查看权限）。尚未提交 404。"""
        return reply_response(await call(submission.read_case, token, draft_id, reveal=reveal))

    return r
