"""職員アカウントの管理 screens: recording training opens the gate; lifting a lock needs a
reason and is audited; training records cannot be edited afterwards."""

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.models import REQUIRED_COURSE, TrainingRecord
from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.testing import TEST_PASSWORD, login_verified, make_person, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    login_verified(client, make_staff(role=Role.ADMINISTRATOR))
    return client


def test_recording_training_opens_personal_data_to_the_clerk(admin_client):
    clerk = make_staff(role=Role.COUNTER, trained=False)
    person = make_person()
    clerk_client = Client()
    login_verified(clerk_client, clerk)
    page = reverse("person_detail", args=[person.atena_no])
    assert clerk_client.get(page).status_code == 403

    response = admin_client.post(
        reverse("account_staff_detail", args=[clerk.username]),
        {"course": REQUIRED_COURSE, "completed_on": "R8.11.1", "expires_on": ""},
    )
    assert response.status_code == 302
    record = TrainingRecord.objects.get(user=clerk)
    assert record.completed_on == dt.date(2026, 11, 1)
    assert clerk_client.get(page).status_code == 200
    assert AuditEvent.objects.filter(
        event_type=EventType.TRAINING_RECORDED, subject_id=clerk.username
    ).exists()


def test_a_training_date_in_the_future_is_refused_on_the_form(admin_client):
    clerk = make_staff(role=Role.COUNTER, trained=False)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = admin_client.post(
        reverse("account_staff_detail", args=[clerk.username]),
        {"course": REQUIRED_COURSE, "completed_on": tomorrow.isoformat()},
    )
    assert response.status_code == 200
    assert "受講日が未来の日付です" in response.content.decode()
    assert not TrainingRecord.objects.filter(user=clerk).exists()


def test_a_training_record_cannot_be_edited_in_the_database():
    clerk = make_staff(role=Role.COUNTER)
    record = TrainingRecord.objects.get(user=clerk)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_trainingrecord SET expires_on = %s WHERE id = %s",
            [dt.date(2099, 1, 1), record.pk],
        )


def _fail(client, username, times):
    for _ in range(times):
        client.post(
            reverse("login"),
            {"username": username, "password": "wrong-password-1"},
            REMOTE_ADDR="10.0.0.7",
        )


def test_a_lock_is_listed_and_lifted_with_a_reason(admin_client):
    clerk = make_staff(role=Role.COUNTER)
    _fail(Client(), clerk.username, 5)
    page = admin_client.get(reverse("account_locks"))
    assert clerk.username in page.content.decode()

    refused = admin_client.post(
        reverse("account_locks"), {"kind": "username", "key": clerk.username, "reason": " "}
    )
    assert "解除の理由を入力してください" in refused.content.decode()
    assert not AuditEvent.objects.filter(event_type=EventType.ACCOUNT_UNLOCKED).exists()

    lifted = admin_client.post(
        reverse("account_locks"),
        {"kind": "username", "key": clerk.username, "reason": "本人確認のうえ解除"},
    )
    assert lifted.status_code == 302
    event = AuditEvent.objects.get(event_type=EventType.ACCOUNT_UNLOCKED)
    assert event.subject_id == clerk.username
    assert event.extra["reason"] == "本人確認のうえ解除"
    # The terminal is still locked on its own; from another one the clerk gets in.
    login = Client().post(
        reverse("login"),
        {"username": clerk.username, "password": TEST_PASSWORD},
        REMOTE_ADDR="10.0.0.8",
    )
    assert login.status_code == 302


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMINISTRATOR])
def test_only_the_administrator_manages_accounts(client, role):
    clerk = make_staff(role=Role.COUNTER)
    login_verified(client, make_staff(role=role))
    assert client.get(reverse("account_staff_detail", args=[clerk.username])).status_code == 403
    assert client.get(reverse("account_locks")).status_code == 403
