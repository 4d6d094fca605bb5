"""副本 (copies for the 中間サーバー): the canonical records of the `fukuhon` feed.

One record per person × 特定個人情報 × データセット, keyed by 団体内統合宛名番号 only — the file
never carries a 宛名番号 or a My Number (national.md §3). A chunk of persons costs a fixed
number of queries: the eligibility read of `person_chunks` plus one vault read of the
chunk's integrated numbers (`vault_integrated_numbers`).

- A person the vault has no link for has no 団体内統合宛名番号 in this system (the vault
  gives one when the number is registered), so their 副本 cannot be keyed: it is held back
  and a work item (FUKUHON_NO_NUMBER) names them until a number is registered; the run
  that then sends them closes it.
- Every item is written `項目コード=値`; an empty one `項目コード!未設定事由` — never NULL.
- A value that does not fit its item (attribute, length, a separator) is left empty with
  未設定事由 09 and the record's 提供区分 is 2 (その他エラー).

`fukuhon_record_values` is the ledger's record coder (FeedSpec.record_code): it turns the
ledger's 新規/変更/削除 into the 新規異動区分 (1 当初, 2 版改定, 3 再登録, 4 異動).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.utils import timezone

from kokuho.identity.services import vault_integrated_numbers
from kokuho.intermediary.catalogue import SEPARATORS, Entry, Item, catalogue
from kokuho.intermediary.sources import SELECTORS, PersonFacts
from kokuho.national.extract import Chunk, SourceRecord, person_chunks, record_key
from kokuho.national.layouts import descriptor, line_read
from kokuho.national.models import Feed, NationalWorkItem, Processing, SentState, WorkItemKind

CHANGE_INITIAL, CHANGE_VERSION, CHANGE_REREGISTER, CHANGE_UPDATE = "1", "2", "3", "4"
PROVIDED, NO_NUMBER, OTHER_ERROR = "0", "1", "2"
UNSET_ERROR = "09"


def _format(item: Item, value: Any) -> str | None:
    """The item's text, or None when the value does not fit its item."""
    if isinstance(value, dt.date):
        text = value.strftime("%Y%m%d") if item.attribute == "D" else None
    else:
        text = str(value)
        if item.attribute == "D" or (item.attribute == "N" and not text.isdigit()):
            text = None
    if text is None or any(ch in SEPARATORS for ch in text):
        return None
    if item.max_length is not None and len(text) > item.max_length:
        return None
    return text


def items_text(entry: Entry, dataset: Any, version: Any, facts: PersonFacts, as_of: dt.date):
    """The packed item list of one record and whether every value fitted."""
    parts, fitted = [], True
    for item in entry.items_of(dataset, version):
        value = SELECTORS[item.source](facts, as_of)
        if value is None or value == "":
            parts.append(f"{item.code}!{item.unset}")
            continue
        text = _format(item, value)
        if text is None:
            fitted = False
            parts.append(f"{item.code}!{UNSET_ERROR}")
        else:
            parts.append(f"{item.code}={text}")
    return ";".join(parts), fitted


def items_parse(text: str) -> dict[str, tuple[str | None, str | None]]:
    """項目コード → (value, 未設定事由) of a packed item list (for tests and results)."""
    found: dict[str, tuple[str | None, str | None]] = {}
    for part in text.split(";") if text else []:
        if "=" in part:
            code, value = part.split("=", 1)
            found[code] = (value, None)
        else:
            code, reason = part.split("!", 1)
            found[code] = (None, reason)
    return found


def _facts(chunk: Chunk) -> list[PersonFacts]:
    periods: dict[int, list[SourceRecord]] = defaultdict(list)
    for record in chunk.records:
        periods[record.subject].append(record)
    facts = []
    for pid in sorted(periods):
        rows = sorted(periods[pid], key=lambda r: r.values["acquired_on"])
        facts.append(PersonFacts(pid, rows[0].values["atena_no"], [r.values for r in rows]))
    return facts


def _no_number_items(people: list[PersonFacts], linked: dict[str, str]) -> None:
    """Open a work item for each person without a link; close those now linked."""
    now = timezone.now()
    missing = [f for f in people if f.atena_no not in linked]
    NationalWorkItem.objects.bulk_create(
        [
            NationalWorkItem(
                feed=Feed.FUKUHON,
                kind=WorkItemKind.FUKUHON_NO_NUMBER,
                key=f"person:{f.person_id}",
                person_id=f.person_id,
                message="個人番号が未登録のため団体内統合宛名番号がなく、副本を登録できません"
                "（提供区分 1: 個人番号未設定により未提供）。個人番号の登録後に送信されます。",
                created_at=now,
            )
            for f in missing
        ],
        ignore_conflicts=True,
    )
    done = [f"person:{f.person_id}" for f in people if f.atena_no in linked]
    if done:
        NationalWorkItem.objects.filter(
            feed=Feed.FUKUHON,
            kind=WorkItemKind.FUKUHON_NO_NUMBER,
            key__in=done,
            resolved_at__isnull=True,
        ).update(resolved_at=now, resolution="個人番号が登録され副本を送信しました")


def fukuhon_chunks(*, as_of: dt.date, key_fields: tuple[str, ...]) -> Iterator[Chunk]:
    """副本: per chunk of persons, one record per 特定個人情報 × データセット in force."""
    entries = [(e, e.version_on(as_of)) for e in catalogue() if e.provided]
    in_force = [(e, v) for e, v in entries if v is not None]
    for chunk in person_chunks(as_of=as_of, key_fields=("acquired_on",)):
        people = _facts(chunk)
        linked = vault_integrated_numbers(atena_nos=[f.atena_no for f in people])
        _no_number_items(people, linked)
        records = []
        for facts in people:
            integrated = linked.get(facts.atena_no)
            if integrated is None:
                continue
            for entry, version in in_force:
                for dataset in entry.datasets:
                    text, fitted = items_text(entry, dataset, version, facts, as_of)
                    values = {
                        "integrated_no": integrated,
                        "info_code": entry.code,
                        "dataset_no": dataset.number,
                        "info_version": version.version,
                        "provision": PROVIDED if fitted else OTHER_ERROR,
                        "items": text,
                    }
                    key = record_key(values, key_fields)
                    records.append(SourceRecord(key, facts.person_id, values, facts.person_id))
        yield Chunk(chunk.subjects, records)


def fukuhon_record_values(
    *, processing: Processing, prev: SentState | None, values: dict[str, Any], full: bool
) -> dict[str, Any]:
    """The ledger's decision as 新規異動区分 (the feed's record coder).

    全件 → 1 当初. A key the other side never held → 1 当初; one sent before and deleted →
    3 再登録. Changed content under another 版番号 → 2 版改定 (a catalogue 版 change changes
    every record, so every record goes as 版改定); otherwise → 4 異動. A key that is gone
    (the person's link was erased, 保管期間の経過) → 4 異動 with 提供区分 1: the 中間サーバー
    keeps the record but may no longer provide it."""
    if processing == Processing.DELETE:
        return values | {"processing": CHANGE_UPDATE, "provision": NO_NUMBER}
    if full or prev is None:
        code = CHANGE_INITIAL
    elif prev.deleted:
        code = CHANGE_REREGISTER
    elif processing == Processing.NEW:
        code = CHANGE_INITIAL
    else:
        before = line_read(descriptor(Feed.FUKUHON.value), "data", prev.line)
        code = CHANGE_VERSION if before["info_version"] != values["info_version"] else CHANGE_UPDATE
    return values | {"processing": code}
