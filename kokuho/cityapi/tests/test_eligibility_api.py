"""GET /api/v1/eligibility/{atena_no} and the changes feed /api/v1/eligibility/changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kokuho.audit.models import AuditEvent, EventType
from kokuho.cityapi.scopes import SystemKind
from kokuho.cityapi.tests.support import call, make_api_client
from kokuho.testing import make_insured, make_person

pytestmark = pytest.mark.django_db


def test_it_gives_the_persons_eligibility_by_atena_no(client):
    person = make_insured()
    api_client, token = make_api_client(SystemKind.WELFARE)
    response = call(client, "get", f"/api/v1/eligibility/{person.atena_no}", token)
    assert response.status_code == 200
    body = response.json()
    assert body["atena_no"] == person.atena_no
    assert body["insured"] is True
    assert body["periods"] == [
        {"start": "2020-04-01", "end": None, "acquired": "move_in", "lost": None}
    ]
    assert set(body["number"]) == {"symbol", "number", "branch"}
    assert body["head_atena_no"] == person.atena_no
    assert body["head_insured"] is True
    assert body["copay_percent"] == 30
    # Only what the systems need: no name, no address.
    assert person.name.encode() not in response.content
    assert person.address.encode() not in response.content
    event = AuditEvent.objects.filter(event_type=EventType.API_CALLED).get()
    assert event.subject_id == person.atena_no
    assert event.purpose == "nhi_eligibility"
    assert event.extra["api"]["client"] == api_client.name
    assert event.extra["api"]["operation"] == "eligibility_get"


def test_a_resident_never_insured_is_answered_as_not_insured(client):
    person = make_person()
    _c, token = make_api_client(SystemKind.WELFARE)
    body = call(client, "get", f"/api/v1/eligibility/{person.atena_no}", token).json()
    assert body["insured"] is False
    assert body["periods"] == []
    assert body["number"] is None


def test_an_unknown_atena_no_is_404_and_refused_in_the_trail(client):
    api_client, token = make_api_client(SystemKind.WELFARE)
    response = call(client, "get", "/api/v1/eligibility/123456789012345", token)
    assert response.status_code == 404
    assert response.json() == {
        "code": "NOT_FOUND",
        "message": "宛名番号 123456789012345 の住民は見つかりません。",
        "field": "atena_no",
        "errors": [],
    }
    refused = AuditEvent.objects.filter(event_type=EventType.API_REFUSED).get()
    assert refused.extra["api"]["client"] == api_client.name
    assert refused.extra["api"]["reason"] == "unknown_atena_no"


@pytest.mark.parametrize("atena_no", ["abc", "1234567890123456", "１２３"])
def test_a_malformed_atena_no_is_422(client, atena_no):
    _c, token = make_api_client(SystemKind.WELFARE)
    response = call(client, "get", f"/api/v1/eligibility/{atena_no}", token)
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID"
    assert response.json()["field"] == "atena_no"


def test_the_feed_pages_through_every_version_with_next_since(client):
    people = [make_insured() for _ in range(5)]
    _c, token = make_api_client(SystemKind.TAXATION)
    seen, since, pages = [], 0, 0
    while True:
        body = call(client, "get", f"/api/v1/eligibility/changes?since={since}&limit=2", token)
        body = body.json()
        seen += [c["atena_no"] for c in body["changes"]]
        since = body["next_since"]
        pages += 1
        if not body["has_more"]:
            break
    assert seen == [p.atena_no for p in people]
    assert pages == 3
    again = call(client, "get", f"/api/v1/eligibility/changes?since={since}", token).json()
    assert again == {"changes": [], "next_since": since, "has_more": False}
    events = AuditEvent.objects.filter(event_type=EventType.API_CALLED)
    assert events.count() == 4
    assert events.first().extra["api"]["atena_nos"] == sorted(p.atena_no for p in people[:2])


def test_a_retroactive_change_is_a_new_version_with_every_period(client):
    from datetime import date

    person = make_insured(moved_out=date(2024, 3, 31))
    _c, token = make_api_client(SystemKind.TAXATION)
    changes = call(client, "get", "/api/v1/eligibility/changes", token).json()["changes"]
    assert [c["version"] for c in changes] == [1, 2]
    assert changes[-1]["periods"][0]["end"] is not None
    assert {c["atena_no"] for c in changes} == {person.atena_no}


def _queries(client, token, limit):
    with CaptureQueriesContext(connection) as captured:
        response = call(client, "get", f"/api/v1/eligibility/changes?limit={limit}", token)
    assert len(response.json()["changes"]) == limit
    return len(captured)


def test_the_feed_costs_the_same_queries_for_any_page_size(client):
    for _ in range(8):
        make_insured()
    _c, token = make_api_client(SystemKind.TAXATION)
    _queries(client, token, 1)  # warm: first request loads what every request shares
    assert _queries(client, token, 2) == _queries(client, token, 8)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=-1", "since"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("since=abc", "since"),
        (f"since={2**63}", "since"),
    ],
)
def test_a_bad_query_is_422(client, query, field):
    _c, token = make_api_client(SystemKind.TAXATION)
    response = call(client, "get", f"/api/v1/eligibility/changes?{query}", token)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert b"changes" not in response.content


def test_the_welfare_system_may_not_read_the_feed(client):
    _c, token = make_api_client(SystemKind.WELFARE)
    response = call(client, "get", "/api/v1/eligibility/changes", token)
    assert response.status_code == 403
