"""Initial derivation for a whole municipality (初期移行): bulk reads, pure derivation, bulk writes.

Used when a city goes live (and by the demo). The same `facts` and `derivation` functions as
the per-event path decide every period; only the I/O is batched. Persons that already have
eligibility versions are left alone, so a re-run is a no-op.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.bulkwrite import tables_analyze
from kokuho.eligibility.derivation import Period, derive_periods
from kokuho.eligibility.facts import CoverageFact, KeptFact, RegistryFact, person_intervals
from kokuho.eligibility.models import (
    BranchNumber,
    CurrentEligibility,
    EligibilityPeriod,
    EligibilityVersion,
    HouseholdNumber,
    KeptInsured,
)
from kokuho.people.models import OtherCoverage, Person, PersonHistory
from kokuho.rules.params import parameters

CHUNK = 5000


@dataclass(frozen=True)
class DeriveStats:
    persons: int
    with_periods: int
    households_numbered: int


def _chunks(items: list, size: int):
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def eligibility_derive_initial(
    *, on: dt.date, actor: object | None = None, progress: Callable[[int], None] | None = None
) -> DeriveStats:
    """Derive and store version 1 for every person who has none yet."""
    done = set(CurrentEligibility.objects.values_list("person_id", flat=True))
    persons = [
        p
        for p in Person.objects.order_by("id").values_list("id", "birth_date", "household_id")
        if p[0] not in done
    ]
    history: dict[int, list[RegistryFact]] = defaultdict(list)
    for person_id, code, date, destination in PersonHistory.objects.order_by(
        "person_id", "change_date", "id"
    ).values_list("person_id", "change_code", "change_date", "snapshot__destination"):
        history[person_id].append(RegistryFact(code, date, destination == "abroad"))
    coverages: dict[int, list[CoverageFact]] = defaultdict(list)
    for person_id, kind, start, end in OtherCoverage.objects.values_list(
        "person_id", "kind", "start", "end"
    ):
        coverages[person_id].append(CoverageFact(kind, start, end))
    kept: dict[int, list[KeptFact]] = defaultdict(list)
    for person_id, kind, start, end in KeptInsured.objects.values_list(
        "person_id", "kind", "start", "end"
    ):
        kept[person_id].append(KeptFact(kind, start, end))

    late_elderly_age = parameters().at(on).eligibility.late_elderly_age
    derived: dict[int, list[Period]] = {}
    for person_id, birth, _household in persons:
        basis, exclusions = person_intervals(
            birth_date=birth,
            registry=history[person_id],
            coverages=coverages[person_id],
            kept=kept[person_id],
            late_elderly_age=late_elderly_age,
            as_of=on,
        )
        if periods := derive_periods(basis=basis, exclusions=exclusions):
            derived[person_id] = periods
    recorded_at = timezone.now()
    written = 0
    for chunk in _chunks(sorted(derived), CHUNK):
        with transaction.atomic():
            versions = EligibilityVersion.objects.bulk_create(
                EligibilityVersion(
                    person_id=pid,
                    seq=1,
                    recorded_at=recorded_at,
                    cause="initial_load",
                    fact_date=derived[pid][0].start,
                    reported_on=on,
                    changed_from=derived[pid][0].start,
                )
                for pid in chunk
            )
            EligibilityPeriod.objects.bulk_create(
                EligibilityPeriod(
                    version=v, start=p.start, end=p.end, acquired=p.acquired, lost=p.lost or ""
                )
                for v in versions
                for p in derived[v.person_id]
            )
            CurrentEligibility.objects.bulk_create(
                CurrentEligibility(person_id=v.person_id, version=v) for v in versions
            )
        written += len(chunk)
        if progress:
            progress(len(chunk))
    households = _number_households(persons, derived, on)
    # A first load fills these tables from nothing: the claims matched against them next
    # must not be planned from the statistics of empty tables.
    tables_analyze(
        connection,
        [EligibilityVersion, EligibilityPeriod, CurrentEligibility, HouseholdNumber, BranchNumber],
    )
    audit_event_record(
        event_type=EventType.ELIGIBILITY_CHANGED,
        actor=actor,
        subject_type=SubjectType.SYSTEM,
        extra={"batch": "initial_load", "persons": written, "households_numbered": households},
    )
    return DeriveStats(len(persons), written, households)


def _number_households(
    persons: list[tuple[int, dt.date, int]], derived: dict[int, list[Period]], on: dt.date
) -> int:
    """記号・番号 per household with an insured member; 枝番 in order of acquisition."""
    members: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for person_id, _birth, household_id in persons:
        if person_id in derived:
            members[household_id].append((derived[person_id][0].start, person_id))
    numbered = set(HouseholdNumber.objects.values_list("household_id", flat=True))
    symbol = settings.KOKUHO_NUMBER_SYMBOL
    last = HouseholdNumber.objects.filter(symbol=symbol).aggregate(m=Max("number"))["m"]
    sequence = int(last) if last else 0
    new_numbers = []
    for household_id in sorted(members):
        if household_id in numbered:
            continue
        sequence += 1
        new_numbers.append(
            HouseholdNumber(
                household_id=household_id, symbol=symbol, number=f"{sequence:06d}", assigned_on=on
            )
        )
    with transaction.atomic():
        created = HouseholdNumber.objects.bulk_create(new_numbers, batch_size=CHUNK)
        BranchNumber.objects.bulk_create(
            (
                BranchNumber(
                    household_number=number,
                    person_id=person_id,
                    branch=f"{index:02d}",
                    assigned_on=on,
                )
                for number in created
                for index, (_start, person_id) in enumerate(sorted(members[number.household_id]), 1)
            ),
            batch_size=CHUNK,
        )
    return len(created)
