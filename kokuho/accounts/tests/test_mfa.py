"""二要素認証 (TOTP): roles that may reveal a My Number or take personal data out see
nothing until their session has passed a code; without a device they enroll first."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from kokuho.accounts.permissions import MFA_PERMISSIONS, ROLE_PERMISSIONS, Perm, Role
from kokuho.accounts.services import mfa_required, mfa_verified
from kokuho.audit.models import AuditEvent, EventType
from kokuho.testing import TEST_PASSWORD, make_person, make_staff, totp_code

pytestmark = pytest.mark.django_db


def _log_in(client, user):
    return client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})


def test_export_is_granted_to_eligibility_staff_only_and_never_to_contractors():
    holders = {r for r, perms in ROLE_PERMISSIONS.items() if Perm.PERSONAL_DATA_EXPORT in perms}
    assert holders == {Role.ELIGIBILITY}
    assert Perm.PERSONAL_DATA_EXPORT.label == "個人情報の外部出力"


@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
def test_mfa_is_required_exactly_for_roles_that_reveal_export_or_manage_accounts(role):
    expected = bool(ROLE_PERMISSIONS[role] & MFA_PERMISSIONS)
    assert mfa_required(make_staff(role=role)) is expected
    assert expected is (role in {Role.ELIGIBILITY, Role.ADMINISTRATOR})


def test_after_the_password_an_mfa_role_sees_only_the_code_page(client):
    person = make_person()
    clerk = make_staff(role=Role.ELIGIBILITY)
    response = _log_in(client, clerk)
    assert response.status_code == 302 and response.url.startswith(reverse("account_mfa_verify"))
    for url in [reverse("search"), reverse("person_detail", args=[person.atena_no])]:
        page = client.get(url)
        assert page.status_code == 302 and page.url.startswith(reverse("account_mfa_verify"))
        assert person.name.encode() not in page.content
    assert client.get(reverse("account_mfa_verify")).status_code == 200
    # Nor can it reveal a My Number: the request never reaches the vault.
    reveal = client.post(
        reverse("my_number_reveal", args=[person.atena_no]),
        {"purpose": "nhi_eligibility", "reason": "本人確認のため"},
    )
    assert reveal.status_code == 302 and reveal.url.startswith(reverse("account_mfa_verify"))
    assert not AuditEvent.objects.filter(event_type=EventType.MY_NUMBER_REVEALED).exists()


def test_an_htmx_request_before_mfa_is_sent_to_the_code_page_as_a_whole(client):
    clerk = make_staff(role=Role.ELIGIBILITY)
    _log_in(client, clerk)
    response = client.get(reverse("search"), {"kana": "ヤマダ"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("account_mfa_verify"))


def test_a_correct_code_verifies_the_session_and_is_audited(client):
    clerk = make_staff(role=Role.ELIGIBILITY)
    _log_in(client, clerk)
    target = reverse("imports")
    response = client.post(
        reverse("account_mfa_verify"), {"token": totp_code(clerk), "next": target}
    )
    assert response.status_code == 302 and response.url == target
    after = client.get(reverse("search"))
    assert after.status_code == 200
    assert mfa_verified(after.wsgi_request.user)
    assert AuditEvent.objects.filter(event_type=EventType.MFA_VERIFIED, actor=clerk).count() == 1


def test_a_wrong_code_is_refused_and_audited(client):
    clerk = make_staff(role=Role.ELIGIBILITY)
    _log_in(client, clerk)
    wrong = f"{(int(totp_code(clerk)) + 500000) % 1000000:06d}"
    response = client.post(reverse("account_mfa_verify"), {"token": wrong})
    assert response.status_code == 200
    assert "確認コードが正しくありません" in response.content.decode()
    assert AuditEvent.objects.filter(event_type=EventType.MFA_FAILED, actor=clerk).count() == 1
    assert not AuditEvent.objects.filter(event_type=EventType.MFA_VERIFIED).exists()
    assert client.get(reverse("search")).status_code == 302


def test_an_offsite_next_is_not_followed(client):
    clerk = make_staff(role=Role.ELIGIBILITY)
    _log_in(client, clerk)
    response = client.post(
        reverse("account_mfa_verify"),
        {"token": totp_code(clerk), "next": "https://example.com/"},
    )
    assert response.status_code == 302 and response.url == reverse("home")


def test_without_a_device_the_account_enrolls_before_anything_else(client):
    clerk = make_staff(role=Role.ELIGIBILITY, mfa_device=False)
    _log_in(client, clerk)
    assert client.get(reverse("search")).status_code == 302
    to_enroll = client.get(reverse("account_mfa_verify"))
    assert to_enroll.status_code == 302
    assert to_enroll.url.startswith(reverse("account_mfa_enroll"))

    page = client.get(reverse("account_mfa_enroll")).content.decode()
    assert "<svg" in page and 'id="secret"' in page
    pending = TOTPDevice.objects.get(user=clerk, confirmed=False)
    code = f"{TOTP(pending.bin_key).token():06d}"
    response = client.post(reverse("account_mfa_enroll"), {"token": code})

    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.confirmed
    assert AuditEvent.objects.filter(event_type=EventType.MFA_ENROLLED, actor=clerk).count() == 1
    assert client.get(reverse("search")).status_code == 200
    # The key is shown once: the enrollment page no longer exists for this account.
    again = client.get(reverse("account_mfa_enroll"))
    assert again.status_code == 302 and 'id="secret"' not in again.content.decode()


def test_a_wrong_first_code_does_not_confirm_the_device(client):
    clerk = make_staff(role=Role.ELIGIBILITY, mfa_device=False)
    _log_in(client, clerk)
    client.get(reverse("account_mfa_enroll"))
    pending = TOTPDevice.objects.get(user=clerk, confirmed=False)
    wrong = f"{(TOTP(pending.bin_key).token() + 500000) % 1000000:06d}"
    response = client.post(reverse("account_mfa_enroll"), {"token": wrong})
    assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=clerk, confirmed=True).exists()
    assert client.get(reverse("search")).status_code == 302


def test_a_new_session_must_pass_the_code_again(client, django_user_model):
    clerk = make_staff(role=Role.ELIGIBILITY)
    _log_in(client, clerk)
    client.post(reverse("account_mfa_verify"), {"token": totp_code(clerk)})
    assert client.get(reverse("search")).status_code == 200
    client.post(reverse("logout"))
    _log_in(client, clerk)
    assert client.get(reverse("search")).status_code == 302


def test_roles_without_the_rights_go_straight_in(client):
    counter = make_staff(role=Role.COUNTER)
    response = _log_in(client, counter)
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.get(reverse("search")).status_code == 200


def test_a_user_object_outside_a_verified_session_is_not_verified():
    clerk = make_staff(role=Role.ELIGIBILITY)
    assert not mfa_verified(User.objects.get(pk=clerk.pk))
    assert not mfa_verified(None)
