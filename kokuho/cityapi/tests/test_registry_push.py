"""POST /api/v1/registry/changes: the 住基異動 file's importer, ledger and quarantine."""

import pytest

from kokuho.audit.models import AuditEvent, EventType
from kokuho.cityapi.scopes import SystemKind
from kokuho.cityapi.tests.support import call, make_api_client
from kokuho.interfaces.models import ImportFile, QuarantinedRow
from kokuho.interfaces.services import import_residents_changes
from kokuho.interfaces.tests.support import CHANGES_HEADER, change, csv_text
from kokuho.people.models import Person

pytestmark = pytest.mark.django_db(databases=["default", "vault"])
URL = "/api/v1/registry/changes"


@pytest.fixture
def registry(db):
    return make_api_client(SystemKind.RESIDENT_REGISTRY)


def test_a_move_in_is_applied_and_sending_it_again_changes_nothing(client, registry):
    api_client, token = registry
    records = [change("R1", "A01", "2026-04-01", "500000001", "H1")]
    response = call(client, "post", URL, token, json_body={"records": records})
    assert response.status_code == 200
    body = response.json()
    assert body["applied"] == 1
    assert body["results"] == [{"index": 0, "record_id": "R1", "status": "applied", "errors": []}]
    assert Person.objects.filter(atena_no="500000001").exists()
    file = ImportFile.objects.get(pk=body["import_file_id"])
    assert file.kind == "residents_changes"
    assert file.file_name.startswith(f"api-{api_client.name}-")
    again = call(client, "post", URL, token, json_body={"records": records}).json()
    assert again["results"][0]["status"] == "skipped"
    assert Person.objects.filter(atena_no="500000001").count() == 1
    calls = AuditEvent.objects.filter(event_type=EventType.API_CALLED)
    assert calls.count() == 2
    assert calls.first().extra["api"]["client"] == api_client.name
    assert calls.first().extra["api"]["import_file"] == body["import_file_id"]
    assert AuditEvent.objects.filter(event_type=EventType.FILE_IMPORTED).count() == 2


def test_bad_records_go_to_the_same_quarantine_as_the_file(client, registry, tmp_path):
    _c, token = registry
    bad = [
        change("Q1", "A01", "2026-13-01", "500000002", "H2"),
        change("Q2", "B02", "2026-04-01", "999999999", "H9"),
    ]
    body = call(client, "post", URL, token, json_body={"records": bad}).json()
    assert [r["status"] for r in body["results"]] == ["quarantined", "quarantined"]
    assert body["results"][0]["errors"][0]["field"] == "change_date"
    assert body["results"][1]["errors"][0]["code"] == "unknown_resident"
    pushed = list(
        QuarantinedRow.objects.filter(file_id=body["import_file_id"])
        .order_by("line")
        .values_list("line", "field", "code", "reason")
    )
    # The same records as a file: the same rows in quarantine, line for line.
    path = tmp_path / "residents-changes.csv"
    renamed = [r | {"record_id": r["record_id"] + "-file"} for r in bad]
    path.write_text(csv_text(renamed, CHANGES_HEADER), encoding="utf-8")
    summary = import_residents_changes(path=path, actor=None)
    from_file = list(
        QuarantinedRow.objects.filter(file_id=summary.import_file_id)
        .order_by("line")
        .values_list("line", "field", "code", "reason")
    )
    assert pushed == from_file


def test_a_changed_record_under_a_known_id_is_a_conflict(client, registry):
    _c, token = registry
    first = change("C1", "A01", "2026-04-01", "500000003", "H3")
    call(client, "post", URL, token, json_body={"records": [first]})
    changed = first | {"name": "別人 花子"}
    body = call(client, "post", URL, token, json_body={"records": [changed]}).json()
    assert body["results"][0]["status"] == "quarantined"
    assert body["results"][0]["errors"][0]["code"] == "conflict"


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ("{not json", 400, "INVALID_JSON", None),
        ({"records": []}, 422, "INVALID", "records"),
        ({"records": [{"change_code": "A01"}]}, 422, "INVALID", "records[0].record_id"),
        ({"records": [{"record_id": "X", "colour": "red"}]}, 422, "INVALID", "records[0].colour"),
        ({"records": [{"record_id": "X", "name": 5}]}, 422, "INVALID", "records[0].name"),
        ({"records": [{"record_id": "X", "name": "a\nb"}]}, 422, "INVALID", "records[0].name"),
        ({"records": [{"record_id": "  "}]}, 422, "INVALID", "records[0].record_id"),
        ({"records": "R1"}, 422, "INVALID", "records"),
        ({}, 422, "INVALID", "records"),
    ],
)
def test_a_malformed_body_is_refused_and_nothing_is_imported(
    client, registry, payload, status, code, field
):
    api_client, token = registry
    if isinstance(payload, str):
        response = call(client, "post", URL, token, body=payload)
    else:
        response = call(client, "post", URL, token, json_body=payload)
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["field"] == field
    assert body["message"]
    assert not ImportFile.objects.exists()
    refused = AuditEvent.objects.filter(event_type=EventType.API_REFUSED).get()
    assert refused.extra["api"]["client"] == api_client.name


def test_too_many_records_are_refused(client, registry):
    from kokuho.cityapi.registry import MAX_RECORDS

    _c, token = registry
    records = [{"record_id": f"M{i}"} for i in range(MAX_RECORDS + 1)]
    response = call(client, "post", URL, token, json_body={"records": records})
    assert response.status_code == 422
    assert response.json()["field"] == "records"
    assert not ImportFile.objects.exists()


def test_a_wrong_method_gets_the_json_error(client, registry):
    _c, token = registry
    response = call(client, "get", URL, token)
    assert response.status_code == 405
    assert response.json()["code"] == "METHOD_NOT_ALLOWED"
    assert response["Allow"] == "POST"
