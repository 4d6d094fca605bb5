import base64

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.utils import timezone
from django_otp.oath import TOTP

from kokuho.accounts.permissions import Role
from kokuho.accounts.services import mfa_required, training_valid
from kokuho.demo.staff import DEMO_STAFF, demo_staff_ensure
from kokuho.testing import make_staff

pytestmark = pytest.mark.django_db


def test_it_creates_one_login_per_role_and_stores_passwords_privately(var_dir):
    logins = demo_staff_ensure(today=timezone.localdate())
    assert {login.role for login in logins} == set(Role)
    stored = var_dir / "demo-logins.txt"
    assert stored.stat().st_mode & 0o077 == 0
    for login in logins:
        request = RequestFactory().post("/login/")  # the lockout backend needs the request
        user = authenticate(request, username=login.username, password=login.password)
        assert user is not None
        assert user.staff_profile.is_demo
        assert training_valid(user, timezone.localdate())


def test_mfa_roles_get_their_totp_key_in_the_logins_file(var_dir, capsys):
    logins = demo_staff_ensure(today=timezone.localdate())
    lines = {
        line.split("\t")[0]: line.split("\t")
        for line in (var_dir / "demo-logins.txt").read_text().splitlines()
    }
    from django.contrib.auth.models import User

    for login in logins:
        fields = lines[login.username]
        if mfa_required(User.objects.get(username=login.username)):
            secret, uri = fields[2], fields[3]
            assert secret == login.totp_secret and uri.startswith("otpauth://totp/")
            assert f"secret={secret}" in uri
            # The code `kokuho demo-totp` prints is the one an app with that key shows.
            call_command("demo_totp", login.username)
            printed = capsys.readouterr().out.strip()
            key = base64.b32decode(secret)
            assert TOTP(key).verify(int(printed), tolerance=1)
        else:
            assert len(fields) == 2
    assert any(len(fields) == 4 for fields in lines.values())


def test_demo_totp_refuses_an_account_that_is_not_a_demo_one(var_dir):
    real = make_staff(role=Role.ELIGIBILITY)
    with pytest.raises(CommandError, match="デモ用アカウントではありません"):
        call_command("demo_totp", real.username)


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
