"""The claims (レセプト) side of the retention job: `ClaimsSource` of `retention.rules`.

The job (`retention.services._claims_erase`) counts the claims whose 診療年月 began before
the cutoff and has them erased here a chunk at a time; it writes the deletion record (消去記録)
after each chunk this module has committed. Nothing refers to a claim, so a claim goes
alone; once a person's claims are gone, the records rule may erase the person. As for the
records rule, a pending 開示等請求 of the person holds their claims (decision 63).
"""

import datetime as dt
from collections.abc import Iterator

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from kokuho.benefits.models import Claim, KogakuPersonResult, KogakuResult
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
    return KogakuResult.objects.filter(month__lt=cutoff).exclude(Exists(held))


def claims_erase(*, cutoff: dt.date, chunk: int) -> Iterator[tuple[int, dict[str, int]]]:
    """Erase the claims past retention, oldest first, at most `chunk` per transaction; after
    each commit yield the claims erased and the rows removed per table. The 高額療養費
    results of those months go with them (counted as rows, not as claims)."""
    while True:
        with transaction.atomic():
            ids = list(
                _results_due(cutoff).order_by("month", "pk").values_list("pk", flat=True)[:chunk]
            )
            if not ids:
                break
            _, per_model = KogakuResult.objects.filter(pk__in=ids).delete()
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
