"""The person as the hub (issue 17), the sections beside 資格 and 給付: 証・通知, 振込先口座,
国・国保連合会への連携, and the アクセス記録 — each with its full count and its newest rows,
read in a fixed number of queries whatever the person's history.

Which section is shown under which purpose and right is the view's (`views._hub_sections`);
here is only what each holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from kokuho.people.models import Person

LIMIT = 24
ACCESS_LIMIT = 20


@dataclass(frozen=True)
class Section:
    """Rows of one section, newest first: the newest `LIMIT` and how many there are."""

    rows: list[Any] = field(default_factory=list)
    count: int = 0

    @property
    def more(self) -> bool:
        return self.count > len(self.rows)


def _section(query: QuerySet, limit: int = LIMIT) -> Section:
    rows = list(query[:limit])
    return Section(rows=rows, count=shown_count(query, rows, limit))


def shown_count(query: QuerySet, rows: list[Any], limit: int) -> int:
    """How many rows `query` has, given its first `limit` rows already read: a shorter list
    is the whole of it, so the COUNT is asked only of a full one (most residents' sections
    are short; each query saved is a round trip of the person page)."""
    return len(rows) if len(rows) < limit else query.order_by().count()


# --- 証・通知 ----------------------------------------------------------------------------


def person_documents(*, person: Person) -> Section:
    """The 資格確認書・資格情報のお知らせ・認定証 issued to the person, newest first."""
    from kokuho.certificates.models import IssuedDocument

    return _section(IssuedDocument.objects.filter(person=person).order_by("-issued_on", "-pk"))


# --- 振込先口座 ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountRow:
    version: int
    bank: str
    branch: str
    kind: str
    number: str  # masked: the last 3 digits, as the 支払通知書 prints it
    holder: str
    source: str
    valid_from: dt.date
    current: bool
    problem: str


def masked_account_number(number: str) -> str:
    return "＊" * max(len(number) - 3, 0) + number[-3:]


def person_accounts(*, person: Person) -> Section:
    """The person's payee account versions (振込先口座), newest first; the number masked."""
    from kokuho.payments.models import AccountKind, AccountSource, PayeeAccount

    query = PayeeAccount.objects.filter(person=person).order_by("-version")
    section = _section(query)
    rows = [
        AccountRow(
            version=a.version,
            bank=f"{a.bank_kana}（{a.bank_code}）",
            branch=f"{a.branch_kana}（{a.branch_code}）",
            kind=AccountKind(a.account_type).label,
            number=masked_account_number(a.account_number),
            holder=a.holder_kana,
            source=AccountSource(a.source).label,
            valid_from=a.valid_from,
            current=a.superseded_at is None,
            problem=a.holder_problem,
        )
        for a in section.rows
    ]
    return Section(rows=rows, count=section.count)


# --- 連携 -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentRow:
    feed: str
    sequence: int
    as_of: dt.date
    processing: str
    file_state: str  # 未送信 / 送信済み（処理結果待ち）/ the 処理結果
    result: str  # the record's own result, when the answer named it


@dataclass(frozen=True)
class NationalSection:
    sent: Section
    items: Section  # open 連携の作業項目 of the person


def _file_state(file) -> str:
    if file.acknowledged_at:
        return f"処理結果: {file.get_ack_result_display() or '受領'}"
    if file.sent_at:
        return "送信済み（処理結果待ち）"
    return "作成済み（未送信）"


def person_national(*, person: Person) -> NationalSection:
    """What the national links sent of the person (the person-keyed feeds' records, newest
    file first) and the person's open work items."""
    from kokuho.national.feeds import person_feeds
    from kokuho.national.models import NationalWorkItem, OutboundRecord

    records = (
        OutboundRecord.objects.filter(subject=person.pk, file__feed__in=person_feeds())
        .select_related("file")
        .order_by("-file__created_at", "-file__sequence", "line_no")
    )
    section = _section(records)
    sent = [
        SentRow(
            feed=r.file.get_feed_display(),
            sequence=r.file.sequence,
            as_of=r.file.as_of,
            processing=r.get_processing_display(),
            file_state=_file_state(r.file),
            result=" ".join(p for p in (r.get_result_display(), r.result_code) if p),
        )
        for r in section.rows
    ]
    items = _section(
        NationalWorkItem.objects.filter(person=person, resolved_at__isnull=True).order_by(
            "-created_at", "-pk"
        )
    )
    return NationalSection(sent=Section(rows=sent, count=section.count), items=items)


# --- アクセス記録 -----------------------------------------------------------------------------


def person_access(*, person: Person) -> Section:
    """The person's アクセス記録 as a disclosure would give it (who, when, which 事務, which
    screen, and each national file that carried the person), newest first."""
    from kokuho.subject_requests.holdings import access_record, households_of

    entries = access_record(person=person, households=households_of(person))
    return Section(rows=list(reversed(entries))[:ACCESS_LIMIT], count=len(entries))
