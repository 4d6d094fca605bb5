"""一部負担金の減額・免除・徴収猶予 (法44条): every result and band, the boundaries at exactly
1.0 and 1.15 times the standard, household sizes and parameter dates, the period cap,
extensions and the deferral cap, append-only decisions, the month's claims check and the
PDFs read back with pypdf.

Worked by hand from the demo city's tables: from 2025-10-01 the standard of a household of
one is 111,000 yen (1.05× 116,550; 1.10× 122,100; 1.15× 127,650; savings cap 333,000);
before, 110,000.
"""

import datetime as dt
import io

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from kokuho.audit.models import AuditEvent, EventType
from kokuho.benefits.lifecycle.services import BenefitError
from kokuho.benefits.reduction.models import CopayReductionDecision, ReductionResult
from kokuho.benefits.reduction.pdf import (
    ReductionNotice,
    reduction_certificates_pdf,
    reduction_notices_pdf,
)
from kokuho.benefits.reduction.rules import welfare_standard
from kokuho.benefits.reduction.services import (
    copay_reduction_decide,
    copay_reduction_extend,
    copay_reduction_register,
    reduction_certificate_data,
    reduction_claims_check,
    reduction_notice_data,
)
from kokuho.core.mynumber import my_number_check_digit
from kokuho.rules.params import parameters
from kokuho.testing import make_claim, make_insured, make_staff

pytestmark = pytest.mark.django_db

APRIL = dt.date(2026, 4, 1)


@pytest.fixture
def head():
    return make_insured(birth_date=dt.date(1975, 6, 1), moved_in=dt.date(2015, 4, 1))


def _apply(person, income, savings=100_000, kind="exemption", start=APRIL, **kw):
    kw.setdefault("members", 1)
    return copay_reduction_register(
        subject=person,
        applicant=kw.pop("applicant", person),
        received_on=kw.pop("received_on", start - dt.timedelta(days=5)),
        reason=kw.pop("reason", "unemployment"),
        monthly_income=income,
        savings=savings,
        requested_kind=kind,
        period_start=start,
        actor=make_staff(),
        **kw,
    )


def _decide(person, income, **kw):
    return copay_reduction_decide(application=_apply(person, income, **kw), actor=make_staff())


# --- Results and boundaries -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("income", "result", "rate"),
    [
        (0, ReductionResult.EXEMPTION, 100),
        (111_000, ReductionResult.EXEMPTION, 100),  # exactly 1.0 × standard
        (111_001, ReductionResult.REDUCTION, 80),
        (116_550, ReductionResult.REDUCTION, 80),  # exactly 1.05 ×
        (116_551, ReductionResult.REDUCTION, 50),
        (122_100, ReductionResult.REDUCTION, 50),  # exactly 1.10 ×
        (122_101, ReductionResult.REDUCTION, 20),
        (127_650, ReductionResult.REDUCTION, 20),  # exactly 1.15 ×
        (127_651, ReductionResult.REFUSED, 0),
    ],
)
def test_the_result_follows_income_against_the_standard(head, income, result, rate):
    decision = _decide(head, income)
    assert (decision.result, decision.rate_percent) == (result, rate)
    if result == ReductionResult.REFUSED:
        assert "1.15倍 127,650円 を超えています" in decision.reason
        assert (decision.period_start, decision.certificate_no) == (None, "")
    else:
        assert (decision.period_start, decision.period_end) == (APRIL, dt.date(2026, 6, 30))
        assert decision.certificate_no.startswith("GM")
    assert any("生活保護基準額（1人世帯、2026年4月）111,000円" in s for s in decision.explanation)


def test_savings_above_three_months_of_the_standard_refuse(head):
    assert _decide(head, 50_000, savings=333_000).result == ReductionResult.EXEMPTION
    decision = _decide(head, 50_000, savings=333_001)
    assert decision.result == ReductionResult.REFUSED
    assert "3か月分 333,000円 を超えています" in decision.reason


def test_a_request_for_a_reduction_gets_the_exemption_the_criteria_give(head):
    decision = _decide(head, 100_000, kind="reduction")
    assert (decision.result, decision.rate_percent) == (ReductionResult.EXEMPTION, 100)


def test_deferral_is_granted_within_the_upper_ratio_whatever_the_savings(head):
    decision = _decide(head, 127_650, savings=5_000_000, kind="deferral")
    assert (decision.result, decision.rate_percent, decision.months) == ("deferral", 0, 3)
    refused = _decide(head, 127_651, kind="deferral")
    assert refused.result == ReductionResult.REFUSED


@pytest.mark.parametrize(
    ("members", "standard"), [(1, 111_000), (2, 152_000), (6, 276_000), (8, 334_000)]
)
def test_the_standard_by_household_size(head, members, standard):
    table = parameters().get("reduction.welfare_standard").at(APRIL)
    assert welfare_standard(table, members) == standard
    assert _decide(head, standard, members=members).result == ReductionResult.EXEMPTION
    assert _decide(head, standard + 1, members=members).result == ReductionResult.REDUCTION


def test_the_standard_of_the_period_start_applies_and_is_recorded_as_provisional(head):
    before = _decide(head, 110_500, start=dt.date(2025, 9, 1))  # standard 110,000
    after = _decide(head, 110_500, start=dt.date(2025, 10, 1))  # standard 111,000
    assert (before.result, before.rate_percent) == (ReductionResult.REDUCTION, 80)
    assert after.result == ReductionResult.EXEMPTION
    used = {p["name"]: p for p in after.parameters}
    assert used["reduction.welfare_standard"]["since"] == "2025-10-01"
    assert used["reduction.welfare_standard"]["status"] == "provisional"
    assert "告示" in used["reduction.welfare_standard"]["source"]
    assert "平成22年9月13日 保発0913第2号" in used["reduction.criteria"]["reference"]
    assert any("暫定値" in step for step in after.explanation)


def test_the_decision_keeps_its_inputs(head):
    decision = _decide(head, 120_000, savings=10_000, members=1)
    assert decision.inputs["monthly_income"] == 120_000
    assert decision.inputs["savings"] == 10_000
    assert decision.inputs["period_start"] == "2026-04-01"
    assert decision.inputs["insured"] is True


def test_not_insured_on_the_period_start_is_refused():
    person = make_insured(moved_in=dt.date(2020, 4, 1), moved_out=dt.date(2026, 3, 15))
    decision = _decide(person, 0)
    assert decision.result == ReductionResult.REFUSED
    assert "被保険者ではありません" in decision.reason


# --- The application --------------------------------------------------------------------------


def test_only_the_statutory_reasons_are_taken(head):
    with pytest.raises(BenefitError, match="特別の理由"):
        _apply(head, 0, reason="debt")
    with pytest.raises(BenefitError, match="その他"):
        _apply(head, 0, reason="other")
    assert _apply(head, 0, reason="other", reason_detail="家族の長期入院").reason == "other"


def test_the_head_applies(head):
    spouse = make_insured(household_no=head.household.household_no, relation="妻")
    with pytest.raises(BenefitError, match="世帯主"):
        _apply(head, 0, applicant=spouse)
    application = _apply(spouse, 0, applicant=head)
    assert application.subject == spouse


def test_the_period_starts_on_the_first_of_the_month(head):
    application = _apply(head, 0, start=dt.date(2026, 4, 17))
    assert application.period_start == APRIL


def test_an_application_is_decided_once_and_audited(head):
    application = _apply(head, 0)
    copay_reduction_decide(application=application, actor=make_staff())
    with pytest.raises(BenefitError, match="決定済み"):
        copay_reduction_decide(application=application, actor=make_staff())
    kinds = list(AuditEvent.objects.values_list("event_type", flat=True))
    assert kinds.count(EventType.COPAY_REDUCTION_APPLICATION) == 1
    assert kinds.count(EventType.COPAY_REDUCTION_DECIDED) == 1


def test_decisions_are_append_only(head):
    decision = _decide(head, 0)
    with pytest.raises(DatabaseError), transaction.atomic():
        CopayReductionDecision.objects.filter(pk=decision.pk).update(rate_percent=50)


# --- Period cap and extension -----------------------------------------------------------------


def test_one_decision_covers_at_most_three_months(head):
    decision = _decide(head, 0, months=6)
    assert (decision.months, decision.period_end) == (3, dt.date(2026, 6, 30))
    assert any("1回の決定で3か月まで" in step for step in decision.explanation)
    short = _decide(head, 0, months=2)
    assert short.period_end == dt.date(2026, 5, 31)


def test_an_extension_decides_the_following_months_on_the_current_income(head):
    first = _decide(head, 0)
    second = copay_reduction_extend(decision=first, monthly_income=120_000, actor=make_staff())
    assert second.extends == first and second.application == first.application
    assert (second.period_start, second.period_end) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert (second.result, second.rate_percent) == (ReductionResult.REDUCTION, 50)
    assert second.certificate_no != first.certificate_no
    assert AuditEvent.objects.filter(event_type=EventType.COPAY_REDUCTION_EXTENDED).count() == 1
    with pytest.raises(BenefitError, match="すでに延長"):
        copay_reduction_extend(decision=first, actor=make_staff())


def test_a_refusal_is_not_extended(head):
    refused = _decide(head, 200_000)
    with pytest.raises(BenefitError, match="不承認"):
        copay_reduction_extend(decision=refused, actor=make_staff())


def test_deferral_never_goes_beyond_six_months_in_all(head):
    first = _decide(head, 100_000, kind="deferral", months=2)
    second = copay_reduction_extend(decision=first, months=3, actor=make_staff())
    third = copay_reduction_extend(decision=second, months=3, actor=make_staff())
    assert [d.months for d in (first, second, third)] == [2, 3, 1]
    assert third.period_end == dt.date(2026, 9, 30)
    assert any("徴収猶予は残り1か月" in step for step in third.explanation)
    fourth = copay_reduction_extend(decision=third, actor=make_staff())
    assert fourth.result == ReductionResult.REFUSED
    assert "通算6か月まで" in fourth.reason


# --- The month's claims -----------------------------------------------------------------------


def test_the_claims_check_finds_a_full_copay_in_an_exempt_month(head):
    _decide(head, 0)
    wrong = make_claim(person=head, service_month=dt.date(2026, 5, 1), points=1000, copay=3000)
    right = make_claim(person=head, service_month=dt.date(2026, 5, 1), points=500, copay=0)
    make_claim(person=head, service_month=dt.date(2026, 7, 1), copay=3000)  # after the period
    check = reduction_claims_check(month=dt.date(2026, 5, 1))
    assert {row.claim_id for row in check.rows} == {wrong.claim_id, right.claim_id}
    [mismatch] = check.mismatches
    assert (mismatch.claim_id, mismatch.claimed_copay, mismatch.allowed_copay) == (
        wrong.claim_id,
        3000,
        0,
    )
    assert reduction_claims_check(month=dt.date(2026, 7, 1)).rows == []


def test_the_claims_check_allows_the_reduced_copay_rounded_to_ten_yen(head):
    _decide(head, 120_000)  # 50%
    # 12,340 yen × 30% = 3,702 → 3,700; × 50% = 1,850.
    right = make_claim(person=head, service_month=APRIL, points=1234, copay=1850)
    wrong = make_claim(person=head, service_month=APRIL, points=1234, copay=3700)
    check = reduction_claims_check(month=APRIL)
    rows = {row.claim_id: row for row in check.rows}
    assert (rows[right.claim_id].usual_copay, rows[right.claim_id].allowed_copay) == (3700, 1850)
    assert [row.claim_id for row in check.mismatches] == [wrong.claim_id]


def test_deferral_and_other_persons_are_not_checked(head):
    _decide(head, 100_000, kind="deferral")
    other = make_insured()
    make_claim(person=head, service_month=APRIL)
    make_claim(person=other, service_month=APRIL)
    assert reduction_claims_check(month=APRIL).rows == []


def test_the_claims_check_takes_a_fixed_number_of_queries():
    def run(count):
        for _ in range(count):
            person = make_insured()
            _decide(person, 0)
            make_claim(person=person, service_month=APRIL)
        with CaptureQueriesContext(connection) as queries:
            check = reduction_claims_check(month=APRIL)
        return len(queries), len(check.mismatches)

    one, found = run(1)
    assert found == 1
    more, found = run(3)
    assert (more, found) == (one, 4)


# --- The PDFs ---------------------------------------------------------------------------------


def _text(pdf):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_certificate_names_the_person_number_kind_rate_and_period(head):
    decision = _decide(head, 120_000)
    data = reduction_certificate_data(decision)
    text = _text(reduction_certificates_pdf([data]))
    assert "一部負担金減額・免除・徴収猶予証明書" in text
    assert "給付 太郎" in text
    assert f"{data.symbol}・{data.number}" in text and data.number
    assert "減額（一部負担金の50%を減額）" in text
    assert "令和8年4月1日から令和8年6月30日まで" in text
    assert decision.certificate_no in text
    assert "みかん市長" in text
    assert head.atena_no not in text


def test_a_refusal_has_no_certificate(head):
    with pytest.raises(BenefitError, match="証明書"):
        reduction_certificate_data(_decide(head, 200_000))


def test_the_notice_carries_the_appeal_instructions(head):
    approved = reduction_notice_data(_decide(head, 0))
    refused = reduction_notice_data(_decide(head, 0, savings=400_000))
    pages = [
        p.extract_text()
        for p in PdfReader(io.BytesIO(reduction_notices_pdf([approved, refused]))).pages
    ]
    assert "一部負担金免除決定通知書" in pages[0]
    assert "免除（一部負担金の全額を免除）" in pages[0]
    assert "一部負担金減額・免除・徴収猶予不承認決定通知書" in pages[-1]
    assert "333,000円 を超えています" in pages[-1]
    for page in (pages[0], pages[-1]):
        assert "【教示】" in page and "愛媛県国民健康保険審査会" in page
    assert "判定の内訳" in pages[0]
    assert "生活保護基準額（1人世帯、2026年4月）111,000円" in pages[0]


def test_nothing_shaped_like_a_my_number_is_printed(head):
    eleven = "12345678901"
    my_number = eleven + str(my_number_check_digit(eleven))
    notice = reduction_notice_data(_decide(head, 0))
    bad = ReductionNotice(**{**notice.__dict__, "subject_name": f"給付 太郎 {my_number}"})
    with pytest.raises(ValueError, match="個人番号"):
        reduction_notices_pdf([bad])
    assert my_number not in _text(reduction_notices_pdf([notice]))


def test_the_ipaex_fonts_are_embedded(head):
    pdf = reduction_certificates_pdf([reduction_certificate_data(_decide(head, 0))])
    fonts = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            for child in font.get_object().get("/DescendantFonts", [font]):
                descriptor = child.get_object().get("/FontDescriptor")
                if descriptor is not None and "/FontFile2" in descriptor.get_object():
                    fonts.add(str(descriptor.get_object()["/FontName"]))
    assert any("IPAexGothic" in name for name in fonts)
    assert any("IPAexMincho" in name for name in fonts)
