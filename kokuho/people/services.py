"""Writes on residents and households, and the audited reads that show them to staff."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.shortcuts import get_object_or_404

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.core.purposes import Purpose
from kokuho.people.models import Household, Person, PersonHistory
from kokuho.people.selectors import SearchCriteria, household_members, person_search


@dataclass(frozen=True)
class PersonRecord:
    person: Person
    household: Household
    history: list[PersonHistory]


@dataclass(frozen=True)
class HouseholdRecord:
    household: Household
    members: list[Person]


def person_search_audited(
    *, criteria: SearchCriteria, actor: Any, purpose: Purpose, screen: str
) -> list[Person]:
    """Search, and record who searched for what and which residents were shown."""
    with transaction.atomic():
        results = person_search(criteria=criteria)
        audit_event_record(
            event_type=EventType.PERSON_SEARCHED,
            actor=actor,
            subject_type=SubjectType.SYSTEM,
            purpose=purpose,
            extra={
                "screen": screen,
                "criteria": {
                    "kana": criteria.kana,
                    "birth_date": criteria.birth_date.isoformat() if criteria.birth_date else "",
                    "atena_no": criteria.atena_no,
                    "insured_no": criteria.insured_no,
                    "status": criteria.status,
                    "heads_only": criteria.heads_only,
                    "insured_only": criteria.within is not None,
                },
                "shown": [p.atena_no for p in results],
            },
        )
    return results


def person_view(*, atena_no: str, actor: Any, purpose: Purpose, screen: str) -> PersonRecord:
    """A staff member opens a person's record (閲覧): read it and log the access together."""
    with transaction.atomic():
        person = get_object_or_404(Person.objects.select_related("household"), atena_no=atena_no)
        record = PersonRecord(
            person=person,
            household=person.household,
            history=list(person.history.order_by("-change_date", "-id")),
        )
        audit_event_record(
            event_type=EventType.PERSON_VIEWED,
            actor=actor,
            subject_type=SubjectType.PERSON,
            subject_id=person.atena_no,
            purpose=purpose,
            extra={"screen": screen},
        )
    return record


def household_view(
    *, household_no: str, actor: Any, purpose: Purpose, screen: str
) -> HouseholdRecord:
    """A staff member opens a household (世帯照会): its members are shown, so each is logged."""
    with transaction.atomic():
        household = get_object_or_404(
            Household.objects.select_related("head"), household_no=household_no
        )
        members = list(household_members(household=household))
        audit_event_record(
            event_type=EventType.HOUSEHOLD_VIEWED,
            actor=actor,
            subject_type=SubjectType.HOUSEHOLD,
            subject_id=household.household_no,
            purpose=purpose,
            extra={"screen": screen, "members_shown": [m.atena_no for m in members]},
        )
    return HouseholdRecord(household=household, members=members)


def persons_shown_record(
    *, atena_nos: list[str], actor: Any, purpose: Purpose, screen: str
) -> None:
    """A list screen showed these residents (names, 宛名番号): one access event, none for an
    empty page."""
    if not atena_nos:
        return
    audit_event_record(
        event_type=EventType.PERSON_VIEWED,
        actor=actor,
        subject_type=SubjectType.SYSTEM,
        purpose=purpose,
        extra={"screen": screen, "persons_shown": atena_nos},
    )
