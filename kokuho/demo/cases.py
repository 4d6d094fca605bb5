"""The demo's 調査・求償の案件: a few residents whose 社保加入 is reported late, after the
month's claims were paid — recorded through the real entry point (`event_apply`, as the
counter records a 届出), which opens their 資格喪失後受診 cases at once; the 給付担当 then
claims one back (返還金の納入通知), records a first payment on it, and takes the consent to
保険者間調整 on another. They hold a 資格確認書, which the loss asks back (the next daily
job's 返還のお願い). A second demo finds its cases made and changes nothing."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from kokuho.benefits.models import Claim, ClaimMatch
from kokuho.cases.models import CaseKind, InvestigationCase
from kokuho.cases.services import adjustment_consent_record, receipt_record, refund_claim_issue
from kokuho.certificates.models import DocumentStatus, DocumentType, IssuedDocument
from kokuho.eligibility.events import ChangeEvent, ChangeType, event_apply
from kokuho.eligibility.services import EligibilityError
from kokuho.people.models import Person

LATE_JOINS = 3


def demo_cases_make(*, month: dt.date, today: dt.date, seed: int, clerk: Any) -> list[int]:
    """The cases (ids) of the demo: made once, for persons with claims of `month`."""
    made = list(
        InvestigationCase.objects.filter(kind=CaseKind.AFTER_LOSS)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if made:
        return made
    # Holders of a 資格確認書: the loss also asks the card back (the next daily job's
    # 返還のお願い), as it would for a resident who joined an employer's insurance.
    cards = IssuedDocument.objects.filter(
        person=OuterRef("person_id"),
        doc_type=DocumentType.KAKUNINSHO,
        status=DocumentStatus.VALID,
    )
    candidates = list(
        Claim.objects.filter(service_month=month, match=ClaimMatch.MATCHED)
        .filter(Exists(cards))
        .order_by("person_id")
        .values_list("person_id", flat=True)
        .distinct()[:200]
    )
    chosen = random.Random(seed).sample(candidates, min(LATE_JOINS, len(candidates)))
    joined = month - dt.timedelta(days=1)  # insured through the day before the month
    at = timezone.now()
    for person in Person.objects.filter(pk__in=sorted(chosen)).order_by("pk"):
        try:
            event_apply(
                ChangeEvent(ChangeType.EMPLOYEE_INSURANCE_JOIN, joined, today, person.atena_no),
                recorded_at=max(at, timezone.now()),
                actor=clerk,
            )
        except EligibilityError:
            continue  # a resident the registry month changed meanwhile: another one will do
    cases = list(InvestigationCase.objects.filter(kind=CaseKind.AFTER_LOSS).order_by("pk"))
    if cases:
        first = refund_claim_issue(
            case_id=cases[0].pk,
            issued_on=today,
            due_on=today + dt.timedelta(days=30),
            actor=clerk,
        )
        receipt_record(
            case_id=first.pk,
            amount_yen=max(1, first.claimed_yen // 3),
            received_on=today,
            actor=clerk,
            note="窓口で一部納付",
        )
    if len(cases) > 1:
        adjustment_consent_record(
            case_id=cases[1].pk, new_insurer_no="06139999", consented_on=today, actor=clerk
        )
    return [case.pk for case in cases]
