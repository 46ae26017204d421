"""Errors of the use cases. Each carries one or more problems (code, Chinese message, field);
the server maps the class to an HTTP status and the problems to ErrorBody."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from jiuzhutong.domain.errors import DomainError


@dataclass(frozen=True, slots=True)
class Problem:
    code: str
    message: str
    field: str | None = None

    @classmethod
    def of(cls, error: DomainError) -> Problem:
        return cls(error.code, error.message, error.field)


class ServiceError(Exception):
    code = "error"
    message = "请求无法处理"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.problems = [Problem(self.code, message or self.message, field)]
        super().__init__(self.problems[0].message)


class Unauthenticated(ServiceError):
    code = "unauthenticated"
    message = "请先登录"


class BadCredentials(ServiceError):
    code = "bad_credentials"
    message = "用户名或密码错误"


class TooManyAttempts(ServiceError):
    code = "too_many_attempts"
    message = "登录失败次数过多，请稍后再试"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"登录失败次数过多，请{retry_after_seconds}秒后再试")
        self.retry_after_seconds = retry_after_seconds


class Forbidden(ServiceError):
    code = "forbidden"
    message = "没有权限执行此操作"


class NotFound(ServiceError):
    code = "not_found"
    message = "未找到"


class Conflict(ServiceError):
    code = "conflict"

    def __init__(
        self, code: str, message: str, *, field: str | None = None, existing_id: str | None = None
    ) -> None:
        self.code = code
        super().__init__(message, field=field)
        self.existing_id = existing_id


class PreconditionRequired(ServiceError):
    code = "precondition_required"
    message = "修改前需提供当前版本号（If-Match 请求头），请刷新后再改"


class StaleVersion(ServiceError):
    code = "stale_version"

    def __init__(self, current_version: int | None) -> None:
        if current_version is None:
            message = "该申请已被删除或已不可修改，请刷新"
        else:
            message = f"该申请已被他人修改（当前为第{current_version}版），请刷新后再改"
        super().__init__(message)
        self.current_version = current_version

    @classmethod
    def malformed(cls) -> StaleVersion:
        error = cls(None)
        error.problems = [
            Problem(cls.code, 'If-Match 请求头格式不正确，应为带引号的版本号，如 "3"', None)
        ]
        return error


class Invalid(ServiceError):
    """Every problem found in the request, reported together (一次性告知)."""

    code = "invalid"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        Exception.__init__(self, "；".join(p.message for p in self.problems))

    @classmethod
    def one(cls, code: str, message: str, field: str | None = None) -> Invalid:
        return cls([Problem(code, message, field)])


class IdempotencyKeyInvalid(ServiceError):
    code = "idempotency_key_invalid"
    message = "Idempotency-Key 应为1至200个可打印的ASCII字符"


class IdempotencyKeyReused(ServiceError):
    code = "idempotency_key_reused"
    message = "该 Idempotency-Key 已用于另一个请求，请为新的请求生成新的键"


class Busy(ServiceError):
    code = "busy"
    message = "系统繁忙，请稍后重试"


class Gone(ServiceError):
    """A remote authorization link that expired, was used or was replaced (410)."""

    code = "link_invalid"
    message = "链接无效或已失效，请向窗口工作人员重新获取二维码"


class TooManyLinkLookups(TooManyAttempts):
    """Too many failed link look-ups from one client address (429)."""

    code = "too_many_attempts"

    def __init__(self, retry_after_seconds: int) -> None:
        ServiceError.__init__(self, f"尝试次数过多，请{retry_after_seconds}秒后再试")
        self.retry_after_seconds = retry_after_seconds
