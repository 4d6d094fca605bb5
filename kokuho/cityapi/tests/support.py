"""Builders for the API tests: a registered client and its token in one line, and calls."""

from typing import Any

from django.test import Client

from kokuho.cityapi.scopes import SystemKind
from kokuho.cityapi.services import api_client_create

_names = iter(range(1, 10_000))


def make_api_client(
    kind: SystemKind = SystemKind.TAXATION, scopes: list[str] | None = None, name: str = ""
) -> tuple[Any, str]:
    """A registered client (the kind's every scope unless `scopes`) and its clear token."""
    issued = api_client_create(
        name=name or f"system-{next(_names)}", kind=kind, scopes=scopes or [], actor=None
    )
    return issued.client, issued.token


def call(
    client: Client,
    method: str,
    url: str,
    token: str | None,
    *,
    json_body: Any = None,
    body: str | None = None,
    secure: bool = True,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "get":
        return client.get(url, headers=headers, secure=secure)
    data = body if body is not None else json_body
    return client.post(
        url, data=data, content_type="application/json", headers=headers, secure=secure
    )
