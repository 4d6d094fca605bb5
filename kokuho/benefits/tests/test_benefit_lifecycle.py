"""The life cycle shared by 葬祭費, 出産育児一時金 and 療養費: one case per rule, exclusion and
parameter change date, worked by hand in each name or docstring; the attachments gate,
変更決定 with 追加支給 / 返納, append-only decisions, and payment through the run."""

import datetime as dt

import pytest
from django.db import DatabaseError, transaction

from kokuho.benefits.lifecycle.models import ApplicationStatus, BenefitDecision, Outcome
from kokuho.benefits.lifecycle.services import (
    PAYMENT_SOURCE,
    BenefitError,
    attachments_for,
    attachments_missing,
    benefit_application_register,
    benefit_attachments_receive,
    benefit_decide,
    benefit_decision_change,
)
from kokuho.payments.models import AccountSource, Benefit, Payment
from kokuho.payments.run import payment_run
from kokuho.payments.services import AccountInput
from kokuho.testing import make_insured, make_staff

pytestmark = pytest.mark.django_db

ACCOUNT = AccountInput("0001", "001", 1, "1234567", "キュウフ タロウ")


def _all(benefit):
    return {item.code: True for item in attachments_for(benefit)}


def _apply(benefit, subject, event_date, received_on=None, attachments=None, **facts):
    return benefit_application_register(
        benefit=benefit,
        subject=subject,
        applicant=subject,
        received_on=received_on or event_date + dt.timedelta(days=10),
        event_date=event_date,
        facts=facts,
        attachments=_all(benefit) if attachments is None else attachments,
        account=ACCOUNT,
        actor=make_staff(),
    )


def _decide(application, **kw):
    return benefit_decide(application=application, actor=make_staff(), **kw)


@pytest.fixture
def insured():
    return make_insured(birth_date=dt.date(1990, 4, 2), moved_in=dt.date(2015, 4, 1))


# --- 葬祭費 ----------------------------------------------------------------------------------


def _funeral(subject, funeral=dt.date(2026, 6, 12), death=dt.date(2026, 6, 10), **kw):
    return _apply(
        Benefit.SOSAI,
        subject,
        funeral,
        death_date=death.isoformat(),
        chief_mourner="給付 花子",
        **kw,
    )


def test_funeral_expenses_pay_the_ordinance_amount(insured):
    decision = _decide(_funeral(insured))
    assert (decision.outcome, decision.amount, decision.difference) == (Outcome.PAID, 30000, 30000)
    assert decision.parameters[-1]["name"] == "benefits.funeral_expenses"
    payment = Payment.objects.get(source_type=PAYMENT_SOURCE, source_id=decision.pk)
    assert (payment.benefit, payment.amount) == (Benefit.SOSAI, 30000)


def test_funeral_expenses_are_refused_when_not_insured_on_the_day_of_death():
    person = make_insured(moved_in=dt.date(2020, 4, 1), moved_out=dt.date(2026, 5, 1))
    decision = _decide(_funeral(person))
    assert (decision.outcome, decision.amount) == (Outcome.REFUSED, 0)
    assert "被保険者ではありません" in decision.reason
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "left, outcome",
    [
        (dt.date(2026, 3, 11), Outcome.REFUSED),  # death 6/10 is within 3 months (to 6/10)
        (dt.date(2026, 3, 10), Outcome.PAID),  # 3 months ended 6/9
    ],
)
def test_burial_money_from_the_former_employee_insurer_excludes_funeral_expenses(
    insured, left, outcome
):
    decision = _decide(_funeral(insured, left_employee_insurance_on=left.isoformat()))
    assert decision.outcome == outcome
    if outcome == Outcome.REFUSED:
        assert "埋葬料" in decision.reason


@pytest.mark.parametrize(
    "received, outcome",
    [
        (dt.date(2026, 5, 10), Outcome.PAID),  # from 2024-05-11: two years end 2026-05-10
        (dt.date(2026, 5, 11), Outcome.REFUSED),
    ],
)
def test_the_two_year_limitation_runs_from_the_day_after_the_funeral(insured, received, outcome):
    application = _funeral(
        insured, funeral=dt.date(2024, 5, 10), death=dt.date(2024, 5, 8), received_on=received
    )
    decision = _decide(application)
    assert decision.outcome == outcome
    if outcome == Outcome.REFUSED:
        assert "時効" in decision.reason


def test_a_missing_required_attachment_blocks_the_decision_until_received(insured):
    application = _funeral(insured, attachments={"applicant_id": True})
    assert [a.code for a in attachments_missing(application)] == ["funeral_proof"]
    with pytest.raises(BenefitError, match="添付書類が揃っていません: 葬儀の領収書"):
        _decide(application)
    benefit_attachments_receive(application=application, codes=["funeral_proof"], actor=None)
    assert _decide(application).outcome == Outcome.PAID


def test_a_chief_mourner_the_registry_does_not_know_is_paid_by_proxy_account(insured):
    application = benefit_application_register(
        benefit=Benefit.SOSAI,
        subject=insured,
        applicant=None,
        applicant_name="市外 喪主",
        received_on=dt.date(2026, 6, 20),
        event_date=dt.date(2026, 6, 12),
        facts={"death_date": "2026-06-10", "chief_mourner": "市外 喪主"},
        attachments=_all(Benefit.SOSAI),
        account=ACCOUNT,
        actor=make_staff(),
    )
    assert application.account.source == AccountSource.PROXY
    assert application.account.proxy_name == "市外 喪主"
    assert _decide(application).amount == 30000


def test_a_missing_fact_is_refused_with_its_field(insured):
    application = _apply(Benefit.SOSAI, insured, dt.date(2026, 6, 12), death_date="2026-06-10")
    with pytest.raises(BenefitError, match="chief_mourner") as error:
        _decide(application)
    assert error.value.field == "chief_mourner"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RECEIVED


# --- 出産育児一時金 ----------------------------------------------------------------------------


def _birth(subject, born=dt.date(2026, 7, 1), **facts):
    facts.setdefault("gestation_days", 280)
    return _apply(Benefit.SHUSSAN, subject, born, **facts)


@pytest.mark.parametrize(
    "born, covered, amount",
    [
        (dt.date(2021, 12, 31), False, 404000),
        (dt.date(2022, 1, 1), False, 408000),
        (dt.date(2023, 3, 31), True, 420000),
        (dt.date(2023, 4, 1), True, 500000),
        (dt.date(2023, 4, 1), False, 488000),
    ],
)
def test_the_lump_sum_follows_the_birth_date_and_the_compensation_scheme(
    insured, born, covered, amount
):
    assert _decide(_birth(insured, born=born, compensation_covered=covered)).amount == amount


def test_twins_are_paid_per_child(insured):
    assert _decide(_birth(insured, children=2)).amount == 1_000_000


@pytest.mark.parametrize("days, outcome", [(84, Outcome.REFUSED), (85, Outcome.PAID)])
def test_births_count_from_85_days_of_pregnancy_stillbirths_included(insured, days, outcome):
    decision = _decide(_birth(insured, gestation_days=days, live_birth=False))
    assert decision.outcome == outcome


def test_direct_payment_pays_the_household_only_the_difference(insured):
    decision = _decide(_birth(insured, direct_payment=True, delivery_cost=480000))
    assert (decision.amount, decision.institution_amount, decision.difference) == (
        500000,
        480000,
        20000,
    )
    assert Payment.objects.get().amount == 20000


def test_direct_payment_over_the_amount_leaves_nothing_for_the_household(insured):
    decision = _decide(_birth(insured, direct_payment=True, delivery_cost=520000))
    assert (decision.institution_amount, decision.difference) == (500000, 0)
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    "born, years, outcome",
    [
        (dt.date(2026, 7, 9), 1, Outcome.REFUSED),  # left 2026-01-10: within 6 months
        (dt.date(2026, 7, 10), 1, Outcome.PAID),  # 6 months ended 2026-07-09
        (dt.date(2026, 7, 9), 0, Outcome.PAID),  # under a year there: NHI pays
    ],
)
def test_the_former_insurer_pays_when_she_chose_it(insured, born, years, outcome):
    application = _birth(
        insured,
        born=born,
        former_insurer_left_on="2026-01-10",
        former_insurer_years=years,
        former_insurer_claimed=True,
    )
    assert _decide(application).outcome == outcome


def test_receipt_by_proxy_pays_the_hospitals_account(insured):
    application = benefit_application_register(
        benefit=Benefit.SHUSSAN,
        subject=insured,
        applicant=insured,
        received_on=dt.date(2026, 6, 1),  # 受取代理: applied before the birth
        event_date=dt.date(2026, 7, 1),
        facts={"gestation_days": 280},
        attachments=_all(Benefit.SHUSSAN),
        account=AccountInput("0001", "004", 1, "7777777", "イリヨウホウジン ミカンカイ"),
        proxy_name="医療法人ミカン会 みかん産院",
        actor=make_staff(),
    )
    decision = _decide(application)
    payment = Payment.objects.get(source_id=decision.pk)
    assert payment.account.source == AccountSource.PROXY
    assert payment.account.holder_zengin == "ｲ)ﾐｶﾝｶｲ"


# --- 療養費 -----------------------------------------------------------------------------------


def _expenses(subject, cost, paid, **facts):
    return _apply(
        Benefit.RYOYOHI,
        subject,
        dt.date(2026, 7, 3),
        service_date="2026-07-03",
        fee_schedule_cost=cost,
        paid_amount=paid,
        **facts,
    )


def test_expenses_paid_in_full_are_reimbursed_less_the_copay(insured):
    """10,000 × 30% = 3,000 → 7,000."""
    assert _decide(_expenses(insured, 10000, 10000)).amount == 7000


def test_paying_more_than_the_fee_schedule_is_a_partial_payment(insured):
    decision = _decide(_expenses(insured, 10000, 12000))
    assert (decision.outcome, decision.amount) == (Outcome.PARTIAL, 7000)
    assert "対象外" in decision.reason


@pytest.mark.parametrize(
    "cost, amount",
    [
        (10015, 7015),  # 3,004.5 → 3,000 (under 5 yen down)
        (10017, 7007),  # 3,005.1 → 3,010
    ],
)
def test_the_copay_rounds_to_10_yen(insured, cost, amount):
    assert _decide(_expenses(insured, cost, cost)).amount == amount


def test_a_device_is_limited_to_its_ceiling(insured):
    """min(50,000, ceiling 40,000) − 30% (12,000) = 28,000."""
    decision = _decide(_expenses(insured, 50000, 50000, device_ceiling=40000))
    assert (decision.outcome, decision.amount) == (Outcome.PARTIAL, 28000)


def test_a_preschool_child_pays_20_percent():
    child = make_insured(birth_date=dt.date(2022, 5, 1), moved_in=dt.date(2022, 5, 1))
    assert _decide(_expenses(child, 10000, 10000)).amount == 8000


# --- 変更決定, append-only, payment ------------------------------------------------------------


def test_a_change_pays_the_difference_and_names_what_it_changes(insured):
    first = _decide(_birth(insured))
    second = benefit_decision_change(
        decision=first, facts={"children": 2}, reason="双子の出生を確認", actor=make_staff()
    )
    assert (second.changes_id, second.amount, second.difference) == (first.pk, 1_000_000, 500000)
    assert "双子" in second.reason
    assert sorted(Payment.objects.values_list("amount", flat=True)) == [500000, 500000]
    with pytest.raises(BenefitError, match="最新の決定"):
        benefit_decision_change(decision=first, facts={}, reason="x", actor=make_staff())


def test_a_change_down_is_a_refund_and_pays_nothing(insured):
    first = _decide(_expenses(insured, 10000, 10000))
    second = benefit_decision_change(
        decision=first,
        facts={"fee_schedule_cost": 8000},
        reason="過誤: 費用額の訂正",
        actor=make_staff(),
    )
    assert (second.amount, second.difference) == (5600, -1400)
    assert Payment.objects.count() == 1


def test_decisions_are_append_only(insured):
    decision = _decide(_funeral(insured))
    with pytest.raises(DatabaseError), transaction.atomic():
        BenefitDecision.objects.filter(pk=decision.pk).update(amount=1)


def test_a_decided_benefit_is_paid_by_the_run(insured, tmp_path, settings):
    settings.KOKUHO_PAYMENT_DIR = tmp_path
    _decide(_funeral(insured), decided_on=dt.date(2026, 11, 30))
    run = payment_run(
        pay_date=dt.date(2026, 12, 4), actor=None, sent_at=dt.datetime(2026, 12, 1, 9)
    ).run
    assert (run.count, run.total) == (1, 30000)
    assert run.totals["benefits"] == {"葬祭費": {"count": 1, "total": 30000}}


def test_the_decision_notices_print_from_the_decisions(insured, tmp_path, settings):
    from pypdf import PdfReader

    from kokuho.benefits.lifecycle.notice_data import benefit_notices_pdf

    settings.KOKUHO_PAYMENT_DIR = tmp_path
    paid = _decide(_funeral(insured), decided_on=dt.date(2026, 11, 30))
    refused = _decide(_birth(insured, gestation_days=80))
    payment_run(pay_date=dt.date(2026, 12, 4), actor=None, sent_at=dt.datetime(2026, 12, 1, 9))
    path = tmp_path / "notices.pdf"
    path.write_bytes(benefit_notices_pdf([paid, refused]))
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    assert "葬祭費支給決定通知書" in text and "出産育児一時金不支給決定通知書" in text
    assert "30,000" in text and "****567" in text and "妊娠85日未満" in text


# --- 海外療養費, 移送費 --------------------------------------------------------------------------

DECIDED = dt.date(2026, 8, 20)


def _overseas(subject, **facts):
    base = {
        "service_date": "2026-07-03",
        "currency": "USD",
        "foreign_amount": "1200.50",
        "exchange_rate": "150.25",
        "exchange_rate_date": DECIDED.isoformat(),
        "exchange_rate_source": "みかん銀行 電信売相場",
        "japan_cost": 150000,
    }
    return _apply(Benefit.KAIGAI, subject, dt.date(2026, 7, 3), **(base | facts))


def test_overseas_care_converts_at_the_decision_days_rate_and_keeps_the_lesser(insured):
    """1,200.50 USD × 150.25 = 180,375 (円未満切り捨て) > 日本の費用額 150,000 →
    150,000 − 30% (45,000) = 105,000, 一部支給."""
    decision = _decide(_overseas(insured), decided_on=DECIDED)
    assert (decision.outcome, decision.amount) == (Outcome.PARTIAL, 105000)
    assert any("180,375円" in step for step in decision.explanation)


def test_overseas_care_below_the_japanese_cost_is_paid_on_the_bill(insured):
    """500 USD × 150.25 = 75,125 → copay 22,537.5 → 22,540 → 52,585."""
    decision = _decide(_overseas(insured, foreign_amount="500"), decided_on=DECIDED)
    assert (decision.outcome, decision.amount) == (Outcome.PAID, 52585)


def test_overseas_care_needs_the_rate_of_the_decision_day(insured):
    with pytest.raises(BenefitError, match="支給決定日") as error:
        _decide(_overseas(insured), decided_on=DECIDED + dt.timedelta(days=1))
    assert error.value.field == "exchange_rate_date"


def test_a_trip_made_to_be_treated_is_refused(insured):
    decision = _decide(_overseas(insured, trip_for_treatment=True), decided_on=DECIDED)
    assert decision.outcome == Outcome.REFUSED and "治療を目的" in decision.reason


def _transport(subject, **facts):
    base = {"actual_cost": 18000, "economical_cost": 15000, "doctor_instruction": True}
    return _apply(Benefit.ISOUHI, subject, dt.date(2026, 7, 3), **(base | facts))


def test_transport_pays_the_most_economical_route_in_full(insured):
    decision = _decide(_transport(insured, approved_beforehand=True))
    assert (decision.outcome, decision.amount) == (Outcome.PARTIAL, 15000)


@pytest.mark.parametrize(
    "facts, outcome",
    [
        ({"approved_beforehand": True, "doctor_instruction": False}, Outcome.REFUSED),
        ({}, Outcome.REFUSED),  # neither approved beforehand nor an emergency
        ({"emergency": True, "actual_cost": 9000}, Outcome.PAID),
    ],
)
def test_transport_needs_a_doctor_and_an_approval_or_an_emergency(insured, facts, outcome):
    assert _decide(_transport(insured, **facts)).outcome == outcome
