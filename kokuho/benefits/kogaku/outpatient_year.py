"""外来年間合算: the yearly settlement of the 70–74 外来年間上限 (payments.md §3).

For the cap year 8/1–7/31 (基準日 7/31), a member who is 70–74, insured here and 一般 or
低所得 on the 基準日 is paid what their year's outpatient co-payments exceed the yearly cap
(144,000; `outpatient_annual` of the band on the 基準日, a dated parameter). A month counts
when the member was 70–74 and 一般 or 低所得 in it (a band with a monthly 外来 limit);
its amount is the month's outpatient co-payments (外来: 入院外, 調剤, 訪問看護; 特定疾病 at its
cap) after the month's 外来 limit of that band — what the monthly 高額療養費 left the member
to bear at the individual step. The household step's share is not deducted (decision 216).

The settlement is the city's own (職権): it is paid to the 世帯主 of the member's household
on the 基準日, to the head's current 振込先口座; for a head with no account on file the
payment is held as 申請待ち and released by whatever records their account first (the
counter, a 公金受取口座 照会). Settling a year
again keeps what stands when nothing changed, and otherwise records a new settlement that
replaces it, paying the difference (追加支給) or recording it to come back (返納).
Everything is read in fixed queries per chunk of persons; nothing loops over per-person code.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.kogaku.rules import ELDERLY, month_rules
from kokuho.benefits.models import (
    Claim,
    ClaimKind,
    ClaimMatch,
    ClaimSetting,
    KogakuOutpatientYear,
)
from kokuho.core.purposes import Purpose
from kokuho.eligibility.burden import is_elderly_on
from kokuho.eligibility.selectors import burden_bases_load, person_state_from
from kokuho.payments.models import Benefit, HoldReason, PayeeAccount, Payment
from kokuho.payments.services import payment_schedule
from kokuho.people.models import Household, Person
from kokuho.rules.params import parameters

PAYMENT_SOURCE = "kogaku_outpatient_year"
GENERAL_LABEL = "一般"  # the 70–74 所得区分 whose band carries the yearly cap
CHUNK = 500


class OutpatientYearError(ValueError):
    """A settlement that cannot be made (the message is shown as is)."""


def year_months(year: int) -> list[dt.date]:
    return [dt.date(year + (m < 8), m, 1) for m in (*range(8, 13), *range(1, 8))]


def reference_day(year: int) -> dt.date:
    return dt.date(year + 1, 7, 31)


def _month_end(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


@dataclass
class MemberYear:
    person: Person
    household_id: int
    head_id: int
    category: str  # the band label on the 基準日
    annual_limit: int
    months: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(m["counted"] for m in self.months)

    @property
    def benefit(self) -> int:
        return max(0, self.total - self.annual_limit)


def _outpatient_copays(ids: list[int], months: list[dt.date]) -> dict[tuple[int, dt.date], int]:
    """Each person's outpatient co-payments per month (特定疾病 claims at their cap)."""
    cap = {m: parameters().at(m).kogaku.specific_disease["standard"] for m in months}
    sums: dict[tuple[int, dt.date], int] = defaultdict(int)
    for pid, month, copay, special in (
        Claim.objects.filter(
            person_id__in=ids,
            match=ClaimMatch.MATCHED,
            service_month__range=(months[0], months[-1]),
        )
        .exclude(
            setting=ClaimSetting.INPATIENT,
            kind__in=[ClaimKind.MEDICAL, ClaimKind.DENTAL],
        )
        .values_list("person_id", "service_month", "copay", "specific_disease")
    ):
        sums[(pid, month)] += min(copay, cap[month]) if special else copay
    return sums


def _candidates(year: int) -> list[Person]:
    """Persons with an outpatient claim in the year who are 70–74 on the 基準日."""
    months = year_months(year)
    day = reference_day(year)
    born_after = day.replace(year=day.year - 75)  # 75 on or before the 基準日: 後期高齢者
    born_by = day.replace(year=day.year - 70)
    ids = (
        Claim.objects.filter(
            match=ClaimMatch.MATCHED,
            service_month__range=(months[0], months[-1]),
            person__birth_date__gt=born_after,
            person__birth_date__lte=born_by,
        )
        .values_list("person_id", flat=True)
        .distinct()
    )
    return list(Person.objects.filter(pk__in=ids).order_by("pk"))


def outpatient_year_members(*, year: int) -> list[MemberYear]:
    """Every member the settlement concerns, with the year's months as counted."""
    day = reference_day(year)
    months = year_months(year)
    rules = {m: month_rules(m) for m in months}
    members: list[MemberYear] = []
    persons = _candidates(year)
    # 低所得 shares the cap of 一般 where its band has none of its own (decision 216).
    general = rules[months[-1]].band_for_label(ELDERLY, GENERAL_LABEL)
    if general is None or general.outpatient_annual is None:
        raise OutpatientYearError(f"{day.isoformat()} の外来年間上限のパラメータがありません")
    general_annual = general.outpatient_annual
    for start in range(0, len(persons), CHUNK):
        chunk = persons[start : start + CHUNK]
        bases = burden_bases_load(persons=chunk, day=day)
        copays = _outpatient_copays([p.pk for p in chunk], months)
        on_day = {}
        for person in chunk:
            state = person_state_from(basis=bases[person.pk], on=day)
            if not state.insured or state.category is None or state.household_no is None:
                continue
            if _age(person.birth_date, day) >= 75:
                continue
            band = rules[months[-1]].band_for_label(ELDERLY, str(state.category.value))
            if band is None or band.outpatient is None:
                continue  # 現役並み: no 外来 limit, no yearly cap
            on_day[person.pk] = (state.household_no, band)
        households = {
            h.household_no: h
            for h in Household.objects.filter(
                household_no__in={no for no, _ in on_day.values()}
            ).only("pk", "household_no", "head_id")
        }
        for person in chunk:
            if person.pk not in on_day:
                continue
            household_no, band = on_day[person.pk]
            household = households.get(household_no)
            if household is None or household.head_id is None:
                continue
            member = MemberYear(
                person=person,
                household_id=household.pk,
                head_id=household.head_id,
                category=band.label,
                annual_limit=band.outpatient_annual or general_annual,
            )
            for month in months:
                state = person_state_from(basis=bases[person.pk], on=_month_end(month))
                month_band = (
                    rules[month].band_for_label(ELDERLY, str(state.category.value))
                    if state.insured and state.category is not None
                    else None
                )
                counts = (
                    is_elderly_on(person.birth_date, month)
                    and month_band is not None
                    and month_band.outpatient is not None
                )
                amount = copays.get((person.pk, month), 0)
                member.months.append(
                    {
                        "month": month.isoformat(),
                        "outpatient": amount,
                        "limit": month_band.outpatient if counts else None,
                        "counted": min(amount, month_band.outpatient) if counts else 0,
                        "category": month_band.label if month_band is not None else "",
                    }
                )
            members.append(member)
    return members


@dataclass(frozen=True)
class OutpatientYearSummary:
    year: int
    members: int  # 70–74 一般・低所得 members with outpatient claims
    settled: int  # new settlements (first or changed)
    total_benefit: int
    additional: int
    refund: int
    unchanged: int
    awaiting_account: int  # paid settlements whose head has no account on file yet


def kogaku_outpatient_year_settle(
    *, year: int, actor: Any | None, on: dt.date | None = None
) -> OutpatientYearSummary:
    """Settle the cap year that began on 8/1 of `year` (see the module docstring)."""
    on = on or timezone.localdate()
    day = reference_day(year)
    if on <= day:
        raise OutpatientYearError(
            f"{year}年8月〜{year + 1}年7月の外来年間合算は基準日（{day.isoformat()}）の翌日から"
            "精算できます"
        )
    members = outpatient_year_members(year=year)
    standing = {
        s.person_id: s
        for s in KogakuOutpatientYear.objects.filter(year=year, replaced_by__isnull=True)
    }
    parameters_used = [
        {"name": "kogaku.bands", "from": year_months(year)[0].isoformat(), "year": year}
    ]
    settled = additional = refund = unchanged = awaiting = total = 0
    heads = Person.objects.in_bulk({m.head_id for m in members})
    accounts = {
        a.person_id: a
        for a in PayeeAccount.objects.filter(
            person_id__in=sorted(heads), superseded_at__isnull=True
        )
    }
    now = timezone.now()

    def pay(row: KogakuOutpatientYear, amount: int) -> bool:
        """The row's 支払予定 to the head; held 申請待ち (no account yet) when they have none,
        released by whatever records the head's account first. False when held."""
        account = accounts.get(row.head_id)
        payment_schedule(
            benefit=Benefit.KOGAKU,
            source_type=PAYMENT_SOURCE,
            source_id=row.pk,
            person=heads[row.head_id],
            account=account,
            amount=amount,
            decided_on=on,
            description=f"{year}年8月〜{year + 1}年7月 外来年間合算",
        )
        return account is not None

    with transaction.atomic():
        for member in members:
            before = standing.get(member.person.pk)
            amount = member.benefit
            if before is None and amount == 0:
                continue
            if before is not None and before.benefit == amount:
                unchanged += 1
                continue
            difference = amount - (before.benefit if before else 0)
            row = KogakuOutpatientYear.objects.create(
                person=member.person,
                household_id=member.household_id,
                head_id=member.head_id,
                year=year,
                category=member.category,
                months=member.months,
                total=member.total,
                annual_limit=member.annual_limit,
                benefit=amount,
                parameters=parameters_used,
                replaces=before,
                difference=difference if before else 0,
                decided_on=on,
                created_at=now,
            )
            settled += 1
            total += amount
            if difference > 0:
                if before is not None:
                    additional += difference
                if not pay(row, difference):
                    awaiting += 1
            else:
                refund -= difference
        summary = OutpatientYearSummary(
            year=year,
            members=len(members),
            settled=settled,
            total_benefit=total,
            additional=additional,
            refund=refund,
            unchanged=unchanged,
            awaiting_account=awaiting,
        )
        audit_event_record(
            actor=actor,
            event_type=EventType.KOGAKU_OUTPATIENT_YEAR,
            purpose=Purpose.NHI_BENEFITS,
            subject_type=SubjectType.SYSTEM,
            subject_id=f"kogaku-outpatient-year:{year}",
            extra={
                "members": summary.members,
                "settled": settled,
                "total_benefit": total,
                "awaiting_account": awaiting,
            },
        )
    return summary


def kogaku_outpatient_year_awaiting() -> list[KogakuOutpatientYear]:
    """申請待ち: settlements whose payment waits for the head's first account."""
    waiting = Payment.objects.filter(
        source_type=PAYMENT_SOURCE, hold_reason=HoldReason.NO_ACCOUNT
    ).values_list("source_id", flat=True)
    return list(
        KogakuOutpatientYear.objects.filter(pk__in=list(waiting))
        .select_related("person", "head")
        .order_by("pk")
    )
