"""資格喪失後受診 (法65条・民法703条): finding the claims we paid for months a late loss shows
were not ours, and opening the case that claims the money back.

A claim was *paid by us* when, at the time it was recorded, the eligibility we then believed
(the person's newest version recorded by then — the bitemporal store answers "what did we
believe on K") made the person insured in its month: the 国保連合会 paid the provider on our
account. It is *資格喪失後受診* when the periods as now known do not cover that month. Both
are read from the store, never from a flag, so detection finds the same claims whichever
path recorded the loss (a counter 届出, a 住基異動 file, a correction) and whenever it runs;
a claim counted in a case, or sent back to the 国保連合会 (返戻), is not a candidate.

A claim's month counts as ours when the person was insured on any day of it — the claims
file carries the month, not the days of treatment (`claims_match.insured_in_month`); a
month partly insured stays ours and is not claimed back (docs/decisions.md).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kokuho.benefits.claim_resolution_models import ClaimResolutionKind
from kokuho.benefits.claims_match import insured_in_month
from kokuho.benefits.models import Claim, ClaimMatch
from kokuho.cases.models import (
    CaseClaim,
    CaseKind,
    CaseStatus,
    InvestigationCase,
    StepKind,
)
from kokuho.cases.services import case_claimed_recount, case_open, case_step_add
from kokuho.eligibility.derivation import Period
from kokuho.eligibility.models import CurrentEligibility, EligibilityPeriod, EligibilityVersion
from kokuho.eligibility.selectors import current_periods_by_person
from kokuho.people.models import Person

_CLAIM_FIELDS = (
    "pk", "person_id", "service_month", "points", "copay", "recorded_at", "public_payer",
    "claim_id", "provider",
)  # fmt: skip


@dataclass
class Detected:
    """What one detection did: cases opened, claims added to cases, claims withdrawn."""

    opened: list[int] = field(default_factory=list)
    added: int = 0
    withdrawn: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"opened": len(self.opened), "added": self.added, "withdrawn": self.withdrawn}


def _believed(person_ids: list[int]) -> dict[int, list[tuple[dt.datetime, list[Period]]]]:
    """Every version of the persons, oldest first, with its periods (two queries)."""
    versions: dict[int, list[tuple[int, dt.datetime]]] = defaultdict(list)
    for pk, person_id, recorded_at in (
        EligibilityVersion.objects.filter(person_id__among=person_ids)
        .order_by("person_id", "recorded_at", "seq")
        .values_list("pk", "person_id", "recorded_at")
    ):
        versions[person_id].append((pk, recorded_at))
    periods: dict[int, list[Period]] = defaultdict(list)
    for version_id, start, end, acquired, lost in (
        EligibilityPeriod.objects.filter(
            version_id__among=[pk for rows in versions.values() for pk, _ in rows]
        )
        .order_by("start")
        .values_list("version_id", "start", "end", "acquired", "lost")
    ):
        periods[version_id].append(Period(start, end, acquired, lost or None))
    return {
        person_id: [(recorded_at, periods[pk]) for pk, recorded_at in rows]
        for person_id, rows in versions.items()
    }


def _paid(history: list[tuple[dt.datetime, list[Period]]], claim: tuple[Any, ...]) -> bool:
    """Whether the eligibility believed when the claim was recorded covered its month."""
    believed: list[Period] | None = None
    for recorded_at, periods in history:
        if recorded_at > claim[5]:
            break
        believed = periods
    return believed is not None and insured_in_month(believed, claim[2])


def _candidates(person_ids: Sequence[int] | None) -> list[tuple[Any, ...]]:
    """Claims that may be 資格喪失後受診: named to a person, in no case, not sent back. With
    no persons given (the nightly detection), those the matching marked 資格喪失後受診 — the
    listeners keep that mark on every path; with persons (a change being recorded), all of
    theirs, by the claims' person index."""
    rows = (
        Claim.objects.filter(person__isnull=False)
        .exclude(case_links__withdrawn=False)
        .exclude(resolution__kind=ClaimResolutionKind.RETURNED)
    )
    if person_ids is None:
        rows = rows.filter(match=ClaimMatch.NOT_INSURED)
    else:
        rows = rows.filter(person_id__among=sorted(set(person_ids)))
    return list(rows.order_by("person_id", "service_month", "pk").values_list(*_CLAIM_FIELDS))


def after_loss_detect(
    *, person_ids: Sequence[int] | None = None, actor: Any | None = None, source: str = ""
) -> Detected:
    """Find the claims we paid for months not insured now and put them in cases: joined to
    the person's case not yet claimed (status 未着手), else a new case; and take out of open
    cases the claims whose month is insured again (a loss corrected back). Idempotent: the
    same facts find nothing new. A fixed number of queries whatever the number of persons."""
    done = Detected()
    with transaction.atomic():
        claims = _candidates(person_ids)
        _withdraw(person_ids, actor, done)
        if not claims:
            return done
        persons = sorted({row[1] for row in claims})
        now_periods = current_periods_by_person(person_ids=persons)
        lost = [row for row in claims if not insured_in_month(now_periods[row[1]], row[2])]
        if not lost:
            return done
        history = _believed(sorted({row[1] for row in lost}))
        found: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for row in lost:
            if _paid(history[row[1]], row):
                found[row[1]].append(row)
        if found:
            _record(found, actor, source or "資格の異動（遡及喪失）", done)
    return done


def _record(
    found: dict[int, list[tuple[Any, ...]]], actor: Any | None, source: str, done: Detected
) -> None:
    people = Person.objects.in_bulk(sorted(found))
    versions = dict(
        CurrentEligibility.objects.filter(person_id__among=sorted(found)).values_list(
            "person_id", "version__seq"
        )
    )
    waiting = {
        case.person_id: case
        for case in InvestigationCase.objects.filter(
            kind=CaseKind.AFTER_LOSS, status=CaseStatus.OPEN, person_id__among=sorted(found)
        ).order_by("pk")
    }
    links = []
    arose: dict[int, dt.date] = {}
    for person_id, rows in sorted(found.items()):
        case = waiting.get(person_id)
        if case is None:
            person = people[person_id]
            case = case_open(
                kind=CaseKind.AFTER_LOSS,
                key=f"after_loss:{person.atena_no}:v{versions.get(person_id, 0)}",
                person=person,
                source=source,
                actor=actor,
            )
            done.opened.append(case.pk)
        for pk, _pid, month, points, copay, _recorded, _public, claim_no, provider in rows:
            cost = points * 10
            links.append(
                CaseClaim(
                    case=case,
                    claim_id=pk,
                    claim_no=claim_no,
                    provider=provider,
                    service_month=month,
                    cost_yen=cost,
                    copay_yen=copay,
                    insurer_share_yen=cost - copay,
                )
            )
        # The claim to the money arose when the earliest of them was recorded (the month
        # the 国保連合会 paid on our account: the file holds no payment day).
        first = min(timezone.localtime(row[5]).date() for row in rows)
        arose[case.pk] = min(first, arose.get(case.pk, first))
        months = sorted({f"{row[2]:%Y-%m}" for row in rows})
        public = sum(1 for row in rows if row[6])
        case_step_add(
            case,
            kind=StepKind.CLAIMS_ADDED,
            actor=actor,
            note=f"{len(rows)}件（診療月 {'・'.join(months)}）"
            + (f"。うち公費負担のあるもの {public}件は公費分を確認すること" if public else ""),
            amount_yen=sum(row[3] * 10 - row[4] for row in rows),
        )
        done.added += len(rows)
    CaseClaim.objects.bulk_create(links)
    for case_id, day in sorted(arose.items()):
        case_claimed_recount(case_id, arose_on=day)


def _withdraw(person_ids: Sequence[int] | None, actor: Any | None, done: Detected) -> None:
    """Claims of cases not yet closed whose month is insured again leave their case."""
    links = CaseClaim.objects.filter(withdrawn=False).exclude(case__status=CaseStatus.CLOSED)
    if person_ids is not None:
        links = links.filter(case__person_id__among=sorted(set(person_ids)))
    else:
        links = links.filter(~Q(claim__match=ClaimMatch.NOT_INSURED))
    rows = list(links.values_list("pk", "case_id", "case__person_id", "service_month"))
    if not rows:
        return
    periods = current_periods_by_person(person_ids=sorted({row[2] for row in rows}))
    back = [row for row in rows if insured_in_month(periods[row[2]], row[3])]
    if not back:
        return
    CaseClaim.objects.filter(pk__in=[row[0] for row in back]).update(withdrawn=True)
    by_case: dict[int, list[dt.date]] = defaultdict(list)
    for _pk, case_id, _person, month in back:
        by_case[case_id].append(month)
    for case in InvestigationCase.objects.filter(pk__in=sorted(by_case)):
        months = sorted({f"{m:%Y-%m}" for m in by_case[case.pk]})
        case_step_add(
            case,
            kind=StepKind.CLAIMS_WITHDRAWN,
            actor=actor,
            note=f"{len(by_case[case.pk])}件（診療月 {'・'.join(months)}）: 資格が回復したため",
        )
        case_claimed_recount(case.pk)
    done.withdrawn += len(back)


def after_loss_changed(person: Person, changed_from: dt.date) -> None:
    """The eligibility listener for one person (`after_loss_changed_many`)."""
    after_loss_changed_many([(person, changed_from)])


def after_loss_changed_many(changes: Sequence[tuple[Person, dt.date]]) -> None:
    """Persons' periods changed: detect for them, in the change's transaction. One indexed
    read when none of them has a claim."""
    after_loss_detect(person_ids=[person.pk for person, _day in changes])
