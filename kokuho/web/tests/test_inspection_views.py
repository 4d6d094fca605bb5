"""自己点検 screens: 監査担当 runs and reads, 所属長 reads and signs off, nobody else gets in;
the report downloads as PDF and HTML, never cached."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from kokuho.accounts.models import REQUIRED_COURSE, TrainingRecord
from kokuho.accounts.permissions import ROLE_PERMISSIONS, Perm, Role
from kokuho.audit.inspection import ChecklistItem, self_inspection_run
from kokuho.audit.models import AuditEvent, EventType, SelfInspection
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db

MONTH = "2025-06"


@pytest.fixture
def dormant() -> User:
    """A counter clerk trained through the month inspected, with no login since January."""
    user = make_staff(role=Role.COUNTER, username="dormant1", trained=False)
    TrainingRecord.objects.create(
        user=user,
        course=REQUIRED_COURSE,
        completed_on=dt.date(2025, 1, 6),
        expires_on=timezone.localdate() + dt.timedelta(days=300),
    )
    old = timezone.make_aware(dt.datetime(2025, 1, 10, 9))
    User.objects.filter(pk=user.pk).update(last_login=old, date_joined=old)
    return user


@pytest.fixture
def auditor() -> User:
    return make_staff(role=Role.AUDITOR, username="auditor1")


@pytest.fixture
def supervisor() -> User:
    return make_staff(role=Role.SUPERVISOR, username="chief1")


def _section(page: str, kind: str) -> str:
    """The findings table of one kind on a page."""
    start = page.index(f'data-kind="{kind}"')
    return page[start : page.index("</table>", start)]


def _all_ok() -> dict[str, str]:
    return {f"{item.value}__answer": "ok" for item in ChecklistItem}


def test_the_auditor_runs_a_month_and_sees_the_findings(client, auditor, dormant):
    client.force_login(auditor)
    listing = client.get(reverse("inspection_list"))
    assert listing.status_code == 200
    assert reverse("inspection_run") in listing.content.decode()

    response = client.post(reverse("inspection_run"), {"month": MONTH})
    inspection = SelfInspection.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("inspection_detail", args=[inspection.pk])
    assert inspection.run_by == auditor

    page = client.get(response.url).content.decode()
    assert "自己点検 令和7年6月分" in page
    assert "休眠アカウント" in page and "dormant1" in _section(page, "dormant_account")
    assert 'id="sign-off-form"' not in page  # the auditor does not sign
    assert "自己点検" in client.get(reverse("inspection_list")).content.decode()


def test_a_bad_or_future_month_is_refused_on_the_form(client, auditor):
    client.force_login(auditor)
    assert client.post(reverse("inspection_run"), {"month": "6月"}).status_code == 400
    response = client.post(reverse("inspection_run"), {"month": "2999-01"})
    assert response.status_code == 400
    assert "まだ始まっていません" in response.content.decode()
    assert not SelfInspection.objects.exists()


def test_the_run_form_needs_the_csrf_token(auditor):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(auditor)
    assert strict.post(reverse("inspection_run"), {"month": MONTH}).status_code == 403
    assert not SelfInspection.objects.exists()


def test_the_supervisor_signs_off_through_the_form(client, auditor, supervisor, dormant):
    inspection = self_inspection_run(month=dt.date(2025, 6, 1), actor=auditor)
    client.force_login(supervisor)
    url = reverse("inspection_review_detail", args=[inspection.pk])
    page = client.get(url).content.decode()
    assert 'id="sign-off-form"' in page and "dormant1" in _section(page, "dormant_account")
    assert "権限の付与は適切か" in page

    incomplete = _all_ok()
    del incomplete["training__answer"]
    response = client.post(url, incomplete)
    assert response.status_code == 400
    assert "すべての点検項目に回答してください" in response.content.decode()
    inspection.refresh_from_db()
    assert inspection.signed_at is None

    answers = _all_ok() | {
        "leavers__answer": "action",
        "leavers__note": "dormant1 を停止する",
        "comment": "確認しました",
    }
    response = client.post(url, answers)
    assert response.status_code == 302
    inspection.refresh_from_db()
    assert inspection.signed_by == supervisor
    assert inspection.checklist["leavers"] == {"answer": "action", "note": "dormant1 を停止する"}
    assert AuditEvent.objects.filter(event_type=EventType.SELF_INSPECTION_SIGNED).count() == 1
    signed = client.get(url).content.decode()
    assert 'id="sign-off-form"' not in signed
    assert "要対応" in signed and "dormant1 を停止する" in signed

    again = client.post(url, _all_ok())
    assert again.status_code == 400 and "確認済み" in again.content.decode()


def test_the_supervisor_list_has_no_run_form(client, auditor, supervisor):
    self_inspection_run(month=dt.date(2025, 6, 1), actor=auditor)
    client.force_login(supervisor)
    page = client.get(reverse("inspection_review_list")).content.decode()
    assert "令和7年6月" in page and reverse("inspection_run") not in page
    assert reverse("inspection_review_list") in page  # the menu line


def _requests(inspection: SelfInspection) -> dict[Perm, list[tuple[str, str, dict]]]:
    pk = inspection.pk
    return {
        Perm.SELF_INSPECTION: [
            ("get", reverse("inspection_list"), {}),
            ("post", reverse("inspection_run"), {"month": MONTH}),
            ("get", reverse("inspection_detail", args=[pk]), {}),
            ("get", reverse("inspection_report", args=[pk, "pdf"]), {}),
            ("get", reverse("inspection_report", args=[pk, "html"]), {}),
        ],
        Perm.SELF_INSPECTION_SIGN_OFF: [
            ("get", reverse("inspection_review_list"), {}),
            ("get", reverse("inspection_review_detail", args=[pk]), {}),
            ("get", reverse("inspection_review_report", args=[pk, "pdf"]), {}),
            ("post", reverse("inspection_review_detail", args=[pk]), _all_ok()),
        ],
    }


@pytest.mark.parametrize("role", list(Role), ids=[r.name for r in Role])
def test_only_the_two_rights_reach_the_screens(client, role, dormant):
    inspection = self_inspection_run(month=dt.date(2025, 6, 1), actor=None)
    login_verified(client, make_staff(role=role))
    for permission, requests in _requests(inspection).items():
        allowed = permission in ROLE_PERMISSIONS[role]
        assert allowed is (
            role == (Role.AUDITOR if permission == Perm.SELF_INSPECTION else Role.SUPERVISOR)
        )
        for method, url, data in requests:
            response = getattr(client, method)(url, data)
            if allowed:
                assert response.status_code in (200, 302), (url, response.status_code)
            else:
                assert response.status_code == 403, (role, url, response.status_code)
                assert b"dormant1" not in response.content
    runs = SelfInspection.objects.count()
    assert runs == (2 if role == Role.AUDITOR else 1)
    inspection.refresh_from_db()
    assert (inspection.signed_at is not None) is (role == Role.SUPERVISOR)


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("inspection_list"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize(
    ("who", "name"), [("auditor", "inspection_report"), ("supervisor", "inspection_review_report")]
)
def test_the_report_downloads_as_pdf_and_html(client, request, auditor, dormant, who, name):
    inspection = self_inspection_run(month=dt.date(2025, 6, 1), actor=auditor)
    client.force_login(request.getfixturevalue(who))

    pdf = client.get(reverse(name, args=[inspection.pk, "pdf"]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert "self-inspection-2025-06" in pdf["Content-Disposition"]
    assert "no-store" in pdf["Cache-Control"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "dormant1" in text and "休眠アカウント" in text

    html = client.get(reverse(name, args=[inspection.pk, "html"]))
    assert html.status_code == 200 and html["Content-Disposition"].startswith("attachment;")
    assert "no-store" in html["Cache-Control"]
    assert "dormant1" in html.content.decode()
    assert client.get(reverse(name, args=[inspection.pk, "docx"])).status_code == 404
