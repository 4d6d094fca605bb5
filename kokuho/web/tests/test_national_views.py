"""国保情報集約システム screens: 資格継続 work items (資格担当 accepts the carried dates or
resolves with a reason; 窓口担当 reads without the forms) and 高額該当引継 候補 (給付担当 sees
the evidence side by side and confirms continuity or marks 非該当; other roles are refused)."""

import datetime as dt
from pathlib import Path

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.kogaku.carry_candidates import kogaku_carry_candidates_import
from kokuho.benefits.models import CarryStatus, KogakuCarriedMonth, KogakuCarryCandidate
from kokuho.eligibility.models import ContinuityCarriedDates
from kokuho.national.continuity import continuity_result_import
from kokuho.national.ledger import national_export
from kokuho.national.models import Feed, NationalWorkItem
from kokuho.national.tests.builders import arrive
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).resolve().parents[2] / "national" / "tests" / "golden"
KEY = "389999|10|000001|01|20240501"


@pytest.fixture(autouse=True)
def _national_dir(tmp_path, settings):
    settings.KOKUHO_NATIONAL_DIR = tmp_path / "national"
    settings.KOKUHO_INSURER_NUMBER = "389999"


def _login(client, role):
    staff = make_staff(role=role)
    login_verified(client, staff)
    return staff


@pytest.fixture
def items(tmp_path):
    arrive("1000000001", "5000000001", on=dt.date(2024, 5, 1), name="継続 一郎")
    national_export(feed=Feed.SHUYAKU_PERSON, as_of=dt.date(2025, 4, 1), full=True, actor=None)
    lines = [
        "1,shuyaku_continuity,C0.1,389999,1,20250410",
        f"2,{KEY.replace('|', ',')},1,1,380014,20240430,20240501,20190401,,",
        f"2,{KEY.replace('|', ',')},2,1,380014,20240331,20240501,,,",
        "9,2",
    ]
    path = tmp_path / "continuity.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp932"))
    continuity_result_import(path=path, actor=None)
    return {i.kind: i for i in NationalWorkItem.objects.all()}


@pytest.fixture
def candidate():
    arrive("1000000001", "5000000001", birth=dt.date(1970, 1, 10), name="引継 太郎")
    kogaku_carry_candidates_import(path=GOLDEN / "shuyaku_kogaku_candidate.csv", actor=None)
    return KogakuCarryCandidate.objects.get()


# --- 資格継続 ------------------------------------------------------------------------------


def test_the_clerk_sees_both_sides_dates_in_wareki_and_accepts(client, items):
    clerk = _login(client, Role.ELIGIBILITY)
    page = client.get(reverse("national_continuity")).content.decode()
    assert "継続 一郎" in page and KEY in page
    assert "令和6年4月30日" in page and "令和6年5月1日" in page and "平成31年4月1日" in page
    carried = items["continuity_carried"]
    accept = reverse("national_continuity_accept", args=[carried.pk])
    assert accept in page
    # The gap has no carried date: only the reason form.
    gap = items["continuity_gap"]
    assert reverse("national_continuity_accept", args=[gap.pk]) not in page

    response = client.post(accept, {"note": "前住所地に確認"})

    assert response.status_code == 302
    carried.refresh_from_db()
    assert carried.resolved_by == clerk and "前住所地に確認" in carried.resolution
    assert ContinuityCarriedDates.objects.get().acquired_on == dt.date(2019, 4, 1)
    page = client.get(response.url).content.decode()
    assert "引継ぎの日付を採用しました" in page and f'id="item-{carried.pk}"' not in page


def test_a_reason_is_needed_to_resolve(client, items):
    _login(client, Role.ELIGIBILITY)
    gap = items["continuity_gap"]
    url = reverse("national_continuity_resolve", args=[gap.pk])
    page = client.post(url, {"reason": ""}).content.decode()
    assert "理由を入力してください" in page
    gap.refresh_from_db()
    assert gap.resolved_at is None
    response = client.post(url, {"reason": "社保加入期間を確認"})
    assert response.status_code == 302
    gap.refresh_from_db()
    assert gap.resolution == "社保加入期間を確認"
    assert AuditEvent.objects.filter(event_type=EventType.NATIONAL_WORK_ITEM_RESOLVED).count() == 1


def test_the_counter_reads_the_items_but_may_not_resolve(client, items):
    _login(client, Role.COUNTER)
    page = client.get(reverse("national_continuity")).content.decode()
    assert KEY in page and "resolve-form" not in page
    gap = items["continuity_gap"]
    response = client.post(reverse("national_continuity_resolve", args=[gap.pk]), {"reason": "x"})
    assert response.status_code == 403
    gap.refresh_from_db()
    assert gap.resolved_at is None


# --- 高額該当引継 ---------------------------------------------------------------------------


def test_the_list_and_the_evidence_side_by_side(client, candidate):
    _login(client, Role.BENEFITS)
    page = client.get(reverse("national_carry_candidates")).content.decode()
    detail = reverse("national_carry_candidate", args=[candidate.pk])
    assert "K0000001" in page and detail in page and "引継 太郎" in page
    page = client.get(detail).content.decode()
    assert 'id="evidence-former"' in page and 'id="evidence-ours"' in page
    assert page.count("昭和45年1月10日") == 3  # former (file), ours (file), ours (records)
    assert "令和7年10月" in page and "対象外（70〜74歳の外来特例のみ）" in page
    assert 'id="confirm-form"' in page
    event = AuditEvent.objects.filter(event_type=EventType.HOUSEHOLD_VIEWED).last()
    assert event.extra["screen"] == "national_carry_candidate"


def test_the_clerk_confirms_continuity_and_the_months_are_carried(client, candidate):
    clerk = _login(client, Role.BENEFITS)
    response = client.post(reverse("national_carry_confirm", args=[candidate.pk]), {"note": ""})
    assert response.status_code == 302
    candidate.refresh_from_db()
    assert (candidate.status, candidate.decided_by) == (CarryStatus.CONTINUED, clerk)
    assert KogakuCarriedMonth.objects.count() == 3
    page = client.get(response.url).content.decode()
    assert "3か月を引継ぎとして記録しました" in page and 'id="confirm-form"' not in page
    again = client.post(reverse("national_carry_confirm", args=[candidate.pk]), {"note": ""})
    assert "確認済みです" in again.content.decode()


def test_not_applicable_needs_a_reason_and_carries_nothing(client, candidate):
    _login(client, Role.BENEFITS)
    url = reverse("national_carry_reject", args=[candidate.pk])
    assert "理由を入力してください" in client.post(url, {"reason": ""}).content.decode()
    assert client.post(url, {"reason": "別世帯"}).status_code == 302
    candidate.refresh_from_db()
    assert candidate.status == CarryStatus.NOT_APPLICABLE and candidate.reason == "別世帯"
    assert not KogakuCarriedMonth.objects.exists()
    page = client.get(reverse("national_carry_candidates") + "?status=not_applicable")
    assert "K0000001" in page.content.decode()


@pytest.mark.parametrize("role", [Role.COUNTER, Role.ELIGIBILITY])
def test_other_roles_may_not_decide(client, candidate, role):
    _login(client, role)
    response = client.post(reverse("national_carry_confirm", args=[candidate.pk]), {"note": ""})
    assert response.status_code == 403
    candidate.refresh_from_db()
    assert candidate.status == CarryStatus.CANDIDATE


def test_a_role_without_benefits_view_is_refused_the_candidates(client, candidate):
    _login(client, Role.ELIGIBILITY)
    assert client.get(reverse("national_carry_candidates")).status_code == 403
