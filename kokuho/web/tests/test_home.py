"""ホーム: every role logs in, lands on its own work (200, never a 403), and every link on the
page opens for that role."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.accounts.services import mfa_required
from kokuho.audit.models import IncidentKind
from kokuho.audit.services import incident_open
from kokuho.testing import TEST_PASSWORD, login_verified, make_staff, totp_code

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

# The sections each role must find on its home (a subset: others may be there too).
EXPECTED: dict[Role, set[str]] = {
    Role.COUNTER: {"applications_today", "returns"},
    Role.ELIGIBILITY: {"imports", "quarantine", "national_items", "continuity", "national_status"},
    Role.BENEFITS: {
        "applications",
        "kogaku_applications",
        "reductions",
        "claims_unmatched",
        "carry_candidates",
        "payments_due",
        "payments_held",
    },
    Role.ADMINISTRATOR: {"accounts_flagged", "login_locks", "national_status"},
    Role.AUDITOR: {"incidents", "inspections", "exports"},
    Role.SUPERVISOR: {"sign_offs"},
    Role.CONTRACTOR: {"national_status"},
}
HREF = re.compile(r'<a [^>]*href="(/[^"#]*)"')


def _log_in(client, user, next_url: str = "") -> str:
    """The real login (password, then TOTP when the role needs it); the page it ends on."""
    url = reverse("login") + (f"?next={next_url}" if next_url else "")
    response = client.post(url, {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content.decode()[:300]
    target = response.url
    if mfa_required(user):
        assert target.startswith(reverse("account_mfa_verify"))
        response = client.post(target, {"token": totp_code(user)})
        assert response.status_code == 302
        target = response.url
    return target


def _sections(body: str) -> set[str]:
    return set(re.findall(r'data-section="([a-z_]+)"', body))


@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
def test_every_role_lands_on_its_own_work(client, role, var_dir):
    staff = make_staff(role=role)
    target = _log_in(client, staff)
    assert target == reverse("home")
    response = client.get(target)
    assert response.status_code == 200
    body = response.content.decode()
    assert EXPECTED[role] <= _sections(body), (role, _sections(body))
    assert "利用できません" not in body


@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
def test_no_link_on_a_home_leads_to_a_403(client, role, var_dir):
    """The sections and the navigation: every link the role is shown opens for it."""
    login_verified(client, make_staff(role=role))
    body = client.get(reverse("home")).content.decode()
    links = sorted(set(HREF.findall(body)) - {reverse("login")})
    assert reverse("home") in links
    for link in links:
        status = client.get(link).status_code
        assert status == 200, (role, link, status)


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.AUDITOR, Role.CONTRACTOR])
def test_a_next_the_role_may_not_open_lands_on_the_home_instead(client, role, var_dir):
    """Opening `/` (the search) before logging in sends the login back there: a role without
    the search goes home instead of to a 403."""
    staff = make_staff(role=role)
    assert _log_in(client, staff, next_url=reverse("search")) == reverse("home")


def test_a_next_the_role_may_open_is_kept(client, var_dir):
    staff = make_staff(role=Role.COUNTER)
    assert _log_in(client, staff, next_url=reverse("search")) == reverse("search")


def test_the_counts_are_the_open_work(client, var_dir):
    auditor = make_staff(role=Role.AUDITOR)
    incident_open(
        title="試験の事案",
        description="試験データ",
        discovered_at=timezone.now() - dt.timedelta(hours=1),
        kind=IncidentKind.LEAK,
        wrongful_intent=False,
        includes_my_number=False,
        reportable=True,
        actor=auditor,
    )
    login_verified(client, auditor)
    body = client.get(reverse("home")).content.decode()
    row = re.search(r'data-section="incidents".*?</tr>', body, re.S).group(0)
    assert "1件" in row


def test_the_supervisor_sees_the_section_summary_without_links(client, var_dir):
    login_verified(client, make_staff(role=Role.SUPERVISOR))
    body = client.get(reverse("home")).content.decode()
    assert 'data-summary="quarantine"' in body
    assert reverse("quarantine_list") not in body


def test_the_contractor_is_told_what_it_may_do(client, var_dir):
    login_verified(
        client,
        make_staff(role=Role.CONTRACTOR, is_contractor=True, valid_until=dt.date(2099, 3, 31)),
    )
    body = client.get(reverse("home")).content.decode()
    assert "システム稼働状況の閲覧" in body
    assert "住民の検索" not in body


def test_a_lapsed_training_hides_the_personal_data_work(client, var_dir):
    login_verified(client, make_staff(role=Role.BENEFITS, trained=False))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "研修の受講期限が切れています" in body
    assert "data-section=" not in body


def test_the_home_sends_an_anonymous_visitor_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
