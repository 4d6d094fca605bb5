"""高額療養費 beyond the first decision (payments.md §3): 不支給 with its reason, a month
computed again after a late claim or a 過誤 correction, 変更決定 with 追加支給 or 返納, and
the notice that shows both computations.

b (73, 一般) has one July outpatient claim of 30,000: the 外来 limit 18,000 leaves 12,000.
c (45) has a July claim of 5,000: nothing reaches the 21,000 floor, so nothing is due."""

import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.kogaku.change_notice import change_notice_pdf
from kokuho.benefits.kogaku.notice_data import decision_notice_pdf
from kokuho.benefits.kogaku.recompute import (
    REFUSAL_NOTHING_COUNTED,
    kogaku_decision_chain,
    kogaku_months_dirty,
    kogaku_recompute,
    kogaku_recompute_months,
    kogaku_standing_decision,
)
from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.kogaku.workflow import (
    AccountIn,
    kogaku_application_register,
    kogaku_decide,
    kogaku_decisions_awaiting_payment,
)
from kokuho.benefits.models import (
    Claim,
    DecisionKind,
    DecisionOutcome,
    KogakuDecision,
    KogakuRecomputeRequest,
    KogakuRun,
    RecomputeCause,
)
from kokuho.payments.models import Payment
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

JULY = dt.date(2026, 7, 1)
ACCOUNT = AccountIn("0001", "001", 1, "1234567", "きゅうふ たろう")


def _run(month: dt.date = JULY) -> KogakuRun:
    return kogaku_run_execute(run_id=kogaku_run_create(month=month, actor=None).pk)


def _apply_and_decide(person, staff) -> KogakuDecision:
    application = kogaku_application_register(
        household=person.household,
        month=JULY,
        applicant=person,
        received_on=dt.date(2026, 9, 1),
        account=ACCOUNT,
        simplify=False,
        actor=staff,
    )
    return kogaku_decide(application=application, actor=staff, decided_on=dt.date(2026, 9, 3))


def _pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.fixture
def people():
    b = make_insured(birth_date=dt.date(1953, 3, 2))
    c = make_insured(birth_date=dt.date(1981, 5, 5))
    make_claim(person=b, service_month=JULY, setting=2, points=15000, copay=30000)
    make_claim(person=c, service_month=JULY, setting=2, points=1700, copay=5000)
    return b, c


def test_an_application_with_nothing_due_is_refused_with_the_reason(people):
    _, c = people
    staff = make_staff()
    _run()
    decision = _apply_and_decide(c, staff)
    assert (decision.outcome, decision.amount, decision.kind) == (
        DecisionOutcome.REFUSED,
        0,
        DecisionKind.APPLICATION,
    )
    assert decision.reason == REFUSAL_NOTHING_COUNTED
    assert decision.steps  # the 計算明細 says there was nothing to count
    assert not Payment.objects.filter(source_type="kogaku_decision", source_id=decision.pk)
    assert decision not in kogaku_decisions_awaiting_payment()
    assert AuditEvent.objects.filter(event_type=EventType.KOGAKU_REFUSED).count() == 1
    text = _pdf_text(decision_notice_pdf(decision=decision, actor=staff))
    assert "不支給決定通知書" in text
    assert "対象となる一部負担金がない" in text
    assert "審査請求" in text  # the 教示


def test_a_late_claim_makes_a_change_decision_that_pays_the_difference(people):
    b, _ = people
    staff = make_staff()
    _run()
    first = _apply_and_decide(b, staff)
    assert first.amount == 12000
    make_claim(person=b, service_month=JULY, setting=2, points=3400, copay=10000)
    run = _run()
    assert run.counts["changed_decisions"] == 1
    assert run.counts["additional_total"] == 10000
    change = kogaku_standing_decision(household=b.household, month=JULY)
    assert change.replaces_id == first.pk
    assert (change.kind, change.outcome, change.amount, change.difference) == (
        DecisionKind.CHANGE,
        DecisionOutcome.PAID,
        22000,
        10000,
    )
    assert change.cause == RecomputeCause.LATE_CLAIM
    first.refresh_from_db()
    assert first.amount == 12000  # append-only: the replaced decision is as it was
    payments = Payment.objects.filter(source_type="kogaku_decision").order_by("source_id")
    assert [(p.source_id, p.amount) for p in payments] == [(first.pk, 12000), (change.pk, 10000)]
    assert "追加支給" in payments[1].description
    text = _pdf_text(decision_notice_pdf(decision=change, actor=staff))
    assert "支給額変更決定通知書" in text
    assert "変更前の計算" in text and "変更後の計算" in text
    assert "追加支給額" in text and "10,000円" in text
    assert "12,000円" in text and "22,000円" in text


def test_a_run_with_nothing_changed_decides_nothing_again(people):
    b, _ = people
    _run()
    _apply_and_decide(b, make_staff())
    run = _run()
    assert run.counts["changed_decisions"] == 0
    assert KogakuDecision.objects.count() == 1


def test_a_kago_correction_noted_for_the_month_makes_a_refund(people):
    b, _ = people
    staff = make_staff()
    _run()
    first = _apply_and_decide(b, staff)
    Claim.objects.filter(person=b).update(copay=20000)  # the 国保連's 過誤調整
    noted = kogaku_months_dirty(
        [(b.household_id, JULY)], cause=RecomputeCause.CLAIM_CORRECTION, detail="過誤調整（減点）"
    )
    assert noted == 1
    assert kogaku_recompute_months() == [(JULY, 1)]
    # The same note twice is one note.
    assert kogaku_months_dirty([(b.household_id, JULY)], cause=RecomputeCause.CLAIM_CORRECTION) == 0
    run = kogaku_recompute(month=JULY, actor=staff)
    change = kogaku_standing_decision(household=b.household, month=JULY)
    assert (change.amount, change.difference, change.cause) == (
        2000,
        -10000,
        RecomputeCause.CLAIM_CORRECTION,
    )
    assert change.reason == "過誤調整（減点）"
    assert run.counts["refund_total"] == 10000
    # 返納: nothing more is paid.
    assert Payment.objects.filter(source_type="kogaku_decision").count() == 1
    note = KogakuRecomputeRequest.objects.get()
    assert (note.done_run_id, note.done_at is not None) == (run.pk, True)
    assert kogaku_recompute_months() == []
    text = _pdf_text(change_notice_pdf(decision=change, actor=staff))
    assert "返納額" in text and "10,000円" in text and "返納通知書" in text
    assert first.pk in [d.pk for d in kogaku_decision_chain(change)]


def test_a_month_no_longer_due_is_changed_to_nothing_and_back(people):
    b, _ = people
    staff = make_staff()
    _run()
    first = _apply_and_decide(b, staff)
    Claim.objects.filter(person=b).update(copay=15000)  # below the 外来 limit: nothing due
    _run()
    nothing = kogaku_standing_decision(household=b.household, month=JULY)
    assert (nothing.outcome, nothing.amount, nothing.difference) == (
        DecisionOutcome.REFUSED,
        0,
        -12000,
    )
    assert "限度額以下" in nothing.reason
    Claim.objects.filter(person=b).update(copay=30000)
    _run()
    again = kogaku_standing_decision(household=b.household, month=JULY)
    assert (again.outcome, again.amount, again.difference) == (DecisionOutcome.PAID, 12000, 12000)
    assert [d.pk for d in kogaku_decision_chain(again)] == [first.pk, nothing.pk, again.pk]
    assert AuditEvent.objects.filter(event_type=EventType.KOGAKU_CHANGED).count() == 2


def test_a_refusal_that_a_late_claim_makes_due_is_changed_to_paid(people):
    _, c = people
    staff = make_staff()
    _run()
    refusal = _apply_and_decide(c, staff)
    make_claim(person=c, service_month=JULY, setting=1, points=100000, copay=300000)
    _run()
    change = kogaku_standing_decision(household=c.household, month=JULY)
    assert change.replaces_id == refusal.pk
    assert change.outcome == DecisionOutcome.PAID
    assert change.difference == change.amount == 45820  # ア: 300,000 − 254,180
    payment = Payment.objects.get(source_type="kogaku_decision", source_id=change.pk)
    assert payment.amount == change.amount
    assert payment.person_id == c.pk  # the applicant of the month's first decision


def test_notes_are_kept_only_for_decided_months(people):
    b, c = people
    _run()
    _apply_and_decide(b, make_staff())
    noted = kogaku_months_dirty(
        [(b.household_id, JULY), (c.household_id, JULY)], cause=RecomputeCause.ELIGIBILITY_CHANGE
    )
    assert noted == 1  # c's month has no decision: its next run simply computes it
    with pytest.raises(ValueError):
        kogaku_months_dirty([(b.household_id, JULY)], cause="no-such-cause")


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(copays=st.lists(st.integers(min_value=0, max_value=60000), min_size=1, max_size=3))
def test_whatever_the_claims_become_the_chain_pays_what_the_last_run_computes(copays):
    """Decided on 30,000 of outpatient care, then the month's claim changes and the month is
    run again, a few times: the standing decision is the new result, the chain's first amount
    plus its differences is that amount, and what was paid less what comes back equals it."""
    b = make_insured(birth_date=dt.date(1953, 3, 2))
    claim = make_claim(person=b, service_month=JULY, setting=2, points=10000, copay=30000)
    _run()
    first = _apply_and_decide(b, make_staff())
    for copay in copays:
        Claim.objects.filter(pk=claim.pk).update(copay=copay)
        run = _run()
        result = run.results.filter(household=b.household).first()
        standing = kogaku_standing_decision(household=b.household, month=JULY)
        assert standing.amount == (result.benefit if result else 0)
        chain = kogaku_decision_chain(standing)
        assert chain[0].pk == first.pk
        assert first.amount + sum(d.difference for d in chain[1:]) == standing.amount
        paid = sum(
            Payment.objects.filter(
                source_type="kogaku_decision", source_id__in=[d.pk for d in chain]
            ).values_list("amount", flat=True)
        )
        assert paid - sum(d.refund for d in chain) == standing.amount


def test_a_ryoyohi_counts_toward_its_month_and_makes_a_change_decision(people):
    """b (一般, 20%) pays a 20,000 bill out of pocket in July (立替払い): 療養費 16,000, and
    its 4,000 一部負担金相当額 joins the month's 30,000 — 34,000 − 18,000 = 16,000."""
    from kokuho.benefits.lifecycle.services import (
        attachments_for,
        benefit_application_register,
        benefit_decide,
    )
    from kokuho.payments.models import Benefit
    from kokuho.payments.services import AccountInput

    b, _ = people
    staff = make_staff()
    _run()
    first = _apply_and_decide(b, staff)
    application = benefit_application_register(
        benefit=Benefit.RYOYOHI,
        subject=b,
        applicant=b,
        received_on=dt.date(2026, 9, 10),
        event_date=dt.date(2026, 7, 10),
        facts={"service_date": "2026-07-10", "fee_schedule_cost": 20000, "paid_amount": 20000},
        attachments={a.code: True for a in attachments_for(Benefit.RYOYOHI)},
        account=AccountInput("0001", "001", 1, "1234567", "キュウフ タロウ"),
        actor=staff,
    )
    ryoyohi = benefit_decide(application=application, actor=staff)
    assert (ryoyohi.amount, ryoyohi.inputs["counted_copay"]) == (16000, 4000)
    note = KogakuRecomputeRequest.objects.get()
    assert (note.household_id, note.month, note.cause) == (b.household_id, JULY, "ryoyohi")
    kogaku_recompute(month=JULY, actor=staff)
    change = kogaku_standing_decision(household=b.household, month=JULY)
    assert change.replaces_id == first.pk
    assert (change.amount, change.difference, change.cause) == (16000, 4000, "ryoyohi")
    assert "自己負担相当額 4,000円" in change.reason


def _late_event(kind, person, day, reported):
    from zoneinfo import ZoneInfo

    from kokuho.eligibility.events import ChangeEvent, event_apply

    at = dt.datetime.combine(reported, dt.time(10), tzinfo=ZoneInfo("Asia/Tokyo"))
    event_apply(ChangeEvent(kind, day, reported, person.atena_no), recorded_at=at, actor=None)


def test_a_late_report_of_employee_insurance_takes_the_month_back(people):
    """b joined an employer's insurance on 2026-06-20, reported in September: July was never
    NHI's. The claim becomes 資格喪失後受診 again and the month's decision is changed to 0
    (返納 12,000)."""
    from kokuho.eligibility.events import ChangeType

    b, _ = people
    staff = make_staff()
    _run()
    _apply_and_decide(b, staff)
    _late_event(ChangeType.EMPLOYEE_INSURANCE_JOIN, b, dt.date(2026, 6, 20), dt.date(2026, 9, 15))
    assert Claim.objects.get(person=b).match == "not_insured"
    note = KogakuRecomputeRequest.objects.get()
    assert (note.month, note.cause) == (JULY, RecomputeCause.ELIGIBILITY_CHANGE)
    kogaku_recompute(month=JULY, actor=staff)
    change = kogaku_standing_decision(household=b.household, month=JULY)
    assert (change.amount, change.refund, change.cause) == (0, 12000, "eligibility_change")
    assert change.outcome == DecisionOutcome.REFUSED


def test_a_move_out_found_late_in_a_registry_file_takes_the_month_back(people):
    """The same through the file batches (`eligibility.bulk`, the 住基異動 import's path):
    b moved out on 2026-06-30, the registry file of September says so. The batch tells the
    listeners as the per-event path does, so the July claim is 資格喪失後受診 and the
    decided month is noted for re-computation (it was neither, before)."""
    from zoneinfo import ZoneInfo

    from django.db import transaction

    from kokuho.eligibility.bulk import BatchItem, registry_changes_apply
    from kokuho.eligibility.events import ChangeEvent, ChangeType

    b, c = people
    staff = make_staff()
    _run()
    _apply_and_decide(b, staff)
    at = dt.datetime(2026, 9, 15, 10, tzinfo=ZoneInfo("Asia/Tokyo"))
    items = [
        BatchItem(
            ChangeEvent(
                ChangeType.MOVE_OUT, dt.date(2026, 6, 30), dt.date(2026, 9, 15), p.atena_no
            ),
            at,
        )
        for p in (b, c)
    ]
    with transaction.atomic():
        assert registry_changes_apply(items, actor=None) == [None, None]
    assert set(Claim.objects.values_list("person_id", "match")) == {
        (b.pk, "not_insured"),
        (c.pk, "not_insured"),
    }
    note = KogakuRecomputeRequest.objects.get()  # c's month was never decided: not noted
    assert (note.household_id, note.month, note.cause) == (
        b.household_id,
        JULY,
        RecomputeCause.ELIGIBILITY_CHANGE,
    )
    assert note.detail == "資格の異動（2026-06-30 から）"
