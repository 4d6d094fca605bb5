"""Reads of 開示等請求: the register with each request's decision deadline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from kokuho.rules.params import parameters
from kokuho.subject_requests.models import RequestStatus, SubjectRequest


def subject_request_due(*, request: SubjectRequest) -> dt.date:
    """決定の期限: the day of the request + N days (初日不算入, 民法140条), N from the rules
    in force on the day of the request. Days spent on 補正 and the 84条 extension are not
    modelled (decision 53)."""
    days = parameters().at(request.received_on).privacy.subject_request_decision_days
    return request.received_on + dt.timedelta(days=int(days[str(request.kind)]))


@dataclass(frozen=True)
class RequestRow:
    request: SubjectRequest
    due: dt.date
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.request.status == RequestStatus.RECEIVED and self.days_left < 0


def subject_requests_list(*, on: dt.date, limit: int = 200) -> list[RequestRow]:
    """The register, open requests first (nearest deadline first), then the decided."""
    rows = []
    for request in SubjectRequest.objects.select_related("received_by", "decided_by")[:limit]:
        due = subject_request_due(request=request)
        rows.append(RequestRow(request, due, (due - on).days))
    rows.sort(key=lambda r: (r.request.status != RequestStatus.RECEIVED, r.due, r.request.pk))
    return rows


def subject_requests_for(*, atena_no: str) -> QuerySet[SubjectRequest]:
    return SubjectRequest.objects.filter(atena_no=atena_no).order_by("-received_on", "-pk")
