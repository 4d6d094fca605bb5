"""Reading and checking the audit trail."""

from dataclasses import dataclass

from django.db.models import QuerySet

from kokuho.audit.models import AuditChainHead, AuditEvent
from kokuho.audit.services import GENESIS_HASH, event_hash


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def audit_chain_verify() -> ChainReport:
    """Recompute every hash in order; report the first row that does not fit (改ざん検知)."""
    prev = GENESIS_HASH
    checked = 0
    last_seq = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.prev_hash != prev:
            return ChainReport(
                False, checked, event.seq, "前のイベントとの連結が一致しません（削除の疑い）"
            )
        if event_hash(prev, event) != event.row_hash:
            return ChainReport(
                False, checked, event.seq, "内容がハッシュと一致しません（改ざんの疑い）"
            )
        prev, last_seq = event.row_hash, event.seq
        checked += 1
    head = AuditChainHead.objects.get(id=1)
    if head.last_hash != prev or head.last_seq != last_seq:
        return ChainReport(False, checked, last_seq or None, "末尾のイベントが失われています")
    return ChainReport(True, checked)


def events_for_subject(*, subject_type: str, subject_id: str) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by(
        "-seq"
    )
