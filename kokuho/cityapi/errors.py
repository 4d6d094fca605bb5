"""Error codes of the city's API (after Saleor: a code, a Japanese message, the field).

Every refusal is one of these, answered as `{"code": …, "message": …, "field": …}` with the
status below and never with data; the audit trail records it (`EventType.API_REFUSED`).
"""

from enum import StrEnum
from typing import Any


class ApiErrorCode(StrEnum):
    HTTPS_REQUIRED = "HTTPS_REQUIRED"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105 (an error code, not a secret)
    PERMISSION_DENIED = "PERMISSION_DENIED"
    INVALID = "INVALID"
    INVALID_JSON = "INVALID_JSON"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"


ERROR_STATUS: dict[ApiErrorCode, int] = {
    ApiErrorCode.HTTPS_REQUIRED: 403,
    ApiErrorCode.NOT_AUTHENTICATED: 401,
    ApiErrorCode.INVALID_TOKEN: 401,
    ApiErrorCode.PERMISSION_DENIED: 403,
    ApiErrorCode.INVALID: 422,
    ApiErrorCode.INVALID_JSON: 400,
    ApiErrorCode.NOT_FOUND: 404,
    ApiErrorCode.METHOD_NOT_ALLOWED: 405,
}


class ApiError(Exception):
    """A refusal to answer with `ERROR_STATUS[code]`. `reason` is for the audit trail only
    (e.g. why a token was not accepted), never sent to the caller."""

    def __init__(
        self,
        code: ApiErrorCode,
        message: str,
        *,
        field: str | None = None,
        reason: str = "",
        client: Any | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.reason = reason or code.value.lower()
        self.client = client

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]

    def body(self) -> dict[str, Any]:
        return {"code": self.code.value, "message": self.message, "field": self.field}
