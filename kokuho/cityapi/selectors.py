"""Reads of the city's API: a person's 資格 by 宛名番号, the 資格 changes feed, the clients.

Thin compositions of the eligibility selectors the counter's screens use; no rule of their
own. Only what the city's systems need leaves: no name, no address, never a My Number.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from kokuho.cityapi.models import ApiClient
from kokuho.eligibility.derivation import Period
from kokuho.eligibility.models import BranchNumber, EligibilityPeriod, EligibilityVersion
from kokuho.eligibility.selectors import (
    burden_basis_load,
    household_eligibility,
    household_head_on,
    insured_number_of,
    person_state_from,
)
from kokuho.people.models import Person

# Versions per page of the changes feed at most (and by default): one page is three
# queries whatever its size, and 500 persons' periods stay a small response.
CHANGES_MAX_LIMIT = 500


@dataclass(frozen=True)
class InsuredNumber:
    """記号・番号・枝番."""

    symbol: str
    number: str
    branch: str


@dataclass(frozen=True)
class PersonEligibility:
    """資格 of one person as the API gives it (`on`: the day of the state)."""

    atena_no: str
    on: dt.date
    insured: bool
    household_no: str | None
    periods: list[Period]
    number: InsuredNumber | None
    insurer_number: str
    head_atena_no: str | None
    head_insured: bool | None  # False: 擬制世帯主 (the head is not NHI-insured)
    copay_percent: int | None
    copay_reason: str


def api_person_eligibility(*, atena_no: str, on: dt.date) -> PersonEligibility | None:
    """The person's 資格 today (periods, 記号・番号・枝番, 世帯主, 負担割合); None if no
    resident has the 宛名番号."""
    from django.conf import settings

    person = Person.objects.filter(atena_no=atena_no).select_related("household").first()
    if person is None:
        return None
    basis = burden_basis_load(person=person, days=[on])
    state = person_state_from(basis=basis, on=on)
    branch = insured_number_of(person=person)
    head = household_head_on(household=person.household, on=on)
    household = household_eligibility(household=person.household, today=on)
    copay = state.copay
    return PersonEligibility(
        atena_no=person.atena_no,
        on=on,
        insured=state.insured,
        household_no=state.household_no or person.household.household_no,
        periods=basis.periods[person.pk],
        number=_number(branch),
        insurer_number=settings.KOKUHO_INSURER_NUMBER,
        head_atena_no=head.atena_no if head else None,
        head_insured=(head.atena_no in household.insured_members) if head else None,
        copay_percent=int(copay.value) if copay is not None else None,
        copay_reason=copay.reason if copay is not None else "",
    )


def _number(branch: BranchNumber | None) -> InsuredNumber | None:
    if branch is None:
        return None
    return InsuredNumber(
        branch.household_number.symbol, branch.household_number.number, branch.branch
    )


@dataclass(frozen=True)
class EligibilityChange:
    """One new version of a person's 資格: the whole set of periods as known from then."""

    seq: int  # EligibilityVersion.id: increasing in the order versions were written
    atena_no: str
    version: int
    recorded_at: dt.datetime
    cause: str
    fact_date: dt.date | None
    changed_from: dt.date | None
    is_retroactive: bool
    periods: list[Period]
    number: InsuredNumber | None


@dataclass(frozen=True)
class ChangesPage:
    changes: list[EligibilityChange]
    next_since: int
    has_more: bool


def api_eligibility_changes(*, since: int, limit: int) -> ChangesPage:
    """資格の異動: versions written after `since` (their id), oldest first, `limit` at most.

    Three queries per page whatever its size: the versions with their persons, their
    periods, and the persons' 記号・番号・枝番."""
    limit = max(1, min(limit, CHANGES_MAX_LIMIT))
    rows = list(
        EligibilityVersion.objects.filter(pk__gt=since)
        .order_by("pk")
        .values_list(
            "pk",
            "person_id",
            "person__atena_no",
            "seq",
            "recorded_at",
            "cause",
            "fact_date",
            "changed_from",
            "is_retroactive",
        )[: limit + 1]
    )
    has_more = len(rows) > limit
    rows = rows[:limit]
    periods: dict[int, list[Period]] = {row[0]: [] for row in rows}
    numbers: dict[int, InsuredNumber] = {}
    if rows:
        for version_id, start, end, acquired, lost in (
            EligibilityPeriod.objects.filter(version_id__in=list(periods))
            .order_by("version_id", "start", "pk")
            .values_list("version_id", "start", "end", "acquired", "lost")
        ):
            periods[version_id].append(Period(start, end, acquired, lost or None))
        # Oldest first, so the newest number of each person is the one left (as
        # insured_number_of: by 付番日, then id).
        for person_id, symbol, number, branch in (
            BranchNumber.objects.filter(person_id__in={row[1] for row in rows})
            .order_by("assigned_on", "pk")
            .values_list(
                "person_id", "household_number__symbol", "household_number__number", "branch"
            )
        ):
            numbers[person_id] = InsuredNumber(symbol, number, branch)
    changes = [
        EligibilityChange(
            seq=pk,
            atena_no=atena_no,
            version=seq,
            recorded_at=recorded_at,
            cause=cause,
            fact_date=fact_date,
            changed_from=changed_from,
            is_retroactive=is_retroactive,
            periods=periods[pk],
            number=numbers.get(person_id),
        )
        for (
            pk,
            person_id,
            atena_no,
            seq,
            recorded_at,
            cause,
            fact_date,
            changed_from,
            is_retroactive,
        ) in rows
    ]
    return ChangesPage(
        changes=changes, next_since=rows[-1][0] if rows else since, has_more=has_more
    )


def api_clients(*, include_revoked: bool = True) -> QuerySet[ApiClient]:
    clients = ApiClient.objects.order_by("name")
    return clients if include_revoked else clients.filter(active=True)
