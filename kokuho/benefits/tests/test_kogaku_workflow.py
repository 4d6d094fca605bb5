"""After the monthly run: 申請勧奨, applications with or without 申請簡素化, decisions with the
計算明細 as computed, and payment. a (ア) is owed 45,820 for July; b (73, 一般) 12,000."""

import datetime as dt

import pytest

from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.kogaku.stored import result_outcome
from kokuho.benefits.kogaku.workflow import (
    AccountIn,
    KogakuError,
    kogaku_application_register,
    kogaku_decide,
    kogaku_decisions_awaiting_payment,
    kogaku_paid_record,
)
from kokuho.benefits.models import (
    DecisionKind,
    KogakuDecision,
    KogakuInvitation,
    KogakuResult,
    KogakuRun,
)
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)
JUNE = dt.date(2026, 6, 1)
ACCOUNT = AccountIn("0001", "001", 1, "1234567", "きゅうふ たろう")


def _run(month: dt.date = JULY) -> KogakuRun:
    return kogaku_run_execute(run_id=kogaku_run_create(month=month, actor=None).pk)


@pytest.fixture
def city():
    a = make_insured(birth_date=dt.date(1970, 1, 10))
    b = make_insured(birth_date=dt.date(1953, 3, 2))
    for month in (JUNE, JULY):
        make_claim(
            person=a,
            service_month=month,
            provider="3810000011",
            setting=1,
            points=100000,
            copay=300000,
        )
    make_claim(person=b, service_month=JULY, setting=2, points=15000, copay=30000)
    return a, b


def test_the_run_invites_every_paid_household_once(city):
    a, b = city
    run = _run()
    invitations = {i.household_id: i for i in KogakuInvitation.objects.all()}
    assert set(invitations) == {a.household_id, b.household_id}
    assert all(i.first_time for i in invitations.values())
    assert (run.counts["invitations"], run.counts["automatic_decisions"]) == (2, 0)
    again = _run()
    assert KogakuInvitation.objects.count() == 2
    assert again.counts["invitations"] == 0


def test_an_application_is_decided_on_the_current_result_with_its_explanation(city):
    a, _ = city
    _run()
    staff = make_staff()
    application = kogaku_application_register(
        household=a.household,
        month=JULY,
        applicant=a,
        received_on=dt.date(2026, 9, 1),
        account=ACCOUNT,
        simplify=False,
        actor=staff,
    )
    assert application.holder_kana == "キュウフ\u3000タロウ"
    decision = kogaku_decide(application=application, actor=staff, decided_on=dt.date(2026, 9, 5))
    assert (decision.amount, decision.kind, decision.decided_by) == (
        45820,
        DecisionKind.APPLICATION,
        staff,
    )
    assert decision.account_number == "1234567"
    assert "****567" in decision.masked_account()
    assert any("手順3 世帯全体の合算: 300,000円 − 限度額 254,180円" in s for s in decision.steps)
    assert decision.steps[-1] == "支給額 45,820円"
    assert list(kogaku_decisions_awaiting_payment()) == [decision]
    # Household events name the 世帯番号, as disclosure and the inspection look them up.
    for event_type in (EventType.KOGAKU_APPLICATION, EventType.KOGAKU_DECIDED):
        event = AuditEvent.objects.get(event_type=event_type)
        assert event.subject_id == a.household.household_no
    with pytest.raises(KogakuError, match="決定済み"):
        kogaku_decide(application=application, actor=staff)
    assert kogaku_paid_record(decisions=[decision], paid_on=dt.date(2026, 9, 20), actor=staff) == 1
    assert not kogaku_decisions_awaiting_payment().exists()


def test_with_simplification_the_next_month_is_decided_without_an_application(city):
    a, _ = city
    _run(JUNE)
    staff = make_staff()
    kogaku_application_register(
        household=a.household,
        month=JUNE,
        applicant=a,
        received_on=dt.date(2026, 8, 1),
        account=ACCOUNT,
        simplify=True,
        actor=staff,
    )
    run = _run(JULY)
    decision = KogakuDecision.objects.get(household=a.household, month=JULY)
    assert (decision.kind, decision.decided_by, decision.amount) == (
        DecisionKind.SIMPLIFIED,
        None,
        45820,
    )
    assert decision.simplification is not None
    assert not KogakuInvitation.objects.filter(household=a.household, month=JULY).exists()
    assert run.counts["automatic_decisions"] == 1


def test_a_later_invitation_is_not_the_first(city):
    a, _ = city
    _run(JUNE)
    _run(JULY)
    july = KogakuInvitation.objects.get(household=a.household, month=JULY)
    assert july.first_time is False


def test_refusals(city):
    a, b = city
    staff = make_staff()
    bad = AccountIn("01", "001", 1, "1234567", "キュウフ")
    with pytest.raises(KogakuError, match="金融機関コード"):
        kogaku_application_register(
            household=a.household,
            month=JULY,
            applicant=a,
            received_on=JULY,
            account=bad,
            simplify=False,
            actor=staff,
        )
    with pytest.raises(KogakuError, match="口座名義"):
        kogaku_application_register(
            household=a.household,
            month=JULY,
            applicant=a,
            received_on=JULY,
            account=AccountIn("0001", "001", 1, "1234567", "Kyufu"),
            simplify=False,
            actor=staff,
        )
    with pytest.raises(KogakuError, match="世帯員"):
        kogaku_application_register(
            household=a.household,
            month=JULY,
            applicant=b,
            received_on=JULY,
            account=ACCOUNT,
            simplify=False,
            actor=staff,
        )
    application = kogaku_application_register(
        household=a.household,
        month=JULY,
        applicant=a,
        received_on=JULY,
        account=ACCOUNT,
        simplify=False,
        actor=staff,
    )
    with pytest.raises(KogakuError, match="月次計算がまだありません"):
        kogaku_decide(application=application, actor=staff)  # no run yet
    with pytest.raises(KogakuError, match="受付済み"):
        kogaku_application_register(
            household=a.household,
            month=JULY,
            applicant=a,
            received_on=JULY,
            account=ACCOUNT,
            simplify=False,
            actor=staff,
        )


def test_the_stored_explanation_words_what_was_computed(city):
    _, b = city
    _run()
    result = KogakuResult.objects.get(household=b.household, month=JULY)
    outcome = result_outcome(result)
    assert outcome.benefit == 12000
    assert outcome.persons == {b.name: (30000, 12000)}
    assert [u.copay for u in outcome.units] == [30000]
    assert [(s.step, s.limit, s.benefit) for s in outcome.steps] == [
        ("1", 18000, 12000),
        ("2", 57600, 0),
    ]
