"""従業者に対する教育・啓発: without a valid 特定個人情報の取扱い研修 no screen that opens
personal data answers; the refusal is recorded; roles without such rights are not gated."""

from datetime import date, timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from kokuho.accounts.models import TrainingCourse, TrainingRecord
from kokuho.accounts.permissions import PERSONAL_DATA_PERMISSIONS, ROLE_PERMISSIONS, Perm, Role
from kokuho.accounts.services import training_record, training_valid
from kokuho.audit.models import AuditEvent, EventType
from kokuho.testing import login_verified, make_person, make_staff

pytestmark = pytest.mark.django_db

LAPSED = "研修の受講期限が切れています"


def _urls(person):
    return {
        Perm.PEOPLE_SEARCH: reverse("search") + "?kana=ヤマダ",
        Perm.PEOPLE_VIEW: reverse("person_detail", args=[person.atena_no]),
        Perm.ELIGIBILITY_CHANGE: reverse("notification_new", args=[person.atena_no]),
        Perm.IMPORT_FILES: reverse("imports"),
    }


@pytest.mark.parametrize(
    "role", [Role.COUNTER, Role.ELIGIBILITY, Role.BENEFITS], ids=lambda r: r.name
)
def test_lapsed_training_closes_every_personal_data_screen(client, role):
    person = make_person()
    staff = make_staff(role=role, trained=False)
    today = timezone.localdate()
    TrainingRecord.objects.create(
        user=staff,
        course=TrainingCourse.MY_NUMBER_HANDLING,
        completed_on=today - timedelta(days=400),
        expires_on=today - timedelta(days=1),
    )
    login_verified(client, staff)
    tried = 0
    for permission, url in _urls(person).items():
        if permission not in ROLE_PERMISSIONS[role]:
            continue
        response = client.get(url)
        tried += 1
        assert response.status_code == 403, url
        assert LAPSED in response.content.decode()
        assert person.name.encode() not in response.content
    refusals = AuditEvent.objects.filter(event_type=EventType.TRAINING_REFUSED, actor=staff)
    assert refusals.count() == tried >= 2


def test_training_valid_until_its_last_day(client):
    person = make_person()
    staff = make_staff(role=Role.COUNTER, trained=False)
    today = timezone.localdate()
    training_record(
        user=staff,
        course=TrainingCourse.MY_NUMBER_HANDLING,
        completed_on=today - timedelta(days=365),
        expires_on=today,
        recorded_by=None,
    )
    login_verified(client, staff)
    assert client.get(reverse("person_detail", args=[person.atena_no])).status_code == 200


def test_another_course_does_not_open_personal_data(client):
    staff = make_staff(role=Role.COUNTER, trained=False)
    training_record(
        user=staff,
        course=TrainingCourse.INFORMATION_SECURITY,
        completed_on=timezone.localdate(),
        recorded_by=None,
    )
    login_verified(client, staff)
    assert client.get(reverse("search")).status_code == 403


def test_roles_without_personal_data_rights_are_not_gated(client):
    for role in (Role.ADMINISTRATOR, Role.AUDITOR, Role.SUPERVISOR, Role.CONTRACTOR):
        assert not ROLE_PERMISSIONS[role] & PERSONAL_DATA_PERMISSIONS
    admin = make_staff(role=Role.ADMINISTRATOR, trained=False)
    login_verified(client, admin)
    assert client.get(reverse("account_access_review")).status_code == 200
    assert not AuditEvent.objects.filter(event_type=EventType.TRAINING_REFUSED).exists()


def test_a_role_without_the_right_is_denied_for_the_right_not_the_training(client):
    contractor = make_staff(
        role=Role.CONTRACTOR, is_contractor=True, valid_until=date(2099, 3, 31), trained=False
    )
    login_verified(client, contractor)
    response = client.get(reverse("search"))
    assert response.status_code == 403 and LAPSED not in response.content.decode()
    assert not AuditEvent.objects.filter(event_type=EventType.TRAINING_REFUSED).exists()


@override_settings(KOKUHO_TRAINING_VALID_DAYS=365)
def test_recording_training_is_audited_and_valid_for_a_year_by_default():
    staff = make_staff(role=Role.COUNTER, trained=False)
    recorder = make_staff(role=Role.ADMINISTRATOR)
    done = date(2026, 4, 1)
    record = training_record(
        user=staff,
        course=TrainingCourse.MY_NUMBER_HANDLING,
        completed_on=done,
        recorded_by=recorder,
    )
    assert record.expires_on == date(2027, 4, 1)
    event = AuditEvent.objects.get(event_type=EventType.TRAINING_RECORDED)
    assert event.subject_id == staff.username and event.actor == recorder
    assert training_valid(staff, date(2027, 4, 1))
    assert not training_valid(staff, date(2027, 4, 2))
    assert not training_valid(staff, date(2026, 3, 31))  # not yet taken


def test_an_expiry_before_completion_is_refused():
    staff = make_staff(role=Role.COUNTER, trained=False)
    with pytest.raises(ValueError, match="有効期限"):
        training_record(
            user=staff,
            course=TrainingCourse.MY_NUMBER_HANDLING,
            completed_on=date(2026, 4, 1),
            expires_on=date(2026, 3, 1),
            recorded_by=None,
        )
