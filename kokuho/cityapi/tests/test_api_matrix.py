"""The API's access matrix: every operation the ninja API serves × every scope, every kind
of system and every kind of bad credential, against the matrix declared below.

The operations come from the API object itself (its routers), so a new endpoint is in the
matrix the moment it exists — and fails here until it has its line below. The matrix is
written out rather than read from `scopes.py`: widening who may call what has to change
this file too, where a reviewer sees it.
"""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kokuho.accounts.tests.test_url_permissions import ALL_PATTERNS
from kokuho.audit.models import AuditEvent, EventType
from kokuho.cityapi.api import ScopedToken, api
from kokuho.cityapi.scopes import KIND_SCOPES, ApiScope, SystemKind
from kokuho.cityapi.services import api_client_revoke
from kokuho.cityapi.tests.support import make_api_client
from kokuho.interfaces.tests.support import change
from kokuho.people.models import Person
from kokuho.testing import make_insured

# operation → the one scope that opens it.
OPERATION_SCOPE: dict[str, ApiScope] = {
    "eligibility_get": ApiScope.ELIGIBILITY_READ,
    "eligibility_changes": ApiScope.ELIGIBILITY_FEED,
    "registry_changes_push": ApiScope.REGISTRY_PUSH,
}

# system → the operations a client of that kind, registered with its default scopes, may call.
SYSTEM_OPERATIONS: dict[SystemKind, frozenset[str]] = {
    SystemKind.RESIDENT_REGISTRY: frozenset({"registry_changes_push"}),
    SystemKind.TAXATION: frozenset({"eligibility_get", "eligibility_changes"}),
    SystemKind.COLLECTION: frozenset({"eligibility_get"}),
    SystemKind.WELFARE: frozenset({"eligibility_get"}),
}

NEW_ATENA_NO = "500000901"

# operation → a request it answers with 200 when allowed: (URL kwargs, JSON body).
REQUESTS: dict[str, Callable[[Person], tuple[dict[str, str], Any]]] = {
    "eligibility_get": lambda person: ({"atena_no": person.atena_no}, None),
    "eligibility_changes": lambda person: ({}, None),
    "registry_changes_push": lambda person: (
        {},
        {"records": [change("M1", "A01", "2026-04-01", NEW_ATENA_NO, "H901")]},
    ),
}

# What is not an operation under /api/v1/: the schema (public, no data) and ninja's root.
NOT_OPERATIONS = {"openapi-json", "api-root"}


def _operations() -> Iterator[Any]:
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            yield from path_view.operations


OPERATIONS = {op.operation_id: op for op in _operations()}


def test_every_operation_has_its_line_in_the_matrix():
    assert set(OPERATIONS) == set(OPERATION_SCOPE) == set(REQUESTS), (
        "add the new operation to OPERATION_SCOPE, SYSTEM_OPERATIONS and REQUESTS"
    )


def test_every_api_url_is_an_operation_of_the_matrix():
    """A view mounted beside ninja's (in cityapi/urls.py) would escape the router walk."""
    names = {p.name for route, p in ALL_PATTERNS if route.startswith("api/")}
    assert names - NOT_OPERATIONS == {op.url_name for op in OPERATIONS.values()}


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_the_code_asks_for_the_declared_scope(operation_id):
    [auth] = OPERATIONS[operation_id].auth_callbacks
    assert isinstance(auth, ScopedToken)
    assert auth.scope == OPERATION_SCOPE[operation_id]


def test_each_system_may_call_what_the_matrix_says():
    for kind in SystemKind:
        granted = {op for op, scope in OPERATION_SCOPE.items() if scope in KIND_SCOPES[kind]}
        assert granted == SYSTEM_OPERATIONS[kind], kind


def _single_scope_client(scope: ApiScope) -> str:
    kind = next(k for k in SystemKind if scope in KIND_SCOPES[k])
    _client, token = make_api_client(kind, scopes=[str(scope)])
    return token


def _revoked_client(scope: ApiScope) -> str:
    kind = next(k for k in SystemKind if scope in KIND_SCOPES[k])
    api_client, token = make_api_client(kind)
    api_client_revoke(client=api_client, actor=None, reason="システム更改")
    return token


# Who calls: a client holding one scope, a client of each system as registered, and the
# callers with no valid token at all.
CREDENTIALS = [
    *(f"scope:{scope.value}" for scope in ApiScope),
    *(f"system:{kind.value}" for kind in SystemKind),
    "none",
    "basic-scheme",
    "unknown-token",
    "revoked-token",
]


def _header(credential: str, operation_id: str) -> str | None:
    kind, _, value = credential.partition(":")
    match kind:
        case "scope":
            return f"Bearer {_single_scope_client(ApiScope(value))}"
        case "system":
            return f"Bearer {make_api_client(SystemKind(value))[1]}"
        case "none":
            return None
        case "basic-scheme":
            return "Basic a29rdWhvOmtva3Vobw=="
        case "unknown-token":
            return "Bearer kokuho_not-a-real-token"
        case "revoked-token":
            return f"Bearer {_revoked_client(OPERATION_SCOPE[operation_id])}"
    raise AssertionError(credential)


def _expected(credential: str, operation_id: str) -> tuple[int, str]:
    """The status and, when refused, the error code the matrix says."""
    kind, _, value = credential.partition(":")
    if kind == "scope":
        allowed = OPERATION_SCOPE[operation_id] == ApiScope(value)
    elif kind == "system":
        allowed = operation_id in SYSTEM_OPERATIONS[SystemKind(value)]
    elif kind in ("none", "basic-scheme"):
        return 401, "NOT_AUTHENTICATED"
    else:
        return 401, "INVALID_TOKEN"
    return (200, "") if allowed else (403, "PERMISSION_DENIED")


def _call(client: Client, operation: Any, kwargs: dict[str, str], body: Any, header: str | None):
    url = reverse(f"cityapi:{operation.url_name}", kwargs=kwargs)
    headers = {"Authorization": header} if header else {}
    [method] = operation.methods
    if body is None:
        return client.generic(method, url, headers=headers, secure=True)
    return client.generic(
        method,
        url,
        json.dumps(body, ensure_ascii=False),
        content_type="application/json",
        headers=headers,
        secure=True,
    )


@pytest.mark.django_db(databases=["default", "vault"])
@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
@pytest.mark.parametrize("credential", CREDENTIALS)
def test_every_operation_with_every_credential(client, operation_id, credential):
    person = make_insured()
    operation = OPERATIONS[operation_id]
    kwargs, body = REQUESTS[operation_id](person)
    status, code = _expected(credential, operation_id)

    response = _call(client, operation, kwargs, body, _header(credential, operation_id))

    assert response.status_code == status, (credential, response.content)
    called = AuditEvent.objects.filter(event_type=EventType.API_CALLED)
    if status == 200:
        assert called.get().extra["api"]["operation"] == operation_id
        return
    assert response.json()["code"] == code
    if status == 401:
        assert response["WWW-Authenticate"].startswith("Bearer")
    # Refused without data and without effect.
    assert person.atena_no.encode() not in response.content
    assert not called.exists()
    assert not Person.objects.filter(atena_no=NEW_ATENA_NO).exists()
    refused = AuditEvent.objects.filter(event_type=EventType.API_REFUSED).last()
    assert refused.extra["api"]["operation"] == operation_id
