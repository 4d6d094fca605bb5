"""schemathesis over the served OpenAPI: generated requests (valid and invalid) for every
operation, a bounded number each, sent through Django's test client with a token holding
the operation's scope; no answer may be a server error, and every error is the JSON shape."""

import json
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings

from kokuho.cityapi.api import SCOPE_KEY, api
from kokuho.cityapi.scopes import SystemKind
from kokuho.cityapi.tests.support import make_api_client
from kokuho.testing import make_insured

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())


@pytest.fixture
def tokens(db):
    """A token for each scope: the 賦課 system (read, feed) and 住記 (push)."""
    make_insured()  # one person, so the feed and lookups have something to find
    _tax, tax_token = make_api_client(SystemKind.TAXATION)
    _registry, registry_token = make_api_client(SystemKind.RESIDENT_REGISTRY)
    return {
        "eligibility:read": tax_token,
        "eligibility:feed": tax_token,
        "registry:push": registry_token,
    }


def _send(client, case, token):
    kwargs = case.as_transport_kwargs(
        base_url="https://testserver", headers={"Authorization": f"Bearer {token}"}
    )
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
    ).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    headers = {
        k: v
        for k, v in prepared.headers.items()
        if k.lower() not in {"content-type", "content-length"}
    }
    return client.generic(
        prepared.method,
        url.path + (f"?{url.query}" if url.query else ""),
        data=body.encode() if isinstance(body, str) else body,
        content_type=prepared.headers.get("Content-Type", "application/octet-stream"),
        headers=headers,
        secure=True,
    )


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_gets_a_server_error(case, client, tokens):
    token = tokens[case.operation.definition.raw[SCOPE_KEY]]
    response = _send(client, case, token)
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"code", "message", "field"}, body
        assert body["code"].isupper()


def test_the_served_schema_is_the_one_tested(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served["openapi"] == "3.1.0"
    assert served == json.loads(json.dumps(api.get_openapi_schema()))
