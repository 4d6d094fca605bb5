"""The registry of outbound feeds (連携フィード): what each feed sends, to whom, on what basis.

One entry per `Feed`. The ledger (`ledger.national_export`) is the same for every feed; an
entry names the generator of its canonical records (a dotted path, imported when the feed
runs, so that a feed module may itself use the ledger), the export register's kind, the
purpose and legal basis written on the register and the audit event, and the CLI target
(`kokuho national export <target>`) that sends it with the other feeds of its group.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

from kokuho.core.purposes import Purpose
from kokuho.interfaces.models import ExportKind
from kokuho.national.models import Feed

if TYPE_CHECKING:
    from kokuho.national.extract import Chunk

_SHUYAKU_BASIS = "国民健康保険法 第45条第5項・第113条の3（国保連合会への委託、資格情報の提供）"


@dataclass(frozen=True)
class FeedSpec:
    feed: Feed
    target: str  # the CLI group: shuyaku / onshi / fukuhon
    source: str  # dotted path of `(*, as_of, key_fields) -> Iterator[Chunk]`
    export_kind: ExportKind
    purpose: Purpose
    legal_basis: str
    recipient: str  # formatted with {prefecture}
    # Dotted path of `(*, processing, prev, values, full) -> dict` giving the values a data
    # record is written with, for a feed whose record code is not the ledger's 処理区分
    # (副本: 新規異動区分). Empty: the ledger's 処理区分 as is.
    record_code: str = ""
    # Dotted path of a writer class `(path, desc)` with `.path`, `.line`, `.finish` (→ the
    # plaintext SHA-256) and `.abandon`, for a feed whose file is encrypted at rest. Empty:
    # the ledger's plain writer.
    writer: str = ""
    # Dotted path of `(file, desc) -> fill`, where `fill(rows: list[(subject, line)])` gives
    # the lines as written — for a feed whose file carries My Number, drawn from the vault at
    # write time and never kept in the ledger. Empty: lines written as kept.
    filler: str = ""
    # OutboundRecord.subject is a person's id (their access history shows the file).
    person_subject: bool = False
    # Dotted path of `() -> list[range]`, the chunks of ids the source reads, for a source
    # that takes `ranges=` (those chunks only) and writes nothing itself: its chunks may be
    # read in worker processes (`national.workers`). Empty: always in the ledger's process.
    ranges: str = ""

    def chunks(self) -> Callable[..., Iterator[Chunk]]:
        return _imported(self.source)

    def record_coder(self) -> Callable[..., dict[str, Any]] | None:
        return _imported(self.record_code) if self.record_code else None

    def recipient_name(self) -> str:
        return self.recipient.format(prefecture=settings.KOKUHO_PREFECTURE_NAME)


@cache
def _imported(path: str) -> Callable[..., Any]:
    return import_string(path)


_SHUYAKU_TO = "{prefecture}国民健康保険団体連合会（国保情報集約システム）"
_KOGAKU_BASIS = (
    "国民健康保険法 第45条第5項（国保連合会への委託）・国民健康保険法施行令 第29条の3"
    "（高額療養費の多数回該当: 県内の住所異動で世帯が継続する場合の通算）"
)

FEEDS: dict[Feed, FeedSpec] = {
    spec.feed: spec
    for spec in (
        FeedSpec(
            Feed.SHUYAKU_HOUSEHOLD, "shuyaku", "kokuho.national.extract.household_chunks",
            ExportKind.NATIONAL_AGGREGATION, Purpose.NHI_ELIGIBILITY, _SHUYAKU_BASIS,
            _SHUYAKU_TO, ranges="kokuho.national.extract.household_number_ranges",
        ),
        FeedSpec(
            Feed.SHUYAKU_PERSON, "shuyaku", "kokuho.national.extract.person_chunks",
            ExportKind.NATIONAL_AGGREGATION, Purpose.NHI_ELIGIBILITY, _SHUYAKU_BASIS,
            _SHUYAKU_TO, ranges="kokuho.national.extract.person_ranges",
        ),
        FeedSpec(
            Feed.SHUYAKU_INCOME_CATEGORY, "shuyaku",
            "kokuho.national.extract.income_category_chunks",
            ExportKind.NATIONAL_AGGREGATION, Purpose.NHI_ELIGIBILITY, _SHUYAKU_BASIS,
            _SHUYAKU_TO, ranges="kokuho.national.extract.household_number_ranges",
        ),
        FeedSpec(
            Feed.FUKUHON, "fukuhon", "kokuho.intermediary.fukuhon.fukuhon_chunks",
            ExportKind.INFO_LINKAGE_COPY, Purpose.INFO_LINKAGE_PROVIDE,
            "番号法 第19条第8号・主務省令（利用特定個人情報の提供に関する命令）（副本の登録）",
            "中間サーバー（情報提供ネットワークシステム 中間サーバー・プラットフォーム）",
            record_code="kokuho.intermediary.fukuhon.fukuhon_record_values",
        ),
        FeedSpec(
            Feed.ONSHI_HISTORY, "onshi", "kokuho.national.onshi.extract.history_chunks",
            ExportKind.ONLINE_ELIGIBILITY, Purpose.ONLINE_ELIGIBILITY,
            "番号法 附則第6条第4項・国民健康保険法 第113条の3（資格履歴の管理、機関別符号の取得）",
            "{prefecture}国民健康保険団体連合会（国保中央会 経由）→ 医療保険者等向け中間サーバー",
            writer="kokuho.national.onshi.files.EncryptedWriter",
            filler="kokuho.national.onshi.numbers.number_filler",
            person_subject=True, ranges="kokuho.national.extract.person_ranges",
        ),
        FeedSpec(
            Feed.SHUYAKU_KOGAKU, "kogaku", "kokuho.national.kogaku_feed.kogaku_chunks",
            ExportKind.NATIONAL_AGGREGATION, Purpose.NHI_BENEFITS, _KOGAKU_BASIS, _SHUYAKU_TO,
        ),
        FeedSpec(
            Feed.SHUYAKU_KOGAKU_CARRY, "kogaku", "kokuho.national.kogaku_feed.carry_chunks",
            ExportKind.NATIONAL_AGGREGATION, Purpose.NHI_BENEFITS, _KOGAKU_BASIS, _SHUYAKU_TO,
        ),
        # New feeds add their entry here (one FeedSpec each).
    )
}  # fmt: skip


def feed_spec(feed: Feed | str) -> FeedSpec:
    return FEEDS[Feed(feed)]


def person_feeds() -> tuple[Feed, ...]:
    """The feeds whose records name a person (`OutboundRecord.subject` = Person id)."""
    return tuple(f for f, spec in FEEDS.items() if spec.person_subject or f == Feed.SHUYAKU_PERSON)


def feeds_of(target: str) -> tuple[Feed, ...]:
    """The feeds `kokuho national export <target>` sends, in registry order."""
    return tuple(f for f, spec in FEEDS.items() if spec.target == target)


def export_targets() -> list[str]:
    return sorted({spec.target for spec in FEEDS.values()})
