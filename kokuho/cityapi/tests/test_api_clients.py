"""`kokuho api-clients create|rotate|revoke|list`: one credential per system, shown once,
stored hashed, every change in the audit trail with who made it."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kokuho.audit.models import AuditEvent, EventType
from kokuho.cityapi.models import ApiClient, ApiToken
from kokuho.cityapi.services import token_digest
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("api_clients", *args, stdout=out)
    return out.getvalue()


def _token(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("kokuho_"))


def _database_text() -> str:
    """Every table of the business database as text, to look for a token in clear."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (names from introspection)
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


def test_create_prints_the_token_once_and_stores_only_its_hash():
    admin = make_staff(role=None, username="sysadmin")
    output = _run("create", "juki", "--kind", "resident_registry", "--user", "sysadmin")
    token = _token(output)
    assert len(token) > 40
    client = ApiClient.objects.get(name="juki")
    assert client.scopes == ["registry:push"]
    assert client.created_by == admin
    stored = ApiToken.objects.get(client=client)
    assert stored.token_sha256 == token_digest(token)
    assert token not in _database_text()
    assert token[len("kokuho_") :] not in _database_text()
    event = AuditEvent.objects.filter(event_type=EventType.API_CLIENT_CHANGED).get()
    assert event.actor == admin
    assert event.extra["api_client"]["name"] == "juki"
    assert event.extra["api_client"]["action"] == "created"
    listing = _run("list") + _run("list", "--json")
    assert token not in listing
    assert stored.prefix in listing


def test_rotate_and_revoke_are_recorded_with_the_actor():
    admin = make_staff(role=None, username="sysadmin")
    first = _token(_run("create", "fuka", "--kind", "taxation"))
    second = _token(_run("rotate", "fuka", "--overlap-seconds", "60", "--user", "sysadmin"))
    assert first != second
    client = ApiClient.objects.get(name="fuka")
    assert client.rotated_by == admin
    _run("revoke", "fuka", "--reason", "更改", "--user", "sysadmin")
    client.refresh_from_db()
    assert (client.active, client.revoked_by) == (False, admin)
    assert all(t.expires_at is not None for t in client.tokens.all())
    actions = [
        e.extra["api_client"]["action"]
        for e in AuditEvent.objects.filter(event_type=EventType.API_CLIENT_CHANGED).order_by("seq")
    ]
    assert actions == ["created", "rotated", "revoked"]
    rows = json.loads(_run("list", "--json"))
    assert rows[0]["active"] is False
    assert not any(t["valid"] for t in rows[0]["tokens"])
    with pytest.raises(CommandError, match="REVOKED"):
        _run("rotate", "fuka")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (
            ["create", "fukushi", "--kind", "welfare", "--scope", "registry:push"],
            "SCOPE_NOT_ALLOWED",
        ),
        (["create", "fukushi", "--kind", "welfare", "--scope", "everything"], "UNKNOWN_SCOPE"),
        (["create", "福祉", "--kind", "welfare"], "INVALID_NAME"),
    ],
)
def test_create_refuses_what_the_system_may_not_have(args, code):
    with pytest.raises(CommandError, match=code):
        _run(*args)
    assert not ApiClient.objects.exists()


def test_a_name_is_one_system():
    _run("create", "shuno", "--kind", "collection")
    with pytest.raises(CommandError, match="DUPLICATE_NAME"):
        _run("create", "shuno", "--kind", "collection")
    with pytest.raises(CommandError, match="登録されていません"):
        _run("revoke", "nobody")
