"""Claims in the retention job (保管・消去): `claims.receipt.5y_after_service_month` erases
the claims whose 診療年月 began before the cutoff, with a deletion record, and keeps the
rest; a claim keeps the person (and the 記号・番号) it refers to until it goes itself."""

import pytest

from kokuho.accounts.permissions import Role
from kokuho.benefits.models import Claim
from kokuho.people.models import Household, Person
from kokuho.retention.models import DataClass, DeletionRecord
from kokuho.retention.selectors import retention_plan
from kokuho.retention.services import retention_run
from kokuho.retention.tests.builders import D, arrive, depart
from kokuho.subject_requests.models import RequesterKind, RequestKind
from kokuho.subject_requests.services import subject_request_receive
from kokuho.testing import make_claim, make_staff

pytestmark = pytest.mark.django_db(databases=["default", "vault"])

AS_OF = D(2026, 3, 1)  # claims cutoff: 2021-03-01 (5 years); records cutoff: 2016-03-01


@pytest.fixture(autouse=True)
def private_paths(tmp_path, settings):
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"
    settings.KOKUHO_UPLOAD_DIR = tmp_path / "uploads"
    settings.KOKUHO_UPLOAD_DIR.mkdir()


def test_claims_older_than_the_cutoff_are_erased_and_newer_kept():
    person = arrive(moved_in=D(2015, 4, 1))
    old = [make_claim(person=person, service_month=D(2021, m, 1)) for m in (1, 2)]
    unmatched_old = make_claim(service_month=D(2020, 12, 1))
    kept = make_claim(person=person, service_month=D(2021, 3, 1))
    newest = make_claim(person=person, service_month=D(2026, 1, 1))
    assert retention_plan(as_of=AS_OF).count(DataClass.CLAIMS) == 3

    run = retention_run(as_of=AS_OF, chunk=2)

    assert run.counts[DataClass.CLAIMS] == 3
    remaining = set(Claim.objects.values_list("claim_id", flat=True))
    assert remaining == {kept.claim_id, newest.claim_id}
    assert not {c.claim_id for c in [*old, unmatched_old]} & remaining
    records = DeletionRecord.objects.filter(run=run, data_class=DataClass.CLAIMS)
    assert [r.count for r in records.order_by("pk")] == [2, 1]  # one record per chunk
    assert {r.rule for r in records} == {"claims.receipt.5y_after_service_month"}
    assert {r.cutoff for r in records} == {D(2021, 3, 1)}
    assert sum(r.tables["benefits.Claim"] for r in records) == 3
    # A second run finds nothing more.
    again = retention_run(as_of=AS_OF)
    assert again.counts[DataClass.CLAIMS] == 0
    assert Claim.objects.count() == 2


def test_a_pending_disclosure_request_holds_the_persons_claims():
    person = arrive(moved_in=D(2015, 4, 1))
    held = make_claim(person=person, service_month=D(2020, 6, 1))
    other = make_claim(person=arrive(moved_in=D(2015, 4, 1)), service_month=D(2020, 6, 1))
    subject_request_receive(
        kind=RequestKind.DISCLOSURE,
        atena_no=person.atena_no,
        received_on=D(2026, 2, 20),
        requester=RequesterKind.SELF,
        identity_documents="マイナンバーカード",
        details="国民健康保険に関して保有する自己の情報の全部",
        actor=make_staff(role=Role.ELIGIBILITY),
    )

    run = retention_run(as_of=AS_OF)

    assert run.counts[DataClass.CLAIMS] == 1
    assert list(Claim.objects.values_list("pk", flat=True)) == [held.pk]
    assert not Claim.objects.filter(pk=other.pk).exists()


def test_a_claim_keeps_its_person_and_the_household_whose_number_it_quotes():
    # Three former residents whose records are past the 10-year rule.
    with_claim = depart(arrive(moved_in=D(2009, 4, 1)), on=D(2012, 4, 1))
    number_quoted = depart(arrive(moved_in=D(2009, 4, 1)), on=D(2012, 4, 1))
    nothing = depart(arrive(moved_in=D(2009, 4, 1)), on=D(2012, 4, 1))
    make_claim(person=with_claim, service_month=D(2022, 5, 1))
    # 資格喪失後受診 years later, on the old card with a 枝番 nobody holds: 番号不明, but it
    # names the household's 記号・番号.
    number = number_quoted.household.nhi_number
    make_claim(service_month=D(2022, 5, 1), household_number=number, branch="09")

    plan = retention_plan(as_of=AS_OF)
    run = retention_run(as_of=AS_OF)

    assert plan.count(DataClass.RECORDS) == 1
    assert run.counts[DataClass.RECORDS] == 1
    assert not Person.objects.filter(pk=nothing.pk).exists()
    assert Person.objects.filter(pk=with_claim.pk).exists()
    assert Person.objects.filter(pk=number_quoted.pk).exists()
    assert Household.objects.filter(pk=number_quoted.household_id).exists()
    assert Claim.objects.count() == 2


def test_kogaku_decisions_outlive_their_claims_and_take_their_results_with_them():
    """A 2021-01 month decided 2021-02 (fiscal 2020) and a 2021-03 month decided 2021-04
    (fiscal 2021). On 2026-03-01 the claims of 2021-01 go (5 years after the 診療月) but its
    decision stays, with the result it rests on, until 5 years after its fiscal year (the
    返還 claim of a 変更決定 lives 5 years, decision 253); on 2026-04-01 that decision goes,
    and its result with it. 2021-03 stays whole."""
    import datetime as dt

    from kokuho.benefits.kogaku.run import kogaku_run_create, kogaku_run_execute
    from kokuho.benefits.kogaku.workflow import (
        AccountIn,
        kogaku_application_register,
        kogaku_decide,
    )
    from kokuho.benefits.models import KogakuApplication, KogakuDecision, KogakuResult

    person = arrive(moved_in=D(2015, 4, 1))
    staff = make_staff(role=Role.BENEFITS)
    for month in (D(2021, 1, 1), D(2021, 3, 1)):
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
            received_on=month + dt.timedelta(days=35),
            account=AccountIn("0001", "001", 1, "1234567", "キュウフ タロウ"),
            simplify=False,
            actor=staff,
        )
        kogaku_decide(
            application=application, actor=staff, decided_on=month + dt.timedelta(days=40)
        )

    retention_run(as_of=AS_OF)

    assert set(Claim.objects.values_list("service_month", flat=True)) == {D(2021, 3, 1)}
    months = {D(2021, 1, 1), D(2021, 3, 1)}
    assert set(KogakuDecision.objects.values_list("month", flat=True)) == months
    assert set(KogakuResult.objects.values_list("month", flat=True)) == months

    run = retention_run(as_of=D(2026, 4, 1))

    assert set(KogakuResult.objects.values_list("month", flat=True)) == {D(2021, 3, 1)}
    assert set(KogakuDecision.objects.values_list("month", flat=True)) == {D(2021, 3, 1)}
    assert set(KogakuApplication.objects.values_list("month", flat=True)) == {D(2021, 3, 1)}
    tables = {t for r in DeletionRecord.objects.filter(run=run) for t in r.tables}
    assert {"benefits.KogakuDecision", "benefits.KogakuResult"} <= tables
