"""The city's API (庁内システム連携API): JSON over HTTPS, OpenAPI 3.1 at `/api/v1/openapi.json`.

Handlers are thin: check the token and the operation's scope (`ScopedToken`), call one
selector or service, record the call. Every operation declares its scope both to the code
(the auth object) and in the schema (`x-kokuho-scope`), and the access test walks the
schema so an operation cannot be added without one.

Refusals never carry data: 401 (no token, a bad, expired or revoked one), 403 (HTTPS
required, a scope the client lacks), 400 (a body that is not JSON), 422 (a malformed
request), 404 (no resident has the 宛名番号) — each `{"code", "message", "field"}`, each in
the audit trail as `api_refused`.
"""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Path, Query
from ninja.errors import HttpError, ValidationError
from ninja.renderers import JSONRenderer
from ninja.security.http import HttpAuthBase

from kokuho.audit.models import SubjectType
from kokuho.cityapi.conf import api_allow_http
from kokuho.cityapi.errors import ApiError, ApiErrorCode
from kokuho.cityapi.models import ApiClient
from kokuho.cityapi.registry import RecordsInvalid, registry_changes_push
from kokuho.cityapi.schemas import (
    ChangesOut,
    EligibilityOut,
    ErrorOut,
    RegistryPushIn,
    RegistryPushOut,
)
from kokuho.cityapi.scopes import ApiScope
from kokuho.cityapi.selectors import (
    CHANGES_MAX_LIMIT,
    api_eligibility_changes,
    api_person_eligibility,
)
from kokuho.cityapi.services import (
    TokenRefused,
    api_call_record,
    api_client_authenticate,
    api_refusal_record,
)
from kokuho.core.client_ip import client_address

SCOPE_KEY = "x-kokuho-scope"
# Largest sequence number accepted: a 64-bit id, what both databases hold.
SEQ_MAX = 2**63 - 1


class _JapaneseJSON(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


class _CityApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """ninja lists a bearer requirement without scopes; name each operation's scope
        in it (OpenAPI 3.1 allows role names for non-OAuth schemes)."""
        schema = super().get_openapi_schema(**kwargs)
        for methods in schema["paths"].values():
            for operation in methods.values():
                if SCOPE_KEY in operation:
                    operation["security"] = [{"ScopedToken": [operation[SCOPE_KEY]]}]
        return schema


api = _CityApi(
    title="Kokuho 庁内システム連携API",
    version="1.0.0",
    description=(
        "住民記録・税務（国保税 賦課）・収納・福祉の各システム向け。"
        "システムごとの API トークン（Authorization: Bearer …）と、操作ごとのスコープで認可します。"
        "個人番号は扱いません。"
    ),
    urls_namespace="cityapi",
    docs_url=None,  # the docs page loads its scripts from a CDN; the schema is enough
    renderer=_JapaneseJSON(),
)


class ScopedToken(HttpAuthBase):
    """Bearer token of an active client that holds `scope`; HTTPS unless allowed off."""

    openapi_scheme = "bearer"
    openapi_description = "API利用システムのトークン（kokuho api-clients create で発行）"

    def __init__(self, scope: ApiScope) -> None:
        self.scope = scope
        super().__init__()

    def __call__(self, request: HttpRequest) -> ApiClient:
        if not request.is_secure() and not api_allow_http():
            raise ApiError(ApiErrorCode.HTTPS_REQUIRED, "HTTPS で接続してください。")
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                ApiErrorCode.NOT_AUTHENTICATED,
                "API トークンがありません（Authorization: Bearer <トークン>）。",
            )
        try:
            client = api_client_authenticate(token=token)
        except TokenRefused as refused:
            raise ApiError(
                ApiErrorCode.INVALID_TOKEN,
                "API トークンが無効です（失効・期限切れ・誤り）。",
                reason=refused.reason,
                client=refused.client,
            ) from None
        if self.scope not in client.scopes:
            raise ApiError(
                ApiErrorCode.PERMISSION_DENIED,
                f"この操作にはスコープ {self.scope}（{self.scope.label}）が必要です。",
                client=client,
            )
        return client


_ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


def _scoped(scope: ApiScope) -> dict[str, Any]:
    """The operation's auth and its declaration in the schema."""
    return {
        "auth": ScopedToken(scope),
        "openapi_extra": {SCOPE_KEY: str(scope)},
    }


def _operation(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return (match.url_name or "") if match else ""


# --- Errors ------------------------------------------------------------------------------


def _refuse(request: HttpRequest, error: ApiError, *, errors: list | None = None) -> HttpResponse:
    client = error.client or getattr(request, "auth", None)
    api_refusal_record(
        client=client if isinstance(client, ApiClient) else None,
        operation=_operation(request),
        code=error.code.value,
        reason=error.reason,
        field=error.field,
        path=request.path,
        remote_addr=client_address(request),
    )
    body = error.body() | {"errors": errors or []}
    response = api.create_response(request, body, status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="kokuho"'
    return response


def method_not_allowed(request: HttpRequest, allowed: str) -> HttpResponse:
    """ninja answers a method no operation has with a bare 405; the API's shape instead."""
    refusal = ApiError(
        ApiErrorCode.METHOD_NOT_ALLOWED,
        f"この URL で使えるメソッドは {allowed} です。",
        reason=f"method {request.method[:10] if request.method else ''}",
    )
    response = _refuse(request, refusal)
    response["Allow"] = allowed
    return response


@api.exception_handler(ApiError)
def _api_error(request: HttpRequest, error: ApiError) -> HttpResponse:
    return _refuse(request, error)


_MESSAGES = {
    "missing": "必須の項目がありません",
    "extra_forbidden": "定義されていない項目です",
    "string_type": "文字列で指定してください",
    "string_too_long": "長すぎます（{max_length} 文字まで）",
    "string_too_short": "空にはできません",
    "string_pattern_mismatch": "形式が正しくありません",
    "int_parsing": "整数で指定してください",
    "int_type": "整数で指定してください",
    "int_from_float": "整数で指定してください",
    "greater_than_equal": "{ge} 以上で指定してください",
    "less_than_equal": "{le} 以下で指定してください",
    "too_long": "多すぎます（{max_length} 件まで）",
    "too_short": "{min_length} 件以上指定してください",
    "list_type": "配列で指定してください",
    "model_type": "オブジェクトで指定してください",
    "model_attributes_type": "オブジェクトで指定してください",
    "dict_type": "オブジェクトで指定してください",
}


def _field(loc: list[Any]) -> str:
    # ninja's loc: ("body", <argument>, …), ("query", name), ("path", name).
    parts = list(loc[2:] if loc[:1] == ["body"] else loc[1:])
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: dict[str, Any]) -> str:
    template = _MESSAGES.get(error.get("type", ""), "値が正しくありません")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError, ValueError):
        return "値が正しくありません"


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    details = [
        {"field": _field(list(e.get("loc", ()))), "message": _message(e)} for e in error.errors
    ]
    first = details[0] if details else {"field": None, "message": "入力が正しくありません"}
    refusal = ApiError(
        ApiErrorCode.INVALID,
        f"{first['field']}: {first['message']}" if first["field"] else first["message"],
        field=first["field"] or None,
    )
    return _refuse(request, refusal, errors=details)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    # ninja raises it for a body that is not JSON (400).
    refusal = ApiError(
        ApiErrorCode.INVALID_JSON, "リクエストの本文を JSON として読めません。", reason=str(error)
    )
    return _refuse(request, refusal)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return _refuse(request, ApiError(ApiErrorCode.NOT_FOUND, "見つかりません。"))


# --- Operations --------------------------------------------------------------------------
# The changes feed first: `eligibility/changes` must not be read as a 宛名番号.


@api.get(
    "/eligibility/changes",
    response={200: ChangesOut, **_ERRORS},
    operation_id="eligibility_changes",
    url_name="eligibility_changes",
    summary="資格の異動（連番以降）",
    description=(
        "since より後に記録された資格履歴の版を古い順に limit 件まで。"
        "各版はその人の全期間を含みます。next_since を次の since にして続きを取得します。"
    ),
    **_scoped(ApiScope.ELIGIBILITY_FEED),
)
def eligibility_changes(
    request: HttpRequest,
    since: int = Query(0, ge=0, le=SEQ_MAX, description="前回の next_since（初回は 0）"),
    limit: int = Query(100, ge=1, le=CHANGES_MAX_LIMIT, description="1 回の件数"),
) -> ChangesOut:
    page = api_eligibility_changes(since=since, limit=limit)
    api_call_record(
        client=request.auth,  # type: ignore[attr-defined]
        operation="eligibility_changes",
        scope=ApiScope.ELIGIBILITY_FEED,
        subject_type=SubjectType.SYSTEM,
        subject_id="eligibility_changes",
        extra={
            "since": since,
            "next_since": page.next_since,
            "count": len(page.changes),
            # Whose data left, so each person's access history can show it.
            "atena_nos": sorted({c.atena_no for c in page.changes}),
        },
    )
    return page  # type: ignore[return-value]


@api.get(
    "/eligibility/{atena_no}",
    response={200: EligibilityOut, 404: ErrorOut, **_ERRORS},
    operation_id="eligibility_get",
    url_name="eligibility_get",
    summary="資格の照会（宛名番号）",
    description="本日の資格（資格期間、記号・番号・枝番、世帯主、負担割合）。",
    **_scoped(ApiScope.ELIGIBILITY_READ),
)
def eligibility_get(
    request: HttpRequest,
    atena_no: str = Path(..., pattern=r"^[0-9]{1,15}$", description="宛名番号（数字 15 桁まで）"),
) -> EligibilityOut:
    client: ApiClient = request.auth  # type: ignore[attr-defined]
    found = api_person_eligibility(atena_no=atena_no, on=timezone.localdate())
    if found is None:
        raise ApiError(
            ApiErrorCode.NOT_FOUND,
            f"宛名番号 {atena_no} の住民は見つかりません。",
            field="atena_no",
            reason="unknown_atena_no",
            client=client,
        )
    api_call_record(
        client=client,
        operation="eligibility_get",
        scope=ApiScope.ELIGIBILITY_READ,
        subject_type=SubjectType.PERSON,
        subject_id=atena_no,
    )
    return found  # type: ignore[return-value]


@api.post(
    "/registry/changes",
    response={200: RegistryPushOut, **_ERRORS},
    operation_id="registry_changes_push",
    url_name="registry_changes_push",
    summary="住基異動の送信",
    description=(
        "住基異動ファイル（residents-changes.csv）と同じ項目・同じ取込処理。"
        "誤りのある異動は保留され（保留一覧で修正・再投入）、同じ異動の再送は何もしません。"
        "結果は異動ごとに applied / quarantined / skipped。"
    ),
    **_scoped(ApiScope.REGISTRY_PUSH),
)
def registry_changes_push_view(request: HttpRequest, payload: RegistryPushIn) -> RegistryPushOut:
    client: ApiClient = request.auth  # type: ignore[attr-defined]
    try:
        pushed = registry_changes_push(
            records=[record.model_dump() for record in payload.records], client=client
        )
    except RecordsInvalid as invalid:
        raise ApiError(
            ApiErrorCode.INVALID, invalid.message, field=invalid.field, client=client
        ) from None
    summary = pushed.summary
    api_call_record(
        client=client,
        operation="registry_changes_push",
        scope=ApiScope.REGISTRY_PUSH,
        subject_type=SubjectType.SYSTEM,
        subject_id=f"import_file:{summary.import_file_id}",
        extra={"import_file": summary.import_file_id, "counts": summary.counts()},
    )
    return RegistryPushOut(
        import_file_id=summary.import_file_id,
        read=summary.read,
        applied=summary.applied,
        skipped=summary.skipped,
        quarantined=summary.quarantined_total,
        results=[
            {"index": r.index, "record_id": r.record_id, "status": r.status, "errors": r.errors}
            for r in pushed.results
        ],
    )
