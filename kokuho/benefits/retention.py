"""The claims (レセプト) side of the retention job: `ClaimsSource` of `retention.rules`.

The job (`retention.services._claims_erase`) counts the claims whose 診療年月 began before
the cutoff and has them erased here a chunk at a time; it writes the deletion record (消去記録)
after each chunk this module has committed. Nothing refers to a claim, so a claim goes
alone; once a person's claims are gone, the records rule may erase the person. As for the
records rule, a pending 開示等請求 of the person holds their claims (decision 63).

A 高額療養費 decision (and its chain of 変更決定) is a decision record, kept by the decisions
rule (`benefits.retention_benefits`), which the job runs before this one: a result that a
decision still rests on stays until its decision goes, and goes with the claims of its month
in the first run after that.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from kokuho.benefits.models import (
    Claim,
    KogakuApplication,
    KogakuCarriedMonth,
    KogakuDecision,
    KogakuInvitation,
    KogakuPersonResult,
    KogakuResult,
    KogakuSimplification,
)
from kokuho.people.models import Person
from kokuho.subject_requests.models import RequestStatus, SubjectRequest


def _due(cutoff: dt.date) -> QuerySet[Claim]:
    pending = SubjectRequest.objects.filter(
        status=RequestStatus.RECEIVED, atena_no=OuterRef("person__atena_no")
    )
    return Claim.objects.filter(service_month__lt=cutoff).exclude(Exists(pending))


def claims_count(*, cutoff: dt.date) -> int:
    """Claims whose month of service began before `cutoff` (what `claims_erase` erases)."""
    return _due(cutoff).count()


def _results_due(cutoff: dt.date) -> QuerySet[KogakuResult]:
    """高額療養費 results of the same months: computed from the claims, kept as long."""
    pending = SubjectRequest.objects.filter(
        status=RequestStatus.RECEIVED, atena_no=OuterRef("person__atena_no")
    )
    held = KogakuPersonResult.objects.filter(result=OuterRef("pk")).filter(Exists(pending))
    decided = KogakuDecision.objects.filter(result=OuterRef("pk"))
    return (
        KogakuResult.objects.filter(month__lt=cutoff).exclude(Exists(held)).exclude(Exists(decided))
    )


def _results_erase(ids: list[int]) -> Counter[str]:
    """Results with what rests on them (no decision does: see `_results_due`): invitations
    first, then the undecided applications of the same household and month, then the
    results (their shares cascade)."""
    removed: Counter[str] = Counter()
    results = KogakuResult.objects.filter(pk__in=ids)
    months = list(results.values_list("household_id", "month"))
    removed.update(KogakuInvitation.objects.filter(result__in=ids).delete()[1])
    for household_id, month in months:
        removed.update(
            KogakuApplication.objects.filter(
                household_id=household_id, month=month, decision__isnull=True
            ).delete()[1]
        )
    removed.update(results.delete()[1])
    return removed


def _carried_due(cutoff: dt.date) -> QuerySet[KogakuCarriedMonth]:
    """高額該当の引継ぎ of the same months (standing or withdrawn): they count for 多数回
    with the results of their month and are kept as long. A pending 開示等請求 of a member of
    the household holds them, as it holds the household's results."""
    pending = SubjectRequest.objects.filter(
        status=RequestStatus.RECEIVED, atena_no=OuterRef("atena_no")
    )
    held = Person.objects.filter(household=OuterRef("household")).filter(Exists(pending))
    return KogakuCarriedMonth.objects.filter(month__lt=cutoff).exclude(Exists(held))


def _workflow_leftovers_erase(cutoff: dt.date) -> Counter[str]:
    """Applications of months past retention that were never computed, 申請簡素化
    consents withdrawn before the cutoff that nothing refers to any more, and the months
    carried over from a former city (高額該当の引継ぎ) past retention."""
    removed: Counter[str] = Counter()
    removed.update(_carried_due(cutoff).delete()[1])
    held = KogakuResult.objects.filter(household=OuterRef("household"), month=OuterRef("month"))
    removed.update(
        KogakuApplication.objects.filter(month__lt=cutoff, decision__isnull=True)
        .exclude(Exists(held))
        .delete()[1]
    )
    referenced = KogakuApplication.objects.filter(simplification=OuterRef("pk"))
    decided = KogakuDecision.objects.filter(simplification=OuterRef("pk"))
    removed.update(
        KogakuSimplification.objects.filter(withdrawn_on__lt=cutoff)
        .exclude(Exists(referenced))
        .exclude(Exists(decided))
        .delete()[1]
    )
    return removed


def claims_erase(*, cutoff: dt.date, chunk: int) -> Iterator[tuple[int, dict[str, int]]]:
    """Erase the claims past retention, oldest first, at most `chunk` per transaction; after
    each commit yield the claims erased and the rows removed per table. The 高額療養費
    results of those months go with them, and the months carried over from a former city
    (高額該当の引継ぎ) (counted as rows, not as claims)."""
    while True:
        with transaction.atomic():
            ids = list(
                _results_due(cutoff).order_by("month", "pk").values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                break
            per_model = _results_erase(ids)
        yield 0, {label: n for label, n in per_model.items() if n}
    with transaction.atomic():
        per_model = _workflow_leftovers_erase(cutoff)
    if any(per_model.values()):
        yield 0, {label: n for label, n in per_model.items() if n}
    while True:
        with transaction.atomic():
            ids = list(
                _due(cutoff).order_by("service_month", "pk").values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                return
            erased, per_model = _due(cutoff).filter(pk__in=ids).delete()
        yield erased, {label: n for label, n in per_model.items() if n}
