"""オンライン資格確認 資格履歴: one canonical record per person-period, set-based.

`history_chunks` yields, per chunk of person ids (`extract.CHUNK`), the records of every
person with eligibility periods: the key (保険者番号, 記号, 番号, 枝番, 資格取得年月日 — never
My Number), the person's items, the period, and what was issued for it — the 資格確認書
(証の交付日・有効期間), the 70〜74 負担割合 as printed (交付日・発効日), the 限度額適用認定証 /
限度額適用・標準負担額減額認定証 (区分, 適用区分, 長期入院) and the 特定疾病療養受療証 (疾病,
自己負担限度額) — each the latest issued by the 基準日 whose validity overlaps the period. The
burden items are decided on the 基準日 for the period in force then (as the 国保情報集約システム
files: `extract._copays_on`).

The 個人番号 item is left empty here: the ledger stores the record without it and the
number is drawn from the vault only while the file is written (`onshi.numbers`). What the
record carries instead is 本人確認判定: 1 a number is held, 2 held and a J-LIS mismatch was
confirmed with a reason, 9 no number. A person insured on the 基準日 without a number is
listed as a work item (NO_MY_NUMBER), closed by the first run after a number is registered.
Queries per chunk are a fixed number, whatever its size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from kokuho.certificates.models import DocumentType, IssuedDocument
from kokuho.identity.services import vault_linked_atena_nos
from kokuho.national.extract import (
    ONE_DAY,
    Chunk,
    SourceRecord,
    _branches_in,
    _burden_values,
    _copays_on,
    _periods_in,
    _persons_in,
    number_for_period,
    person_ranges,
    record_key,
)
from kokuho.national.layouts import code_list, code_map
from kokuho.national.models import Feed, NationalWorkItem, WorkItemKind
from kokuho.people.models import Relation

FEED = Feed.ONSHI_HISTORY
HELD, CONFIRMED, NO_NUMBER = "1", "2", "9"  # 本人確認判定 (code table onshi_identity_check)
SYNC = "kokuho.national.onshi.extract.work_items_sync"  # each chunk's `after`
CONFIRMED_KIND = "confirmed"  # detail["resolution_kind"] of a J-LIS item confirmed with a reason
_CARD = (DocumentType.KAKUNINSHO,)
_ELDERLY = (DocumentType.KAKUNINSHO, DocumentType.OSHIRASE)
_LIMIT = (DocumentType.GENDOGAKU, DocumentType.GENGAKU)
_DISEASE = (DocumentType.TOKUTEI,)
_DOC_FIELDS = (
    "person_id", "doc_type", "issued_on", "valid_from", "valid_until", "invalid_from", "pk",
    "printed__copay_from", "printed__category", "printed__limit_amount",
    "printed__long_stay_from", "application__disease", "application__long_stay_from",
)  # fmt: skip


def _iso(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)) if value else None


class _Doc:
    """One issued document as the record needs it (its effective end: the day before it
    became invalid, if that is earlier than its 有効期限)."""

    __slots__ = (
        "category", "copay_from", "disease", "end", "issued_on", "limit", "long_stay", "order",
        "start", "type",
    )  # fmt: skip

    def __init__(self, row: tuple[Any, ...]) -> None:
        (_, self.type, self.issued_on, self.start, until, invalid_from, pk, copay_from,
         self.category, limit, long_stay, self.disease, app_long_stay) = row  # fmt: skip
        self.order = (self.issued_on, pk)
        ends = [d for d in (until, invalid_from - ONE_DAY if invalid_from else None) if d]
        self.end = min(ends) if ends else None
        self.copay_from = _iso(copay_from)
        self.limit = int(limit) if limit not in (None, "") else None
        self.long_stay = _iso(long_stay) or app_long_stay

    def overlaps(self, start: dt.date, end: dt.date | None) -> bool:
        return (self.end is None or self.end >= start) and (end is None or end >= self.start)


def _documents(ids: range, as_of: dt.date) -> dict[int, list[_Doc]]:
    found: dict[int, list[_Doc]] = defaultdict(list)
    rows = IssuedDocument.objects.filter(
        person_id__gte=ids.start,
        person_id__lt=ids.stop,
        issued_on__lte=as_of,
        doc_type__in=[*_ELDERLY, *_LIMIT, *_DISEASE],
    ).values_list(*_DOC_FIELDS)
    for row in rows:
        found[row[0]].append(_Doc(row))
    return found


def _latest(docs: list[_Doc], types: tuple[str, ...], start: dt.date, end: dt.date | None):
    chosen = [d for d in docs if d.type in types and d.overlaps(start, end)]
    return max(chosen, key=lambda d: d.order) if chosen else None


def _confirmed_keys(ids: range, pids: list[int]) -> set[str]:
    """Keys whose latest J-LIS mismatch item was confirmed with a reason (not re-opened)."""
    latest: dict[str, dict[str, Any]] = {}
    rows = NationalWorkItem.objects.filter(
        feed=FEED,
        kind=WorkItemKind.JLIS_MISMATCH,
        person_id__gte=ids.start,
        person_id__lt=ids.stop,
    ).order_by("created_at", "pk")
    chunk = set(pids)
    for pid, key, detail, resolved_at in rows.values_list(
        "person_id", "key", "detail", "resolved_at"
    ):
        if pid not in chunk:
            continue
        latest[key] = {"detail": detail or {}, "resolved": resolved_at is not None}
    return {
        key
        for key, item in latest.items()
        if item["resolved"] and item["detail"].get("resolution_kind") == CONFIRMED_KIND
    }


def _tables(on: dt.date) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """所得区分 label → 適用区分, 認定証の種類 → 区分, 認定疾病 → 区分 (the code tables on `on`)."""
    categories = {label: code for code, label in code_list("tekiyo_kubun", on).items()}
    return categories, code_map("onshi_certificate_kind", on), code_map("onshi_disease", on)


def _document_values(
    docs: list[_Doc],
    start: dt.date,
    end: dt.date | None,
    tables: tuple[dict[str, str], dict[str, str], dict[str, str]],
    elderly: bool,
) -> dict[str, Any]:
    categories, limit_kinds, diseases = tables
    card = _latest(docs, _CARD, start, end)
    aged = _latest([d for d in docs if d.copay_from], _ELDERLY, start, end) if elderly else None
    limit = _latest(docs, _LIMIT, start, end)
    disease = _latest(docs, _DISEASE, start, end)
    return {
        "card_issued_on": card.issued_on if card else None,
        "card_valid_from": card.start if card else None,
        "card_valid_until": card.end if card else None,
        "elderly_issued_on": aged.issued_on if aged else None,
        "elderly_valid_from": aged.copay_from if aged else None,
        "elderly_valid_until": aged.end if aged else None,
        "limit_kind": limit_kinds.get(limit.type, "") if limit else "",
        "limit_category": categories.get(str(limit.category or ""), "") if limit else "",
        "limit_issued_on": limit.issued_on if limit else None,
        "limit_valid_from": limit.start if limit else None,
        "limit_valid_until": limit.end if limit else None,
        "long_stay_from": limit.long_stay if limit else None,
        "disease_kind": diseases.get(disease.disease or "", "") if disease else "",
        "disease_issued_on": disease.issued_on if disease else None,
        "disease_valid_from": disease.start if disease else None,
        "disease_valid_until": disease.end if disease else None,
        "disease_limit": str(disease.limit) if disease and disease.limit is not None else "",
    }


def work_items_sync(ids: range, pids: list[int], missing: dict[int, str], as_of: dt.date) -> None:
    """NO_MY_NUMBER: open one per insured person without a number (keyed by the current
    period's record), close those of this chunk's persons who now have one or no period."""
    now = timezone.now()
    open_items = NationalWorkItem.objects.filter(
        feed=FEED,
        kind=WorkItemKind.NO_MY_NUMBER,
        person_id__gte=ids.start,
        person_id__lt=ids.stop,
        resolved_at__isnull=True,
    )
    chunk = set(pids)
    rows = [r for r in open_items.values_list("pk", "person_id", "key") if r[1] in chunk]
    held = {(pid, key) for _, pid, key in rows}
    stale = [pk for pk, pid, key in rows if missing.get(pid) != key]
    if stale:
        NationalWorkItem.objects.filter(pk__in=stale).update(
            resolved_at=now,
            resolution="個人番号の登録又は資格の異動により解消（自動）",
            version=F("version") + 1,  # a clerk's page of the item is out of date
        )
    NationalWorkItem.objects.bulk_create(
        [
            NationalWorkItem(
                feed=FEED,
                kind=WorkItemKind.NO_MY_NUMBER,
                key=key,
                person_id=pid,
                message=f"個人番号が未登録のため、オンライン資格確認が利用できません（{key}）。"
                "本人確認判定「個人番号なし」で送信しました。",
                detail={"as_of": as_of.isoformat()},
                created_at=now,
            )
            for pid, key in sorted(missing.items())
            if (pid, key) not in held
        ],
        ignore_conflicts=True,
    )


def history_chunks(
    *, as_of: dt.date, key_fields: tuple[str, ...], ranges: list[range] | None = None
) -> Iterator[Chunk]:
    """資格履歴: one record per person-period (see the module docstring); `ranges`: those
    chunks of person ids only. Each chunk carries its NO_MY_NUMBER work items as `after`."""
    insurer = settings.KOKUHO_INSURER_NUMBER
    loss, tables = code_map("loss_reason", as_of), _tables(as_of)
    for ids in person_ranges() if ranges is None else ranges:
        periods = _periods_in(ids)
        pids = sorted(pid for pid, ps in periods.items() if ps)
        if not pids:
            yield Chunk(ids, [])
            continue
        persons = _persons_in(ids, pids)
        branches = _branches_in(ids)
        insured = [persons[pid] for pid in pids if any(p.covers(as_of) for p in periods[pid])]
        copays = _copays_on(insured, as_of, periods)
        documents = _documents(ids, as_of)
        linked = vault_linked_atena_nos(atena_nos=[p.atena_no for p in persons.values()])
        confirmed = _confirmed_keys(ids, pids)
        records, missing = [], {}
        for pid in pids:
            person = persons[pid]
            if not branches.get(pid):
                continue  # never numbered (only hand-made data): nothing to key the record by
            for period in periods[pid]:
                numbers = number_for_period(branches[pid], period)
                current = period.covers(as_of)
                burden = _burden_values(person, copays.get(pid) if current else None, as_of)
                elderly = burden["elderly"] in ("1", "2")
                values = {
                    "insurer_no": insurer,
                    "symbol": numbers.symbol,
                    "number": numbers.number,
                    "branch": numbers.branch,
                    "acquired_on": period.start,
                    "person_kind": "1" if person.relation == Relation.HEAD else "2",
                    "name": person.name,
                    "kana": person.name_kana,
                    "alias": "",
                    "alias_kana": "",
                    "sex": str(person.sex) if person.sex in (1, 2) else "3",
                    "birth_date": person.birth_date,
                    "postal_code": person.postal_code,
                    "address": person.address,
                    "lost_on": period.end + ONE_DAY if period.end else None,
                    "loss_reason": (loss.get(period.lost or "", "99") if period.end else ""),
                    "copay_rate": burden["copay_rate"],
                    "preschool": burden["preschool"],
                    "elderly_copay_rate": burden["copay_rate"] if elderly else "",
                    **_document_values(
                        documents.get(pid, []), period.start, period.end, tables, elderly
                    ),
                    "my_number": "",  # drawn from the vault when the file is written
                }
                key = record_key(values, key_fields)
                if person.atena_no not in linked:
                    values["identity_check"] = NO_NUMBER
                    if current:
                        missing[pid] = key
                else:
                    values["identity_check"] = CONFIRMED if key in confirmed else HELD
                records.append(SourceRecord(key, pid, values, pid))
        yield Chunk(ids, records, (SYNC, (ids, pids, missing, as_of)))
