"""A resident's アクセス記録 holds the list screens that showed them (issue 17/18 finding):
lists record one system event naming the residents (`persons_shown`) or households
(`households_shown`) they showed; a disclosure must include those, and only those."""

import pytest
from django.db import connection

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.benefits.kogaku.selectors import kogaku_households_shown
from kokuho.core.purposes import Purpose
from kokuho.people.services import persons_shown_record
from kokuho.subject_requests.holdings import access_record, households_of
from kokuho.testing import make_household, make_person, make_staff

pytestmark = pytest.mark.django_db


def _screens(person) -> list[str]:
    return [e.screen for e in access_record(person=person, households=households_of(person))]


def test_the_lists_that_showed_the_person_or_their_household_are_in_the_record():
    clerk = make_staff()
    household = make_household(household_no="6100000001")
    person = make_person(atena_no="6100000011", household=household)
    other = make_person(atena_no="61000000111")  # a longer number that contains theirs
    persons_shown_record(
        atena_nos=[other.atena_no, person.atena_no],
        actor=clerk,
        purpose=Purpose.NHI_ELIGIBILITY,
        screen="national_work_items",
    )
    persons_shown_record(
        atena_nos=[other.atena_no],
        actor=clerk,
        purpose=Purpose.NHI_ELIGIBILITY,
        screen="only_other",
    )
    kogaku_households_shown(household_nos=["6100000001"], actor=clerk, screen="kogaku_list")
    kogaku_households_shown(household_nos=["61000000019"], actor=clerk, screen="other_household")
    audit_event_record(
        event_type=EventType.PERSON_VIEWED,
        actor=clerk,
        subject_type=SubjectType.SYSTEM,
        extra={"screen": "unrelated", "persons_shown": []},
    )
    assert _screens(person) == ["national_work_items", "kogaku_list"]
    assert _screens(other) == ["national_work_items", "only_other"]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_on_postgresql_the_lists_are_found_through_their_index():
    """The list events are found by JSON containment on the partial GIN index, not a scan of
    the whole trail."""

    from kokuho.audit.models import AuditEvent
    from kokuho.subject_requests.holdings import _lists_that_showed

    query = AuditEvent.objects.filter(_lists_that_showed("6100000011", ["6100000001"]))
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        # On a test-sized table any index on subject_type wins; without those (dropped inside
        # the test's transaction, so rolled back) the containment must be served by the GIN.
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_auditevent'"
            " AND indexdef LIKE '%%subject_type%%' AND indexdef NOT LIKE '%%gin%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "audit_persons_shown_gin" in plan and "audit_households_shown_gin" in plan, plan
