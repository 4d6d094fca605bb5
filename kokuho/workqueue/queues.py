"""The queues: for each list of things to do, what is open, from when it counts, whose work
it is and which screen lists it. The items are the owning context's; a queue only reads them
through that context's selector (so "open" means what the context says it means)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import DateField, Expression, F, QuerySet
from django.db.models.functions import Coalesce, TruncDate

from kokuho.accounts.permissions import Perm
from kokuho.workqueue.models import Queue


@dataclass(frozen=True)
class QueueSpec:
    """One queue.

    `items` — the open items (the context's own selector), `received` — the day an item
    entered the queue (its 標準処理期間 counts from it), `work` — the right of those who work
    it: they see the queue, are offered as its clerks and may assign its items, `url_name` —
    the list that shows it, `select` — the name of the list's tick boxes."""

    queue: Queue
    items: Callable[[], QuerySet]
    received: Callable[[], Expression]
    work: Perm
    url_name: str
    select: str = "item"

    @property
    def key(self) -> str:
        return self.queue.value

    @property
    def title(self) -> str:
        return self.queue.label


def _quarantine() -> QuerySet:
    from kokuho.interfaces.selectors import quarantined_rows_open

    return quarantined_rows_open()


def _claims() -> QuerySet:
    from kokuho.benefits.claims_match import claims_unmatched_open

    return claims_unmatched_open()


def _applications() -> QuerySet:
    from kokuho.benefits.lifecycle.selectors import benefit_applications_in_review

    return benefit_applications_in_review()


def _national_items() -> QuerySet:
    from kokuho.national.continuity import CONTINUITY_KINDS
    from kokuho.national.workitems import national_work_items_open

    return national_work_items_open().exclude(kind__in=CONTINUITY_KINDS)


def _returns() -> QuerySet:
    from kokuho.certificates.selectors import returns_outstanding

    return returns_outstanding()


def _cases() -> QuerySet:
    from kokuho.cases.selectors import cases_open

    return cases_open()


def _day(path: str) -> Callable[[], Expression]:
    return lambda: TruncDate(path, output_field=DateField())


QUEUES: dict[str, QueueSpec] = {
    spec.key: spec
    for spec in (
        QueueSpec(
            Queue.QUARANTINE,
            _quarantine,
            _day("file__started_at"),
            Perm.ELIGIBILITY_CHANGE,
            "quarantine_list",
        ),
        QueueSpec(
            Queue.CLAIMS_UNMATCHED,
            _claims,
            # A claim made without a file (typed in) counts from its 診療月.
            lambda: Coalesce(
                TruncDate("import_file__started_at", output_field=DateField()),
                F("service_month"),
                output_field=DateField(),
            ),
            Perm.BENEFITS_DECIDE,
            "claims_unmatched",
            select="claim",
        ),
        QueueSpec(
            Queue.APPLICATIONS,
            _applications,
            lambda: F("received_on"),
            Perm.BENEFITS_DECIDE,
            "benefit_applications",
        ),
        QueueSpec(
            Queue.NATIONAL_ITEMS,
            _national_items,
            _day("created_at"),
            Perm.ELIGIBILITY_CHANGE,
            "national_work_items",
        ),
        QueueSpec(
            Queue.CASES,
            _cases,
            _day("opened_at"),
            Perm.BENEFITS_DECIDE,
            "cases_list",
            select="case",
        ),
        QueueSpec(
            Queue.DOCUMENT_RETURNS,
            _returns,
            lambda: F("return_requested_on"),
            Perm.ELIGIBILITY_CHANGE,
            "documents_returns",
        ),
    )
}


def queue_spec(key: str) -> QueueSpec:
    try:
        return QUEUES[key]
    except KeyError:
        raise LookupError(f"作業キュー {key!r} はありません") from None
