"""資格継続チェック結果 in: the 国保情報集約システム's check of a move within the prefecture,
shown as work items (空白期間, 重複期間, 引き継いだ取得日・喪失日) that a clerk resolves.

`continuity_result_import` checks the file whole (`inbound.inbound_read`: CP932, not cut
short, our layout and version, our 保険者番号; and not imported before, by SHA-256) — a bad
file is refused with one message and nothing changes. Each record names a person by the key
of the 資格情報（個人） record we sent; a key we never sent (or have since deleted), another
insurer's key, or dates that match none of the person's periods is reported, never guessed.
Every other record opens one `NationalWorkItem` (feed 資格情報（個人）, kind by the 判定) with
both sides' dates in `detail`; an item already open for the same key is left as it is.

A clerk then either accepts the carried dates (`continuity_item_accept`: kept in
`eligibility.ContinuityCarriedDates`, so the next 資格情報（個人） file carries the carried
資格取得年月日 while 適用開始 stays the 転入 date) or resolves the item with a reason
(`continuity_item_resolve`, nothing written). Both are audited as
`NATIONAL_WORK_ITEM_RESOLVED`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.purposes import Purpose
from kokuho.eligibility.continuity import continuity_carried_dates_record
from kokuho.eligibility.models import ContinuityResultFile
from kokuho.eligibility.selectors import current_periods_by_person
from kokuho.national.extract import record_key
from kokuho.national.inbound import NationalInboundRejected, inbound_read
from kokuho.national.layouts import code_list, descriptor
from kokuho.national.models import Feed, NationalWorkItem, SentState, WorkItemKind
from kokuho.people.models import Person

CONTINUITY_LAYOUT = "shuyaku_continuity"
CONTINUITY_KINDS = (
    WorkItemKind.CONTINUITY_GAP,
    WorkItemKind.CONTINUITY_OVERLAP,
    WorkItemKind.CONTINUITY_CARRIED,
)
_KIND_BY_RESULT = {
    "1": WorkItemKind.CONTINUITY_CARRIED,
    "2": WorkItemKind.CONTINUITY_GAP,
    "3": WorkItemKind.CONTINUITY_OVERLAP,
}
SIDE_IN, SIDE_OUT = "1", "2"  # this city is where the person moved to / from
_SKIPPED = "（反映していません）"


class ContinuityError(ValueError):
    """A work item that cannot be resolved so (closed already, nothing to accept, no reason)."""


@dataclass
class ContinuityOutcome:
    file: ContinuityResultFile
    opened: int
    already_open: int
    problems: list[str] = field(default_factory=list)


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _problem(line_no: int, key: str, text: str) -> str:
    return f"{line_no}行目 {key}: {text}"


def _item(
    line_no: int,
    key: str,
    row: dict[str, Any],
    person_id: int,
    periods: list[Any],
    file_name: str,
) -> NationalWorkItem | str:
    """The work item of one record, or the problem that keeps it out (a str)."""
    side = row["side"]
    former_until, new_from = row["former_applied_until"], row["new_applied_from"]
    if side == SIDE_IN:
        period = next((p for p in periods if p.start == new_from), None)
        ours = f"当市の適用開始 {new_from}"
    else:
        period = next((p for p in periods if p.end is not None and p.end == former_until), None)
        ours = f"当市の適用終了 {former_until}"
    if period is None:
        return _problem(line_no, key, f"{ours} に当たる資格期間がありません{_SKIPPED}")
    carried_acq = row["carried_acquired_on"]
    if side == SIDE_IN and carried_acq is not None and carried_acq > period.start:
        return _problem(line_no, key, "引継ぎの資格取得年月日が当市の適用開始より後です")
    kind = _KIND_BY_RESULT[row["result"]]
    gap = (new_from - former_until).days - 1 if former_until and new_from else None
    if kind == WorkItemKind.CONTINUITY_GAP:
        text = f"空白期間 {gap}日" if gap is not None else "空白期間"
    elif kind == WorkItemKind.CONTINUITY_OVERLAP:
        text = f"重複期間 {-gap}日" if gap is not None else "重複期間"
    else:
        text = "引継ぎの取得日・喪失日"
    message = (
        f"資格継続: {text}（転出元の適用終了 {former_until or '—'}、"
        f"転入先の適用開始 {new_from or '—'}、相手 {row['other_insurer_no'] or '—'}）"
    )
    return NationalWorkItem(
        feed=Feed.SHUYAKU_PERSON,
        kind=kind,
        key=key,
        person_id=person_id,
        message=message[:300],
        detail={
            "side": side,
            "other_insurer_no": row["other_insurer_no"] or "",
            "former_applied_until": _day(former_until),
            "new_applied_from": _day(new_from),
            "carried_acquired_on": _day(carried_acq),
            "carried_lost_on": _day(row["carried_lost_on"]),
            "gap_days": gap,
            "period_start": period.start.isoformat(),
            "period_end": _day(period.end),
            "file": file_name,
            "line": line_no,
            "message": row["message"] or "",
        },
    )


def continuity_result_import(*, path: Path, actor: Any | None) -> ContinuityOutcome:
    """Import one 資格継続チェック結果 file (see the module docstring)."""
    data = path.read_bytes()
    parsed = inbound_read(data=data, name=path.name, layout=CONTINUITY_LAYOUT)
    if ContinuityResultFile.objects.filter(sha256=parsed.sha256).exists():
        raise NationalInboundRejected(f"{path.name}: この資格継続チェック結果は取込済みです")
    desc = descriptor(CONTINUITY_LAYOUT)
    key_fields = desc.key_fields()
    on = parsed.control["created_on"] or timezone.localdate()
    results, sides = code_list("continuity_result", on), code_list("continuity_side", on)
    keyed = [(n, record_key(row, key_fields), row) for n, row in parsed.rows]
    sent = dict(
        SentState.objects.filter(
            feed=Feed.SHUYAKU_PERSON, key__in=[k for _, k, _ in keyed], deleted=False
        ).values_list("key", "subject")
    )
    periods = current_periods_by_person(person_ids=sorted(set(sent.values())))
    problems: list[str] = []
    items: list[NationalWorkItem] = []
    for line_no, key, row in keyed:
        if row["insurer_no"] != settings.KOKUHO_INSURER_NUMBER:
            problems.append(_problem(line_no, key, f"他の保険者のキーです{_SKIPPED}"))
        elif key not in sent:
            problems.append(
                _problem(line_no, key, f"送信していない資格情報（個人）のキーです{_SKIPPED}")
            )
        elif row["result"] not in results or row["side"] not in sides:
            problems.append(_problem(line_no, key, "判定・当市の立場のコードが不明です"))
        else:
            made = _item(line_no, key, row, sent[key], periods.get(sent[key], []), path.name)
            (problems.append if isinstance(made, str) else items.append)(made)  # type: ignore[arg-type]
    open_now = set(
        NationalWorkItem.objects.filter(
            feed=Feed.SHUYAKU_PERSON,
            kind__in=CONTINUITY_KINDS,
            key__in=[i.key for i in items],
            resolved_at__isnull=True,
        ).values_list("kind", "key")
    )
    fresh = [i for i in items if (i.kind, i.key) not in open_now]
    now = timezone.now()
    for item in fresh:
        item.created_at = now
    counts = {
        "作業項目": len(fresh),
        "作業項目（未処理のものあり）": len(items) - len(fresh),
        "反映しなかったレコード": len(problems),
    }
    with transaction.atomic():
        file = ContinuityResultFile.objects.create(
            file_name=path.name,
            sha256=parsed.sha256,
            imported_at=now,
            counts=counts,
            problems=problems,
        )
        NationalWorkItem.objects.bulk_create(fresh, ignore_conflicts=True)
        audit_event_record(
            event_type=EventType.NATIONAL_RESULT_IMPORTED,
            actor=actor,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"national:{CONTINUITY_LAYOUT}:{file.pk}",
            purpose=Purpose.NHI_ELIGIBILITY,
            extra={"file": path.name, "sha256": parsed.sha256, "counts": counts},
        )
    return ContinuityOutcome(file, len(fresh), len(items) - len(fresh), problems)


# --- resolving --------------------------------------------------------------------------


def _close(item: NationalWorkItem, *, resolution: str, actor: Any, extra: dict) -> None:
    now = timezone.now()
    done = NationalWorkItem.objects.filter(pk=item.pk, resolved_at__isnull=True).update(
        resolved_at=now,
        resolved_by=actor,
        resolution=resolution[:300],
        version=F("version") + 1,
    )
    if not done:
        raise ContinuityError("この作業項目は解決済みです")
    item.refresh_from_db()
    person = Person.objects.filter(pk=item.person_id).values_list("atena_no", flat=True).first()
    audit_event_record(
        event_type=EventType.NATIONAL_WORK_ITEM_RESOLVED,
        actor=actor,
        subject_type=SubjectType.PERSON,
        subject_id=person or "",
        purpose=Purpose.NHI_ELIGIBILITY,
        extra={"work_item": item.pk, "kind": item.kind, "key": item.key, **extra},
    )


def _continuity_item(item: NationalWorkItem) -> None:
    if item.kind not in CONTINUITY_KINDS:
        raise ContinuityError("資格継続の作業項目ではありません")
    if item.resolved_at is not None:
        raise ContinuityError("この作業項目は解決済みです")


def continuity_item_acceptable(item: NationalWorkItem) -> bool:
    """Whether the item names a carried date to accept (転入先: 取得日; 転出元: the 喪失日,
    which may be empty — the 資格 continued in the prefecture)."""
    detail = item.detail or {}
    if detail.get("side") == SIDE_IN:
        return bool(detail.get("carried_acquired_on"))
    return detail.get("side") == SIDE_OUT


def continuity_item_accept(
    *, item: NationalWorkItem, actor: Any, note: str = ""
) -> NationalWorkItem:
    """Accept the carried dates of the item: kept for the person's period, so that the next
    資格情報（個人） file carries them; the item is resolved."""
    _continuity_item(item)
    if not continuity_item_acceptable(item):
        raise ContinuityError("引き継ぐ日付がない作業項目です（理由を付けて解決してください）")
    detail = item.detail
    side_in = detail["side"] == SIDE_IN
    acquired = dt.date.fromisoformat(detail["carried_acquired_on"]) if side_in else None
    lost = detail.get("carried_lost_on")
    lost_on = dt.date.fromisoformat(lost) if lost and not side_in else None
    note = note.strip()
    with transaction.atomic():
        continuity_carried_dates_record(
            person=Person.objects.get(pk=item.person_id),
            applied_from=dt.date.fromisoformat(detail["period_start"]),
            acquired_on=acquired,
            carries_loss=not side_in,
            lost_on=lost_on,
            basis=f"資格継続チェック結果 {detail.get('file', '')} {detail.get('line', '')}行目"
            f" 作業項目 {item.pk}",
            actor=actor,
        )
        what = (
            f"資格取得年月日 {acquired} を引継ぎ"
            if side_in
            else f"資格喪失年月日 {lost_on or '（県内で継続）'} を引継ぎ"
        )
        _close(
            item,
            resolution=f"{what}{'。' + note if note else ''}",
            actor=actor,
            extra={
                "action": "accepted",
                "carried_acquired_on": _day(acquired),
                "carried_lost_on": _day(lost_on),
                "note": note,
            },
        )
    return item


def continuity_item_resolve(*, item: NationalWorkItem, reason: str, actor: Any) -> NationalWorkItem:
    """Resolve the item with a reason (the dates were corrected elsewhere, or confirmed as
    they are); nothing is carried."""
    _continuity_item(item)
    reason = reason.strip()
    if not reason:
        raise ContinuityError("解決の理由を入力してください")
    with transaction.atomic():
        _close(item, resolution=reason, actor=actor, extra={"action": "resolved", "reason": reason})
    return item


def continuity_items(*, open_only: bool = True) -> QuerySet[NationalWorkItem]:
    """The 資格継続 work items for the screen, oldest first."""
    items = NationalWorkItem.objects.filter(kind__in=CONTINUITY_KINDS).select_related(
        "person", "resolved_by__staff_profile"
    )
    if open_only:
        items = items.filter(resolved_at__isnull=True)
    return items.order_by("created_at", "pk")
