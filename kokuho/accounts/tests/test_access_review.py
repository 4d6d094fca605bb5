"""アクセス権の定期点検: every account, and the ones the review must look at — planted here."""

from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.models import REQUIRED_COURSE, StaffProfile, TrainingRecord
from kokuho.accounts.permissions import ROLE_PERMISSIONS, Role
from kokuho.accounts.selectors import ReviewFlag
from kokuho.accounts.services import access_review_run
from kokuho.audit.models import AuditEvent, EventType
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def planted():
    today = timezone.localdate()
    recent = timezone.now() - timedelta(days=1)
    made = {
        "clean": make_staff(role=Role.COUNTER, username="clean"),
        "expired": make_staff(
            role=Role.COUNTER,
            username="expired",
            valid_from=today - timedelta(days=400),
            valid_until=today - timedelta(days=1),
        ),
        "dormant": make_staff(role=Role.BENEFITS, username="dormant"),
        "nomfa": make_staff(role=Role.ELIGIBILITY, username="nomfa", mfa_device=False),
        "untrained": make_staff(role=Role.COUNTER, username="untrained", trained=False),
        "contractor": make_staff(
            role=Role.CONTRACTOR,
            username="contractor",
            is_contractor=True,
            valid_until=today + timedelta(days=30),
        ),
        "admin": make_staff(role=Role.ADMINISTRATOR, username="admin", trained=False),
        "due": make_staff(role=Role.COUNTER, username="due", trained=False),
    }
    TrainingRecord.objects.create(
        user=made["due"],
        course=REQUIRED_COURSE,
        completed_on=today - timedelta(days=355),
        expires_on=today + timedelta(days=10),
    )
    User.objects.exclude(username="dormant").update(last_login=recent)
    User.objects.filter(username="dormant").update(last_login=timezone.now() - timedelta(days=120))
    # A contract end removed behind the service's back (staff_create refuses it).
    StaffProfile.objects.filter(user__username="contractor").update(valid_until=None)
    return made


def test_it_flags_each_planted_problem_and_nothing_else(planted):
    rows = {r.username: r for r in access_review_run(actor=None, on=timezone.localdate(), via="t")}
    assert set(rows) == set(planted)
    assert {name: set(r.flags) for name, r in rows.items()} == {
        "clean": set(),
        "expired": {ReviewFlag.EXPIRED_BUT_ACTIVE},
        "dormant": {ReviewFlag.DORMANT},
        "nomfa": {ReviewFlag.MFA_MISSING},
        "untrained": {ReviewFlag.TRAINING_LAPSED},
        "contractor": {ReviewFlag.CONTRACTOR_WITHOUT_END},
        "admin": set(),  # no personal-data rights: no training needed (MFA device: yes)
        "due": {ReviewFlag.TRAINING_DUE},
    }
    assert rows["nomfa"].mfa_required and not rows["nomfa"].mfa_enrolled
    assert rows["clean"].permission_count == len(ROLE_PERMISSIONS[Role.COUNTER])
    assert rows["clean"].training_valid_until > timezone.localdate()
    assert rows["contractor"].is_contractor and rows["contractor"].contract_end is None


def test_generating_it_is_audited_with_the_counts(planted):
    access_review_run(actor=planted["admin"], on=timezone.localdate(), via="screen")
    event = AuditEvent.objects.get(event_type=EventType.ACCESS_REVIEW)
    assert event.actor == planted["admin"]
    assert event.extra["accounts"] == len(planted)
    assert event.extra["flags"] == {
        "expired_but_active": 1,
        "dormant": 1,
        "mfa_missing": 1,
        "training_lapsed": 1,
        "training_due": 1,
        "contractor_without_end": 1,
    }


def test_an_account_never_used_for_90_days_is_dormant():
    staff = make_staff(role=Role.COUNTER)
    on = timezone.localdate() + timedelta(days=91)
    User.objects.filter(pk=staff.pk).update(last_login=None)
    [row] = access_review_run(actor=None, on=on, via="t")
    assert ReviewFlag.DORMANT in row.flags


def test_the_command_prints_the_flagged_accounts(planted):
    out = StringIO()
    call_command("access_review", "--flagged", stdout=out)
    text = out.getvalue()
    for name in ("expired", "dormant", "nomfa", "untrained", "contractor", "due"):
        assert f"\n{name}\t" in text
    assert "\nclean\t" not in text
    assert "二要素認証未登録" in text and "研修期限切れ" in text
    assert "研修期限間近" in text
    assert "アカウント 8 件、要確認 6 件" in text
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_REVIEW).count() == 1


def test_the_command_takes_a_date():
    make_staff(role=Role.COUNTER, valid_from=date(2020, 1, 1), valid_until=date(2026, 3, 31))
    out = StringIO()
    call_command("access_review", "--date", "2026-04-01", stdout=out)
    assert "利用期間終了後も有効" in out.getvalue()


def test_the_screen_is_for_the_administrator(client, planted):
    login_verified(client, planted["admin"])
    response = client.get(reverse("account_access_review"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="review-nomfa"' in body and "二要素認証未登録" in body
    assert AuditEvent.objects.filter(event_type=EventType.ACCESS_REVIEW).count() == 1
    login_verified(client, planted["clean"])
    assert client.get(reverse("account_access_review")).status_code == 403
