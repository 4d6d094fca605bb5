"""Writes of 開示等請求: receive a request, decide it, produce the 開示資料.

Each step is an audit event; the 開示資料 is an export (外部出力) and goes through the
export register, so it needs 個人情報の外部出力 and a second factor like any other export.
"""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.accounts.permissions import Perm
from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record, audit_record_denied
from kokuho.core.pdf import Report, Section, report_pdf
from kokuho.core.purposes import Purpose
from kokuho.core.wareki import format_wareki
from kokuho.identity.services import my_number_masked
from kokuho.interfaces.exports import ExportFile, export_permission_check, export_register
from kokuho.interfaces.models import ExportKind
from kokuho.people.models import Person
from kokuho.subject_requests.holdings import PersonHoldings, person_holdings
from kokuho.subject_requests.models import (
    GRANTED_IN_FULL,
    OUTCOMES_BY_KIND,
    Outcome,
    RequesterKind,
    RequestKind,
    RequestStatus,
    SubjectRequest,
)

# The records disclosed are the NHI section's; the masked number is shown in that 事務.
DISCLOSURE_PURPOSE = Purpose.NHI_ELIGIBILITY
DISCLOSURE_BASIS = (
    "個人情報の保護に関する法律 第76条・第78条（保有個人情報の開示義務）; 番号法 第30条"
)


class RequestErrorCode(StrEnum):
    NOT_PERMITTED = "not_permitted"
    UNKNOWN_PERSON = "unknown_person"
    IN_FUTURE = "in_future"
    BEFORE_RECEIPT = "before_receipt"
    REQUIRED = "required"
    WRONG_OUTCOME = "wrong_outcome"
    REASON_REQUIRED = "reason_required"
    NOT_OPEN = "not_open"
    NOT_DISCLOSURE = "not_disclosure"
    REFUSED_DISCLOSURE = "refused_disclosure"
    UNKNOWN_FORMAT = "unknown_format"


class RequestError(ValueError):
    """A step the request register refuses; `code` for programs, the message for staff."""

    def __init__(self, code: RequestErrorCode, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def _require_manage(actor: Any, path: str) -> None:
    if actor.has_perm(Perm.SUBJECT_REQUEST_MANAGE):
        return
    with transaction.atomic():
        audit_record_denied(actor=actor, permission=Perm.SUBJECT_REQUEST_MANAGE, path=path)
    raise RequestError(RequestErrorCode.NOT_PERMITTED, "開示等請求を処理する権限がありません。")


def _audit(request: SubjectRequest, event_type: EventType, actor: Any, **extra: Any) -> None:
    audit_event_record(
        event_type=event_type,
        actor=actor,
        subject_type=SubjectType.SUBJECT_REQUEST,
        subject_id=str(request.pk),
        purpose=DISCLOSURE_PURPOSE,
        # The 宛名番号 ties the request to the person's trail; the content stays out.
        extra={"kind": request.kind, "atena_no": request.atena_no, **extra},
    )


def subject_request_receive(
    *,
    kind: RequestKind,
    atena_no: str,
    received_on: dt.date,
    requester: RequesterKind,
    identity_documents: str,
    details: str,
    actor: Any,
) -> SubjectRequest:
    """開示等請求の受付: record a request and how the requester was identified."""
    _require_manage(actor, "subject_request_receive")
    if not Person.objects.filter(atena_no=atena_no).exists():
        raise RequestError(
            RequestErrorCode.UNKNOWN_PERSON,
            f"宛名番号 {atena_no} の住民は見つかりません。",
            field="atena_no",
        )
    if received_on > timezone.localdate():
        raise RequestError(
            RequestErrorCode.IN_FUTURE, "受付日が未来の日付です。", field="received_on"
        )
    if not identity_documents.strip():
        raise RequestError(
            RequestErrorCode.REQUIRED,
            "本人確認の方法（確認した書類の種類）を入力してください。",
            field="identity_documents",
        )
    if not details.strip():
        raise RequestError(
            RequestErrorCode.REQUIRED, "請求の内容を入力してください。", field="details"
        )
    with transaction.atomic():
        request = SubjectRequest.objects.create(
            kind=kind,
            atena_no=atena_no,
            received_on=received_on,
            received_at=timezone.now(),
            received_by=actor,
            requester=requester,
            identity_documents=identity_documents.strip(),
            details=details.strip(),
        )
        _audit(request, EventType.SUBJECT_REQUEST_RECEIVED, actor, requester=str(requester))
    return request


def _locked_open(request: SubjectRequest) -> SubjectRequest:
    locked = SubjectRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status != RequestStatus.RECEIVED:
        raise RequestError(
            RequestErrorCode.NOT_OPEN,
            f"この請求は既に「{locked.get_status_display()}」です。",
        )
    return locked


def subject_request_decide(
    *,
    request: SubjectRequest,
    outcome: Outcome,
    decided_on: dt.date,
    reason: str,
    actor: Any,
) -> SubjectRequest:
    """開示決定等の記録. A decision that does not grant the request in full needs its
    reasons; the correction or suspension itself is made through the record's own screens
    (this records what was decided, not the data change)."""
    _require_manage(actor, "subject_request_decide")
    with transaction.atomic():
        locked = _locked_open(request)
        if outcome not in OUTCOMES_BY_KIND[locked.kind]:
            raise RequestError(
                RequestErrorCode.WRONG_OUTCOME,
                f"「{Outcome(outcome).label}」は{locked.get_kind_display()}の決定ではありません。",
                field="outcome",
            )
        if decided_on > timezone.localdate():
            raise RequestError(
                RequestErrorCode.IN_FUTURE, "決定日が未来の日付です。", field="decided_on"
            )
        if decided_on < locked.received_on:
            raise RequestError(
                RequestErrorCode.BEFORE_RECEIPT, "決定日が受付日より前です。", field="decided_on"
            )
        if outcome not in GRANTED_IN_FULL and not reason.strip():
            raise RequestError(
                RequestErrorCode.REASON_REQUIRED,
                "請求を認めない（一部を含む）決定には理由を記録してください。",
                field="reason",
            )
        locked.status = RequestStatus.DECIDED
        locked.outcome = outcome
        locked.decided_on = decided_on
        locked.decided_by = actor
        locked.decision_reason = reason.strip()
        locked.save(
            update_fields=["status", "outcome", "decided_on", "decided_by", "decision_reason"]
        )
        _audit(locked, EventType.SUBJECT_REQUEST_DECIDED, actor, outcome=str(outcome))
    return locked


def subject_request_withdraw(*, request: SubjectRequest, actor: Any) -> SubjectRequest:
    """請求の取下げ."""
    _require_manage(actor, "subject_request_withdraw")
    with transaction.atomic():
        locked = _locked_open(request)
        locked.status = RequestStatus.WITHDRAWN
        locked.save(update_fields=["status"])
        _audit(locked, EventType.SUBJECT_REQUEST_DECIDED, actor, outcome="withdrawn")
    return locked


# --- 開示資料 -------------------------------------------------------------------------------


def _holdings_pdf(holdings: PersonHoldings, request: SubjectRequest) -> bytes:
    def when(value: str) -> str:
        try:
            return format_wareki(dt.date.fromisoformat(value[:10])) + value[10:].replace("T", " ")
        except ValueError:
            return value

    sections = []
    for held in holdings.sections:
        rows: list[tuple[str, str]] = []
        for index, row in enumerate(held.rows, start=1):
            text = "、".join(f"{k}: {'' if v is None else v}" for k, v in row.items())
            rows.append((f"{index}", text))
        sections.append(Section(heading=held.title, rows=rows, empty_text="保有していません。"))
    sections.append(
        Section(
            heading="個人番号",
            paragraphs=[
                f"保有しています（{holdings.my_number}）。"
                if holdings.my_number
                else "保有していません。"
            ],
        )
    )
    sections.append(
        Section(
            heading="アクセス記録（閲覧・変更の記録）",
            table_header=["日時", "職員", "職", "操作", "事務"],
            table=[
                [when(a.occurred_at), a.staff, a.role, a.action, a.purpose] for a in holdings.access
            ],
            empty_text="記録はありません。",
        )
    )
    report = Report(
        title="保有個人情報開示資料",
        subtitle="国民健康保険（資格・給付）に関する事務",
        meta=[
            ("請求番号", str(request.pk)),
            ("請求日", format_wareki(request.received_on)),
            ("宛名番号", holdings.atena_no),
            ("氏名", holdings.name),
            ("作成日", format_wareki(timezone.localdate())),
        ],
        sections=sections,
        footer=f"開示請求 {request.pk}",
    )
    return report_pdf(report)


def disclosure_produce(*, request: SubjectRequest, fmt: str, actor: Any) -> ExportFile:
    """開示資料の作成 (PDF or JSON) for a disclosure request that was not refused; recorded
    in the export register and as `disclosure_produced` on the person's own trail."""
    _require_manage(actor, "disclosure_produce")
    export_permission_check(actor=actor, path="disclosure_produce")
    request = SubjectRequest.objects.get(pk=request.pk)  # the decision as recorded now
    if request.kind != RequestKind.DISCLOSURE:
        raise RequestError(RequestErrorCode.NOT_DISCLOSURE, "開示請求ではありません。")
    if request.status == RequestStatus.WITHDRAWN or request.outcome in (
        Outcome.NOT_DISCLOSED,
        Outcome.NOT_HELD,
    ):
        raise RequestError(
            RequestErrorCode.REFUSED_DISCLOSURE,
            "取下げ・不開示・不存在の請求には開示資料を作成しません。",
        )
    if fmt not in ("pdf", "json"):
        raise RequestError(RequestErrorCode.UNKNOWN_FORMAT, f"形式 {fmt!r} は作成できません。")
    person = Person.objects.select_related("household").get(atena_no=request.atena_no)
    masked = my_number_masked(actor=actor, atena_no=person.atena_no, purpose=DISCLOSURE_PURPOSE)
    holdings = person_holdings(person=person, my_number_masked=masked)
    if fmt == "pdf":
        content, content_type = _holdings_pdf(holdings, request), "application/pdf"
    else:
        document = {"請求番号": request.pk, "作成日": timezone.localdate().isoformat()}
        document |= holdings.as_dict()
        content = json.dumps(document, ensure_ascii=False, indent=2).encode()
        content_type = "application/json"
    return export_register(
        kind=ExportKind.DISCLOSURE,
        content=content,
        file_name=f"kaiji-{request.pk}.{fmt}",
        content_type=content_type,
        record_count=holdings.record_count,
        legal_basis=DISCLOSURE_BASIS,
        recipient=f"請求者（{request.get_requester_display()}）",
        actor=actor,
        purpose=DISCLOSURE_PURPOSE,
        reference=f"subject_request:{request.pk}",
        subject_id=person.atena_no,
    )
