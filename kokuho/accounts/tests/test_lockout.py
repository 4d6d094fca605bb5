"""ログインの一時停止 (django-axes): 5 failures lock the username — and the terminal — for 30
minutes; the lock is shown in Japanese and recorded once."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.testing import TEST_PASSWORD, make_staff

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-1"


def _log_in(client, username, password, addr="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=addr
    )


def _fail(client, username, times, addr="10.0.0.1"):
    return [_log_in(client, username, WRONG, addr).status_code for _ in range(times)]


def test_the_parameters_are_five_failures_and_thirty_minutes():
    assert settings.AXES_ENABLED
    assert settings.AXES_FAILURE_LIMIT == 5
    assert timedelta(minutes=30) == settings.AXES_COOLOFF_TIME
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_five_failures_lock_the_account_even_with_the_right_password(client):
    staff = make_staff(role=Role.COUNTER)
    assert _fail(client, staff.username, 4) == [200] * 4
    fifth = _log_in(client, staff.username, WRONG)
    assert fifth.status_code == 429
    assert "ログインを一時停止しています" in fifth.content.decode()
    assert "30分後" in fifth.content.decode()

    right = _log_in(client, staff.username, TEST_PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    # From another terminal too: the lock is on the username.
    assert _log_in(client, staff.username, TEST_PASSWORD, addr="10.0.0.9").status_code == 429


def test_the_lock_is_recorded_once(client):
    staff = make_staff(role=Role.COUNTER)
    _fail(client, staff.username, 8)
    locks = AuditEvent.objects.filter(event_type=EventType.LOGIN_LOCKED_OUT)
    assert locks.count() == 1
    event = locks.get()
    assert event.subject_id == staff.username
    assert event.extra["failures"] == 5 and event.extra["lock_minutes"] == 30
    assert WRONG not in str(event.extra)
    # Every try is still a failed login in the trail.
    assert AuditEvent.objects.filter(event_type=EventType.LOGIN_FAILED).count() == 8


def test_other_accounts_on_other_terminals_are_not_affected(client):
    locked, colleague = make_staff(role=Role.COUNTER), make_staff(role=Role.COUNTER)
    _fail(client, locked.username, 5)
    response = _log_in(client, colleague.username, TEST_PASSWORD, addr="10.0.0.2")
    assert response.status_code == 302


def test_one_terminal_trying_many_accounts_is_locked(client):
    accounts = [make_staff(role=Role.COUNTER) for _ in range(5)]
    for staff in accounts:
        _fail(client, staff.username, 1, addr="10.0.0.3")
    bystander = make_staff(role=Role.COUNTER)
    assert _log_in(client, bystander.username, TEST_PASSWORD, addr="10.0.0.3").status_code == 429
    assert _log_in(client, bystander.username, TEST_PASSWORD, addr="10.0.0.4").status_code == 302


def test_a_successful_login_starts_the_count_again(client):
    staff = make_staff(role=Role.COUNTER)
    _fail(client, staff.username, 4)
    assert _log_in(client, staff.username, TEST_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert _fail(client, staff.username, 4) == [200] * 4


def test_the_lock_ends_after_the_cool_off(client):
    staff = make_staff(role=Role.COUNTER)
    _fail(client, staff.username, 5)
    assert _log_in(client, staff.username, TEST_PASSWORD).status_code == 429
    # Move the failures back past the 30 minutes instead of waiting.
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=31)
        attempt.save(update_fields=["attempt_time"])
    assert _log_in(client, staff.username, TEST_PASSWORD).status_code == 302


def test_behind_the_proxy_the_lock_is_on_the_clerks_terminal_not_the_proxy(client, settings):
    """Every request comes from the proxy's address; the terminal is the one the proxy saw.
    Five failures at one counter must not lock the other counters."""
    settings.KOKUHO_TRUSTED_PROXIES = ["127.0.0.1"]
    other = make_staff(role=Role.COUNTER)
    for n in range(5):
        client.post(
            reverse("login"),
            {"username": f"nobody-{n}", "password": WRONG},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="10.0.0.1",
        )
    locked = client.post(
        reverse("login"),
        {"username": other.username, "password": TEST_PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.0.0.1",
    )
    assert locked.status_code == 429  # that terminal is locked …
    elsewhere = client.post(
        reverse("login"),
        {"username": other.username, "password": TEST_PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.0.0.2",
    )
    assert elsewhere.status_code == 302  # … the next counter is not
    # The failures are recorded against the terminal, never the proxy.
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"10.0.0.1"}
