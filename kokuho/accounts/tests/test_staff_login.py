from datetime import date, timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.permissions import Perm, Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.testing import TEST_PASSWORD, make_staff

pytestmark = pytest.mark.django_db


def _log_in(client, username, password=TEST_PASSWORD):
    return client.post(reverse("login"), {"username": username, "password": password})


@pytest.mark.real_password_hashing
def test_it_stores_passwords_with_argon2():
    staff = make_staff()
    assert User.objects.get(pk=staff.pk).password.startswith("argon2")


def test_it_logs_in_a_current_account_and_audits_it(client):
    staff = make_staff()
    response = _log_in(client, staff.username)
    assert response.status_code == 302 and response.url == reverse("home")
    assert AuditEvent.objects.filter(event_type=EventType.LOGIN, actor=staff).exists()


def test_it_refuses_an_account_past_its_end_date(client):
    today = timezone.localdate()
    staff = make_staff(valid_from=today - timedelta(days=30), valid_until=today - timedelta(days=1))
    response = _log_in(client, staff.username)
    assert response.status_code == 200 and "正しくないか、利用期間外" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_refuses_an_account_before_its_start_date(client):
    staff = make_staff(valid_from=timezone.localdate() + timedelta(days=1))
    response = _log_in(client, staff.username)
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_a_session_stops_working_when_the_account_expires(client):
    staff = make_staff()
    client.force_login(staff)
    assert client.get(reverse("search")).status_code == 200
    staff.staff_profile.valid_until = timezone.localdate() - timedelta(days=1)
    staff.staff_profile.save()
    response = client.get(reverse("search"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_failed_login_is_audited_without_the_password(client):
    staff = make_staff()
    client.post(reverse("login"), {"username": staff.username, "password": "wrong-password-1"})
    event = AuditEvent.objects.get(event_type=EventType.LOGIN_FAILED)
    assert event.subject_id == staff.username
    assert "wrong-password" not in str(event.extra)


def test_contractor_accounts_need_an_end_date():
    with pytest.raises(ValueError, match="契約期間"):
        make_staff(role=Role.CONTRACTOR, is_contractor=True, valid_until=None)


def test_rights_come_from_roles_only():
    staff = make_staff(role=Role.AUDITOR)
    assert staff.has_perm(str(Perm.AUDIT_VIEW))
    assert not staff.has_perm(str(Perm.PEOPLE_VIEW))
    nobody = make_staff(role=None)
    assert nobody.get_all_permissions() == set()


def test_sessions_time_out_when_idle():
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert 0 < settings.SESSION_COOKIE_AGE <= 30 * 60


def test_logout_is_a_post_and_is_audited(client):
    staff = make_staff()
    client.force_login(staff)
    client.post(reverse("logout"))
    assert AuditEvent.objects.filter(event_type=EventType.LOGOUT, actor=staff).exists()
    assert client.get(reverse("search")).status_code == 302


def test_no_superuser_bypass_is_created_by_staff_create():
    staff = make_staff(role=Role.ADMINISTRATOR, valid_from=date(2020, 1, 1))
    assert not staff.is_superuser and not staff.is_staff
