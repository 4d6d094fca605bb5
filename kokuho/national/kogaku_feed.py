"""高額該当情報 out (every month) and 高額該当引継 確定 out: the sources of the two feeds.

`kogaku_chunks` — per household key (保険者番号+記号+番号) and 診療年月, from the stored monthly
results of the current run of each month (2018-04 診療分 on, `codes/shuyaku_kogaku_scope`):
a household paid 高額療養費 that month is 該当; the month counts for the household's 多数回
only when a household step paid (`household_step_benefit` > 0) — a month paid only by the
70〜74 外来（個人） step or the annual cap does not (benefits.md §4 step 4). 所得区分 is the
適用区分 code of the household's under-70 band when it has under-70 members, else of its
70〜74 band. A month computed again is compared whole by the ledger (変更, or 削除 when the
household is no longer paid).

`carry_chunks` — one record per decided 高額該当引継 候補 (確認（継続）/ 非該当, who, when).

Both read in bulk per chunk of ids (one or two queries each), never one per household.
`kogaku_chunks` reads a chunk's results by household id, through the results' (household,
month) index.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterator
from functools import cache

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from kokuho.benefits.kogaku.rules import UNDER70, month_rules
from kokuho.benefits.kogaku.workflow import kogaku_current_runs
from kokuho.benefits.models import CarryStatus, KogakuCarryCandidate, KogakuResult
from kokuho.eligibility.models import HouseholdNumber
from kokuho.national.extract import (
    CHUNK,
    Chunk,
    SourceRecord,
    _ranges,
    municipality_code,
    record_key,
)
from kokuho.national.layouts import code_list, code_tables

DECISION = {CarryStatus.CONTINUED: "1", CarryStatus.NOT_APPLICABLE: "2"}


def kogaku_first_month(on: dt.date) -> dt.date:
    """The first 診療月 of the 高額該当 files (2018-04: the prefecture became an insurer)."""
    return dt.date.fromisoformat(code_tables().get("shuyaku_kogaku_scope").at(on)["first_month"])


def _norm(label: str) -> str:
    return unicodedata.normalize("NFKC", label).replace(" ", "")


@cache
def _band_label(month: dt.date, group: str, key: str) -> str:
    try:
        return month_rules(month, provisional=True).band(group, key).label
    except KeyError:
        return ""


def _category(month: dt.date, members: list[dict] | None, codes: dict[str, str]) -> str:
    """The 適用区分 code of the household's band that month ("" when not known)."""
    if not members:
        return ""
    under70 = [m for m in members if m.get("grp") == UNDER70]
    chosen = (under70 or members)[0]
    label = _band_label(month, chosen.get("grp", ""), chosen.get("cat", ""))
    return codes.get(_norm(label), "") if label else ""


def kogaku_chunks(*, as_of: dt.date, key_fields: tuple[str, ...]) -> Iterator[Chunk]:
    """高額該当情報: one record per household key and paid 診療月 up to `as_of`'s month."""
    insurer, city = settings.KOKUHO_INSURER_NUMBER, municipality_code()
    codes = {_norm(label): code for code, label in code_list("tekiyo_kubun", as_of).items()}
    runs = list(
        kogaku_current_runs(first=kogaku_first_month(as_of), last=as_of.replace(day=1)).values()
    )
    top = HouseholdNumber.objects.aggregate(m=Max("pk"))["m"]
    for ids in _ranges(top, CHUNK):
        numbers = {
            household_id: (pk, symbol, number)
            for pk, household_id, symbol, number in HouseholdNumber.objects.filter(
                pk__gte=ids.start, pk__lt=ids.stop
            ).values_list("pk", "household_id", "symbol", "number")
        }
        # By household (the results' (household, month) index), not by a join per chunk.
        rows = sorted(
            KogakuResult.objects.filter(
                household_id__in=list(numbers), run_id__in=runs, benefit__gt=0
            ).values_list(
                "household_id",
                "household__head_id",
                "month",
                "household_step_benefit",
                "many_times",
                "explanation__members",
            ),
            key=lambda row: (numbers[row[0]][0], row[2]),
        )
        records = []
        for household_id, head_id, month, steps, many, members in rows:
            number_id, symbol, number = numbers[household_id]
            values = {
                "insurer_no": insurer,
                "symbol": symbol,
                "number": number,
                "service_month": month,
                "kogaku_flag": "1",
                "many_count": "1" if steps > 0 else "0",
                "category": _category(month, members, codes),
                "many_times": "1" if many else "0",
                "municipality_code": city,
            }
            records.append(SourceRecord(record_key(values, key_fields), number_id, values, head_id))
        yield Chunk(ids, records)


def carry_chunks(*, as_of: dt.date, key_fields: tuple[str, ...]) -> Iterator[Chunk]:
    """高額該当引継 確定: one record per candidate decided by the end of `as_of`."""
    insurer = settings.KOKUHO_INSURER_NUMBER
    top = KogakuCarryCandidate.objects.aggregate(m=Max("pk"))["m"]
    for ids in _ranges(top, CHUNK):
        rows = (
            KogakuCarryCandidate.objects.filter(
                pk__gte=ids.start, pk__lt=ids.stop, status__in=list(DECISION)
            )
            .filter(decided_at__date__lte=as_of)
            .order_by("pk")
            .values_list(
                "pk", "candidate_no", "former_insurer_number", "former_symbol", "former_number",
                "symbol", "number", "status", "decided_at", "decided_by__username",
                "carried_months", "household__head_id",
            )
        )  # fmt: skip
        records = []
        for (
            pk, candidate_no, f_insurer, f_symbol, f_number, symbol, number, status, decided_at,
            decided_by, carried, head_id,
        ) in rows:  # fmt: skip
            values = {
                "candidate_no": candidate_no,
                "former_insurer_no": f_insurer,
                "former_symbol": f_symbol,
                "former_number": f_number,
                "insurer_no": insurer,
                "symbol": symbol,
                "number": number,
                "decision": DECISION[status],
                "decided_on": timezone.localtime(decided_at).date(),
                "decided_by": (decided_by or "")[:30],
                "carried_months": str(carried),
            }
            records.append(SourceRecord(record_key(values, key_fields), pk, values, head_id))
        yield Chunk(ids, records)
