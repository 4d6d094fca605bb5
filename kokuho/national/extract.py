"""The canonical records of the 国保情報集約システム files, drawn from the eligibility history.

Each source yields chunks of `SourceRecord`: the values of one data record (without 処理区分),
its key and its subject (the person, or the 記号・番号 row of the household), read set-based —
a fixed number of queries per chunk of ids, never one per person — so a full extract of a
whole city streams in constant memory. `subjects` lists every id a chunk covers, so that the
ledger can tell a record that disappeared (削除) from one never sent.

The state is "as finally known" (the current version of each person's periods) on the
extract's 基準日 `as_of`: 負担割合・未就学・70〜74 区分 and 所得区分 are decided on that day for
the period in force then, and left empty for periods that ended before it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Max

from kokuho.eligibility.burden import income_year_for, is_elderly_on
from kokuho.eligibility.continuity import continuity_carried_dates
from kokuho.eligibility.derivation import Period
from kokuho.eligibility.models import (
    BranchNumber,
    CurrentEligibility,
    EligibilityPeriod,
    HouseholdNumber,
    KeptInsured,
    KeptKind,
)
from kokuho.eligibility.selectors import (
    burden_bases_load,
    copay_decisions_load,
    person_state_from,
)
from kokuho.national.layouts import code_list, code_map
from kokuho.people.models import Person
from kokuho.rules.params import parameters

# Person ids per chunk. The burden load's household query reads the whole registry history
# once per chunk (no index on 世帯番号 in the snapshot), so fewer, larger chunks are faster;
# 10,000 persons' rows stay a few tens of MiB.
CHUNK = 10_000
ONE_DAY = dt.timedelta(days=1)
# 所得区分 as Kokuho decides them → the 適用区分 label of the code table.
CATEGORY_KIND_UNDER70 = "1"
CATEGORY_KIND_ELDERLY = "2"


class SourceRecord(NamedTuple):
    # A tuple, not a dataclass: a city's records cross from the worker processes pickled.
    key: str
    subject: int
    values: dict[str, Any]
    person_id: int | None = None  # the person a 外字 work item names


@dataclass(frozen=True)
class Chunk:
    subjects: range
    records: list[SourceRecord]
    # What the ledger applies in its own transaction with the chunk: (dotted path of a
    # function, its arguments). A source only reads, so that a chunk may be made in a worker
    # process (`national.workers`) and its writes still commit or roll back with the file.
    after: tuple[str, tuple[Any, ...]] | None = None


def municipality_code() -> str:
    # 全国地方公共団体コード (settings: synthetic for the demo city).
    return settings.KOKUHO_MUNICIPALITY_CODE


def record_key(values: dict[str, Any], fields: tuple[str, ...]) -> str:
    parts = []
    for name in fields:
        value = values.get(name)
        parts.append(value.strftime("%Y%m%d") if isinstance(value, dt.date) else str(value or ""))
    return "|".join(parts)


def _ranges(max_id: int | None, chunk: int) -> Iterator[range]:
    for lo in range(1, (max_id or 0) + 1, chunk):
        yield range(lo, lo + chunk)


def person_ranges() -> list[range]:
    """The chunks of person ids a per-person source reads, in order (`FeedSpec.ranges`)."""
    return list(_ranges(Person.objects.aggregate(m=Max("pk"))["m"], CHUNK))


def household_number_ranges() -> list[range]:
    """The chunks of 記号・番号 ids a per-household source reads, in order."""
    return list(_ranges(HouseholdNumber.objects.aggregate(m=Max("pk"))["m"], CHUNK))


@dataclass(frozen=True)
class _Numbers:
    symbol: str
    number: str
    branch: str
    household_number_id: int


def _periods_in(ids: range) -> dict[int, list[Period]]:
    found: dict[int, list[Period]] = defaultdict(list)
    versions = CurrentEligibility.objects.filter(
        person_id__gte=ids.start, person_id__lt=ids.stop
    ).values("version_id")
    rows = EligibilityPeriod.objects.filter(version__in=versions).order_by(
        "version__person_id", "start"
    )
    for pid, start, end, acquired, lost in rows.values_list(
        "version__person_id", "start", "end", "acquired", "lost"
    ):
        found[pid].append(Period(start, end, acquired, lost or None))
    return found


def _branches(person_ids: list[int]) -> dict[int, list[tuple[dt.date, int, _Numbers]]]:
    return _branch_rows(BranchNumber.objects.filter(person_id__among=person_ids))


def _branches_in(ids: range) -> dict[int, list[tuple[dt.date, int, _Numbers]]]:
    """`_branches` of every person of a chunk of ids (a range reads faster than a list of
    thousands of ids, which the driver and the ORM handle one by one)."""
    return _branch_rows(
        BranchNumber.objects.filter(person_id__gte=ids.start, person_id__lt=ids.stop)
    )


class PersonRow:
    """The items of a person the extracts write (a read-only row, not a model instance:
    building a city's `Person` objects was a tenth of a full extract)."""

    __slots__ = (
        "address", "atena_no", "birth_date", "name", "name_kana", "pk", "postal_code",
        "relation", "sex",
    )  # fmt: skip
    FIELDS = (
        "pk", "atena_no", "name", "name_kana", "birth_date", "sex", "relation", "postal_code",
        "address",
    )  # fmt: skip

    def __init__(self, row: tuple[Any, ...]) -> None:
        (self.pk, self.atena_no, self.name, self.name_kana, self.birth_date, self.sex,
         self.relation, self.postal_code, self.address) = row  # fmt: skip


def _persons_in(ids: range, pids: list[int]) -> dict[int, PersonRow]:
    """The persons `pids` of a chunk of ids, by id."""
    wanted = set(pids)
    pointers = CurrentEligibility.objects.filter(person_id__gte=ids.start, person_id__lt=ids.stop)
    rows = Person.objects.filter(
        pk__gte=ids.start, pk__lt=ids.stop, pk__in=pointers.values("person_id")
    ).order_by("pk")
    return {r[0]: PersonRow(r) for r in rows.values_list(*PersonRow.FIELDS) if r[0] in wanted}


def _branch_rows(branches: Any) -> dict[int, list[tuple[dt.date, int, _Numbers]]]:
    found: dict[int, list[tuple[dt.date, int, _Numbers]]] = defaultdict(list)
    rows = branches.values_list(
        "person_id",
        "assigned_on",
        "pk",
        "household_number__symbol",
        "household_number__number",
        "branch",
        "household_number_id",
    )
    for pid, assigned, pk, symbol, number, branch, hn in rows:
        found[pid].append((assigned, pk, _Numbers(symbol, number, branch, hn)))
    for entries in found.values():
        entries.sort(key=lambda e: (e[0], e[1]))
    return found


def number_for_period(entries: list[tuple[dt.date, int, _Numbers]], period: Period) -> _Numbers:
    """The 記号・番号・枝番 a period is filed under: the newest assigned by the period's last
    day (a period that spans a change of household carries the newer number), else the
    first one the person got."""
    last = period.end or dt.date.max
    held = [e for e in entries if e[0] <= last]
    return (held[-1] if held else entries[0])[2]


def _kept(person_ids: list[int]) -> dict[int, list[tuple[str, dt.date, dt.date | None]]]:
    found: dict[int, list[tuple[str, dt.date, dt.date | None]]] = defaultdict(list)
    rows = KeptInsured.objects.filter(person_id__among=person_ids)
    for pid, kind, start, end in rows.values_list("person_id", "kind", "start", "end"):
        found[pid].append((kind, start, end))
    return found


def _overlaps(start: dt.date, end: dt.date | None, other: tuple[dt.date, dt.date | None]) -> bool:
    o_start, o_end = other
    return (o_end is None or o_end >= start) and (end is None or end >= o_start)


def _states_on(persons: list[Person], as_of: dt.date) -> dict[int, Any]:
    """負担割合・所得区分 of the persons insured on `as_of`, in the selectors' bulk load."""
    if not persons:
        return {}
    bases = burden_bases_load(persons=persons, day=as_of)
    return {pk: person_state_from(basis=basis, on=as_of) for pk, basis in bases.items()}


def _copays_on(
    persons: list[PersonRow], as_of: dt.date, periods: dict[int, list[Period]]
) -> dict[int, Any]:
    """負担割合 of the persons insured on `as_of` (households loaded for 70〜74 only), with
    the current periods the chunk has read."""
    return copay_decisions_load(persons=persons, day=as_of, periods=periods) if persons else {}


@lru_cache(maxsize=64)
def _high_income_rate(on: dt.date) -> Any:
    return parameters().at(on).copay.rates["elderly_high_income"]


def _burden_values(person: PersonRow, copay: Any, as_of: dt.date) -> dict[str, Any]:
    if copay is None:
        return {"copay_rate": "", "preschool": "", "elderly": ""}
    elderly = is_elderly_on(person.birth_date, as_of)
    return {
        "copay_rate": str(copay.value),
        "preschool": "1" if copay.reason == "未就学" else "0",
        "elderly": ("2" if copay.value == _high_income_rate(as_of) else "1") if elderly else "0",
    }


def person_chunks(
    *, as_of: dt.date, key_fields: tuple[str, ...], ranges: list[range] | None = None
) -> Iterator[Chunk]:
    """資格情報（個人）: one record per person-period (`ranges`: those chunks of ids only)."""
    insurer = settings.KOKUHO_INSURER_NUMBER
    acquire, loss = code_map("acquire_reason", as_of), code_map("loss_reason", as_of)
    for ids in person_ranges() if ranges is None else ranges:
        periods = _periods_in(ids)
        pids = sorted(pid for pid, ps in periods.items() if ps)
        persons = _persons_in(ids, pids)
        branches, kept = _branches_in(ids), _kept(pids)
        carried = continuity_carried_dates(person_ids=pids)
        insured = [persons[pid] for pid in pids if any(p.covers(as_of) for p in periods[pid])]
        copays = _copays_on(insured, as_of, periods)
        records = []
        for pid in pids:
            person = persons[pid]
            if not branches.get(pid):
                continue  # never numbered (only hand-made data): nothing to key the record by
            for period in periods[pid]:
                numbers = number_for_period(branches[pid], period)
                span = (period.start, period.end)
                kinds = {k for k, s, e in kept[pid] if _overlaps(s, e, span)}
                current = period.covers(as_of)
                values = {
                    "insurer_no": insurer,
                    "symbol": numbers.symbol,
                    "number": numbers.number,
                    "branch": numbers.branch,
                    "acquired_on": period.start,
                    "atena_no": person.atena_no,
                    "name": person.name,
                    "kana": person.name_kana,
                    "alias": "",
                    "birth_date": person.birth_date,
                    "sex": str(person.sex) if person.sex in (1, 2) else "3",
                    "relation": person.relation,
                    "acquire_reason": acquire.get(period.acquired, "99"),
                    "lost_on": period.end + ONE_DAY if period.end else None,
                    "loss_reason": (loss.get(period.lost or "", "99") if period.end else ""),
                    "applied_from": period.start,
                    "applied_until": period.end,
                    "student": "1" if KeptKind.STUDENT in kinds else "0",
                    "special_address": "1" if KeptKind.FACILITY in kinds else "0",
                    **_burden_values(person, copays.get(pid) if current else None, as_of),
                }
                if (dates := carried.get((pid, period.start))) is not None:
                    # 資格継続 (県内異動): the prefecture's 取得日・喪失日; 適用開始・終了 ours.
                    values["acquired_on"] = dates.acquired_on or period.start
                    if dates.carries_loss:
                        values["lost_on"] = dates.lost_on
                        values["loss_reason"] = values["loss_reason"] if dates.lost_on else ""
                records.append(SourceRecord(record_key(values, key_fields), pid, values, pid))
        yield Chunk(ids, records)


def _merge(periods: list[Period]) -> list[tuple[dt.date, dt.date | None]]:
    """The household's spans: its members' periods joined where they touch or overlap."""
    spans: list[list[Any]] = []
    for p in sorted(periods, key=lambda p: p.start):
        if spans and (spans[-1][1] is None or spans[-1][1] + ONE_DAY >= p.start):
            if spans[-1][1] is not None and (p.end is None or p.end > spans[-1][1]):
                spans[-1][1] = p.end
            continue
        spans.append([p.start, p.end])
    return [(s, e) for s, e in spans]


@dataclass
class _Household:
    number: HouseholdNumber
    members: dict[int, list[Period]]  # person → the periods filed under this number
    head: Person | None
    head_periods: list[Period]


def _households_in(ids: range) -> list[_Household]:
    numbers = list(
        HouseholdNumber.objects.filter(pk__gte=ids.start, pk__lt=ids.stop)
        .select_related("household__head")
        .order_by("pk")
    )
    if not numbers:
        return []
    member_ids = sorted(
        set(
            BranchNumber.objects.filter(household_number__in=numbers).values_list(
                "person_id", flat=True
            )
        )
        | {n.household.head_id for n in numbers if n.household.head_id}
    )
    periods = _periods_of(member_ids)
    branches = _branches(member_ids)
    filed: dict[int, dict[int, list[Period]]] = defaultdict(lambda: defaultdict(list))
    for pid, entries in branches.items():
        for period in periods.get(pid, []):
            filed[number_for_period(entries, period).household_number_id][pid].append(period)
    return [
        _Household(n, dict(filed[n.pk]), n.household.head, periods.get(n.household.head_id, []))
        for n in numbers
    ]


def _periods_of(person_ids: list[int]) -> dict[int, list[Period]]:
    found: dict[int, list[Period]] = defaultdict(list)
    versions = CurrentEligibility.objects.filter(person_id__among=person_ids).values("version_id")
    rows = EligibilityPeriod.objects.filter(version__in=versions).order_by(
        "version__person_id", "start"
    )
    for pid, start, end, acquired, lost in rows.values_list(
        "version__person_id", "start", "end", "acquired", "lost"
    ):
        found[pid].append(Period(start, end, acquired, lost or None))
    return found


def _latest_change(
    members: dict[int, list[Period]], span: tuple[dt.date, dt.date | None], as_of: dt.date
) -> tuple[str, dt.date]:
    start, end = span
    events = [(start, "01")]
    for periods in members.values():
        for p in periods:
            if not _overlaps(p.start, p.end, span):
                continue
            if p.start > start:
                events.append((p.start, "02"))
            if p.end is not None:
                events.append((p.end + ONE_DAY, "04" if p.end == end else "03"))
    known = [e for e in events if e[0] <= as_of] or [events[0]]
    day, reason = max(known)
    return reason, day


def household_chunks(
    *, as_of: dt.date, key_fields: tuple[str, ...], ranges: list[range] | None = None
) -> Iterator[Chunk]:
    """資格情報（世帯）: one record per 記号・番号 and span of its members' periods."""
    insurer, city = settings.KOKUHO_INSURER_NUMBER, municipality_code()
    for ids in household_number_ranges() if ranges is None else ranges:
        households = _households_in(ids)
        kept = _kept(sorted({pid for h in households for pid in h.members}))
        records = []
        for h in households:
            head = h.head
            head_insured = any(p.covers(as_of) for p in h.head_periods)
            nominal = "" if head is None else "0" if head_insured else "1"
            for span in _merge([p for ps in h.members.values() for p in ps]):
                facility = any(
                    kind == KeptKind.FACILITY and _overlaps(s, e, span)
                    for pid in h.members
                    for kind, s, e in kept[pid]
                )
                reason, day = _latest_change(h.members, span, as_of)
                values = {
                    "insurer_no": insurer,
                    "symbol": h.number.symbol,
                    "number": h.number.number,
                    "start": span[0],
                    "end": span[1],
                    "municipality_code": city,
                    "head_atena_no": head.atena_no if head else "",
                    "head_name": head.name if head else "",
                    "head_kana": head.name_kana if head else "",
                    "nominal_head": nominal,
                    "postal_code": head.postal_code if head else "",
                    "address": head.address if head else "",
                    "special_address": "1" if facility else "0",
                    "change_reason": reason,
                    "change_date": day,
                }
                key = record_key(values, key_fields)
                records.append(SourceRecord(key, h.number.pk, values, head.pk if head else None))
        yield Chunk(ids, records)


def _judgement_months(as_of: dt.date) -> tuple[dt.date, dt.date, int]:
    """The months one income year decides (August to July) and the 判定年度."""
    rule = parameters().at(as_of).eligibility.income_year
    switch = rule["switch_month"]
    year = as_of.year if as_of.month >= switch else as_of.year - 1
    first = dt.date(year, switch, 1)
    last_month = dt.date(year + 1, switch - 1, 1) if switch > 1 else dt.date(year, 12, 1)
    return first, last_month, income_year_for(as_of) + rule["lag_years_from_switch"]


def income_category_chunks(
    *, as_of: dt.date, key_fields: tuple[str, ...], ranges: list[range] | None = None
) -> Iterator[Chunk]:
    """世帯所得区分情報: per 記号・番号 insured on `as_of`, the 所得区分 of its under-70 members
    and of its 70〜74 members for the months of the income year that decides them."""
    insurer = settings.KOKUHO_INSURER_NUMBER
    labels = {label: code for code, label in code_list("tekiyo_kubun", as_of).items()}
    first, last, fiscal_year = _judgement_months(as_of)
    for ids in household_number_ranges() if ranges is None else ranges:
        households = _households_in(ids)
        insured_ids = sorted(
            {
                pid
                for h in households
                for pid, ps in h.members.items()
                if any(p.covers(as_of) for p in ps)
            }
        )
        persons = {p.pk: p for p in Person.objects.filter(pk__among=insured_ids)}
        states = _states_on([persons[pk] for pk in insured_ids], as_of)
        records = []
        for h in households:
            span = next(
                (s for s in _merge([p for ps in h.members.values() for p in ps])
                 if s[0] <= as_of and (s[1] is None or s[1] >= as_of)),
                None,
            )  # fmt: skip
            if span is None:
                continue
            month_from = max(first, span[0].replace(day=1))
            month_until = last if span[1] is None else min(last, span[1].replace(day=1))
            groups: dict[str, str] = {}
            for pid in sorted(h.members):
                state = states.get(pid)
                if pid not in persons or state is None or state.category is None:
                    continue
                kind = (
                    CATEGORY_KIND_ELDERLY
                    if is_elderly_on(persons[pid].birth_date, as_of)
                    else CATEGORY_KIND_UNDER70
                )
                groups.setdefault(kind, labels.get(str(state.category.value), ""))
            for kind, category in sorted(groups.items()):
                values = {
                    "insurer_no": insurer,
                    "symbol": h.number.symbol,
                    "number": h.number.number,
                    "category_kind": kind,
                    "month_from": month_from,
                    "month_until": month_until,
                    "category": category,
                    "fiscal_year": str(fiscal_year),
                }
                head_id = h.head.pk if h.head else None
                key = record_key(values, key_fields)
                records.append(SourceRecord(key, h.number.pk, values, head_id))
        yield Chunk(ids, records)
