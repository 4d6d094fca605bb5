"""The person as the hub (issue 17): what the NHI section has decided and paid for a
resident, read for the 給付 section of the person page.

Three lists, each with its full count and its newest rows (a resident of forty years has a
long tail; the page shows the newest `LIMIT` and says how many there are):
- 高額療養費: the standing decision (the last of its chain: nothing replaces it) of each
  診療月 of the households the person was counted in (`KogakuPersonResult`) or lives in,
  with the computed result it came from;
- 給付の申請 (葬祭費・出産育児一時金・療養費 …) where the person is the subject or the
  applicant, with the standing decision's outcome and amount;
- 支払: the payments made out to the person, with their state.
Each row carries the link to its own screen; those screens link back to the person.
A fixed number of queries, whatever the person's history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef

from kokuho.benefits.lifecycle.models import BenefitApplication, BenefitDecision
from kokuho.benefits.models import KogakuDecision, KogakuPersonResult
from kokuho.payments.models import Benefit, Payment, PaymentStatus
from kokuho.people.models import Household, Person
from kokuho.web.selectors_hub_sections import shown_count

LIMIT = 24


@dataclass(frozen=True)
class KogakuMonth:
    month: dt.date
    household_no: str
    outcome: str
    amount: int
    decided_on: dt.date
    changed: bool  # a 変更決定 stands
    result_id: int | None


@dataclass(frozen=True)
class ApplicationRow:
    application_id: int
    benefit: str
    received_on: dt.date
    status: str
    role: str  # 対象者 / 申請者 on a person's page, the subject's name on a household's
    outcome: str
    amount: int | None


@dataclass(frozen=True)
class PaymentRow:
    payment_id: int
    benefit: str
    amount: int
    decided_on: dt.date
    status: str
    held: bool


@dataclass(frozen=True)
class PersonBenefits:
    kogaku: list[KogakuMonth] = field(default_factory=list)
    kogaku_count: int = 0
    applications: list[ApplicationRow] = field(default_factory=list)
    application_count: int = 0
    payments: list[PaymentRow] = field(default_factory=list)
    payment_count: int = 0

    @property
    def kogaku_more(self) -> bool:
        return self.kogaku_count > len(self.kogaku)

    @property
    def applications_more(self) -> bool:
        return self.application_count > len(self.applications)

    @property
    def payments_more(self) -> bool:
        return self.payment_count > len(self.payments)

    @property
    def empty(self) -> bool:
        return not (self.kogaku_count or self.application_count or self.payment_count)


def _standing(model: Any, link: str) -> Any:
    """The decisions no later decision replaces (`link`: the field that points back)."""
    return model.objects.exclude(Exists(model.objects.filter(**{link: OuterRef("pk")})))


def person_benefits(*, person: Person) -> PersonBenefits:
    households = set(
        KogakuPersonResult.objects.filter(person=person).values_list(
            "result__household_id", flat=True
        )
    ) | {person.household_id}
    applications = BenefitApplication.objects.filter(subject=person) | (
        BenefitApplication.objects.filter(applicant=person)
    )
    return _benefits(
        kogaku=_standing(KogakuDecision, "replaces").filter(household_id__in=sorted(households)),
        applications=applications,
        payments=Payment.objects.filter(person=person),
        role=lambda a: "対象者" if a.subject_id == person.pk else "申請者",
    )


def household_benefits(*, household: Household) -> PersonBenefits:
    """The same for a household: its 高額療養費 months, the applications filed under it, and
    the payments made out to its current members."""
    return _benefits(
        kogaku=_standing(KogakuDecision, "replaces").filter(household=household),
        applications=BenefitApplication.objects.filter(household=household),
        payments=Payment.objects.filter(person__household=household),
        role=lambda a: a.subject.name,
    )


def _benefits(
    *, kogaku: Any, applications: Any, payments: Any, role: Callable[[Any], str]
) -> PersonBenefits:
    decided = list(kogaku.select_related("household").order_by("-month", "-pk")[:LIMIT])
    kogaku_rows = [
        KogakuMonth(d.month, d.household.household_no, d.get_outcome_display(), d.amount,
                    d.decided_on, d.replaces_id is not None, d.result_id)
        for d in decided
    ]  # fmt: skip
    shown = list(applications.select_related("subject").order_by("-received_on", "-pk")[:LIMIT])
    decisions = {
        d.application_id: d
        for d in _standing(BenefitDecision, "changes").filter(application__in=shown)
    }
    application_rows = []
    for a in shown:
        decision = decisions.get(a.pk)
        application_rows.append(
            ApplicationRow(
                a.pk,
                _benefit_label(a.benefit),
                a.received_on,
                a.get_status_display(),
                role(a),
                decision.get_outcome_display() if decision else "",
                decision.amount if decision else None,
            )
        )
    paid = list(payments.order_by("-decided_on", "-pk")[:LIMIT])
    payment_rows = [
        PaymentRow(p.pk, p.get_benefit_display(), p.amount, p.decided_on, p.get_status_display(),
                   p.status in (PaymentStatus.HELD, PaymentStatus.RETURNED))
        for p in paid
    ]  # fmt: skip
    return PersonBenefits(
        kogaku_rows,
        shown_count(kogaku, decided, LIMIT),
        application_rows,
        shown_count(applications, shown, LIMIT),
        payment_rows,
        shown_count(payments, paid, LIMIT),
    )


def _benefit_label(code: str) -> str:
    try:
        return Benefit(code).label
    except ValueError:
        return code
