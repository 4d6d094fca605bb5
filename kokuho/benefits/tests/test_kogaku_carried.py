"""高額該当の引継ぎ (`kogaku_carried_month_record` / `_withdraw`): months in which a former city
of the prefecture paid the household 高額療養費 count for 多数回 in the monthly run with the
city's own paid months (the same month once); a wrong entry is withdrawn, never deleted;
the months go with their month's results in the retention job.

a (ア, 世帯主) has an inpatient stay of 300,000 yen in July 2026: 45,820 without 多数回, and
159,900 with it (ア 多数回 140,100)."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType, SubjectType
from kokuho.benefits.kogaku.carried import (
    KogakuCarriedError,
    KogakuCarriedErrorCode,
    kogaku_carried_month_record,
    kogaku_carried_month_withdraw,
    kogaku_carried_months,
)
from kokuho.benefits.kogaku.explain import outcome_steps
from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.kogaku.stored import result_outcome
from kokuho.benefits.kogaku.workflow import KogakuError
from kokuho.benefits.models import KogakuCarriedMonth, KogakuResult
from kokuho.core.purposes import Purpose
from kokuho.retention.models import DataClass, DeletionRecord
from kokuho.retention.services import retention_run
from kokuho.subject_requests.models import RequesterKind, RequestKind
from kokuho.subject_requests.services import subject_request_receive
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)
MARCH = dt.date(2026, 3, 1)
FORMER = "380014"  # 県内（愛媛県 38）の他市町、検証番号つき
BASIS = "国保情報集約システム 高額該当情報 照会番号 R8-000123"


def _run(month: dt.date = JULY) -> KogakuResult | None:
    return kogaku_run_execute(run_id=kogaku_run_create(month=month, actor=None).pk)


def _inpatient(person, month: dt.date) -> None:
    make_claim(
        person=person,
        service_month=month,
        provider="3810000011",
        setting=1,
        points=100000,
        copay=300000,
    )


@pytest.fixture
def clerk():
    return make_staff(role=Role.BENEFITS)


@pytest.fixture
def a():
    person = make_insured(birth_date=dt.date(1970, 1, 10))
    _inpatient(person, JULY)
    return person


@pytest.fixture
def two_own_months(a):
    """The city paid a's household by the household step in January and May 2026."""
    for month in (dt.date(2026, 1, 1), dt.date(2026, 5, 1)):
        _inpatient(a, month)
        _run(month)
    return a


def _carry(person, month=MARCH, actor=None, **overrides):
    values = {"former_insurer_number": FORMER, "basis": BASIS} | overrides
    return kogaku_carried_month_record(
        household=person.household, month=month, actor=actor, **values
    )


def _july(person) -> KogakuResult:
    run = _run()
    return KogakuResult.objects.get(run=run, household=person.household)


def _last_month() -> dt.date:
    return (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)


# --- recording and withdrawing -----------------------------------------------------------------


def test_it_records_the_month_with_who_and_an_audit_event(a, clerk):
    carried = _carry(a, actor=clerk, former_insurer_number="３８００１４", basis=f" {BASIS} ")
    carried.refresh_from_db()
    assert (carried.household, carried.month, carried.former_insurer_number) == (
        a.household,
        MARCH,
        FORMER,
    )
    assert (carried.basis, carried.recorded_by, carried.withdrawn_at) == (BASIS, clerk, None)
    assert carried.recorded_at is not None
    event = AuditEvent.objects.get(event_type=EventType.KOGAKU_CARRIED)
    assert (event.subject_type, event.subject_id) == (
        SubjectType.HOUSEHOLD,
        a.household.household_no,
    )
    assert event.purpose == Purpose.NHI_BENEFITS
    assert event.actor_id == clerk.pk
    assert event.extra["action"] == "recorded"
    assert (event.extra["month"], event.extra["former_insurer_number"]) == ("2026-03", FORMER)


def test_the_last_month_before_this_one_can_be_recorded(a, clerk):
    assert _carry(a, month=_last_month(), actor=clerk).month == _last_month()


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"month": dt.date(2026, 3, 15)}, "MONTH_NOT_FIRST", "月の初日"),
        ({"month": "this_month"}, "MONTH_NOT_PAST", "以前を指定してください"),
        ({"month": "next_month"}, "MONTH_NOT_PAST", "以前を指定してください"),
        ({"former_insurer_number": "38001"}, "INSURER_FORMAT", "6桁の数字"),
        ({"former_insurer_number": "06380014"}, "INSURER_FORMAT", "6桁の数字"),
        ({"former_insurer_number": "38001a"}, "INSURER_FORMAT", "6桁の数字"),
        ({"former_insurer_number": "380011"}, "INSURER_CHECK_DIGIT", "検証番号"),
        ({"former_insurer_number": "389999"}, "INSURER_OWN", "当市の保険者番号"),
        ({"former_insurer_number": "130005"}, "INSURER_OTHER_PREFECTURE", "県内の市町村では"),
        ({"basis": "  "}, "BASIS_REQUIRED", "根拠"),
    ],
)
def test_it_refuses_what_cannot_be_a_carried_month(a, clerk, overrides, code, message):
    this_month = timezone.localdate().replace(day=1)
    if overrides.get("month") == "this_month":
        overrides = overrides | {"month": this_month}
    elif overrides.get("month") == "next_month":
        overrides = overrides | {"month": (this_month + dt.timedelta(days=32)).replace(day=1)}
    with pytest.raises(KogakuCarriedError) as refused:
        _carry(a, actor=clerk, **overrides)
    assert refused.value.code == KogakuCarriedErrorCode[code]
    assert message in str(refused.value)
    assert isinstance(refused.value, KogakuError)
    assert not KogakuCarriedMonth.objects.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.KOGAKU_CARRIED).exists()


def test_it_refuses_a_month_already_carried_and_the_database_does_too(a, clerk):
    first = _carry(a, actor=clerk)
    with pytest.raises(KogakuCarriedError) as twice:
        _carry(a, actor=clerk, former_insurer_number="380022")
    assert twice.value.code == KogakuCarriedErrorCode.DUPLICATE
    assert "記録済み" in str(twice.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        KogakuCarriedMonth.objects.create(
            household=a.household, month=MARCH, former_insurer_number="380022", basis="x"
        )
    assert list(KogakuCarriedMonth.objects.all()) == [first]


def test_a_wrong_entry_is_withdrawn_with_a_reason_and_kept(a, clerk):
    wrong = _carry(a, actor=clerk)
    with pytest.raises(KogakuCarriedError) as no_reason:
        kogaku_carried_month_withdraw(carried=wrong, reason=" ", actor=clerk)
    assert no_reason.value.code == KogakuCarriedErrorCode.REASON_REQUIRED

    kogaku_carried_month_withdraw(carried=wrong, reason="照会番号の取り違え", actor=clerk)

    wrong.refresh_from_db()
    assert wrong.withdrawn_at is not None
    assert (wrong.withdrawn_by, wrong.withdrawn_reason) == (clerk, "照会番号の取り違え")
    event = AuditEvent.objects.filter(event_type=EventType.KOGAKU_CARRIED).last()
    assert (event.extra["action"], event.extra["reason"]) == ("withdrawn", "照会番号の取り違え")
    assert event.subject_id == a.household.household_no
    with pytest.raises(KogakuCarriedError) as again:
        kogaku_carried_month_withdraw(carried=wrong, reason="重ねて", actor=clerk)
    assert again.value.code == KogakuCarriedErrorCode.ALREADY_WITHDRAWN
    # The month can be recorded again, rightly; the withdrawn entry stays.
    right = _carry(a, actor=clerk, former_insurer_number="380022")
    assert KogakuCarriedMonth.objects.count() == 2
    standing = kogaku_carried_months(household_ids=[a.household_id], first=MARCH, last=MARCH)
    assert standing == {a.household_id: [MARCH]}
    assert right.former_insurer_number == "380022"


def test_the_selector_reads_standing_months_of_the_range_per_household(a, clerk):
    b = make_insured(birth_date=dt.date(1980, 2, 2))
    for month in (dt.date(2025, 7, 1), dt.date(2025, 8, 1), dt.date(2026, 6, 1)):
        _carry(a, month=month, actor=clerk)
    withdrawn = _carry(b, month=dt.date(2026, 2, 1), actor=clerk)
    kogaku_carried_month_withdraw(carried=withdrawn, reason="誤り", actor=clerk)
    _carry(b, month=dt.date(2026, 4, 1), actor=clerk)
    found = kogaku_carried_months(
        household_ids=[a.household_id, b.household_id],
        first=dt.date(2025, 8, 1),
        last=dt.date(2026, 6, 1),
    )
    assert found == {
        a.household_id: [dt.date(2025, 8, 1), dt.date(2026, 6, 1)],
        b.household_id: [dt.date(2026, 4, 1)],
    }


# --- the monthly run ---------------------------------------------------------------------------


def test_two_own_months_and_one_carried_make_july_many_times(two_own_months, clerk):
    a = two_own_months
    _carry(a, actor=clerk)
    result = _july(a)
    assert (result.many_times, result.household_limit, result.benefit) == (True, 140100, 159900)
    assert result.explanation["prior"] == ["2026-01-01", "2026-03-01", "2026-05-01"]
    assert result.explanation["carried"] == {"2026-03-01": FORMER}
    steps = outcome_steps(result_outcome(result))
    assert (
        "多数回: 直前11か月の支給月 3 回（2026-01、2026-03（前住所地 保険者番号 380014）、"
        "2026-05）→ 該当"
    ) in steps


def test_without_the_carried_month_july_is_not_many_times(two_own_months):
    result = _july(two_own_months)
    assert (result.many_times, result.benefit) == (False, 45820)
    assert "carried" not in result.explanation


def test_a_withdrawn_carried_month_does_not_count(two_own_months, clerk):
    a = two_own_months
    carried = _carry(a, actor=clerk)
    kogaku_carried_month_withdraw(carried=carried, reason="誤記録", actor=clerk)
    result = _july(a)
    assert (result.many_times, result.benefit) == (False, 45820)
    assert result.explanation["prior"] == ["2026-01-01", "2026-05-01"]


def test_a_carried_month_outside_the_window_does_not_count(two_own_months, clerk):
    a = two_own_months
    _carry(a, month=dt.date(2025, 7, 1), actor=clerk)  # M−12 for July 2026
    _carry(a, month=JULY, actor=clerk)  # the month itself is not a prior month
    result = _july(a)
    assert (result.many_times, result.benefit) == (False, 45820)
    assert "carried" not in result.explanation


def test_a_month_both_paid_here_and_carried_counts_once(two_own_months, clerk):
    a = two_own_months
    _carry(a, month=dt.date(2026, 5, 1), actor=clerk)
    result = _july(a)
    assert (result.many_times, result.benefit) == (False, 45820)
    assert result.explanation["prior"] == ["2026-01-01", "2026-05-01"]
    assert "carried" not in result.explanation  # named as the city's own month
    steps = outcome_steps(result_outcome(result))
    assert "多数回: 直前11か月の支給月 2 回（2026-01、2026-05）→ 非該当" in steps


def test_three_carried_months_alone_make_a_newcomer_many_times(a, clerk):
    for month in (dt.date(2025, 10, 1), dt.date(2026, 1, 1), dt.date(2026, 4, 1)):
        _carry(a, month=month, actor=clerk, former_insurer_number="380022")
    result = _july(a)
    assert (result.many_times, result.benefit) == (True, 159900)
    steps = outcome_steps(result_outcome(result))
    assert any(
        line.startswith("多数回: 直前11か月の支給月 3 回（2025-10（前住所地 保険者番号 380022）")
        for line in steps
    )


def test_only_the_carried_households_are_affected(two_own_months, clerk):
    other = make_insured(birth_date=dt.date(1975, 6, 6))
    for month in (dt.date(2026, 1, 1), dt.date(2026, 5, 1), JULY):
        _inpatient(other, month)
    _run(dt.date(2026, 1, 1))
    _run(dt.date(2026, 5, 1))
    _carry(two_own_months, actor=clerk)
    run = _run()
    results = {r.household_id: r for r in KogakuResult.objects.filter(run=run)}
    assert results[two_own_months.household_id].many_times is True
    assert results[other.household_id].many_times is False
    assert run.counts["many_times"] == 1


# --- retention ---------------------------------------------------------------------------------

AS_OF = dt.date(2026, 3, 1)  # claims rule cutoff: 2021-03-01 (5 years after the 診療月)


@pytest.fixture
def private_paths(tmp_path, settings):
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"
    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    settings.KOKUHO_UPLOAD_DIR.mkdir()


@pytest.mark.django_db(databases=["default", "vault"])
@pytest.mark.usefixtures("private_paths")
def test_carried_months_go_with_their_month_in_the_retention_job(a, clerk):
    old = _carry(a, month=dt.date(2021, 1, 1), actor=clerk)
    old_withdrawn = _carry(a, month=dt.date(2021, 2, 1), actor=clerk)
    kogaku_carried_month_withdraw(carried=old_withdrawn, reason="誤り", actor=clerk)
    kept = _carry(a, month=dt.date(2021, 3, 1), actor=clerk)

    run = retention_run(as_of=AS_OF)

    assert list(KogakuCarriedMonth.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not KogakuCarriedMonth.objects.filter(pk__in=[old.pk, old_withdrawn.pk]).exists()
    records = DeletionRecord.objects.filter(run=run, data_class=DataClass.CLAIMS)
    assert sum(r.tables.get("benefits.KogakuCarriedMonth", 0) for r in records) == 2
    assert {r.rule for r in records} == {"claims.receipt.5y_after_service_month"}


@pytest.mark.django_db(databases=["default", "vault"])
@pytest.mark.usefixtures("private_paths")
def test_a_pending_disclosure_request_of_a_member_holds_the_households_carried_months(a, clerk):
    held = _carry(a, month=dt.date(2020, 6, 1), actor=clerk)
    b = make_insured(birth_date=dt.date(1980, 2, 2))
    gone = _carry(b, month=dt.date(2020, 6, 1), actor=clerk)
    subject_request_receive(
        kind=RequestKind.DISCLOSURE,
        atena_no=a.atena_no,
        received_on=dt.date(2026, 2, 20),
        requester=RequesterKind.SELF,
        identity_documents="マイナンバーカード",
        details="国民健康保険に関して保有する自己の情報の全部",
        actor=make_staff(role=Role.ELIGIBILITY),
    )

    retention_run(as_of=AS_OF)

    assert KogakuCarriedMonth.objects.filter(pk=held.pk).exists()
    assert not KogakuCarriedMonth.objects.filter(pk=gone.pk).exists()
