"""Every operation of the schema refuses a client without its scope, and any caller without
a valid token, over plain HTTP, with a revoked or rotated-out token — and never with data."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from kokuho.audit.models import AuditEvent, EventType
from kokuho.cityapi.api import SCOPE_KEY, api
from kokuho.cityapi.models import ApiClient
from kokuho.cityapi.scopes import ApiScope
from kokuho.cityapi.services import api_client_revoke, api_client_rotate
from kokuho.cityapi.tests.support import call
from kokuho.testing import make_insured

SCHEMA = json.loads(json.dumps(api.get_openapi_schema()))
OPERATIONS = [
    (method, path, operation)
    for path, methods in SCHEMA["paths"].items()
    for method, operation in methods.items()
]


def test_the_schema_has_the_operations():
    assert {op["operationId"] for _m, _p, op in OPERATIONS} >= {
        "eligibility_get",
        "eligibility_changes",
        "registry_changes_push",
    }


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[op["operationId"] for *_, op in OPERATIONS]
)
def test_every_operation_declares_a_known_scope(method, path, operation):
    assert ApiScope(operation[SCOPE_KEY])
    assert operation["security"] == [{"ScopedToken": [operation[SCOPE_KEY]]}]


def _url(path: str, atena_no: str) -> str:
    return path.replace("{atena_no}", atena_no)


def _unrestricted_client(without: ApiScope) -> str:
    """A client holding every scope but one (made directly: no real system may have them
    all), to show the missing scope alone is enough to refuse."""
    from kokuho.cityapi.services import _token_issue

    client = ApiClient.objects.create(
        name=f"all-but-{without.value.replace(':', '-')}",
        kind="taxation",
        scopes=[s.value for s in ApiScope if s != without],
        created_at=timezone.now(),
    )
    token, _prefix = _token_issue(client, timezone.now())
    return token


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[op["operationId"] for *_, op in OPERATIONS]
)
def test_every_operation_refuses_a_client_without_its_scope(client, method, path, operation):
    person = make_insured()
    scope = ApiScope(operation[SCOPE_KEY])
    token = _unrestricted_client(without=scope)
    url = _url(path, person.atena_no)
    body = {"records": [{"record_id": "X1"}]}
    response = call(client, method, url, token, json_body=body)
    assert response.status_code == 403
    assert response.json()["code"] == "PERMISSION_DENIED"
    assert person.atena_no.encode() not in response.content
    refused = AuditEvent.objects.filter(event_type=EventType.API_REFUSED).last()
    assert refused.extra["api"]["client"] == f"all-but-{scope.value.replace(':', '-')}"
    assert refused.extra["api"]["operation"] == operation["operationId"]
    assert not AuditEvent.objects.filter(event_type=EventType.API_CALLED).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[op["operationId"] for *_, op in OPERATIONS]
)
@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "NOT_AUTHENTICATED"),
        ("kokuho_not-a-real-token", "INVALID_TOKEN"),
        ("x", "INVALID_TOKEN"),
    ],
)
def test_every_operation_refuses_a_caller_without_a_valid_token(
    client, method, path, operation, header, code
):
    person = make_insured()
    response = call(client, method, _url(path, person.atena_no), header, json_body={})
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert person.atena_no.encode() not in response.content


@pytest.mark.django_db
def test_plain_http_is_refused_unless_allowed(client, settings):
    from kokuho.cityapi.tests.support import make_api_client

    person = make_insured()
    _c, token = make_api_client()
    url = f"/api/v1/eligibility/{person.atena_no}"
    settings.KOKUHO_API_ALLOW_HTTP = None
    settings.DEBUG = False
    response = call(client, "get", url, token, secure=False)
    assert response.status_code == 403
    assert response.json()["code"] == "HTTPS_REQUIRED"
    assert person.atena_no.encode() not in response.content
    settings.KOKUHO_API_ALLOW_HTTP = True
    assert call(client, "get", url, token, secure=False).status_code == 200


@pytest.mark.django_db
def test_a_revoked_client_is_refused(client):
    from kokuho.cityapi.tests.support import make_api_client

    person = make_insured()
    api_client, token = make_api_client()
    url = f"/api/v1/eligibility/{person.atena_no}"
    assert call(client, "get", url, token).status_code == 200
    api_client_revoke(client=api_client, actor=None, reason="システム更改")
    response = call(client, "get", url, token)
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_TOKEN"
    refused = AuditEvent.objects.filter(event_type=EventType.API_REFUSED).last()
    assert refused.extra["api"]["reason"] == "client_revoked"
    assert refused.extra["api"]["client"] == api_client.name


@pytest.mark.django_db
def test_a_rotated_token_stops_after_its_overlap(client):
    from kokuho.cityapi.services import TokenRefused, api_client_authenticate
    from kokuho.cityapi.tests.support import make_api_client

    person = make_insured()
    api_client, old = make_api_client()
    url = f"/api/v1/eligibility/{person.atena_no}"
    # Default overlap (0): the old token stops at once, the new one works.
    new = api_client_rotate(client=api_client, actor=None).token
    assert call(client, "get", url, old).status_code == 401
    assert call(client, "get", url, new).status_code == 200
    # With an overlap: both work until it ends, then only the newest.
    newer = api_client_rotate(client=api_client, actor=None, overlap=timedelta(hours=1)).token
    assert call(client, "get", url, new).status_code == 200
    assert call(client, "get", url, newer).status_code == 200
    later = timezone.now() + timedelta(hours=1, seconds=1)
    with pytest.raises(TokenRefused, match="token_expired"):
        api_client_authenticate(token=new, now=later)
    assert api_client_authenticate(token=newer, now=later) == api_client
