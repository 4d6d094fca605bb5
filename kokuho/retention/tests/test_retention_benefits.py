"""Benefit decisions in the retention job (`benefits.decision.5y_after_fiscal_year`): every
kind of decision record is kept through 3/31 five years after the fiscal year of its chain's
last decision and erased on 4/1; a chain goes whole or not at all; a pending 開示等請求
holds; the plan counts what the run erases; a second run erases nothing; a changed period
applies from the date of its value."""

import shutil
from pathlib import Path

import pytest

from kokuho.accounts.permissions import Role
from kokuho.benefits.gassan.models import CareCostCertificate, GassanResult, GassanRun
from kokuho.benefits.lifecycle.models import BenefitApplication, BenefitDecision
from kokuho.benefits.models import KogakuApplication, KogakuDecision, KogakuOutpatientYear
from kokuho.benefits.reduction.models import CopayReductionApplication, CopayReductionDecision
from kokuho.retention import rules
from kokuho.retention.models import DataClass, DeletionRecord
from kokuho.retention.selectors import retention_plan
from kokuho.retention.services import retention_run
from kokuho.retention.tests import benefit_builders as b
from kokuho.rules.params import PARAMETER_DIR, load_parameters
from kokuho.subject_requests.models import RequesterKind, RequestKind
from kokuho.subject_requests.services import subject_request_receive
from kokuho.testing import make_person, make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

D = b.D
LAST_KEPT = D(2026, 3, 31)  # FY2020 ended 2021-03-31: kept five years, through 2026-03-31
ERASED_ON = D(2026, 4, 1)
FY2020 = D(2020, 10, 15)
FY2021 = D(2021, 4, 15)
CLASS = DataClass.BENEFIT_DECISIONS


@pytest.fixture
def staff():
    return make_staff(role=Role.BENEFITS)


def _kogaku(person, staff, decided):
    application, chain = b.kogaku_chain(
        person=person, staff=staff, month=D(2019, 3, 1), decided=decided
    )
    return [(KogakuApplication, [application.pk]), (KogakuDecision, [d.pk for d in chain])]


def _application(person, staff, decided):
    application = b.benefit_application(
        person=person, staff=staff, received=D(2020, 7, 1), decided=decided
    )
    decisions = list(application.decisions.values_list("pk", flat=True))
    return [(BenefitApplication, [application.pk]), (BenefitDecision, decisions)]


def _reduction(person, staff, decided):
    periods = [(b.month_start(day), b.month_start(day).replace(day=28)) for day in decided]
    application = b.reduction_application(
        person=person, staff=staff, received=D(2020, 6, 20), periods=periods
    )
    decisions = list(application.decisions.values_list("pk", flat=True))
    return [(CopayReductionApplication, [application.pk]), (CopayReductionDecision, decisions)]


def _outpatient(person, staff, decided):
    chain = b.outpatient_chain(person=person, year=2019, decided=decided)
    return [(KogakuOutpatientYear, [row.pk for row in chain])]


KINDS = {
    "kogaku": _kogaku,
    "application": _application,
    "reduction": _reduction,
    "outpatient": _outpatient,
}


def _exist(rows) -> list[bool]:
    return [model.objects.filter(pk__in=ids).count() == len(ids) for model, ids in rows]


def _gone(rows) -> bool:
    return all(not model.objects.filter(pk__in=ids).exists() for model, ids in rows)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_kept_through_the_last_day_and_erased_the_next(kind, staff):
    rows = KINDS[kind](make_person(), staff, [D(2020, 8, 1), FY2020.replace(day=1)])

    kept = retention_run(as_of=LAST_KEPT)
    assert kept.counts[CLASS] == 0
    assert all(_exist(rows))

    gone = retention_run(as_of=ERASED_ON)
    assert gone.counts[CLASS] == 1
    assert _gone(rows)


def test_a_yearly_gassan_run_goes_with_its_results_and_the_certificates_of_its_year():
    person = make_person()
    run = b.gassan_year(person=person, year=2019, run_on=D(2020, 9, 1))
    younger = b.gassan_year(person=make_person(), year=2020, run_on=D(2021, 9, 1))

    assert retention_run(as_of=LAST_KEPT).counts[CLASS] == 0
    erased = retention_run(as_of=ERASED_ON)

    assert erased.counts[CLASS] == 2  # the run's result and the certificate of 2019
    assert not GassanRun.objects.filter(pk=run.pk).exists()
    assert list(GassanResult.objects.values_list("run", flat=True)) == [younger.pk]
    assert list(CareCostCertificate.objects.values_list("year", flat=True)) == [2020]


@pytest.mark.parametrize("kind", KINDS)
def test_a_chain_whose_last_change_is_younger_is_kept_whole(kind, staff):
    """The first decision is years past; the change of FY2021 keeps the whole chain (and
    the application) — and a chain all past beside it goes whole."""
    kept = KINDS[kind](make_person(), staff, [D(2019, 6, 1), FY2021.replace(day=1)])
    erased = KINDS[kind](make_person(), staff, [D(2019, 6, 1), D(2020, 6, 1)])

    run = retention_run(as_of=ERASED_ON)

    assert run.counts[CLASS] == 1
    assert all(_exist(kept))
    assert _gone(erased)


def test_an_undecided_application_is_never_erased(staff):
    person = make_person()
    received = b.benefit_application(person=person, staff=staff, received=D(2015, 4, 1), decided=[])
    assert retention_run(as_of=ERASED_ON).counts[CLASS] == 0
    assert BenefitApplication.objects.filter(pk=received.pk).exists()


def test_a_pending_disclosure_request_holds_every_kind(staff):
    person = make_person()
    rows = [row for build in KINDS.values() for row in build(person, staff, [FY2020])]
    b.gassan_year(person=person, year=2019, run_on=FY2020)
    subject_request_receive(
        kind=RequestKind.DISCLOSURE,
        atena_no=person.atena_no,
        received_on=D(2026, 3, 20),
        requester=RequesterKind.SELF,
        identity_documents="マイナンバーカード",
        details="国民健康保険に関して保有する自己の情報の全部",
        actor=make_staff(role=Role.ELIGIBILITY),
    )

    plan = retention_plan(as_of=ERASED_ON)
    run = retention_run(as_of=ERASED_ON)

    assert plan.count(CLASS) == run.counts[CLASS] == 0
    assert all(_exist(rows))
    assert GassanResult.objects.count() == CareCostCertificate.objects.count() == 1


def test_the_plan_counts_what_the_run_erases_in_chunks_and_a_second_run_erases_nothing(staff):
    for build in KINDS.values():
        for _ in range(2):
            build(make_person(), staff, [FY2020])
    b.gassan_year(person=make_person(), year=2019, run_on=FY2020)
    KINDS["kogaku"](make_person(), staff, [FY2021])  # younger: kept

    plan = retention_plan(as_of=ERASED_ON)
    run = retention_run(as_of=ERASED_ON, chunk=1)

    assert plan.count(CLASS) == run.counts[CLASS] == 10
    records = DeletionRecord.objects.filter(run=run, data_class=CLASS)
    assert sum(r.count for r in records) == 10
    # One unit per chunk, plus the empty yearly run that follows its result.
    assert sorted(r.count for r in records) == [0] + [1] * 10
    first = records.filter(tables__has_key="benefits.KogakuDecision").first()
    assert first.rule == "benefits.decision.5y_after_fiscal_year"
    assert first.cutoff == D(2021, 4, 1)
    assert first.tables == {"benefits.KogakuApplication": 1, "benefits.KogakuDecision": 1}
    assert sum(r.tables.get("benefits.BenefitDecision", 0) for r in records) == 2
    assert retention_plan(as_of=ERASED_ON).count(CLASS) == 0
    assert retention_run(as_of=ERASED_ON).counts[CLASS] == 0
    assert KogakuDecision.objects.count() == 1


def _parameters_with(tmp_path: Path, name: str, values: str):
    """The installation's parameters with `retention.<name>` given other dated values."""
    root = tmp_path / "parameters"
    shutil.copytree(PARAMETER_DIR, root)
    path = root / "retention" / f"{name}.yaml"
    text = path.read_text(encoding="utf-8").split("values:")[0]
    path.write_text(text + "values:\n" + values, encoding="utf-8")
    return load_parameters(root)


def test_a_longer_period_applies_from_the_date_of_its_value(tmp_path, monkeypatch, staff):
    """The city lengthens the period to 6 years from 2026-07-01: on 2026-06-30 a FY2020
    decision is past (5 years), from 2026-07-01 it is kept (6 years) — the rule cites it."""
    changed = _parameters_with(
        tmp_path,
        "benefit_decision_years",
        "  1947-05-03: {value: 5, reference: 試験}\n  2026-07-01: {value: 6, reference: 試験}\n",
    )
    monkeypatch.setattr(rules, "parameters", lambda: changed)
    KINDS["application"](make_person(), staff, [FY2020])

    before = retention_plan(as_of=D(2026, 6, 30))
    after = retention_plan(as_of=D(2026, 7, 1))
    assert before.count(CLASS) == 1
    assert after.count(CLASS) == 0
    rule = next(c.rule for c in after.classes if c.rule.data_class == CLASS)
    assert rule.name == "benefits.decision.6y_after_fiscal_year"
    assert retention_run(as_of=D(2026, 7, 1)).counts[CLASS] == 0
    assert retention_run(as_of=D(2026, 6, 30)).counts[CLASS] == 1


def test_a_kogaku_result_goes_with_its_claims_only_once_its_decisions_are_gone(staff):
    """Through the real monthly run and decision: the 2020-06 month decided in FY2020 goes
    whole (decision, application, result, claims); the 2021-03 month decided in FY2021
    loses its claims (claims rule) but keeps its result, which its decision rests on."""
    from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
    from kokuho.benefits.kogaku.workflow import (
        AccountIn,
        kogaku_application_register,
        kogaku_decide,
    )
    from kokuho.benefits.models import Claim, KogakuResult
    from kokuho.retention.tests.builders import arrive
    from kokuho.testing import make_claim

    person = arrive(moved_in=D(2015, 4, 1))
    for month, decided in ((D(2020, 6, 1), D(2020, 9, 1)), (D(2021, 3, 1), D(2021, 5, 10))):
        make_claim(
            person=person,
            service_month=month,
            provider="3810000011",
            setting=1,
            points=100000,
            copay=300000,
        )
        kogaku_run_execute(run_id=kogaku_run_create(month=month, actor=None).pk)
        application = kogaku_application_register(
            household=person.household,
            month=month,
            applicant=person,
            received_on=decided,
            account=AccountIn("0001", "001", 1, "1234567", "キュウフ タロウ"),
            simplify=False,
            actor=staff,
        )
        kogaku_decide(application=application, actor=staff, decided_on=decided)

    run = retention_run(as_of=ERASED_ON)

    assert run.counts[CLASS] == 1
    assert run.counts[DataClass.CLAIMS] == 2
    assert set(KogakuDecision.objects.values_list("month", flat=True)) == {D(2021, 3, 1)}
    assert set(KogakuApplication.objects.values_list("month", flat=True)) == {D(2021, 3, 1)}
    assert set(KogakuResult.objects.values_list("month", flat=True)) == {D(2021, 3, 1)}
    assert not Claim.objects.exists()
