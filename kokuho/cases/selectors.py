"""Reading the cases: lists for the CLI and the queues, one case as the clerk sees it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from kokuho.cases.models import CaseKind, CaseStatus, InvestigationCase
from kokuho.cases.services import limitation_expiry


def cases_filtered(
    *, kind: str | None = None, status: str | None = None
) -> QuerySet[InvestigationCase]:
    rows = InvestigationCase.objects.select_related("person").order_by("pk")
    if kind:
        rows = rows.filter(kind=CaseKind(kind))
    if status:
        rows = rows.filter(status=CaseStatus(status))
    return rows


def case_row(case: InvestigationCase) -> dict[str, Any]:
    """One case as the list shows it (JSON-ready; the subject by 宛名番号, never by name in
    machine output)."""
    expiry = limitation_expiry(case)
    return {
        "id": case.pk,
        "kind": case.kind,
        "kind_label": case.get_kind_display(),
        "subject": case.person.atena_no,
        "status": case.status,
        "status_label": case.get_status_display(),
        "outcome": case.outcome,
        "method": case.method,
        "method_label": case.get_method_display() if case.method else "",
        "opened": case.opened_at.date().isoformat(),
        "due": case.due_on.isoformat() if case.due_on else None,
        "claimed_yen": case.claimed_yen,
        "recovered_yen": case.recovered_yen,
        "outstanding_yen": case.outstanding_yen,
        "time_barred_from": expiry.isoformat() if expiry else None,
    }


def case_claims(case: InvestigationCase) -> list[dict[str, Any]]:
    """The claims of a case, each with what it cost us (the notice's table)."""
    return [
        {
            "claim_id": link.claim_no,
            "service_month": link.service_month.isoformat()[:7],
            "provider": link.provider,
            "cost_yen": link.cost_yen,
            "copay_yen": link.copay_yen,
            "insurer_share_yen": link.insurer_share_yen,
            "withdrawn": link.withdrawn,
        }
        for link in case.claims.order_by("service_month", "claim_no")
    ]


def cases_open(*, kind: str | None = None) -> QuerySet[InvestigationCase]:
    """Cases not closed (the queue's items), oldest first."""
    rows = InvestigationCase.objects.exclude(status=CaseStatus.CLOSED).select_related("person")
    if kind:
        rows = rows.filter(kind=CaseKind(kind))
    return rows.order_by("opened_at", "pk")
