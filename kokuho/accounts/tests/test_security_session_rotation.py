"""セッションIDの更新: the session key changes at the password step and again at the second
factor, and a key known before either step opens nothing after it (session fixation)."""

from importlib import import_module

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokuho.accounts.permissions import Role
from kokuho.testing import TEST_PASSWORD, make_staff, totp_code

pytestmark = pytest.mark.django_db

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore


def _session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _planted_session(client: Client) -> str:
    """A session the browser holds before logging in — as one an attacker planted would be."""
    session = client.session
    session["planted"] = True
    session.save()
    return session.session_key


def _with_key(key: str) -> Client:
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = key
    return other


def _log_in(client: Client, user) -> None:
    response = client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302


def test_the_password_step_gives_the_session_a_new_key(client):
    staff = make_staff(role=Role.COUNTER)
    planted = _planted_session(client)
    _log_in(client, staff)
    after = _session_key(client)
    assert after != planted
    assert not SessionStore().exists(planted)
    assert client.get(reverse("search")).status_code == 200
    # The planted key is worth nothing now: it is sent to the login page.
    response = _with_key(planted).get(reverse("search"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_second_factor_gives_the_session_another_new_key(client):
    clerk = make_staff(role=Role.ELIGIBILITY)
    planted = _planted_session(client)
    _log_in(client, clerk)
    after_password = _session_key(client)
    assert after_password != planted

    response = client.post(reverse("account_mfa_verify"), {"token": totp_code(clerk)})
    assert response.status_code == 302
    after_code = _session_key(client)
    assert after_code not in {planted, after_password}
    assert not SessionStore().exists(after_password)
    assert client.get(reverse("search")).status_code == 200
    # A key seen between the password and the code (on the code page) opens nothing.
    for key in (planted, after_password):
        stale = _with_key(key).get(reverse("search"))
        assert stale.status_code == 302 and stale.url.startswith(reverse("login"))


def test_a_wrong_code_keeps_the_key_and_verifies_nothing(client):
    clerk = make_staff(role=Role.ELIGIBILITY)
    _log_in(client, clerk)
    before = _session_key(client)
    wrong = f"{(int(totp_code(clerk)) + 500000) % 1000000:06d}"
    assert client.post(reverse("account_mfa_verify"), {"token": wrong}).status_code == 200
    assert _session_key(client) == before
    assert client.get(reverse("search")).status_code == 302


def test_enrolling_the_second_factor_also_gives_a_new_key(client):
    clerk = make_staff(role=Role.ELIGIBILITY, mfa_device=False)
    _log_in(client, clerk)
    client.get(reverse("account_mfa_enroll"))
    before = _session_key(client)
    pending = TOTPDevice.objects.get(user=clerk, confirmed=False)
    code = f"{TOTP(pending.bin_key).token():06d}"
    assert client.post(reverse("account_mfa_enroll"), {"token": code}).status_code == 302
    assert _session_key(client) != before
    assert not SessionStore().exists(before)
    assert client.get(reverse("search")).status_code == 200
