"""The daily age job (年齢到達処理): 75歳到達 ends NHI; 70歳 and the end of 未就学 change the
copay rate (which is computed from the birth date, so here they are only listed for the
documents that must be reissued)."""

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.utils import timezone

from kokuho.eligibility.burden import elderly_from, preschool_until
from kokuho.eligibility.derivation import anniversary
from kokuho.eligibility.models import CurrentEligibility
from kokuho.eligibility.services import Recorded, eligibility_recompute
from kokuho.people.models import Person
from kokuho.rules.params import parameters

TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass
class AgeEventSummary:
    on: dt.date
    reached_75: list[str] = field(default_factory=list)
    became_elderly: list[str] = field(default_factory=list)  # 高齢受給者 from this day
    left_preschool: list[str] = field(default_factory=list)  # 未就学 ended yesterday

    def format(self) -> str:
        return (
            f"年齢到達処理 {self.on.isoformat()}: "
            f"75歳到達による資格喪失 {len(self.reached_75)}人、"
            f"高齢受給者となる人 {len(self.became_elderly)}人、"
            f"未就学の終了 {len(self.left_preschool)}人"
        )


def _open_insured(birth_from: dt.date, birth_to: dt.date) -> list[Person]:
    """Persons with an open period born in [birth_from, birth_to] — one query."""
    open_versions = CurrentEligibility.objects.filter(version__periods__end__isnull=True)
    return list(
        Person.objects.filter(
            pk__in=open_versions.values("person_id"),
            birth_date__gte=birth_from,
            birth_date__lte=birth_to,
        )
    )


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 2月29日
        return day.replace(year=day.year - years, day=28)


def age_events_apply(*, on: dt.date, actor: object | None = None) -> AgeEventSummary:
    """Apply the age events that fall on or before `on` and are not yet reflected.

    Re-running for the same day changes nothing (a recompute that finds the same periods
    adds no version), and a missed day is caught up by the next run. Candidates are chosen
    by birth date in the database; the exact rule is then applied to each.
    """
    summary = AgeEventSummary(on=on)
    age = parameters().at(on).eligibility.late_elderly_age
    recorded_at = timezone.now()
    for person in _open_insured(dt.date.min, _years_before(on, age) + dt.timedelta(days=1)):
        if anniversary(person.birth_date, age) <= on:
            recorded = Recorded(
                recorded_at, on, anniversary(person.birth_date, age), "age_75", actor
            )
            if eligibility_recompute(person=person, recorded=recorded, as_of=on):
                summary.reached_75.append(person.atena_no)
    if on.day == 1:  # 高齢受給者 starts on the 1st of a month
        ages = parameters().at(on).copay.ages
        window = _years_before(on, ages["elderly_from"])
        for person in _open_insured(window - dt.timedelta(days=40), window):
            if elderly_from(person.birth_date, on) == on:
                summary.became_elderly.append(person.atena_no)
        # 未就学 ends on a March 31, so the change shows on April 1.
        window = _years_before(on, ages["preschool_until"])
        for person in _open_insured(
            window - dt.timedelta(days=400), window + dt.timedelta(days=400)
        ):
            if preschool_until(person.birth_date, on) == on - dt.timedelta(days=1):
                summary.left_preschool.append(person.atena_no)
    return summary
