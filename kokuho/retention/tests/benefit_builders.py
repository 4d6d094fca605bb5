"""Builders for the retention tests of benefit decisions, payments and payee accounts.

Decisions are append-only (an UPDATE is refused), so they are written once with the dates a
test needs (decided years ago, recorded that day). Payments go through the payments
services and the real payment run (全銀 files on disk, the export register); the dates the
services stamp with "now" are then moved back to the day the test means."""

import datetime as dt
import itertools
from pathlib import Path

from kokuho.benefits.gassan.models import CareCostCertificate, GassanResult, GassanRun
from kokuho.benefits.lifecycle.models import (
    ApplicationStatus,
    BenefitApplication,
    BenefitDecision,
)
from kokuho.benefits.lifecycle.models import DecisionKind as LifecycleKind
from kokuho.benefits.models import (
    DecisionKind,
    KogakuApplication,
    KogakuDecision,
    KogakuOutpatientYear,
    RecomputeCause,
)
from kokuho.benefits.reduction.models import (
    CopayReductionApplication,
    CopayReductionDecision,
    ReductionKind,
    ReductionReason,
    ReductionResult,
)
from kokuho.payments.models import AccountSource, Benefit, PayeeAccount, Payment, PaymentRun
from kokuho.payments.run import payment_run
from kokuho.payments.services import AccountInput, payee_account_record, payment_schedule
from kokuho.people.models import Person
from kokuho.retention.tests.builders import at

D = dt.date
_ids = itertools.count(1)
BANK = {
    "bank_code": "0001",
    "branch_code": "001",
    "account_type": 1,
    "account_number": "1234567",
    "holder_kana": "ヤマダ タロウ",
}


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


# --- 高額療養費 chains ---------------------------------------------------------------------


def kogaku_chain(*, person: Person, staff, month: dt.date, decided: list[dt.date]):
    """A 高額療養費 month of `person`'s household: an application, its decision on
    `decided[0]`, and a 変更決定 on each later date (each replacing the one before)."""
    application = KogakuApplication.objects.create(
        household=person.household,
        month=month,
        applicant=person,
        received_on=decided[0],
        recorded_by=staff,
        recorded_at=at(decided[0]),
        **BANK,
    )
    previous = None
    chain = []
    for number, day in enumerate(decided):
        first = previous is None
        previous = KogakuDecision.objects.create(
            household=person.household,
            month=month,
            kind=DecisionKind.APPLICATION if first else DecisionKind.CHANGE,
            application=application if first else None,
            replaces=previous,
            cause="" if first else RecomputeCause.LATE_CLAIM,
            difference=0 if first else 1000,
            amount=50000 + number * 1000,
            decided_on=day,
            decided_by=staff,
            created_at=at(day),
            **BANK,
        )
        chain.append(previous)
    return application, chain


# --- 給付の申請・決定 -------------------------------------------------------------------------


def benefit_application(
    *, person: Person, staff, received: dt.date, decided: list[dt.date], account=None
) -> BenefitApplication:
    """A 葬祭費 application decided on `decided[0]`, changed on each later date."""
    application = BenefitApplication.objects.create(
        benefit=Benefit.SOSAI,
        subject=person,
        household=person.household,
        applicant=person,
        applicant_name=person.name,
        received_on=received,
        event_date=received,
        account=account,
        status=ApplicationStatus.DECIDED if decided else ApplicationStatus.RECEIVED,
        recorded_by=staff,
        recorded_at=at(received),
    )
    previous = None
    for day in decided:
        previous = BenefitDecision.objects.create(
            application=application,
            kind=LifecycleKind.CHANGE if previous else LifecycleKind.INITIAL,
            changes=previous,
            outcome="paid",
            amount=50000,
            difference=0 if previous else 50000,
            reason="",
            inputs={},
            parameters={},
            explanation={},
            decided_on=day,
            decided_by=staff,
            created_at=at(day),
        )
    return application


def reduction_application(
    *, person: Person, staff, received: dt.date, periods: list[tuple[dt.date, dt.date]]
) -> CopayReductionApplication:
    """A 免除 decided for each (first month, last day) in `periods`, each an 延長 of the one
    before, decided on its first month's first day."""
    application = CopayReductionApplication.objects.create(
        household=person.household,
        applicant=person,
        subject=person,
        received_on=received,
        reason=ReductionReason.UNEMPLOYMENT,
        monthly_income=50000,
        savings=0,
        members=1,
        requested_kind=ReductionKind.EXEMPTION,
        period_start=month_start(periods[0][0]),
        months=3,
        recorded_by=staff,
        recorded_at=at(received),
    )
    previous = None
    for start, end in periods:
        previous = CopayReductionDecision.objects.create(
            application=application,
            extends=previous,
            result=ReductionResult.EXEMPTION,
            rate_percent=100,
            period_start=start,
            period_end=end,
            months=3,
            certificate_no=f"R{next(_ids):08d}",
            inputs={},
            parameters={},
            explanation={},
            decided_on=start,
            decided_by=staff,
            created_at=at(start),
        )
    return application


def outpatient_chain(*, person: Person, year: int, decided: list[dt.date]) -> list:
    previous = None
    chain = []
    for day in decided:
        previous = KogakuOutpatientYear.objects.create(
            person=person,
            household=person.household,
            head=person,
            year=year,
            category="ippan",
            total=200000,
            annual_limit=144000,
            benefit=56000 if previous is None else 1000,
            replaces=previous,
            difference=0 if previous is None else 1000,
            decided_on=day,
            created_at=at(day),
        )
        chain.append(previous)
    return chain


def gassan_year(*, person: Person, year: int, run_on: dt.date) -> GassanRun:
    """The 介護 certificate of `person`'s year and a yearly run (on `run_on`) with its result."""
    CareCostCertificate.objects.create(
        certificate_no=f"C{next(_ids):09d}",
        year=year,
        person=person,
        care_insurer_no="389999",
        care_amount=300000,
        file_name="care.csv",
        file_sha256="0" * 64,
        recorded_at=at(run_on),
    )
    run = GassanRun.objects.create(year=year, created_at=at(run_on))
    GassanResult.objects.create(
        run=run,
        household=person.household,
        excess_70_74=0,
        excess=10000,
        paid=True,
        medical_share=6000,
        care_share=4000,
        members=[],
        explanation={},
    )
    return run


# --- payments -----------------------------------------------------------------------------


def account(person: Person, *, recorded: dt.date, number: str = "1234567") -> PayeeAccount:
    """The person's current account, given on `recorded` (the one before is superseded then)."""
    kept = payee_account_record(
        person=person,
        account=AccountInput("0001", "001", 1, number, "ヤマダ タロウ"),
        source=AccountSource.APPLICATION,
        valid_from=recorded,
        actor=None,
    )
    PayeeAccount.objects.filter(pk=kept.pk).update(recorded_at=at(recorded))
    PayeeAccount.objects.filter(person=person, version=kept.version - 1).update(
        superseded_at=at(recorded)
    )
    kept.refresh_from_db()
    return kept


def payment_due(*, person: Person, account: PayeeAccount, decided: dt.date, amount=10000):
    payment = payment_schedule(
        benefit=Benefit.SOSAI,
        source_type="test_decision",
        source_id=next(_ids),
        person=person,
        account=account,
        amount=amount,
        decided_on=decided,
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=at(decided))
    payment.refresh_from_db()
    return payment


def run_on(pay_date: dt.date) -> PaymentRun:
    """The payment run of `pay_date` (a Friday), its file sent on the Monday before."""
    sent = dt.datetime.combine(pay_date - dt.timedelta(days=4), dt.time(10, 0))
    return payment_run(pay_date=pay_date, actor=None, sent_at=sent).run


def run_paths(run: PaymentRun) -> list[Path]:
    return [Path(entry["path"]) for entry in [*run.files, *run.prints]]
