"""処理結果 in: the 国保情報集約システム's result for one of our files, matched to the ledger.

The file is checked whole before anything is kept: CP932, a control record first and an end
record last whose count matches (else it was cut short), the layout version we know, our
保険者番号, and a file of ours (feed and sequence in the ledger). Any of these fails → the file
is refused with one message and nothing changes. Otherwise each result is matched by record
key to what that file carried: known records get their result, code and message; a result
for a key the file never carried is reported in the outcome (and kept on the result file's
row), never guessed onto another record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.purposes import Purpose
from kokuho.national.inbound import NationalInboundRejected, control_layout, inbound_read
from kokuho.national.layouts import code_list, descriptor
from kokuho.national.models import (
    AckResult,
    OutboundFile,
    OutboundRecord,
    RecordResult,
    ResultFile,
)

RESULT_LAYOUT = "shuyaku_result"
ONSHI_RESULT_LAYOUT = "onshi_result"  # オンライン資格確認 資格履歴 (kokuho.national.onshi.results)
RESULT_LAYOUTS = (RESULT_LAYOUT, ONSHI_RESULT_LAYOUT)


class NationalResultRejected(ValueError):
    """The result file is refused whole (one message; nothing was changed)."""


@dataclass
class ResultOutcome:
    result_file: ResultFile
    outbound: OutboundFile
    accepted: int
    rejected: int
    unknown: list[str] = field(default_factory=list)


def _parse(data: bytes, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The file checked whole by the one inbound reader; the control record's layout id
    picks the descriptor (one per result layout)."""
    layout = control_layout(data)
    try:
        read = inbound_read(
            data=data, name=name, layout=layout if layout in RESULT_LAYOUTS else RESULT_LAYOUT
        )
    except NationalInboundRejected as error:
        raise NationalResultRejected(str(error)) from None
    # A 処理結果 code outside the layout's table is neither 受付 nor 不備: refused, not guessed.
    desc = descriptor(read.control["layout"])
    item = next(i for i in desc.records["data"] if i.field == "result")
    codes = code_list(item.codes, timezone.localdate())
    for line, values in read.rows:
        if values["result"] not in codes:
            raise NationalResultRejected(
                f"{name}: {line}行目 {item.name}: コード表 {item.codes} にないコードです:"
                f" {values['result']!r}（{', '.join(codes)} のいずれか）"
            )
    return read.control, [values for _line, values in read.rows]


def national_result_import(*, path: Path, actor: Any | None) -> ResultOutcome:
    """Import one 処理結果 file (see the module docstring)."""
    data = path.read_bytes()
    name = path.name
    sha = hashlib.sha256(data).hexdigest()
    if ResultFile.objects.filter(sha256=sha).exists():
        raise NationalResultRejected(f"{name}: この処理結果は取込済みです")
    control, rows = _parse(data, name)
    outbound = OutboundFile.objects.filter(
        feed=control["feed"], sequence=int(control["sequence"] or 0)
    ).first()
    if outbound is None:
        raise NationalResultRejected(
            f"{name}: 送信していないファイル"
            f"（{control['feed']} 通番 {control['sequence']}）への処理結果です"
        )
    if control["layout"] == ONSHI_RESULT_LAYOUT:
        from kokuho.national.onshi.results import onshi_result_import

        return onshi_result_import(outbound=outbound, rows=rows, name=name, sha=sha, actor=actor)
    sent = {
        key: pk for pk, key in OutboundRecord.objects.filter(file=outbound).values_list("pk", "key")
    }
    updates: list[OutboundRecord] = []
    unknown: list[str] = []
    accepted = rejected = 0
    for row in rows:
        pk = sent.get(row["key"])
        if pk is None:
            unknown.append(row["key"])
            continue
        ok = row["result"] == "0"
        accepted, rejected = accepted + ok, rejected + (not ok)
        updates.append(
            OutboundRecord(
                pk=pk,
                result=RecordResult.ACCEPTED if ok else RecordResult.REJECTED,
                result_code=row["code"] or "",
                result_message=row["message"] or "",
            )
        )
    now = timezone.now()
    with transaction.atomic():
        OutboundRecord.objects.bulk_update(
            updates, ["result", "result_code", "result_message"], batch_size=2000
        )
        outbound.acknowledged_at = now
        outbound.ack_result = AckResult.PARTLY_REJECTED if rejected else AckResult.ACCEPTED
        outbound.save(update_fields=["acknowledged_at", "ack_result"])
        counts = {"受付": accepted, "不備": rejected, "送信していないレコード": len(unknown)}
        result_file = ResultFile.objects.create(
            file_name=name,
            sha256=sha,
            imported_at=now,
            outbound=outbound,
            counts=counts,
            unknown=unknown,
        )
        audit_event_record(
            event_type=EventType.NATIONAL_RESULT_IMPORTED,
            actor=actor,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"national:{outbound.feed}:{outbound.sequence}",
            purpose=Purpose.NHI_ELIGIBILITY,
            extra={"file": name, "sha256": sha, "counts": counts},
        )
    return ResultOutcome(result_file, outbound, accepted, rejected, unknown)
