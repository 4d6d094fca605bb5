"""What the documents screens show (read-only queries)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from kokuho.certificates.models import (
    CertificateApplication,
    DocumentStatus,
    DocumentType,
    IssuedDocument,
    MynaRegistration,
    RenewalRun,
)
from kokuho.people.models import Person


@dataclass(frozen=True)
class PersonDocumentsView:
    person: Person
    myna: MynaRegistration | None
    documents: list[IssuedDocument]
    applications: list[CertificateApplication]


def person_documents_view(*, person: Person) -> PersonDocumentsView:
    return PersonDocumentsView(
        person=person,
        myna=MynaRegistration.objects.filter(person=person).first(),
        documents=list(
            IssuedDocument.objects.filter(person=person)
            .select_related("replaces")
            .order_by("-issued_on", "-pk")
        ),
        applications=list(
            CertificateApplication.objects.filter(person=person).order_by("-applied_on", "-pk")
        ),
    )


def returns_outstanding() -> QuerySet[IssuedDocument]:
    """返還未済: documents asked back and not returned, oldest request first."""
    return (
        IssuedDocument.objects.filter(
            status=DocumentStatus.INVALID, return_requested_on__isnull=False
        )
        .select_related("person")
        .order_by("return_requested_on", "serial")
    )


def renewal_runs_recent(limit: int = 20) -> list[RenewalRun]:
    return list(RenewalRun.objects.select_related("requested_by")[:limit])


def documents_count_summary() -> str:
    """Documents valid today by type (expired ones left out), for the demo's summary."""
    today = timezone.localdate()
    counts = dict(
        IssuedDocument.objects.filter(status=DocumentStatus.VALID)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .values_list("doc_type")
        .annotate(n=Count("pk"))
        .values_list("doc_type", "n")
    )
    parts = [f"{DocumentType(t).label} {counts.get(t, 0):,}件" for t in DocumentType.values]
    returns = returns_outstanding().count()
    return f"有効な証・通知: {'、'.join(parts)}（返還待ち {returns:,}件）"
