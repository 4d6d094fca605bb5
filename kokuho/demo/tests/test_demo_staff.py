import pytest
from django.contrib.auth import authenticate
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.demo.staff import DEMO_STAFF, demo_staff_ensure

pytestmark = pytest.mark.django_db


def test_it_creates_one_login_per_role_and_stores_passwords_privately(var_dir):
    logins = demo_staff_ensure(today=timezone.localdate())
    assert {login.role for login in logins} == set(Role)
    stored = var_dir / "demo-logins.txt"
    assert stored.stat().st_mode & 0o077 == 0
    for login in logins:
        assert authenticate(username=login.username, password=login.password) is not None


def test_a_second_run_keeps_the_same_passwords(var_dir):
    first = demo_staff_ensure(today=timezone.localdate())
    second = demo_staff_ensure(today=timezone.localdate())
    assert [(x.username, x.password) for x in first] == [(x.username, x.password) for x in second]
    assert len(second) == len(DEMO_STAFF)


def test_the_contractor_account_is_time_boxed(var_dir):
    demo_staff_ensure(today=timezone.localdate())
    from django.contrib.auth.models import User

    contractor = User.objects.get(username="itaku")
    assert contractor.staff_profile.is_contractor
    assert contractor.staff_profile.valid_until is not None
