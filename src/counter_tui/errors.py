"""Typed errors the client raises; each carries a Chinese message a screen shows as is.

Kept apart from ``client`` so screens can catch them without importing httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Annotations only: the login screen needs these errors before its first paint, and
    # pydantic's import (~70 ms) can wait until the first request.
    from jiuzhutong.contract import ErrorBody, ErrorItem


class ClientError(Exception):
    """Anything that kept a request from giving a usable answer."""

    message: str

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BackendUnreachable(ClientError):
    """No connection could be made (after the retries an idempotent request gets)."""

    def __init__(self, message: str = "无法连接服务") -> None:
        super().__init__(message)


class BackendTimeout(ClientError):
    """The request was sent but no answer came in time: its outcome is unknown."""

    def __init__(self, message: str = "服务响应超时，请刷新后查看结果") -> None:
        super().__init__(message)


class BadResponse(ClientError):
    """The service answered with something that is not the contract (version skew, proxy)."""

    def __init__(self, message: str = "服务返回了无法识别的响应") -> None:
        super().__init__(message)


class ApiError(ClientError):
    """The service refused the request; ``items`` are its ErrorBody, all problems at once."""

    status: int
    items: list[ErrorItem]
    existing_id: str | None

    def __init__(self, status: int, body: ErrorBody) -> None:
        self.status = status
        self.items = list(body.detail)
        self.existing_id = body.existing_id
        super().__init__("；".join(i.message for i in self.items) or f"服务返回错误（{status}）")

    @property
    def code(self) -> str:
        """The first item's code: enough to branch on when one problem is expected."""
        return self.items[0].code if self.items else f"http_{self.status}"

    def by_field(self) -> dict[str | None, list[str]]:
        """Messages grouped by dotted field path, for forms that show them beside the field."""
        out: dict[str | None, list[str]] = {}
        for item in self.items:
            out.setdefault(item.field, []).append(item.message)
        return out


class Unauthorized(ApiError):
    """401: wrong credentials on login, or the session is missing/expired elsewhere."""


class Forbidden(ApiError):
    """403: the staff member's role does not allow this."""


class NotFound(ApiError):
    """404: absent, deleted, or outside the staff member's region (never told apart)."""


class Conflict(ApiError):
    """409: e.g. ``draft_exists``; ``existing_id`` names the open draft to continue instead."""


class StaleVersion(ApiError):
    """412: someone changed the resource since it was read; reload and redo."""


class InvalidRequest(ApiError):
    """422: validation or domain rules refused the body; see ``items`` and ``by_field``."""


class PreconditionRequired(ApiError):
    """428: a change was sent without If-Match (a client bug, surfaced rather than hidden)."""


class TooManyAttempts(ApiError):
    """429: too many failed logins for this username; wait and retry."""


class ServerError(ApiError):
    """5xx: the service failed; nothing was changed (no partial writes)."""


_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: StaleVersion,
    422: InvalidRequest,
    428: PreconditionRequired,
    429: TooManyAttempts,
}


def error_for(status: int, body: ErrorBody) -> ApiError:
    """The typed error for an HTTP status (unknown 4xx fall back to ApiError)."""
    if status >= 500:
        return ServerError(status, body)
    return _BY_STATUS.get(status, ApiError)(status, body)
