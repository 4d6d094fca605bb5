"""The yearly 高額介護合算 run: the 介護 side's certificates, each member's 医療 amount from the
year's claims after 高額療養費, and the same engine as `kokuho gassan calc`.

Households have no income records, so their 所得区分 is ア (under 70, 所得未申告) and 一般
(70–74, 所得未申告) on the 基準日 2026-07-31 of the year 2025."""

import datetime as dt

import pytest

from kokuho.benefits.gassan.engine import HouseholdYear, MemberYear, gassan_compute, year_rules
from kokuho.benefits.gassan.models import CareCostCertificate, GassanResult
from kokuho.benefits.gassan.yearly import (
    CertificateFileError,
    care_certificates_import,
    gassan_year_run,
    medical_year,
)
from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
from kokuho.benefits.models import KogakuPersonResult
from kokuho.testing import make_claim, make_insured

pytestmark = pytest.mark.django_db

HEADER = "証明書番号,宛名番号,生年月日,計算期間開始年,介護保険者番号,介護自己負担額"
SEPT = dt.date(2025, 9, 1)


@pytest.fixture
def household():
    """A (66, under 70) and B (72) in one household, insured since 2020."""
    a = make_insured(birth_date=dt.date(1960, 5, 1))
    b = make_insured(
        birth_date=dt.date(1954, 1, 10), household_no=a.household.household_no, relation="妻"
    )
    return a, b


def _certificates(tmp_path, *lines, name="care.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    return path


def _line(person, amount, cert="C0001", year=2025):
    return f"{cert},{person.atena_no},{person.birth_date},{year},389998,{amount}"


def test_certificates_are_kept_once_and_a_changed_resend_is_refused(household, tmp_path):
    _, b = household
    path = _certificates(tmp_path, _line(b, 600000))
    assert care_certificates_import(path=path).kept == 1
    again = care_certificates_import(path=path)
    assert (again.kept, again.already) == (0, 1)
    changed = _certificates(tmp_path, _line(b, 610000), name="changed.csv")
    with pytest.raises(CertificateFileError, match="内容の異なるもの"):
        care_certificates_import(path=changed)
    assert CareCostCertificate.objects.get().care_amount == 600000


@pytest.mark.parametrize(
    "line, message",
    [
        ("C1,{atena},1954-01-11,2025,389998,1000", "住民（生年月日 1954-01-11）がいません"),
        ("C1,{atena},1954-01-32,2025,389998,1000", "生年月日"),  # the layout reader's dates
        ("C1,{atena},1954-01-10,25,389998,1000", "計算期間開始年"),
        ("C1,{atena},1954-01-10,2025,3899,1000", "介護保険者番号"),
        ("C1,{atena},1954-01-10,2025,389998,-5", "介護自己負担額"),
        ("C1,{atena},1954-01-10,2025", "列の数が見出しと合いません"),
    ],
)
def test_a_bad_line_refuses_the_file_naming_line_and_field(household, tmp_path, line, message):
    _, b = household
    path = _certificates(tmp_path, _line(b, 1000, cert="OK1"), line.format(atena=b.atena_no))
    with pytest.raises(CertificateFileError, match=message) as error:
        care_certificates_import(path=path)
    assert "3行目" in str(error.value)
    assert not CareCostCertificate.objects.exists()


def test_the_medical_year_counts_units_as_kogaku_does(household):
    """A (under 70): a 25,000 unit counts, a 10,000 unit does not; B (70–74): 5,000 + 8,000
    both count; a claim of 2025-07 (before the period) never."""
    a, b = household
    make_claim(person=a, service_month=SEPT, provider="3810000011", points=9000, copay=25000)
    make_claim(person=a, service_month=SEPT, provider="3810000022", points=4000, copay=10000)
    make_claim(person=b, service_month=SEPT, provider="3810000011", points=2500, copay=5000)
    make_claim(person=b, service_month=dt.date(2026, 7, 1), points=4000, copay=8000)
    make_claim(person=b, service_month=dt.date(2025, 7, 1), points=4000, copay=8000)
    assert medical_year(persons=[a, b], year=2025) == {a.pk: 25000, b.pk: 13000}


def test_the_months_kogaku_benefit_is_taken_off(household):
    a, _ = household
    make_claim(
        person=a, service_month=SEPT, setting=1, provider="3810000011", points=100000, copay=300000
    )
    kogaku_run_execute(run_id=kogaku_run_create(month=SEPT, actor=None).pk)
    paid = KogakuPersonResult.objects.get(person=a).benefit
    assert paid > 0
    assert medical_year(persons=[a], year=2025)[a.pk] == 300000 - paid


def test_the_run_computes_the_household_as_the_calc_does(household, tmp_path):
    """70–74 step: B 13,000 + 600,000 − 一般 560,000 = 53,000; household step: 25,000 +
    613,000 − 53,000 = 585,000 under ア 2,120,000 → 0. Excess 53,000, paid."""
    a, b = household
    make_claim(person=a, service_month=SEPT, provider="3810000011", points=9000, copay=25000)
    make_claim(person=b, service_month=SEPT, provider="3810000011", points=2500, copay=5000)
    make_claim(person=b, service_month=dt.date(2026, 7, 1), points=4000, copay=8000)
    care_certificates_import(path=_certificates(tmp_path, _line(b, 600000)))
    run = gassan_year_run(year=2025)
    result = GassanResult.objects.get(run=run)
    assert (result.excess_70_74, result.excess, result.paid) == (53000, 53000, True)
    assert result.medical_share + result.care_share == 53000
    expected = gassan_compute(
        HouseholdYear(
            2025,
            "a",
            "general",
            (
                MemberYear(a.atena_no, a.birth_date, 25000, 0),
                MemberYear(b.atena_no, b.birth_date, 13000, 600000),
            ),
        ),
        year_rules(2025),
    )
    assert (result.medical_share, result.care_share) == (
        expected.medical_share,
        expected.care_share,
    )
    assert run.counts["paid"] == 1


def test_a_household_with_care_but_no_medical_cost_is_not_computed(household, tmp_path):
    _, b = household
    care_certificates_import(path=_certificates(tmp_path, _line(b, 900000)))
    run = gassan_year_run(year=2025)
    assert run.counts["one_side_only"] == 1 and not GassanResult.objects.exists()


def test_a_paid_household_applies_and_is_paid_the_medical_share(household, tmp_path, settings):
    from kokuho.benefits.gassan.yearly import gassan_application_register
    from kokuho.benefits.lifecycle.services import benefit_decide
    from kokuho.payments.models import Benefit, Payment
    from kokuho.payments.services import AccountInput
    from kokuho.testing import make_staff

    a, b = household
    make_claim(person=a, service_month=SEPT, provider="3810000011", points=9000, copay=25000)
    make_claim(person=b, service_month=SEPT, provider="3810000011", points=2500, copay=5000)
    make_claim(person=b, service_month=dt.date(2026, 7, 1), points=4000, copay=8000)
    care_certificates_import(path=_certificates(tmp_path, _line(b, 600000)))
    result = GassanResult.objects.get(run=gassan_year_run(year=2025))
    staff = make_staff()
    application = gassan_application_register(
        result=result,
        received_on=dt.date(2026, 12, 1),
        account=AccountInput("0001", "001", 1, "1234567", "キュウフ タロウ"),
        attachments={"care_certificate": True},
        actor=staff,
    )
    decision = benefit_decide(application=application, actor=staff)
    assert (decision.outcome, decision.amount) == ("paid", result.medical_share)
    payment = Payment.objects.get()
    assert (payment.benefit, payment.amount) == (Benefit.GASSAN, result.medical_share)
    # A second application for the same household and year is refused: it would pay twice.
    from kokuho.benefits.lifecycle.services import BenefitError

    with pytest.raises(BenefitError, match="申請済み"):
        gassan_application_register(
            result=result,
            received_on=dt.date(2026, 12, 2),
            account=AccountInput("0001", "001", 1, "1234567", "キュウフ タロウ"),
            attachments={"care_certificate": True},
            actor=staff,
        )


def test_a_household_under_the_500_yen_rule_is_refused(household, tmp_path):
    from kokuho.benefits.gassan.yearly import gassan_application_register
    from kokuho.benefits.lifecycle.services import benefit_decide
    from kokuho.testing import make_staff

    _, b = household
    make_claim(person=b, service_month=SEPT, provider="3810000011", points=2500, copay=5000)
    care_certificates_import(path=_certificates(tmp_path, _line(b, 555400)))  # 560,400: 400 over
    result = GassanResult.objects.get(run=gassan_year_run(year=2025))
    assert (result.excess, result.paid) == (400, False)
    staff = make_staff()
    application = gassan_application_register(
        result=result,
        received_on=dt.date(2026, 12, 1),
        account=None,
        attachments={"care_certificate": True},
        actor=staff,
    )
    decision = benefit_decide(application=application, actor=staff)
    assert decision.outcome == "refused" and "500円" in decision.reason
