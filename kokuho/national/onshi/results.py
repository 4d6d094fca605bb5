"""処理結果 of the オンライン資格確認 資格履歴, applied per record (after `results.py` checked the
file whole and found the file it answers).

Each result row, matched by key to the record that file carried, gives the record's status:
0 → accepted, 1 → rejected (code, message), 2 → J-LIS mismatch. A record whose key a later
file of the feed carried again is **superseded** whatever the row says — the newer record
has its own result coming — and opens no work item. A J-LIS mismatch opens (or refreshes)
the work item JLIS_MISMATCH of the key, whose `detail` holds the 5 items J-LIS matches on
(氏名, カナ, 生年月日, 性別, 住所) as we sent them against those returned, and which of them
differ; `workitems.py` resolves it. A row for a key the file never carried is reported,
never applied. Everything is one transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.purposes import Purpose
from kokuho.national.layouts import descriptor, line_read
from kokuho.national.models import (
    AckResult,
    Feed,
    NationalWorkItem,
    OutboundFile,
    OutboundRecord,
    RecordResult,
    ResultFile,
    WorkItemKind,
)
from kokuho.national.results import NationalResultRejected, ResultOutcome

FEED = Feed.ONSHI_HISTORY
# The 5 items of the J-LIS match: (our field, the result's field, Japanese name).
JLIS_ITEMS = (
    ("name", "jlis_name", "氏名"),
    ("kana", "jlis_kana", "カナ"),
    ("birth_date", "jlis_birth_date", "生年月日"),
    ("sex", "jlis_sex", "性別"),
    ("address", "jlis_address", "住所"),
)
_STATUS = {"0": RecordResult.ACCEPTED, "1": RecordResult.REJECTED, "2": RecordResult.JLIS_MISMATCH}


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def jlis_detail(sent_line: str, row: dict[str, Any], outbound: OutboundFile) -> dict[str, Any]:
    """The 5 items held (as sent) against those J-LIS returned, and which differ."""
    sent = line_read(descriptor(FEED.value), "data", sent_line)
    held = {name: _text(sent[ours]) for ours, _, name in JLIS_ITEMS}
    returned = {name: _text(row.get(theirs)) for _, theirs, name in JLIS_ITEMS}
    return {
        "held": held,
        "returned": returned,
        "differs": [name for _, _, name in JLIS_ITEMS if held[name] != returned[name]],
        "code": row.get("code") or "",
        "file": outbound.file_name,
        "sequence": outbound.sequence,
    }


def _superseded_keys(outbound: OutboundFile) -> set[str]:
    """Keys of this file that a later file of the feed carried again (one query)."""
    return set(
        OutboundRecord.objects.filter(
            file__feed=outbound.feed,
            file__sequence__gt=outbound.sequence,
            key__in=OutboundRecord.objects.filter(file=outbound).values("key"),
        ).values_list("key", flat=True)
    )


def onshi_result_import(
    *, outbound: OutboundFile, rows: list[dict[str, Any]], name: str, sha: str, actor: Any | None
) -> ResultOutcome:
    if outbound.feed != FEED:
        raise NationalResultRejected(
            f"{name}: オンライン資格確認の処理結果ですが、対象は {outbound.get_feed_display()} です"
        )
    sent = {
        key: (pk, subject, line)
        for pk, key, subject, line in OutboundRecord.objects.filter(file=outbound).values_list(
            "pk", "key", "subject", "line"
        )
    }
    later = _superseded_keys(outbound)
    counts = {label: 0 for label in RecordResult.labels}
    updates: list[OutboundRecord] = []
    mismatches: dict[str, tuple[int, dict[str, Any]]] = {}
    unknown: list[str] = []
    for row in rows:
        found = sent.get(row["key"])
        if found is None:
            unknown.append(row["key"])
            continue
        pk, subject, line = found
        status = RecordResult.SUPERSEDED if row["key"] in later else _STATUS[row["result"]]
        counts[status.label] += 1
        updates.append(
            OutboundRecord(
                pk=pk,
                result=status,
                result_code=row["code"] or "",
                result_message=row["message"] or "",
            )
        )
        if status == RecordResult.JLIS_MISMATCH:
            mismatches[row["key"]] = (subject, jlis_detail(line, row, outbound))
    now = timezone.now()
    with transaction.atomic():
        OutboundRecord.objects.bulk_update(
            updates, ["result", "result_code", "result_message"], batch_size=2000
        )
        _work_items_open(mismatches, now)
        not_accepted = (
            counts[RecordResult.REJECTED.label] + counts[RecordResult.JLIS_MISMATCH.label]
        )
        outbound.acknowledged_at = now
        outbound.ack_result = AckResult.PARTLY_REJECTED if not_accepted else AckResult.ACCEPTED
        outbound.save(update_fields=["acknowledged_at", "ack_result"])
        counts["送信していないレコード"] = len(unknown)
        result_file = ResultFile.objects.create(
            file_name=name, sha256=sha, imported_at=now, outbound=outbound, counts=counts,
            unknown=unknown,
        )  # fmt: skip
        audit_event_record(
            event_type=EventType.NATIONAL_RESULT_IMPORTED,
            actor=actor,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"national:{outbound.feed}:{outbound.sequence}",
            purpose=Purpose.ONLINE_ELIGIBILITY,
            extra={"file": name, "sha256": sha, "counts": counts},
        )
    accepted = counts[RecordResult.ACCEPTED.label]
    return ResultOutcome(result_file, outbound, accepted, not_accepted, unknown)


def _work_items_open(mismatches: dict[str, tuple[int, dict[str, Any]]], now: Any) -> None:
    """One open JLIS_MISMATCH item per key: a new one, or the open one refreshed."""
    if not mismatches:
        return
    keys = sorted(mismatches)
    open_items = {
        item.key: item
        for item in NationalWorkItem.objects.filter(
            feed=FEED, kind=WorkItemKind.JLIS_MISMATCH, key__in=keys, resolved_at__isnull=True
        )
    }
    fresh, refreshed = [], []
    for key in keys:
        subject, detail = mismatches[key]
        differs = "・".join(detail["differs"]) or "（5項目は一致、その他の理由）"
        message = (
            f"住基（J-LIS）照合で不一致: {differs}（{key}）。"
            "修正して再送するか、理由を付して確認してください。"
        )
        item = open_items.get(key)
        if item is None:
            fresh.append(
                NationalWorkItem(
                    feed=FEED, kind=WorkItemKind.JLIS_MISMATCH, key=key, person_id=subject,
                    message=message[:300], detail=detail, created_at=now,
                )
            )  # fmt: skip
        else:
            item.message, item.detail = message[:300], detail
            item.version = F("version") + 1  # a clerk's page of the item is out of date
            refreshed.append(item)
    NationalWorkItem.objects.bulk_create(fresh, batch_size=2000)
    NationalWorkItem.objects.bulk_update(
        refreshed, ["message", "detail", "version"], batch_size=2000
    )
